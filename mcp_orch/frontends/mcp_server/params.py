"""The parameter types the bundled MCP server's tools share: ``Annotated`` types whose pydantic
``Field`` descriptions end up in each tool's input schema (client and profile ids, artifact and
server ids, a server's params, env and headers, a transport, rule codes). Parameters that only one
tool takes are spelled out next to that tool in :mod:`.tools`.
"""

from typing import Annotated, Any

from pydantic import Field

ClientId = Annotated[
    str,
    Field(description="Client id, e.g. claude-desktop, cursor, vscode, codex (see list_clients)."),
]
ProfileId = Annotated[
    str,
    Field(description="Profile id of the client: a lowercase slug such as default or work."),
]
ArtifactId = Annotated[
    str | None,
    Field(description="An artifact id ('sha256:<hex>' or a unique prefix); default: latest."),
]
ServerId = Annotated[
    str,
    Field(description="Catalog id (e.g. github, time) or official name of a server."),
]
Params = Annotated[
    dict[str, Any] | None,
    Field(
        description="Values for the server's arguments and URL/header variables, by the input "
        "names describe_server lists (kind 'param')."
    ),
]
Env = Annotated[
    dict[str, str] | None,
    Field(
        description="Environment variables. Give secrets as references like ${env:GITHUB_TOKEN} "
        "(the value stays in the user's environment); literal secrets are refused."
    ),
]
Headers = Annotated[
    dict[str, str] | None,
    Field(description="HTTP headers for remote servers (secrets as ${env:NAME} references)."),
]
Transport = Annotated[
    str | None,
    Field(description="stdio, streamable-http or sse (default: the server's first choice)."),
]
Codes = Annotated[
    list[str] | None,
    Field(description="Rule codes or names, e.g. ['MCP003'] or ['literal-secret']."),
]

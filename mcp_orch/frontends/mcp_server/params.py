"""The parameter types the bundled MCP server's tools share: ``Annotated`` types whose pydantic
``Field`` descriptions end up in each tool's input schema (client and profile ids, artifact and
server ids, the entry name, a server's params, env vars and headers, a transport, rule codes, an
inline payload). Parameters that only one tool takes are spelled out next to that tool in
:mod:`.tools`.

The names are the tools' contract (``client_id``, ``profile_id``, ``server_id``,
``server_name``, ``params``, ``env_vars``, ``transport_filter``, ``payload``, ``artifact_id``,
``limit``, ``since``): prompts and agents written for them work unchanged. Every input schema
forbids other keys; an unknown one is a tool error that names the allowed ones.
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
ServerName = Annotated[
    str,
    Field(description="The entry's name in the draft (the key in the client's config)."),
]
Params = Annotated[
    dict[str, Any] | None,
    Field(
        description="Values for the server's arguments and URL/header variables, by the input "
        "names describe_server lists (kind 'param')."
    ),
]
EnvVars = Annotated[
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
Payload = Annotated[
    dict[str, Any] | str | None,
    Field(
        description="A config given inline instead of the draft: the document as the client's "
        'file holds it (e.g. {"mcpServers": {...}} for cursor; an object, or its text in the '
        'client\'s format), or {"servers": {NAME: ENTRY}} with client-native entries.'
    ),
]

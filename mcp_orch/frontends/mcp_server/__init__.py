"""The bundled MCP server: mcp-orch's whole lifecycle as MCP tools, resources and prompts.

    >>> from mcp_orch.frontends.mcp_server import build_server
    >>> server = build_server(Workspace("./demo"))       # an mcp ``MCPServer``
    >>> server.run()                                      # stdio (what ``mcp-orch serve`` does)
    >>> app = http_app(server, TokenStore(ws))            # streamable HTTP behind bearer tokens

Every tool, resource and prompt is a thin wrapper over the library: the same calls and the same
``to_dict()`` the CLI's ``--json`` prints. Nothing here knows a path, a file format or a rule.

* Tools return structured content (a JSON object). A library error (``MCPOrchError``) becomes a
  tool error (``isError``) whose text is ``error: <message>`` / ``hint: <hint>`` (plus the
  validation report, if any) and whose structured content is ``{"ok": false, "error", "message",
  "hint"[, "report"]}`` -- exactly what the CLI prints for ``--json``. Nothing raises to the
  client; an unexpected exception is reported as ``internal error`` (and logged on stderr).
* Write tools work on the clients' own config files (under the client root). The server takes
  no file-system path from the model except inside the roots the user gave when starting it
  (``serve --allow-root DIR``; default none): ``deploy_config``'s ``project_dir`` and
  ``import_servers``'s ``path`` are refused elsewhere (after following symlinks), so a model
  cannot be talked into writing or reading elsewhere. Reads are bounded (regular files only, a
  size cap) and their errors never echo the file's content.
* Arguments are the tools' contract (see :mod:`.params`): every input schema forbids other keys,
  and an unknown, missing or invalid argument is a tool error with the same error document as
  a library error (``did you mean dry_run?``). Each tool has a real ``outputSchema``
  (:data:`.results.OUTPUT_SCHEMAS`). ``prompts/get`` with a bad name or bad arguments is a
  JSON-RPC ``invalid params`` error.
* Over HTTP, the bearer-token middleware (:class:`BearerAuth`) sets
  :data:`mcp_orch.services.release.audit.current_actor` to the token's name for the request, and
  :func:`~.auth._actor_middleware` carries it into the worker thread that runs the tool, so audit
  events record who did what. Over stdio the actor is ``user@host``.

The package is split by job; this ``__init__`` holds the server's name, instructions and the
names of what it offers (:data:`TOOLS`, :data:`RESOURCES`, :data:`PROMPTS`), and
:func:`build_server`, which assembles the parts:

* :mod:`.params` -- the ``Annotated`` parameter types the tools share (their descriptions end up
  in the input schemas);
* :mod:`.results` -- results as plain JSON, :func:`error_result`, the guards every tool and
  resource runs in, the argument errors, the output schemas and ``_Server`` (the ``MCPServer``
  with strict ``prompts/get``);
* :mod:`.state` -- ``_State``: the workspace and its catalog, reloaded when it changes on disk,
  and the roots paths may point into;
* :mod:`.tools`, :mod:`.resources`, :mod:`.prompts` -- ``build_tools`` (the tools the server is
  built with), ``register_resources`` and ``register_prompts``, which add them to a server;
* :mod:`.auth` -- HTTP: :func:`http_app`, :class:`BearerAuth` and the audit-actor middleware.

The modules form layers: ``params``, ``state``, ``results``, ``prompts`` and ``auth`` import no
other module of the package; ``tools`` and ``resources`` import ``params``, ``results`` and
``state``; only this ``__init__`` imports the registration modules (and nothing imports it).
Adding a tool: a function in ``build_tools``, its result's schema in
:data:`.results.OUTPUT_SCHEMAS` and its name in :data:`TOOLS` (a test checks that the three lists
match what the server registers).

This package imports ``mcp`` at import time; nothing on the fast path (``import mcp_orch``,
light CLI commands) imports it.
"""

import os
from collections.abc import Iterable

from mcp.server.mcpserver import MCPServer

from mcp_orch.core import __version__
from mcp_orch.facade.workspace import Workspace
from mcp_orch.frontends.mcp_server.auth import (
    ACTOR_STATE_KEY,
    BearerAuth,
    _actor_middleware,
    http_app,
)
from mcp_orch.frontends.mcp_server.http_limits import HTTPLimits, uvicorn_config
from mcp_orch.frontends.mcp_server.prompts import register_prompts
from mcp_orch.frontends.mcp_server.resources import register_resources
from mcp_orch.frontends.mcp_server.results import _Server, error_result
from mcp_orch.frontends.mcp_server.state import _State
from mcp_orch.frontends.mcp_server.tools import build_tools

__all__ = [
    "ACTOR_STATE_KEY",
    "PROMPTS",
    "RESOURCES",
    "TOOLS",
    "BearerAuth",
    "HTTPLimits",
    "build_server",
    "error_result",
    "http_app",
    "uvicorn_config",
]

SERVER_NAME = "mcp-orch"

INSTRUCTIONS = """\
mcp-orch manages the MCP server configuration of MCP clients (Claude Desktop, Cursor, VS Code,
Codex, ...) as signed releases. To set a server up for a client:
1. list_available_servers (search, transport_filter) and describe_server to pick a server and see
   the inputs it needs (env vars, arguments, headers);
2. add_server_to_config (client_id, server_id, params/env_vars/headers) puts it in the
   profile's draft;
   secrets are passed as references like ${env:GITHUB_TOKEN}, never as literal values;
3. validate_draft shows errors and warnings; fix them (add again with replace=true, or
   remove_server_from_config);
4. publish_config signs the draft as an immutable artifact;
5. deploy_config with dry_run=true shows the change to the client's file; deploy_config writes it
   (backed up, atomic; other entries and comments are kept).
check_drift, diff_config, get_config_history, get_audit_log and rollback_config look after what
is deployed. profile_settings (pin = exact, minor or floating; pin_tools), list_outdated_servers
and upgrade_servers keep the pinned versions current. Client ids (client_id) come from list_clients; profile_id defaults to "default".
Paths (project_dir, import_servers' path) are taken only inside the folders the server was
started with (serve --allow-root DIR).
"""

#: Names of the tools, resources (URIs and templates) and prompts this server offers.
TOOLS = [
    "list_clients",
    "list_profiles",
    "get_config",
    "diff_config",
    "list_available_servers",
    "describe_server",
    "add_server_to_config",
    "remove_server_from_config",
    "view_draft_config",
    "validate_draft",
    "publish_config",
    "deploy_config",
    "get_config_history",
    "get_audit_log",
    "rollback_config",
    "check_drift",
    "import_servers",
    "profile_settings",
    "list_outdated_servers",
    "upgrade_servers",
]
RESOURCES = [
    "capabilities://server",
    "capabilities://clients",
    "server://registry",
    "server://{server_id}",
    "config://{client_id}/{profile_id}/draft",
    "config://{client_id}/{profile_id}/latest",
    "config://{client_id}/{profile_id}/deployed",
    "audit://{client_id}/{profile_id}",
]
PROMPTS = ["setup_server", "review_drift"]


def build_server(
    workspace: Workspace | None = None, *, roots: Iterable[str | os.PathLike[str]] = ()
) -> MCPServer:
    """The MCP server over ``workspace`` (default: ``$MCP_ORCH_HOME`` or the user data dir).

    ``roots`` are the folders a path argument of a tool may point into (``serve --allow-root``);
    with none, the tools take no paths at all."""
    state = _State(workspace if workspace is not None else Workspace(), roots)
    mcp: MCPServer = _Server(
        SERVER_NAME,
        title="mcp-orch",
        description="MCP server configuration as signed releases",
        instructions=INSTRUCTIONS,
        version=__version__,
        log_level="WARNING",
        middleware=[_actor_middleware],
        tools=build_tools(state),
    )
    register_resources(
        mcp, state, name=SERVER_NAME, tools=TOOLS, resources=RESOURCES, prompts=PROMPTS
    )
    register_prompts(mcp)
    return mcp

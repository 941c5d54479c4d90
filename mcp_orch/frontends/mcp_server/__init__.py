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
* Write tools work on the clients' own config files (under the client root): they take no
  file-system paths, so a model cannot be talked into writing elsewhere. ``import_servers``
  reads a path (or takes the documents inline) because that is what it is for.
* Over HTTP, the bearer-token middleware (:class:`BearerAuth`) sets
  :data:`mcp_orch.services.release.audit.current_actor` to the token's name for the request, and
  :func:`~.auth._actor_middleware` carries it into the worker thread that runs the tool, so audit
  events record who did what. Over stdio the actor is ``user@host``.

The package is split by job; this ``__init__`` holds the server's name, instructions and the
names of what it offers (:data:`TOOLS`, :data:`RESOURCES`, :data:`PROMPTS`), and
:func:`build_server`, which assembles the parts:

* :mod:`.params` -- the ``Annotated`` parameter types the tools share (their descriptions end up
  in the input schemas);
* :mod:`.results` -- results as plain JSON, :func:`error_result`, and the guards every tool and
  resource runs in;
* :mod:`.state` -- ``_State``: the workspace and its catalog, reloaded when it changes on disk;
* :mod:`.tools`, :mod:`.resources`, :mod:`.prompts` -- ``register_tools``,
  ``register_resources`` and ``register_prompts``, which add them to a server;
* :mod:`.auth` -- HTTP: :func:`http_app`, :class:`BearerAuth` and the audit-actor middleware.

The modules form layers: ``params``, ``state``, ``results``, ``prompts`` and ``auth`` import no
other module of the package; ``tools`` and ``resources`` import ``params``, ``results`` and
``state``; only this ``__init__`` imports the registration modules (and nothing imports it).
Adding a tool: a function in ``register_tools`` and its name in :data:`TOOLS` (a test checks that
the three lists match what the server registers).

This package imports ``mcp`` at import time; nothing on the fast path (``import mcp_orch``,
light CLI commands) imports it.
"""

from mcp.server.mcpserver import MCPServer

from mcp_orch.core import __version__
from mcp_orch.facade.workspace import Workspace
from mcp_orch.frontends.mcp_server.auth import (
    ACTOR_STATE_KEY,
    BearerAuth,
    _actor_middleware,
    http_app,
)
from mcp_orch.frontends.mcp_server.prompts import register_prompts
from mcp_orch.frontends.mcp_server.resources import register_resources
from mcp_orch.frontends.mcp_server.results import error_result
from mcp_orch.frontends.mcp_server.state import _State
from mcp_orch.frontends.mcp_server.tools import register_tools

__all__ = [
    "ACTOR_STATE_KEY",
    "PROMPTS",
    "RESOURCES",
    "TOOLS",
    "BearerAuth",
    "build_server",
    "error_result",
    "http_app",
]

SERVER_NAME = "mcp-orch"

INSTRUCTIONS = """\
mcp-orch manages the MCP server configuration of MCP clients (Claude Desktop, Cursor, VS Code,
Codex, ...) as signed releases. To set a server up for a client:
1. list_available_servers (search text, transport) and describe_server to pick a server and see
   the inputs it needs (env vars, arguments, headers);
2. add_server_to_config (client, server_id, params/env/headers) puts it in the profile's draft;
   secrets are passed as references like ${env:GITHUB_TOKEN}, never as literal values;
3. validate_draft shows errors and warnings; fix them (add again with replace=true, or
   remove_server_from_config);
4. publish_config signs the draft as an immutable artifact;
5. deploy_config with dry_run=true shows the change to the client's file; deploy_config writes it
   (backed up, atomic; other entries and comments are kept).
check_drift, diff_config, get_config_history, get_audit_log and rollback_config look after what
is deployed. Client ids come from list_clients; the profile defaults to "default".
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


def build_server(workspace: Workspace | None = None) -> MCPServer:
    """The MCP server over ``workspace`` (default: ``$MCP_ORCH_HOME`` or the user data dir)."""
    state = _State(workspace if workspace is not None else Workspace())
    mcp: MCPServer = MCPServer(
        SERVER_NAME,
        title="mcp-orch",
        description="MCP server configuration as signed releases",
        instructions=INSTRUCTIONS,
        version=__version__,
        log_level="WARNING",
        middleware=[_actor_middleware],
    )
    register_tools(mcp, state)
    register_resources(
        mcp, state, name=SERVER_NAME, tools=TOOLS, resources=RESOURCES, prompts=PROMPTS
    )
    register_prompts(mcp)
    return mcp

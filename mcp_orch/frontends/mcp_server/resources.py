"""The bundled MCP server's resources, registered by :func:`register_resources`: what the server
offers (``capabilities://``), the server catalog (``server://``), a profile's draft, latest and
deployed release (``config://{client_id}/{profile_id}/...``) and its audit events (``audit://``).
Each is JSON text (``application/json``), read through :func:`~.results._guard_resource`.
"""

from collections.abc import Callable
from typing import Any

from mcp.server.mcpserver import MCPServer

from mcp_orch.core import __version__
from mcp_orch.core.errors import NotFound
from mcp_orch.domain.clients import client_root
from mcp_orch.frontends.mcp_server.results import _guard_resource
from mcp_orch.frontends.mcp_server.state import _State
from mcp_orch.operations import catalog, drafts, releases


def register_resources(
    mcp: MCPServer,
    state: _State,
    *,
    name: str,
    tools: list[str],
    resources: list[str],
    prompts: list[str],
) -> None:
    """Add every resource to ``mcp``, working on ``state``'s workspace and catalog.

    ``capabilities://server`` reports the server's ``name`` and the names of the ``tools``,
    ``resources`` and ``prompts`` it offers (the package's lists, passed in so that this module
    does not import the package that assembles it).
    """

    def resource(uri: str, description: str) -> Any:
        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            mcp.resource(uri, mime_type="application/json", description=description)(
                _guard_resource(fn)
            )
            return fn

        return register

    @resource("capabilities://server", "What this server offers and which workspace it uses.")
    def capabilities_server() -> dict[str, Any]:
        return {
            "name": name,
            "version": __version__,
            "workspace": str(state.ws.path),
            "client_root": str(client_root(state.ws.client_root)),
            "tools": tools,
            "resources": resources,
            "prompts": prompts,
        }

    @resource("capabilities://clients", "The supported MCP clients and their config files.")
    def capabilities_clients() -> dict[str, Any]:
        return catalog.list_clients(state.ws.client_root).to_dict()

    @resource("server://registry", "The whole server catalog (bundled and imported).")
    def server_registry() -> dict[str, Any]:
        view = state.registry().all()
        return {"servers": view.to_dict(), "total": len(view)}

    @resource("server://{server_id}", "One catalog server, with its official server.json.")
    def server_entry(server_id: str) -> dict[str, Any]:
        return state.registry().get(server_id).to_dict()

    @resource("config://{client_id}/{profile_id}/draft", "A profile's draft.")
    def config_draft(client_id: str, profile_id: str) -> dict[str, Any]:
        return drafts.show_draft(state.ws, client_id, profile_id).to_dict()

    @resource("config://{client_id}/{profile_id}/latest", "The latest artifact, verified.")
    def config_latest(client_id: str, profile_id: str) -> dict[str, Any]:
        return releases.get_config(state.ws, client_id, profile_id).to_dict()

    @resource(
        "config://{client_id}/{profile_id}/deployed",
        "The deployed artifact, with drift read from the client's real file.",
    )
    def config_deployed(client_id: str, profile_id: str) -> dict[str, Any]:
        prof = state.profile(client_id, profile_id)
        art = prof.deployed()
        if art is None:
            raise NotFound(f"{prof.ref} has not been deployed", "deploy first: deploy_config")
        return {"artifact": art.verify().to_dict(), "drift": prof.drift().to_dict()}

    @resource("audit://{client_id}/{profile_id}", "A profile's audit events, newest first.")
    def audit_profile(client_id: str, profile_id: str) -> dict[str, Any]:
        prof = state.profile(client_id, profile_id)
        events = releases.audit_log(state.ws, client=prof.client.id, profile=prof.id, limit=200)
        return {"client": prof.client.id, "profile": prof.id, **events.to_dict()}

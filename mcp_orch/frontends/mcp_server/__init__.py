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
  :data:`mcp_orch.audit.current_actor` to the token's name for the request, and
  :func:`_actor_middleware` carries it into the worker thread that runs the tool, so audit
  events record who did what. Over stdio the actor is ``user@host``.

This module imports ``mcp`` at import time; nothing on the fast path (``import mcp_orch``,
light CLI commands) imports it.
"""

import functools
import json
import logging
import os
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from mcp_orch.core.errors import MCPOrchError, NotFound
from mcp_orch.core.version import __version__
from mcp_orch.domain.clients import client_root
from mcp_orch.facade.profile import Profile
from mcp_orch.facade.registry import Registry
from mcp_orch.facade.workspace import Workspace
from mcp_orch.frontends.render import MCP, as_error, error_document, error_lines
from mcp_orch.operations import catalog, drafts, releases
from mcp_orch.services.release.audit import current_actor
from mcp_orch.services.release.tokens import TokenStore

__all__ = [
    "ACTOR_STATE_KEY",
    "PROMPTS",
    "RESOURCES",
    "TOOLS",
    "BearerAuth",
    "build_server",
    "http_app",
]

log = logging.getLogger("mcp_orch.server")

#: Where :class:`BearerAuth` leaves the token's name in the ASGI scope's ``state``.
ACTOR_STATE_KEY = "mcp_orch_actor"

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

# ---- parameter types (the descriptions end up in each tool's input schema) ------------------

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


# ---- results and errors --------------------------------------------------------------------


def _dump(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)


def _jsonable(data: Any) -> Any:
    """The value as plain JSON types (what ``--json`` prints)."""
    return json.loads(json.dumps(data, ensure_ascii=False, default=str))


def error_result(exc: BaseException) -> CallToolResult:
    """An error as an MCP tool error: the CLI's text (hints spelled as tool arguments) and the
    CLI's ``--json`` document as structured content."""
    err = as_error(exc)
    return CallToolResult(
        content=[TextContent(type="text", text="\n".join(error_lines(err, MCP)))],
        structured_content=_jsonable(error_document(err)),
        is_error=True,
    )


def _guard_tool(fn: Callable[..., dict[str, Any]]) -> Callable[..., Any]:
    """Run a tool; turn every error into a tool error (never a crash)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return _jsonable(fn(*args, **kwargs))
        except MCPOrchError as exc:
            return error_result(exc)
        except Exception as exc:
            log.exception("tool %s failed", fn.__name__)
            return error_result(exc)

    return wrapper


def _guard_resource(fn: Callable[..., Any]) -> Callable[..., str]:
    """Run a resource; its value as JSON text, errors as resource errors."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> str:
        try:
            return _dump(fn(*args, **kwargs))
        except NotFound as exc:
            raise ResourceNotFoundError(str(exc)) from None
        except MCPOrchError as exc:
            raise ResourceError(str(exc)) from None
        except Exception as exc:
            log.exception("resource %s failed", fn.__name__)
            raise ResourceError(str(as_error(exc))) from None

    return wrapper


async def _actor_middleware(ctx: Any, call_next: Callable[[Any], Awaitable[Any]]) -> Any:
    """Make the HTTP request's token name the audit actor while the request is handled.

    :class:`BearerAuth` also sets the context variable, but a stateful HTTP session handles its
    messages in its own task; the request object travels with each message, so it is read here.
    """
    request = getattr(ctx, "request", None)
    scope = getattr(request, "scope", None)
    actor = (scope.get("state") or {}).get(ACTOR_STATE_KEY) if isinstance(scope, dict) else None
    if not actor:
        return await call_next(ctx)
    token = current_actor.set(actor)
    try:
        return await call_next(ctx)
    finally:
        current_actor.reset(token)


# ---- the server ----------------------------------------------------------------------------


def _folder_stamp(folder: Path) -> tuple[tuple[str, int, int], ...]:
    try:
        with os.scandir(folder) as it:
            entries = [(e.name, e.stat()) for e in it]
    except FileNotFoundError:
        return ()
    return tuple(sorted((name, st.st_mtime_ns, st.st_size) for name, st in entries))


class _State:
    """The server's workspace, and a catalog that is reloaded when the workspace's own servers change."""

    def __init__(self, workspace: Workspace) -> None:
        self.ws = workspace
        self._lock = threading.Lock()
        self._registry: Registry | None = None
        self._stamp: object = None

    def registry(self) -> Registry:
        """The catalog, loaded once and again whenever the workspace's own servers change
        (a file added, removed or rewritten there, by this server or anyone else)."""
        fresh = Registry(workspace=self.ws)
        stamp = _folder_stamp(fresh._user_dir())
        with self._lock:
            if self._registry is None or self._stamp != stamp:
                self._registry, self._stamp = fresh, stamp
            return self._registry

    def profile(self, client: str, profile: str) -> Profile:
        return self.ws.profile(client, profile)


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

    def tool(*, read_only: bool, destructive: bool = False, idempotent: bool = False) -> Any:
        def register(fn: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
            mcp.add_tool(
                _guard_tool(fn),
                name=fn.__name__,
                annotations=ToolAnnotations(
                    read_only_hint=read_only,
                    destructive_hint=destructive,
                    idempotent_hint=idempotent or read_only,
                    open_world_hint=False,
                ),
            )
            return fn

        return register

    def resource(uri: str, description: str) -> Any:
        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            mcp.resource(uri, mime_type="application/json", description=description)(
                _guard_resource(fn)
            )
            return fn

        return register

    # -- catalog and clients -----------------------------------------------------------------

    @tool(read_only=True)
    def list_clients() -> dict[str, Any]:
        """List the MCP clients mcp-orch can configure: id, name, config format, which remote
        transports each runs natively, and the config file it reads on this machine.
        Use an id from here as `client` in every other tool."""
        return catalog.list_clients(state.ws.client_root).to_dict()

    @tool(read_only=True)
    def list_profiles() -> dict[str, Any]:
        """List the client profiles in the workspace: client, profile, how many servers the
        draft holds, and the latest published and deployed artifact ids."""
        return drafts.list_profiles(state.ws).to_dict()

    @tool(read_only=True)
    def list_available_servers(
        search: Annotated[
            str, Field(description="Words that must all appear (id, title, description, tags).")
        ] = "",
        transport: Annotated[
            str | None,
            Field(
                description="Only servers with this transport: stdio, "
                "streamable-http, sse or remote (any non-stdio)."
            ),
        ] = None,
        tag: Annotated[str | None, Field(description="Only servers with this tag.")] = None,
        limit: Annotated[int, Field(ge=1, le=200, description="Page size.")] = 50,
        cursor: Annotated[
            str | None, Field(description="next_cursor of the previous page, unchanged.")
        ] = None,
        offset: Annotated[
            int | None, Field(ge=0, description="Start at this index (instead of a cursor).")
        ] = None,
    ) -> dict[str, Any]:
        """Browse the server catalog (bundled servers plus the ones imported into the
        workspace). Returns one page of servers (id, title, description, transports, tags)
        with `total` and `next_cursor` (null on the last page). Then call describe_server
        for the inputs a server needs."""
        return catalog.list_servers(
            state.registry(),
            search=search,
            transport=transport,
            tag=tag,
            limit=limit,
            cursor=cursor,
            offset=offset,
        ).to_dict()

    @tool(read_only=True)
    def describe_server(
        server_id: ServerId,
        client: Annotated[
            str | None, Field(description="Also render the entry this client would get.")
        ] = None,
        params: Params = None,
        env: Env = None,
        transport: Transport = None,
    ) -> dict[str, Any]:
        """Everything about one catalog server: packages, remotes, transports and the inputs
        it takes (env vars, arguments, headers; which are required and which are secret).
        With `client`, also the exact config entry that client would get (nothing is written)."""
        return catalog.describe_server(
            state.registry(), server_id, client=client, params=params, env=env, transport=transport
        ).to_dict()

    @tool(read_only=False)
    def import_servers(
        document: Annotated[
            dict[str, Any] | list[Any] | str | None,
            Field(
                description="Official server.json content: one document, a list of them, or a "
                'registry API page {"servers": [...]} (an object, or that JSON as a string).'
            ),
        ] = None,
        path: Annotated[
            str | None, Field(description="Or: a JSON file with such documents.")
        ] = None,
    ) -> dict[str, Any]:
        """Import official MCP Registry server.json documents into the workspace catalog, so
        they can be added like bundled servers. Each document is checked against the official
        schema; an import with the same name replaces the earlier one."""
        return catalog.import_servers(state.ws, document=document, path=path).to_dict()

    # -- the draft ---------------------------------------------------------------------------

    @tool(read_only=False, idempotent=True)
    def add_server_to_config(
        client: ClientId,
        server_id: ServerId,
        profile: ProfileId = "default",
        params: Params = None,
        env: Env = None,
        headers: Headers = None,
        name: Annotated[
            str | None, Field(description="Name of the entry in the config (default: the id).")
        ] = None,
        transport: Transport = None,
        replace: Annotated[
            bool, Field(description="Replace an entry of the same name that differs.")
        ] = False,
    ) -> dict[str, Any]:
        """Add a catalog server to a client profile's draft (not yet published or deployed).
        Returns the client-native entry. Next: validate_draft, publish_config, deploy_config."""
        return drafts.add_server(
            state.ws,
            client,
            profile,
            server_id,
            params=params,
            env=env,
            headers=headers,
            name=name,
            transport=transport,
            replace=replace,
            registry=state.registry(),
        ).to_dict()

    @tool(read_only=False, destructive=True, idempotent=False)
    def remove_server_from_config(
        client: ClientId,
        name: Annotated[str, Field(description="The entry's name in the draft.")],
        profile: ProfileId = "default",
    ) -> dict[str, Any]:
        """Remove a server from a client profile's draft. Publish and deploy to remove it from
        the client's file too."""
        return drafts.remove_server(state.ws, client, profile, name).to_dict()

    @tool(read_only=True)
    def view_draft_config(client: ClientId, profile: ProfileId = "default") -> dict[str, Any]:
        """Show a profile's draft: each server's record (entry, catalog origin, inputs given) and
        the client-native payload that publish_config would sign."""
        return drafts.show_draft(state.ws, client, profile).to_dict()

    @tool(read_only=True)
    def validate_draft(
        client: ClientId,
        profile: ProfileId = "default",
        select: Codes = None,
        ignore: Codes = None,
    ) -> dict[str, Any]:
        """Check a profile's draft against the client's schema and mcp-orch's rules (literal
        secrets, missing required env vars, unsupported transports, client limits, commands
        not on PATH, ...). Returns `ok` and the errors, warnings and suggestions, each with a
        hint. Errors block publish_config; warnings do not."""
        return drafts.validate_draft(
            state.ws, client, profile, select=select, ignore=ignore
        ).to_dict()

    # -- release -----------------------------------------------------------------------------

    @tool(read_only=False)
    def publish_config(
        client: ClientId,
        profile: ProfileId = "default",
        changelog: Annotated[str, Field(description="What changed and why.")] = "",
    ) -> dict[str, Any]:
        """Validate the draft and publish it as a signed, content-addressed artifact (the
        profile's new latest). Publishing the same content again returns the same artifact.
        Nothing is written to the client's file: call deploy_config next."""
        return releases.publish(state.ws, client, profile, changelog=changelog).to_dict()

    @tool(read_only=False, destructive=True, idempotent=True)
    def deploy_config(
        client: ClientId,
        profile: ProfileId = "default",
        artifact_id: ArtifactId = None,
        dry_run: Annotated[
            bool, Field(description="Only show the diff against the real file; write nothing.")
        ] = False,
        adopt: Annotated[
            bool,
            Field(description="Take over same-named entries that mcp-orch does not manage."),
        ] = False,
        scope: Annotated[
            str, Field(description="user (the client's own file) or project.")
        ] = "user",
        project_dir: Annotated[
            str | None, Field(description="The project folder, with scope=project.")
        ] = None,
    ) -> dict[str, Any]:
        """Verify the signature of an artifact (default: latest) and write it into the client's
        config file: only managed entries change, everything else and comments are kept; the
        old file is backed up and the write is atomic. Use dry_run=true first to see the diff."""
        return releases.deploy(
            state.ws,
            client,
            profile,
            artifact_id=artifact_id,
            scope=scope,
            project_dir=project_dir,
            dry_run=dry_run,
            adopt=adopt,
        ).to_dict()

    @tool(read_only=True)
    def get_config(
        client: ClientId, profile: ProfileId = "default", artifact_id: ArtifactId = None
    ) -> dict[str, Any]:
        """A published artifact (default: the latest) after verifying its signature: the exact
        payload the client receives, its changelog, parent, creation time and signing key."""
        return releases.get_config(state.ws, client, profile, artifact_id=artifact_id).to_dict()

    @tool(read_only=True)
    def diff_config(
        client: ClientId,
        profile: ProfileId = "default",
        from_artifact: Annotated[
            str | None,
            Field(description="Compare two artifacts instead: the older one (id or prefix)."),
        ] = None,
        to_artifact: Annotated[
            str | None, Field(description="... and the newer one (default: latest).")
        ] = None,
    ) -> dict[str, Any]:
        """Compare the client's config file with the latest artifact: status up-to-date,
        outdated (deploy the latest) or diverged (edited by hand), with the added, removed and
        modified servers (secrets masked). With from_artifact: compare two artifacts."""
        return releases.diff_config(
            state.ws, client, profile, from_artifact=from_artifact, to_artifact=to_artifact
        ).to_dict()

    @tool(read_only=True)
    def check_drift(client: ClientId, profile: ProfileId = "default") -> dict[str, Any]:
        """Find hand edits in the client's file since the last deploy: managed entries edited
        or removed, and entries added by hand. status is clean or drifted."""
        return releases.drift(state.ws, client, profile).to_dict()

    @tool(read_only=False, destructive=True)
    def rollback_config(
        client: ClientId,
        profile: ProfileId = "default",
        artifact_id: Annotated[
            str | None,
            Field(description="Roll back to this artifact (default: the latest's parent)."),
        ] = None,
        deploy: Annotated[bool, Field(description="Also deploy it to the client's file.")] = False,
    ) -> dict[str, Any]:
        """Point the profile's latest back at an earlier artifact (recorded as a revert event);
        with deploy=true also write it to the client's file. Returns the artifact now latest."""
        return releases.rollback(
            state.ws, client, profile, artifact_id=artifact_id, deploy=deploy
        ).to_dict()

    @tool(read_only=True)
    def get_config_history(
        client: ClientId,
        profile: ProfileId = "default",
        limit: Annotated[int, Field(ge=1, le=1000)] = 20,
    ) -> dict[str, Any]:
        """The artifacts published for a profile, newest first (id, time, changelog, servers,
        parent), with the ids of latest and deployed. Use an id with get_config,
        diff_config or rollback_config."""
        return releases.config_history(state.ws, client, profile, limit=limit).to_dict()

    @tool(read_only=True)
    def get_audit_log(
        since: Annotated[str | None, Field(description="7d, 30d, 12h or an ISO date.")] = None,
        action: Annotated[
            str | None,
            Field(description="publish, deploy, revert, restore, key, import, register, sync."),
        ] = None,
        client: Annotated[str | None, Field(description="Only this client.")] = None,
        profile: Annotated[str | None, Field(description="Only this profile.")] = None,
        artifact_id: Annotated[
            str | None, Field(description="Only events about this artifact.")
        ] = None,
        limit: Annotated[int, Field(ge=1, le=10000)] = 50,
    ) -> dict[str, Any]:
        """The workspace's audit trail, newest first: who published, deployed, rolled back
        or restored what and when (hash-chained, append-only)."""
        return releases.audit_log(
            state.ws,
            since=since,
            action=action,
            client=client,
            profile=profile,
            artifact_id=artifact_id,
            limit=limit,
        ).to_dict()

    # -- resources ---------------------------------------------------------------------------

    @resource("capabilities://server", "What this server offers and which workspace it uses.")
    def capabilities_server() -> dict[str, Any]:
        return {
            "name": SERVER_NAME,
            "version": __version__,
            "workspace": str(state.ws.path),
            "client_root": str(client_root(state.ws.client_root)),
            "tools": TOOLS,
            "resources": RESOURCES,
            "prompts": PROMPTS,
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

    # -- prompts -----------------------------------------------------------------------------

    @mcp.prompt(
        title="Set up a server for a client",
        description="Walk through discover → add → validate → publish → deploy for one client.",
    )
    def setup_server(
        client: Annotated[str, Field(description="Client id, e.g. cursor (see list_clients).")],
        server: Annotated[
            str, Field(description="What to set up: a catalog id or a few words.")
        ] = "",
        profile: Annotated[str, Field(description="Profile id.")] = "default",
    ) -> str:
        what = f"the MCP server {server!r}" if server else "an MCP server"
        return f"""\
Set up {what} for the MCP client {client!r} (profile {profile!r}) with the mcp-orch tools.
Go step by step and tell me what you are doing.

1. Discover: call list_available_servers with search="{server}" (and a transport filter if I
   asked for local or remote). If several match, show me the candidates and let me choose.
2. Inspect: call describe_server with server_id=<id> and client="{client}". Show me the inputs
   it needs. Ask me for required values. Never ask me to paste a secret: pass secrets as
   references like ${{env:GITHUB_TOKEN}} and tell me which variable to set.
3. Add: call add_server_to_config with client="{client}", profile="{profile}", server_id=<id>
   and params / env / headers. If the name is taken, ask before using replace=true.
4. Validate: call validate_draft with client="{client}", profile="{profile}". If ok is false,
   explain each error and its hint, fix it (add again with replace=true, or
   remove_server_from_config) and validate again. Warnings do not block, but mention them.
5. Publish: call publish_config with a short changelog that says what changed and why.
6. Preview: call deploy_config with dry_run=true and show me the diff of the client's file.
7. Deploy: after I agree, call deploy_config (dry_run=false). If it reports a conflict with an
   entry mcp-orch does not manage, explain it and ask before retrying with adopt=true.
8. Confirm: call check_drift (status should be clean) and tell me to restart or reload
   {client} so it picks up the new server.
If something goes wrong after deploying, get_config_history and rollback_config (deploy=true)
bring back the previous release."""

    @mcp.prompt(
        title="Review drift",
        description="Find hand edits in a client's config and decide what to do with them.",
    )
    def review_drift(
        client: Annotated[str, Field(description="Client id.")],
        profile: Annotated[str, Field(description="Profile id.")] = "default",
    ) -> str:
        return f"""\
Check whether the config file of the MCP client {client!r} (profile {profile!r}) still matches
what mcp-orch deployed.

1. Call check_drift with client="{client}", profile="{profile}". If status is clean, say so.
2. Otherwise call diff_config for the same profile and show me each edited, removed or added
   entry (secret values are masked).
3. Offer two ways forward and wait for my choice: redeploy the release with deploy_config
   (overwrites hand edits to managed entries; the old file is backed up), or keep the edits by
   adding them to the draft (add_server_to_config with replace=true), then validate_draft,
   publish_config and deploy_config.
4. Use get_audit_log with client="{client}" to show who deployed last and when."""

    return mcp


# ---- HTTP ----------------------------------------------------------------------------------

_UNAUTHORIZED = json.dumps(
    {
        "error": "unauthorized",
        "message": "a valid bearer token is required",
        "hint": "create one with `mcp-orch token create NAME` and send "
        "'Authorization: Bearer <token>'",
    }
).encode()


class BearerAuth:
    """ASGI middleware: ``Authorization: Bearer <token>`` checked against the token store.

    No token or an unknown one gets 401. For a valid one, the token's name becomes the audit
    actor for the request (:data:`mcp_orch.audit.current_actor`, and ``scope["state"]`` for
    :func:`_actor_middleware`). The lifespan passes through untouched.
    """

    def __init__(self, app: Any, tokens: TokenStore) -> None:
        self.app = app
        self.tokens = tokens

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        name = self._check(scope)
        if name is None:
            await self._deny(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state[ACTOR_STATE_KEY] = name
        token = current_actor.set(name)
        try:
            await self.app(scope, receive, send)
        finally:
            current_actor.reset(token)

    def _check(self, scope: Any) -> str | None:
        for key, value in scope.get("headers") or []:
            if key.lower() == b"authorization":
                scheme, _, credentials = value.decode("latin-1").partition(" ")
                if scheme.lower() == "bearer" and credentials.strip():
                    try:
                        return self.tokens.verify(credentials.strip())
                    except MCPOrchError:
                        log.exception("the token store cannot be read")
                        return None
        return None

    async def _deny(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":  # a websocket: refuse the handshake
            await receive()
            await send({"type": "websocket.close", "code": 1008})
            return
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(_UNAUTHORIZED)).encode()),
                    (b"www-authenticate", b'Bearer realm="mcp-orch"'),
                ],
            }
        )
        await send({"type": "http.response.body", "body": _UNAUTHORIZED})


def http_app(server: MCPServer, tokens: TokenStore, *, host: str = "127.0.0.1") -> Any:
    """The streamable-HTTP ASGI app of ``server`` (path ``/mcp``) behind :class:`BearerAuth`.

    ``host`` is the bind address: on loopback the SDK's DNS-rebinding protection is on.
    """
    return BearerAuth(server.streamable_http_app(host=host), tokens)

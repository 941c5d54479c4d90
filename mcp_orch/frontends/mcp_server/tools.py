"""The bundled MCP server's 17 tools, registered by :func:`register_tools`: the catalog and the
clients (list_clients, list_available_servers, describe_server, import_servers, ...), a profile's
draft (add_server_to_config, validate_draft, ...) and releases (publish_config, deploy_config,
rollback_config, check_drift, ...). Each tool is one call of :mod:`mcp_orch.operations` returning
its ``to_dict()``, run in :func:`~.results._guard_tool`; its docstring is the tool's description.
"""

from collections.abc import Callable
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations
from pydantic import Field

from mcp_orch.frontends.mcp_server.params import (
    ArtifactId,
    ClientId,
    Codes,
    Env,
    Headers,
    Params,
    ProfileId,
    ServerId,
    Transport,
)
from mcp_orch.frontends.mcp_server.results import _guard_tool
from mcp_orch.frontends.mcp_server.state import _State
from mcp_orch.operations import catalog, drafts, releases


def register_tools(mcp: MCPServer, state: _State) -> None:
    """Add every tool to ``mcp``, working on ``state``'s workspace and catalog."""

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

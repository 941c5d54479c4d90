"""The bundled MCP server's 20 tools, built by :func:`build_tools`: the catalog and the
clients (list_clients, list_available_servers, describe_server, import_servers, ...), a profile's
draft (add_server_to_config, validate_draft, ...) and releases (publish_config, deploy_config,
rollback_config, check_drift, ...). Each tool is one call of :mod:`mcp_orch.operations` returning
its ``to_dict()``, run in :func:`~.results._guard_tool`; its docstring is the tool's description.

Each tool is a :class:`_StrictTool`: its input schema forbids other keys
(``additionalProperties: false``) and its arguments are checked before it runs, so an unknown,
missing or invalid argument is a tool error with the same error document as a library error;
its output schema is the tool's entry in :data:`~.results.OUTPUT_SCHEMAS`. A path argument is
taken only inside the roots the server was started with (:meth:`~.state._State.allowed_path`).
"""

import functools
from collections.abc import Callable
from typing import Annotated, Any, Literal

import anyio
from mcp.server.mcpserver.tools import Tool
from mcp.types import ToolAnnotations
from pydantic import Field, ValidationError

from mcp_orch.core.errors import UsageError
from mcp_orch.frontends.mcp_server.params import (
    ArtifactId,
    ClientId,
    Codes,
    EnvVars,
    Headers,
    Params,
    Payload,
    ProfileId,
    ServerId,
    ServerName,
    Transport,
)
from mcp_orch.frontends.mcp_server.results import (
    OUTPUT_SCHEMAS,
    _guard_tool,
    error_result,
    invalid_arguments,
    unknown_arguments,
)
from mcp_orch.frontends.mcp_server.state import _State
from mcp_orch.operations import catalog, drafts, pins, releases


class _StrictTool(Tool):
    """A tool whose arguments are checked before the SDK's own validation: an unknown key, a
    missing one or an invalid value comes back as a tool error carrying the error document."""

    async def run(
        self, arguments: dict[str, Any], context: Any, convert_result: bool = False
    ) -> Any:
        allowed = list(self.parameters.get("properties") or {})
        if any(key not in allowed for key in arguments):
            return error_result(unknown_arguments(self.name, arguments, allowed))
        try:
            self.fn_metadata.validate_arguments(arguments)
        except ValidationError as exc:
            return error_result(invalid_arguments(self.name, exc))
        return await super().run(arguments, context, convert_result=convert_result)


def build_tools(state: _State) -> list[Tool]:
    """Every tool, working on ``state``'s workspace, catalog and roots."""
    tools: list[Tool] = []

    def tool(
        *,
        read_only: bool,
        destructive: bool = False,
        idempotent: bool = False,
        inline: Callable[[], bool] | None = None,
    ) -> Any:
        """``inline``: when it says the call is cheap now (a loaded, fresh catalog), the tool
        runs on the event loop instead of a worker thread: the hand-over to a thread and back
        cost more than a catalog page (issue 16: 3.1 ms a call at p50, most of it waiting)."""

        def register(fn: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
            guarded = _guard_tool(fn)
            if inline is not None:
                cheap, threaded = inline, guarded

                @functools.wraps(threaded)
                async def guarded(**kwargs: Any) -> Any:
                    if cheap():
                        return threaded(**kwargs)
                    return await anyio.to_thread.run_sync(functools.partial(threaded, **kwargs))

            made = _StrictTool.from_function(
                guarded,
                name=fn.__name__,
                annotations=ToolAnnotations(
                    read_only_hint=read_only,
                    destructive_hint=destructive,
                    idempotent_hint=idempotent or read_only,
                    open_world_hint=False,
                ),
            )
            made.parameters["additionalProperties"] = False
            made.fn_metadata.output_schema = OUTPUT_SCHEMAS[fn.__name__]
            tools.append(made)
            return fn

        return register

    # -- catalog and clients -----------------------------------------------------------------

    @tool(read_only=True)
    def list_clients() -> dict[str, Any]:
        """List the MCP clients mcp-orch can configure: id, name, config format, which remote
        transports each runs natively, and the config file it reads on this machine.
        Use an id from here as `client_id` in every other tool."""
        return catalog.list_clients(state.ws.client_root).to_dict()

    @tool(read_only=True)
    def list_profiles() -> dict[str, Any]:
        """List the client profiles in the workspace: client, profile, how many servers the
        draft holds, and the latest published and deployed artifact ids."""
        return drafts.list_profiles(state.ws).to_dict()

    @tool(read_only=True, inline=state.catalog_ready)
    def list_available_servers(
        search: Annotated[
            str, Field(description="Words that must all appear (id, title, description, tags).")
        ] = "",
        transport_filter: Annotated[
            str | None,
            Field(
                description="Only servers with this transport: stdio, "
                "streamable-http, sse or remote (any non-stdio)."
            ),
        ] = None,
        tag: Annotated[str | None, Field(description="Only servers with this tag.")] = None,
        limit: Annotated[int, Field(ge=1, le=200, description="Page size (1 to 200).")] = 50,
        cursor: Annotated[
            str | None, Field(description="next_cursor of the previous page, unchanged.")
        ] = None,
        offset: Annotated[
            int | None, Field(ge=0, description="Start at this index (instead of a cursor).")
        ] = None,
        status: Annotated[
            Literal["active", "deprecated", "deleted", "any"],
            Field(
                description="Registry status to show: deprecated and deleted servers are "
                "hidden unless asked (any: all)."
            ),
        ] = "active",
    ) -> dict[str, Any]:
        """Browse the server catalog (bundled servers plus the ones imported into the
        workspace). Returns one page of `servers` (id, title, description, transports, tags),
        `count` (on this page), `total` and `transport_counts` (over every match) and
        `next_cursor` (null on the last page). Then call describe_server for the inputs a
        server needs."""
        return catalog.list_servers(
            state.registry(),
            search=search,
            transport=transport_filter,
            tag=tag,
            limit=limit,
            cursor=cursor,
            offset=offset,
            status=status,
        ).to_dict()

    @tool(read_only=True)
    def describe_server(
        server_id: ServerId,
        client_id: Annotated[
            str | None, Field(description="Also render the entry this client would get.")
        ] = None,
        params: Params = None,
        env_vars: EnvVars = None,
        transport: Transport = None,
    ) -> dict[str, Any]:
        """Everything about one catalog server: packages, remotes, transports and the inputs
        it takes (env vars, arguments, headers; which are required and which are secret).
        With `client_id`, also the exact config entry that client would get (nothing is
        written)."""
        return catalog.describe_server(
            state.registry(),
            server_id,
            client=client_id,
            params=params,
            env=env_vars,
            transport=transport,
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
            str | None,
            Field(
                description="Or: a JSON file with such documents, inside a folder the server "
                "was started with (serve --allow-root DIR)."
            ),
        ] = None,
    ) -> dict[str, Any]:
        """Import official MCP Registry server.json documents into the workspace catalog, so
        they can be added like bundled servers. Each document is checked against the official
        schema; an import with the same name replaces the earlier one."""
        where = str(state.allowed_path(path, "path")) if path is not None else None
        return catalog.import_servers(state.ws, document=document, path=where).to_dict()

    # -- the draft ---------------------------------------------------------------------------

    @tool(read_only=False, idempotent=True)
    def add_server_to_config(
        client_id: ClientId,
        server_id: ServerId,
        profile_id: ProfileId = "default",
        params: Params = None,
        env_vars: EnvVars = None,
        headers: Headers = None,
        server_name: Annotated[
            str | None,
            Field(description="Name of the entry in the config (default: the server's id)."),
        ] = None,
        transport: Transport = None,
        replace: Annotated[
            bool, Field(description="Replace an entry of the same name that differs.")
        ] = False,
        package: Annotated[
            str | None,
            Field(
                description="Which of the server's packages to run: its registry type (npm, "
                "pypi, oci), identifier or number (from 1). Default: the first runnable one."
            ),
        ] = None,
        version: Annotated[
            str | None,
            Field(description="Run this version of the package (default: the catalog's)."),
        ] = None,
    ) -> dict[str, Any]:
        """Add a catalog server to a client profile's draft (not yet published or deployed).
        Returns the client-native entry, and `warnings` when the registry lists the server as
        deprecated or deleted. Next: validate_draft, publish_config, deploy_config."""
        return drafts.add_server(
            state.ws,
            client_id,
            profile_id,
            server_id,
            params=params,
            env=env_vars,
            headers=headers,
            name=server_name,
            transport=transport,
            replace=replace,
            registry=state.registry(),
            package=package,
            version=version,
        ).to_dict()

    @tool(read_only=False, idempotent=True)
    def profile_settings(
        client_id: ClientId,
        profile_id: ProfileId = "default",
        pin: Annotated[
            Literal["exact", "minor", "floating"] | None,
            Field(
                description="How versions are written: exact pkg@1.2.3, minor pkg@~1.2.3, "
                "floating the bare name (unchanged when omitted)."
            ),
        ] = None,
        pin_tools: Annotated[
            bool | None,
            Field(description="Whether every publish pins the servers' tool manifests."),
        ] = None,
        keep_backups: Annotated[
            int | None,
            Field(
                description="How many backups of the client's files each deploy keeps, the "
                "newest (default 20; 0 keeps every backup).",
                ge=0,
            ),
        ] = None,
        secrets: Annotated[
            Literal["auto", "launcher", "inline"] | None,
            Field(
                description="How deploy writes secrets for clients that cannot expand "
                "variables: launcher (the entry runs the mcp-orch launcher, which reads the "
                "secret store as the server starts), inline (values in the file), auto (the "
                "launcher for secrets in the store)."
            ),
        ] = None,
    ) -> dict[str, Any]:
        """A profile's settings (pin, pin_tools, keep_backups, secrets), changed first when
        given."""
        return pins.settings(
            state.ws,
            client_id,
            profile_id,
            pin=pin,
            pin_tools=pin_tools,
            keep_backups=keep_backups,
            secrets=secrets,
        ).to_dict()

    @tool(read_only=True)
    def list_outdated_servers(
        client_id: ClientId,
        profile_id: ProfileId = "default",
        servers: Annotated[
            list[str] | None, Field(description="Only these servers of the draft.")
        ] = None,
    ) -> dict[str, Any]:
        """The draft's servers whose package registry has a newer version than the pinned
        one, and whether the catalog's entry changed since they were added."""
        return pins.outdated(state.ws, client_id, profile_id, servers).to_dict()

    @tool(read_only=False, idempotent=True)
    def upgrade_servers(
        client_id: ClientId,
        profile_id: ProfileId = "default",
        server_name: Annotated[
            str | None, Field(description="Only this server (default: every outdated one).")
        ] = None,
        to: Annotated[str | None, Field(description="This version (needs server_name).")] = None,
    ) -> dict[str, Any]:
        """Put the newer pins into the draft (nothing is published): validate_draft and
        publish_config release them."""
        return pins.upgrade(state.ws, client_id, profile_id, server_name, to=to).to_dict()

    @tool(read_only=False, destructive=True, idempotent=False)
    def remove_server_from_config(
        client_id: ClientId, server_name: ServerName, profile_id: ProfileId = "default"
    ) -> dict[str, Any]:
        """Remove a server from a client profile's draft. Publish and deploy to remove it from
        the client's file too."""
        return drafts.remove_server(state.ws, client_id, profile_id, server_name).to_dict()

    @tool(read_only=True)
    def view_draft_config(client_id: ClientId, profile_id: ProfileId = "default") -> dict[str, Any]:
        """Show a profile's draft: each server's record (entry, catalog origin, inputs given) and
        the client-native payload that publish_config would sign."""
        return drafts.show_draft(state.ws, client_id, profile_id).to_dict()

    @tool(read_only=True)
    def validate_draft(
        client_id: ClientId,
        profile_id: ProfileId = "default",
        payload: Payload = None,
        select: Codes = None,
        ignore: Codes = None,
    ) -> dict[str, Any]:
        """Check a profile's draft (or, with `payload`, that config instead) against the
        client's schema and mcp-orch's rules (literal secrets, missing required env vars,
        unsupported transports, client limits, commands not on PATH, ...). Returns `ok` and the
        errors, warnings and suggestions, each with a hint. Errors block publish_config;
        warnings do not."""
        return drafts.validate_draft(
            state.ws, client_id, profile_id, payload=payload, select=select, ignore=ignore
        ).to_dict()

    # -- release -----------------------------------------------------------------------------

    @tool(read_only=False)
    def publish_config(
        client_id: ClientId,
        profile_id: ProfileId = "default",
        changelog: Annotated[str, Field(description="What changed and why.")] = "",
        payload: Payload = None,
        pin_tools: Annotated[
            bool | None,
            Field(
                description="Probe every server and sign its tool manifest into the release "
                "(default: the profile's pin_tools setting)."
            ),
        ] = None,
    ) -> dict[str, Any]:
        """Validate the draft (or, with `payload`, that config instead) and publish it as a
        signed, content-addressed artifact (the profile's new latest); errors refuse it. The
        release holds the lock: each package resolved against its registry (version,
        integrity hash, publish time). Returns the artifact with `status` published, or
        unchanged when the content already is the latest (nothing is recorded). Nothing is
        written to the client's file: call deploy_config next."""
        return releases.publish(
            state.ws,
            client_id,
            profile_id,
            changelog=changelog,
            payload=payload,
            pin_tools=pin_tools,
        ).to_dict()

    @tool(read_only=False, destructive=True, idempotent=True)
    def deploy_config(
        client_id: ClientId,
        profile_id: ProfileId = "default",
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
            str | None,
            Field(
                description="The project folder, with scope=project: inside a folder the "
                "server was started with (serve --allow-root DIR)."
            ),
        ] = None,
    ) -> dict[str, Any]:
        """Verify the signature of an artifact (default: latest) and write it into the client's
        config file: only managed entries change, everything else and comments are kept; the
        old file is backed up and the write is atomic. Returns `status` deployed (or dry-run),
        `config_path` and `artifact_id`. Use dry_run=true first to see the diff."""
        where = None
        if scope == "project":
            where = _project_dir(client_id, profile_id, project_dir)
        return releases.deploy(
            state.ws,
            client_id,
            profile_id,
            artifact_id=artifact_id,
            scope=scope,
            project_dir=where,
            dry_run=dry_run,
            adopt=adopt,
        ).to_dict()

    def _project_dir(client_id: str, profile_id: str, project_dir: str | None) -> str:
        """The project folder, if it and the client's file in it are inside the roots."""
        if project_dir is None:
            raise UsageError(
                "scope=project needs project_dir (the server's own folder is not used)",
                "name the project folder (project_dir)",
                inputs=("project_dir",),
            )
        folder = state.allowed_path(project_dir, "project_dir")
        # the file itself too: a symlinked .cursor folder must not lead out of the roots
        target = state.profile(client_id, profile_id).config_path("project", str(folder))
        state.allowed_path(target, "project_dir")
        return str(folder)

    @tool(read_only=True)
    def get_config(
        client_id: ClientId, profile_id: ProfileId = "default", artifact_id: ArtifactId = None
    ) -> dict[str, Any]:
        """A published artifact (default: the latest) after verifying its signature: the exact
        payload the client receives, its changelog, parent, creation time and signing key."""
        return releases.get_config(
            state.ws, client_id, profile_id, artifact_id=artifact_id
        ).to_dict()

    @tool(read_only=True)
    def diff_config(
        client_id: ClientId,
        profile_id: ProfileId = "default",
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
            state.ws, client_id, profile_id, from_artifact=from_artifact, to_artifact=to_artifact
        ).to_dict()

    @tool(read_only=True)
    def check_drift(client_id: ClientId, profile_id: ProfileId = "default") -> dict[str, Any]:
        """Find hand edits in the client's file since the last deploy: managed entries edited
        or removed, and entries added by hand. status is clean or drifted."""
        return releases.drift(state.ws, client_id, profile_id).to_dict()

    @tool(read_only=False, destructive=True)
    def rollback_config(
        client_id: ClientId,
        profile_id: ProfileId = "default",
        artifact_id: Annotated[
            str | None,
            Field(description="Roll back to this artifact (default: the latest's parent)."),
        ] = None,
        deploy: Annotated[bool, Field(description="Also deploy it to the client's file.")] = False,
    ) -> dict[str, Any]:
        """Point the profile's latest back at an earlier artifact (recorded as a revert event);
        with deploy=true also write it to the client's file. Returns the artifact now latest."""
        return releases.rollback(
            state.ws, client_id, profile_id, artifact_id=artifact_id, deploy=deploy
        ).to_dict()

    @tool(read_only=True)
    def get_config_history(
        client_id: ClientId,
        profile_id: ProfileId = "default",
        limit: Annotated[
            int, Field(ge=1, le=1000, description="At most this many (1 to 1000).")
        ] = 20,
    ) -> dict[str, Any]:
        """The artifacts published for a profile, newest first (id, time, changelog, servers,
        parent), with their `count` and the ids of latest and deployed. Use an id with
        get_config, diff_config or rollback_config."""
        return releases.config_history(state.ws, client_id, profile_id, limit=limit).to_dict()

    @tool(read_only=True)
    def get_audit_log(
        since: Annotated[str | None, Field(description="7d, 30d, 12h or an ISO date.")] = None,
        action: Annotated[
            str | None,
            Field(
                description="publish, deploy, revert, restore, prune, key, import, register, "
                "sync, catalog-sync, catalog-source, push, pull, approve, secret-set, secret-rm."
            ),
        ] = None,
        client_id: Annotated[str | None, Field(description="Only this client.")] = None,
        profile_id: Annotated[str | None, Field(description="Only this profile.")] = None,
        artifact_id: Annotated[
            str | None, Field(description="Only events about this artifact.")
        ] = None,
        limit: Annotated[
            int, Field(ge=1, le=10000, description="At most this many (1 to 10000).")
        ] = 50,
    ) -> dict[str, Any]:
        """The workspace's audit trail, newest first, with its `count`: who published,
        deployed, rolled back or restored what and when (hash-chained, append-only)."""
        return releases.audit_log(
            state.ws,
            since=since,
            action=action,
            client=client_id,
            profile=profile_id,
            artifact_id=artifact_id,
            limit=limit,
        ).to_dict()

    return tools

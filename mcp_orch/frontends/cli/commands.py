"""The main CLI commands: catalog, drafts, releases, history, keys.

Each command: parse options, call one operation, print the result (``--json``: its document).
Operation modules are imported inside the commands, so ``--help`` and the light commands load
only what they use.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from mcp_orch.core.ids import short_id
from mcp_orch.frontends.cli.base import Ctx, Group, client_profile, common, pairs
from mcp_orch.frontends.render import table

COMMANDS: list[click.Command] = []


def command(name: str) -> Any:
    """``click.command(name)``, collected into :data:`COMMANDS` in definition order."""

    def register(func: Any) -> click.Command:
        cmd = click.command(name)(func)
        COMMANDS.append(cmd)
        return cmd

    return register


# ---- catalog -------------------------------------------------------------------------------


@command("list-clients")
@common
def list_clients_cmd(ctx: Ctx) -> None:
    """The supported MCP clients and where their config files are."""
    from mcp_orch.operations import catalog

    result = catalog.list_clients(ctx.client_root)
    rows = [
        (s.id, s.name, s.dialect, ", ".join(sorted(s.remote)) or "bridged (mcp-remote)", path)
        for s, path in result.clients
    ]
    ctx.emit(result, lambda: table(["id", "name", "format", "remote", "config path"], rows, 80))


@command("list-profiles")
@common
def list_profiles_cmd(ctx: Ctx) -> None:
    """Profiles in the workspace with their draft size, latest and deployed artifacts."""
    from mcp_orch.operations import drafts

    result = drafts.list_profiles(ctx.ws)
    rows = [
        (
            r["client"],
            r["profile"],
            r["draft_servers"],
            short_id(r["latest"]),
            short_id(r["deployed"]),
        )
        for r in result.rows()
    ]
    ctx.emit(result, lambda: table(["client", "profile", "draft", "latest", "deployed"], rows))


@command("list-servers")
@click.option("--transport", "-t", help="stdio, streamable-http, sse or remote.")
@click.option("--search", "-s", default="", help="Words to look for.")
@click.option("--tag", help="Only servers with this tag.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many (default: all).")
@click.option("--cursor", help="Start where the previous page ended (its next_cursor).")
@common
def list_servers_cmd(
    ctx: Ctx,
    transport: str | None,
    search: str,
    tag: str | None,
    limit: int | None,
    cursor: str | None,
) -> None:
    """Servers in the catalog (bundled and your own)."""
    from mcp_orch.operations import catalog

    result = catalog.list_servers(
        ctx.registry(), search=search, transport=transport, tag=tag, limit=limit, cursor=cursor
    )
    rows = [(s.id, s.title, ", ".join(s.transports), s.description) for s in result.page]
    more = f" of {result.total} (next: --cursor {result.next_cursor})" if result.next_cursor else ""
    ctx.emit(
        result,
        lambda: (
            table(["id", "title", "transports", "description"], rows)
            + f"\n{len(result.page)} server(s){more}"
        ),
    )


@command("describe-server")
@click.argument("server_id")
@click.option("--client", "-c", help="Also show the entry this client would get.")
@click.option("--param", multiple=True, help="KEY=VALUE for an argument or URL variable.")
@click.option("--env", "env", multiple=True, help="KEY=VALUE for an environment variable.")
@click.option("--transport", help="stdio, remote, streamable-http or sse.")
@common
def describe_server_cmd(
    ctx: Ctx,
    server_id: str,
    client: str | None,
    param: tuple[str, ...],
    env: tuple[str, ...],
    transport: str | None,
) -> None:
    """Everything about one server: packages, remotes, inputs, and a rendered entry."""
    from mcp_orch.operations import catalog

    result = catalog.describe_server(
        ctx.registry(),
        server_id,
        client=client,
        params=pairs(param, "--param"),
        env=pairs(env, "--env"),
        transport=transport,
    )
    server = result.server

    def text() -> str:
        lines = [
            f"{server.title} ({server.id})  v{server.version}",
            f"  name:        {server.name}",
            f"  description: {server.description}",
            f"  transports:  {', '.join(server.transports)}",
            f"  tags:        {', '.join(server.tags)}",
        ]
        for p in server.packages:
            lines.append(
                f"  package:     {p.get('registryType')} {p.get('identifier')} "
                f"(runs with {p.get('runtimeHint', '?')})"
            )
        for r in server.remotes:
            lines.append(f"  remote:      {r.get('type')} {r.get('url')}")
        inputs = server.inputs()
        if inputs:
            lines.append("  inputs:")
            lines.append(
                "    "
                + table(
                    ["kind", "name", "required", "secret", "default", "description"],
                    [
                        (
                            i["kind"],
                            i["name"],
                            i["required"],
                            i["secret"],
                            i["default"],
                            i["description"],
                        )
                        for i in inputs
                    ],
                ).replace("\n", "\n    ")
            )
        if result.entry is not None:
            lines.append(f"  entry for {client}:")
            lines.append("    " + json.dumps(result.entry, indent=2).replace("\n", "\n    "))
        return "\n".join(lines)

    ctx.emit(result, text)


@command("import-servers")
@click.argument("file", type=click.Path(dir_okay=False))
@common
def import_servers_cmd(ctx: Ctx, file: str) -> None:
    """Import official server.json documents (one, a list, or a registry API page)."""
    from mcp_orch.operations import catalog

    result = catalog.import_servers(ctx.ws, path=file)
    ctx.emit(
        result,
        lambda: f"imported {len(result.imported)} server(s): {', '.join(result.imported.ids())}",
    )


@command("detect")
@click.option("--project-dir", type=click.Path(file_okay=False), help="Also look at this project.")
@click.option("--all", "show_all", is_flag=True, help="List every client, installed or not.")
@common
def detect_cmd(ctx: Ctx, project_dir: str | None, show_all: bool) -> None:
    """Which MCP clients are installed here, their config files and server counts."""
    from mcp_orch.operations import drafts

    result = drafts.detect(ctx.ws, project_dir=project_dir, show_all=show_all)
    rows = [
        (
            r["client"],
            r["name"],
            r["error"] or ("" if r["servers"] is None else r["servers"]),
            r["path"],
        )
        for r in result.rows
    ]
    ctx.emit(result, lambda: table(["client", "name", "servers", "path"], rows, 90))


@command("import")
@click.option("--client", "-c", required=True, help="Client id (see list-clients).")
@click.option("--profile", "-p", default="default", show_default=True, help="Profile id.")
@click.option("--scope", type=click.Choice(["user", "project"]), default="user", show_default=True)
@click.option(
    "--project-dir", type=click.Path(file_okay=False), help="Project folder (--scope project)."
)
@click.option("--path", type=click.Path(dir_okay=False), help="Read this file instead.")
@click.option("--keep-secrets", is_flag=True, help="Keep literal secrets (validation flags them).")
@common
def import_cmd(
    ctx: Ctx,
    client: str,
    profile: str,
    scope: str,
    project_dir: str | None,
    path: str | None,
    keep_secrets: bool,
) -> None:
    """Read a client's existing servers into a draft (the client's file is not changed)."""
    from mcp_orch.operations import drafts

    result = drafts.import_client(
        ctx.ws,
        client,
        profile,
        scope=scope,
        path=path,
        project_dir=project_dir,
        keep_secrets=keep_secrets,
    )
    ctx.emit(result, lambda: str(result.result))


@command("sync")
@click.option("--from", "source", required=True, help="CLIENT or CLIENT/PROFILE to copy from.")
@click.option("--to", "targets", required=True, help="Comma-separated client ids.")
@click.option("--deploy", "do_deploy", is_flag=True, help="Also deploy each target.")
@click.option("--changelog", "-m", default="", help="Changelog for the published artifacts.")
@common
def sync_cmd(ctx: Ctx, source: str, targets: str, do_deploy: bool, changelog: str) -> None:
    """One set of servers, rendered natively for several clients, published (and deployed)."""
    from mcp_orch.operations import drafts

    result = drafts.sync(
        ctx.ws,
        source,
        [t.strip() for t in targets.split(",") if t.strip()],
        deploy=do_deploy,
        changelog=changelog,
    )
    ctx.emit(result, lambda: str(result.result))


# ---- drafts --------------------------------------------------------------------------------


@command("add-server")
@click.argument("server_id")
@client_profile
@click.option("--param", multiple=True, help="KEY=VALUE for an argument or URL variable.")
@click.option("--env", "env", multiple=True, help="KEY=VALUE; secrets as KEY='${env:NAME}'.")
@click.option("--header", multiple=True, help="NAME=VALUE for a remote server's header.")
@click.option("--name", help="Name of the entry in the client's config (default: the id).")
@click.option("--transport", help="stdio, remote, streamable-http or sse.")
@click.option("--replace", is_flag=True, help="Replace an entry with the same name.")
@click.option(
    "--target-os",
    type=click.Choice(["linux", "macos", "windows"]),
    help="Render for this OS (default: this machine's), e.g. cmd /c wrapping on Windows.",
)
@common
def add_server_cmd(
    ctx: Ctx,
    server_id: str,
    client: str,
    profile: str,
    param: tuple[str, ...],
    env: tuple[str, ...],
    header: tuple[str, ...],
    name: str | None,
    transport: str | None,
    replace: bool,
    target_os: str | None,
) -> None:
    """Add a catalog server to a profile's draft."""
    from mcp_orch.operations import drafts

    result = drafts.add_server(
        ctx.ws,
        client,
        profile,
        server_id,
        params=pairs(param, "--param"),
        env=pairs(env, "--env"),
        headers=pairs(header, "--header"),
        name=name,
        transport=transport,
        replace=replace,
        target_os=target_os,
    )
    draft = result.draft
    ctx.emit(
        result,
        lambda: (
            f"added {result.name} to the draft of {draft.profile.ref} "
            f"({len(draft)} server(s): {', '.join(draft.names)})\n"
            + json.dumps(result.entry, indent=2)
        ),
    )


@command("remove-server")
@click.argument("name")
@client_profile
@common
def remove_server_cmd(ctx: Ctx, name: str, client: str, profile: str) -> None:
    """Remove a server from a profile's draft."""
    from mcp_orch.operations import drafts

    result = drafts.remove_server(ctx.ws, client, profile, name)
    ctx.emit(
        result,
        f"removed {name} from the draft of {result.draft.profile.ref} ({len(result.draft)} left)",
    )


@command("show-draft")
@client_profile
@common
def show_draft_cmd(ctx: Ctx, client: str, profile: str) -> None:
    """Show a profile's draft and the payload it would publish."""
    from mcp_orch.operations import drafts

    result = drafts.show_draft(ctx.ws, client, profile)
    draft = result.draft
    ctx.emit(result, lambda: f"draft {draft.profile.ref}\n" + json.dumps(draft.payload, indent=2))


@command("validate-draft")
@client_profile
@click.option("--file", "file", type=click.Path(dir_okay=False), help="Validate this file instead.")
@click.option("--select", multiple=True, help="Only these rule codes or names.")
@click.option("--ignore", multiple=True, help="Skip these rule codes or names.")
@common
def validate_draft_cmd(
    ctx: Ctx,
    client: str,
    profile: str,
    file: str | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
) -> None:
    """Validate a draft (or a client config file) against the client's schema and the rules."""
    from mcp_orch.operations import drafts

    result = drafts.validate_draft(
        ctx.ws, client, profile, file=file, select=list(select), ignore=list(ignore)
    )
    ctx.emit(result, lambda: str(result.report))
    sys.exit(0 if result.ok else 1)


# ---- release -------------------------------------------------------------------------------


@command("publish-config")
@client_profile
@click.option("--file", "file", type=click.Path(dir_okay=False), help="Publish this file as is.")
@click.option("--changelog", "-m", default="", help="What changed and why.")
@common
def publish_config_cmd(
    ctx: Ctx, client: str, profile: str, file: str | None, changelog: str
) -> None:
    """Validate, sign and store the draft (or a file) as the profile's latest artifact."""
    from mcp_orch.operations import releases

    result = releases.publish(ctx.ws, client, profile, changelog=changelog, file=file)
    art = result.artifact
    ctx.emit(
        result,
        lambda: (
            f"published {art.artifact_id}\n  {art.client}/{art.profile}, "
            f"{len(art.servers)} server(s), signed by {art.key_id}\n  changelog: {art.changelog}"
        ),
    )


def deployment_text(dep: Any) -> str:
    """What a deploy did (or, as a dry run, would do), as the deploy and rollback commands say."""
    if dep.dry_run:
        return (dep.diff_text or f"{dep.path}: no changes") + "\n(dry run: nothing written)"
    verb = "deployed" if dep.changed else "already up to date:"
    return (
        f"{verb} {short_id(dep.artifact_id)} to {dep.path}\n  managed: {', '.join(dep.managed)}"
        + (f"\n  backup: {dep.backup}" if dep.backup else "")
        + (
            f"\n  note: replaced hand edits to {', '.join(dep.overwritten)} "
            "(the backup has them; `mcp-orch restore` puts them back)"
            if dep.overwritten
            else ""
        )
    )


@command("deploy-config")
@client_profile
@click.option("--artifact-id", help="Deploy this artifact (default: latest).")
@click.option(
    "--path", type=click.Path(dir_okay=False), help="Write here instead of the client's file."
)
@click.option("--scope", type=click.Choice(["user", "project"]), default="user", show_default=True)
@click.option(
    "--project-dir", type=click.Path(file_okay=False), help="Project folder (--scope project)."
)
@click.option("--dry-run", is_flag=True, help="Show the diff against the real file; write nothing.")
@click.option(
    "--adopt", is_flag=True, help="Take over same-named entries mcp-orch does not manage."
)
@common
def deploy_config_cmd(
    ctx: Ctx,
    client: str,
    profile: str,
    artifact_id: str | None,
    path: str | None,
    scope: str,
    project_dir: str | None,
    dry_run: bool,
    adopt: bool,
) -> None:
    """Verify and deploy an artifact into the client's config file (backed up, atomic)."""
    from mcp_orch.operations import releases

    result = releases.deploy(
        ctx.ws,
        client,
        profile,
        artifact_id=artifact_id,
        path=path,
        scope=scope,
        project_dir=project_dir,
        dry_run=dry_run,
        adopt=adopt,
    )
    ctx.emit(result, lambda: deployment_text(result.deployment))


@command("get-config")
@client_profile
@click.option("--artifact-id", help="An artifact id (default: latest).")
@common
def get_config_cmd(ctx: Ctx, client: str, profile: str, artifact_id: str | None) -> None:
    """Show a published artifact (default: latest), verified."""
    from mcp_orch.operations import releases

    result = releases.get_config(ctx.ws, client, profile, artifact_id=artifact_id)
    art = result.artifact
    ctx.emit(
        result,
        lambda: (
            f"artifact {art.artifact_id} (signature ok, key {art.key_id})\n"
            f"  created {art.created}, parent {art.parent or '-'}\n  changelog: {art.changelog}\n"
            + json.dumps(art.payload, indent=2)
        ),
    )


@command("diff-config")
@client_profile
@click.option("--path", type=click.Path(dir_okay=False), help="The client file to compare.")
@click.option("--from", "from_id", help="Compare two artifacts: the older one ...")
@click.option("--to", "to_id", help="... and the newer one (default: latest); alone: file vs it.")
@common
def diff_config_cmd(
    ctx: Ctx, client: str, profile: str, path: str | None, from_id: str | None, to_id: str | None
) -> None:
    """Compare the client's file with latest (or two artifacts): up-to-date/outdated/diverged."""
    from mcp_orch.operations import releases

    result = releases.diff_config(
        ctx.ws, client, profile, path=path, from_artifact=from_id, to_artifact=to_id
    )
    ctx.emit(result, lambda: str(result.diff))


@command("drift")
@client_profile
@click.option("--path", type=click.Path(dir_okay=False), help="The deployed file (default: last).")
@common
def drift_cmd(ctx: Ctx, client: str, profile: str, path: str | None) -> None:
    """Managed entries edited, removed or added by hand since the last deploy (exit 1 if any)."""
    from mcp_orch.operations import releases

    result = releases.drift(ctx.ws, client, profile, path=path)
    ctx.emit(result, lambda: str(result.report))
    sys.exit(0 if result.ok else 1)


@command("rollback")
@client_profile
@click.option("--artifact-id", help="Roll back to this artifact (default: latest's parent).")
@click.option("--deploy", "do_deploy", is_flag=True, help="Also deploy it.")
@click.option("--path", type=click.Path(dir_okay=False), help="Deploy here (with --deploy).")
@common
def rollback_cmd(
    ctx: Ctx, client: str, profile: str, artifact_id: str | None, do_deploy: bool, path: str | None
) -> None:
    """Point latest back at an earlier artifact (records a revert event)."""
    from mcp_orch.operations import releases

    result = releases.rollback(
        ctx.ws, client, profile, artifact_id=artifact_id, deploy=do_deploy, path=path
    )
    art = result.artifact

    def text() -> str:
        head = f"latest is now {art.artifact_id} ({art.changelog or 'no changelog'})"
        if result.deployment is None:
            return head
        return head + " and it is deployed\n" + deployment_text(result.deployment)

    ctx.emit(result, text)


@command("restore")
@client_profile
@click.option("--backup", help="The backup to restore (default: the newest).")
@click.option("--list", "list_only", is_flag=True, help="List the backups.")
@common
def restore_cmd(ctx: Ctx, client: str, profile: str, backup: str | None, list_only: bool) -> None:
    """Put a client file back as it was before a deploy."""
    from mcp_orch.operations import releases

    if list_only:
        listed = releases.list_backups(ctx.ws, client, profile)
        rows = [(b["taken"], b["source"], b["backup"]) for b in listed.backups]
        ctx.emit(listed, lambda: table(["taken", "source", "backup"], rows, 100))
        return
    result = releases.restore(ctx.ws, client, profile, backup=backup)
    chosen = result.restored
    ctx.emit(result, f"restored {chosen['source']} from {chosen['backup']}")


@command("config-history")
@client_profile
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@common
def config_history_cmd(ctx: Ctx, client: str, profile: str, limit: int) -> None:
    """The artifacts of a profile, newest first."""
    from mcp_orch.operations import releases

    result = releases.config_history(ctx.ws, client, profile, limit=limit)
    rows = [
        (
            a.short_id,
            a.created[:19],
            ("latest " if a.artifact_id == result.latest else "")
            + ("deployed" if a.artifact_id == result.deployed else ""),
            len(a.servers),
            a.changelog,
        )
        for a in result.history
    ]
    ctx.emit(result, lambda: table(["artifact", "created", "refs", "servers", "changelog"], rows))


@command("audit-log")
@click.option("--since", help="7d, 30d, 12h or an ISO date.")
@click.option("--action", help="publish, deploy, revert, restore, key, import, register, sync.")
@click.option("--client", "-c", help="Only this client.")
@click.option("--profile", "-p", help="Only this profile.")
@click.option("--artifact-id", help="Only events about this artifact.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@common
def audit_log_cmd(
    ctx: Ctx,
    since: str | None,
    action: str | None,
    client: str | None,
    profile: str | None,
    artifact_id: str | None,
    limit: int,
) -> None:
    """The audit trail, newest first."""
    from mcp_orch.operations import releases

    result = releases.audit_log(
        ctx.ws,
        since=since,
        action=action,
        client=client,
        profile=profile,
        artifact_id=artifact_id,
        limit=limit,
    )
    rows = [
        (
            e["seq"],
            e["time"][:19],
            e["action"],
            f"{e['client']}/{e['profile']}".strip("/"),
            short_id(e.get("artifact_id")),
            e.get("actor"),
            e.get("changelog"),
        )
        for e in result.events
    ]
    ctx.emit(
        result,
        lambda: table(["seq", "time", "action", "profile", "artifact", "actor", "changelog"], rows),
    )


@command("verify")
@common
def verify_cmd(ctx: Ctx) -> None:
    """Check every stored artifact, signature and ref, and the audit chain (exit 1 on problems)."""
    from mcp_orch.operations import releases

    result = releases.verify(ctx.ws)
    ctx.emit(result, lambda: str(result.report))
    sys.exit(0 if result.ok else 1)


@command("init-configs")
@common
def init_configs_cmd(ctx: Ctx) -> None:
    """Publish signed sample configs (time + fetch + memory) for a first look. Deploys nothing."""
    from mcp_orch.operations import releases

    result = releases.init_configs(ctx.ws)
    rows = [(a.client, a.profile, a.short_id, sorted(a.servers)) for a in result.published]
    ctx.emit(result, lambda: table(["client", "profile", "artifact", "servers"], rows))


# ---- keys ----------------------------------------------------------------------------------


@click.group("keys", cls=Group)
def keys_group() -> None:
    """Signing keys: init, rotate, export-public, trust, list."""


COMMANDS.append(keys_group)


@keys_group.command("init")
@common
def keys_init_cmd(ctx: Ctx) -> None:
    """Create the workspace's signing key (if it has none)."""
    from mcp_orch.operations import keys

    result = keys.init_key(ctx.ws)
    ctx.emit(
        result, f"{'created' if result.created else 'already have'} signing key {result.key_id}"
    )


@keys_group.command("rotate")
@common
def keys_rotate_cmd(ctx: Ctx) -> None:
    """Make a new signing key; old public keys stay so old artifacts still verify."""
    from mcp_orch.operations import keys

    result = keys.rotate_key(ctx.ws)
    ctx.emit(result, f"rotated: {result.old or '(none)'} -> {result.key_id}")


@keys_group.command("export-public")
@click.option("--key-id", help="Which key (default: the current one).")
@common
def keys_export_cmd(ctx: Ctx, key_id: str | None) -> None:
    """Print a public key (PEM) to share with teammates."""
    from mcp_orch.operations import keys

    result = keys.export_public(ctx.ws, key_id)
    ctx.emit(result, result.pem.rstrip())


@keys_group.command("trust")
@click.argument("file", type=click.File("rb"))
@common
def keys_trust_cmd(ctx: Ctx, file: Any) -> None:
    """Trust a teammate's public key (PEM file, or - for stdin)."""
    from mcp_orch.operations import keys

    result = keys.trust_key(ctx.ws, file.read(), source=file.name)
    ctx.emit(result, f"trusted {result.key_id}")


@keys_group.command("list")
@common
def keys_list_cmd(ctx: Ctx) -> None:
    """Own (current and retired) and trusted public keys."""
    from mcp_orch.operations import keys

    result = keys.list_keys(ctx.ws)
    rows = [(r["key_id"], r["status"]) for r in result.keys]
    ctx.emit(result, lambda: table(["key_id", "status"], rows))

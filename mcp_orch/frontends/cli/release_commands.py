"""The release commands: publish, deploy, get, diff, drift, rollback, restore, history, audit,
verify, sample configs. Loaded when one of them runs (``LAZY_COMMANDS``)."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from mcp_orch.core.errors import UsageError
from mcp_orch.core.ids import short_id
from mcp_orch.frontends.cli.base import (
    Ctx,
    Group,
    client_option,
    client_profile,
    common,
    examples,
    say,
)
from mcp_orch.frontends.cli.complete import profile_ids
from mcp_orch.frontends.render import is_terminal, plural, table

# ---- release -------------------------------------------------------------------------------


@click.command(
    "publish-config",
    epilog=examples(
        "mcp-orch publish-config --client cursor -m 'add time'",
        "mcp-orch publish-config -c cursor --file ~/.cursor/mcp.json -m 'the file as is'",
        "mcp-orch publish-config -c cursor --pin-tools -m 'pin the tools'",
    ),
)
@client_profile
@click.option("--file", "file", type=click.Path(dir_okay=False), help="Publish this file as is.")
@click.option("--changelog", "-m", default="", help="What changed and why.")
@click.option(
    "--pin-tools/--no-pin-tools",
    default=None,
    help="Probe every server and sign its tool manifest into the release (default: the "
    "profile's pin_tools setting).",
)
@click.option(
    "--offline",
    is_flag=True,
    help="Do not ask the package registries: the lock is recorded as unresolved.",
)
@common
def publish_config_cmd(
    ctx: Ctx,
    client: str,
    profile: str,
    file: str | None,
    changelog: str,
    pin_tools: bool | None,
    offline: bool,
) -> None:
    """Validate, resolve the lock, sign and store the draft (or a file) as the profile's
    latest artifact."""
    from mcp_orch.operations import releases

    result = releases.publish(
        ctx.ws,
        client,
        profile,
        changelog=changelog,
        file=file,
        pin_tools=pin_tools,
        resolve=not offline,
    )
    art = result.artifact

    def text() -> str:
        if result.unchanged:  # nothing new was signed: the changelog given went nowhere
            why = "changelog not recorded" if changelog else "same content as latest"
            head = f"unchanged: {art.artifact_id} ({why})"
            said = f"  changelog of that release: {art.changelog or '-'}"
        else:
            head = f"published {art.artifact_id}"
            said = f"  changelog: {art.changelog}"
        return (
            f"{head}\n  {art.client}/{art.profile}, {plural(len(art.servers), 'server')}, "
            f"signed by {art.key_id}\n{said}\n  {pins_summary(art)}"
        )

    ctx.emit(result, text)


def pins_summary(art: Any) -> str:
    """One line on what a release pins: its lock and its tool manifests."""
    lock = art.lock or {}
    resolved = [n for n, r in lock.items() if r.get("status") == "resolved"]
    parts = [
        f"lock: {len(resolved)} of {plural(len(lock), 'package')} resolved"
        if lock
        else "lock: no registry packages"
    ]
    if len(resolved) < len(lock):
        first = next(r for r in lock.values() if r.get("status") != "resolved")
        parts[0] += f" ({str(first.get('reason') or 'unresolved').rstrip('.')})"
    if art.tools is not None:
        parts.append(f"tools pinned for {plural(len(art.tools), 'server')}")
    return "; ".join(parts)


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


def confirm_replacing(dep: Any) -> None:
    """Show the diff of a deploy that would replace hand edits and ask (on stderr); without a
    terminal to ask on, refuse: nothing is written either way unless the user says yes."""
    names = ", ".join(dep.overwritten)
    if not is_terminal(sys.stdin):
        raise UsageError(
            f"the deploy would replace hand edits to {names} in {dep.path}; nothing was changed",
            "run again with --yes to replace them (the backup keeps the hand edits), or in a "
            "terminal to see the diff and be asked",
        )
    say(dep.diff_text or f"{dep.path}: no changes", err=True, diff=True)
    say(f"note: this replaces hand edits to {names} (a backup is kept)", err=True)
    if not click.confirm("Deploy and replace them?", default=False, err=True):
        say("not confirmed: nothing was changed", err=True)
        sys.exit(1)


@click.command(
    "deploy-config",
    epilog=examples(
        "mcp-orch deploy-config --client cursor --dry-run",
        "mcp-orch deploy-config --client cursor",
        "mcp-orch deploy-config -c vscode --scope project --project-dir .",
    ),
)
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
@click.option("--force", is_flag=True, help="Write even when the client's file is read-only.")
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
    force: bool,
) -> None:
    """Verify and deploy an artifact into the client's config file (backed up, atomic).

    A read-only file is left alone unless --force is given."""
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
        force=force,
    )
    ctx.emit(result, lambda: deployment_text(result.deployment), diff=True)


@click.command(
    "get-config",
    epilog=examples(
        "mcp-orch get-config --client cursor",
        "mcp-orch get-config -c cursor --artifact-id 3f2a9c --json",
    ),
)
@client_profile
@click.option("--artifact-id", help="An artifact id (default: latest).")
@common
def get_config_cmd(ctx: Ctx, client: str, profile: str, artifact_id: str | None) -> None:
    """Show a published artifact (default: latest), verified."""
    from mcp_orch.facade.pinning import lock_text
    from mcp_orch.operations import releases

    result = releases.get_config(ctx.ws, client, profile, artifact_id=artifact_id)
    art = result.artifact

    def tools_text() -> str:
        if art.tools is None:
            return "tools: not pinned (publish with --pin-tools)"
        lines = ["tools:"]
        for name, pin in art.tools.items():
            manifest = pin.get("manifest") or {}
            count = len(manifest.get("tools") or [])
            digest = short_id(pin["digest"]) if pin.get("digest") else pin.get("status", "-")
            lines.append(f"  {name}: {digest}, {plural(count, 'tool')}")
        return "\n".join(lines)

    ctx.emit(
        result,
        lambda: (
            f"artifact {art.artifact_id} (signature ok, key {art.key_id})\n"
            f"  created {art.created}, parent {art.parent or '-'}\n  changelog: {art.changelog}\n"
            + json.dumps(result.payload, indent=2)
            + f"\n{lock_text(art.lock)}\n{tools_text()}"
            + _policy_text(art)
        ),
    )


def _policy_text(art: Any) -> str:
    """The policy the release was published under and its co-signers (empty without both)."""
    approvals = [a["key_id"] for a in art.approvals()]
    lines = [f"policy: {art.policy}"] if art.policy else []
    if approvals:
        lines.append(f"approvals: {len(approvals)} ({', '.join(approvals)})")
    return "".join("\n" + line for line in lines)


@click.command(
    "diff-config",
    epilog=examples(
        "mcp-orch diff-config --client cursor",
        "mcp-orch diff-config -c cursor --from 3f2a9c --to 8b1d04",
    ),
)
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
    ctx.emit(result, lambda: str(result.diff), diff=True)


@click.command(
    "drift",
    epilog=examples(
        "mcp-orch drift --client cursor", "mcp-orch drift -c cursor --tools --timeout 20"
    ),
)
@client_profile
@click.option("--path", type=click.Path(dir_okay=False), help="The deployed file (default: last).")
@click.option(
    "--tools",
    is_flag=True,
    help="Also probe each managed server and compare its tools with the release's pins.",
)
@click.option("--timeout", type=float, default=30.0, show_default=True, help="Seconds per server.")
@common
def drift_cmd(
    ctx: Ctx, client: str, profile: str, path: str | None, tools: bool, timeout: float
) -> None:
    """Managed entries edited, removed or added by hand since the last deploy, and with
    --tools every tool change since the release (exit 1 if any)."""
    from mcp_orch.operations import releases

    result = releases.drift(ctx.ws, client, profile, path=path, tools=tools, timeout=timeout)
    ctx.emit(result, lambda: str(result.report), diff=True)
    sys.exit(0 if result.ok else 1)


@click.command(
    "rollback",
    epilog=examples(
        "mcp-orch rollback --client cursor",
        "mcp-orch rollback -c cursor --deploy",
        "mcp-orch rollback -c cursor --artifact-id 3f2a9c --deploy --yes",
    ),
)
@client_profile
@click.option("--artifact-id", help="Roll back to this artifact (default: latest's parent).")
@click.option("--deploy", "do_deploy", is_flag=True, help="Also deploy it.")
@click.option("--path", type=click.Path(dir_okay=False), help="Deploy here (with --deploy).")
@click.option(
    "--yes", "-y", is_flag=True, help="Replace hand edits in the client's file without asking."
)
@common
def rollback_cmd(
    ctx: Ctx,
    client: str,
    profile: str,
    artifact_id: str | None,
    do_deploy: bool,
    path: str | None,
    yes: bool,
) -> None:
    """Point latest back at an earlier artifact (records a revert event); with --deploy also
    deploy it, asking first when that would replace hand edits in the client's file."""
    from mcp_orch.operations import releases

    if do_deploy and not yes:  # --yes: nothing to ask, so no dry run first
        preview = releases.rollback_preview(
            ctx.ws, client, profile, artifact_id=artifact_id, path=path
        )
        if preview.deployment.overwritten:
            confirm_replacing(preview.deployment)
        artifact_id = preview.artifact.artifact_id  # the one previewed, whatever moves since
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


@click.command(
    "restore",
    epilog=examples("mcp-orch restore --client cursor --list", "mcp-orch restore --client cursor"),
)
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
        ctx.emit(listed, lambda: table(["taken", "source", "backup"], rows, keep=(0, 2)))
        return
    result = releases.restore(ctx.ws, client, profile, backup=backup)
    chosen = result.restored
    ctx.emit(result, f"restored {chosen['source']} from {chosen['backup']}")


@click.group(
    "backups",
    epilog=examples(
        "mcp-orch backups list --client cursor",
        "mcp-orch backups prune --dry-run",
        "mcp-orch backups prune -c cursor --keep 5",
    ),
    cls=Group,
)
def backups_group() -> None:
    """The backups each deploy takes of a client file: list, prune."""


@backups_group.command(
    "list",
    epilog=examples("mcp-orch backups list -c cursor", "mcp-orch backups list -c cursor --json"),
)
@client_profile
@common
def backups_list_cmd(ctx: Ctx, client: str, profile: str) -> None:
    """A profile's backups, newest first (the same as restore --list)."""
    from mcp_orch.operations import releases

    listed = releases.list_backups(ctx.ws, client, profile)
    rows = [(b["taken"], b["source"], b["backup"]) for b in listed.backups]
    ctx.emit(listed, lambda: table(["taken", "source", "backup"], rows, keep=(0, 2)))


def _size(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return plural(n, "byte")


@backups_group.command(
    "prune",
    epilog=examples(
        "mcp-orch backups prune --dry-run",
        "mcp-orch backups prune -c cursor",
        "mcp-orch backups prune -c cursor -p work --keep 1",
    ),
)
@client_option(help="Only this client's profiles (default: every profile with backups).")
@click.option("--profile", "-p", help="Only this profile.", shell_complete=profile_ids)
@click.option(
    "--keep",
    type=int,
    help="Keep the newest N backups (default: each profile's keep_backups setting, 20 unless "
    "set with profile-settings --keep-backups).",
)
@click.option("--dry-run", is_flag=True, help="Say what would be removed; remove nothing.")
@common
def backups_prune_cmd(
    ctx: Ctx, client: str | None, profile: str | None, keep: int | None, dry_run: bool
) -> None:
    """Remove all but the newest backups of each profile, recorded in the audit log (the
    backup a deployment record names is always kept)."""
    from mcp_orch.operations import releases

    result = releases.prune_backups(ctx.ws, client, profile, keep=keep, dry_run=dry_run)

    def text() -> str:
        lines = []
        for p in result.profiles:
            where = f"{p['client']}/{p['profile']}"
            if not p["removed"]:
                kept = "every backup" if p["keep"] == 0 else f"the newest {p['keep']}"
                lines.append(
                    f"{where}: nothing to remove ({plural(p['kept'], 'backup')}, keeps {kept})"
                )
                continue
            verb = "would remove" if dry_run else "removed"
            lines.append(
                f"{where}: {verb} {plural(len(p['removed']), 'backup')} "
                f"({_size(p['bytes_freed'])}), {p['kept']} kept"
            )
            lines += [f"  {b['taken']}  {b['backup']}" for b in p["removed"]]
        if not result.profiles:
            lines.append("no backups to prune")
        total = f"{plural(result.removed, 'backup')}, {_size(result.bytes_freed)}"
        lines.append(
            f"dry run: would remove {total}; nothing was removed"
            if dry_run
            else f"removed {total} freed"
        )
        return "\n".join(lines)

    ctx.emit(result, text)


@click.command(
    "config-history",
    epilog=examples(
        "mcp-orch config-history --client cursor",
        "mcp-orch config-history -c cursor --limit 5 --json",
    ),
)
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


@click.command(
    "audit-log",
    epilog=examples(
        "mcp-orch audit-log --since 7d",
        "mcp-orch audit-log --action deploy --client cursor --limit 10",
    ),
)
@click.option("--since", help="7d, 30d, 12h or an ISO date.")
@click.option(
    "--action",
    help="publish, deploy, revert, restore, prune, key, import, register, sync, catalog-sync, "
    "catalog-source, push, pull, approve, secret-set, secret-rm.",
)
@client_option(help="Only this client.")
@click.option("--profile", "-p", help="Only this profile.", shell_complete=profile_ids)
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
    from mcp_orch.operations import audit  # the log only, not the release machinery

    result = audit.audit_log(
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
        lambda: table(
            ["seq", "time", "action", "profile", "artifact", "actor", "changelog"],
            rows,
            keep=(0, 1, 4),  # seq, time and artifact whole
        ),
    )


@click.command(
    "verify", epilog=examples("mcp-orch verify", "mcp-orch verify --full", "mcp-orch verify --json")
)
@click.option(
    "--full",
    is_flag=True,
    help="Re-read every audit event, not only those since the last verify.",
)
@common
def verify_cmd(ctx: Ctx, full: bool) -> None:
    """Check every stored artifact, signature and ref, and the audit chain (exit 1 on problems)."""
    from mcp_orch.operations import audit  # not releases: verify needs none of its machinery

    result = audit.verify(ctx.ws, full=full)
    ctx.emit(result, lambda: str(result.report))
    sys.exit(0 if result.ok else 1)


@click.command(
    "init-configs", epilog=examples("mcp-orch init-configs", "mcp-orch init-configs --json")
)
@common
def init_configs_cmd(ctx: Ctx) -> None:
    """Publish signed sample configs (time + fetch + memory) for a first look. Deploys nothing."""
    from mcp_orch.operations import releases

    result = releases.init_configs(ctx.ws)
    rows = [(a.client, a.profile, a.short_id, sorted(a.servers)) for a in result.published]
    ctx.emit(
        result, lambda: table(["client", "profile", "artifact", "servers"], rows, keep=(0, 1, 2))
    )

"""The ``mcp-orch`` command line (alias ``mcp-orchestration``), a thin layer over the library.

Every command takes ``--workspace`` (or ``$MCP_ORCH_HOME``), ``--client-root`` (or
``$MCP_ORCH_CLIENT_ROOT``) and ``--json``. Exit codes: 0 success, 1 a failed check (validation,
signature, drift, parse), 2 bad usage. Errors print one line and a hint, never a traceback
(set ``MCP_ORCH_DEBUG=1`` to see one).
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import click

from ._util import read_text_file
from .errors import MCPOrchError, UsageError

if TYPE_CHECKING:
    from .workspace import Profile, Workspace


# ---- output helpers ------------------------------------------------------------------------


class Ctx:
    def __init__(self, workspace: str | None, client_root: str | None, as_json: bool) -> None:
        self.workspace_path = workspace
        self.client_root = client_root
        self.as_json = as_json
        self._ws: Workspace | None = None

    @property
    def ws(self) -> Workspace:
        if self._ws is None:
            from .workspace import Workspace

            self._ws = Workspace(self.workspace_path, client_root=self.client_root)
        return self._ws

    def profile(self, client: str, profile: str) -> Profile:
        return self.ws.profile(client, profile)

    def emit(self, data: Any, text: str | Callable[[], str]) -> None:
        if self.as_json:
            click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
        else:
            click.echo(text() if callable(text) else text)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], max_width: int = 60) -> str:
    def cell(v: Any) -> str:
        if v is None:
            return ""
        if isinstance(v, list | tuple):
            v = ", ".join(str(x) for x in v)
        s = str(v).replace("\n", " ")
        return s if len(s) <= max_width else s[: max_width - 1] + "…"

    body = [[cell(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in body]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.upper().ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for r in body:
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    if not rows:
        lines.append("(none)")
    return "\n".join(lines)


def _pairs(values: Sequence[str], what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"{what} {item!r} is not KEY=VALUE", f"write {what} NAME=value")
        out[key] = value
    return out


def common(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add --workspace, --client-root and --json; turn library errors into clean exits."""

    @click.option(
        "--workspace",
        "workspace",
        envvar="MCP_ORCH_HOME",
        type=click.Path(file_okay=False),
        help="Workspace folder (default: $MCP_ORCH_HOME or the user data dir).",
    )
    @click.option(
        "--client-root",
        envvar="MCP_ORCH_CLIENT_ROOT",
        type=click.Path(file_okay=False),
        help="Folder that stands for your home when resolving client config paths.",
    )
    @click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
    @functools.wraps(func)
    def wrapper(workspace: str | None, client_root: str | None, as_json: bool, **kw: Any) -> Any:
        ctx = Ctx(workspace, client_root, as_json)
        try:
            return func(ctx, **kw)
        except MCPOrchError as exc:
            _fail(ctx, exc)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except OSError as exc:  # a path that cannot be read or written
            where = f": {exc.filename}" if exc.filename else ""
            _fail(
                ctx,
                MCPOrchError(
                    f"{exc.strerror or type(exc).__name__}{where}",
                    "check the path and its permissions; nothing else was changed",
                ),
            )
        except UnicodeDecodeError as exc:
            _fail(ctx, MCPOrchError(f"a file is not UTF-8 text ({exc.reason})", "save it as UTF-8"))
        except Exception as exc:
            if os.environ.get("MCP_ORCH_DEBUG"):
                raise
            internal = MCPOrchError(
                f"internal error: {type(exc).__name__}: {exc}",
                "run again with MCP_ORCH_DEBUG=1 for a traceback, and please report it",
            )
            _fail(ctx, internal)

    return wrapper


def _fail(ctx: Ctx, exc: MCPOrchError) -> None:
    if ctx.as_json:
        click.echo(json.dumps({"ok": False, **exc.to_dict()}, indent=2, default=str))
    else:
        click.echo(f"error: {exc.message}", err=True)
        report = getattr(exc, "report", None)
        if report is not None:
            click.echo(str(report), err=True)
        if exc.hint:
            click.echo(f"hint: {exc.hint}", err=True)
    sys.exit(exc.exit_code)


def client_profile(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option(
        "--profile", "-p", default="default", show_default=True, help="Profile id."
    )(func)
    return click.option("--client", "-c", required=True, help="Client id (see list-clients).")(func)


class Group(click.Group):
    """Commands in the order they were defined; heavy ones imported only when used."""

    lazy: ClassVar[dict[str, str]] = {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        import importlib.util

        extra = [
            name
            for name, target in self.lazy.items()
            if name not in self.commands and importlib.util.find_spec(target.split(":")[0])
        ]
        return [*self.commands, *extra]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in self.lazy:
            import importlib

            module, _, attr = self.lazy[name].partition(":")
            command = getattr(importlib.import_module(module), attr)
            self.add_command(command, name)
        return self.commands.get(name)


#: Commands that live in other modules (their imports, e.g. ``mcp``, stay off the fast path).
LAZY_COMMANDS = {
    "serve": "mcp_orch.server_cli:serve_cmd",
    "token": "mcp_orch.server_cli:token_group",
    "install-self": "mcp_orch.server_cli:install_self_cmd",
    "check": "mcp_orch.validation.cli:check_cmd",
    "probe": "mcp_orch.validation.cli:probe_cmd",
}


@click.group(
    cls=type("Cli", (Group,), {"lazy": LAZY_COMMANDS}),
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(package_name="mcp-orch", prog_name="mcp-orch")
def cli() -> None:
    """mcp-orch: MCP server configuration as signed releases.

    Discover servers in the catalog, add them to a draft per client profile, validate, publish
    signed artifacts, deploy them safely into each client's own config file, and keep a history
    and audit trail.
    """


# ---- catalog -------------------------------------------------------------------------------


@cli.command("list-clients")
@common
def list_clients_cmd(ctx: Ctx) -> None:
    """The supported MCP clients and where their config files are."""
    from .clients import config_path, list_clients

    rows = []
    data = []
    for spec in list_clients():
        path = str(config_path(spec, root=ctx.client_root))
        remote = ", ".join(sorted(spec.remote)) or "bridged (mcp-remote)"
        rows.append((spec.id, spec.name, spec.dialect, remote, path))
        data.append({**spec.to_dict(), "config_path": path})
    ctx.emit(data, lambda: table(["id", "name", "format", "remote", "config path"], rows, 80))


@cli.command("list-profiles")
@common
def list_profiles_cmd(ctx: Ctx) -> None:
    """Profiles in the workspace with their draft size, latest and deployed artifacts."""
    rows, data = [], []
    for p in ctx.ws.profiles():
        latest = ctx.ws.store.get_ref(p.client.id, p.id, "latest")
        deployed = ctx.ws.store.get_ref(p.client.id, p.id, "deployed")
        n = len(p.draft)
        rows.append((p.client.id, p.id, n, (latest or "")[:19], (deployed or "")[:19]))
        data.append(
            {
                "client": p.client.id,
                "profile": p.id,
                "draft_servers": n,
                "latest": latest,
                "deployed": deployed,
            }
        )
    ctx.emit(data, lambda: table(["client", "profile", "draft", "latest", "deployed"], rows))


@cli.command("list-servers")
@click.option("--transport", "-t", help="stdio, streamable-http, sse or remote.")
@click.option("--search", "-s", default="", help="Words to look for.")
@click.option("--tag", help="Only servers with this tag.")
@common
def list_servers_cmd(ctx: Ctx, transport: str | None, search: str, tag: str | None) -> None:
    """Servers in the catalog (bundled and your own)."""
    from .catalog import Registry

    view = Registry(workspace=ctx.ws).search(search, transport=transport, tag=tag)
    rows = [(s.id, s.title, ", ".join(s.transports), s.description) for s in view]
    ctx.emit(
        view.to_dict(),
        lambda: (
            table(["id", "title", "transports", "description"], rows) + f"\n{len(view)} server(s)"
        ),
    )


@cli.command("describe-server")
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
    from .catalog import Registry

    server = Registry(workspace=ctx.ws).find(server_id)
    data = server.to_dict()
    rendered = None
    if client:
        rendered = server.render(
            client,
            params=_pairs(param, "--param"),
            env=_pairs(env, "--env"),
            transport=transport,
        )
        data["rendered"] = {"client": client, "entry": rendered}

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
        if rendered is not None:
            lines.append(f"  entry for {client}:")
            lines.append("    " + json.dumps(rendered, indent=2).replace("\n", "\n    "))
        return "\n".join(lines)

    ctx.emit(data, text)


@cli.command("import-servers")
@click.argument("file", type=click.Path(dir_okay=False))
@common
def import_servers_cmd(ctx: Ctx, file: str) -> None:
    """Import official server.json documents (one, a list, or a registry API page)."""
    from .catalog import Registry

    view = Registry(workspace=ctx.ws).import_server_json(file)
    ctx.emit(
        view.to_dict(),
        lambda: f"imported {len(view)} server(s): {', '.join(view.ids())}",
    )


@cli.command("detect")
@click.option("--project-dir", type=click.Path(file_okay=False), help="Also look at this project.")
@click.option("--all", "show_all", is_flag=True, help="List every client, installed or not.")
@common
def detect_cmd(ctx: Ctx, project_dir: str | None, show_all: bool) -> None:
    """Which MCP clients are installed here, their config files and server counts."""
    rows = ctx.ws.detect(project_dir)
    shown = list(rows) if show_all else rows.installed()
    ctx.emit(
        shown,
        lambda: table(
            ["client", "name", "servers", "path"],
            [
                (
                    r["client"],
                    r["name"],
                    r["error"] or ("" if r["servers"] is None else r["servers"]),
                    r["path"],
                )
                for r in shown
            ],
            90,
        ),
    )


@cli.command("import")
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
    result = ctx.ws.import_client(
        client,
        profile=profile,
        scope=scope,
        path=path,
        project_dir=project_dir,
        keep_secrets=keep_secrets,
    )
    ctx.emit(result.to_dict(), lambda: str(result))


@cli.command("sync")
@click.option("--from", "source", required=True, help="CLIENT or CLIENT/PROFILE to copy from.")
@click.option("--to", "targets", required=True, help="Comma-separated client ids.")
@click.option("--deploy", "do_deploy", is_flag=True, help="Also deploy each target.")
@click.option("--changelog", "-m", default="", help="Changelog for the published artifacts.")
@common
def sync_cmd(ctx: Ctx, source: str, targets: str, do_deploy: bool, changelog: str) -> None:
    """One set of servers, rendered natively for several clients, published (and deployed)."""
    client, _, profile = source.partition("/")
    prof = ctx.profile(client, profile or "default")
    result = prof.sync_to(
        [t.strip() for t in targets.split(",") if t.strip()],
        deploy=do_deploy,
        changelog=changelog,
    )
    ctx.emit(result.to_dict(), lambda: str(result))


# ---- drafts --------------------------------------------------------------------------------


@cli.command("add-server")
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
    from .catalog import Registry

    prof = ctx.ws.profile(client, profile, target_os=target_os)
    server = Registry(workspace=ctx.ws).find(server_id)
    draft = server.add_to(
        prof,
        params=_pairs(param, "--param"),
        env=_pairs(env, "--env"),
        name=name,
        headers=_pairs(header, "--header"),
        transport=transport,
        replace=replace,
    )
    entry_name = name or server.id
    ctx.emit(
        {"added": entry_name, "entry": draft.servers[entry_name], "draft": draft.names},
        lambda: (
            f"added {entry_name} to the draft of {prof.ref} "
            f"({len(draft)} server(s): {', '.join(draft.names)})\n"
            + json.dumps(draft.servers[entry_name], indent=2)
        ),
    )


@cli.command("remove-server")
@click.argument("name")
@client_profile
@common
def remove_server_cmd(ctx: Ctx, name: str, client: str, profile: str) -> None:
    """Remove a server from a profile's draft."""
    prof = ctx.profile(client, profile)
    draft = prof.draft.remove(name)
    ctx.emit(
        {"removed": name, "draft": draft.names},
        f"removed {name} from the draft of {prof.ref} ({len(draft)} left)",
    )


@cli.command("show-draft")
@client_profile
@common
def show_draft_cmd(ctx: Ctx, client: str, profile: str) -> None:
    """Show a profile's draft and the payload it would publish."""
    prof = ctx.profile(client, profile)
    draft = prof.draft
    ctx.emit(draft.to_dict(), lambda: f"draft {prof.ref}\n" + json.dumps(draft.payload, indent=2))


@cli.command("validate-draft")
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
    report = _check(ctx, client, profile, file, list(select), list(ignore))
    ctx.emit(report.to_dict(), lambda: str(report))
    sys.exit(0 if report.ok else 1)


def _check(
    ctx: Ctx, client: str, profile: str, file: str | None, select: list[str], ignore: list[str]
) -> Any:
    if file:
        from pathlib import Path

        from .clients import get_client
        from .clients.dialects import read_config
        from .errors import NotFound
        from .validation import check_payload

        spec = get_client(client)
        try:
            text = read_text_file(Path(file))
        except FileNotFoundError:
            raise NotFound(f"no such file: {file}", "check the path") from None
        return check_payload(
            spec, read_config(spec, text, file), target=file, select=select, ignore=ignore
        )
    return ctx.profile(client, profile).draft.check(select=select or None, ignore=ignore or None)


# ---- release -------------------------------------------------------------------------------


@cli.command("publish-config")
@client_profile
@click.option("--file", "file", type=click.Path(dir_okay=False), help="Publish this file as is.")
@click.option("--changelog", "-m", default="", help="What changed and why.")
@common
def publish_config_cmd(
    ctx: Ctx, client: str, profile: str, file: str | None, changelog: str
) -> None:
    """Validate, sign and store the draft (or a file) as the profile's latest artifact."""
    if file:
        art = ctx.ws.publish_file(client, profile, file, changelog)
    else:
        art = ctx.profile(client, profile).draft.publish(changelog=changelog)
    ctx.emit(
        art.to_dict(),
        lambda: (
            f"published {art.artifact_id}\n  {art.client}/{art.profile}, "
            f"{len(art.servers)} server(s), signed by {art.key_id}\n  changelog: {art.changelog}"
        ),
    )


@cli.command("deploy-config")
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
    prof = ctx.profile(client, profile)
    dep = prof.artifact(artifact_id).deploy(
        path=path, dry_run=dry_run, adopt=adopt, scope=scope, project_dir=project_dir
    )

    def text() -> str:
        if dry_run:
            return (dep.diff_text or f"{dep.path}: no changes") + "\n(dry run: nothing written)"
        verb = "deployed" if dep.changed else "already up to date:"
        return (
            f"{verb} {dep.artifact_id[:19]} to {dep.path}\n  managed: {', '.join(dep.managed)}"
            + (f"\n  backup: {dep.backup}" if dep.backup else "")
            + (
                f"\n  note: replaced hand edits to {', '.join(dep.overwritten)} "
                "(the backup has them; `mcp-orch restore` puts them back)"
                if dep.overwritten and not dry_run
                else ""
            )
        )

    ctx.emit(dep.to_dict(), text)


@cli.command("get-config")
@client_profile
@click.option("--artifact-id", help="An artifact id (default: latest).")
@common
def get_config_cmd(ctx: Ctx, client: str, profile: str, artifact_id: str | None) -> None:
    """Show a published artifact (default: latest), verified."""
    art = ctx.profile(client, profile).artifact(artifact_id).verify()
    ctx.emit(
        art.to_dict(),
        lambda: (
            f"artifact {art.artifact_id} (signature ok, key {art.key_id})\n"
            f"  created {art.created}, parent {art.parent or '-'}\n  changelog: {art.changelog}\n"
            + json.dumps(art.payload, indent=2)
        ),
    )


@cli.command("diff-config")
@client_profile
@click.option("--path", type=click.Path(dir_okay=False), help="The client file to compare.")
@click.option("--from", "from_id", help="Compare two artifacts: the older one ...")
@click.option("--to", "to_id", help="... and the newer one (default: latest); alone: file vs it.")
@common
def diff_config_cmd(
    ctx: Ctx, client: str, profile: str, path: str | None, from_id: str | None, to_id: str | None
) -> None:
    """Compare the client's file with latest (or two artifacts): up-to-date/outdated/diverged."""
    from .diffs import diff

    prof = ctx.profile(client, profile)
    d = diff(prof.artifact(from_id), prof.artifact(to_id)) if from_id else prof.diff(path, to_id)
    ctx.emit(d.to_dict(), lambda: str(d))


@cli.command("drift")
@client_profile
@click.option("--path", type=click.Path(dir_okay=False), help="The deployed file (default: last).")
@common
def drift_cmd(ctx: Ctx, client: str, profile: str, path: str | None) -> None:
    """Managed entries edited, removed or added by hand since the last deploy (exit 1 if any)."""
    report = ctx.profile(client, profile).drift(path)
    ctx.emit(report.to_dict(), lambda: str(report))
    sys.exit(1 if report.drifted else 0)


@cli.command("rollback")
@client_profile
@click.option("--artifact-id", help="Roll back to this artifact (default: latest's parent).")
@click.option("--deploy", "do_deploy", is_flag=True, help="Also deploy it.")
@click.option("--path", type=click.Path(dir_okay=False), help="Deploy here (with --deploy).")
@common
def rollback_cmd(
    ctx: Ctx, client: str, profile: str, artifact_id: str | None, do_deploy: bool, path: str | None
) -> None:
    """Point latest back at an earlier artifact (records a revert event)."""
    art = ctx.profile(client, profile).rollback(artifact_id, deploy=do_deploy, path=path)
    ctx.emit(
        art.to_dict(),
        f"latest is now {art.artifact_id} ({art.changelog or 'no changelog'})"
        + (" and it is deployed" if do_deploy else ""),
    )


@cli.command("restore")
@client_profile
@click.option("--backup", help="The backup to restore (default: the newest).")
@click.option("--list", "list_only", is_flag=True, help="List the backups.")
@common
def restore_cmd(ctx: Ctx, client: str, profile: str, backup: str | None, list_only: bool) -> None:
    """Put a client file back as it was before a deploy."""
    prof = ctx.profile(client, profile)
    if list_only:
        items = prof.backups()
        ctx.emit(
            items,
            lambda: table(
                ["taken", "source", "backup"],
                [(b["taken"], b["source"], b["backup"]) for b in items],
                100,
            ),
        )
        return
    chosen = prof.restore(backup)
    ctx.emit(chosen, f"restored {chosen['source']} from {chosen['backup']}")


@cli.command("config-history")
@client_profile
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@common
def config_history_cmd(ctx: Ctx, client: str, profile: str, limit: int) -> None:
    """The artifacts of a profile, newest first."""
    prof = ctx.profile(client, profile)
    hist = prof.history(limit=limit)
    latest = ctx.ws.store.get_ref(client, profile, "latest")
    deployed = ctx.ws.store.get_ref(client, profile, "deployed")
    rows = [
        (
            a.artifact_id[:19],
            a.created[:19],
            ("latest " if a.artifact_id == latest else "")
            + ("deployed" if a.artifact_id == deployed else ""),
            len(a.servers),
            a.changelog,
        )
        for a in hist
    ]
    ctx.emit(
        hist.to_dict(), lambda: table(["artifact", "created", "refs", "servers", "changelog"], rows)
    )


@cli.command("audit-log")
@click.option("--since", help="7d, 30d, 12h or an ISO date.")
@click.option("--action", help="publish, deploy, revert, restore, key, import, register.")
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
    view = ctx.ws.audit.query(
        client=client,
        profile=profile,
        action=action,
        artifact=artifact_id,
        since=since,
        limit=limit,
    )
    rows = [
        (
            e["seq"],
            e["time"][:19],
            e["action"],
            f"{e['client']}/{e['profile']}".strip("/"),
            (e.get("artifact_id") or "")[:19],
            e.get("actor"),
            e.get("changelog"),
        )
        for e in view
    ]
    ctx.emit(
        list(view),
        lambda: table(["seq", "time", "action", "profile", "artifact", "actor", "changelog"], rows),
    )


@cli.command("verify")
@common
def verify_cmd(ctx: Ctx) -> None:
    """Check every stored artifact, signature and ref, and the audit chain (exit 1 on problems)."""
    result = ctx.ws.verify()

    def text() -> str:
        head = (
            f"{'ok' if result['ok'] else 'PROBLEMS'}: {result['artifacts']} artifact(s) verified, "
            f"{result['events']} audit event(s) chained"
        )
        return "\n".join([head, *("  " + p for p in result["problems"])])

    ctx.emit(result, text)
    sys.exit(0 if result["ok"] else 1)


@cli.group("keys", cls=Group)
def keys_group() -> None:
    """Signing keys: init, rotate, export-public, trust, list."""


@keys_group.command("init")
@common
def keys_init_cmd(ctx: Ctx) -> None:
    """Create the workspace's signing key (if it has none)."""
    kid, created = ctx.ws.keys.ensure()
    existed = not created
    ctx.emit(
        {"key_id": kid, "created": not existed},
        f"{'created' if not existed else 'already have'} signing key {kid}",
    )


@keys_group.command("rotate")
@common
def keys_rotate_cmd(ctx: Ctx) -> None:
    """Make a new signing key; old public keys stay so old artifacts still verify."""
    old, new = ctx.ws.keys.rotate()
    ctx.emit({"old": old, "key_id": new}, f"rotated: {old or '(none)'} -> {new}")


@keys_group.command("export-public")
@click.option("--key-id", help="Which key (default: the current one).")
@common
def keys_export_cmd(ctx: Ctx, key_id: str | None) -> None:
    """Print a public key (PEM) to share with teammates."""
    pem = ctx.ws.keys.export_public(key_id)
    kid = key_id or ctx.ws.keys.current_key_id()
    ctx.emit({"key_id": kid, "pem": pem}, pem.rstrip())


@keys_group.command("trust")
@click.argument("file", type=click.File("rb"))
@common
def keys_trust_cmd(ctx: Ctx, file: Any) -> None:
    """Trust a teammate's public key (PEM file, or - for stdin)."""
    from .errors import ParseError

    try:
        kid = ctx.ws.keys.trust(file.read())
    except ParseError as exc:
        raise ParseError(f"{file.name}: {exc.message}", exc.hint) from None
    ctx.emit({"trusted": kid}, f"trusted {kid}")


@keys_group.command("list")
@common
def keys_list_cmd(ctx: Ctx) -> None:
    """Own (current and retired) and trusted public keys."""
    rows = ctx.ws.keys.list()
    ctx.emit(rows, lambda: table(["key_id", "status"], [(r["key_id"], r["status"]) for r in rows]))


@cli.command("init-configs")
@common
def init_configs_cmd(ctx: Ctx) -> None:
    """Publish signed sample configs (time + fetch + memory) for a first look. Deploys nothing."""
    from .catalog import Registry

    reg = Registry(workspace=ctx.ws)
    samples = {
        "claude-desktop": ["time", "fetch", "memory"],
        "cursor": ["time", "sequential-thinking"],
        "claude-code": ["time", "deepwiki"],
    }
    out = []
    for client, ids in samples.items():
        prof = ctx.profile(client, "sample")
        for sid in ids:
            reg.find(sid).add_to(prof)
        art = prof.draft.validate().publish(changelog="sample config (mcp-orch init-configs)")
        out.append(
            {
                "client": client,
                "profile": "sample",
                "artifact_id": art.artifact_id,
                "servers": sorted(art.servers),
            }
        )
    ctx.emit(
        out,
        lambda: table(
            ["client", "profile", "artifact", "servers"],
            [(o["client"], o["profile"], o["artifact_id"][:19], o["servers"]) for o in out],
        ),
    )


def main(argv: list[str] | None = None) -> None:
    invoked = os.path.basename(sys.argv[0]) if sys.argv else ""
    prog = "mcp-orchestration" if invoked.startswith("mcp-orchestration") else "mcp-orch"
    cli.main(args=argv, prog_name=prog)


if __name__ == "__main__":
    main()

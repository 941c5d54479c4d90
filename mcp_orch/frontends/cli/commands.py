"""The catalog commands, loaded with the CLI: list-clients, list-profiles, list-servers,
describe-server, import-servers, detect, import, sync.

Each command: parse options, call one operation, print the result (``--json``: its document).
The other commands live in modules of their own that load only when they run
(``LAZY_COMMANDS``), and the operation modules are imported inside the commands, so each
command loads only what it uses.
"""

from __future__ import annotations

import json
from typing import Any

import click

from mcp_orch.core.ids import short_id
from mcp_orch.frontends.cli.base import Ctx, client_option, client_profile, common, examples, pairs
from mcp_orch.frontends.cli.complete import server_ids
from mcp_orch.frontends.render import plural, table, terminal_width

COMMANDS: list[click.Command] = []


def command(name: str, **kw: Any) -> Any:
    """``click.command(name, ...)``, collected into :data:`COMMANDS` in definition order."""

    def register(func: Any) -> click.Command:
        cmd = click.command(name, **kw)(func)
        COMMANDS.append(cmd)
        return cmd

    return register


# ---- catalog -------------------------------------------------------------------------------


@command("list-clients", epilog=examples("mcp-orch list-clients", "mcp-orch list-clients --json"))
@common
def list_clients_cmd(ctx: Ctx) -> None:
    """The supported MCP clients and where their config files are."""
    from mcp_orch.operations import catalog

    result = catalog.list_clients(ctx.client_root)
    rows = [
        (s.id, s.name, s.dialect, ", ".join(sorted(s.remote)) or "bridged (mcp-remote)", path)
        for s, path in result.clients
    ]
    ctx.emit(result, lambda: table(["id", "name", "format", "remote", "config path"], rows))


@command(
    "list-profiles", epilog=examples("mcp-orch list-profiles", "mcp-orch list-profiles --json")
)
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
    ctx.emit(
        result,
        lambda: table(
            ["client", "profile", "draft", "latest", "deployed"], rows, keep=(0, 1, 3, 4)
        ),
    )


@command(
    "list-servers",
    epilog=examples(
        "mcp-orch list-servers --search github",
        "mcp-orch list-servers --transport remote --tag docs",
        "mcp-orch list-servers --limit 20 --json",
    ),
)
@click.option("--transport", "-t", help="stdio, streamable-http, sse or remote.")
@click.option("--search", "-s", default="", help="Words to look for.")
@click.option("--tag", help="Only servers with this tag.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many (default: all).")
@click.option("--cursor", help="Start where the previous page ended (its next_cursor).")
@click.option(
    "--status",
    type=click.Choice(["active", "deprecated", "deleted", "any"]),
    default="active",
    show_default=True,
    help="Registry status to show: deprecated and deleted servers are hidden unless asked.",
)
@common
def list_servers_cmd(
    ctx: Ctx,
    transport: str | None,
    search: str,
    tag: str | None,
    limit: int | None,
    cursor: str | None,
    status: str,
) -> None:
    """Servers in the catalog (bundled and your own)."""
    from mcp_orch.operations import catalog

    result = catalog.list_servers(
        ctx.registry(),
        search=search,
        transport=transport,
        tag=tag,
        limit=limit,
        cursor=cursor,
        status=status,
    )
    rows = [
        (s.id, s.title, ", ".join(s.transports), _with_status(s.status, s.description))
        for s in result.page
    ]
    more = f" of {result.total} (next: --cursor {result.next_cursor})" if result.next_cursor else ""
    ctx.emit(
        result,
        lambda: (
            table(["id", "title", "transports", "description"], rows)
            + f"\n{plural(len(result.page), 'server')}{more}"
        ),
    )


def _with_status(status: str, text: str) -> str:
    return text if status == "active" else f"[{status}] {text}"


@command(
    "describe-server",
    epilog=examples(
        "mcp-orch describe-server github",
        "mcp-orch describe-server time --client cursor --param local_timezone=Europe/Paris",
    ),
)
@click.argument("server_id", shell_complete=server_ids)
@client_option(help="Also show the entry this client would get.")
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
        if server.oauth:
            lines.append("  sign-in:     OAuth, in the client (when no token header is given)")
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
                    width=terminal_width() - 4,  # indented under the server
                    keep=(0, 1),
                ).replace("\n", "\n    ")
            )
        if result.entry is not None:
            lines.append(f"  entry for {client}:")
            lines.append("    " + json.dumps(result.entry, indent=2).replace("\n", "\n    "))
        return "\n".join(lines)

    ctx.emit(result, text)


@command(
    "import-servers",
    epilog=examples(
        "mcp-orch import-servers server.json", "mcp-orch import-servers registry-page.json --json"
    ),
)
@click.argument("file", type=click.Path(dir_okay=False))
@common
def import_servers_cmd(ctx: Ctx, file: str) -> None:
    """Import official server.json documents (one, a list, or a registry API page)."""
    from mcp_orch.operations import catalog

    result = catalog.import_servers(ctx.ws, path=file)

    def text() -> str:
        doc = result.to_dict()
        counts = doc["counts"]
        ids = result.imported.ids()
        shown = ", ".join(ids[:20]) + (f" … {len(ids) - 20} more" if len(ids) > 20 else "")
        lines = [
            f"imported {plural(len(ids), 'server')}: {shown}" if ids else "imported no server",
            "  names: "
            + ", ".join(f"{counts[k]} {k}" for k in ("new", "updated", "unchanged", "older"))
            + f"; {plural(counts['rejected'], 'record')} rejected",
        ]
        lines += [f"skipped {r['name']}: {r['reason']}" for r in doc["skipped"]]
        rejected = doc["rejected"]
        lines += [
            f"rejected record {r['record']}: {r['reason']} (hint: {r['hint']})"
            for r in rejected[:20]
        ]
        if len(rejected) > 20:
            lines.append(f"… {len(rejected) - 20} more rejected records (--json lists them all)")
        return "\n".join(lines)

    ctx.emit(result, text)


@command("detect", epilog=examples("mcp-orch detect", "mcp-orch detect --all --project-dir ."))
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
    ctx.emit(result, lambda: table(["client", "name", "servers", "path"], rows))


@command(
    "import",
    epilog=examples(
        "mcp-orch import --client cursor",
        "mcp-orch import --client vscode --scope project --project-dir .",
    ),
)
@client_profile
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


@command(
    "sync",
    epilog=examples(
        "mcp-orch sync --from claude-desktop --to cursor,vscode",
        "mcp-orch sync --from cursor/work --to codex --deploy -m 'same servers'",
    ),
)
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

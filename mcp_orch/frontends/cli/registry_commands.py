"""``mcp-orch registry``: sync the workspace catalog with the official registry. Loaded when
it runs."""

from __future__ import annotations

import click

from mcp_orch.frontends.cli.base import Ctx, Group, common, examples

__all__ = ["registry_group"]


@click.group(
    "registry",
    epilog=examples("mcp-orch registry sync", "mcp-orch registry source list"),
    cls=Group,
)
def registry_group() -> None:
    """The official MCP Registry: sync the catalog with its API."""


@registry_group.command(
    "sync",
    epilog=examples(
        "mcp-orch registry sync",
        "mcp-orch registry sync --since 2026-11-01T00:00:00Z",
        "mcp-orch registry sync --source corp",
    ),
)
@click.option(
    "--url",
    default=None,
    help="The registry's base URL (default: https://registry.modelcontextprotocol.io).",
)
@click.option(
    "--since",
    default=None,
    help="Only records updated after this RFC 3339 time (default: since the last sync).",
)
@click.option(
    "--source",
    default=None,
    help="Sync this registry source (see 'registry source add') into its own layer.",
)
@common
def registry_sync_cmd(ctx: Ctx, url: str | None, since: str | None, source: str | None) -> None:
    """Sync the catalog with the registry API: incremental, resumable, with a snapshot."""
    from mcp_orch.operations import registry_sync

    result = registry_sync.sync_registry(ctx.ws, url=url, since=since, source=source)
    ctx.emit(result, lambda: str(result))


@registry_group.group(
    "source",
    epilog=examples(
        "mcp-orch registry source list",
        "mcp-orch registry source add corp --url https://registry.example.com --priority 80",
    ),
    cls=Group,
)
def source_group() -> None:
    """Catalog sources with a priority: a company sub-registry, local files, the official
    registry. Where two hold the same server name, the higher priority wins."""


def _sources_text(rows: list[dict[str, object]]) -> str:
    from mcp_orch.frontends.render import table

    return table(
        ["name", "kind", "priority", "servers", "shown", "invalid", "location"],
        [
            (
                r["name"],
                r["kind"],
                "-" if r["priority"] is None else r["priority"],
                r["servers"],
                r["shown"],
                r["invalid"],
                r["location"],
            )
            for r in rows
        ],
    )


@source_group.command(
    "list", epilog=examples("mcp-orch registry source list", "mcp-orch registry source list --json")
)
@common
def source_list_cmd(ctx: Ctx) -> None:
    """The catalog's layers by priority: bundled, your workspace catalog, each source."""
    from mcp_orch.operations import registry_sync

    result = registry_sync.list_sources(ctx.ws)
    ctx.emit(result, lambda: _sources_text(result.rows))


@source_group.command(
    "add",
    epilog=examples(
        "mcp-orch registry source add corp --url https://registry.example.com",
        "mcp-orch registry source add mine --path ./servers --priority 90",
    ),
)
@click.argument("name")
@click.option("--url", default=None, help="A registry API's base URL (synced with --source).")
@click.option("--path", default=None, help="A folder or file of server.json documents.")
@click.option(
    "--priority",
    type=int,
    default=None,
    help="Higher wins a server name (default 50; your workspace catalog is 100).",
)
@click.option("--replace", is_flag=True, help="Replace a source of the same name.")
@common
def source_add_cmd(
    ctx: Ctx,
    name: str,
    url: str | None,
    path: str | None,
    priority: int | None,
    replace: bool,
) -> None:
    """Add a catalog source: a registry URL (then 'registry sync --source NAME') or files."""
    from mcp_orch.operations import registry_sync

    result = registry_sync.add_source(
        ctx.ws, name, url=url, path=path, priority=priority, replace=replace
    )
    ctx.emit(result, lambda: f"added source {name}\n" + _sources_text(result.rows))


@source_group.command("remove", epilog=examples("mcp-orch registry source remove corp"))
@click.argument("name")
@common
def source_remove_cmd(ctx: Ctx, name: str) -> None:
    """Remove a catalog source (a registry source's synced records go with it)."""
    from mcp_orch.operations import registry_sync

    result = registry_sync.remove_source(ctx.ws, name)
    ctx.emit(result, lambda: f"removed source {name}\n" + _sources_text(result.rows))

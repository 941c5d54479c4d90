"""``mcp-orch registry``: sync the workspace catalog with the official registry. Loaded when
it runs."""

from __future__ import annotations

import click

from mcp_orch.frontends.cli.base import Ctx, Group, common

__all__ = ["registry_group"]


@click.group("registry", cls=Group)
def registry_group() -> None:
    """The official MCP Registry: sync the catalog with its API."""


@registry_group.command("sync")
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
@common
def registry_sync_cmd(ctx: Ctx, url: str | None, since: str | None) -> None:
    """Sync the catalog with the registry API: incremental, resumable, with a snapshot."""
    from mcp_orch.operations import registry_sync

    result = registry_sync.sync_registry(ctx.ws, url=url, since=since)
    ctx.emit(result, lambda: str(result))

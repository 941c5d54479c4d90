"""``mcp-orch keys``: init, rotate, export-public, trust, revoke, list. Loaded when it runs."""

from __future__ import annotations

from typing import Any

import click

from mcp_orch.frontends.cli.base import Ctx, Group, common, examples
from mcp_orch.frontends.render import table

# ---- keys ----------------------------------------------------------------------------------


@click.group(
    "keys",
    epilog=examples(
        "mcp-orch keys list",
        "mcp-orch keys export-public > me.pem",
        "mcp-orch keys trust teammate.pem",
    ),
    cls=Group,
)
def keys_group() -> None:
    """Signing keys: init, rotate, export-public, trust, revoke, list."""


@keys_group.command("init", epilog=examples("mcp-orch keys init"))
@common
def keys_init_cmd(ctx: Ctx) -> None:
    """Create the workspace's signing key (if it has none)."""
    from mcp_orch.operations import keys

    result = keys.init_key(ctx.ws)
    ctx.emit(
        result, f"{'created' if result.created else 'already have'} signing key {result.key_id}"
    )


@keys_group.command("rotate", epilog=examples("mcp-orch keys rotate"))
@common
def keys_rotate_cmd(ctx: Ctx) -> None:
    """Make a new signing key; old public keys stay so old artifacts still verify."""
    from mcp_orch.operations import keys

    result = keys.rotate_key(ctx.ws)
    ctx.emit(result, f"rotated: {result.old or '(none)'} -> {result.key_id}")


@keys_group.command(
    "export-public",
    epilog=examples(
        "mcp-orch keys export-public > me.pem",
        "mcp-orch keys export-public --key-id ed25519:637ec404",
    ),
)
@click.option("--key-id", help="Which key (default: the current one).")
@common
def keys_export_cmd(ctx: Ctx, key_id: str | None) -> None:
    """Print a public key (PEM) to share with teammates."""
    from mcp_orch.operations import keys

    result = keys.export_public(ctx.ws, key_id)
    ctx.emit(result, result.pem.rstrip())


@keys_group.command(
    "trust",
    epilog=examples(
        "mcp-orch keys trust teammate.pem",
        "curl -s https://example.com/team.pem | mcp-orch keys trust -",
    ),
)
@click.argument("file", type=click.File("rb"))
@common
def keys_trust_cmd(ctx: Ctx, file: Any) -> None:
    """Trust a teammate's public key (PEM file, or - for stdin)."""
    from mcp_orch.operations import keys

    result = keys.trust_key(ctx.ws, file.read(), source=file.name)
    ctx.emit(result, f"trusted {result.key_id}")


@keys_group.command("revoke", epilog=examples("mcp-orch keys revoke ed25519:637ec404"))
@click.argument("key_id")
@common
def keys_revoke_cmd(ctx: Ctx, key_id: str) -> None:
    """Revoke a trusted or retired key: artifacts it signed are refused from then on."""
    from mcp_orch.operations import keys

    result = keys.revoke_key(ctx.ws, key_id)
    if result.was == "revoked":
        ctx.emit(result, f"already revoked {result.key_id}")
    else:
        ctx.emit(result, f"revoked {result.key_id} (was {result.was})")


@keys_group.command("list", epilog=examples("mcp-orch keys list", "mcp-orch keys list --json"))
@common
def keys_list_cmd(ctx: Ctx) -> None:
    """Own (current and retired), trusted and revoked public keys."""
    from mcp_orch.operations import keys

    result = keys.list_keys(ctx.ws)
    if any("damaged" in r for r in result.keys):
        rows = [(r["key_id"], r["status"], r.get("damaged", "")) for r in result.keys]
        ctx.emit(result, lambda: table(["key_id", "status", "damaged"], rows))
    else:
        plain = [(r["key_id"], r["status"]) for r in result.keys]
        ctx.emit(result, lambda: table(["key_id", "status"], plain))

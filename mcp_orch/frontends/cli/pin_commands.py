"""The pin commands: profile-settings, outdated, upgrade. Loaded when one of them runs."""

from __future__ import annotations

import sys

import click

from mcp_orch.frontends.cli.base import Ctx, client_profile, common, examples
from mcp_orch.frontends.cli.complete import draft_names


@click.command(
    "profile-settings",
    epilog=examples(
        "mcp-orch profile-settings --client cursor",
        "mcp-orch profile-settings -c cursor --pin minor --pin-tools",
        "mcp-orch profile-settings -c cursor --keep-backups 5",
        "mcp-orch profile-settings -c claude-desktop --secrets launcher",
    ),
)
@client_profile
@click.option(
    "--pin",
    type=click.Choice(["exact", "minor", "floating"]),
    help="How add-server and upgrade write versions: pkg@1.2.3, pkg@~1.2.3 or the bare name.",
)
@click.option(
    "--pin-tools/--no-pin-tools",
    default=None,
    help="Whether every publish probes the servers and pins their tool manifests.",
)
@click.option(
    "--keep-backups",
    type=int,
    help="How many backups of the client's files each deploy keeps (the newest; default 20, "
    "0 keeps every backup).",
)
@click.option(
    "--secrets",
    type=click.Choice(["auto", "launcher", "inline"]),
    help="How deploy writes secrets for clients that cannot expand variables: launcher "
    "(entries run `mcp-orch exec`, values from `mcp-orch secret set`), inline (values in the "
    "file), auto (the launcher for secrets in the store; the default).",
)
@common
def profile_settings_cmd(
    ctx: Ctx,
    client: str,
    profile: str,
    pin: str | None,
    pin_tools: bool | None,
    keep_backups: int | None,
    secrets: str | None,
) -> None:
    """Show a profile's settings (pin, pin_tools, keep_backups, secrets), or change them."""
    from mcp_orch.operations import pins

    result = pins.settings(
        ctx.ws,
        client,
        profile,
        pin=pin,
        pin_tools=pin_tools,
        keep_backups=keep_backups,
        secrets=secrets,
    )
    values = result.values
    ctx.emit(
        result,
        lambda: (
            f"{result.client}/{result.profile}: pin = {values['pin']}, "
            f"pin_tools = {str(values['pin_tools']).lower()}, "
            f"keep_backups = {values['keep_backups']}, secrets = {values['secrets']}"
        ),
    )


@click.command(
    "outdated",
    epilog=examples(
        "mcp-orch outdated --client cursor", "mcp-orch outdated github -c cursor --json"
    ),
)
@click.argument("servers", nargs=-1)
@client_profile
@click.option(
    "--timeout", type=float, default=20.0, show_default=True, help="Seconds per registry."
)
@common
def outdated_cmd(
    ctx: Ctx, servers: tuple[str, ...], client: str, profile: str, timeout: float
) -> None:
    """Managed servers whose registry has a newer version (and whether the catalog's entry
    changed); exit 1 if any is outdated."""
    from mcp_orch.operations import pins

    result = pins.outdated(ctx.ws, client, profile, list(servers), timeout=timeout)
    ctx.emit(result, lambda: str(result.report))
    sys.exit(0 if result.ok else 1)


@click.command(
    "upgrade",
    epilog=examples(
        "mcp-orch upgrade --client cursor", "mcp-orch upgrade github -c cursor --to 1.2.0"
    ),
)
@click.argument("server", required=False, shell_complete=draft_names)
@client_profile
@click.option("--to", "to", help="This version (for the one SERVER named).")
@click.option(
    "--timeout", type=float, default=20.0, show_default=True, help="Seconds per registry."
)
@common
def upgrade_cmd(
    ctx: Ctx, server: str | None, client: str, profile: str, to: str | None, timeout: float
) -> None:
    """Put the newer pins of SERVER (default: every outdated one) into the draft; validate and
    publish it to release them."""
    from mcp_orch.operations import pins

    result = pins.upgrade(ctx.ws, client, profile, server, to=to, timeout=timeout)
    ctx.emit(result, lambda: str(result.report))

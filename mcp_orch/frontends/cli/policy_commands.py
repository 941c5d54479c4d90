"""``mcp-orch approve`` (co-sign a release) and ``mcp-orch policy show``. Loaded when it runs.

mcp-orch approve 3f2a9c                         # this workspace's key co-signs the release
mcp-orch approve 3f2a9c --client cursor         # an artifact of that profile
mcp-orch policy show                            # the workspace policy, its digest, its rules
mcp-orch policy show --file team-policy.toml
"""

from __future__ import annotations

import click

from mcp_orch.frontends.cli.base import Ctx, Group, client_option, common, examples


@click.command(
    "approve",
    epilog=examples(
        "mcp-orch approve 3f2a9c",
        "mcp-orch approve sha256:3f2a9c... --client cursor --profile default",
    ),
)
@click.argument("artifact")
@client_option(help="The artifact's client (optional: the id alone finds it).")
@click.option("--profile", "-p", default=None, help="The artifact's profile (with --client).")
@common
def approve_cmd(ctx: Ctx, artifact: str, client: str | None, profile: str | None) -> None:
    """Co-sign ARTIFACT (a full id or a unique prefix) with this workspace's key, after
    verifying it; deploy counts the distinct trusted signers the policy requires."""
    from mcp_orch.operations import policy

    result = policy.approve(ctx.ws, artifact, client=client, profile=profile)
    ctx.emit(result, result.text())


@click.group(
    "policy",
    epilog=examples(
        "mcp-orch policy show",
        "mcp-orch policy show --file team-policy.toml --json",
        "mcp-orch check ~/.cursor/mcp.json --policy",
    ),
    cls=Group,
)
def policy_group() -> None:
    """The policy gate of publish and deploy (policy.toml in the workspace)."""


@policy_group.command("show", epilog=examples("mcp-orch policy show"))
@click.option(
    "--file",
    "path",
    type=click.Path(dir_okay=False),
    help="A policy file (default: the workspace's).",
)
@common
def policy_show_cmd(ctx: Ctx, path: str | None) -> None:
    """Print the active policy: its file, its digest and the rules it turns on."""
    from mcp_orch.operations import policy

    result = policy.show(ctx.ws, path)
    ctx.emit(result, result.text())

"""The draft commands: add-server, remove-server, show-draft, validate-draft.

Loaded when one of them runs (``LAZY_COMMANDS``): each command module is small, so a command
loads only its own definitions."""

from __future__ import annotations

import json
import sys

import click

from mcp_orch.frontends.cli.base import Ctx, client_profile, common, pairs

# ---- drafts --------------------------------------------------------------------------------


@click.command("add-server")
@click.argument("server_id")
@client_profile
@click.option("--param", multiple=True, help="KEY=VALUE for an argument or URL variable.")
@click.option("--env", "env", multiple=True, help="KEY=VALUE; secrets as KEY='${env:NAME}'.")
@click.option("--header", multiple=True, help="NAME=VALUE for a remote server's header.")
@click.option("--name", help="Name of the entry in the client's config (default: the id).")
@click.option("--transport", help="stdio, remote, streamable-http or sse.")
@click.option("--replace", is_flag=True, help="Replace an entry with the same name.")
@click.option(
    "--version",
    "version",
    help="Run this version of the package (default: the catalog's), pinned as the profile's "
    "pin setting says.",
)
@click.option(
    "--target-os",
    type=click.Choice(["linux", "macos", "windows"]),
    help="Render for this OS (default: this machine's), e.g. cmd /c wrapping on Windows.",
)
@click.option(
    "--package",
    help="Which package to run when the server has several: its registry type (npm, pypi, "
    "oci), identifier or number (from 1).",
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
    version: str | None,
    package: str | None,
) -> None:
    """Add a catalog server to a profile's draft (its package pinned: see profile-settings)."""
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
        version=version,
        package=package,
    )
    draft = result.draft
    for note in result.warnings:
        ctx.warn(note)
    ctx.emit(
        result,
        lambda: (
            f"added {result.name} to the draft of {draft.profile.ref} "
            f"({len(draft)} server(s): {', '.join(draft.names)})\n"
            + json.dumps(result.entry, indent=2)
        ),
    )


@click.command("remove-server")
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


@click.command("show-draft")
@client_profile
@common
def show_draft_cmd(ctx: Ctx, client: str, profile: str) -> None:
    """Show a profile's draft and the payload it would publish."""
    from mcp_orch.operations import drafts

    result = drafts.show_draft(ctx.ws, client, profile)
    draft = result.draft
    ctx.emit(result, lambda: f"draft {draft.profile.ref}\n" + json.dumps(result.payload, indent=2))


@click.command("validate-draft")
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

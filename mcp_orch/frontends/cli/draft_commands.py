"""The draft commands: add-server, get-server, remove-server, show-draft, validate-draft.

Loaded when one of them runs (``LAZY_COMMANDS``): each command module is small, so a command
loads only its own definitions."""

from __future__ import annotations

import json
import sys

import click

from mcp_orch.domain.secrets import mask_secrets
from mcp_orch.frontends.cli.base import Ctx, client_profile, common, examples, pairs
from mcp_orch.frontends.cli.complete import draft_names, server_ids
from mcp_orch.frontends.render import plural

# ---- drafts --------------------------------------------------------------------------------


@click.command(
    "add-server",
    epilog=examples(
        "mcp-orch add-server time --client cursor",
        "mcp-orch add-server github -c cursor --env GITHUB_PERSONAL_ACCESS_TOKEN='${env:GITHUB_TOKEN}'",
        "mcp-orch add-server my-tool -c cursor --env API_KEY='${env:MY_KEY}' -- node ./server.js --port 3000",
        "mcp-orch add-server docs -c cursor --url https://mcp.example.com/mcp --header 'Authorization=Bearer ${env:DOCS_TOKEN}'",
    ),
)
@click.argument("server_id", metavar="SERVER_ID|NAME", shell_complete=server_ids)
@click.argument("command_line", nargs=-1, type=click.UNPROCESSED, metavar="[-- COMMAND ARGS...]")
@client_profile
@click.option("--param", multiple=True, help="KEY=VALUE for an argument or URL variable.")
@click.option("--env", "env", multiple=True, help="KEY=VALUE; secrets as KEY='${env:NAME}'.")
@click.option("--header", multiple=True, help="NAME=VALUE for a remote server's header.")
@click.option(
    "--url",
    help="A remote server that is not in the catalog: its URL (NAME is the entry's name).",
)
@click.option("--name", help="Name of the entry in the client's config (default: the id).")
@click.option(
    "--transport",
    help="stdio, remote, streamable-http or sse (with --url: streamable-http or sse).",
)
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
    command_line: tuple[str, ...],
    client: str,
    profile: str,
    param: tuple[str, ...],
    env: tuple[str, ...],
    header: tuple[str, ...],
    url: str | None,
    name: str | None,
    transport: str | None,
    replace: bool,
    target_os: str | None,
    version: str | None,
    package: str | None,
) -> None:
    """Add a catalog server to a profile's draft (its package pinned: see profile-settings),
    or one that is not in the catalog: NAME -- COMMAND ARGS... runs a local command, NAME
    --url URL a remote server."""
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
        command=command_line[0] if command_line else None,
        args=list(command_line[1:]),
        url=url,
    )
    draft = result.draft
    for note in result.warnings:
        ctx.warn(note)
    ctx.emit(
        result,
        lambda: (
            f"added {result.name} to the draft of {draft.profile.ref} "
            f"({plural(len(draft), 'server')}: {', '.join(draft.names)})\n"
            + json.dumps(mask_secrets(result.entry), indent=2)
        ),
    )


@click.command(
    "get-server",
    epilog=examples(
        "mcp-orch get-server time --client cursor",
        "mcp-orch get-server github -c cursor -p work --json",
    ),
)
@click.argument("name", shell_complete=draft_names)
@client_profile
@common
def get_server_cmd(ctx: Ctx, name: str, client: str, profile: str) -> None:
    """One entry of a profile's draft: where it came from, its inputs (secrets as references)
    and the entry as the client will get it."""
    from mcp_orch.operations import drafts

    result = drafts.get_server(ctx.ws, client, profile, name)

    def text() -> str:
        details = result.details
        origin = details.get("origin") or "-"
        lines = [f"{name} in the draft of {result.draft.profile.ref}"]
        if details.get("catalog_id"):
            version = details.get("version") or details.get("catalog_version") or "-"
            came = "" if origin == "catalog" else f" ({origin})"
            lines.append(f"  catalog:   {details['catalog_id']} v{version}{came}")
        else:
            lines.append(f"  origin:    {origin} (not from the catalog)")
        for key in ("transport", "pin", "package"):
            if details.get(key):
                lines.append(f"  {key + ':':<10} {details[key]}")
        for key, label in (("params", "param:"), ("env", "env:"), ("headers", "header:")):
            for k, v in (details.get(key) or {}).items():
                lines.append(f"  {label:<10} {k}={v}")
        lines.append(f"  entry for {result.draft.client.id}:")
        lines.append("    " + json.dumps(result.payload, indent=2).replace("\n", "\n    "))
        return "\n".join(lines)

    ctx.emit(result, text)


@click.command(
    "remove-server",
    epilog=examples(
        "mcp-orch remove-server time --client cursor",
        "mcp-orch remove-server github -c cursor -p work",
    ),
)
@click.argument("name", shell_complete=draft_names)
@client_profile
@common
def remove_server_cmd(ctx: Ctx, name: str, client: str, profile: str) -> None:
    """Remove a server from a profile's draft."""
    from mcp_orch.operations import drafts

    result = drafts.remove_server(ctx.ws, client, profile, name)
    ctx.emit(
        result,
        f"removed {name} from the draft of {result.draft.profile.ref} "
        f"({plural(len(result.draft), 'server')} left)",
    )


@click.command(
    "show-draft",
    epilog=examples(
        "mcp-orch show-draft --client cursor", "mcp-orch show-draft -c vscode -p work --json"
    ),
)
@client_profile
@common
def show_draft_cmd(ctx: Ctx, client: str, profile: str) -> None:
    """Show a profile's draft and the payload it would publish."""
    from mcp_orch.operations import drafts

    result = drafts.show_draft(ctx.ws, client, profile)
    draft = result.draft
    ctx.emit(result, lambda: f"draft {draft.profile.ref}\n" + json.dumps(result.payload, indent=2))


@click.command(
    "validate-draft",
    epilog=examples(
        "mcp-orch validate-draft --client cursor",
        "mcp-orch validate-draft -c cursor --file ~/.cursor/mcp.json --ignore MCP006",
    ),
)
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

"""``mcp-orch remote add|list|remove``, ``push`` and ``pull``: the shared store on an OCI
registry. Loaded when it runs (oras and requests stay off the fast path)."""

from __future__ import annotations

import sys
from typing import Any

import click

from mcp_orch.frontends.cli.base import Ctx, Group, client_option, common, examples
from mcp_orch.frontends.render import table


@click.group(
    "remote",
    epilog=examples(
        "mcp-orch remote add origin oci://ghcr.io/acme/mcp --username ci --password-stdin",
        "mcp-orch remote list",
        "mcp-orch remote remove origin",
    ),
    cls=Group,
)
def remote_group() -> None:
    """OCI registries this workspace pushes releases to and pulls them from."""


@remote_group.command(
    "add",
    epilog=examples(
        "mcp-orch remote add origin oci://127.0.0.1:5000/team/mcp",
        'echo "$TOKEN" | mcp-orch remote add origin oci://ghcr.io/acme/mcp '
        "--username ci --password-stdin",
    ),
)
@click.argument("name")
@click.argument("url")
@click.option("--username", help="Registry user; the password is read from standard input.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input (never an argument); stored like docker login.",
)
@click.option("--default", "default", is_flag=True, help="Make it the default remote.")
@click.option(
    "--insecure",
    is_flag=True,
    help="Plain HTTP to a non-loopback registry (loopback hosts always use plain HTTP).",
)
@click.option("--machine", help="The name this workspace anchors its audit log under.")
@common
def remote_add_cmd(
    ctx: Ctx,
    name: str,
    url: str,
    username: str | None,
    password_stdin: bool,
    default: bool,
    insecure: bool,
    machine: str | None,
) -> None:
    """Add an OCI remote (oci://HOST[:PORT]/REPOSITORY)."""
    from mcp_orch.core.errors import UsageError
    from mcp_orch.operations import remote

    if password_stdin and username is None:
        raise UsageError("--password-stdin needs --username", "give the registry user too")
    if username is not None and not password_stdin:
        raise UsageError(
            "--username needs --password-stdin (a password is never an argument)",
            'pipe the password in: echo "$TOKEN" | mcp-orch remote add ... --password-stdin',
        )
    password = sys.stdin.read().rstrip("\r\n") if password_stdin else None
    result = remote.remote_add(
        ctx.ws,
        name,
        url,
        insecure=insecure,
        default=default,
        username=username,
        password=password,
        machine=machine,
    )
    ctx.emit(
        result,
        f"added remote {result.name} {result.url}" + (" (default)" if result.default else ""),
    )


@remote_group.command(
    "list", epilog=examples("mcp-orch remote list", "mcp-orch remote list --json")
)
@common
def remote_list_cmd(ctx: Ctx) -> None:
    """The remotes of this workspace."""
    from mcp_orch.operations import remote

    result = remote.remote_list(ctx.ws)
    rows = [(r.name, r.url, "yes" if r.default else "", r.credentials) for r in result.remotes]
    ctx.emit(
        result,
        lambda: (
            table(["name", "url", "default", "credentials"], rows) + f"\nmachine: {result.machine}"
        ),
    )


@remote_group.command("remove", epilog=examples("mcp-orch remote remove origin"))
@click.argument("name")
@common
def remote_remove_cmd(ctx: Ctx, name: str) -> None:
    """Forget a remote (the registry and stored credentials are left as they are)."""
    from mcp_orch.operations import remote

    result = remote.remote_remove(ctx.ws, name)
    ctx.emit(result, f"removed remote {result.name}")


def _summary(result: Any) -> str:
    lines = []
    for p in result.profiles:
        what = f"{p.client}/{p.profile}: {p.status}"
        if p.releases:
            what += f" ({len(p.releases)} release(s))"
        if p.approvals:
            what += f", {p.approvals} approval(s)"
        lines.append(what)
        lines += [f"  note: {n}" for n in p.notes]
    if result.policy is not None:
        lines.append(
            f"policy {result.policy['digest'][:19]}…: {result.policy['status']} "
            f"(signed by {result.policy['key_id']})"
        )
    lines += [f"note: {n}" for n in result.notes]
    if result.anchor is not None:
        lines.append(f"anchor {result.anchor.machine}: event {result.anchor.seq}")
    lines.append(f"{result.requests} requests, {result.bytes_received + result.bytes_sent} bytes")
    return "\n".join(lines)


@click.command(
    "push",
    epilog=examples(
        "mcp-orch push",
        "mcp-orch push --remote origin --client cursor --profile default",
        "mcp-orch push --policy",
    ),
)
@click.option("--remote", "-r", help="Remote name (default: the default remote).")
@client_option()
@click.option("--profile", "-p", help="Profile id (with --client).")
@click.option(
    "--policy",
    "share_policy",
    is_flag=True,
    help="Share this workspace's policy.toml (signed) instead of pushing releases; pull "
    "installs it on machines that trust your key.",
)
@common
def push_cmd(
    ctx: Ctx, remote: str | None, client: str | None, profile: str | None, share_policy: bool
) -> None:
    """Push releases to a remote, fast-forward only, and anchor the audit log there."""
    from mcp_orch.operations import remote as ops

    result = ops.push(ctx.ws, remote, client, profile, policy=share_policy)
    ctx.emit(result, lambda: _summary(result))


@click.command(
    "pull",
    epilog=examples(
        "mcp-orch pull",
        "mcp-orch pull --remote origin --client cursor --profile default",
    ),
)
@click.option("--remote", "-r", help="Remote name (default: the default remote).")
@client_option()
@click.option("--profile", "-p", help="Profile id (with --client).")
@common
def pull_cmd(ctx: Ctx, remote: str | None, client: str | None, profile: str | None) -> None:
    """Pull releases from a remote, verified against this workspace's trusted keys."""
    from mcp_orch.operations import remote as ops

    result = ops.pull(ctx.ws, remote, client, profile)
    ctx.emit(result, lambda: _summary(result))

"""CLI commands of the bundled MCP server: ``serve``, ``token`` and ``install-self``.

    mcp-orch serve                                   # stdio (what MCP clients launch)
    mcp-orch serve --http [--host H] [--port P]      # streamable HTTP at /mcp, bearer tokens
    mcp-orch token create NAME | list | revoke NAME  # only the tokens' hashes are stored
    mcp-orch install-self --client cursor            # add mcp-orch itself to a client

``mcp_orch.cli`` loads these lazily (``LAZY_COMMANDS``), so ``mcp`` is imported only when one
of them runs. They reuse the CLI's ``common`` options (``--workspace``, ``--client-root``,
``--json``) and its error handling.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .cli import Ctx, Group, client_profile, common, table
from .errors import UsageError

if TYPE_CHECKING:
    from .workspace import Workspace

__all__ = ["install_self_cmd", "serve_cmd", "token_group"]


# ---- serve ---------------------------------------------------------------------------------


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or a name) is only reachable from this machine."""
    bare = host.strip("[]")
    try:
        return ipaddress.ip_address(bare).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(bare, None, type=socket.SOCK_STREAM)
    except OSError:
        return False
    addresses = {str(info[4][0]).split("%", 1)[0] for info in infos}
    return bool(addresses) and all(ipaddress.ip_address(a).is_loopback for a in addresses)


def _listen(host: str, port: int) -> socket.socket:
    bare = host.strip("[]")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(bare, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        raise UsageError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}",
            "choose another --port (or --port 0 for any free one) or --host",
        ) from None
    sock.set_inheritable(True)
    return sock


def serve_http(ws: Workspace, host: str, port: int) -> None:
    """Serve streamable HTTP on ``host:port`` until interrupted."""
    from .tokens import TokenStore

    tokens = TokenStore(ws)
    count = len(tokens)
    if not is_loopback(host) and count == 0:
        raise UsageError(
            f"refusing to serve on {host}, which is reachable from other machines, "
            "while no token is configured",
            "create a token first: mcp-orch token create NAME (or bind to 127.0.0.1)",
        )
    sock = _listen(host, port)
    actual = sock.getsockname()[1]

    from .validation.schemas import skip_slow_uri_grammar

    skip_slow_uri_grammar()  # before the SDK imports jsonschema
    import uvicorn

    from .server import build_server, http_app

    app = http_app(build_server(ws), tokens, host=host.strip("[]"))
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    click.echo(
        f"mcp-orch {_version()}: MCP over streamable HTTP at http://{shown}:{actual}/mcp "
        f"(workspace {ws.path}; {count} token(s); Ctrl+C stops)",
        err=True,
    )
    if count == 0:
        click.echo(
            "warning: no token is configured, so every request gets 401; "
            "create one with `mcp-orch token create NAME` (no restart needed)",
            err=True,
        )
    config = uvicorn.Config(
        app, log_level="warning", lifespan="on", timeout_graceful_shutdown=3, access_log=False
    )
    uvicorn.Server(config).run(sockets=[sock])


def _version() -> str:
    from . import __version__

    return __version__


@click.command("serve")
@click.option(
    "--http", "use_http", is_flag=True, help="Serve streamable HTTP (bearer tokens) not stdio."
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (--http).")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="Port (--http); 0 picks a free one.",
)
@common
def serve_cmd(ctx: Ctx, use_http: bool, host: str, port: int) -> None:
    """Run mcp-orch's own MCP server: the whole lifecycle as MCP tools and resources.

    By default it speaks stdio, which is how MCP clients launch it (see install-self). With
    --http it serves streamable HTTP at http://HOST:PORT/mcp; every request needs
    'Authorization: Bearer <token>' (see `mcp-orch token create`). Binding to an address other
    machines can reach is refused while no token exists.
    """
    if use_http:
        serve_http(ctx.ws, host, port)
        return
    click_ctx = click.get_current_context()
    for option in ("host", "port"):
        source = click_ctx.get_parameter_source(option)
        if source is not None and source.name == "COMMANDLINE":
            raise UsageError(f"--{option} needs --http", "add --http, or drop --" + option)
    from .validation.schemas import skip_slow_uri_grammar

    skip_slow_uri_grammar()  # before the SDK imports jsonschema
    from .server import build_server

    server = build_server(ctx.ws)
    click.echo(
        f"mcp-orch {_version()}: MCP over stdio (workspace {ctx.ws.path}); "
        "waiting for an MCP client on stdin, Ctrl+C stops",
        err=True,
    )
    server.run("stdio")


# ---- tokens --------------------------------------------------------------------------------


@click.group("token", cls=Group)
def token_group() -> None:
    """Bearer tokens for `mcp-orch serve --http` (only their hashes are stored)."""


@token_group.command("create")
@click.argument("name")
@common
def token_create_cmd(ctx: Ctx, name: str) -> None:
    """Create a token; it is printed once (on stdout) and never shown again."""
    from .tokens import TokenStore

    token = TokenStore(ctx.ws).create(name)
    if ctx.as_json:
        ctx.emit({"name": name, "token": token}, "")
        return
    click.echo(
        f"created token {name!r}; it is shown only this once, so store it now "
        "(send it as 'Authorization: Bearer <token>'):",
        err=True,
    )
    click.echo(token)


@token_group.command("list")
@common
def token_list_cmd(ctx: Ctx) -> None:
    """The tokens' names and creation times (never the tokens)."""
    from .tokens import TokenStore

    rows = TokenStore(ctx.ws).list()
    ctx.emit(rows, lambda: table(["name", "created"], [(r["name"], r["created"]) for r in rows]))


@token_group.command("revoke")
@click.argument("name")
@common
def token_revoke_cmd(ctx: Ctx, name: str) -> None:
    """Revoke a token: a running server refuses it from the next request on."""
    from .tokens import TokenStore

    TokenStore(ctx.ws).revoke(name)
    ctx.emit({"revoked": name}, f"revoked token {name!r}")


# ---- install-self --------------------------------------------------------------------------


def self_command() -> tuple[str, list[str]]:
    """How a client should launch this mcp-orch: the ``mcp-orch`` script installed beside the
    running Python (absolute path), else this Python with ``-m mcp_orch``."""
    folder = Path(sys.executable).absolute().parent
    for name in ("mcp-orch", "mcp-orch.exe"):
        script = folder / name
        if script.is_file() and os.access(script, os.X_OK):
            return str(script), ["serve"]
    return str(Path(sys.executable).absolute()), ["-m", "mcp_orch", "serve"]


@click.command("install-self")
@client_profile
@click.option(
    "--name", default="mcp-orch", show_default=True, help="The entry's name in the client's file."
)
@click.option(
    "--adopt", is_flag=True, help="Take over entries in the file mcp-orch does not manage."
)
@common
def install_self_cmd(ctx: Ctx, client: str, profile: str, name: str, adopt: bool) -> None:
    """Add mcp-orch's own MCP server to a client (draft -> validate -> publish -> deploy).

    The entry runs `mcp-orch serve` over stdio with MCP_ORCH_HOME set to this workspace, so the
    client's model can discover, add, validate, publish and deploy servers itself.
    """
    from .clients import to_native

    prof = ctx.profile(client, profile)
    command, args = self_command()
    env = {"MCP_ORCH_HOME": str(ctx.ws.path)}
    if ctx.client_root:
        env["MCP_ORCH_CLIENT_ROOT"] = str(Path(ctx.client_root).expanduser().absolute())
    neutral: dict[str, Any] = {"transport": "stdio", "command": command, "args": args, "env": env}
    entry = to_native(prof.client, neutral, prof.target_os)
    draft = prof.draft.add_entry(name, entry, replace=True, origin="install-self")
    art = draft.validate().publish(changelog=f"install mcp-orch's own MCP server as {name!r}")
    dep = art.deploy(adopt=adopt)
    ctx.emit(
        {
            "name": name,
            "entry": entry,
            "artifact": art.to_dict(),
            "deployment": dep.to_dict(),
        },
        lambda: (
            f"installed {name!r} in {prof.client.name} ({dep.path})\n"
            f"  command: {' '.join([command, *args])}\n"
            f"  workspace: {ctx.ws.path}\n"
            f"  artifact: {art.artifact_id[:19]} ({len(art.servers)} server(s) in {prof.ref})\n"
            f"restart {prof.client.name} (or reload its MCP servers) to use it"
        ),
    )

"""CLI commands of the bundled MCP server: ``serve``, ``token`` and ``install-self``.

    mcp-orch serve                                   # stdio (what MCP clients launch)
    mcp-orch serve --http [--host H] [--port P]      # streamable HTTP at /mcp, bearer tokens
        [--session-idle S] [--max-sessions N] [--header-timeout S]   # the limits (see HTTPLimits)
    mcp-orch token create NAME | list | revoke NAME  # only the tokens' hashes are stored
    mcp-orch install-self --client cursor            # add mcp-orch itself to a client

``mcp_orch.frontends.cli`` loads these lazily (``LAZY_COMMANDS``), so ``mcp`` is imported only when one
of them runs. They reuse the CLI's ``common`` options (``--workspace``, ``--client-root``,
``--json``) and its error handling.
"""

from __future__ import annotations

import gc
import socket
from typing import Any

import click

from mcp_orch.core.errors import UsageError
from mcp_orch.facade.workspace import Workspace
from mcp_orch.frontends.cli.base import Ctx, Group, client_profile, common, examples
from mcp_orch.frontends.render import plural, table
from mcp_orch.operations import serving

__all__ = ["install_self_cmd", "serve_cmd", "token_group"]


# ---- serve ---------------------------------------------------------------------------------


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
            "choose another port (0 picks any free one) or host",
            inputs=("port", "host"),
        ) from None
    sock.set_inheritable(True)
    return sock


def serve_http(
    ws: Workspace, host: str, port: int, roots: tuple[str, ...] = (), **limits: Any
) -> None:
    """Serve streamable HTTP on ``host:port`` until interrupted.

    ``limits`` are fields of ``HTTPLimits`` (``session_idle=60``, ...); the others keep their
    defaults.
    """
    tokens = serving.http_tokens(ws, host)  # the bind policy: refuses a public host, no token
    count = len(tokens)
    sock = _listen(host, port)
    actual = sock.getsockname()[1]

    from mcp_orch.core.resources import skip_slow_uri_grammar

    skip_slow_uri_grammar()  # before the SDK imports jsonschema
    import uvicorn

    from mcp_orch.frontends.mcp_server import HTTPLimits, build_server, http_app, uvicorn_config

    within = HTTPLimits(**limits)
    app = http_app(build_server(ws, roots=roots), tokens, host=host.strip("[]"), limits=within)
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    click.echo(
        f"mcp-orch {_version()}: MCP over streamable HTTP at http://{shown}:{actual}/mcp "
        f"(workspace {ws.path}; {plural(count, 'token')}; Ctrl+C stops)",
        err=True,
    )
    if count == 0:
        click.echo(
            "warning: no token is configured, so every request gets 401; "
            "create one with `mcp-orch token create NAME` (no restart needed)",
            err=True,
        )
    config = uvicorn_config(
        app,
        within,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=3,
        access_log=False,
    )
    gc.freeze()  # what start-up built lives as long as the server: no full collection scans it
    uvicorn.Server(config).run(sockets=[sock])


def _version() -> str:
    from mcp_orch.core import __version__

    return __version__


@click.command(
    "serve",
    epilog=examples(
        "mcp-orch serve",
        "mcp-orch serve --http --port 8765",
        "mcp-orch serve --http --host 127.0.0.1 --port 0",
    ),
)
@click.option(
    "--http", "use_http", is_flag=True, help="Serve streamable HTTP (bearer tokens) not stdio."
)
@click.option(
    "--allow-root",
    "allow_root",
    multiple=True,
    type=click.Path(exists=True, file_okay=False),
    metavar="DIR",
    help="A folder the tools may read or write paths in (project_dir, import_servers' path); "
    "repeatable. Default: none, so the tools take no paths.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (--http).")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="Port (--http); 0 picks a free one.",
)
@click.option(
    "--session-idle",
    type=click.FloatRange(0, min_open=True),
    default=600.0,
    show_default=True,
    metavar="SECONDS",
    help="End a session after this long without a request (--http); its id then gets 404.",
)
@click.option(
    "--max-sessions",
    type=click.IntRange(1),
    default=100,
    show_default=True,
    help="Live sessions at most (--http); a new one beyond gets 503 and Retry-After.",
)
@click.option(
    "--header-timeout",
    type=click.FloatRange(0, min_open=True),
    default=10.0,
    show_default=True,
    metavar="SECONDS",
    help="Close a connection whose request headers are not complete by then (--http).",
)
@common
def serve_cmd(
    ctx: Ctx,
    use_http: bool,
    allow_root: tuple[str, ...],
    host: str,
    port: int,
    session_idle: float,
    max_sessions: int,
    header_timeout: float,
) -> None:
    """Run mcp-orch's own MCP server: the whole lifecycle as MCP tools and resources.

    By default it speaks stdio, which is how MCP clients launch it (see install-self). With
    --http it serves streamable HTTP at http://HOST:PORT/mcp; every request needs
    'Authorization: Bearer <token>' (see `mcp-orch token create`). Binding to an address other
    machines can reach is refused while no token exists. Idle sessions end after
    --session-idle seconds, at most --max-sessions are live at once, and a connection that has
    not sent its request headers within --header-timeout seconds is closed.
    """
    if use_http:
        serve_http(
            ctx.ws,
            host,
            port,
            roots=allow_root,
            session_idle=session_idle,
            max_sessions=max_sessions,
            header_timeout=header_timeout,
        )
        return
    click_ctx = click.get_current_context()
    for option in ("host", "port", "session_idle", "max_sessions", "header_timeout"):
        source = click_ctx.get_parameter_source(option)
        if source is not None and source.name == "COMMANDLINE":
            flag = "--" + option.replace("_", "-")
            raise UsageError(f"{flag} needs --http", "add --http, or drop " + flag)
    from mcp_orch.core.resources import skip_slow_uri_grammar

    skip_slow_uri_grammar()  # before the SDK imports jsonschema
    from mcp_orch.frontends.mcp_server import build_server

    server = build_server(ctx.ws, roots=allow_root)
    click.echo(
        f"mcp-orch {_version()}: MCP over stdio (workspace {ctx.ws.path}); "
        "waiting for an MCP client on stdin, Ctrl+C stops",
        err=True,
    )
    gc.freeze()  # what start-up built lives as long as the server: no full collection scans it
    server.run("stdio")


# ---- tokens --------------------------------------------------------------------------------


@click.group(
    "token",
    epilog=examples(
        "mcp-orch token create laptop", "mcp-orch token list", "mcp-orch token revoke laptop"
    ),
    cls=Group,
)
def token_group() -> None:
    """Bearer tokens for `mcp-orch serve --http` (only their hashes are stored)."""


@token_group.command("create", epilog=examples("mcp-orch token create laptop"))
@click.argument("name")
@common
def token_create_cmd(ctx: Ctx, name: str) -> None:
    """Create a token; it is printed once (on stdout) and never shown again."""
    result = serving.create_token(ctx.ws, name)
    if ctx.as_json:
        ctx.emit(result, "")
        return
    click.echo(
        f"created token {name!r}; it is shown only this once, so store it now "
        "(send it as 'Authorization: Bearer <token>'):",
        err=True,
    )
    click.echo(result.token)


@token_group.command("list", epilog=examples("mcp-orch token list", "mcp-orch token list --json"))
@common
def token_list_cmd(ctx: Ctx) -> None:
    """The tokens' names and creation times (never the tokens)."""
    result = serving.list_tokens(ctx.ws)
    rows = [(r["name"], r["created"]) for r in result.tokens]
    ctx.emit(result, lambda: table(["name", "created"], rows))


@token_group.command("revoke", epilog=examples("mcp-orch token revoke laptop"))
@click.argument("name")
@common
def token_revoke_cmd(ctx: Ctx, name: str) -> None:
    """Revoke a token: a running server refuses it from the next request on."""
    result = serving.revoke_token(ctx.ws, name)
    ctx.emit(result, f"revoked token {name!r}")


# ---- install-self --------------------------------------------------------------------------


@click.command(
    "install-self",
    epilog=examples(
        "mcp-orch install-self --client cursor",
        "mcp-orch install-self -c claude-desktop --name orch",
    ),
)
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
    result = serving.install_self(ctx.ws, client, profile, name=name, adopt=adopt)
    art, dep = result.artifact, result.deployment
    ctx.emit(
        result,
        lambda: (
            f"installed {name!r} in {result.client_name} ({dep.path})\n"
            f"  command: {' '.join(result.command)}\n"
            f"  workspace: {ctx.ws.path}\n"
            f"  artifact: {art.short_id} ({plural(len(art.servers), 'server')} in {result.profile_ref})\n"
            f"restart {result.client_name} (or reload its MCP servers) to use it"
        ),
    )

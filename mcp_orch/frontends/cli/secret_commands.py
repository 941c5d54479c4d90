"""``mcp-orch secret set|list|rm`` and ``mcp-orch exec``. Loaded when one of them runs.

A value never comes from an argument (it would sit in the shell history and in ``ps``): it comes
from a hidden prompt, from stdin when stdin is not a terminal, or from ``--value-from-env VAR``.
``exec`` is normally reached through the installed entry point's fast path
(:mod:`mcp_orch.frontends.entry`); this command is the same launcher for ``python -m`` and help.
"""

from __future__ import annotations

import os
import sys

import click

from mcp_orch.core.errors import UsageError
from mcp_orch.frontends.cli.base import Ctx, Group, common, examples
from mcp_orch.frontends.render import table
from mcp_orch.services.secrets.store import check_name


@click.group(
    "secret",
    epilog=examples(
        "mcp-orch secret set GITHUB_TOKEN            (asks for the value, hidden)",
        'printf %s "$TOKEN" | mcp-orch secret set GITHUB_TOKEN',
        "mcp-orch secret set GITHUB_TOKEN --value-from-env GH_TOKEN",
        "mcp-orch secret list",
        "mcp-orch secret rm GITHUB_TOKEN",
    ),
    cls=Group,
)
def secret_group() -> None:
    """Named secrets in the OS keyring or an encrypted file, for `mcp-orch exec` to start
    servers with (values never go into a client file)."""


def _read_value(name: str, value_from_env: str | None) -> str:
    if value_from_env is not None:
        value = os.environ.get(value_from_env)
        if not value:
            raise UsageError(
                f"{value_from_env} is not set (or empty); nothing was stored",
                f"export {value_from_env}=... first, or leave out --value-from-env to be asked",
            )
        return value
    if sys.stdin is not None and sys.stdin.isatty():
        value = click.prompt(f"value of {name}", hide_input=True, confirmation_prompt=True)
        return str(value)
    data = sys.stdin.read() if sys.stdin is not None else ""
    value = data[:-1] if data.endswith("\n") else data  # one trailing newline is the echo's
    if value.endswith("\r"):
        value = value[:-1]
    if not value:
        raise UsageError(
            f"no value for {name} on stdin; nothing was stored",
            "pipe the value in, run it in a terminal to be asked, or use --value-from-env VAR",
        )
    return value


@secret_group.command(
    "set",
    epilog=examples(
        "mcp-orch secret set GITHUB_TOKEN",
        "mcp-orch secret set GITHUB_TOKEN --value-from-env GH_TOKEN",
    ),
)
@click.argument("name")
@click.argument("refused", nargs=-1, metavar="")
@click.option(
    "--value-from-env",
    metavar="VAR",
    help="Take the value from this environment variable (for scripts).",
)
@common
def secret_set_cmd(
    ctx: Ctx, name: str, refused: tuple[str, ...], value_from_env: str | None
) -> None:
    """Store the secret NAME: the value from a hidden prompt, stdin, or --value-from-env,
    never from an argument."""
    from mcp_orch.operations import secrets

    check_name(name)  # before asking for a value
    if refused:
        raise UsageError(
            "a secret's value is never taken from an argument (it would stay in the shell "
            "history and the process list); nothing was stored",
            f"run `mcp-orch secret set {name}` and type it when asked, pipe it in on stdin, "
            "or use --value-from-env VAR",
        )
    value = _read_value(name, value_from_env)
    result = secrets.set_secret(ctx.ws, name, value)
    ctx.emit(result, f"stored {result.name} ({result.backend}) in {result.store}")


@secret_group.command(
    "list", epilog=examples("mcp-orch secret list", "mcp-orch secret list --json")
)
@common
def secret_list_cmd(ctx: Ctx) -> None:
    """The secrets in the store: names, backends, when set (never values)."""
    from mcp_orch.operations import secrets

    result = secrets.list_secrets()

    def text() -> str:
        head = f"secret store {result.store} (new values go to: {result.backend})"
        if not result.secrets:
            return head + "\nno secrets"
        rows = [[r["name"], r["backend"], r["set"]] for r in result.secrets]
        return head + "\n" + table(["name", "backend", "set"], rows)

    ctx.emit(result, text)


@secret_group.command("rm", epilog=examples("mcp-orch secret rm GITHUB_TOKEN"))
@click.argument("name")
@common
def secret_rm_cmd(ctx: Ctx, name: str) -> None:
    """Remove the secret NAME from the store."""
    from mcp_orch.operations import secrets

    result = secrets.remove_secret(ctx.ws, name)
    ctx.emit(result, f"removed {result.removed} ({result.backend})")


@click.command(
    "exec",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
    epilog=examples(
        "mcp-orch exec -- npx -y @modelcontextprotocol/server-github",
        "API_KEY='${env:API_KEY}' mcp-orch exec -- my-server --key '${env:API_KEY}'",
    ),
)
@click.argument("command", nargs=-1, type=click.UNPROCESSED, required=True)
def exec_cmd(command: tuple[str, ...]) -> None:
    """Start COMMAND with every ${env:NAME} in its arguments and environment replaced by the
    secret NAME (from the store, else the environment): what deployed entries run for
    clients that cannot expand variables."""
    from mcp_orch.frontends.launcher import run

    sys.exit(run(list(command)))

"""What every CLI command shares: the context, the common options, error exits, lazy groups."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import click

from mcp_orch.core.errors import MCPOrchError, UsageError
from mcp_orch.frontends.cli.complete import client_ids, profile_ids
from mcp_orch.frontends.render import (
    CLI,
    as_error,
    colour_enabled,
    colour_text,
    error_document,
    error_lines,
)

if TYPE_CHECKING:
    from mcp_orch.facade.registry import Registry
    from mcp_orch.facade.workspace import Workspace
    from mcp_orch.operations import Result


class Ctx:
    """What every command gets: the workspace (opened on first use) and the output mode."""

    def __init__(self, workspace: str | None, client_root: str | None, as_json: bool) -> None:
        self.workspace_path = workspace
        self.client_root = client_root
        self.as_json = as_json
        self._ws: Workspace | None = None

    @property
    def ws(self) -> Workspace:
        if self._ws is None:
            from mcp_orch.facade.workspace import Workspace

            self._ws = Workspace(self.workspace_path, client_root=self.client_root)
        return self._ws

    def registry(self) -> Registry:
        """The catalog of the workspace folder, without opening the workspace (browsing needs
        only the catalog: the workspace machinery stays unloaded and nothing is created)."""
        from mcp_orch.facade.registry import Registry

        if self._ws is not None:
            return self._ws.registry()
        return Registry(path=self.workspace_path)

    def open_ws(self) -> Workspace:
        """The workspace (a callable for operations that open it only when needed)."""
        return self.ws

    def warn(self, message: str) -> None:
        """A warning on stderr (with ``--json`` the document carries it instead)."""
        if not self.as_json:
            say(f"warning: {message}", err=True)

    def emit(self, result: Result, text: str | Callable[[], str], *, diff: bool = False) -> None:
        """The result's document with ``--json`` (never coloured), else its text: coloured on
        a terminal (``diff``: its ``+``/``-``/``@@`` lines too)."""
        if self.as_json:
            click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False, default=str))
        else:
            say(text() if callable(text) else text, diff=diff)


def say(text: str, *, err: bool = False, diff: bool = False) -> None:
    """Print text lines, coloured when the stream is a terminal (or ``FORCE_COLOR``), never when
    ``NO_COLOR`` is set or the output is piped."""
    stream = sys.stderr if err else sys.stdout
    if colour_enabled(stream):
        click.echo(colour_text(text, diff=diff), err=err, color=True)
    else:
        click.echo(text, err=err)


def pairs(values: Sequence[str], what: str) -> dict[str, str]:
    """``KEY=VALUE`` options as a dict."""
    out: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"{what} {item!r} is not KEY=VALUE", f"write {what} NAME=value")
        out[key] = value
    return out


def fail(ctx: Ctx, exc: BaseException) -> None:
    """Print a failure (the JSON document, or error and hint on stderr) and exit."""
    err = as_error(exc)
    if ctx.as_json:
        click.echo(json.dumps(error_document(err), indent=2, default=str))
    else:
        say("\n".join(error_lines(err, CLI)), err=True)
    sys.exit(err.exit_code)


def common(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add --workspace, --client-root and --json; turn every error into a clean exit."""

    @click.option(
        "--workspace",
        "workspace",
        envvar="MCP_ORCH_HOME",
        type=click.Path(file_okay=False),
        help="Workspace folder (default: $MCP_ORCH_HOME or the user data dir).",
    )
    @click.option(
        "--client-root",
        envvar="MCP_ORCH_CLIENT_ROOT",
        type=click.Path(file_okay=False),
        help="Folder that stands for your home when resolving client config paths.",
    )
    @click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
    @functools.wraps(func)
    def wrapper(workspace: str | None, client_root: str | None, as_json: bool, **kw: Any) -> Any:
        ctx = Ctx(workspace, client_root, as_json)
        try:
            return func(ctx, **kw)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except MCPOrchError as exc:
            fail(ctx, exc)
        except Exception as exc:
            if os.environ.get("MCP_ORCH_DEBUG"):
                raise
            fail(ctx, exc)

    return wrapper


def client_profile(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option(
        "--profile",
        "-p",
        default="default",
        show_default=True,
        help="Profile id.",
        shell_complete=profile_ids,
    )(func)
    return client_option(required=True)(func)


def client_option(required: bool = False, help: str = "Client id (see list-clients).") -> Any:
    """``--client``/``-c``, completed with the client ids."""
    return click.option("--client", "-c", required=required, help=help, shell_complete=client_ids)


def examples(*lines: str) -> str:
    """The ``Examples:`` epilog of a command's ``--help``, one command line per line (``\\b``
    keeps click from rewrapping them)."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


class Group(click.Group):
    """Commands in the order they were defined; heavy ones imported only when used."""

    lazy: ClassVar[dict[str, str]] = {}
    order: ClassVar[list[str]] = []

    def list_commands(self, ctx: click.Context) -> list[str]:
        import importlib.util

        extra = [
            name
            for name, target in self.lazy.items()
            if name not in self.commands and importlib.util.find_spec(target.split(":")[0])
        ]
        names = [*self.commands, *extra]
        rank = {name: i for i, name in enumerate(self.order)}
        return sorted(names, key=lambda n: rank.get(n, len(rank)))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in self.lazy:
            import importlib

            module, _, attr = self.lazy[name].partition(":")
            command = getattr(importlib.import_module(module), attr)
            self.add_command(command, name)
        return self.commands.get(name)

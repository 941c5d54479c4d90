"""Shell completion of ids: clients, profiles, catalog servers, draft entries.

Click asks these when the shell's completion script runs ``mcp-orch`` with
``_MCP_ORCH_COMPLETE=bash_complete`` (zsh, fish likewise). Each callback reads what the command
line gave so far (``--workspace``, ``--client``, ``--profile``, else their environment
variables) and never writes: a workspace that does not exist completes nothing, and any error
completes nothing rather than printing into the user's shell.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from click.core import ParameterSource

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem

__all__ = ["client_ids", "draft_names", "profile_ids", "server_ids"]

Completer = Callable[[click.Context, click.Parameter, str], list["CompletionItem"]]


def _matching(values: Iterable[tuple[str, str]], incomplete: str) -> list[CompletionItem]:
    from click.shell_completion import CompletionItem  # only when completing: off --help's path

    return [
        CompletionItem(value, help=help or None)
        for value, help in dict.fromkeys(values)
        if value.startswith(incomplete)
    ]


def _safe(func: Callable[[click.Context, str], Iterable[tuple[str, str]]]) -> Completer:
    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
        try:
            return _matching(func(ctx, incomplete), incomplete)
        except Exception:  # completion must never print a traceback into the shell
            return []

    return complete


def _param(ctx: click.Context, name: str, envvar: str | None = None) -> Any:
    """What the command line gave for ``name`` so far (an option's default is not given)."""
    given = ctx.get_parameter_source(name)
    value = None if given in (None, ParameterSource.DEFAULT) else ctx.params.get(name)
    if value is None and envvar:
        value = os.environ.get(envvar) or None
    return value


def _workspace_path(ctx: click.Context) -> Path | None:
    from mcp_orch.core.fs import default_path

    given = _param(ctx, "workspace", "MCP_ORCH_HOME")
    path = Path(given).expanduser() if given else default_path()
    return path if path.is_dir() else None  # completing never creates a workspace


def _clients(ctx: click.Context, incomplete: str) -> Iterable[tuple[str, str]]:
    from mcp_orch.domain.clients import list_clients

    return [(c.id, c.name) for c in list_clients()]


def _profiles(ctx: click.Context, incomplete: str) -> Iterable[tuple[str, str]]:
    from mcp_orch.facade.workspace import Workspace

    path = _workspace_path(ctx)
    if path is None:
        return []
    client = _param(ctx, "client")
    return [
        (p.id, p.ref) for p in Workspace(path).profiles() if client is None or p.client.id == client
    ]


def _servers(ctx: click.Context, incomplete: str) -> Iterable[tuple[str, str]]:
    from mcp_orch.facade.registry import Registry

    path = _workspace_path(ctx)
    return [(s.id, s.title) for s in Registry(path=path).all()]


def _draft_names(ctx: click.Context, incomplete: str) -> Iterable[tuple[str, str]]:
    from mcp_orch.facade.workspace import Workspace

    path = _workspace_path(ctx)
    if path is None:
        return []
    ws = Workspace(path)
    client, profile = _param(ctx, "client"), _param(ctx, "profile")
    if client is not None:  # the one draft named so far (its profile defaults as the option does)
        drafts = [ws.profile(client, profile or "default").draft]
    else:  # NAME before --client: every draft's names, each with its profile
        drafts = [p.draft for p in ws.profiles() if profile is None or p.id == profile]
    return [(name, d.profile.ref) for d in drafts for name in d.records]


#: ``--client``: every client id (with its name).
client_ids = _safe(_clients)
#: ``--profile``: the profiles of the workspace (of ``--client``, when given).
profile_ids = _safe(_profiles)
#: A catalog server id (``add-server``, ``describe-server``).
server_ids = _safe(_servers)
#: An entry of the draft of ``--client``/``--profile`` (``remove-server``, ``get-server``).
draft_names = _safe(_draft_names)

"""``diff`` and ``probe`` over anything that holds servers, by way of one server-set protocol.

    >>> import mcp_orch as mo
    >>> mo.diff(old_artifact, new_artifact)                 # or drafts, payloads, file paths
    >>> mo.diff("~/.cursor/mcp.json", profile.latest(), client="cursor")
    >>> mo.probe(profile.draft)                             # or an artifact, a path,
    >>> mo.probe("draft:cursor/default", workspace=ws)      # 'draft:C/P', 'artifact:ID'

Drafts, artifacts, check targets and files read with
:func:`~mcp_orch.domain.clients.read_server_file` are all
:class:`~mcp_orch.domain.clients.ServerSet`\\ s. :func:`server_set` turns the other things a
notebook user passes (a path, a ``draft:``/``artifact:`` spec, a payload dict) into one; the
services below it only ever see server sets.
"""

from __future__ import annotations

import os
from typing import Any

from mcp_orch.core.errors import UsageError
from mcp_orch.domain.clients import get_client
from mcp_orch.domain.clients.payload import ServerSet, payload_servers, read_server_file
from mcp_orch.facade.artifact import Artifact
from mcp_orch.facade.workspace import Workspace
from mcp_orch.services.probe import ProbeReport, aprobe_set, probe_set
from mcp_orch.services.release.artifact import ArtifactRecord
from mcp_orch.services.release.diff import Diff, compare
from mcp_orch.services.validation.targets import resolve_target

__all__ = ["aprobe", "diff", "probe", "server_set"]


def server_set(
    x: Any,
    *,
    client: str | None = None,
    workspace: Workspace | None = None,
    what: str = "diff",
) -> ServerSet:
    """``x`` as a server set: a server set stays as it is; a dict is a payload of ``client``;
    a path is that client's file (for a probe, also ``draft:C/P`` / ``artifact:ID``)."""
    if isinstance(x, ServerSet):
        return x
    if isinstance(x, dict):
        if client is None:
            raise UsageError(f"{what}ing a payload needs its client", "pass client='cursor'")
        return payload_servers(get_client(client), x)
    if isinstance(x, str | os.PathLike):
        if what == "probe":
            if str(x).startswith(("draft:", "artifact:")) and workspace is None:
                workspace = Workspace()  # the facade's default workspace
            return resolve_target(
                os.path.expanduser(os.fspath(x)), client=client, workspace=workspace
            )
        if client is None:
            raise UsageError("diffing a file needs its client", "name the client (client='cursor')")
        return read_server_file(get_client(client), x)
    raise UsageError(
        f"cannot {what} a {type(x).__name__}",
        "pass a Draft, an Artifact, a payload dict with its client, or a config file path",
    )


def _is_ancestor(a: ServerSet, b: ServerSet) -> bool:
    """Whether artifact ``a`` is an earlier release in the parent chain of artifact ``b``."""
    if not (isinstance(a, ArtifactRecord) and isinstance(b, Artifact)) or b._profile is None:
        return False
    store = b._profile.workspace.store
    parent, seen = b.parent, 0
    while parent and seen < 10_000:
        if parent == a.artifact_id:
            return True
        try:
            parent = store.get(parent).parent
        except Exception:
            return False
        seen += 1
    return False


def diff(a: Any, b: Any, *, client: str | None = None, secret_safe: bool = True) -> Diff:
    """Servers added / removed / modified from ``a`` to ``b``, with a status and advice."""
    sa = server_set(a, client=client)
    sb = server_set(b, client=client or sa.client_id)
    return compare(sa, sb, ancestor=_is_ancestor(sa, sb), secret_safe=secret_safe)


def probe(
    source: Any,
    *,
    client: str | None = None,
    workspace: Workspace | None = None,
    **kwargs: Any,
) -> ProbeReport:
    """Probe every server (or ``servers``) of a Draft, an Artifact, a client config file path
    (``client`` detected from the path unless given), ``"draft:CLIENT/PROFILE"``,
    ``"artifact:ID"`` or a payload dict (with ``client``).

    ``jobs`` servers run at a time, each within ``timeout`` seconds. ``progress``: None shows a
    bar for several servers when stderr is a terminal (or in a notebook with ipywidgets), True
    always, False never. ``inherit_env`` passes this whole environment to stdio servers instead
    of the SDK's short default list. Works inside a running event loop (a notebook) too.
    """
    target = server_set(source, client=client, workspace=workspace, what="probe")
    return probe_set(target, **kwargs)


async def aprobe(
    source: Any,
    *,
    client: str | None = None,
    workspace: Workspace | None = None,
    **kwargs: Any,
) -> ProbeReport:
    """:func:`probe` for code that already runs an event loop."""
    target = server_set(source, client=client, workspace=workspace, what="probe")
    return await aprobe_set(target, **kwargs)

"""What the bundled MCP server's tools and resources share: :class:`_State`, the server's
workspace and its server catalog, loaded once and reloaded whenever it changes on disk
(:meth:`Registry.refresh`: a change made through mcp-orch, by this server or any other process,
or a file added or removed by hand), and the file-system roots the user allowed when starting
the server (``serve --allow-root DIR``): the only places a path given by the model may point
to (:meth:`_State.allowed_path`).
"""

import gc
import os
import threading
from collections.abc import Iterable
from pathlib import Path

from mcp_orch.core.errors import UsageError
from mcp_orch.facade.profile import Profile
from mcp_orch.facade.registry import Registry
from mcp_orch.facade.workspace import Workspace

#: From this many catalog servers on, a catalog load is followed by ``gc.freeze()``.
FREEZE_AT = 500


class _State:
    """The server's workspace, and a catalog that is reloaded when the workspace's own servers change."""

    def __init__(self, workspace: Workspace, roots: Iterable[str | os.PathLike[str]] = ()) -> None:
        self.ws = workspace
        #: The folders paths may point into, resolved (symlinks followed) once, at start.
        self.roots = tuple(Path(os.path.realpath(Path(r).expanduser())) for r in roots)
        self._lock = threading.Lock()
        self._registry: Registry | None = None

    def registry(self) -> Registry:
        """The catalog, loaded once and again whenever it changes on disk (a few system calls
        per call, whatever its size: see :meth:`Registry.stamp` for what is seen)."""
        with self._lock:
            if self._registry is None:
                self._registry = Registry(workspace=self.ws)
            if (self._registry.refresh() or not self._registry.loaded) and len(
                self._registry
            ) >= FREEZE_AT:
                # read now; then out of the collector's way: a full collection over thousands
                # of servers is a 45 ms pause in some call (the garbage collected first)
                gc.collect()
                gc.freeze()
            return self._registry

    def catalog_ready(self) -> bool:
        """Whether :meth:`registry` would return at once: the catalog is loaded, has not
        changed on disk, and no other call is loading it (never waits for the lock)."""
        if not self._lock.acquire(blocking=False):
            return False
        try:
            registry = self._registry
            return registry is not None and registry.loaded and not registry.refresh()
        finally:
            self._lock.release()

    def profile(self, client: str, profile: str) -> Profile:
        return self.ws.profile(client, profile)

    def allowed_path(self, value: str | os.PathLike[str], argument: str) -> Path:
        """``value`` (a path a tool was given as ``argument``) resolved, symlinks followed, if
        that real path is inside one of the roots; else a ``UsageError`` naming the argument.
        With no roots no path is accepted. Relative paths are taken from the server's folder."""
        real = Path(os.path.realpath(Path(value).expanduser()))
        if any(real == root or real.is_relative_to(root) for root in self.roots):
            return real
        where = (
            "outside the folders this server may use ("
            + ", ".join(str(r) for r in self.roots)
            + ")"
            if self.roots
            else "not allowed: this server was started without --allow-root, so it takes no paths"
        )
        raise UsageError(
            f"{argument}: the path {str(value)!r} is {where}; nothing was read or written",
            "start the server with --allow-root DIR to allow paths under DIR",
            inputs=(argument,),
        )

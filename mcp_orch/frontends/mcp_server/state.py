"""What the bundled MCP server's tools and resources share: :class:`_State`, the server's
workspace and its server catalog, loaded once and reloaded whenever the workspace's own servers
(the folder that ``import_servers`` writes to) change on disk, and the file-system roots the
user allowed when starting the server (``serve --allow-root DIR``): the only places a path
given by the model may point to (:meth:`_State.allowed_path`).
"""

import os
import threading
from collections.abc import Iterable
from pathlib import Path

from mcp_orch.core.errors import UsageError
from mcp_orch.facade.profile import Profile
from mcp_orch.facade.registry import Registry
from mcp_orch.facade.workspace import Workspace


def _folder_stamp(folder: Path) -> tuple[tuple[str, int, int], ...]:
    try:
        with os.scandir(folder) as it:
            entries = [(e.name, e.stat()) for e in it]
    except FileNotFoundError:
        return ()
    return tuple(sorted((name, st.st_mtime_ns, st.st_size) for name, st in entries))


class _State:
    """The server's workspace, and a catalog that is reloaded when the workspace's own servers change."""

    def __init__(self, workspace: Workspace, roots: Iterable[str | os.PathLike[str]] = ()) -> None:
        self.ws = workspace
        #: The folders paths may point into, resolved (symlinks followed) once, at start.
        self.roots = tuple(Path(os.path.realpath(Path(r).expanduser())) for r in roots)
        self._lock = threading.Lock()
        self._registry: Registry | None = None
        self._stamp: object = None

    def registry(self) -> Registry:
        """The catalog, loaded once and again whenever the workspace's own servers change
        (a file added, removed or rewritten there, by this server or anyone else)."""
        fresh = Registry(workspace=self.ws)
        stamp = _folder_stamp(fresh._user_dir())
        with self._lock:
            if self._registry is None or self._stamp != stamp:
                self._registry, self._stamp = fresh, stamp
            return self._registry

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

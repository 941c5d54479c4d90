"""What the bundled MCP server's tools and resources share: :class:`_State`, the server's
workspace and its server catalog, loaded once and reloaded whenever the workspace's own servers
(the folder that ``import_servers`` writes to) change on disk.
"""

import os
import threading
from pathlib import Path

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

    def __init__(self, workspace: Workspace) -> None:
        self.ws = workspace
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

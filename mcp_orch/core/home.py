"""Where the default workspace lives: ``$MCP_ORCH_HOME``, else the platform's user data folder.

>>> from mcp_orch.core.home import default_path
>>> default_path()            # PosixPath('/home/me/.local/share/mcp-orch') on Linux
"""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "MCP_ORCH_HOME"


def default_path() -> Path:
    env = os.environ.get(HOME_ENV)
    if env:
        return Path(env).expanduser()
    import platformdirs  # only when no folder is given

    return Path(platformdirs.user_data_dir("mcp-orch", appauthor=False))

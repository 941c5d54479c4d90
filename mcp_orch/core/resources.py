"""Where the bundled catalog and schemas live: inside the wheel, or at the top of a checkout."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

_PKG = Path(__file__).resolve().parents[1]  # the mcp_orch package


def data_dir(name: str) -> Path:
    """``catalog`` or ``schemas``: the wheel's copy (``mcp_orch/_data``) or the checkout's."""
    bundled = _PKG / "_data" / name
    if bundled.is_dir():
        return bundled
    return _PKG.parent / name


@cache
def load_schema(name: str) -> dict[str, Any]:
    """A JSON Schema from ``schemas/`` by file name."""
    with open(data_dir("schemas") / name, encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data

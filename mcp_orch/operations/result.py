"""The base of every operation's result."""

from __future__ import annotations

import json
from typing import Any


class Result:
    """A typed result: ``to_dict()`` is its JSON document (CLI ``--json`` and MCP alike)."""

    def to_dict(self) -> dict[str, Any]:  # pragma: no cover - every result defines it
        raise NotImplementedError

    def to_json(self) -> Any:
        """``to_dict()`` as plain JSON types (what goes over the wire)."""
        return json.loads(json.dumps(self.to_dict(), ensure_ascii=False, default=str))

    @property
    def ok(self) -> bool:
        """Whether the action succeeded as a check (checks return False on findings)."""
        return True

"""Operations: one function per user action, each returning a typed result.

Every front end (the CLI, the MCP server, the widgets) calls these and nothing else for an
action; a result's ``to_dict()`` is exactly what the CLI prints for ``--json`` and what the MCP
tool returns, so the two cannot drift apart.

    >>> from mcp_orch.operations import catalog, drafts, releases
    >>> catalog.list_servers(ws, search="git").to_dict()
    {'servers': [...], 'total': 3, 'offset': 0, 'limit': None, 'next_cursor': None}
    >>> drafts.add_server(ws, "cursor", "default", "time").to_dict()
    >>> releases.publish(ws, "cursor", "default", changelog="add time").to_dict()

Modules: :mod:`.catalog` (clients, servers, imports of server.json), :mod:`.drafts` (profiles,
drafts, import from a client, sync), :mod:`.releases` (publish, deploy, get, diff, drift,
rollback, restore, history, audit, verify, sample configs), :mod:`.keys` (signing keys),
:mod:`.checks` (the validation suite and the live probe), :mod:`.serving` (tokens, the bind
policy, install-self). Each module imports only what its actions need, so light commands stay
light. :class:`Result` (here) is the base of every result.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["Result"]


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

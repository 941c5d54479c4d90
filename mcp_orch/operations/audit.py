"""The audit-log action, kept off the release machinery so that ``mcp-orch audit-log`` loads only
the workspace and the log (``releases`` re-exports it for the front ends that use it).

    >>> audit_log(ws, client="cursor", action="deploy", limit=10).to_dict()
    {"events": [...], "count": 3}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mcp_orch.operations import Result
from mcp_orch.services.release.audit import AuditView

if TYPE_CHECKING:
    from mcp_orch.facade.workspace import Workspace


@dataclass
class AuditResult(Result):
    events: AuditView

    def to_dict(self) -> dict[str, Any]:
        events = list(self.events)
        return {"events": events, "count": len(events)}


def audit_log(
    ws: Workspace,
    *,
    since: str | None = None,
    action: str | None = None,
    client: str | None = None,
    profile: str | None = None,
    artifact_id: str | None = None,
    limit: int = 50,
) -> AuditResult:
    """The audit trail, newest first, filtered: at most ``limit`` events, read from the end of
    the log (the cost does not grow with the log's length)."""
    return AuditResult(
        ws.audit.query(
            client=client,
            profile=profile,
            action=action,
            artifact=artifact_id,
            since=since,
            limit=limit,
        )
    )

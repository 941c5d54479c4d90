"""The audit-log and verify actions, kept off the release machinery (pinning, probes, the
draft and artifact facades) so that ``mcp-orch audit-log`` and ``mcp-orch verify`` load only
what they read (``releases`` re-exports them for the front ends that use it).

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
    from mcp_orch.services.release.verify import VerifyReport


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


@dataclass
class VerifyResult(Result):
    report: VerifyReport

    @property
    def ok(self) -> bool:
        return self.report.ok

    def to_dict(self) -> dict[str, Any]:
        return self.report.to_dict()


def verify(ws: Workspace, *, full: bool = False) -> VerifyResult:
    """Check every stored artifact, signature and ref, and the audit chain (from the last
    verified event on, unless ``full``)."""
    return VerifyResult(ws.verify(full=full))

"""Registry sync: the workspace catalog kept in step with the official registry's list API.

    >>> registry_sync.sync_registry(ws).to_dict()["added"][:3]

Its own module, so the light catalog commands (``list-servers``) do not load the API client.
"""

from __future__ import annotations

from typing import Any

from mcp_orch.facade.catalog_sync import DEFAULT_URL, SyncReport
from mcp_orch.facade.catalog_sync import sync_registry as sync_catalog
from mcp_orch.facade.registry import Registry
from mcp_orch.facade.workspace import Workspace
from mcp_orch.operations import Result


class SyncRegistryResult(Result):
    def __init__(self, report: SyncReport) -> None:
        self.report = report

    def to_dict(self) -> dict[str, Any]:
        return self.report.to_dict()

    def __str__(self) -> str:
        return str(self.report)


def sync_registry(
    ws: Workspace, *, url: str | None = None, since: str | None = None
) -> SyncRegistryResult:
    """Sync the workspace catalog with the official registry's list API (``url``, by default
    the official registry): incremental after the first sync, or from ``since`` (RFC 3339);
    an interrupted sync resumes from its cursor. Each completed sync stores a snapshot of the
    catalog and an audit event with what was added, updated and removed."""
    report = sync_catalog(Registry(workspace=ws), url or DEFAULT_URL, since=since or None)
    return SyncRegistryResult(report)

"""Registry sync: the workspace catalog kept in step with the official registry's list API.

    >>> registry_sync.sync_registry(ws).to_dict()["added"][:3]

Its own module, so the light catalog commands (``list-servers``) do not load the API client.
"""

from __future__ import annotations

from typing import Any

from mcp_orch.facade import catalog_sources
from mcp_orch.facade.catalog_sources import Source, read_sources
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
    ws: Workspace,
    *,
    url: str | None = None,
    since: str | None = None,
    source: str | None = None,
) -> SyncRegistryResult:
    """Sync the workspace catalog with the official registry's list API (``url``, by default
    the official registry): incremental after the first sync, or from ``since`` (RFC 3339);
    an interrupted sync resumes from its cursor. Each completed sync stores a snapshot of the
    catalog and an audit event with what was added, updated and removed. With ``source``,
    the registry source of that name is synced (from its own URL) into its own layer."""
    if source:
        registry = Registry(workspace=ws, source=source)
        known = {s.name: s for s in read_sources(ws.path)}
        url = url or known[source].url
    else:
        registry = Registry(workspace=ws)
    report = sync_catalog(registry, url or DEFAULT_URL, since=since or None)
    return SyncRegistryResult(report)


class SourcesResult(Result):
    def __init__(self, rows: list[dict[str, Any]], changed: Source | None = None) -> None:
        self.rows, self.changed = rows, changed

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"sources": self.rows}
        if self.changed is not None:
            data["source"] = self.changed.to_dict()
        return data


def list_sources(ws: Workspace) -> SourcesResult:
    """Every layer of the catalog by priority, with its servers and how many are shown."""
    return SourcesResult(catalog_sources.list_sources(Registry(workspace=ws)))


def add_source(
    ws: Workspace,
    name: str,
    *,
    url: str | None = None,
    path: str | None = None,
    priority: int | None = None,
    replace: bool = False,
) -> SourcesResult:
    """Add a catalog source (a registry URL or local files) at a priority."""
    registry = Registry(workspace=ws)
    added = catalog_sources.add_source(
        registry, name, url=url, path=path, priority=priority, replace=replace
    )
    return SourcesResult(catalog_sources.list_sources(registry), added)


def remove_source(ws: Workspace, name: str) -> SourcesResult:
    """Remove a catalog source (and what a registry source synced)."""
    registry = Registry(workspace=ws)
    removed = catalog_sources.remove_source(registry, name)
    return SourcesResult(catalog_sources.list_sources(registry), removed)

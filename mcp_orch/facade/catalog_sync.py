"""Live sync of the workspace catalog with the official MCP Registry's list API.

>>> from mcp_orch.facade.catalog_sync import sync_registry
>>> report = sync_registry(ws.registry())                   # the first time: every record
>>> report.added[:3], report.snapshot                       # ['ai.x/y', ...], 'sha256:...'
>>> sync_registry(ws.registry()).since                      # then only what changed since

``GET /v0.1/servers`` is paged (``cursor``, ``limit``, ``updated_since``). Each page's records
are imported as soon as the page arrives (:meth:`Registry.import_server_json`: never a bundled
server replaced, never a downgrade), and the cursor of the next page is written to
``<workspace>/catalog-sync/state.json`` at once, so a sync that stops mid-way (a network error,
a 5xx) resumes from that cursor, with the same ``since``, the next time. A completed sync clears
the cursor and records ``last_synced`` (the time it started, UTC): the next sync without
``since`` asks only for records updated after it. A record whose status is ``deleted`` and that
is the catalog's current version of its name (or the registry's latest) removes that
workspace server; bundled servers are never touched.

Every completed sync stores the workspace catalog (``{name: server.json}`` of the non-bundled
servers) as canonical JSON, gzip'd and content-addressed, at
``catalog-sync/snapshots/<sha256>.json.gz``, and appends one audit event with the diff (names
added, updated, removed; capped at :data:`MAX_NAMES` each, with counts).
"""

from __future__ import annotations

import datetime as dt
import gzip
import html
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mcp_orch.core.clock import iso, now_utc
from mcp_orch.core.errors import InvalidConfig, ParseError, StoreCorrupt, UsageError
from mcp_orch.core.fs import atomic_write, locked, read_json, write_json
from mcp_orch.core.ids import canonical, sha256_id
from mcp_orch.facade.registry import Registry, name_file
from mcp_orch.services.registry_api.client import (
    CURSOR_PARAM,
    DEFAULT_URL,
    MAX_LIMIT,
    OFFICIAL_META,
    fetch_pages,
    format_since,
    servers_url,
)

__all__ = ["AUDIT_ACTION", "DEFAULT_URL", "MAX_NAMES", "SyncReport", "sync_registry"]

#: The audit action of a completed sync (its details: url, since, snapshot, added, updated,
#: removed, pages, rejected).
AUDIT_ACTION = "catalog-sync"
#: The most names of each kind an audit event lists (their counts are always whole).
MAX_NAMES = 200
OFFLINE_ENV = "MCP_ORCH_OFFLINE"
SYNC_DIR = "catalog-sync"


@dataclass
class SyncReport:
    """What one sync did: the URL and ``since`` it asked, how many pages it read, the names
    added, updated, unchanged and removed, how many records were rejected, the snapshot of
    the catalog it left (``sha256:...``) and whether it resumed an interrupted sync."""

    url: str
    since: str | None
    pages: int = 0
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    rejected: int = 0
    snapshot: str = ""
    resumed: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        since = f" (updated since {self.since})" if self.since else " (full)"
        lines = [
            f"synced {self.url}{since}: {self.pages} page(s)"
            + (", resumed an interrupted sync" if self.resumed else ""),
            f"  {len(self.added)} added, {len(self.updated)} updated, {self.unchanged} unchanged, "
            f"{len(self.removed)} removed name(s); {self.rejected} record(s) rejected",
        ]
        for label, names in (("added", self.added), ("updated", self.updated)):
            if names:
                shown = ", ".join(names[:10]) + (f" … {len(names) - 10} more" * (len(names) > 10))
                lines.append(f"  {label}: {shown}")
        if self.removed:
            lines.append(f"  removed: {', '.join(self.removed)}")
        lines.append(f"  snapshot {self.snapshot}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return "<pre>" + html.escape(str(self)) + "</pre>"


def offline() -> bool:
    """Whether ``MCP_ORCH_OFFLINE`` asks mcp-orch not to reach the network."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() not in ("", "0", "false", "no")


def sync_registry(
    registry: Registry,
    url: str = DEFAULT_URL,
    *,
    since: str | dt.datetime | None = None,
    limit: int = MAX_LIMIT,
    timeout: float = 30,
) -> SyncReport:
    """Sync the catalog of ``registry``'s workspace with the registry API at ``url``.

    ``since`` (RFC 3339) asks for records updated after it; left out, the time the last
    completed sync of this URL started (the first sync reads everything). An interrupted
    sync of this URL is resumed from its cursor (unless ``since`` asks for another window).
    Errors are typed (:class:`~mcp_orch.services.registry_api.RegistryAPIError`,
    ``UsageError``, ``ParseError``, ``NotFound``); what the pages before the error brought is
    kept, and the next sync goes on from there."""
    if offline():
        raise UsageError(
            f"offline: {OFFLINE_ENV} is set",
            f"unset {OFFLINE_ENV} to sync the catalog with the registry",
        )
    key = servers_url(url)  # checks the URL; one state per list endpoint
    asked = format_since(since) if since is not None else None
    root = registry.path / SYNC_DIR
    with locked(root / "sync"):
        state = _read_state(root / "state.json")
        entry = state.get(key) or {}
        partial = entry.get("partial") or {}
        cursor = entry.get(CURSOR_PARAM) or None
        resumed = bool(cursor) and (asked is None or asked == entry.get("since"))
        if resumed:
            window = entry.get("since")
            started = str(entry.get("started") or iso(now_utc()))
        else:
            partial, cursor = {}, None
            window = asked if asked is not None else entry.get("last_synced")
            started = iso(now_utc())
        report = SyncReport(url=url, since=window, resumed=resumed)
        progress = _Progress.of(partial, _workspace_docs(registry))

        def keep(next_cursor: str | None) -> None:
            entry.update(cursor=next_cursor, since=window, started=started)
            entry["partial"] = progress.to_dict()
            state[key] = entry
            write_json(root / "state.json", state)

        pages = fetch_pages(url, since=window, cursor=cursor, limit=limit, timeout=timeout)
        for page in pages:
            progress.pages += 1
            _apply(registry, page.records, progress)
            keep(page.next_cursor)
        report.pages = progress.pages
        report.added = sorted(progress.added)
        report.updated = sorted(progress.updated - progress.added)
        report.removed = sorted(progress.removed)
        report.unchanged = len(progress.seen - progress.added - progress.updated - progress.removed)
        report.rejected = progress.rejected
        report.snapshot = _snapshot(registry, root / "snapshots")
        registry.audit.append(AUDIT_ACTION, details=_event(report))
        state[key] = {"last_synced": started, CURSOR_PARAM: None, "since": window}
        write_json(root / "state.json", state)
    return report


class _Progress:
    """What a sync has done so far (kept in the state, so a resumed sync reports it all).
    A plain class: a dataclass costs ~1.5 ms at import, on the list-servers path."""

    def __init__(
        self,
        baseline: dict[str, str],  # name -> fingerprint in the workspace before the sync
        pages: int = 0,
        added: set[str] | None = None,
        updated: set[str] | None = None,
        removed: set[str] | None = None,
        seen: set[str] | None = None,
        rejected: int = 0,
    ) -> None:
        self.baseline, self.pages, self.rejected = baseline, pages, rejected
        self.added = added or set()
        self.updated = updated or set()
        self.removed = removed or set()
        self.seen = seen or set()

    @classmethod
    def of(cls, partial: dict[str, Any], docs: dict[str, dict[str, Any]]) -> _Progress:
        baseline = partial.get("baseline")
        if not isinstance(baseline, dict):
            baseline = {name: _fingerprint(doc) for name, doc in docs.items()}
        return cls(
            baseline=baseline,
            pages=int(partial.get("pages") or 0),
            added=set(partial.get("added") or ()),
            updated=set(partial.get("updated") or ()),
            removed=set(partial.get("removed") or ()),
            seen=set(partial.get("seen") or ()),
            rejected=int(partial.get("rejected") or 0),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "baseline": self.baseline,
            "pages": self.pages,
            "added": sorted(self.added),
            "updated": sorted(self.updated),
            "removed": sorted(self.removed),
            "seen": sorted(self.seen),
            "rejected": self.rejected,
        }


def _fingerprint(doc: dict[str, Any]) -> str:
    """A cheap identity of a document (the snapshot alone pays for canonical JSON)."""
    text = json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return sha256_id(text.encode("utf-8"))


def _status(record: dict[str, Any]) -> str:
    meta = (record.get("_meta") or {}).get(OFFICIAL_META) or {}
    return str(meta.get("status") or "active") if isinstance(meta, dict) else "active"


def _apply(registry: Registry, records: list[dict[str, Any]], progress: _Progress) -> None:
    """Import one page's records and act on its deleted ones."""
    live = [r for r in records if _status(r) != "deleted"]
    deleted = [r for r in records if _status(r) == "deleted"]
    if live:
        try:
            view = registry.import_server_json(live)
        except (InvalidConfig, ParseError, UsageError):
            progress.rejected += len(live)  # every record of the page was rejected
        else:
            progress.rejected += view.counts.get("rejected", 0)
            for server in view:
                if server.source != registry.own_source:
                    continue
                name = server.name
                progress.seen.add(name)
                progress.removed.discard(name)
                before = progress.baseline.get(name)
                if before is None:
                    progress.added.add(name)
                elif before != _fingerprint(server.doc):
                    progress.updated.add(name)
            progress.seen.update(s["name"] for s in view.skipped if s.get("name"))
    current_docs = _workspace_docs(registry) if deleted else {}
    for record in deleted:
        doc = record.get("server") or {}
        gone, version = doc.get("name"), doc.get("version")
        if not isinstance(gone, str):
            continue
        progress.seen.add(gone)
        meta = (record.get("_meta") or {}).get(OFFICIAL_META) or {}
        current = current_docs.get(gone)
        if current is None:
            continue  # not in the workspace (or a bundled server: never removed)
        if current.get("version") == version or meta.get("isLatest") is True:
            _remove(registry, gone)
            del current_docs[gone]
            progress.removed.add(gone)
            progress.added.discard(gone)
            progress.updated.discard(gone)


def _workspace_docs(registry: Registry) -> dict[str, dict[str, Any]]:
    return {s.name: s.doc for s in registry.all() if s.source == registry.own_source}


def _remove(registry: Registry, name: str) -> None:
    """Remove a workspace server's file (and an old id-named file of the same name)."""
    folder = registry._user_dir()
    for server in registry.all():
        if server.name == name and server.source == registry.own_source:
            (folder / name_file(name)).unlink(missing_ok=True)
            old = folder / f"{server.id}.json"
            if old.exists():
                try:
                    if read_json(old).get("name") == name:
                        old.unlink()
                except (OSError, StoreCorrupt, AttributeError):
                    pass
    registry._forget()  # the catalog is read again (here and by every other registry)
    registry._changed()


def _snapshot(registry: Registry, folder: Path) -> str:
    """Store the workspace catalog, content-addressed; its ``sha256:...`` id."""
    data = canonical(dict(sorted(_workspace_docs(registry).items())))
    digest = sha256_id(data)
    path = folder / f"{digest.split(':', 1)[1]}.json.gz"
    if not path.exists():
        atomic_write(path, gzip.compress(data, mtime=0))
    return digest


def _event(report: SyncReport) -> dict[str, Any]:
    details: dict[str, Any] = {
        "kind": "catalog-sync",
        "url": report.url,
        "since": report.since,
        "snapshot": report.snapshot,
        "pages": report.pages,
        "rejected": report.rejected,
        "unchanged": report.unchanged,
        "resumed": report.resumed,
    }
    for label in ("added", "updated", "removed"):
        names: list[str] = getattr(report, label)
        details[label] = names[:MAX_NAMES]
        details[f"{label}_count"] = len(names)
    return details


def _read_state(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    data = read_json(path)
    if not isinstance(data, dict):
        raise StoreCorrupt(f"{path} is damaged: not an object", f"remove {path} to sync afresh")
    return data

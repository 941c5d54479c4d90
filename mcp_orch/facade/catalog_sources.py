"""Catalog sources with a priority: the official registry, a company sub-registry, local files.

>>> from mcp_orch.facade.catalog_sources import add_source, list_sources
>>> add_source(ws.registry(), "acme", url="https://mcp.acme.example", priority=70)
>>> add_source(ws.registry(), "mine", path="~/servers", priority=95)
>>> sync_registry(ws.registry(source="acme"), "https://mcp.acme.example")

The catalog a user sees is the bundled servers, then every source by priority (higher first):
where two sources hold the same registry name, the higher one's record is the catalog's (whatever
its version); within one source the newer version wins, as for any import. A bundled server is
never replaced. Sources are kept in ``<workspace>/catalog-sources.json``:

- a **registry** source (``url``) is a registry API (``/v0.1/servers``); ``mcp-orch registry
  sync --source NAME`` pages it into ``<workspace>/catalog-sources/NAME/``, one file per name;
- a **files** source (``path``) is a folder or a file of server.json documents (one, a list or
  an API page), read where it is each time the catalog loads: nothing is copied; invalid
  documents there are left out and counted.

The workspace's own catalog (``register``, ``import-servers`` and a sync without ``--source``)
is the source ``workspace`` at priority :data:`WORKSPACE_PRIORITY`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcp_orch.core.errors import (
    AlreadyExists,
    InvalidConfig,
    NotFound,
    ParseError,
    StoreCorrupt,
    UsageError,
)
from mcp_orch.core.fs import locked, read_json, write_json
from mcp_orch.core.ids import check_id
from mcp_orch.domain.catalog import iter_docs, validate_doc
from mcp_orch.facade.registry import SOURCES_FILE, WORKSPACE_PRIORITY
from mcp_orch.services.registry_api.client import servers_url

if TYPE_CHECKING:
    from mcp_orch.facade.registry import Registry

__all__ = [
    "AUDIT_ACTION",
    "DEFAULT_PRIORITY",
    "SOURCES_DIR",
    "SOURCES_FILE",
    "WORKSPACE_PRIORITY",
    "Source",
    "add_source",
    "list_sources",
    "read_sources",
    "remove_source",
]

#: Where registry sources keep their records.
SOURCES_DIR = "catalog-sources"
#: The priority a new source gets when none is given: below the workspace's own catalog.
DEFAULT_PRIORITY = 50
#: The audit action of adding or removing a source.
AUDIT_ACTION = "catalog-source"
#: Names a source cannot take (they are the catalog's own layers).
RESERVED = ("bundled", "workspace")


@dataclass(frozen=True)
class Source:
    """One catalog source: a registry API (``url``) or local files (``path``)."""

    name: str
    priority: int
    url: str | None = None
    path: str | None = None

    @property
    def kind(self) -> str:
        return "registry" if self.url else "files"

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None} | {"kind": self.kind}


def _file(root: Path) -> Path:
    return root / SOURCES_FILE


def read_sources(root: Path) -> list[Source]:
    """The sources of the workspace folder ``root``, highest priority first (none when the
    file does not exist: browsing creates nothing)."""
    path = _file(root)
    if not path.exists():
        return []
    data = read_json(path)
    rows = data.get("sources") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise StoreCorrupt(
            f"{path} is damaged: no 'sources' list", f"fix or remove {path} (your sources)"
        )
    out: list[Source] = []
    for row in rows:
        if (
            not isinstance(row, dict)
            or not isinstance(row.get("name"), str)
            or not isinstance(row.get("priority"), int)
            or not (isinstance(row.get("url"), str) or isinstance(row.get("path"), str))
        ):
            raise StoreCorrupt(
                f"{path} is damaged: a source needs a name, a priority and a url or path",
                f"fix or remove {path}",
            )
        out.append(Source(row["name"], row["priority"], row.get("url"), row.get("path")))
    return sorted(out, key=lambda s: (-s.priority, s.name))


def _write(root: Path, sources: list[Source]) -> None:
    rows = [{k: v for k, v in asdict(s).items() if v is not None} for s in sources]
    write_json(_file(root), {"sources": sorted(rows, key=lambda r: (-r["priority"], r["name"]))})


def add_source(
    registry: Registry,
    name: str,
    *,
    url: str | None = None,
    path: str | Path | None = None,
    priority: int | None = None,
    replace: bool = False,
) -> Source:
    """Add a source (exactly one of ``url`` and ``path``) at ``priority`` (default
    :data:`DEFAULT_PRIORITY`; the workspace's own catalog is :data:`WORKSPACE_PRIORITY`)."""
    check_id(name, "source name")
    if name in RESERVED:
        raise UsageError(
            f"{name!r} is the catalog's own layer, not a source name",
            "choose another name",
            inputs=("name",),
        )
    if (url is None) == (path is None):
        raise UsageError(
            "a source is a registry URL or local files: give exactly one of them",
            "a registry API such as https://registry.modelcontextprotocol.io, or a folder "
            "of server.json files",
            inputs=("url", "path"),
        )
    if priority is None:
        priority = DEFAULT_PRIORITY
    if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 999:
        raise UsageError(
            f"priority must be a whole number from 0 to 999, not {priority!r}",
            f"the workspace's own catalog is {WORKSPACE_PRIORITY}; higher wins",
            inputs=("priority",),
        )
    if priority == WORKSPACE_PRIORITY:
        raise UsageError(
            f"priority {WORKSPACE_PRIORITY} is the workspace's own catalog",
            "choose a higher priority to win over it, or a lower one",
            inputs=("priority",),
        )
    location: dict[str, str] = {}
    if url is not None:
        servers_url(url)  # a URL the sync can page (typed error otherwise)
        location["url"] = url.rstrip("/")
    else:
        folder = Path(path).expanduser().absolute()  # type: ignore[arg-type]
        if not folder.exists():
            raise NotFound(f"no such file or folder: {folder}", "check the path", inputs=("path",))
        location["path"] = str(folder)
    root = registry.path
    with locked(root / SOURCES_DIR / "sources"):
        sources = read_sources(root)
        if any(s.name == name for s in sources) and not replace:
            raise AlreadyExists(
                f"a source named {name!r} exists", "remove it first, or pass replace"
            )
        if any(s.priority == priority and s.name != name for s in sources):
            clash = next(s.name for s in sources if s.priority == priority)
            raise UsageError(
                f"source {clash!r} already has priority {priority}",
                "give each source its own priority: the higher one wins a name",
                inputs=("priority",),
            )
        source = Source(name, priority, location.get("url"), location.get("path"))
        _write(root, [s for s in sources if s.name != name] + [source])
    registry._forget()  # the catalog is read again (here and by every other registry)
    registry._changed()
    registry.audit.append(AUDIT_ACTION, details={"change": "added", **source.to_dict()})
    return source


def remove_source(registry: Registry, name: str) -> Source:
    """Remove a source and the records a registry source synced (local files are left where
    they are)."""
    import shutil

    root = registry.path
    with locked(root / SOURCES_DIR / "sources"):
        sources = read_sources(root)
        found = next((s for s in sources if s.name == name), None)
        if found is None:
            raise NotFound(
                f"no catalog source {name!r}",
                f"sources: {', '.join(s.name for s in sources) or '(none)'}",
                inputs=("name",),
            )
        _write(root, [s for s in sources if s.name != name])
        if found.kind == "registry":
            shutil.rmtree(root / SOURCES_DIR / name, ignore_errors=True)
    registry._forget()  # the catalog is read again (here and by every other registry)
    registry._changed()
    registry.audit.append(AUDIT_ACTION, details={"change": "removed", **found.to_dict()})
    return found


def list_sources(registry: Registry) -> list[dict[str, Any]]:
    """Every layer of the catalog, highest priority first, with how many servers it holds,
    how many of them the catalog shows (a higher layer may hold the same name), and the
    invalid documents a files source holds."""
    shown: dict[str, int] = {}
    for server in registry.all():
        shown[server.source] = shown.get(server.source, 0) + 1
    held = registry.layer_counts()
    rows: list[dict[str, Any]] = [
        {
            "name": "bundled",
            "kind": "bundled",
            "priority": None,
            "location": "mcp-orch",
            "servers": held.get("bundled", (0, 0))[0],
            "shown": shown.get("bundled", 0),
            "invalid": 0,
        }
    ]
    layers = [Source("workspace", WORKSPACE_PRIORITY, path=str(registry.path / "catalog"))]
    for source in sorted([*read_sources(registry.path), *layers], key=lambda s: -s.priority):
        count, invalid = held.get(source.name, (0, 0))
        rows.append(
            {
                "name": source.name,
                "kind": "workspace" if source.name == "workspace" else source.kind,
                "priority": source.priority,
                "location": source.url or source.path,
                "servers": count,
                "shown": shown.get(source.name, 0),
                "invalid": invalid,
            }
        )
    return rows


def source_docs(source: Source) -> tuple[list[dict[str, Any]], int]:
    """The documents of a files source and how many were not valid server.json."""
    assert source.path is not None
    base = Path(source.path)
    files = sorted(base.rglob("*.json")) if base.is_dir() else [base]
    docs: list[dict[str, Any]] = []
    invalid = 0
    for file in files:
        try:
            data = json.loads(file.read_bytes().decode("utf-8-sig"))
            found = list(iter_docs(data))
        except (OSError, ValueError, RecursionError, ParseError):
            invalid += 1
            continue
        for doc in found:
            try:
                docs.append(validate_doc(doc, str(file)))
            except (InvalidConfig, ParseError):  # counted, not fatal
                invalid += 1
    return docs, invalid

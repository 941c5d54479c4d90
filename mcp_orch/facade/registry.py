"""The catalog of one workspace: the bundled servers plus the ones registered or imported there.

>>> from mcp_orch import Registry, Workspace
>>> reg = Registry(workspace=Workspace("./demo"))
>>> reg.find("github").title
'GitHub'
>>> reg.search("database", transport="stdio").frame()      # polars.DataFrame
>>> reg.import_server_json("server.json")                  # one doc, a list, or an API page

A server's identity is its registry name (``io.github.owner/name``); its short id (``time``,
``github``) is an alias. A bundled server keeps its id and cannot be replaced by an import; an
imported server whose short id is already another name's (a bundled one, or an earlier import)
gets its full name as its id, so ``find("time")`` keeps finding the bundled official server and
``find("io.github.yokingma/time-mcp")`` the other one. Re-importing a name keeps the newer
version (semantic version, then ``isLatest``, then the publish time): never a downgrade.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcp_orch.core.errors import (
    AlreadyExists,
    InvalidConfig,
    MCPOrchError,
    NotFound,
    ParseError,
    UsageError,
)
from mcp_orch.core.fs import (
    atomic_write,
    default_path,
    json_files,
    read_json,
    read_limited,
    write_json,
)
from mcp_orch.core.ids import check_id
from mcp_orch.core.markup import badge, html_table, page, safe_html
from mcp_orch.core.resources import data_dir
from mcp_orch.core.tables import Table
from mcp_orch.core.text import plural
from mcp_orch.domain.catalog import (
    META_KEY,
    STATUSES,
    CatalogView,
    Server,
    iter_docs,
    validate_doc,
)
from mcp_orch.domain.secrets import refuse_secret_text, secret_in_text

if TYPE_CHECKING:
    from mcp_orch.facade.workspace import Workspace
    from mcp_orch.services.release.audit import AuditLog


#: Above every source: a bundled server is never replaced.
BUNDLED_PRIORITY = 10_000
#: The priority of the workspace's own catalog (register, import-servers, plain sync).
WORKSPACE_PRIORITY = 100
#: Where the catalog's sources are listed (see :mod:`mcp_orch.facade.catalog_sources`).
SOURCES_FILE = "catalog-sources.json"
#: The catalog's generation: a random token every change made through mcp-orch rewrites
#: (register, import, sync, a source added or removed), so :meth:`Registry.refresh` sees it
#: even within the file system's timestamp granularity.
GENERATION_FILE = Path("catalog") / ".generation"
#: A folder changed less than this before the catalog was read may change again within the
#: same tick of its clock unseen: :meth:`Registry.refresh` compares its listing then. This is
#: the window of a file system that keeps whole seconds (FAT keeps 2 s); see :func:`racy_ns`.
RACY_NS = 2_000_000_000
#: The window when the folder's time has a fraction of a second (ext4, XFS, btrfs, tmpfs, APFS,
#: NTFS): such times move with the kernel's clock tick (1-10 ms) or the file system's own unit
#: (10 ms for exFAT), well inside it.
FINE_RACY_NS = 100_000_000
#: The most names an import's audit event lists (its counts are always whole).
MAX_NAMES = 200


class Registry:
    """The catalog: bundled servers plus the ones registered in the workspace
    (``$MCP_ORCH_HOME`` or the user data folder when no workspace is given)."""

    def __init__(
        self,
        workspace: Workspace | None = None,
        *,
        path: str | os.PathLike[str] | None = None,
        source: str | None = None,
    ) -> None:
        """The catalog of ``workspace``; or, with ``path``, of the workspace folder there without
        opening the workspace (browsing creates nothing; ``mcp-orch list-servers`` does this).
        With ``source``, the bundled servers and that registry source's records only: what
        an import or a sync writes goes into that source (see
        :mod:`mcp_orch.facade.catalog_sources`)."""
        self.workspace = workspace
        if workspace is not None:
            self.path: Path = workspace.path
        else:
            self.path = Path(path).expanduser().absolute() if path is not None else default_path()
        self._audit: AuditLog | None = None
        self._servers: dict[str, Server] | None = None
        self._layers: dict[str, tuple[int, int]] = {}
        self._index: _Index | None = None
        self._stamp: tuple[Any, ...] | None = None  # the disk's stamp when it was loaded
        self._names: list[str] | None = None  # the own folder's listing, while its time is racy
        self._sources_seen: tuple[tuple[int, int, int] | None, list[Any]] = (None, [])
        self.source: str | None = None
        if source is not None and source != "workspace":
            known = {s.name: s for s in _sources_api().read_sources(self.path)}
            if source not in known or known[source].kind != "registry":
                raise NotFound(
                    f"no registry source {source!r} in the catalog's sources",
                    "add it as a registry source (with its URL) first",
                    inputs=("source",),
                )
            self.source = source

    @property
    def own_source(self) -> str:
        """The layer this catalog's imports write to: ``workspace``, or its source's name."""
        return self.source or "workspace"

    @property
    def audit(self) -> AuditLog:
        """Where catalog changes are recorded: the workspace's audit log."""
        if self._audit is None and self.workspace is not None:
            self._audit = self.workspace.audit
        if self._audit is None:
            # only a registry without a workspace builds its own (the release side is not
            # loaded to browse the catalog)
            from mcp_orch.services.release.audit import AuditLog

            self._audit = AuditLog(self.path / "audit")
        return self._audit

    def _user_dir(self) -> Path:
        if self.source is not None:
            return self.path / _sources_api().SOURCES_DIR / self.source
        return self.path / "catalog"

    # -- freshness -----------------------------------------------------------------------------
    def stamp(self) -> tuple[Any, ...]:
        """What tells whether the catalog on disk changed, in a few system calls whatever its
        size: the catalog's generation (rewritten by every change made through mcp-orch:
        register, import, sync, a source added or removed), the folder this catalog's own
        servers live in (a file added, removed or renamed there by hand changes its time), the
        sources file, each registry source's folder, and every file of each files source
        (those are yours to edit in place). Not seen: a file of the workspace catalog or of a
        synced registry source edited in place by hand (not replaced), until the next change.

        A folder's time has the file system's granularity (a few milliseconds, or seconds):
        while the folder changed less than :func:`racy_ns` before the catalog was read, a
        file added or removed in that same tick would not move it, so :meth:`refresh` also
        compares the folder's listing then (as git does for a racily clean index)."""
        parts: list[Any] = [_read_generation(self.path), _dir_stamp(self._user_dir())]
        if self.source is not None:
            return tuple(parts)
        sources_stat = _stat(self.path / SOURCES_FILE)
        parts.append(sources_stat)
        if sources_stat is None:
            return tuple(parts)
        if self._sources_seen[0] != sources_stat:  # parsed again only when the file changed
            self._sources_seen = (sources_stat, _sources_api().read_sources(self.path))
        api = _sources_api()
        for src in self._sources_seen[1]:
            if src.kind == "registry":
                parts.append(_dir_stamp(self.path / api.SOURCES_DIR / src.name))
            else:
                parts.append(_files_stamp(Path(src.path)))
        return tuple(parts)

    @property
    def loaded(self) -> bool:
        """Whether the catalog has been read (it is read on first use)."""
        return self._servers is not None

    def refresh(self) -> bool:
        """Read the catalog again on next use if it changed on disk since it was read (see
        :meth:`stamp` for what is seen); whether it did. A registry kept by a long-lived
        process (the MCP server) calls this before each use."""
        if self._servers is None:
            return False
        stamp = self.stamp()
        if stamp == self._stamp:
            if self._names is None:
                return False
            if _listing(self._user_dir()) == self._names:
                if time.time_ns() - stamp[1][1] >= racy_ns(stamp[1][1]):
                    self._names = None  # its clock moved on: a change now moves its time
                return False
        self._forget()
        return True

    def _forget(self) -> None:
        """Drop what was read: the next use reads the catalog again."""
        self._servers, self._index, self._stamp, self._names = None, None, None, None

    def _changed(self) -> None:
        """Record a change made through this registry: a new generation, so every other
        registry (another process, or the MCP server's) reads the catalog again."""
        self._index = None
        _bump_generation(self.path)

    def _load(self) -> dict[str, Server]:
        if self._servers is None:
            stamp = self.stamp()  # before reading: a change made meanwhile is seen next time
            folder = stamp[1]
            racy = folder is not None and time.time_ns() - folder[1] < racy_ns(folder[1])
            names = _listing(self._user_dir()) if racy else None
            servers: dict[str, Server] = {}
            by_name: dict[str, str] = {}  # registry name -> id
            layers: dict[str, tuple[int, int]] = {}
            bundled = json_files(data_dir("catalog"))
            for path in bundled:
                s = Server(read_json(path), "bundled")
                s.priority = BUNDLED_PRIORITY
                servers[s.id] = s
                by_name[s.name] = s.id
            layers["bundled"] = (len(bundled), 0)
            for label, priority, docs, invalid in self._sources():
                layers[label] = (len(docs), invalid)
                for doc in docs:
                    s = Server(doc, label)
                    s.priority = priority
                    self._admit(servers, by_name, s)
            self._servers, self._layers, self._index = servers, layers, None
            self._stamp, self._names = stamp, names
        return self._servers

    def _search_index(self) -> _Index:
        servers = self._load()
        if self._index is None:
            self._index = _Index(servers.values())
        return self._index

    def _sources(self) -> list[tuple[str, int, list[dict[str, Any]], int]]:
        """The catalog's layers after the bundled one, highest priority first: (label,
        priority, documents, invalid documents)."""
        if self.source is not None:
            docs = [read_json(p) for p in json_files(self._user_dir())]
            return [(self.source, 0, docs, 0)]
        own = [read_json(p) for p in json_files(self._user_dir())]
        out = [("workspace", WORKSPACE_PRIORITY, own, 0)]
        if not (self.path / SOURCES_FILE).exists():
            return out  # the common case: no sources, nothing more to read
        api = _sources_api()
        for src in api.read_sources(self.path):
            if src.kind == "registry":
                folder = self.path / api.SOURCES_DIR / src.name
                docs, invalid = [read_json(p) for p in json_files(folder)], 0
            else:
                docs, invalid = api.source_docs(src)
            out.append((src.name, src.priority, docs, invalid))
        return sorted(out, key=lambda row: -row[1])

    def _own_priority(self) -> int:
        return 0 if self.source is not None else WORKSPACE_PRIORITY

    def layer_counts(self) -> dict[str, tuple[int, int]]:
        """Per layer (``bundled``, ``workspace``, each source): how many documents it holds
        and how many were invalid."""
        self._load()
        return dict(self._layers)

    @staticmethod
    def _admit(servers: dict[str, Server], by_name: dict[str, str], s: Server) -> None:
        """Add a server of a layer without letting it take another name's id: a name a
        higher layer holds stays that layer's (a bundled name is never replaced); the same
        name again in one layer keeps the newer version; an id that is already another
        name's becomes this server's full name."""
        known = by_name.get(s.name)
        if known is not None:
            old = servers[known]
            if old.priority > s.priority:
                return
            if old.priority == s.priority and version_key(old.doc) >= version_key(s.doc):
                return
            s.id = known
        elif s.id in servers and servers[s.id].name != s.name:
            s.id = s.name  # the short id is another server's: this one goes by its name
        servers[s.id] = s
        by_name[s.name] = s.id

    def __len__(self) -> int:
        return len(self._load())

    def __iter__(self) -> Any:
        return iter(self.all())

    def _per_layer(self) -> list[tuple[str, int, int, int]]:
        """(layer, servers it gives the catalog, documents it holds, invalid documents)."""
        servers = self._load()
        given: dict[str, int] = {}
        for s in servers.values():
            given[s.source] = given.get(s.source, 0) + 1
        rows = [
            (label, given.pop(label, 0), docs, bad) for label, (docs, bad) in self._layers.items()
        ]
        return rows + [(label, n, n, 0) for label, n in given.items()]

    def __repr__(self) -> str:
        try:
            layers = ", ".join(f"{label} {n}" for label, n, _, _ in self._per_layer() if n)
            count = plural(len(self), "server")
        except Exception:  # a repr never raises: an unreadable catalog shows its folder only
            return f"<Registry {self.path}>"
        source = f" source={self.source}" if self.source else ""
        return f"<Registry {self.path}{source}: {count} ({layers})>"

    def _repr_html_(self) -> str:
        def render() -> str:
            layers = self._per_layer()
            servers = self.all()
            invalid = sum(bad for _, _, _, bad in layers)
            head = (
                f"<div><b>Catalog</b> <code>{escape(str(self.path))}</code>"
                + (f" · source <code>{escape(self.source)}</code>" if self.source else "")
                + f": {escape(plural(len(servers), 'server'))}"
                + (f" {badge('warning', plural(invalid, 'invalid document'))}" if invalid else "")
                + "</div>"
            )
            return page(
                head,
                html_table(
                    ["layer", "servers", "documents", "invalid"],
                    layers,
                    title="by layer (highest priority wins a name)",
                ),
                html_table(
                    ["id", "title", "transports", "source", "description"],
                    [(s.id, s.title, s.transports, s.source, s.description) for s in servers],
                    limit=20,
                    title="servers",
                ),
            )

        return safe_html(render, self)

    def all(self) -> CatalogView:
        return CatalogView(sorted(self._load().values(), key=lambda s: s.id))

    def table(self, **options: Any) -> Table:
        """The whole catalog as a sortable, filterable, paged table (itables, offline; the
        static table without it); ``reg.search(...).table()`` for part of it."""
        return self.all().table(**options)

    def get(self, server_id: str) -> Server:
        """The server with this exact id (or official name)."""
        servers = self._load()
        if server_id in servers:
            return servers[server_id]
        for s in servers.values():
            if s.name == server_id:
                return s
        raise NotFound(f"no server {server_id!r} in the catalog", self._closest_hint(server_id))

    def _closest_hint(self, query: str) -> str:
        import difflib

        close = difflib.get_close_matches(query.lower(), list(self._load()), n=5, cutoff=0.4)
        if close:
            return f"closest ids: {', '.join(close)}"
        return "search the catalog with a few words to browse it"

    def find(self, query: str) -> Server:
        """Exact id, name or title; else the one server that matches closely; else ``NotFound``."""
        servers = self._load()
        q = query.strip().lower()
        for s in servers.values():
            if q in (s.id, s.name.lower(), s.title.lower()):
                return s
        partial = [
            s
            for s in servers.values()
            if q and (q in s.id or q in s.name.lower() or q in s.title.lower())
        ]
        active = [s for s in partial if s.status == "active"]
        if active:  # a deprecated or deleted server is found by its exact id or name only
            partial = active
        if len(partial) == 1:
            return partial[0]
        import difflib

        close = difflib.get_close_matches(q, list(servers), n=5, cutoff=0.8)
        if len(close) == 1 and not partial:
            return servers[close[0]]
        candidates = sorted({s.id for s in partial} | set(close))
        if candidates:
            raise NotFound(
                f"{query!r} matches several servers: {', '.join(candidates[:8])}",
                "use one of these ids exactly",
            )
        raise NotFound(f"no server matches {query!r}", self._closest_hint(q))

    def search(
        self,
        text: str = "",
        transport: str | None = None,
        tag: str | None = None,
        *,
        status: str = "active",
    ) -> CatalogView:
        """Servers whose id, name, title, description or tags contain every word of ``text``;
        ``transport`` is stdio, streamable-http, sse or remote; ``tag`` an exact tag;
        ``status`` the registry status to show: ``active`` (the default: deprecated and
        deleted records are kept in the catalog but hidden), ``deprecated``, ``deleted`` or
        ``any``. Ranked:
        an exact id or title first, then bundled servers, then vendor-official ones (a verified
        domain namespace such as ``com.notion``), then those whose id or title holds the words,
        then by the priority of their source, then by id."""
        words = [w for w in text.lower().split() if w]
        if transport not in (None, "", "stdio", "streamable-http", "sse", "remote"):
            raise UsageError(
                f"unknown transport {transport!r}", "use stdio, streamable-http, sse or remote"
            )
        if status not in (*STATUSES, "any"):
            raise UsageError(
                f"unknown status {status!r}",
                f"use {', '.join(STATUSES)} or any",
                inputs=("status",),
            )
        return self._search_index().search(words, transport, tag.lower() if tag else None, status)

    def register(
        self, doc: dict[str, Any], *, replace: bool = False, source: str | None = None
    ) -> Server:
        """Add a server of your own (an official server.json document) to the workspace.
        ``replace`` lets it take the id of another workspace server (whose entry is removed);
        a bundled server's id or name is never taken."""
        doc = validate_doc(doc, "server")
        refuse_secrets_in_doc(doc)
        server = Server(doc, self.own_source)
        server.priority = self._own_priority()
        check_id(server.id, "server id")
        servers = self._load()
        existing = servers.get(server.id)
        bundled_name = next(
            (s for s in servers.values() if s.name == server.name and s.source == "bundled"), None
        )
        if bundled_name is not None or (
            existing is not None and existing.source == "bundled" and existing.name != server.name
        ):
            clash = bundled_name or existing
            assert clash is not None
            raise AlreadyExists(
                f"{clash.id!r} ({clash.name}) is a bundled server: it cannot be replaced",
                f"give your server another name and set _meta['{META_KEY}']['id'] to another id",
            )
        if existing is not None and existing.name != server.name:
            if not replace:
                raise AlreadyExists(
                    f"a server with id {server.id!r} already exists ({existing.name})",
                    f"set _meta['{META_KEY}']['id'] to another id, or pass replace=True",
                )
            (self._user_dir() / name_file(existing.name)).unlink(missing_ok=True)
            (self._user_dir() / f"{existing.id}.json").unlink(missing_ok=True)
        self._write(server)
        self._load()[server.id] = server
        self._changed()
        details = {"server": server.id, "name": server.name}
        if source:
            details["file"] = source
        self.audit.append("register", details=details)
        return server

    def _write(self, server: Server) -> None:
        """Store a workspace server in the file named after its registry name (a file of the
        same name under its old id-based file name is removed)."""
        target = self._user_dir() / name_file(server.name)
        write_json(target, server.doc)
        self._drop_old_file(server, target)

    def _drop_old_file(self, server: Server, target: Path) -> None:
        old = self._user_dir() / f"{server.id}.json"
        if old != target and old.exists():
            try:
                if read_json(old).get("name") == server.name:
                    old.unlink()
            except (OSError, ValueError):
                pass

    def _write_all(self, servers: list[Server], placed: list[Path]) -> None:
        """Store imported servers as :meth:`_write` does, each file atomically, with the
        flushes batched (:func:`_write_files`); ``placed`` gets each file put in place."""
        folder = self._user_dir()
        files = [(folder / name_file(s.name), _json_bytes(s.doc)) for s in servers]
        _write_files(files, placed)
        for server, target in zip(servers, placed, strict=False):
            self._drop_old_file(server, target)

    def import_server_json(self, source: str | Path | dict[str, Any] | list[Any]) -> ImportView:
        """Import official server.json documents: a path, one document, a list of them, or a
        registry API page ``{"servers": [{"server": ..., "_meta": ...}]}``.

        Every valid record is taken; each other one is listed in ``rejected`` with its reason
        (not a valid server.json, or a secret in its name, title or a description). Of several
        versions of one name the newest is kept, and an import never downgrades what the
        catalog has, never replaces a bundled server and never takes another name's id
        (see the module docs). ``counts`` says how many names were new, updated, unchanged,
        older than the catalog's, and how many records were rejected; if every record is
        rejected, that is an error."""
        where = "inline document"
        if isinstance(source, str | Path):
            path = Path(source)
            where = str(path)
            try:  # a regular file of bounded size; errors name the file, never its content
                text = read_limited(path, what="server.json file").decode("utf-8-sig")
                source = json.loads(text)
            except FileNotFoundError:
                raise NotFound(f"no such file: {path}", "check the path") from None
            except UnicodeDecodeError as exc:
                raise ParseError(
                    f"{path} is not UTF-8 text ({exc.reason})", "fix the file"
                ) from None
            except json.JSONDecodeError as exc:
                raise ParseError(f"{path} is not valid JSON: {exc}", "fix the JSON") from None
            except RecursionError:  # the C decoder recurses; iter_docs checks the depth below
                raise ParseError(f"{path} is nested too deeply", "fix the JSON") from None
        docs = list(iter_docs(source))
        if not docs:
            raise ParseError(f"{where}: no server.json documents found", "see server.json")
        best: dict[str, dict[str, Any]] = {}
        rejected: list[tuple[int, dict[str, Any], MCPOrchError]] = []
        clean: set[str] = set()  # texts found without a secret in this import
        for n, doc in enumerate(docs, 1):
            # a file's records by number: its values are not echoed (it may be any JSON file)
            label = f"record {n}" if where != "inline document" else str(doc.get("name", "?"))
            try:
                validate_doc(doc, f"{where}: {label}")
                refuse_secrets_in_doc(doc, clean)
            except (InvalidConfig, ParseError, UsageError) as exc:
                rejected.append((n, doc if isinstance(doc, dict) else {}, exc))
                continue
            name = doc["name"]
            if name not in best or version_key(doc) > version_key(best[name]):
                best[name] = doc
        if rejected and not best:
            first, _doc, refused = rejected[0]
            more = f" ({len(rejected)} records, all rejected)" if len(rejected) > 1 else ""
            message = refused.message
            if not message.startswith(where):
                message = f"{where}: record {first}: {message}"
            raise type(refused)(message + more, refused.hint, inputs=refused.inputs)
        counts = {"new": 0, "updated": 0, "unchanged": 0, "older": 0, "rejected": len(rejected)}
        taken: list[Server] = []
        pending: list[Server] = []  # taken and to be written
        skipped: list[dict[str, Any]] = []
        servers = self._load()
        by_name = {s.name: s.id for s in servers.values()}
        for name, doc in best.items():
            known = by_name.get(name)
            if known is not None:
                old = servers[known]
                if old.source == "bundled":
                    counts["unchanged"] += 1
                    skipped.append({"name": name, "reason": "a bundled server: kept as bundled"})
                    continue
                if old.priority > self._own_priority():
                    counts["unchanged"] += 1
                    skipped.append(
                        {
                            "name": name,
                            "reason": f"held by the source {old.source!r}, whose priority "
                            f"({old.priority}) is higher: kept",
                        }
                    )
                    continue
                same_layer = old.source == self.own_source
                if same_layer and version_key(doc) < version_key(old.doc):
                    counts["older"] += 1
                    skipped.append(
                        {
                            "name": name,
                            "reason": f"version {doc.get('version')} is older than the "
                            f"catalog's {old.version}: kept {old.version}",
                        }
                    )
                    continue
                if same_layer and doc == old.doc:
                    counts["unchanged"] += 1
                    taken.append(old)
                    continue
                counts["updated"] += 1
            else:
                counts["new"] += 1
            server = self._place(doc, servers, by_name)
            taken.append(server)
            pending.append(server)
        if pending:
            self._store_imported(pending, where, counts)
        view = ImportView(taken)
        view.rejected = [_rejection(n, doc, exc) for n, doc, exc in rejected]
        view.skipped = skipped
        view.counts = counts
        return view

    def _place(
        self, doc: dict[str, Any], servers: dict[str, Server], by_name: dict[str, str]
    ) -> Server:
        """An imported document as a server of this catalog, under its own identity: the id
        its name already has, else its short id unless another name holds it (or it is no
        slug), else its name. It is in ``servers`` (and ``by_name``) from then on."""
        server = Server(doc, self.own_source)
        server.priority = self._own_priority()
        known = by_name.get(server.name)
        if known is not None:
            server.id = known
        elif server.id in servers or not _is_slug(server.id):
            server.id = server.name  # the short id is taken (or no slug): go by the name
        servers[server.id] = server
        by_name[server.name] = server.id
        return server

    def _store_imported(self, servers: list[Server], where: str, counts: dict[str, int]) -> None:
        """Write an import's servers and record it: one audit event for the whole import
        (``register``, naming up to :data:`MAX_NAMES` of them, counts whole)."""
        placed: list[Path] = []
        try:
            self._write_all(servers, placed)
        finally:
            if len(placed) < len(servers):  # a write failed: the catalog is read again
                self._forget()
            stored = servers[: len(placed)]
            if stored:
                self._changed()
                self.audit.append(
                    "register",
                    changelog=_import_changelog(stored, where, counts),
                    details=_import_details(stored, where, counts),
                )


#: The shape of a registry name (the official schema's pattern for ``name``).
_REGISTRY_NAME = re.compile(r"[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+")


#: Namespaces anyone can publish under (a GitHub account, a hosting platform's users): the
#: others are domains the registry verified (com.notion, com.stripe, io.github is not one).
_OPEN_NAMESPACES = ("io.github.", "ai.smithery", "io.gitlab.")


def _sources_api() -> Any:
    """The catalog sources' module: loaded only for a workspace that has sources (it brings
    the registry API client; ``list-servers`` without sources stays light)."""
    from mcp_orch.facade import catalog_sources  # local: off the light path (see above)

    return catalog_sources


def _json_bytes(doc: dict[str, Any]) -> bytes:
    """A catalog file's bytes (what :func:`~mcp_orch.core.fs.write_json` writes)."""
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _write_files(files: list[tuple[Path, bytes]], placed: list[Path]) -> None:
    """Write each file atomically, as :func:`~mcp_orch.core.fs.atomic_write` does (a temporary
    file in its folder, flushed to disk, renamed into place, the folder flushed; a file's
    mode is kept), with the flushes batched: every temporary file is written first, then all
    are flushed at once (in threads, so the file system commits them together instead of one
    commit per file), then renamed, then each folder flushed once. If writing a temporary
    file fails, every temporary file is removed and nothing is replaced. ``placed`` gets each
    file as it is put in place (all of them, unless a rename raises)."""
    import tempfile  # stdlib, only writers need them
    from concurrent.futures import ThreadPoolExecutor

    temps: list[tuple[str, Path, int | None]] = []
    folders: dict[Path, None] = {}
    try:
        for path, data in files:
            if path.parent not in folders:
                path.parent.mkdir(parents=True, exist_ok=True)
                folders[path.parent] = None
            try:
                mode: int | None = os.stat(path).st_mode & 0o7777
            except FileNotFoundError:
                mode = None
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            temps.append((tmp, path, mode))
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)

        def flush(tmp: str) -> None:
            fd = os.open(tmp, os.O_WRONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

        if len(temps) == 1:
            flush(temps[0][0])
        elif temps:
            with ThreadPoolExecutor(max_workers=min(16, len(temps))) as pool:
                list(pool.map(flush, [t for t, _, _ in temps]))
        for tmp, _, mode in temps:
            if mode is not None:
                os.chmod(tmp, mode)
    except BaseException:
        for tmp, _, _ in temps:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise
    try:
        for tmp, path, _ in temps:
            os.replace(tmp, path)
            placed.append(path)
    finally:
        for tmp, _, _ in temps[len(placed) :]:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        if hasattr(os, "O_DIRECTORY"):
            for folder in folders:
                with contextlib.suppress(OSError):
                    dfd = os.open(folder, os.O_DIRECTORY)
                    try:
                        os.fsync(dfd)
                    finally:
                        os.close(dfd)


def _shown(names: list[str], most: int = 3) -> str:
    more = f" … {len(names) - most} more" if len(names) > most else ""
    return ", ".join(names[:most]) + more


def _import_changelog(servers: list[Server], where: str, counts: dict[str, int]) -> str:
    """What ``audit-log`` shows of an import: which servers (the first few), how many, from
    where."""
    new, updated = counts.get("new", 0), counts.get("updated", 0)
    ids = [s.id for s in servers]
    if len(ids) == 1:
        return f"imported {ids[0]} from {where}"
    split = f", {new} new, {updated} updated" if new and updated else ""
    return f"imported {plural(len(ids), 'server')} ({_shown(ids)}{split}) from {where}"


def _import_details(servers: list[Server], where: str, counts: dict[str, int]) -> dict[str, Any]:
    details: dict[str, Any] = {
        "file": where,
        "count": len(servers),
        "servers": [s.id for s in servers[:MAX_NAMES]],
        "names": [s.name for s in servers[:MAX_NAMES]],
        "counts": dict(counts),
    }
    if len(servers) == 1:  # one server reads as a register of it
        details.update(server=servers[0].id, name=servers[0].name)
    return details


def _stat(path: Path) -> tuple[int, int, int] | None:
    """(inode, modification time, size) of ``path``; ``None`` when it does not exist."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _dir_stamp(folder: Path) -> tuple[int, int, int] | None:
    """A folder's stat: its time moves when a file is added, removed or renamed into it (every
    catalog write is a temporary file renamed into place), not when a file is edited in place."""
    return _stat(folder)


def _files_stamp(path: Path) -> tuple[Any, ...]:
    """A files source: every ``*.json`` file's stat (edited in place by their owner)."""
    if not path.is_dir():
        return (_stat(path),)
    return tuple((str(p), _stat(p)) for p in sorted(path.rglob("*.json")))


def racy_ns(mtime_ns: int) -> int:
    """How long after ``mtime_ns`` a folder could change again without its time moving: a
    time on a whole second may come from a file system that keeps seconds (:data:`RACY_NS`),
    any other from one whose clock ticks in milliseconds (:data:`FINE_RACY_NS`). While a
    catalog of thousands of servers is racy, every refresh lists its folder (about 2 ms)."""
    return RACY_NS if mtime_ns % 1_000_000_000 == 0 else FINE_RACY_NS


def _listing(folder: Path) -> list[str]:
    try:
        return sorted(os.listdir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return []


def _read_generation(root: Path) -> str:
    try:
        with open(root / GENERATION_FILE, "rb") as fh:
            return fh.read(64).decode("ascii", "replace")
    except (FileNotFoundError, NotADirectoryError):
        return ""


def _bump_generation(root: Path) -> None:
    """A new random generation (random, not a count: two processes never write the same one).
    Not fsync'd: it only tells readers to look again, and a lost one after a crash is a fresh
    start anyway."""
    atomic_write(root / GENERATION_FILE, os.urandom(16).hex(), fsync=False)


class _Facts:
    """What search compares, worked out once per server (the catalog of a workspace that
    imported the whole registry holds thousands)."""

    __slots__ = ("hay", "id", "id_title", "status", "tags", "title", "transports", "trust")

    def __init__(self, s: Server) -> None:
        self.id = s.id
        # the name's namespace (io.github.<owner>) would make "github" match everything
        short_name = s.name.split("/", 1)[-1]
        self.hay = " ".join([s.id, short_name, s.title, s.description, *s.tags, s.category])
        self.hay = self.hay.lower()
        self.title = s.title.lower()
        self.id_title = f"{s.id} {self.title}"
        self.status = s.status
        self.tags = [t.lower() for t in s.tags]
        self.transports = s.transports
        self.trust = 0 if s.source == "bundled" else 1 if _vendor_namespace(s.name) else 2


def _facts(s: Server) -> _Facts:
    facts = getattr(s, "_search_facts", None)
    if facts is None or facts.id != s.id:  # an id set after loading is seen
        facts = _Facts(s)
        s._search_facts = facts  # type: ignore[attr-defined]
    return facts


#: How many different searches' matches one version of the catalog keeps (then it starts over).
MEMO_WORDS = 1024


class _Text:
    """The texts of every server joined in one string, so a word is looked for with one
    ``str.find`` loop over it (each hit mapped to its server by bisection) instead of once
    per server. Words never hold whitespace, so none found spans two servers' texts."""

    def __init__(self, texts: list[str]) -> None:
        self.text = "\n".join(texts)
        self.starts: list[int] = []
        offset = 0
        for t in texts:
            self.starts.append(offset)
            offset += len(t) + 1
        self.starts.append(offset)  # the end, so text i ends before starts[i + 1]

    def holding(self, word: str) -> list[int]:
        """The numbers of the texts that hold ``word``, in order."""
        from bisect import bisect_right  # stdlib; only a search needs it (not list-servers)

        found: list[int] = []
        starts, find = self.starts, self.text.find
        at = find(word)
        while at != -1:
            i = bisect_right(starts, at) - 1
            found.append(i)
            at = find(word, starts[i + 1])  # on to the next text
        return found


class _Index:
    """Search over one version of the catalog, built once (the registry drops it when the
    catalog changes): every server in its standing order (bundled, then vendor-official,
    then the rest; then by the priority of its source, then by id), their search texts and
    their id-and-title texts each joined in one string (:class:`_Text`), and the servers by
    exact id and title.

    The ranking is :meth:`Registry.search`'s: (exact id or title, trust, words in the id or
    title, priority, id). With the servers numbered in the standing order, the last two are
    that number, and the whole key one integer: ``exact * 6n + trust * 2n + in_title * n + i``
    (0 is first for each flag)."""

    def __init__(self, servers: Any) -> None:
        ordered = sorted(
            ((_facts(s), s) for s in servers),
            key=lambda fs: (fs[0].trust, -fs[1].priority, fs[1].id),
        )
        self.servers: list[Server] = [s for _, s in ordered]
        self.facts: list[_Facts] = [f for f, _ in ordered]
        n = self.n = len(ordered)
        self.hay = [f.hay for f in self.facts]
        self.status = [f.status for f in self.facts]
        self.words = _Text(self.hay)
        self.id_titles = [f.id_title for f in self.facts]
        self.titles = _Text(self.id_titles)
        # the key of a server that is not an exact match and has the words only elsewhere
        self.base = [6 * n + f.trust * 2 * n + n + i for i, f in enumerate(self.facts)]
        self.exact: dict[str, list[int]] = {}
        for i, f in enumerate(self.facts):
            for key in {f.id, f.title}:
                self.exact.setdefault(key, []).append(i)
        self._all: dict[str, tuple[list[Server], dict[str, int]]] = {}
        #: the servers holding each set of words asked for (what a page after page of one
        #: search, or the same search again, asks for again), for this version of the catalog
        self._found: dict[tuple[int, str], list[int]] = {}

    def every(self, status: str) -> tuple[list[Server], dict[str, int]]:
        """Every server of ``status`` (``any``: all) in the standing order, and how many run
        over each transport: what an unfiltered listing shows, worked out once."""
        if status not in self._all:
            picked = [
                s
                for f, s in zip(self.facts, self.servers, strict=True)
                if status == "any" or f.status == status
            ]
            counts: dict[str, int] = {}
            for s in picked:
                for kind in _facts(s).transports:
                    counts[kind] = counts.get(kind, 0) + 1
            self._all[status] = (picked, counts)
        return self._all[status]

    def _holding_all(self, text: _Text, texts: list[str], words: list[str]) -> list[int]:
        key = (id(text), " ".join(words))
        found = self._found.get(key)
        if found is None:  # a pass over the text (~0.5 MB at 3,000 servers); then kept
            longest = max(words, key=len)  # the rarest, most likely: found first, then checked
            found = text.holding(longest)
            for w in words:
                if w is not longest:
                    found = [i for i in found if w in texts[i]]
            if len(self._found) >= MEMO_WORDS:
                self._found.clear()
            self._found[key] = found
        return found

    def search(
        self, words: list[str], transport: str | None, tag: str | None, status: str
    ) -> CatalogView:
        if not words and not transport and not tag:
            picked, counts = self.every(status)
            view = CatalogView(picked)
            view._counts = (len(picked), counts)
            return view
        n = self.n
        found: list[int] = (
            self._holding_all(self.words, self.hay, words) if words else list(range(n))
        )
        if status != "any":
            of = self.status
            found = [i for i in found if of[i] == status]
        if transport or tag:
            facts = self.facts
            kept = []
            for i in found:
                kinds = facts[i].transports
                if transport == "remote" and not any(k != "stdio" for k in kinds):
                    continue
                if transport and transport != "remote" and transport not in kinds:
                    continue
                if tag and tag not in facts[i].tags:
                    continue
                kept.append(i)
            found = kept
        base = self.base
        if words:  # those whose id or title holds every word come first (after trust)
            titled = set(self._holding_all(self.titles, self.id_titles, words))
            keys = [base[i] - n if i in titled else base[i] for i in found]
        else:
            keys = [base[i] for i in found]
        exact = set(self.exact.get(" ".join(words), ()))
        if exact:  # an exact id or title before everything
            keys = [k - 6 * n if k % n in exact else k for k in keys]
        keys.sort()
        servers = self.servers
        return CatalogView([servers[k % n] for k in keys])


def _vendor_namespace(name: str) -> bool:
    """Whether a registry name's namespace is a verified domain (``com.notion/mcp``) rather
    than an account anyone can open (``io.github.someone/...``)."""
    namespace = name.split("/", 1)[0]
    return not namespace.startswith(_OPEN_NAMESPACES)


def _is_slug(value: str) -> bool:
    try:
        check_id(value, "server id")
    except UsageError:
        return False
    return True


def name_file(name: str) -> str:
    """The workspace catalog's file for a registry name (``io.github.o/n`` ->
    ``io.github.o__n.json``): one file per name, whatever its short id."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", name.replace("/", "__")) + ".json"


def version_key(doc: dict[str, Any]) -> tuple[Any, ...]:
    """How two versions of one server are ordered: the semantic (PEP 440) version, then the
    registry's ``isLatest``, then its publish time. A version that parses sorts above one
    that does not."""
    from packaging.version import InvalidVersion, Version  # only when versions are compared

    raw = str(doc.get("version") or "")
    try:
        parsed: tuple[Any, ...] = (1, Version(raw))
    except InvalidVersion:
        parsed = (0, raw)
    official = (doc.get("_meta") or {}).get("io.modelcontextprotocol.registry/official") or {}
    latest = isinstance(official, dict) and official.get("isLatest") is True
    published = str(official.get("publishedAt") or "") if isinstance(official, dict) else ""
    return (*parsed, latest, published)


class ImportView(CatalogView):
    """The servers an import registered, and the records it ``rejected`` (each with its number
    in the source, its name when that is safe to show, and the reason)."""

    rejected: list[dict[str, Any]]
    skipped: list[dict[str, Any]]  # valid records not taken: older, or a bundled name
    counts: dict[str, int]  # names new, updated, unchanged, older; records rejected

    def __init__(self, servers: Any = ()) -> None:
        super().__init__(servers)
        self.rejected = []
        self.skipped = []
        self.counts = {}


#: Where a catalog server's free text ends up: why a secret must not be in it.
_CATALOG_TEXT = "the catalog keeps it in the workspace and shows it to everyone who browses it"


def refuse_secrets_in_doc(doc: dict[str, Any], clean: set[str] | None = None) -> None:
    """``UsageError`` if the name, title or any description of a server.json document holds a
    secret (a token pasted into a description would be shown to every client and model).
    ``clean``: texts already found clean (an import's versions of one server share most of
    them), skipped, and those found clean here are added."""
    seen: set[str] = set() if clean is None else clean

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if isinstance(item, str):
                    if key in ("title", "description") and item not in seen:
                        where = f"{path}.{key}" if path else str(key)
                        refuse_secret_text(item, where, why=_CATALOG_TEXT, inputs=())
                        seen.add(item)
                elif isinstance(item, dict | list):
                    walk(item, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, f"{path}[{i}]")

    if isinstance(doc.get("name"), str):
        # a registry name is a namespaced identifier the registry checked: known token formats
        # are refused, but not random-looking owner names (ai.smithery/BigVik193-...)
        refuse_secret_text(doc["name"], "name", why=_CATALOG_TEXT, inputs=(), random_words=False)
    walk(doc, "")


def _rejection(n: int, doc: dict[str, Any], exc: MCPOrchError) -> dict[str, Any]:
    name = doc.get("name")
    # a file may be any JSON file: a name is shown only when it has a registry name's shape
    safe = (
        isinstance(name, str)
        and _REGISTRY_NAME.fullmatch(name) is not None
        and secret_in_text(name, random_words=False) is None
    )
    # the record is named by its number: "FILE: record 3: not a valid ..." -> "not a valid ..."
    reason = re.sub(r"^.*?: (record \d+|[^:]+): (?=not a valid server\.json)", "", exc.message)
    return {"record": n, "name": name if safe else None, "reason": reason, "hint": exc.hint}

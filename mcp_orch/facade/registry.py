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

import json
import os
import re
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
from mcp_orch.core.fs import default_path, json_files, read_json, read_limited, write_json
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

    def _load(self) -> dict[str, Server]:
        if self._servers is None:
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
            self._servers, self._layers = servers, layers
        return self._servers

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
        scored: list[tuple[tuple[int, int, int, int], str, Server]] = []
        text_l = " ".join(words)
        tag_l = tag.lower() if tag else None
        for s in self._load().values():
            facts = _facts(s)
            if status != "any" and facts.status != status:
                continue
            if not all(w in facts.hay for w in words):
                continue
            kinds = facts.transports
            if transport == "remote" and not any(k != "stdio" for k in kinds):
                continue
            if transport and transport != "remote" and transport not in kinds:
                continue
            if tag_l and tag_l not in facts.tags:
                continue
            # an exact id, alias or title first; then bundled servers, then vendor-official
            # ones (a verified domain namespace such as com.notion); then those whose id or
            # title holds the words; then the rest
            exact = 0 if text_l in (s.id, facts.title) else 1
            in_title = 0 if words and all(w in facts.id_title for w in words) else 1
            scored.append(((exact, facts.trust, in_title, -s.priority), s.id, s))
        return CatalogView(s for _, _, s in sorted(scored, key=lambda t: (t[0], t[1])))

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
        old = self._user_dir() / f"{server.id}.json"
        if old != target and old.exists():
            try:
                if read_json(old).get("name") == server.name:
                    old.unlink()
            except (OSError, ValueError):
                pass

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
        for n, doc in enumerate(docs, 1):
            # a file's records by number: its values are not echoed (it may be any JSON file)
            label = f"record {n}" if where != "inline document" else str(doc.get("name", "?"))
            try:
                validate_doc(doc, f"{where}: {label}")
                refuse_secrets_in_doc(doc)
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
            taken.append(self._import_one(doc, where))
        view = ImportView(taken)
        view.rejected = [_rejection(n, doc, exc) for n, doc, exc in rejected]
        view.skipped = skipped
        view.counts = counts
        return view

    def _import_one(self, doc: dict[str, Any], where: str) -> Server:
        """Store one imported document under its own identity and record the event."""
        server = Server(doc, self.own_source)
        server.priority = self._own_priority()
        servers = self._load()
        by_name = {s.name: s.id for s in servers.values()}
        known = by_name.get(server.name)
        if known is not None:
            server.id = known
        elif server.id in servers or not _is_slug(server.id):
            server.id = server.name  # the short id is taken (or no slug): go by the name
        self._write(server)
        servers[server.id] = server
        self.audit.append(
            "register", details={"server": server.id, "name": server.name, "file": where}
        )
        return server


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


def refuse_secrets_in_doc(doc: dict[str, Any]) -> None:
    """``UsageError`` if the name, title or any description of a server.json document holds a
    secret (a token pasted into a description would be shown to every client and model)."""

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                where = f"{path}.{key}" if path else str(key)
                if isinstance(item, str) and key in ("title", "description"):
                    refuse_secret_text(item, where, why=_CATALOG_TEXT, inputs=())
                elif isinstance(item, dict | list):
                    walk(item, where)
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

"""The server catalog: official MCP Registry ``server.json`` documents, bundled and your own.

    >>> from mcp_orch import Registry, Workspace
    >>> reg = Registry(workspace=Workspace("./demo"))
    >>> reg.find("github").title
    'GitHub'
    >>> reg.search("database", transport="stdio").frame()      # polars.DataFrame
    >>> reg.import_server_json("server.json")                  # one doc, a list, or an API page

Our own extras live under ``_meta["io.github.mcp-orch/catalog"]`` (id, tags, category, display),
so every bundled document is still a valid official ``server.json`` and anything the official
registry publishes can be imported as is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._resources import data_dir, load_schema
from ._util import SLUG, check_id, html_table, read_json, read_text_file, safe_html, write_json
from .errors import AlreadyExists, InvalidConfig, NotFound, ParseError, UsageError

if TYPE_CHECKING:
    import polars as pl

    from .draft import Draft
    from .workspace import Profile, Workspace

META_KEY = "io.github.mcp-orch/catalog"
SCHEMA_FILE = "server.schema.json"


def _derive_id(name: str) -> str:
    tail = name.split("/", 1)[-1].lower()
    tail = re.sub(r"[^a-z0-9_-]+", "-", tail).strip("-_") or "server"
    for suffix in ("-mcp-server", "-mcp", "mcp-server-", "server-"):
        if tail.endswith(suffix) and len(tail) > len(suffix) + 1:
            tail = tail[: -len(suffix)]
    if tail.startswith("mcp-server-") and len(tail) > 11:
        tail = tail[11:]
    return tail[:64] if SLUG.match(tail[:64]) else "server"


class Server:
    """One catalog entry: an official ``server.json`` document plus our extras."""

    def __init__(self, doc: dict[str, Any], source: str = "bundled") -> None:
        self.doc = doc
        self.source = source
        meta = (doc.get("_meta") or {}).get(META_KEY) or {}
        self.meta: dict[str, Any] = meta
        self.id: str = meta.get("id") or _derive_id(doc["name"])

    # -- plain facts -------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return str(self.doc["name"])

    @property
    def title(self) -> str:
        return str(self.doc.get("title") or self.id)

    @property
    def description(self) -> str:
        return str(self.doc.get("description", ""))

    @property
    def version(self) -> str:
        return str(self.doc.get("version", ""))

    @property
    def tags(self) -> list[str]:
        return list(self.meta.get("tags") or [])

    @property
    def category(self) -> str:
        return str(self.meta.get("category") or "")

    @property
    def packages(self) -> list[dict[str, Any]]:
        return list(self.doc.get("packages") or [])

    @property
    def remotes(self) -> list[dict[str, Any]]:
        return list(self.doc.get("remotes") or [])

    @property
    def transports(self) -> list[str]:
        kinds = []
        if any(
            (p.get("transport") or {}).get("type", "stdio") == "stdio"
            and p.get("registryType") != "mcpb"
            for p in self.packages
        ):
            kinds.append("stdio")
        for r in self.remotes:
            if r.get("type") not in kinds:
                kinds.append(r["type"])
        return kinds

    @property
    def runtimes(self) -> list[str]:
        return [p.get("runtimeHint") or p.get("registryType", "") for p in self.packages]

    def inputs(self) -> list[dict[str, Any]]:
        """Everything a user may fill in: env vars, arguments, header and URL variables."""
        rows: list[dict[str, Any]] = []

        def add(kind: str, name: str, item: dict[str, Any], where: str) -> None:
            rows.append(
                {
                    "kind": kind,
                    "name": name,
                    "where": where,
                    "required": bool(item.get("isRequired")),
                    "secret": bool(item.get("isSecret")),
                    "default": item.get("default"),
                    "description": item.get("description", ""),
                }
            )

        for i, pkg in enumerate(self.packages):
            where = f"package[{i}] {pkg.get('identifier', '')}"
            for arg in (pkg.get("runtimeArguments") or []) + (pkg.get("packageArguments") or []):
                if "value" in arg and "valueHint" not in arg:
                    continue  # a fixed argument
                key = arg.get("valueHint") or str(arg.get("name", "")).lstrip("-")
                add("param", key, arg, where)
            for var in pkg.get("environmentVariables") or []:
                add("env", var["name"], var, where)
        for i, remote in enumerate(self.remotes):
            where = f"remote[{i}] {remote.get('type')}"
            for var, spec in (remote.get("variables") or {}).items():
                add("param", var, spec, where)
            for h in remote.get("headers") or []:
                for var, spec in (h.get("variables") or {}).items():
                    add("param", var, spec, where)
                if not h.get("value"):
                    add("header", h["name"], h, where)
        seen: set[tuple[str, str]] = set()
        unique = []
        for row in rows:
            if (row["kind"], row["name"]) not in seen:
                seen.add((row["kind"], row["name"]))
                unique.append(row)
        return unique

    # -- rendering ---------------------------------------------------------------------------
    def render(
        self,
        client: str = "claude-desktop",
        *,
        params: dict[str, Any] | None = None,
        env: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        transport: str | None = None,
        target_os: str | None = None,
    ) -> dict[str, Any]:
        """The client-native entry this server would get (without adding it anywhere);
        ``target_os`` defaults to this machine's, as for drafts."""
        from .clients import current_os, get_client, to_native
        from .transport import render_server

        rendered = render_server(
            self.doc, params=params, env=env, headers=headers, transport=transport
        )
        return to_native(get_client(client), rendered.entry, target_os or current_os())

    def add_to(
        self,
        profile: Profile,
        params: dict[str, Any] | None = None,
        env: dict[str, str] | None = None,
        name: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        transport: str | None = None,
        replace: bool = False,
    ) -> Draft:
        """Add this server to ``profile``'s draft and return the draft (for chaining)."""
        draft = profile.draft
        draft.add(
            self,
            params=params,
            env=env,
            name=name,
            headers=headers,
            transport=transport,
            replace=replace,
        )
        return draft

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "version": self.version,
            "transports": self.transports,
            "runtimes": self.runtimes,
            "tags": self.tags,
            "category": self.category,
            "source": self.source,
            "inputs": self.inputs(),
            "server_json": self.doc,
        }

    def __repr__(self) -> str:
        return f"<Server {self.id} ({', '.join(self.transports)})>"

    def _repr_html_(self) -> str:
        def render() -> str:
            head = (
                f"<div class='mco'><b>{escape(self.title)}</b> <code>{escape(self.id)}</code> "
                f"v{escape(self.version)}<br>{escape(self.description)}<br>"
                f"<i>{escape(self.name)}</i> · transports: {escape(', '.join(self.transports))}"
                f" · tags: {escape(', '.join(self.tags))}</div>"
            )
            rows = [
                (r["kind"], r["name"], r["required"], r["secret"], r["default"], r["description"])
                for r in self.inputs()
            ]
            return head + html_table(
                ["kind", "name", "required", "secret", "default", "description"], rows
            )

        return safe_html(render, self)


class CatalogView(list[Server]):
    """A list of servers (a search result) with a polars view and a notebook display."""

    def ids(self) -> list[str]:
        return [s.id for s in self]

    def frame(self) -> pl.DataFrame:
        import polars as pl

        return pl.DataFrame(
            {
                "id": [s.id for s in self],
                "name": [s.name for s in self],
                "title": [s.title for s in self],
                "version": [s.version for s in self],
                "transports": [s.transports for s in self],
                "runtimes": [s.runtimes for s in self],
                "tags": [s.tags for s in self],
                "category": [s.category for s in self],
                "source": [s.source for s in self],
                "description": [s.description for s in self],
            },
            schema={
                "id": pl.String,
                "name": pl.String,
                "title": pl.String,
                "version": pl.String,
                "transports": pl.List(pl.String),
                "runtimes": pl.List(pl.String),
                "tags": pl.List(pl.String),
                "category": pl.String,
                "source": pl.String,
                "description": pl.String,
            },
        )

    def to_dict(self) -> list[dict[str, Any]]:
        return [
            {k: v for k, v in s.to_dict().items() if k not in ("server_json", "inputs")}
            for s in self
        ]

    def __repr__(self) -> str:
        shown = ", ".join(self.ids()[:8])
        more = f", … {len(self) - 8} more" if len(self) > 8 else ""
        return f"<CatalogView {len(self)} servers: {shown}{more}>"

    def _repr_html_(self) -> str:
        return safe_html(
            lambda: html_table(
                ["id", "title", "transports", "tags", "description"],
                [(s.id, s.title, s.transports, s.tags, s.description) for s in self],
                title=f"{len(self)} servers",
            ),
            self,
        )


def _validate_doc(doc: Any, where: str) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise ParseError(f"{where}: a server.json document must be an object", "see server.json")
    from .validation.schemas import validator

    errors = sorted(validator(SCHEMA_FILE).iter_errors(doc), key=lambda e: list(e.path))
    if errors:
        first = errors[0]
        path = "/".join(str(p) for p in first.absolute_path) or "(top)"
        raise InvalidConfig(
            f"{where}: not a valid server.json ({len(errors)} problem(s)); at {path}: "
            f"{first.message}",
            "check it against https://static.modelcontextprotocol.io/schemas/2025-12-11/"
            "server.schema.json",
        )
    return doc


class Registry:
    """The catalog: bundled servers plus the ones registered in the workspace."""

    def __init__(self, workspace: Workspace | None = None) -> None:
        self._workspace = workspace
        self._servers: dict[str, Server] | None = None

    @property
    def workspace(self) -> Workspace:
        if self._workspace is None:
            from .workspace import Workspace

            self._workspace = Workspace()
        return self._workspace

    def _user_dir(self) -> Path:
        return self.workspace.path / "catalog"

    def _load(self) -> dict[str, Server]:
        if self._servers is None:
            servers: dict[str, Server] = {}
            for path in sorted(data_dir("catalog").glob("*.json")):
                s = Server(read_json(path), "bundled")
                servers[s.id] = s
            user_dir = self._user_dir()
            if user_dir.is_dir():
                for path in sorted(user_dir.glob("*.json")):
                    s = Server(read_json(path), "workspace")
                    servers[s.id] = s
            self._servers = servers
        return self._servers

    def __len__(self) -> int:
        return len(self._load())

    def __iter__(self) -> Any:
        return iter(self.all())

    def all(self) -> CatalogView:
        return CatalogView(sorted(self._load().values(), key=lambda s: s.id))

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
        return "run `mcp-orch list-servers --search TEXT` to browse the catalog"

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
        self, text: str = "", transport: str | None = None, tag: str | None = None
    ) -> CatalogView:
        """Servers whose id, name, title, description or tags contain every word of ``text``;
        ``transport`` is stdio, streamable-http, sse or remote; ``tag`` an exact tag."""
        words = [w for w in text.lower().split() if w]
        if transport not in (None, "", "stdio", "streamable-http", "sse", "remote"):
            raise UsageError(
                f"unknown transport {transport!r}", "use stdio, streamable-http, sse or remote"
            )
        scored: list[tuple[int, str, Server]] = []
        for s in self.all():
            # the name's namespace (io.github.<owner>) would make "github" match everything
            short_name = s.name.split("/", 1)[-1]
            hay = " ".join([s.id, short_name, s.title, s.description, *s.tags, s.category]).lower()
            if not all(w in hay for w in words):
                continue
            kinds = s.transports
            if transport == "remote" and not any(k != "stdio" for k in kinds):
                continue
            if transport and transport != "remote" and transport not in kinds:
                continue
            if tag and tag.lower() not in [t.lower() for t in s.tags]:
                continue
            # exact id / title first, then id or title containing the words, then the rest
            text_l = " ".join(words)
            rank = (
                0
                if text_l in (s.id, s.title.lower())
                else 1
                if words and all(w in f"{s.id} {s.title.lower()}" for w in words)
                else 2
            )
            scored.append((rank, s.id, s))
        return CatalogView(s for _, _, s in sorted(scored, key=lambda t: (t[0], t[1])))

    def register(self, doc: dict[str, Any], *, replace: bool = False) -> Server:
        """Add a server of your own (an official server.json document) to the workspace."""
        doc = _validate_doc(doc, "server")
        server = Server(doc, "workspace")
        check_id(server.id, "server id")
        existing = self._load().get(server.id)
        if existing is not None and not replace and existing.name != server.name:
            raise AlreadyExists(
                f"a server with id {server.id!r} already exists ({existing.name})",
                f"set _meta['{META_KEY}']['id'] to another id, or pass replace=True",
            )
        write_json(self._user_dir() / f"{server.id}.json", doc)
        self._load()[server.id] = server
        self.workspace.audit.append("register", details={"server": server.id, "name": server.name})
        return server

    def import_server_json(self, source: str | Path | dict[str, Any] | list[Any]) -> CatalogView:
        """Import official server.json documents: a path, one document, a list of them, or a
        registry API page ``{"servers": [{"server": ..., "_meta": ...}]}``."""
        where = "document"
        if isinstance(source, str | Path):
            path = Path(source)
            where = str(path)
            try:
                source = json.loads(read_text_file(path))
            except FileNotFoundError:
                raise NotFound(f"no such file: {path}", "check the path") from None
            except json.JSONDecodeError as exc:
                raise ParseError(f"{path} is not valid JSON: {exc}", "fix the JSON") from None
        docs = list(_iter_docs(source))
        if not docs:
            raise ParseError(f"{where}: no server.json documents found", "see server.json")
        latest: dict[str, dict[str, Any]] = {}
        marked: set[str] = set()
        for doc in docs:
            _validate_doc(doc, f"{where}: {doc.get('name', '?')}")
            official = (doc.get("_meta") or {}).get("io.modelcontextprotocol.registry/official")
            is_latest = isinstance(official, dict) and official.get("isLatest") is True
            if is_latest or doc["name"] not in marked:  # else: the last listed version wins
                latest[doc["name"]] = doc
            if is_latest:
                marked.add(doc["name"])
        return CatalogView(self.register(doc, replace=True) for doc in latest.values())


def _iter_docs(source: Any) -> Iterable[dict[str, Any]]:
    if isinstance(source, list):
        for item in source:
            yield from _iter_docs(item)
    elif isinstance(source, dict):
        if "servers" in source and isinstance(source["servers"], list) and "name" not in source:
            yield from _iter_docs(source["servers"])
        elif "server" in source and isinstance(source["server"], dict):
            doc = dict(source["server"])
            outer = source.get("_meta")
            if isinstance(outer, dict) and outer:
                doc["_meta"] = {**outer, **(doc.get("_meta") or {})}
            yield doc
        else:
            yield source
    else:
        raise ParseError("a server.json document must be a JSON object", "see server.json")


def get_schema() -> dict[str, Any]:
    return load_schema(SCHEMA_FILE)

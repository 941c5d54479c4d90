"""The catalog of one workspace: the bundled servers plus the ones registered or imported there.

>>> from mcp_orch import Registry, Workspace
>>> reg = Registry(workspace=Workspace("./demo"))
>>> reg.find("github").title
'GitHub'
>>> reg.search("database", transport="stdio").frame()      # polars.DataFrame
>>> reg.import_server_json("server.json")                  # one doc, a list, or an API page
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcp_orch.core.errors import AlreadyExists, NotFound, ParseError, UsageError
from mcp_orch.core.fs import default_path, json_files, read_json, read_limited, write_json
from mcp_orch.core.ids import check_id
from mcp_orch.core.resources import data_dir
from mcp_orch.domain.catalog import META_KEY, CatalogView, Server, iter_docs, validate_doc
from mcp_orch.domain.secrets import refuse_secret_text, secret_in_text

if TYPE_CHECKING:
    from mcp_orch.facade.workspace import Workspace
    from mcp_orch.services.release.audit import AuditLog


class Registry:
    """The catalog: bundled servers plus the ones registered in the workspace
    (``$MCP_ORCH_HOME`` or the user data folder when no workspace is given)."""

    def __init__(
        self, workspace: Workspace | None = None, *, path: str | os.PathLike[str] | None = None
    ) -> None:
        """The catalog of ``workspace``; or, with ``path``, of the workspace folder there without
        opening the workspace (browsing creates nothing; ``mcp-orch list-servers`` does this)."""
        self.workspace = workspace
        if workspace is not None:
            self.path: Path = workspace.path
        else:
            self.path = Path(path).expanduser().absolute() if path is not None else default_path()
        self._audit: AuditLog | None = None
        self._servers: dict[str, Server] | None = None

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
        return self.path / "catalog"

    def _load(self) -> dict[str, Server]:
        if self._servers is None:
            servers: dict[str, Server] = {}
            for path in json_files(data_dir("catalog")):
                s = Server(read_json(path), "bundled")
                servers[s.id] = s
            for path in json_files(self._user_dir()):
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

    def register(
        self, doc: dict[str, Any], *, replace: bool = False, source: str | None = None
    ) -> Server:
        """Add a server of your own (an official server.json document) to the workspace."""
        doc = validate_doc(doc, "server")
        refuse_secrets_in_doc(doc)
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
        details = {"server": server.id, "name": server.name}
        if source:
            details["file"] = source
        self.audit.append("register", details=details)
        return server

    def import_server_json(self, source: str | Path | dict[str, Any] | list[Any]) -> ImportView:
        """Import official server.json documents: a path, one document, a list of them, or a
        registry API page ``{"servers": [{"server": ..., "_meta": ...}]}``. A record whose name,
        title or a description holds a secret is rejected (listed in ``rejected``, with the
        reason) and the others are imported; if every record is rejected, that is an error."""
        where = "inline document"
        if isinstance(source, str | Path):
            path = Path(source)
            where = str(path)
            try:  # a regular file of bounded size; errors name the file, never its content
                source = json.loads(read_limited(path, what="server.json file").decode("utf-8"))
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
        latest: dict[str, dict[str, Any]] = {}
        marked: set[str] = set()
        rejected: list[tuple[int, dict[str, Any], UsageError]] = []
        for n, doc in enumerate(docs, 1):
            # a file's records by number: its values are not echoed (it may be any JSON file)
            label = f"record {n}" if where != "inline document" else doc.get("name", "?")
            validate_doc(doc, f"{where}: {label}")
            try:
                refuse_secrets_in_doc(doc)
            except UsageError as exc:
                rejected.append((n, doc, exc))
                continue
            official = (doc.get("_meta") or {}).get("io.modelcontextprotocol.registry/official")
            is_latest = isinstance(official, dict) and official.get("isLatest") is True
            if is_latest or doc["name"] not in marked:  # else: the last listed version wins
                latest[doc["name"]] = doc
            if is_latest:
                marked.add(doc["name"])
        if rejected and not latest:
            first, _doc, refused = rejected[0]
            more = f" ({len(rejected)} records, all rejected)" if len(rejected) > 1 else ""
            raise UsageError(
                f"{where}: record {first}: {refused.message}{more}",
                refused.hint,
                inputs=refused.inputs,
            )
        view = ImportView(self.register(doc, replace=True, source=where) for doc in latest.values())
        view.rejected = [_rejection(n, doc, exc) for n, doc, exc in rejected]
        return view


class ImportView(CatalogView):
    """The servers an import registered, and the records it ``rejected`` (each with its number
    in the source, its name when that is safe to show, and the reason)."""

    rejected: list[dict[str, Any]]

    def __init__(self, servers: Any = ()) -> None:
        super().__init__(servers)
        self.rejected = []


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
        refuse_secret_text(doc["name"], "name", why=_CATALOG_TEXT, inputs=())
    walk(doc, "")


def _rejection(n: int, doc: dict[str, Any], exc: UsageError) -> dict[str, Any]:
    name = doc.get("name")
    safe = isinstance(name, str) and secret_in_text(name) is None
    return {"record": n, "name": name if safe else None, "reason": exc.message, "hint": exc.hint}

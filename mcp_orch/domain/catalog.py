"""The server catalog: official MCP Registry ``server.json`` documents, bundled and your own.

    >>> from mcp_orch import Registry, Workspace
    >>> reg = Registry(workspace=Workspace("./demo"))
    >>> reg.find("github").title
    'GitHub'
    >>> reg.search("database", transport="stdio").frame()      # polars.DataFrame
    >>> reg.import_server_json("server.json")                  # one doc, a list, or an API page

Our own extras live under ``_meta["io.github.mcp-orch/catalog"]`` (id, tags, category, display,
and ``oauth``: true for a remote that signs you in with OAuth when no token header is given), so every bundled document is still a valid official ``server.json`` and anything the official
registry publishes can be imported as is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import cache
from html import escape
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from mcp_orch.core.errors import InvalidConfig, ParseError
from mcp_orch.core.fs import MAX_DEPTH, nesting_depth, too_deep
from mcp_orch.core.ids import SLUG
from mcp_orch.core.markup import html_table, safe_html
from mcp_orch.core.resources import load_schema, validator
from mcp_orch.core.tables import Table
from mcp_orch.core.text import plural
from mcp_orch.domain.clients import current_os, get_client, to_native
from mcp_orch.domain.transport import item_variables, render_server

if TYPE_CHECKING:  # the protocols only type Server.add_to; nothing builds them at run time
    import polars as pl

    class _Draft(Protocol):
        """What :meth:`Server.add_to` needs of a profile's draft (the facade's Draft)."""

        def add(
            self,
            server: Server,
            *,
            params: dict[str, Any] | None = ...,
            env: dict[str, str] | None = ...,
            name: str | None = ...,
            headers: dict[str, str] | None = ...,
            transport: str | None = ...,
            replace: bool = ...,
            version: str | None = ...,
            package: str | None = ...,
        ) -> Any: ...

    D = TypeVar("D", bound=_Draft, covariant=True)

    class _Profile(Protocol[D]):
        @property
        def draft(self) -> D: ...


META_KEY = "io.github.mcp-orch/catalog"
#: The registry's own metadata of a record (status, isLatest, publishedAt).
OFFICIAL_META = "io.modelcontextprotocol.registry/official"
#: A record's registry status; anything else (or none) reads as active.
STATUSES = ("active", "deprecated", "deleted")
SCHEMA_FILE = "server.schema.json"


def _derive_id(name: str) -> str:
    tail = name.split("/", 1)[-1].lower()
    tail = re.sub(r"[^a-z0-9_-]+", "-", tail).strip("-_") or "server"
    for suffix in ("-mcp-server", "-mcp", "mcp-server-", "server-"):
        if tail.endswith(suffix) and len(tail) > len(suffix) + 1:
            tail = tail[: -len(suffix)]
    if tail.startswith("mcp-server-") and len(tail) > 11:
        tail = tail[11:]
    return tail[:64] if SLUG.fullmatch(tail[:64]) else "server"


class Server:
    """One catalog entry: an official ``server.json`` document plus our extras."""

    def __init__(self, doc: dict[str, Any], source: str = "bundled") -> None:
        self.doc = doc
        self.source = source
        meta = (doc.get("_meta") or {}).get(META_KEY) or {}
        self.meta: dict[str, Any] = meta
        self.id: str = meta.get("id") or _derive_id(doc["name"])
        #: The priority of the catalog layer it comes from (the registry sets it).
        self.priority: int = 0

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
    def oauth(self) -> bool:
        """Its remote signs you in with OAuth (in the client) when no token header is given:
        a probe reports it as "needs sign-in (OAuth)". From our extras (``"oauth": true``)."""
        return self.meta.get("oauth") is True

    @property
    def status(self) -> str:
        """The registry's status of this record: ``active``, ``deprecated`` or ``deleted``
        (``_meta["io.modelcontextprotocol.registry/official"]["status"]``; active when the
        record says nothing)."""
        official = (self.doc.get("_meta") or {}).get(OFFICIAL_META)
        status = official.get("status") if isinstance(official, dict) else None
        return status if status in STATUSES else "active"

    def status_warning(self) -> str | None:
        """What to tell someone adding this server when the registry no longer lists it as
        active; ``None`` for an active server."""
        if self.status == "active":
            return None
        if self.status == "deprecated":
            return (
                f"{self.id} ({self.name} {self.version}) is deprecated in the registry: "
                "its publisher no longer recommends it; search the catalog for a replacement"
            )
        return (
            f"{self.id} ({self.name} {self.version}) is deleted from the registry: it may be "
            "unsafe or gone; search the catalog for another server"
        )

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
                for var, spec in item_variables(h).items():
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
        package: str | None = None,
    ) -> dict[str, Any]:
        """The client-native entry this server would get (without adding it anywhere);
        ``target_os`` defaults to this machine's, as for drafts; ``package`` picks one of
        several packages (registry type, identifier or number)."""
        rendered = render_server(
            self.doc, params=params, env=env, headers=headers, transport=transport, package=package
        )
        return to_native(get_client(client), rendered.entry, target_os or current_os())

    def add_to(
        self,
        profile: _Profile[D],
        params: dict[str, Any] | None = None,
        env: dict[str, str] | None = None,
        name: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        transport: str | None = None,
        replace: bool = False,
        version: str | None = None,
        package: str | None = None,
    ) -> D:
        """Add this server to ``profile``'s draft and return the draft (for chaining); its
        package is pinned at the catalog's version (or ``version``) as the profile's ``pin``
        setting says."""
        draft = profile.draft
        draft.add(
            self,
            params=params,
            env=env,
            name=name,
            headers=headers,
            transport=transport,
            replace=replace,
            version=version,
            package=package,
        )
        return draft

    def summary(self) -> dict[str, Any]:
        """What a listing shows of this server: :meth:`to_dict` without its inputs, OAuth flag
        and ``server_json`` (and without working them out). Worked out once per id and source
        (the document is not edited in place; the registry may rename or re-source a server);
        each call returns its own copy."""
        key = (self.id, self.source)
        memo = self.__dict__.get("_summary")
        if memo is None or memo[0] != key:
            memo = self.__dict__["_summary"] = (key, self._summary())
        return {k: list(v) if isinstance(v, list) else v for k, v in memo[1].items()}

    def _summary(self) -> dict[str, Any]:
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
            "status": self.status,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.summary(),
            "oauth": self.oauth,
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

    #: (length, per-transport counts) when the search that built it counted them already.
    _counts: tuple[int, dict[str, int]] | None = None

    def ids(self) -> list[str]:
        return [s.id for s in self]

    def table(self, **options: Any) -> Table:
        """These servers (:meth:`frame`) as a sortable, filterable, paged table: every row,
        drawn offline by itables (the static table without it); ``options`` go to itables."""
        return Table(self.frame(), title=plural(len(self), "server"), **options)

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
        return [s.summary() for s in self]

    def transport_counts(self) -> dict[str, int]:
        """How many of these servers run over each transport (a server with two counts twice)."""
        if self._counts is not None and self._counts[0] == len(self):
            return dict(self._counts[1])
        counts: dict[str, int] = {}
        for server in self:
            for kind in server.transports:
                counts[kind] = counts.get(kind, 0) + 1
        return counts

    def __repr__(self) -> str:
        shown = ", ".join(self.ids()[:8])
        more = f", … {len(self) - 8} more" if len(self) > 8 else ""
        return f"<CatalogView {plural(len(self), 'server')}: {shown}{more}>"

    def _repr_html_(self) -> str:
        return safe_html(
            lambda: html_table(
                ["id", "title", "transports", "tags", "description"],
                [(s.id, s.title, s.transports, s.tags, s.description) for s in self],
                title=plural(len(self), "server"),
            ),
            self,
        )


def _reason(error: Any) -> str:
    """A schema error in the schema's words, without the value it found (which may be anything
    from any file): the required key that is missing, or the rule the value breaks."""
    kind, rule = error.validator, error.validator_value
    if kind == "required":
        return error.message  # "'name' is a required property": the key is the schema's
    if kind == "type":
        return f"must be of type {rule if isinstance(rule, str) else ' or '.join(rule)}"
    if kind in ("minLength", "maxLength", "minItems", "maxItems", "minimum", "maximum"):
        return f"breaks {kind} {rule}"
    if kind == "pattern":
        return f"does not match the pattern {rule}"
    if kind in ("enum", "const"):
        return "is not one of the values the schema allows"
    if kind == "additionalProperties":
        return "has a property the schema does not allow"
    return f"does not satisfy the schema's {kind!r} rule"


def validate_doc(doc: Any, where: str) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise ParseError(f"{where}: a server.json document must be an object", "see server.json")
    if nesting_depth(doc) > MAX_DEPTH:  # before the schema validator recurses into it
        raise too_deep(where)
    if _compiled_check()(doc):
        return doc
    errors = sorted(validator(SCHEMA_FILE).iter_errors(doc), key=lambda e: list(e.path))
    if errors:
        first = errors[0]
        path = "/".join(str(p) for p in first.absolute_path) or "(top)"
        raise InvalidConfig(
            f"{where}: not a valid server.json ({len(errors)} problem(s)); at {path}: "
            f"{_reason(first)}",
            "check it against https://static.modelcontextprotocol.io/schemas/2025-12-11/"
            "server.schema.json",
        )
    return doc


@cache
def _compiled_check() -> Callable[[Any], bool]:
    """Whether a document is valid server.json, ~20x faster than the jsonschema validator:
    the schema compiled to Python by fastjsonschema, with jsonschema's own format checks (so
    both accept exactly the same documents; a test holds them to it over the registry's
    data set). A document it refuses goes to jsonschema for the error a person reads. Without
    fastjsonschema every document goes to jsonschema."""
    try:
        import fastjsonschema  # only when documents are validated
    except ImportError:  # pragma: no cover - a declared dependency
        return lambda doc: False
    import copy

    checker = validator(SCHEMA_FILE).format_checker
    formats = {
        name: (lambda value, name=name: checker is None or checker.conforms(value, name))
        for name in _formats(load_schema(SCHEMA_FILE))
    }
    check = fastjsonschema.compile(copy.deepcopy(load_schema(SCHEMA_FILE)), formats=formats)

    def valid(doc: Any) -> bool:
        try:
            check(doc)
        except fastjsonschema.JsonSchemaException:
            return False
        return True

    return valid


def _formats(schema: Any) -> set[str]:
    """Every ``format`` a schema names."""
    found: set[str] = set()
    if isinstance(schema, dict):
        if isinstance(schema.get("format"), str):
            found.add(schema["format"])
        for value in schema.values():
            found |= _formats(value)
    elif isinstance(schema, list):
        for value in schema:
            found |= _formats(value)
    return found


def iter_docs(source: Any, _depth: int = 1) -> Iterable[dict[str, Any]]:
    if _depth > MAX_DEPTH:
        raise too_deep("the server.json source")
    if isinstance(source, list):
        for item in source:
            yield from iter_docs(item, _depth + 1)
    elif isinstance(source, dict):
        if "servers" in source and isinstance(source["servers"], list) and "name" not in source:
            yield from iter_docs(source["servers"], _depth + 1)
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

"""Catalog actions: list clients, list and describe servers, import server.json documents.

These are the light commands (``list-servers``, ``list-clients``): their results are plain
classes rather than dataclasses, which cost ~1.5 ms each to build at import."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcp_orch.core.errors import ParseError, UsageError
from mcp_orch.domain.catalog import CatalogView, Server
from mcp_orch.domain.clients import ClientSpec, config_path
from mcp_orch.domain.clients import list_clients as all_clients
from mcp_orch.facade.registry import Registry
from mcp_orch.operations import Result

if TYPE_CHECKING:
    from mcp_orch.facade.workspace import Workspace


class ClientsResult(Result):
    def __init__(self, clients: list[tuple[ClientSpec, str]]) -> None:
        self.clients = clients  # (spec, config path on this machine)

    def to_dict(self) -> dict[str, Any]:
        return {"clients": [{**s.to_dict(), "config_path": p} for s, p in self.clients]}


def list_clients(client_root: str | Path | None = None) -> ClientsResult:
    """The supported MCP clients and where their config files are."""
    return ClientsResult([(s, str(config_path(s, root=client_root))) for s in all_clients()])


#: The transports ``transport_counts`` always reports, even at zero.
TRANSPORTS = ("stdio", "streamable-http", "sse")


def transport_counts(servers: CatalogView) -> dict[str, int]:
    """How many of ``servers`` run over each transport (a server with two counts twice)."""
    view = servers if isinstance(servers, CatalogView) else CatalogView(servers)
    return dict.fromkeys(TRANSPORTS, 0) | view.transport_counts()


class ServersResult(Result):
    def __init__(
        self,
        page: CatalogView,
        total: int,
        offset: int = 0,
        limit: int | None = None,
        counts: dict[str, int] | None = None,
    ) -> None:
        self.page, self.total, self.offset, self.limit = page, total, offset, limit
        self.counts = counts if counts is not None else transport_counts(page)

    @property
    def next_cursor(self) -> str | None:
        end = self.offset + len(self.page)
        return str(end) if end < self.total else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "servers": self.page.to_dict(),
            "total": self.total,
            "offset": self.offset,
            "limit": self.limit,
            "next_cursor": self.next_cursor,
            "count": len(self.page),  # the servers on this page; total counts every match
            "transport_counts": self.counts,  # over every match, not only this page
        }


def list_servers(
    registry: Registry,
    *,
    search: str = "",
    transport: str | None = None,
    tag: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
    offset: int | None = None,
    status: str = "active",
) -> ServersResult:
    """Servers in the catalog matching every filter; one page of ``limit`` (all by default),
    from ``cursor`` (a previous page's ``next_cursor``) or ``offset``; ``status`` shows
    deprecated or deleted records (``any`` for all), which are hidden by default."""
    start = offset or 0
    if cursor:
        if not cursor.isdigit():
            raise UsageError(
                f"invalid cursor {cursor!r}",
                "pass the previous page's next_cursor unchanged, or an offset",
                inputs=("cursor", "offset"),
            )
        start = int(cursor)
    if limit is not None and limit < 1:
        raise UsageError(f"limit must be at least 1, got {limit}", "ask for 1 or more servers")
    view = registry.search(search, transport=transport, tag=tag, status=status)
    page = view[start : start + limit] if limit is not None else view[start:]
    # the counts over every match: an unfiltered listing's come with it (counted once per
    # catalog version), the page's rows are built only for the page
    counts = dict.fromkeys(TRANSPORTS, 0) | view.transport_counts()
    return ServersResult(CatalogView(page), len(view), start, limit, counts)


class DescribeResult(Result):
    def __init__(
        self, server: Server, client: str | None = None, entry: dict[str, Any] | None = None
    ) -> None:
        self.server, self.client, self.entry = server, client, entry

    def to_dict(self) -> dict[str, Any]:
        data = self.server.to_dict()
        if self.client is not None:
            data["rendered"] = {"client": self.client, "entry": self.entry}
        return data


def describe_server(
    registry: Registry,
    server_id: str,
    *,
    client: str | None = None,
    params: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
    transport: str | None = None,
) -> DescribeResult:
    """Everything about one server; with ``client``, the entry that client would get."""
    server = registry.find(server_id)
    if not client:
        return DescribeResult(server)
    entry = server.render(client, params=params, env=env, transport=transport)
    return DescribeResult(server, client, entry)


class ImportResult(Result):
    def __init__(self, imported: CatalogView) -> None:
        self.imported = imported

    def to_dict(self) -> dict[str, Any]:
        # records refused (not valid server.json, or a secret in them); valid records not taken
        # (older than the catalog's, or a bundled server's name); names new/updated/...
        rejected = getattr(self.imported, "rejected", [])
        skipped = getattr(self.imported, "skipped", [])
        counts = getattr(self.imported, "counts", {}) or {"rejected": len(rejected)}
        imported = self.imported.to_dict()
        return {
            "imported": imported,
            "count": len(self.imported),
            "counts": counts,
            "rejected": rejected,
            "skipped": skipped,
        }


def import_servers(
    ws: Workspace,
    *,
    document: dict[str, Any] | list[Any] | str | None = None,
    path: str | Path | None = None,
) -> ImportResult:
    """Import official server.json documents (one, a list, or a registry API page) from a
    file or given inline (an object, or its JSON text) into the workspace catalog."""
    if (document is None) == (path is None):
        raise UsageError(
            "give either a document or a file to import",
            "the document is server.json content; the file holds such documents",
            inputs=("document", "path"),
        )
    source: Any = path
    if document is not None:
        source = document
        if isinstance(document, str):
            try:
                source = json.loads(document)
            except json.JSONDecodeError as exc:
                raise ParseError(
                    f"the document is not valid JSON: {exc}", "pass the JSON object itself"
                ) from None
    # a registry of its own: a long-lived server's shared one may be in use elsewhere
    return ImportResult(Registry(workspace=ws).import_server_json(source))

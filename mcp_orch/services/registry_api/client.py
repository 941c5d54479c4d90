"""Read the official MCP Registry's list API page by page (``GET /v0.1/servers``).

    for page in fetch_pages("https://registry.modelcontextprotocol.io", since=last_sync):
        for record in page.records:        # {"server": <server.json>, "_meta": {...}}
            keep(record)
        remember(page.next_cursor)         # an interrupted run resumes with cursor=...

What the registry does (modelcontextprotocol/registry ``internal/api/handlers/v0/servers.go`` and
``internal/database/postgres.go``, main ``29e32c39``): rows come in ``(name, version)`` order;
``limit`` is 1..100 (30 when left out); ``metadata.nextCursor`` is set only when a page is full,
so the last page may be followed by an empty one; ``updated_since`` (RFC 3339) keeps rows with
``updatedAt`` strictly later, and then deleted rows are included too (their
``_meta["io.modelcontextprotocol.registry/official"].status`` is ``"deleted"``). A resumed run
must pass the same ``since`` as the run that got the cursor. Publishing a new latest version
clears ``isLatest`` on the previous one without moving its ``updatedAt``, so an incremental sync
has to clear it itself.

Every failure is an :class:`~mcp_orch.core.errors.MCPOrchError` with a hint: a bad argument or a
request the API rejects (400/422) is a ``UsageError``, no API at the URL (404) is ``NotFound``,
an answer that is not JSON or not of the API's shape is a ``ParseError``, and an unreachable
host, TLS failure, timeout, other HTTP status or a paging loop is a :class:`RegistryAPIError`.
TLS is always verified: with ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` set, against them, otherwise
against the system's store (httpx2's ``verify=True``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import ssl
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from mcp_orch.core.errors import MCPOrchError, NotFound, ParseError, UsageError

if TYPE_CHECKING:
    import httpx2

__all__ = [
    "DEFAULT_URL",
    "MAX_LIMIT",
    "OFFICIAL_META",
    "Page",
    "RegistryAPIError",
    "fetch_pages",
    "format_since",
    "servers_url",
]

#: The API's paging parameter (a name, not the Cursor client: see the client table test).
CURSOR_PARAM = "cursor"
DEFAULT_URL = "https://registry.modelcontextprotocol.io"
API_PATH = "/v0.1/servers"
MAX_LIMIT = 100  # the API's maximum page size (and its default is 30)
OFFICIAL_META = "io.modelcontextprotocol.registry/official"
MAX_PAGE_BYTES = 32 * 1024 * 1024  # a full page of the real registry is well under 1 MiB

_URL_HINT = "give the registry's base URL, such as " + DEFAULT_URL
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})")
_API_VERSION = re.compile(r"v\d+(\.\d+)?")


class RegistryAPIError(MCPOrchError):
    """The registry API could not be read: unreachable, TLS, a timeout, an HTTP error status,
    or paging that loops. ``url`` is the page asked for (no credentials), ``status`` the HTTP
    status if there was one."""

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        *,
        url: str,
        status: int | None = None,
        inputs: Sequence[str] = (),
    ) -> None:
        super().__init__(message, hint, inputs=inputs)
        self.url = url
        self.status = status

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict() | {"url": self.url}
        if self.status is not None:
            data["status"] = self.status
        return data


@dataclass(frozen=True)
class Page:
    """One answer of ``GET /v0.1/servers``: its records (``{"server": ..., "_meta": ...}``),
    the cursor of the next page (None: the last page), the URL asked and the cursor it had."""

    records: list[dict[str, Any]]
    next_cursor: str | None
    url: str
    cursor: str | None = None


def servers_url(base_url: str) -> str:
    """The list endpoint for ``base_url``: ``https://host`` -> ``https://host/v0.1/servers``;
    a URL already ending in ``/v0``, ``/v0.1`` or ``/servers`` keeps its API version."""
    text = base_url.strip() if isinstance(base_url, str) else ""
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise UsageError(f"not a URL: {base_url!r}", _URL_HINT, inputs=("url",)) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"not an http(s) URL: {_display(text)!r}", _URL_HINT, inputs=("url",))
    if parts.query:
        raise UsageError(
            f"the registry URL has a query: {_display(text)!r}",
            "give the base URL only; filters are options of their own",
            inputs=("url",),
        )
    path = parts.path.rstrip("/")
    last = path.rsplit("/", 1)[-1]
    if last != "servers":
        path += "/servers" if _API_VERSION.fullmatch(last) else API_PATH
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def format_since(since: dt.datetime | str) -> str:
    """``updated_since`` as the API takes it (RFC 3339); a datetime must carry its time zone."""
    if isinstance(since, dt.datetime):
        if since.tzinfo is None or since.utcoffset() is None:
            raise UsageError(
                f"the time {since.isoformat()} has no time zone",
                "give an aware time (UTC), such as 2025-08-07T13:15:04.280Z",
                inputs=("since",),
            )
        return since.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(since, str) and _RFC3339.fullmatch(since.strip()):
        return since.strip()
    raise UsageError(
        f"not an RFC 3339 time: {since!r}",
        "give a time such as 2025-08-07T13:15:04.280Z (or +02:00 for the zone)",
        inputs=("since",),
    )


def fetch_pages(
    base_url: str = DEFAULT_URL,
    *,
    since: dt.datetime | str | None = None,
    cursor: str | None = None,
    limit: int = MAX_LIMIT,
    timeout: float = 30,
    on_page: Callable[[Page], None] | None = None,
    search: str | None = None,
    version: str | None = None,
) -> Iterator[Page]:
    """The pages of ``GET /v0.1/servers``, following ``nextCursor`` until there is none.

    ``since`` asks only for records updated after it (``updated_since``, deleted ones
    included); ``cursor`` resumes where a run stopped (a :attr:`Page.next_cursor`, with the
    same ``since``); ``limit`` is the page size (1..100); ``timeout`` bounds each page, in
    seconds. ``on_page`` is called with each page before it is yielded. ``search`` (a name
    substring) and ``version`` (``"latest"`` or an exact version) are the API's filters.

    Arguments are checked at once; the requests start when the first page is asked for. A
    cursor the registry already gave, or a page holding only records already seen, ends the
    paging with a :class:`RegistryAPIError` (a loop); an empty page ends it quietly."""
    url = servers_url(base_url)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise UsageError(
            f"the page size must be 1 to {MAX_LIMIT}, not {limit!r}",
            f"the registry answers at most {MAX_LIMIT} records a page",
            inputs=("limit",),
        )
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        raise UsageError(f"the timeout must be a positive number of seconds, not {timeout!r}")
    if cursor is not None and (not isinstance(cursor, str) or not cursor):
        raise UsageError(f"not a cursor: {cursor!r}", "pass a page's next_cursor, or none")
    params: dict[str, str] = {"limit": str(limit)}
    if since is not None:
        params["updated_since"] = format_since(since)
    if search:
        params["search"] = search
    if version:
        params["version"] = version
    return _pages(url, params, cursor, float(timeout), on_page)


def _pages(
    url: str,
    params: dict[str, str],
    cursor: str | None,
    timeout: float,
    on_page: Callable[[Page], None] | None,
) -> Iterator[Page]:
    import httpx2  # only when pages are fetched: the rest of mcp-orch never needs it

    seen_cursors = {cursor} if cursor else set()
    seen_records: set[tuple[str, str]] = set()
    headers = {"Accept": "application/json", "User-Agent": "mcp-orch (registry sync)"}
    with httpx2.Client(
        headers=headers, timeout=timeout, follow_redirects=True, verify=True, trust_env=True
    ) as http:
        while True:
            query = params | ({CURSOR_PARAM: cursor} if cursor else {})
            asked = _display(str(httpx2.URL(url, params=query)))
            records, next_cursor = _shape(_get(http, url, query, asked, timeout), asked)
            keys = {(r["server"]["name"], r["server"]["version"]) for r in records}
            if records and keys <= seen_records:
                raise RegistryAPIError(
                    f"the registry sent the same {len(records)} records again ({asked})",
                    "its paging loops: nothing more was read; try again later (a sync "
                    "resumes from the last page it kept)",
                    url=asked,
                )
            if next_cursor is not None and next_cursor in seen_cursors:
                raise RegistryAPIError(
                    f"the registry gave the cursor {next_cursor!r} a second time ({asked})",
                    "its paging loops: nothing more was read; try again later (a sync "
                    "resumes from the last page it kept)",
                    url=asked,
                )
            if not records:
                next_cursor = None  # an empty page is the end, whatever it says
            seen_records |= keys
            page = Page(records, next_cursor, asked, cursor)
            if on_page is not None:
                on_page(page)
            yield page
            if next_cursor is None:
                return
            seen_cursors.add(next_cursor)
            cursor = next_cursor


def _get(
    http: httpx2.Client, url: str, query: Mapping[str, str], asked: str, timeout: float
) -> Any:
    """One page's JSON; every failure as an mcp-orch error."""
    import httpx2  # already imported by _pages

    deadline = time.monotonic() + timeout
    try:
        with http.stream("GET", url, params=query) as resp:
            body = bytearray()
            for chunk in resp.iter_bytes():
                body += chunk
                if len(body) > MAX_PAGE_BYTES:
                    raise RegistryAPIError(
                        f"a page of the registry is over {MAX_PAGE_BYTES // 2**20} MiB ({asked})",
                        "is the URL the registry API? Ask for smaller pages (limit)",
                        url=asked,
                        status=resp.status_code,
                    )
                if time.monotonic() > deadline:
                    raise httpx2.ReadTimeout("the page took too long")
            status, reason, ctype = (
                resp.status_code,
                resp.reason_phrase,
                resp.headers.get("content-type", ""),
            )
            retry_after = resp.headers.get("retry-after")
    except httpx2.TimeoutException:
        raise RegistryAPIError(
            f"the registry did not answer within {timeout:g} s ({asked})",
            "try again later, or allow more time (timeout)",
            url=asked,
        ) from None
    except httpx2.UnsupportedProtocol as exc:
        raise UsageError(f"cannot fetch {asked}: {exc}", _URL_HINT, inputs=("url",)) from None
    except (httpx2.HTTPError, httpx2.InvalidURL, OSError) as exc:
        raise _transport_error(exc, asked) from None
    if status == 200:
        return _json(bytes(body), asked)
    detail = _problem(bytes(body), ctype)
    said = f": {detail}" if detail else ""
    if status in (400, 422):
        raise UsageError(
            f"the registry rejected the request (HTTP {status}){said}",
            "check the options (limit 1..100, since an RFC 3339 time, cursor from a page)",
            inputs=_inputs_of(bytes(body)),
        )
    if status == 404:
        raise NotFound(
            f"no registry API at {asked} (HTTP 404){said}",
            _URL_HINT + " (the API is under /v0.1/servers)",
            inputs=("url",),
        )
    if status == 429:
        wait = f" (it asks to wait {retry_after} s)" if retry_after else ""
        raise RegistryAPIError(
            f"the registry is limiting requests: HTTP 429{said}",
            f"wait and sync again{wait}; a sync resumes from its cursor",
            url=asked,
            status=status,
        )
    hint = "the registry has a problem: try again later" if status >= 500 else _URL_HINT
    raise RegistryAPIError(
        f"the registry answered HTTP {status} {reason}{said} ({asked})".replace("  ", " "),
        hint,
        url=asked,
        status=status,
    )


def _transport_error(exc: BaseException, asked: str) -> RegistryAPIError:
    chain: list[BaseException] = []
    link: BaseException | None = exc
    while link is not None and link not in chain:
        chain.append(link)
        link = link.__cause__ or link.__context__
    tls = next((e for e in chain if isinstance(e, ssl.SSLError)), None)
    text = str(exc) or type(exc).__name__
    if tls is not None or "CERTIFICATE_VERIFY_FAILED" in text:
        reason = getattr(tls, "verify_message", None) or getattr(tls, "reason", None) or text
        return RegistryAPIError(
            f"TLS with the registry failed ({asked}): {reason}",
            "if the registry's certificate is signed by a private CA, add it to the system's "
            "store or point SSL_CERT_FILE at a CA bundle holding it; TLS is never skipped",
            url=asked,
        )
    return RegistryAPIError(
        f"cannot reach the registry ({asked}): {text}",
        "check the URL and the network (and HTTPS_PROXY / NO_PROXY if a proxy is in the way)",
        url=asked,
    )


def _json(body: bytes, asked: str) -> Any:
    try:
        return json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ParseError(
            f"the registry's answer is not UTF-8 ({asked}): {exc.reason} at byte {exc.start}",
            "is the URL the registry API?",
        ) from None
    except json.JSONDecodeError as exc:
        raise ParseError(
            f"the registry's answer is not JSON ({asked}): {exc.msg} at line {exc.lineno} "
            f"column {exc.colno}",
            "is the URL the registry API? A proxy or login page may be answering instead",
        ) from None


def _shape(data: Any, asked: str) -> tuple[list[dict[str, Any]], str | None]:
    """The records and the next cursor of a list answer, checked."""

    def bad(what: str) -> ParseError:
        return ParseError(
            f"the registry's answer is not a server list ({asked}): {what}",
            "is the URL the MCP Registry API (GET /v0.1/servers)?",
        )

    if not isinstance(data, dict):
        raise bad(f"a JSON {type(data).__name__}, not an object")
    servers = data.get("servers")
    if not isinstance(servers, list):
        raise bad("no 'servers' list")
    records: list[dict[str, Any]] = []
    for i, item in enumerate(servers):
        doc = item.get("server") if isinstance(item, dict) else None
        if not isinstance(doc, dict):
            raise bad(f"servers[{i}] has no 'server' object")
        for field in ("name", "version"):
            if not isinstance(doc.get(field), str) or not doc[field]:
                raise bad(f"servers[{i}].server has no {field!r} string")
        meta = item.get("_meta", {})
        if meta is None:
            meta = {}
        if not isinstance(meta, dict) or not isinstance(meta.get(OFFICIAL_META, {}), dict):
            raise bad(f"servers[{i}]._meta is not an object of objects")
        records.append({"server": doc, "_meta": meta})
    metadata = data.get("metadata", {})
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise bad("'metadata' is not an object")
    next_cursor = metadata.get("nextCursor")
    if next_cursor is not None and not isinstance(next_cursor, str):
        raise bad("'metadata.nextCursor' is not a string")
    return records, next_cursor or None


def _problem(body: bytes, content_type: str) -> str:
    """The API's error text (huma's RFC 9457 ``detail`` and ``errors``), else the body's start."""
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except ValueError:
        data = None
    if isinstance(data, dict):
        parts = [str(data["detail"])] if isinstance(data.get("detail"), str) else []
        for item in data.get("errors") or []:
            if isinstance(item, dict) and isinstance(item.get("message"), str):
                where = item.get("location")
                parts.append(
                    f"{where}: {item['message']}" if isinstance(where, str) else item["message"]
                )
        if isinstance(data.get("error"), str):  # the older {"error": "..."} form
            parts.append(data["error"])
        if parts:
            return _clip("; ".join(parts))
    if content_type.startswith("text/"):
        return _clip(body.decode("utf-8", "replace").strip())
    return ""


def _inputs_of(body: bytes) -> tuple[str, ...]:
    """Which of our inputs a 400/422 is about (``query.limit`` -> ``limit``)."""
    text = body.decode("utf-8", "replace")
    names = {"limit": "limit", "updated_since": "since", CURSOR_PARAM: "cursor", "search": "search"}
    return tuple(ours for theirs, ours in names.items() if theirs in text)


def _clip(text: str, size: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= size else text[: size - 1] + "…"


def _display(url: str) -> str:
    """A URL without its user name and password."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))

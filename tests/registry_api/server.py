"""The official MCP Registry's read API on loopback, serving the bundled public data set.

    def test_sync(registry_api):                      # module scope
        registry_api.url                              # http://127.0.0.1:PORT (no path)
        registry_api.records                          # the current records, as the API lists them
        registry_api.publish({"name": ..., "version": "2.0.0", ...})   # a new (latest) version
        registry_api.set_status("io.github.x/y", "deprecated", version="1.0.0")
        registry_api.fail(500)                        # the next request answers 500
        registry_api.reset()                          # back to the bundled data set

The behaviour follows the registry's Go code at modelcontextprotocol/registry main
``29e32c39dcb5e0e2b43974089d959fcc4794eb6d`` (read from the synced fork earyantLe/registry):

- ``internal/api/router/v0.go``: the same handlers are mounted under ``/v0`` and ``/v0.1``.
- ``internal/api/handlers/v0/servers.go``: ``GET {prefix}/servers`` takes ``cursor``, ``limit``
  (default 30, minimum 1, maximum 100; huma answers 422 "validation failed" outside that or for a
  non-integer), ``updated_since`` (RFC 3339, else 400 "Invalid updated_since format: ..."),
  ``search`` (name substring), ``version`` (``latest`` = ``isLatest``, else an exact version) and
  ``include_deleted`` (default false; always true with ``updated_since``, and 400 when it is set
  false next to it). ``GET {prefix}/servers/{name}/versions`` lists every version (newest
  ``publishedAt`` first, 404 "Server not found"); ``.../versions/{version}`` returns one
  (``latest`` = the latest version).
- ``internal/database/postgres.go`` ``ListServers``: ``ORDER BY server_name, version``; the next
  cursor is ``"<name>:<version>"`` of the last row, and only when the page is full
  (``len(results) >= limit``); a cursor selects rows with ``(server_name, version) > (name,
  version)`` (no ``:``: ``server_name > cursor``); ``updated_since`` is ``updated_at > t``
  (strictly newer); search is ``server_name ILIKE '%q%'`` with ``%``/``_`` taken literally;
  deleted rows are left out unless ``include_deleted``.
- Errors are huma's RFC 9457 ``ErrorModel`` (``application/problem+json``):
  ``{"title", "status", "detail", "errors": [{"message", "location", "value"}]}``; ``$schema``
  is switched off (``internal/api/router/router.go``). Paths no route matches get Go's
  ``404 page not found`` in plain text (``http.ServeMux``).
- Publishing a version that becomes latest clears ``is_latest`` on the previous one *without*
  touching its ``updated_at`` (``UnmarkAsLatest``; the ``updated_at`` trigger was dropped in
  migration 003), so ``updated_since`` does not return the old version. Status changes and edits
  set ``updated_at = NOW()`` (and ``statusChangedAt`` when the status changes).

Names sort by code point here (the production database's collation may order punctuation
differently); clients must treat the cursor as opaque either way.
"""

from __future__ import annotations

import bisect
import copy
import datetime as dt
import gzip
import json
import re
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

DATA = Path(__file__).resolve().parents[1] / "data" / "mcp-registry" / "servers.json.gz"
OFFICIAL = "io.modelcontextprotocol.registry/official"
DEFAULT_LIMIT = 30
MAX_LIMIT = 100
PREFIXES = ("/v0", "/v0.1")

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})"
)
_BOOLS = {"1": True, "t": True, "T": True, "TRUE": True, "true": True, "True": True}
_BOOLS |= {"0": False, "f": False, "F": False, "FALSE": False, "false": False, "False": False}


def load_records(path: Path = DATA) -> list[dict[str, Any]]:
    """The bundled data set: a list of ``{"server": server.json, "_meta": {...}}``."""
    raw = gzip.decompress(path.read_bytes()).decode("utf-8-sig")  # the mirror writes a BOM
    records = json.loads(raw)
    assert isinstance(records, list)
    return records


def parse_time(text: str) -> dt.datetime | None:
    """An RFC 3339 timestamp as Go's ``time.Parse(time.RFC3339, ...)`` takes it, else None."""
    m = _RFC3339.fullmatch(text)
    if m is None:
        return None
    frac = (m.group(7) or ".0")[1:7].ljust(6, "0")
    zone = m.group(8)
    tz = dt.UTC
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        tz = dt.timezone(sign * dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    try:
        y, mo, d, h, mi, s = (int(m.group(i)) for i in range(1, 7))
        return dt.datetime(y, mo, d, h, mi, s, int(frac), tzinfo=tz)
    except ValueError:
        return None


def format_time(when: dt.datetime) -> str:
    """Go's RFC 3339 (nano) form, as the registry writes it: UTC, trailing zeros trimmed."""
    text = when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f").rstrip("0").rstrip(".")
    return text + "Z"


def _after(stamp: str, since: dt.datetime) -> bool:
    when = parse_time(stamp)
    return when is not None and when > since


def official(record: dict[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = record["_meta"][OFFICIAL]
    return meta


def key(record: dict[str, Any]) -> tuple[str, str]:
    return record["server"]["name"], record["server"]["version"]


class ApiError(Exception):
    def __init__(self, status: int, detail: str, errors: list[dict[str, Any]] | None = None):
        super().__init__(detail)
        self.status, self.detail, self.errors = status, detail, errors or []

    def body(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "title": HTTPStatus(self.status).phrase,
            "status": self.status,
            "detail": self.detail,
        }
        if self.errors:
            data["errors"] = self.errors
        return data


def _validation(message: str, location: str, value: Any) -> ApiError:
    return ApiError(
        422, "validation failed", [{"message": message, "location": location, "value": value}]
    )


@dataclass
class Canned:
    """A response a test asked for, served instead of the API's own ``times`` times."""

    status: int
    body: bytes
    content_type: str
    times: int


class RegistryAPI:
    """The data and the behaviour; :class:`_Handler` only moves bytes."""

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self._original = json.dumps(records)  # reset() parses it again: faster than deepcopy
        self._dirty = True
        self._lock = threading.RLock()
        self.url = ""
        self.requests: list[str] = []  # every request target, in order ("/v0.1/servers?limit=5")
        self.sticky_cursor: str | None = None  # when set, every list page carries this cursor
        self._canned: list[Canned] = []
        self._clock = dt.datetime.now(dt.UTC)
        self.reset()

    # --- what tests read and change ------------------------------------------------------------

    @property
    def records(self) -> list[dict[str, Any]]:
        """Every record (deleted ones too), in the API's order; copies."""
        with self._lock:
            return copy.deepcopy(self._rows)

    def reset(self) -> None:
        """Back to the bundled data set; forget canned responses, the sticky cursor, the log."""
        with self._lock:
            if self._dirty:
                self._rows = sorted(json.loads(self._original), key=key)
                self._keys = [key(r) for r in self._rows]
                self._dirty = False
            self._canned.clear()
            self.sticky_cursor = None
            self.requests.clear()

    def now(self) -> dt.datetime:
        """The server's clock: real UTC time, but strictly increasing (1 µs at least)."""
        with self._lock:
            self._clock = max(dt.datetime.now(dt.UTC), self._clock + dt.timedelta(microseconds=1))
            return self._clock

    def publish(self, server: dict[str, Any], *, latest: bool = True) -> dict[str, Any]:
        """Add a version (a new server, or a new version of one), as ``POST /v0/publish`` does.

        With ``latest`` it becomes the latest version; the previous latest loses ``isLatest``
        but keeps its ``updatedAt`` (as the real registry does)."""
        with self._lock:
            self._dirty = True
            doc = copy.deepcopy(server)
            doc.setdefault(
                "$schema",
                "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
            )
            name, version = doc["name"], doc["version"]
            if (name, version) in self._keys:
                raise ValueError(f"{name} {version} is already published")
            stamp = format_time(self.now())
            if latest:
                for row in self._rows:
                    if row["server"]["name"] == name:
                        official(row)["isLatest"] = False
            meta: dict[str, Any] = {"status": "active", "statusChangedAt": stamp}
            meta |= {"publishedAt": stamp, "updatedAt": stamp, "isLatest": latest}
            record = {"server": doc, "_meta": {OFFICIAL: meta}}
            at = bisect.bisect_left(self._keys, (name, version))
            self._rows.insert(at, record)
            self._keys.insert(at, (name, version))
            return copy.deepcopy(record)

    def bump(self, name: str, version: str, **changes: Any) -> dict[str, Any]:
        """Publish ``version`` of ``name`` as its latest: its latest document, with ``changes``."""
        with self._lock:
            current = self._find(name, "latest", include_deleted=True)
            doc = copy.deepcopy(current["server"]) | changes | {"version": version}
            return self.publish(doc)

    def set_status(
        self, name: str, status: str, *, version: str | None = None, message: str | None = None
    ) -> list[dict[str, Any]]:
        """``PATCH .../status``: one version (``version``) or all of them; ``updatedAt`` moves."""
        assert status in ("active", "deprecated", "deleted"), status
        with self._lock:
            rows = [
                r
                for r in self._rows
                if r["server"]["name"] == name and version in (None, r["server"]["version"])
            ]
            if not rows:
                raise KeyError(f"{name} {version or '(all versions)'}")
            self._dirty = True
            stamp = format_time(self.now())
            for row in rows:
                meta = official(row)
                if meta.get("status") != status:
                    meta["statusChangedAt"] = stamp
                meta["status"] = status
                meta.pop("statusMessage", None)
                if message is not None:
                    meta["statusMessage"] = message
                meta["updatedAt"] = stamp
            return copy.deepcopy(rows)

    def edit(self, name: str, version: str, **changes: Any) -> dict[str, Any]:
        """``PUT .../versions/{version}``: change the document; ``updatedAt`` moves."""
        with self._lock:
            self._dirty = True
            row = self._find(name, version, include_deleted=True)
            row["server"] |= copy.deepcopy(changes)
            official(row)["updatedAt"] = format_time(self.now())
            return copy.deepcopy(row)

    def fail(
        self,
        status: int = 500,
        body: bytes | str | dict[str, Any] | None = None,
        *,
        content_type: str | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` requests with this instead (a dict is sent as JSON; the
        default body is an ``ErrorModel`` for ``status``)."""
        if body is None:
            body = ApiError(status, "Failed to list servers").body()
        if isinstance(body, dict):
            body = json.dumps(body)
            problem = "application/problem+json" if status >= 400 else "application/json"
            content_type = content_type or problem
        data = body.encode() if isinstance(body, str) else body
        with self._lock:
            self._canned.append(Canned(status, data, content_type or "application/json", times))

    # --- the API -------------------------------------------------------------------------------

    def handle(self, target: str) -> tuple[int, str, bytes]:
        """One ``GET``: (status, content type, body)."""
        with self._lock:
            self.requests.append(target)
            if self._canned:
                canned = self._canned[0]
                canned.times -= 1
                if canned.times <= 0:
                    self._canned.pop(0)
                return canned.status, canned.content_type, canned.body
        parts = urlsplit(target)
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        segments = parts.path.split("/")  # still escaped: a name's "/" arrives as %2F
        try:
            if len(segments) >= 3 and "/" + segments[1] in PREFIXES and segments[2] == "servers":
                rest = segments[3:]
                if not rest or rest == [""]:
                    return self._json(200, self.list_servers(query))
                if len(rest) == 2 and rest[1] == "versions":
                    return self._json(200, self.versions(unquote(rest[0]), query))
                if len(rest) == 3 and rest[1] == "versions":
                    found = self.version(unquote(rest[0]), unquote(rest[2]), query)
                    return self._json(200, found)
        except ApiError as exc:
            return exc.status, "application/problem+json", json.dumps(exc.body()).encode()
        return 404, "text/plain; charset=utf-8", b"404 page not found\n"

    def list_servers(self, query: dict[str, str]) -> dict[str, Any]:
        limit = DEFAULT_LIMIT
        if query.get("limit", ""):
            try:
                limit = int(query["limit"], 10)
            except ValueError:
                raise _validation("invalid integer", "query.limit", query["limit"]) from None
            if limit < 1:
                raise _validation("expected number >= 1", "query.limit", limit)
            if limit > MAX_LIMIT:
                raise _validation(f"expected number <= {MAX_LIMIT}", "query.limit", limit)
        include_deleted = self._bool(query, "include_deleted")
        since = None
        if query.get("updated_since", ""):
            since = parse_time(query["updated_since"])
            if since is None:
                raise ApiError(
                    400,
                    "Invalid updated_since format: expected RFC3339 timestamp "
                    "(e.g., 2025-08-07T13:15:04.280Z)",
                )
            if include_deleted is False:
                raise ApiError(
                    400,
                    "Cannot set include_deleted=false when using updated_since "
                    "(incremental sync requires deleted servers)",
                )
            include_deleted = True
        search = query.get("search", "").lower()
        version = query.get("version", "")
        cursor = query.get("cursor", "")
        with self._lock:
            start = 0
            if cursor:
                name, sep, ver = cursor.partition(":")
                if sep:
                    start = bisect.bisect_right(self._keys, (name, ver))
                else:  # no ":": the rows after every version of that name
                    start = bisect.bisect_right(self._keys, cursor, key=lambda k: k[0])
            page: list[dict[str, Any]] = []
            for row in self._rows[start:]:
                meta = official(row)
                if not include_deleted and meta.get("status") == "deleted":
                    continue
                if since is not None and not _after(meta["updatedAt"], since):
                    continue
                if search and search not in row["server"]["name"].lower():
                    continue
                if version == "latest" and not meta.get("isLatest"):
                    continue
                if version and version != "latest" and row["server"]["version"] != version:
                    continue
                page.append(row)
                if len(page) >= limit:
                    break
            metadata: dict[str, Any] = {"count": len(page)}
            if page and len(page) >= limit:
                metadata["nextCursor"] = "{}:{}".format(*key(page[-1]))
            if self.sticky_cursor is not None:
                metadata["nextCursor"] = self.sticky_cursor
            return {"servers": copy.deepcopy(page), "metadata": metadata}

    def versions(self, name: str, query: dict[str, str]) -> dict[str, Any]:
        include_deleted = bool(self._bool(query, "include_deleted"))
        with self._lock:
            rows = [
                r
                for r in self._rows
                if r["server"]["name"] == name
                and (include_deleted or official(r).get("status") != "deleted")
            ]
            if not rows:
                raise ApiError(404, "Server not found")
            rows.sort(key=lambda r: official(r)["publishedAt"], reverse=True)
            return {"servers": copy.deepcopy(rows), "metadata": {"count": len(rows)}}

    def version(self, name: str, version: str, query: dict[str, str]) -> dict[str, Any]:
        include_deleted = bool(self._bool(query, "include_deleted"))
        with self._lock:
            return copy.deepcopy(self._find(name, version, include_deleted=include_deleted))

    def _find(self, name: str, version: str, *, include_deleted: bool) -> dict[str, Any]:
        rows = [
            r
            for r in self._rows
            if r["server"]["name"] == name
            and (include_deleted or official(r).get("status") != "deleted")
            and (
                official(r).get("isLatest")
                if version == "latest"
                else r["server"]["version"] == version
            )
        ]
        if not rows:
            raise ApiError(404, "Server not found")
        return max(rows, key=lambda r: official(r)["publishedAt"])

    @staticmethod
    def _bool(query: dict[str, str], name: str) -> bool | None:
        text = query.get(name, "")
        if not text:
            return None
        if text not in _BOOLS:
            raise _validation("invalid boolean", f"query.{name}", text)
        return _BOOLS[text]

    @staticmethod
    def _json(status: int, body: Any) -> tuple[int, str, bytes]:
        return status, "application/json", json.dumps(body, ensure_ascii=False).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the client reuses its connection
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed ACK
    api: RegistryAPI  # set on the subclass `serve` makes

    def do_GET(self) -> None:
        status, content_type, body = self.api.handle(self.path)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True


@dataclass(frozen=True)
class TLS:
    """A throwaway CA and a certificate for 127.0.0.1 it signed (``cryptography``)."""

    ca_file: Path
    cert_file: Path
    key_file: Path

    @classmethod
    def make(cls, folder: Path) -> TLS:
        import ipaddress

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        def name(cn: str) -> x509.Name:
            return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

        start = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
        end = start + dt.timedelta(days=7)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca = (
            x509.CertificateBuilder()
            .subject_name(name("mcp-orch test CA"))
            .issuer_name(name("mcp-orch test CA"))
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
            )
            .sign(ca_key, hashes.SHA256())
        )
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(name("127.0.0.1"))
            .issuer_name(ca.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False,
            )
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        pem = serialization.Encoding.PEM
        out = cls(folder / "ca.pem", folder / "cert.pem", folder / "key.pem")
        out.ca_file.write_bytes(ca.public_bytes(pem))
        out.cert_file.write_bytes(cert.public_bytes(pem))
        out.key_file.write_bytes(
            key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        )
        return out


class serve:  # noqa: N801 - used as `with serve() as api:`
    """Run a :class:`RegistryAPI` on a free loopback port in a thread; ``tls`` serves HTTPS."""

    def __init__(self, records: list[dict[str, Any]] | None = None, *, tls: TLS | None = None):
        self.api = RegistryAPI(load_records() if records is None else records)
        handler = type("Handler", (_Handler,), {"api": self.api})
        self._server = _Server(("127.0.0.1", 0), handler)
        scheme = "http"
        if tls is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(tls.cert_file, tls.key_file)
            self._server.socket = ctx.wrap_socket(self._server.socket, server_side=True)
            scheme = "https"
        self.api.url = f"{scheme}://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> RegistryAPI:
        self._thread.start()
        return self.api

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture(scope="module")
def registry_api() -> Iterator[RegistryAPI]:
    """The bundled data set behind the registry API on loopback (reset it after mutating)."""
    with serve() as api:
        yield api

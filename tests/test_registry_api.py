"""The registry API client (mcp_orch.services.registry_api) against a loopback copy of the
official MCP Registry's read API (tests/registry_api/server.py) serving the real public data set
(tests/data/mcp-registry/, 2,794 records). Nothing leaves loopback."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import math
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from registry_api.server import DATA, TLS, RegistryAPI, load_records, registry_api, serve

from mcp_orch.core.errors import MCPOrchError, NotFound, ParseError, UsageError
from mcp_orch.services.registry_api import (
    OFFICIAL_META,
    Page,
    RegistryAPIError,
    fetch_pages,
    format_since,
    servers_url,
)

__all__ = ["registry_api"]  # the module-scope fixture (tests/registry_api/server.py)

RECORDS = load_records()
KEYS = {(r["server"]["name"], r["server"]["version"]) for r in RECORDS}


def meta(record: dict[str, Any]) -> dict[str, Any]:
    return record["_meta"][OFFICIAL_META]


def keys(pages: list[Page]) -> list[tuple[str, str]]:
    return [(r["server"]["name"], r["server"]["version"]) for p in pages for r in p.records]


def stamp(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


@pytest.fixture
def api(registry_api: RegistryAPI) -> Iterator[RegistryAPI]:
    """The module's server, put back to the bundled data set after each test."""
    registry_api.reset()
    yield registry_api
    registry_api.reset()


# --- the data set -------------------------------------------------------------------------------


def test_the_bundled_data_set_is_the_mirror_file_byte_for_byte() -> None:
    raw = gzip.decompress(DATA.read_bytes())
    # README.md: joelverhagen/mcp-insights 5d6e951b:servers.json, git blob b2d59fd5
    assert len(raw) == 4_189_871
    assert hashlib.sha1(b"blob %d\0" % len(raw) + raw).hexdigest() == (
        "b2d59fd5c056e65bfcb295782010781e27a14b20"
    )
    assert len(RECORDS) == len(KEYS) == 2794
    assert len({name for name, _ in KEYS}) == 1108
    assert sum(meta(r)["isLatest"] for r in RECORDS) == 1108
    readme = (DATA.parent / "README.md").read_text(encoding="utf-8")
    assert "2,794" in readme and "b2d59fd5c056e65bfcb295782010781e27a14b20" in readme


# --- paging -------------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [100, 30, 7])
def test_every_record_once_at_any_page_size(api: RegistryAPI, limit: int) -> None:
    seen: list[Page] = []
    pages = list(fetch_pages(api.url, limit=limit, on_page=seen.append))
    got = keys(pages)
    assert len(got) == len(set(got)) == 2794 and set(got) == KEYS
    assert seen == pages
    # a cursor only on full pages: 2794 % limit != 0 here, so the last page is the short one
    assert len(pages) == math.ceil(2794 / limit)
    assert all(len(p.records) == limit for p in pages[:-1]) and pages[-1].next_cursor is None
    assert [p.cursor for p in pages[1:]] == [p.next_cursor for p in pages[:-1]]
    assert all(f"limit={limit}" in p.url and "/v0.1/servers?" in p.url for p in pages)


def test_a_full_last_page_is_followed_by_an_empty_one(api: RegistryAPI) -> None:
    # at limit 1 every page is full, so the API's cursor leads to an empty last page
    pages = list(fetch_pages(api.url, search="getdialer", limit=1))
    expected = sorted(k for k in KEYS if "getdialer" in k[0].lower())
    assert keys(pages) == expected and expected
    assert len(pages) == len(expected) + 1 and pages[-1].records == []


def test_resume_from_a_cursor(api: RegistryAPI) -> None:
    first = []
    for page in fetch_pages(api.url, limit=50):
        first.append(page)
        if len(first) == 3:
            break  # the run "stops" here; its last page's cursor is kept
    cursor = first[-1].next_cursor
    assert cursor
    api.requests.clear()
    rest = list(fetch_pages(api.url, limit=50, cursor=cursor))
    assert rest[0].cursor == cursor
    assert parse_qs(urlsplit(api.requests[0]).query)["cursor"] == [cursor]
    got = keys(first) + keys(rest)
    assert len(got) == len(set(got)) == 2794


def test_the_server_default_and_maximum_page_size(api: RegistryAPI) -> None:
    with httpx2.Client() as http:
        page = http.get(f"{api.url}/v0.1/servers").json()
        assert page["metadata"]["count"] == 30 and page["metadata"]["nextCursor"]
        name, version = (
            page["servers"][-1]["server"]["name"],
            page["servers"][-1]["server"]["version"],
        )
        assert page["metadata"]["nextCursor"] == f"{name}:{version}"  # as the registry makes it
        same = http.get(f"{api.url}/v0/servers").json()  # /v0 serves the same handlers
        assert same == page
        for bad, message in [("0", "expected number >= 1"), ("101", "expected number <= 100")]:
            resp = http.get(f"{api.url}/v0.1/servers", params={"limit": bad})
            assert resp.status_code == 422
            assert resp.headers["content-type"] == "application/problem+json"
            body = resp.json()
            assert body["detail"] == "validation failed"
            assert body["errors"][0]["message"] == message
            assert body["errors"][0]["location"] == "query.limit"


def test_search_and_latest(api: RegistryAPI) -> None:
    pages = list(fetch_pages(api.url, search="GitHub", version="latest"))
    expected = {
        (r["server"]["name"], r["server"]["version"])
        for r in RECORDS
        if "github" in r["server"]["name"].lower() and meta(r)["isLatest"]
    }
    assert set(keys(pages)) == expected and len(expected) > 100
    assert len(keys(list(fetch_pages(api.url, version="latest")))) == 1108


def test_the_version_endpoints(api: RegistryAPI) -> None:
    name = "app.getdialer/dialer"
    with httpx2.Client(base_url=api.url) as http:
        versions = http.get(f"/v0.1/servers/{name.replace('/', '%2F')}/versions").json()
        published = [meta(r)["publishedAt"] for r in versions["servers"]]
        assert published == sorted(published, reverse=True) and versions["metadata"]["count"] == 2
        latest = http.get(f"/v0.1/servers/{name.replace('/', '%2F')}/versions/latest").json()
        assert meta(latest)["isLatest"] and latest["server"]["version"] == "1.0.1"
        missing = http.get("/v0.1/servers/no.such%2Fserver/versions/latest")
        assert missing.status_code == 404 and missing.json()["detail"] == "Server not found"


# --- updated_since and incremental sync --------------------------------------------------------


def test_updated_since_returns_only_newer_records(api: RegistryAPI) -> None:
    since = "2025-12-01T00:00:00Z"
    pages = list(fetch_pages(api.url, since=since))
    expected = {
        (r["server"]["name"], r["server"]["version"])
        for r in RECORDS
        if stamp(meta(r)["updatedAt"]) > stamp(since)
    }
    assert set(keys(pages)) == expected and 0 < len(expected) < 2794
    assert all("updated_since=2025-12-01T00%3A00%3A00Z" in p.url for p in pages)
    # strictly newer: the newest record's own time returns nothing
    newest = max(RECORDS, key=lambda r: stamp(meta(r)["updatedAt"]))
    assert keys(list(fetch_pages(api.url, since=meta(newest)["updatedAt"]))) == []
    # an aware datetime works the same; a naive one is refused before any request
    aware = stamp(since).astimezone(dt.timezone(dt.timedelta(hours=2)))
    assert set(keys(list(fetch_pages(api.url, since=aware)))) == expected
    with pytest.raises(UsageError) as err:
        fetch_pages(api.url, since=dt.datetime(2025, 12, 1))
    assert err.value.inputs == ("since",)


def test_incremental_sync_sees_each_change(api: RegistryAPI) -> None:
    last_sync = max(meta(r)["updatedAt"] for r in RECORDS)  # what a full sync would remember
    bumped = "app.getdialer/dialer"
    deprecated, deleted = sorted({name for name, _ in KEYS} - {bumped})[:2]
    api.publish({"name": "io.example/new-server", "description": "New", "version": "0.1.0"})
    api.bump(bumped, "1.0.2")
    api.set_status(deprecated, "deprecated", message="use io.example/new-server")
    api.set_status(deleted, "deleted")

    changed = [r for p in fetch_pages(api.url, since=last_sync) for r in p.records]
    by_key = {(r["server"]["name"], r["server"]["version"]): r for r in changed}
    versions_of = {name: {v for n, v in KEYS if n == name} for name in (deprecated, deleted)}
    assert set(by_key) == {("io.example/new-server", "0.1.0"), (bumped, "1.0.2")} | {
        (name, v) for name, vs in versions_of.items() for v in vs
    }
    assert meta(by_key[(bumped, "1.0.2")])["isLatest"] is True
    # the previous latest lost isLatest without a new updatedAt: a sync must clear it itself
    assert (bumped, "1.0.1") not in by_key
    assert not meta(
        next(
            r
            for r in api.records
            if r["server"]["version"] == "1.0.1" and r["server"]["name"] == bumped
        )
    )["isLatest"]
    for v in versions_of[deprecated]:
        assert meta(by_key[(deprecated, v)])["status"] == "deprecated"
        assert meta(by_key[(deprecated, v)])["statusMessage"] == "use io.example/new-server"
    assert {meta(by_key[(deleted, v)])["status"] for v in versions_of[deleted]} == {"deleted"}
    # deleted versions are left out of a full listing, but updated_since always includes them
    full = set(keys(list(fetch_pages(api.url))))
    assert not {k for k in full if k[0] == deleted} and len(full) == 2794 + 2 - len(
        versions_of[deleted]
    )
    # nothing changed since the newest change
    newest = max(meta(r)["updatedAt"] for r in changed)
    assert keys(list(fetch_pages(api.url, since=newest))) == []


def test_updated_since_with_include_deleted_false_is_a_400(api: RegistryAPI) -> None:
    with httpx2.Client() as http:
        resp = http.get(
            f"{api.url}/v0.1/servers",
            params={"updated_since": "2025-01-01T00:00:00Z", "include_deleted": "false"},
        )
        assert resp.status_code == 400 and "include_deleted=false" in resp.json()["detail"]
        resp = http.get(f"{api.url}/v0.1/servers", params={"updated_since": "2025-01-01"})
        assert resp.status_code == 400
        assert resp.json()["detail"].startswith("Invalid updated_since format")


# --- loops and failures -------------------------------------------------------------------------


def test_a_repeated_cursor_stops_the_paging(api: RegistryAPI) -> None:
    api.sticky_cursor = "ai.aliengiraffe/spotdb:0.1.0"
    pages = fetch_pages(api.url, limit=10)
    first = next(pages)  # its cursor is new
    with pytest.raises(RegistryAPIError) as err:
        next(pages)  # the second page names the same cursor again
    assert "a second time" in err.value.message and err.value.hint
    assert len(first.records) == 10 and len(api.requests) == 2


def test_the_same_records_again_stop_the_paging(api: RegistryAPI) -> None:
    page = {"servers": RECORDS[:2], "metadata": {"nextCursor": "a:1", "count": 2}}
    api.fail(200, page)
    api.fail(200, page | {"metadata": {"nextCursor": "b:2", "count": 2}})  # a new cursor, old rows
    with pytest.raises(RegistryAPIError) as err:
        list(fetch_pages(api.url))
    assert "same 2 records" in err.value.message


def test_an_empty_page_ends_the_paging(api: RegistryAPI) -> None:
    api.fail(200, {"servers": [], "metadata": {"nextCursor": "zzz:1", "count": 0}})
    pages = list(fetch_pages(api.url))
    assert len(pages) == 1 and pages[0].next_cursor is None and len(api.requests) == 1


def test_http_500_is_a_typed_error_with_a_hint(api: RegistryAPI) -> None:
    api.fail(500)
    with pytest.raises(RegistryAPIError) as err:
        list(fetch_pages(api.url))
    exc = err.value
    assert (
        exc.status == 500 and "HTTP 500" in exc.message and "Failed to list servers" in exc.message
    )
    assert "try again later" in exc.hint
    assert exc.to_dict()["error"] == "RegistryAPIError" and exc.to_dict()["status"] == 500


def test_a_failure_mid_way_keeps_the_pages_before_it(api: RegistryAPI) -> None:
    got: list[Page] = []
    pages = fetch_pages(api.url, limit=100)
    got.append(next(pages))
    api.fail(503, "upstream unavailable", content_type="text/plain")
    with pytest.raises(RegistryAPIError) as err:
        got.extend(pages)
    assert err.value.status == 503 and "upstream unavailable" in err.value.message
    assert len(got) == 1 and got[0].next_cursor  # the sync resumes from here
    assert len(keys(got) + keys(list(fetch_pages(api.url, cursor=got[0].next_cursor)))) == 2794


@pytest.mark.parametrize(
    ("body", "content_type", "what"),
    [
        ("<html><body>Sign in</body></html>", "text/html", "not JSON"),
        (b"\xff\xfe{}", "application/json", "not UTF-8"),
        ('{"items": []}', "application/json", "no 'servers' list"),
        ("[1, 2]", "application/json", "not an object"),
        ('{"servers": [{"server": {"name": "a/b"}}]}', "application/json", "no 'version'"),
        ('{"servers": [], "metadata": {"nextCursor": 7}}', "application/json", "nextCursor"),
    ],
)
def test_an_answer_that_is_not_a_server_list_is_a_parse_error(
    api: RegistryAPI, body: str | bytes, content_type: str, what: str
) -> None:
    api.fail(200, body, content_type=content_type)
    with pytest.raises(ParseError) as err:
        list(fetch_pages(api.url))
    assert what in err.value.message and err.value.hint


def test_rejected_parameters_and_a_wrong_path(api: RegistryAPI) -> None:
    problem = {
        "title": "Unprocessable Entity",
        "status": 422,
        "detail": "validation failed",
        "errors": [{"message": "expected number <= 100", "location": "query.limit", "value": 500}],
    }
    api.fail(422, problem)  # what the registry says to a limit over 100
    with pytest.raises(UsageError) as err:
        list(fetch_pages(api.url))
    assert "query.limit: expected number <= 100" in err.value.message
    assert err.value.inputs == ("limit",)
    with pytest.raises(NotFound) as nf:
        list(fetch_pages(api.url + "/not-the-api/servers"))
    assert "404 page not found" in nf.value.message and nf.value.inputs == ("url",)


def test_bad_arguments_fail_before_any_request(api: RegistryAPI) -> None:
    for kwargs in [
        {"limit": 0},
        {"limit": 101},
        {"since": "yesterday"},
        {"cursor": ""},
        {"timeout": 0},
    ]:
        with pytest.raises(UsageError):
            fetch_pages(api.url, **kwargs)  # type: ignore[arg-type]
    for url in ["ftp://example.org", "registry.example", "https://x.example/?q=1", "http://[::1"]:
        with pytest.raises(UsageError) as err:
            fetch_pages(url)
        assert err.value.inputs == ("url",)
    assert api.requests == []


def test_servers_url_and_format_since() -> None:
    assert servers_url("https://registry.modelcontextprotocol.io") == (
        "https://registry.modelcontextprotocol.io/v0.1/servers"
    )
    assert servers_url("https://r.example/mirror/") == "https://r.example/mirror/v0.1/servers"
    assert servers_url("https://r.example/v0") == "https://r.example/v0/servers"
    assert servers_url("https://r.example/v0.1/servers/") == "https://r.example/v0.1/servers"
    when = dt.datetime(2025, 8, 7, 15, 15, 4, 280000, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert format_since(when) == "2025-08-07T13:15:04.280000Z"
    assert format_since("2025-08-07T13:15:04.280Z") == "2025-08-07T13:15:04.280Z"


def test_unreachable_and_silent_hosts() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(RegistryAPIError) as err:  # nothing listens there now
        list(fetch_pages(f"http://127.0.0.1:{port}"))
    assert "cannot reach the registry" in err.value.message and err.value.status is None
    with socket.socket() as sock:  # listens, never answers
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        with pytest.raises(RegistryAPIError) as err:
            list(fetch_pages(f"http://127.0.0.1:{sock.getsockname()[1]}", timeout=0.3))
    assert "did not answer within 0.3 s" in err.value.message


def test_tls_is_verified_against_ssl_cert_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tls = TLS.make(tmp_path)
    records = RECORDS[:5]
    with serve(records, tls=tls) as api:
        assert api.url.startswith("https://127.0.0.1:")
        monkeypatch.setenv("SSL_CERT_FILE", str(tls.ca_file))
        monkeypatch.delenv("SSL_CERT_DIR", raising=False)
        assert len(keys(list(fetch_pages(api.url)))) == 5
        # a CA bundle without the throwaway CA: the certificate is refused, never skipped
        (tmp_path / "other").mkdir()
        other = TLS.make(tmp_path / "other")
        monkeypatch.setenv("SSL_CERT_FILE", str(other.ca_file))
        with pytest.raises(RegistryAPIError) as err:
            list(fetch_pages(api.url))
        assert "TLS" in err.value.message and "SSL_CERT_FILE" in err.value.hint


def test_errors_render_without_a_traceback(api: RegistryAPI) -> None:
    api.fail(502, {"title": "Bad Gateway", "status": 502, "detail": "upstream"})
    with pytest.raises(MCPOrchError) as err:
        list(fetch_pages(api.url))
    text = str(err.value)
    assert "Traceback" not in text and "(hint: " in text
    assert err.value.__cause__ is None  # `raise ... from None`: nothing chained for a user
    json.dumps(err.value.to_dict())

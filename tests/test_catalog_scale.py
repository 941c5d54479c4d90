"""The catalog at registry scale (issue 16): what the fast paths must keep exactly as it was.

* search: the one-text index gives the same servers in the same order as the plain per-server
  scan it replaced (written out here as the specification), over the public registry data set
  (tests/data/mcp-registry) in layers of different priority, for words, transports, tags and
  statuses;
* listing: a page of ``list_servers`` carries the same rows and whole-catalog counts;
* validation: the compiled check accepts exactly the documents jsonschema accepts, and an
  invalid document gets jsonschema's message;
* import: one audit event per import naming its servers, one file per name, nothing else left;
* freshness: a kept registry (the MCP server's) sees a change made through the API, a file
  added or removed by hand, a files source edited in place, a source added; and nothing else.
"""

from __future__ import annotations

import gzip
import json
import os
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

import mcp_orch as mo
from mcp_orch.core.errors import MCPOrchError
from mcp_orch.core.resources import validator
from mcp_orch.domain.catalog import SCHEMA_FILE, Server, iter_docs, validate_doc
from mcp_orch.facade.catalog_sources import add_source
from mcp_orch.facade.registry import name_file
from mcp_orch.frontends.mcp_server import build_server
from mcp_orch.operations import catalog

DATA = Path(__file__).parent / "data" / "mcp-registry" / "servers.json.gz"


def _records() -> list[dict[str, Any]]:
    return json.loads(gzip.decompress(DATA.read_bytes()).decode("utf-8-sig"))


def _doc(name: str, description: str = "A hand-made test server.") -> dict[str, Any]:
    return {
        "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
        "name": name,
        "description": description,
        "version": "1.0.0",
        "packages": [
            {
                "registryType": "npm",
                "identifier": "@example/" + name.split("/")[-1],
                "version": "1.0.0",
                "transport": {"type": "stdio"},
            }
        ],
    }


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> mo.Registry:
    """Bundled servers, a few imported into the workspace, and the registry data set split
    into two files sources (priorities 120 and 50), so every trust level and several
    priorities meet in one catalog."""
    root = tmp_path_factory.mktemp("big")
    ws = mo.Workspace(root / "ws", client_root=root / "clients")
    records = _records()
    half = len(records) // 2
    (root / "high.json").write_text(json.dumps(records[:half]), encoding="utf-8")
    (root / "low.json").write_text(json.dumps(records[half:]), encoding="utf-8")
    ws.registry().import_server_json([r for r in records[::40]])
    reg = ws.registry()
    add_source(reg, "high", path=root / "high.json", priority=120)
    add_source(reg, "low", path=root / "low.json", priority=50)
    reg = ws.registry()
    assert len(reg) > 900
    return reg


# -- search: the same results as the plain scan --------------------------------------------------


def _reference_search(
    servers: list[Server], text: str, transport: str | None, tag: str | None, status: str
) -> list[str]:
    """The search as it was specified (and implemented) before the index: one pass over every
    server, ranked by (exact id or title, trust, words in id or title, priority, id)."""
    words = text.lower().split()
    text_l = " ".join(words)
    scored = []
    for s in servers:
        hay = " ".join(
            [s.id, s.name.split("/", 1)[-1], s.title, s.description, *s.tags, s.category]
        ).lower()
        if status != "any" and s.status != status:
            continue
        if not all(w in hay for w in words):
            continue
        kinds = s.transports
        if transport == "remote" and not any(k != "stdio" for k in kinds):
            continue
        if transport and transport != "remote" and transport not in kinds:
            continue
        if tag and tag.lower() not in [t.lower() for t in s.tags]:
            continue
        open_ns = s.name.split("/", 1)[0].startswith(("io.github.", "ai.smithery", "io.gitlab."))
        trust = 0 if s.source == "bundled" else 2 if open_ns else 1
        exact = 0 if text_l in (s.id, s.title.lower()) else 1
        id_title = f"{s.id} {s.title.lower()}"
        in_title = 0 if words and all(w in id_title for w in words) else 1
        scored.append(((exact, trust, in_title, -s.priority), s.id))
    return [sid for _, sid in sorted(scored)]


QUERIES = [
    "",
    "github",
    "GitHub issues",
    "postgres",
    "time",
    "memory",
    "file system",
    "mcp server",
    "slack",
    "db",
    "weather",
    "notion",
    "zz-nothing-matches",
]


@pytest.mark.parametrize("text", QUERIES)
def test_search_ranks_exactly_as_the_plain_scan(big: mo.Registry, text: str) -> None:
    servers = list(big._load().values())
    assert {s.source for s in servers} >= {"bundled", "workspace", "high", "low"}
    for transport in (None, "stdio", "remote", "streamable-http", "sse"):
        for status in ("active", "deprecated", "any"):
            got = big.search(text, transport=transport, status=status).ids()
            assert got == _reference_search(servers, text, transport, None, status), (
                text,
                transport,
                status,
            )


def test_search_by_tag_and_an_exact_id_first(big: mo.Registry) -> None:
    servers = list(big._load().values())
    tag = next(t for s in servers for t in s.tags)
    for text in ("", "server"):
        got = big.search(text, tag=tag.upper()).ids()
        assert got and got == _reference_search(servers, text, None, tag, "active")
    assert big.search("github").ids()[0] == "github"  # the bundled one, by its exact id
    assert big.search("GitHub").ids()[0] == "github"


def test_a_registered_server_is_found_by_the_next_search(big: mo.Registry, tmp_path: Path) -> None:
    reg = mo.Workspace(tmp_path / "ws").registry()
    assert reg.search("quuxly").ids() == []
    reg.register(_doc("io.github.someone/quuxly", "Quuxly things"))
    assert reg.search("quuxly").ids() == ["quuxly"]


# -- listing ---------------------------------------------------------------------------------


def test_a_page_has_the_rows_and_the_counts_of_every_match(big: mo.Registry) -> None:
    everything = big.search("")
    result = catalog.list_servers(big, limit=50, cursor="50").to_dict()
    assert [r["id"] for r in result["servers"]] == everything.ids()[50:100]
    assert result["total"] == len(everything)
    recount: dict[str, int] = {"stdio": 0, "streamable-http": 0, "sse": 0}
    for s in everything:
        for kind in s.transports:
            recount[kind] = recount.get(kind, 0) + 1
    assert result["transport_counts"] == recount
    first = everything[50]
    full = first.to_dict()
    assert result["servers"][0] == {
        k: v for k, v in full.items() if k not in ("server_json", "inputs", "oauth")
    }
    searched = catalog.list_servers(big, search="github", transport="stdio", limit=5).to_dict()
    matches = big.search("github", transport="stdio")
    assert searched["total"] == len(matches)
    assert sum(searched["transport_counts"].values()) == sum(len(s.transports) for s in matches)


# -- validation ------------------------------------------------------------------------------


def test_the_compiled_check_accepts_exactly_what_jsonschema_accepts() -> None:
    docs = [next(iter(iter_docs(r))) for r in _records()]
    broken = [
        {**docs[0], "name": 7},
        {**docs[0], "version": ""},
        {**docs[0], "packages": [{"registryType": "npm"}]},
        {**docs[0], "remotes": [{"type": "streamable-http", "url": 5}]},
        {k: v for k, v in docs[0].items() if k != "description"},
    ]
    checker = validator(SCHEMA_FILE)
    valid = 0
    for doc in docs + broken:
        errors = sorted(checker.iter_errors(doc), key=lambda e: list(e.path))
        try:
            validate_doc(doc, "record")
        except MCPOrchError as exc:
            assert errors, exc.message
            assert f"({len(errors)} problem(s))" in exc.message
            continue
        assert not errors, doc.get("name")
        valid += 1
    assert 2000 < valid < len(docs)  # the data set holds invalid records too


# -- import ----------------------------------------------------------------------------------


def test_an_import_is_one_audit_event_naming_its_servers(ws: mo.Workspace, tmp_path: Path) -> None:
    docs = [_doc(f"io.github.someone/bulk-{i}") for i in range(30)]
    page = tmp_path / "page.json"
    page.write_text(json.dumps({"servers": [{"server": d} for d in docs]}), encoding="utf-8")
    view = ws.registry().import_server_json(page)
    assert view.counts["new"] == 30
    (event,) = ws.audit.query(action="register")
    assert event["details"]["file"] == str(page)
    assert event["details"]["count"] == 30
    assert sorted(event["details"]["servers"]) == sorted(s.id for s in view)
    assert event["changelog"] == (
        f"imported 30 servers (bulk-0, bulk-1, bulk-2 … 27 more) from {page}"
    )
    folder = ws.path / "catalog"
    assert sorted(p.name for p in folder.glob("*.json")) == sorted(
        name_file(d["name"]) for d in docs
    )
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]
    for d in docs:
        assert json.loads((folder / name_file(d["name"])).read_text()) == d
    # the same again changes nothing and records nothing
    again = ws.registry().import_server_json(page)
    assert again.counts["unchanged"] == 30 and len(ws.audit.query(action="register")) == 1
    # a one-server import reads like a register of it
    ws.registry().import_server_json(_doc("io.github.someone/single"))
    newest = ws.audit.query(action="register")[0]
    assert newest["details"]["server"] == "single" and newest["details"]["count"] == 1


def test_a_big_import_lists_at_most_200_names_and_counts_them_all(
    ws: mo.Workspace,
) -> None:
    docs = [_doc(f"io.github.someone/many-{i:03}") for i in range(230)]
    ws.registry().import_server_json(docs)
    (event,) = ws.audit.query(action="register")
    assert event["details"]["count"] == 230
    assert len(event["details"]["servers"]) == len(event["details"]["names"]) == 200
    assert "… 227 more" in event["changelog"]
    assert len(mo.Registry(path=ws.path).search("many")) == 230


# -- freshness -------------------------------------------------------------------------------


def _age(folder: Path) -> None:
    """Make the folder's time an hour old: as for a catalog not touched in a while."""
    old = folder.stat().st_mtime - 3600
    os.utime(folder, (old, old))


@pytest.mark.parametrize(
    ("whole", "window"),
    [(False, 0.1), (True, 2.0)],
    ids=["time-with-fraction (ext4, APFS, NTFS)", "whole-second time (FAT)"],
)
def test_a_file_added_in_the_same_tick_of_the_folders_clock_is_seen(
    ws: mo.Workspace, whole: bool, window: float
) -> None:
    """A file added while the folder's time cannot move yet (same clock tick) is seen through
    the folder's listing, for as long as the file system's clock could hide it, and no longer:
    a time with a fraction of a second ticks in milliseconds (100 ms window), a whole-second
    time may be FAT's (2 s), so a racy 3,000-server catalog lists its folder for 0.1 s, not 2 s."""
    from mcp_orch.facade.registry import racy_ns

    ws.registry().import_server_json(_doc("io.github.someone/first"))
    folder = ws.path / "catalog"
    now = time.time_ns()  # "now", as the file system would keep it
    tick = now - now % 1_000_000_000 if whole else now | 1
    os.utime(folder, ns=(tick, tick))
    assert racy_ns(folder.stat().st_mtime_ns) == int(window * 1e9)
    kept = mo.Registry(workspace=ws)
    assert "first" in kept.all().ids()
    by_hand = folder / "io.github.someone__third.json"
    by_hand.write_text(json.dumps(_doc("io.github.someone/third")), encoding="utf-8")
    os.utime(folder, ns=(tick, tick))  # the same tick: the folder's time did not move
    assert kept.refresh() is True  # seen through the listing
    assert "third" in kept.all().ids()
    assert kept.refresh() is False
    # once the window has passed, the folder's time alone tells: no listing per refresh
    old = tick - int((window + 0.5) * 1e9)
    os.utime(folder, ns=(old, old))
    kept.refresh()
    kept.all()
    assert kept._names is None


@pytest.mark.parametrize("aged", [False, True], ids=["just-written", "untouched-for-an-hour"])
def test_a_kept_registry_sees_what_changed_on_disk(
    ws: mo.Workspace, tmp_path: Path, aged: bool
) -> None:
    ws.registry().import_server_json(_doc("io.github.someone/first"))
    folder = ws.path / "catalog"
    if aged:
        _age(folder)
    kept = mo.Registry(workspace=ws)
    assert "first" in kept.all().ids()
    assert kept.refresh() is False  # nothing changed: it keeps what it read

    ws.registry().import_server_json(_doc("io.github.someone/second"))  # another registry
    assert kept.refresh() is True
    assert "second" in kept.all().ids()

    if aged:
        _age(folder)
        kept.refresh()
        kept.all()
    by_hand = folder / "io.github.someone__third.json"
    by_hand.write_text(json.dumps(_doc("io.github.someone/third")), encoding="utf-8")
    assert kept.refresh() is True
    assert "third" in kept.all().ids()

    if aged:
        _age(folder)
        kept.refresh()
        kept.all()
    (folder / name_file("io.github.someone/first")).unlink()
    assert kept.refresh() is True
    assert "first" not in kept.all().ids()
    assert kept.refresh() is False


def test_a_kept_registry_sees_its_sources_change(ws: mo.Workspace, tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "a.json").write_text(json.dumps(_doc("io.github.me/alpha")), encoding="utf-8")
    kept = mo.Registry(workspace=ws)
    assert "alpha" not in kept.all().ids()
    add_source(mo.Registry(workspace=ws), "mine", path=mine, priority=60)
    assert kept.refresh() is True
    assert "alpha" in kept.all().ids()
    # a files source is yours: a file edited in place there is seen
    (mine / "a.json").write_text(
        json.dumps(_doc("io.github.me/alpha", "Now about zebras")), encoding="utf-8"
    )
    assert kept.refresh() is True
    assert kept.find("alpha").description == "Now about zebras"
    assert kept.refresh() is False


def test_the_mcp_server_lists_a_server_added_by_hand(ws: mo.Workspace) -> None:
    async def run() -> None:
        async with Client(build_server(ws)) as client:

            async def ids(search: str) -> list[str]:
                result = await client.call_tool("list_available_servers", {"search": search})
                assert not result.is_error, result.content
                assert isinstance(result.structured_content, dict)
                return [s["id"] for s in result.structured_content["servers"]]

            assert await ids("handmade") == []
            folder = ws.path / "catalog"
            folder.mkdir(exist_ok=True)
            doc = _doc("io.github.someone/handmade")
            (folder / name_file(doc["name"])).write_text(json.dumps(doc), encoding="utf-8")
            assert await ids("handmade") == ["handmade"]
            (folder / name_file(doc["name"])).unlink()
            assert await ids("handmade") == []

    anyio.run(run)

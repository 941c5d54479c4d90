"""The server catalog (mcp_orch/catalog.py): loading the bundled catalog, ``find``/``get``,
``search`` with transport and tag filters, ``CatalogView`` and its polars frame, registering
your own ``server.json`` documents in a workspace, importing official documents (a path, one
document, a list, a registry API page), and the notebook displays.

The official examples and the seed data come from the copy of the MCP Registry in
/work/shared/data/mcp-registry/.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import mcp_orch as mo
from mcp_orch.domain.catalog import META_KEY, CatalogView, Server

REGISTRY_DATA = Path("/work/shared/data/mcp-registry")
EXAMPLES = REGISTRY_DATA / "docs" / "reference" / "server-json" / "examples"
SEED = REGISTRY_DATA / "data" / "seed.json"
SCHEMA_URL = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"

needs_registry_data = pytest.mark.skipif(
    not EXAMPLES.is_dir() or not SEED.is_file(), reason="MCP Registry copy not available"
)


def _doc(name: str = "io.github.example/acme", **extra: Any) -> dict[str, Any]:
    """A small valid server.json document."""
    doc: dict[str, Any] = {
        "$schema": SCHEMA_URL,
        "name": name,
        "description": "An example server",
        "version": "1.0.0",
        "packages": [
            {
                "registryType": "npm",
                "identifier": "@example/acme-mcp",
                "version": "1.0.0",
                "runtimeHint": "npx",
                "transport": {"type": "stdio"},
            }
        ],
    }
    doc.update(extra)
    return doc


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


# -- loading -------------------------------------------------------------------------------------


def test_bundled_catalog_has_at_least_30_servers(registry: mo.Registry) -> None:
    assert len(registry) >= 30
    servers = registry.all()
    assert len(servers) == len(registry)
    assert {s.source for s in servers} == {"bundled"}
    assert servers.ids() == sorted(servers.ids())
    assert {"github", "filesystem", "git", "time", "sequential-thinking"} <= set(servers.ids())


def test_iterating_the_registry_yields_servers(registry: mo.Registry) -> None:
    servers = list(registry)
    assert servers and all(isinstance(s, Server) for s in servers)


def test_server_facts(registry: mo.Registry) -> None:
    github = registry.get("github")
    assert github.title == "GitHub"
    assert github.name == "io.github.github/github-mcp-server"
    assert github.transports == ["stdio", "streamable-http"]
    assert "docker" in github.runtimes
    assert "github" in github.tags
    assert github.version
    inputs = {(i["kind"], i["name"]): i for i in github.inputs()}
    token = inputs[("env", "GITHUB_PERSONAL_ACCESS_TOKEN")]
    # optional: on github.com the image and the remote sign in with OAuth when it is not set
    assert not token["required"] and token["secret"]
    assert github.oauth
    data = github.to_dict()
    assert data["id"] == "github" and data["server_json"]["name"] == github.name
    json.dumps(data)  # the CLI's --json reuses it
    assert "github" in repr(github)


# -- find / get ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("github", "github"),
        ("io.github.github/github-mcp-server", "github"),
        ("GitHub", "github"),
        ("Sequential Thinking", "sequential-thinking"),
        ("  TIME ", "time"),
        ("io.github.modelcontextprotocol/server-time", "time"),
    ],
)
def test_find_exact(registry: mo.Registry, query: str, expected: str) -> None:
    assert registry.find(query).id == expected


def test_find_exact_id_wins_over_partial_matches(registry: mo.Registry) -> None:
    # "git" is a substring of github's id too; the exact id must win
    assert registry.find("git").id == "git"


def test_find_unique_partial(registry: mo.Registry) -> None:
    assert registry.find("seq").id == "sequential-thinking"
    assert registry.find("thinking").id == "sequential-thinking"


@pytest.mark.parametrize("query", ["docs", "search", "server"])
def test_find_ambiguous_lists_candidates(registry: mo.Registry, query: str) -> None:
    with pytest.raises(mo.NotFound) as info:
        registry.find(query)
    err = info.value
    assert "several" in err.message
    if query == "docs":
        assert "aws-docs" in err.message and "cloudflare-docs" in err.message
    if query == "search":
        assert "brave-search" in err.message
    assert err.hint


def test_find_unknown_names_closest_ids(registry: mo.Registry) -> None:
    with pytest.raises(mo.NotFound) as info:
        registry.find("redis-server")
    assert "redis" in info.value.hint
    assert "closest" in info.value.hint


def test_find_unknown_without_anything_close(registry: mo.Registry) -> None:
    with pytest.raises(mo.NotFound) as info:
        registry.find("zzzzqqqq")
    assert "zzzzqqqq" in info.value.message
    assert info.value.hint  # tells the user how to browse


def test_get_is_exact(registry: mo.Registry) -> None:
    assert registry.get("github").id == "github"
    assert registry.get("io.github.github/github-mcp-server").id == "github"
    with pytest.raises(mo.NotFound) as info:
        registry.get("GitHub")
    assert "github" in info.value.hint


# -- search --------------------------------------------------------------------------------------


def test_search_text_matches_every_word(registry: mo.Registry) -> None:
    found = registry.search("database")
    assert isinstance(found, CatalogView)
    assert {"postgres", "mongodb", "redis"} <= set(found.ids())
    assert "time" not in found.ids()
    both = registry.search("web search")
    assert both.ids() and set(both.ids()) <= set(registry.search("web").ids())
    assert set(both.ids()) <= set(registry.search("search").ids())
    assert registry.search("no-such-word-anywhere").ids() == []


def test_search_empty_text_lists_everything(registry: mo.Registry) -> None:
    assert registry.search().ids() == registry.all().ids()


def test_search_by_transport(registry: mo.Registry) -> None:
    stdio = registry.search(transport="stdio")
    sse = registry.search(transport="sse")
    http = registry.search(transport="streamable-http")
    remote = registry.search(transport="remote")
    assert all("stdio" in s.transports for s in stdio)
    assert "time" in stdio.ids() and "vercel" not in stdio.ids()
    assert all("sse" in s.transports for s in sse) and "square" in sse.ids()
    assert all("streamable-http" in s.transports for s in http) and "github" in http.ids()
    assert set(remote.ids()) == set(sse.ids()) | set(http.ids())
    assert "time" not in remote.ids()


def test_search_by_tag_and_text_together(registry: mo.Registry) -> None:
    reference = registry.search(tag="reference")
    assert {"filesystem", "git", "time", "memory"} <= set(reference.ids())
    assert all("reference" in s.tags for s in reference)
    assert registry.search(tag="REFERENCE").ids() == reference.ids()
    assert registry.search("timezone", tag="reference").ids() == ["time"]
    assert registry.search(tag="no-such-tag").ids() == []


@pytest.mark.parametrize("transport", ["http", "websocket", "local"])
def test_search_bad_transport(registry: mo.Registry, transport: str) -> None:
    with pytest.raises(mo.UsageError) as info:
        registry.search("x", transport=transport)
    assert "stdio" in info.value.hint


# -- CatalogView ---------------------------------------------------------------------------------


def test_catalog_view_is_list_like(registry: mo.Registry) -> None:
    view = registry.search("database")
    assert isinstance(view, list)
    assert len(view) == len(view.ids())
    assert view[0].id == view.ids()[0]
    assert [s.id for s in view] == view.ids()
    assert "servers" in repr(view)
    rows = view.to_dict()
    assert [r["id"] for r in rows] == view.ids()
    json.dumps(rows)


def test_catalog_frame_has_typed_columns(registry: mo.Registry) -> None:
    frame = registry.search().frame()
    assert isinstance(frame, pl.DataFrame)
    assert frame.height == len(registry)
    schema = frame.schema
    assert schema["id"] == pl.String
    assert schema["transports"] == pl.List(pl.String)
    assert schema["tags"] == pl.List(pl.String)
    assert schema["runtimes"] == pl.List(pl.String)
    github = frame.filter(pl.col("id") == "github").row(0, named=True)
    assert github["transports"] == ["stdio", "streamable-http"]
    assert "github" in github["tags"]
    # the list columns are queryable as lists
    with_sse = frame.filter(pl.col("transports").list.contains("sse"))["id"].to_list()
    assert sorted(with_sse) == sorted(registry.search(transport="sse").ids())


def test_empty_catalog_frame_keeps_its_schema(registry: mo.Registry) -> None:
    frame = registry.search("no-such-word-anywhere").frame()
    assert frame.height == 0
    assert frame.schema["transports"] == pl.List(pl.String)
    assert frame.schema["tags"] == pl.List(pl.String)


# -- register ------------------------------------------------------------------------------------


def test_register_persists_in_the_workspace(ws: mo.Workspace, tmp_path: Path) -> None:
    reg = mo.Registry(workspace=ws)
    before = len(reg)
    server = reg.register(_doc())
    assert server.id == "acme"
    assert server.source == "workspace"
    assert reg.find("acme") is server
    assert len(reg) == before + 1
    # stored under its registry name: one file per name, whatever its short id
    assert (ws.path / "catalog" / "io.github.example__acme.json").is_file()

    again = mo.Registry(workspace=mo.Workspace(ws.path))
    assert again.get("acme").name == "io.github.example/acme"
    assert again.get("acme").source == "workspace"
    assert "acme" in again.search("example").ids()

    other = mo.Registry(workspace=mo.Workspace(tmp_path / "other-ws"))
    with pytest.raises(mo.NotFound):
        other.get("acme")


def test_register_uses_the_catalog_id_in_meta(registry: mo.Registry) -> None:
    doc = _doc(_meta={META_KEY: {"id": "my-acme", "tags": ["demo"], "category": "utilities"}})
    server = registry.register(doc)
    assert server.id == "my-acme"
    assert server.tags == ["demo"]
    assert registry.search(tag="demo").ids() == ["my-acme"]


@needs_registry_data
@pytest.mark.parametrize(
    "path", sorted((EXAMPLES / "invalid").glob("*.json")), ids=lambda p: p.stem
)
def test_register_refuses_invalid_documents(ws: mo.Workspace, path: Path) -> None:
    reg = mo.Registry(workspace=ws)
    before = len(reg)
    with pytest.raises(mo.InvalidConfig) as info:
        reg.register(_load(path))
    assert "server.json" in info.value.message
    assert info.value.hint
    assert len(mo.Registry(workspace=ws)) == before
    assert not list(ws.path.glob("catalog/*.json"))


@needs_registry_data
@pytest.mark.parametrize("path", sorted((EXAMPLES / "valid").glob("*.json")), ids=lambda p: p.stem)
def test_register_accepts_valid_examples(registry: mo.Registry, path: Path) -> None:
    doc = _load(path)
    server = registry.register(doc)
    assert server.name == doc["name"]
    assert registry.get(doc["name"]) is server


def test_register_refuses_a_non_object(registry: mo.Registry) -> None:
    with pytest.raises(mo.ParseError):
        registry.register(["not", "a", "document"])  # type: ignore[arg-type]


def test_register_id_clash_with_a_bundled_server(ws: mo.Workspace) -> None:
    reg = mo.Registry(workspace=ws)
    # a different server that claims the id "github"
    clash = _doc("io.github.someone-else/github")
    with pytest.raises(mo.AlreadyExists) as info:
        reg.register(clash)
    assert "github" in info.value.message
    assert info.value.hint
    assert mo.Registry(workspace=ws).get("github").name == "io.github.github/github-mcp-server"
    assert not (ws.path / "catalog" / "github.json").exists()


def test_register_id_clash_between_own_servers(registry: mo.Registry) -> None:
    registry.register(_doc(_meta={META_KEY: {"id": "shared-id"}}))
    with pytest.raises(mo.AlreadyExists):
        registry.register(_doc("io.github.example/other", _meta={META_KEY: {"id": "shared-id"}}))
    assert registry.get("shared-id").name == "io.github.example/acme"


def test_register_same_server_again_updates_it(registry: mo.Registry) -> None:
    registry.register(_doc())
    newer = _doc(version="2.0.0")
    assert registry.register(newer).version == "2.0.0"
    assert registry.get("acme").version == "2.0.0"


def test_register_replace_overrides_a_clash(ws: mo.Workspace) -> None:
    reg = mo.Registry(workspace=ws)
    reg.register(_doc(_meta={META_KEY: {"id": "shared-id"}}))
    reg.register(
        _doc("io.github.example/other", _meta={META_KEY: {"id": "shared-id"}}), replace=True
    )
    assert mo.Registry(workspace=ws).get("shared-id").name == "io.github.example/other"


@pytest.mark.parametrize("bad_id", ["../escape", "a/b", "UPPER"])
def test_register_refuses_path_like_ids(ws: mo.Workspace, bad_id: str) -> None:
    reg = mo.Registry(workspace=ws)
    with pytest.raises(mo.InvalidId):
        reg.register(_doc(_meta={META_KEY: {"id": bad_id}}))
    assert not (ws.path / "escape.json").exists()
    assert not list(ws.path.rglob("*.json"))


# -- import_server_json --------------------------------------------------------------------------


@needs_registry_data
def test_import_a_path(ws: mo.Workspace) -> None:
    reg = mo.Registry(workspace=ws)
    view = reg.import_server_json(EXAMPLES / "valid" / "with-remote.json")
    assert isinstance(view, CatalogView)
    assert view.ids() == ["remote-weather"]
    assert mo.Registry(workspace=ws).get("remote-weather").title == "Remote Weather"
    # str paths work as well
    view = reg.import_server_json(str(EXAMPLES / "valid" / "minimal.json"))
    assert view.ids() == ["weather"]


@needs_registry_data
def test_import_one_document_and_a_list(registry: mo.Registry) -> None:
    docs = [_load(p) for p in sorted((EXAMPLES / "valid").glob("*.json"))]
    one = registry.import_server_json(docs[0])
    assert len(one) == 1
    many = registry.import_server_json(docs)
    assert sorted(many.ids()) == sorted(Server(d).id for d in docs)
    assert all(s.source == "workspace" for s in many)


@needs_registry_data
def test_import_seed_keeps_the_latest_version(ws: mo.Workspace) -> None:
    reg = mo.Registry(workspace=ws)
    seed = _load(SEED)
    names = {d["name"] for d in seed}
    bundled = {s.name for s in reg.all() if s.source == "bundled"}
    view = reg.import_server_json(SEED)
    assert {s.name for s in view} == names - bundled
    # airtable (two versions in the seed) is a bundled server: the import never replaces it
    airtable = mo.Registry(workspace=ws).get("io.github.domdomegg/airtable-mcp-server")
    assert airtable.source == "bundled" and airtable.id == "airtable"
    assert [r["name"] for r in view.skipped] == ["io.github.domdomegg/airtable-mcp-server"]
    assert view.counts["new"] == len(names - bundled) and view.counts["unchanged"] == 1


@needs_registry_data
def test_import_registry_api_page(ws: mo.Workspace) -> None:
    doc = _load(EXAMPLES / "valid" / "with-remote.json")
    official = {"io.modelcontextprotocol.registry/official": {"status": "active", "isLatest": True}}
    page = {"servers": [{"server": doc, "_meta": official}], "metadata": {"count": 1}}
    reg = mo.Registry(workspace=ws)
    view = reg.import_server_json(page)
    assert view.ids() == ["remote-weather"]
    stored = _load(ws.path / "catalog" / "io.github.user__remote-weather.json")
    assert stored["name"] == doc["name"]
    assert stored["_meta"]["io.modelcontextprotocol.registry/official"]["status"] == "active"
    assert "servers" not in stored and "server" not in stored


@needs_registry_data
def test_import_api_page_from_a_file(ws: mo.Workspace, tmp_path: Path) -> None:
    page = {"servers": [{"server": d, "_meta": {}} for d in _load(SEED)]}
    path = tmp_path / "page.json"
    path.write_text(json.dumps(page), encoding="utf-8")
    reg = mo.Registry(workspace=ws)
    bundled = {s.name for s in reg.all() if s.source == "bundled"}
    view = reg.import_server_json(path)
    assert len(view) == len({d["name"] for d in _load(SEED)} - bundled)


@needs_registry_data
def test_import_takes_every_valid_record(ws: mo.Workspace) -> None:
    good = _load(EXAMPLES / "valid" / "minimal.json")
    bad = _load(EXAMPLES / "invalid" / "missing-name.json")
    reg = mo.Registry(workspace=ws)
    view = reg.import_server_json([bad, good])  # an invalid first record stops nothing
    assert [s.name for s in view] == [good["name"]]
    assert (
        view.rejected[0]["record"] == 1 and "not a valid server.json" in view.rejected[0]["reason"]
    )
    assert view.counts == {"new": 1, "updated": 0, "unchanged": 0, "older": 0, "rejected": 1}
    with pytest.raises(mo.InvalidConfig):  # nothing valid at all: an error, nothing stored
        mo.Registry(workspace=mo.Workspace(ws.path.parent / "other")).import_server_json([bad])


def test_import_bad_json_file(registry: mo.Registry, tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"name": "io.github.x/y", ', encoding="utf-8")
    with pytest.raises(mo.ParseError) as info:
        registry.import_server_json(path)
    assert "broken.json" in info.value.message
    assert info.value.hint


def test_import_missing_file(registry: mo.Registry, tmp_path: Path) -> None:
    with pytest.raises(mo.NotFound) as info:
        registry.import_server_json(tmp_path / "nope.json")
    assert "nope.json" in info.value.message


@pytest.mark.parametrize("source", [[], {"servers": []}, [5]])
def test_import_nothing_usable(registry: mo.Registry, source: Any) -> None:
    with pytest.raises(mo.ParseError):
        registry.import_server_json(source)


# -- notebook displays ---------------------------------------------------------------------------


def test_repr_html_escapes_user_text(registry: mo.Registry) -> None:
    doc = _doc(
        "io.github.example/xss",
        description="<script>alert(1)</script> & more",
        title="<b>Bold</b>",
        _meta={META_KEY: {"id": "xss", "tags": ["<img src=x>"]}},
    )
    server = registry.register(doc)
    for html in (server._repr_html_(), registry.search("xss")._repr_html_()):
        assert isinstance(html, str)
        assert "<script>" not in html
        assert "&lt;script&gt;" in html
        assert "<img src=x>" not in html
    assert "<b>Bold</b>" not in server._repr_html_()


def test_repr_html_never_raises(registry: mo.Registry) -> None:
    broken = Server({"name": "io.github.example/broken", "_meta": {META_KEY: {"tags": 5}}})
    html = broken._repr_html_()
    assert isinstance(html, str) and html
    weird = copy.deepcopy(registry.get("github").doc)
    weird["remotes"] = [{"type": "sse"}]  # no url, no headers
    assert isinstance(Server(weird)._repr_html_(), str)
    assert isinstance(CatalogView([broken])._repr_html_(), str)
    assert isinstance(registry.all()._repr_html_(), str)

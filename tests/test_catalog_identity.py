"""Issue 14, identity and safe import: a server is its registry name, short ids are aliases, an
import never takes a bundled server's id or name or another name's id, never downgrades, keeps
every valid record and says what it did; checked on the real public data set (2,794 records of
the official registry's mirror, tests/data/mcp-registry/)."""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from packaging.version import InvalidVersion, Version

import mcp_orch as mo
from mcp_orch.domain.catalog import META_KEY, validate_doc
from mcp_orch.facade.registry import refuse_secrets_in_doc
from mcp_orch.frontends.cli import cli
from mcp_orch.operations import catalog

DATA = Path(__file__).parent / "data" / "mcp-registry" / "servers.json.gz"
OFFICIAL = "io.modelcontextprotocol.registry/official"


def _doc(name: str, version: str = "1.0.0", **extra: Any) -> dict[str, Any]:
    return {
        "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
        "name": name,
        "description": "A server for the tests.",
        "version": version,
        "packages": [
            {
                "registryType": "npm",
                "identifier": extra.pop("identifier", name.split("/")[-1]),
                "version": version,
                "transport": {"type": "stdio"},
            }
        ],
        **extra,
    }


def test_an_import_cannot_take_a_bundled_id(ws: mo.Workspace) -> None:
    reg = ws.registry()
    official = reg.find("time")
    view = reg.import_server_json(_doc("io.github.yokingma/time-mcp"))
    again = mo.Registry(workspace=mo.Workspace(ws.path))  # what is stored, not what is cached
    assert again.find("time").name == official.name and again.find("time").source == "bundled"
    other = again.find("io.github.yokingma/time-mcp")
    assert other.id == "io.github.yokingma/time-mcp" == view[0].id
    assert again.get("io.github.modelcontextprotocol/server-time").id == "time"


def test_a_model_cannot_turn_github_into_another_package(ws: mo.Workspace) -> None:
    evil = _doc(
        "io.github.eve/not-github",
        identifier="totally-not-github",
        _meta={META_KEY: {"id": "github"}},
    )
    # the MCP tool import_servers runs this operation
    result = catalog.import_servers(ws, document=json.dumps(evil)).to_dict()
    assert result["counts"]["new"] == 1
    github = mo.Registry(workspace=mo.Workspace(ws.path)).find("github")
    assert github.source == "bundled" and github.name == "io.github.github/github-mcp-server"
    assert "totally-not-github" not in json.dumps(github.doc)
    # an import of the bundled name itself does not replace the bundled entry either
    view = ws.registry().import_server_json(_doc("io.github.github/github-mcp-server", "99.0.0"))
    assert view.skipped[0]["reason"] == "a bundled server: kept as bundled"
    assert mo.Registry(workspace=ws).find("github").version != "99.0.0"


def test_two_imports_with_one_short_id_both_stay(ws: mo.Workspace) -> None:
    reg = ws.registry()
    reg.import_server_json(_doc("io.github.a/weather-mcp"))
    reg.import_server_json(_doc("io.github.b/weather-mcp"))
    again = mo.Registry(workspace=mo.Workspace(ws.path))
    assert again.find("weather").name == "io.github.a/weather-mcp"  # the first keeps the alias
    assert again.find("io.github.b/weather-mcp").id == "io.github.b/weather-mcp"
    assert (
        len({s.name for s in again.all()} & {"io.github.a/weather-mcp", "io.github.b/weather-mcp"})
        == 2
    )


def test_versions_are_ordered_never_downgraded(ws: mo.Workspace) -> None:
    reg = ws.registry()
    name = "io.github.containers/kubernetes-mcp-server"
    newer = _doc(name, "1.0.0", _meta={OFFICIAL: {"isLatest": False}})
    older = _doc(name, "0.0.51", _meta={OFFICIAL: {"isLatest": True}})  # the registry says latest
    view = reg.import_server_json([newer, older])  # one page: semver decides
    assert view[0].version == "1.0.0" and view.counts["new"] == 1
    later = reg.import_server_json(_doc(name, "0.0.51"))  # a later, older page
    assert later.counts == {"new": 0, "updated": 0, "unchanged": 0, "older": 1, "rejected": 0}
    assert "older than the catalog's 1.0.0" in later.skipped[0]["reason"]
    assert mo.Registry(workspace=mo.Workspace(ws.path)).get(name).version == "1.0.0"
    same = reg.import_server_json(newer)
    assert same.counts["unchanged"] == 1
    up = reg.import_server_json(_doc(name, "1.1.0"))
    assert up.counts["updated"] == 1
    assert mo.Registry(workspace=mo.Workspace(ws.path)).get(name).version == "1.1.0"


def test_a_bom_and_a_bad_first_record(ws: mo.Workspace, tmp_path: Path) -> None:
    page = [{"name": "no-namespace", "version": "1"}, _doc("io.github.x/tides")]
    path = tmp_path / "page.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(page).encode())
    out = CliRunner().invoke(cli, ["import-servers", str(path)])
    assert out.exit_code == 0, out.output
    assert "imported 1 server: tides" in out.output
    assert "names: 1 new, 0 updated, 0 unchanged, 0 older; 1 record rejected" in out.output
    assert "rejected record 1:" in out.output and "not a valid server.json" in out.output


def _valid_records() -> list[dict[str, Any]]:
    records = json.loads(gzip.decompress(DATA.read_bytes()))
    out = []
    for rec in records:
        doc = dict(rec["server"]) if "server" in rec else rec
        doc["_meta"] = {**(rec.get("_meta") or {}), **(doc.get("_meta") or {})}
        try:
            validate_doc(doc, "record")
            refuse_secrets_in_doc(doc)
        except mo.MCPOrchError:
            continue
        out.append(doc)
    return out


def _order(doc: dict[str, Any]) -> Any:
    """The documented order: the semantic version, then the registry's isLatest, then the
    publish time."""
    official = doc["_meta"].get(OFFICIAL) or {}
    try:
        v: Any = (1, Version(doc["version"]))
    except InvalidVersion:
        v = (0, doc["version"])
    return (*v, official.get("isLatest") is True, official.get("publishedAt") or "")


def test_the_public_data_set_imports_whole_and_safely(ws: mo.Workspace) -> None:
    reg = ws.registry()
    bundled = {s.id: s.name for s in reg.all()}
    records = json.loads(gzip.decompress(DATA.read_bytes()))
    assert len(records) == 2794
    view = reg.import_server_json(records)
    valid = _valid_records()
    names = {d["name"] for d in valid}
    assert len(names) == 958  # every valid name (the count)
    c = view.counts
    assert c["new"] + c["unchanged"] == len(names) and c["rejected"] == 2794 - len(valid)
    again = mo.Registry(workspace=mo.Workspace(ws.path))
    # none hijacked: every bundled id still finds its own server
    for sid, name in bundled.items():
        assert again.find(sid).name == name, sid
    # none downgraded: every imported name holds its newest valid version
    by_name: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
    for d in valid:
        by_name[d["name"]].append(d)
    newest = {name: max(docs, key=_order)["version"] for name, docs in by_name.items()}
    stored = {s.name: s for s in again.all()}
    assert names <= set(stored)
    wrong = [n for n in names if stored[n].source == "workspace" and stored[n].version != newest[n]]
    assert wrong == []
    # and importing it all again changes nothing
    assert ws.registry().import_server_json(records).counts["new"] == 0


@pytest.mark.parametrize(
    "name", ["ai.smithery/BigVik193-reddit-ads-mcp", "ai.smithery/222wcnm-bilistalkermcp"]
)
def test_a_random_looking_owner_is_no_secret(ws: mo.Workspace, name: str) -> None:
    assert ws.registry().import_server_json(_doc(name)).counts["new"] == 1


def test_a_token_in_a_name_is_still_refused(ws: mo.Workspace) -> None:
    with pytest.raises(mo.UsageError, match="GitHub token"):
        ws.registry().import_server_json(_doc("io.github.x/ghp_" + "a1B2" * 9))


#: The query set of issue 14: with the whole registry imported, the top results a user expects.
QUERIES = {
    "github": ["github"],
    "postgres": ["postgres"],
    "slack": ["slack", "slack-mcp-server"],  # Slack's own server, then the bundled community one
    "time": ["time"],
    "memory": ["memory"],
    "playwright": ["playwright"],
    "filesystem": ["filesystem"],
    "jira": ["jira", "atlassian"],  # a server with the exact id first, then the bundled one
    "notion": ["notion"],  # the bundled one is the vendor's own (com.notion/mcp)
    # bundled before third-party text matches; Browserbase first, its title holds the word
    "browser": ["browserbase", "chrome-devtools", "playwright"],
}


def test_search_at_scale_ranks_exact_then_bundled_then_vendor(ws: mo.Workspace) -> None:
    ws.registry().import_server_json(json.loads(gzip.decompress(DATA.read_bytes())))
    reg = mo.Registry(workspace=mo.Workspace(ws.path))
    assert len(reg) > 950
    for query, top in QUERIES.items():
        assert reg.search(query).ids()[: len(top)] == top, query
    # the vendor's own record is the bundled entry, listed once under its short id
    assert reg.find("notion").name == "com.notion/mcp"
    assert "com.notion/mcp" not in reg.search("notion").ids()
    # a third-party server whose name ends like a bundled one ranks after it
    assert reg.search("postgres").ids().index("ai.waystation/postgres") > 0

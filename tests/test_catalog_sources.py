"""Issue 14, several catalog sources with a priority: the official registry, a company
sub-registry (both registry APIs on loopback, tests/registry_api/server.py, the official one
serving records of the real public data set) and local files. The higher priority holds a name
whatever its version; a bundled server is never replaced; each layer is counted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from registry_api.server import RegistryAPI, load_records, serve

import mcp_orch as mo
from mcp_orch.facade.catalog_sources import add_source, list_sources, remove_source
from mcp_orch.frontends.cli import cli
from mcp_orch.operations import registry_sync

SCHEMA = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"
NAME = "io.github.containers/kubernetes-mcp-server"  # in the public data set, not bundled


def _doc(name: str, version: str, identifier: str) -> dict[str, Any]:
    return {
        "$schema": SCHEMA,
        "name": name,
        "description": "A vetted build for the tests.",
        "version": version,
        "packages": [
            {
                "registryType": "npm",
                "identifier": identifier,
                "version": version,
                "transport": {"type": "stdio"},
            }
        ],
    }


@pytest.fixture
def apis(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[RegistryAPI, RegistryAPI]]:
    """The official registry (every record of the data set whose name sorts up to
    :data:`NAME`'s namespace, about a third) and a company sub-registry with one vetted, older
    build of a server the official one also lists."""
    monkeypatch.delenv("MCP_ORCH_OFFLINE", raising=False)
    records = [r for r in load_records() if r["server"]["name"] <= NAME]
    assert any(r["server"]["name"] == NAME for r in records)
    with serve(records) as official, serve([]) as company:
        company.publish(_doc(NAME, "0.0.1", "@acme/vetted-kubernetes-mcp"))
        company.publish(_doc("com.acme/internal-wiki", "1.2.0", "@acme/wiki-mcp"))
        yield official, company


def test_the_higher_priority_holds_a_name_whatever_its_version(
    ws: mo.Workspace, apis: tuple[RegistryAPI, RegistryAPI], tmp_path: Path
) -> None:
    official, company = apis
    reg = ws.registry()
    add_source(reg, "official", url=official.url, priority=10)
    add_source(reg, "acme", url=company.url, priority=70)
    first = registry_sync.sync_registry(ws, source="official").report
    assert len(first.added) > 100 and NAME in first.added
    assert registry_sync.sync_registry(ws, source="acme").report.added == [
        "com.acme/internal-wiki",
        NAME,
    ]
    reg = mo.Registry(workspace=mo.Workspace(ws.path))
    kube = reg.get(NAME)
    assert (kube.source, kube.version) == ("acme", "0.0.1")  # older, but the company's
    assert kube.packages[0]["identifier"] == "@acme/vetted-kubernetes-mcp"
    assert reg.find("internal-wiki").source == "acme"
    # each registry source keeps its records in its own folder
    assert (ws.path / "catalog-sources" / "acme").is_dir()
    assert not list((ws.path / "catalog").glob("*.json"))  # the workspace layer is untouched

    # local files above both: read where they are, invalid documents counted
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "kube.json").write_text(json.dumps(_doc(NAME, "9.9.9", "@me/kube")))
    (mine / "broken.json").write_text('{"name": "not a server"}')
    add_source(reg, "mine", path=str(mine), priority=150)
    reg = mo.Registry(workspace=mo.Workspace(ws.path))
    assert reg.get(NAME).source == "mine"
    rows = {r["name"]: r for r in list_sources(reg)}
    assert [r["name"] for r in list_sources(reg)] == [
        "bundled",
        "mine",
        "workspace",
        "acme",
        "official",
    ]
    assert rows["mine"]["servers"] == 1 and rows["mine"]["invalid"] == 1
    assert rows["acme"]["servers"] == 2 and rows["acme"]["shown"] == 1  # mine holds NAME
    assert rows["official"]["servers"] > rows["official"]["shown"] > 100
    assert rows["bundled"]["servers"] == rows["bundled"]["shown"]

    # an import into the workspace (priority 100) does not take a name mine (150) holds
    view = reg.import_server_json(_doc(NAME, "10.0.0", "@eve/kube"))
    assert (
        view.counts["unchanged"] == 1 and "held by the source 'mine'" in (view.skipped[0]["reason"])
    )
    assert mo.Registry(workspace=mo.Workspace(ws.path)).get(NAME).source == "mine"

    # removing a source lets the next one show again; a registry source's records go with it
    remove_source(reg, "mine")
    assert mo.Registry(workspace=mo.Workspace(ws.path)).get(NAME).source == "acme"
    remove_source(reg, "acme")
    assert not (ws.path / "catalog-sources" / "acme").exists()
    assert mo.Registry(workspace=mo.Workspace(ws.path)).get(NAME).source == "official"
    actions = [
        e["details"]["change"]
        for e in ws.audit.query(action="catalog-source")
        if isinstance(e.get("details"), dict)
    ]
    assert sorted(actions) == ["added", "added", "added", "removed", "removed"]


def test_a_bundled_server_stays_whatever_a_source_says(
    ws: mo.Workspace, apis: tuple[RegistryAPI, RegistryAPI]
) -> None:
    _official, company = apis
    company.publish(_doc("io.github.github/github-mcp-server", "99.0.0", "not-github"))
    add_source(ws.registry(), "acme", url=company.url, priority=999)
    registry_sync.sync_registry(ws, source="acme")
    reg = mo.Registry(workspace=mo.Workspace(ws.path))
    assert reg.find("github").source == "bundled"
    assert reg.get("io.github.github/github-mcp-server").source == "bundled"


def test_bad_sources_are_refused_with_a_hint(ws: mo.Workspace, tmp_path: Path) -> None:
    reg = ws.registry()
    with pytest.raises(mo.UsageError, match="exactly one of them"):
        add_source(reg, "x")
    with pytest.raises(mo.UsageError, match="the catalog's own layer"):
        add_source(reg, "workspace", path=str(tmp_path))
    with pytest.raises(mo.NotFound, match="no such file or folder"):
        add_source(reg, "x", path=str(tmp_path / "missing"))
    with pytest.raises(mo.UsageError, match="priority 100 is the workspace"):
        add_source(reg, "x", path=str(tmp_path), priority=100)
    add_source(reg, "a", path=str(tmp_path), priority=20)
    with pytest.raises(mo.UsageError, match="already has priority 20"):
        add_source(reg, "b", path=str(tmp_path), priority=20)
    with pytest.raises(mo.AlreadyExists):
        add_source(reg, "a", path=str(tmp_path), priority=30)
    with pytest.raises(mo.NotFound, match="no registry source 'a'"):  # a files source
        registry_sync.sync_registry(ws, source="a")
    with pytest.raises(mo.NotFound, match="no catalog source 'zzz'"):
        remove_source(reg, "zzz")


def test_the_cli_lists_adds_and_removes_sources(
    ws: mo.Workspace, client_root: Path, tmp_path: Path
) -> None:
    (tmp_path / "one.json").write_text(json.dumps(_doc("com.acme/tool", "1.0.0", "@acme/tool-mcp")))
    base = ["--workspace", str(ws.path), "--client-root", str(client_root)]
    run = CliRunner().invoke
    out = run(cli, ["registry", "source", "add", "files", "--path", str(tmp_path), *base])
    assert out.exit_code == 0, out.output
    assert "added source files" in out.output
    listed = run(cli, ["registry", "source", "list", "--json", *base])
    rows = {r["name"]: r for r in json.loads(listed.output)["sources"]}
    assert rows["files"]["priority"] == 50 and rows["files"]["servers"] == 1
    found = run(cli, ["list-servers", "-s", "vetted build", *base])
    assert "tool" in found.output, found.output
    bad = run(cli, ["registry", "source", "add", "x", *base])
    assert bad.exit_code == 2 and "exactly one of them" in bad.output
    out = run(cli, ["registry", "source", "remove", "files", *base])
    assert out.exit_code == 0 and "removed source files" in out.output


def test_a_status_the_registry_changes_reaches_the_catalog_on_sync(
    ws: mo.Workspace, apis: tuple[RegistryAPI, RegistryAPI]
) -> None:
    official, _company = apis
    add_source(ws.registry(), "official", url=official.url, priority=10)
    registry_sync.sync_registry(ws, source="official")
    server = mo.Registry(workspace=mo.Workspace(ws.path)).get(NAME)
    assert server.status == "active"
    official.set_status(NAME, "deprecated")  # every version
    report = registry_sync.sync_registry(ws, source="official").report
    assert NAME in report.updated
    reg = mo.Registry(workspace=mo.Workspace(ws.path))
    assert reg.get(NAME).status == "deprecated"
    assert NAME not in [s.name for s in reg.search("kubernetes")]
    assert NAME in [s.name for s in reg.search("kubernetes", status="deprecated")]

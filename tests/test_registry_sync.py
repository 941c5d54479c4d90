"""Issue 14, live sync: ``mcp-orch registry sync`` against a loopback copy of the official
registry's list API (tests/registry_api/server.py) serving the real public data set (2,794
records, 958 valid names). Nothing leaves loopback."""

from __future__ import annotations

import gzip
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner
from registry_api.server import RegistryAPI, registry_api

import mcp_orch as mo
from mcp_orch.core.errors import UsageError
from mcp_orch.facade.catalog_sync import AUDIT_ACTION, sync_registry
from mcp_orch.frontends.cli import cli
from mcp_orch.operations import registry_sync
from mcp_orch.services.registry_api import RegistryAPIError

__all__ = ["registry_api"]  # the module-scope fixture


@pytest.fixture
def api(registry_api: RegistryAPI, monkeypatch: pytest.MonkeyPatch) -> Iterator[RegistryAPI]:
    """The module's server, reset around each test; the network allowed (loopback only)."""
    monkeypatch.delenv("MCP_ORCH_OFFLINE", raising=False)
    registry_api.reset()
    yield registry_api
    registry_api.reset()


@pytest.fixture(scope="module")
def synced(
    registry_api: RegistryAPI, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, Any]]:
    """A workspace after one full sync (a copy for each test that changes it)."""
    mp = pytest.MonkeyPatch()
    mp.delenv("MCP_ORCH_OFFLINE", raising=False)
    try:
        registry_api.reset()
        ws = mo.Workspace(tmp_path_factory.mktemp("synced") / "ws")
        report = sync_registry(ws.registry(), registry_api.url)
    finally:
        mp.undo()
    return ws.path, report.to_dict()


def _copy(src: Path, tmp_path: Path) -> mo.Workspace:
    shutil.copytree(src, tmp_path / "ws")
    return mo.Workspace(tmp_path / "ws")


def _events(ws: mo.Workspace) -> list[dict[str, Any]]:
    path = ws.path / "audit" / "events.jsonl"
    events = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [
        e
        for e in events
        if e["action"] == AUDIT_ACTION and (e.get("details") or {}).get("kind") == "catalog-sync"
    ]


def _state(ws: mo.Workspace) -> dict[str, Any]:
    state: dict[str, Any] = json.loads((ws.path / "catalog-sync" / "state.json").read_text())
    (entry,) = state.values()
    return entry


def _query(target: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(target).query).items()}


def _doc(name: str, version: str = "1.0.0") -> dict[str, Any]:
    return {
        "name": name,
        "description": "A server for the tests.",
        "version": version,
        "packages": [
            {
                "registryType": "npm",
                "identifier": name.split("/")[-1],
                "version": version,
                "transport": {"type": "stdio"},
            }
        ],
    }


def test_a_first_sync_imports_every_valid_name_with_a_snapshot_and_one_event(
    synced: tuple[Path, dict[str, Any]],
) -> None:
    path, report = synced
    ws = mo.Workspace(path)
    assert report["since"] is None and not report["resumed"] and report["pages"] >= 28
    # every valid name of the data set: new, or a bundled server's name (kept as bundled)
    assert len(report["added"]) + report["unchanged"] == 958
    assert report["updated"] == [] and report["removed"] == []
    workspace = {s.name: s.doc for s in ws.registry().all() if s.source == "workspace"}
    assert set(workspace) == set(report["added"])
    # the snapshot: the canonical JSON of those documents, at its own digest
    digest = report["snapshot"].removeprefix("sha256:")
    snap = path / "catalog-sync" / "snapshots" / f"{digest}.json.gz"
    assert json.loads(gzip.decompress(snap.read_bytes())) == workspace
    (event,) = _events(ws)
    details = event["details"]
    assert details["snapshot"] == report["snapshot"] and details["added_count"] == len(
        report["added"]
    )
    assert len(details["added"]) == min(200, len(report["added"]))
    entry = _state(ws)
    assert entry["cursor"] is None and entry["last_synced"]


def test_a_second_sync_is_incremental(
    api: RegistryAPI, synced: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    ws = _copy(synced[0], tmp_path)
    last = _state(ws)["last_synced"]
    target = synced[1]["added"][0]
    api.bump(target, "999.0.0")
    api.publish(_doc("io.github.mcp-orch-tests/brand-new"))
    api.requests.clear()
    report = registry_sync.sync_registry(ws, url=api.url).report
    assert report.since == last and all(_query(r)["updated_since"] == last for r in api.requests)
    assert report.added == ["io.github.mcp-orch-tests/brand-new"]
    assert report.updated == [target] and report.removed == []
    assert mo.Registry(workspace=mo.Workspace(ws.path)).get(target).version == "999.0.0"
    assert len(_events(ws)) == 2 and report.snapshot != synced[1]["snapshot"]
    # nothing changed since: an empty sync, and the same catalog is the same snapshot
    again = sync_registry(ws.registry(), api.url)
    assert (again.added, again.updated, again.removed) == ([], [], [])
    assert again.snapshot == report.snapshot


def test_a_deleted_server_is_removed_but_never_a_bundled_one(
    api: RegistryAPI, synced: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    ws = _copy(synced[0], tmp_path)
    gone = synced[1]["added"][1]
    api.set_status(gone, "deleted")  # every version
    bundled = next(s for s in ws.registry().all() if s.source == "bundled")
    if any(r["server"]["name"] == bundled.name for r in api.records):
        api.set_status(bundled.name, "deleted")
    report = sync_registry(ws.registry(), api.url)
    assert report.removed == [gone]
    again = mo.Registry(workspace=mo.Workspace(ws.path))
    assert gone not in {s.name for s in again.all()}
    assert again.get(bundled.id).source == "bundled"
    assert _events(ws)[-1]["details"]["removed"] == [gone]


def test_an_interrupted_sync_resumes_from_its_cursor(
    api: RegistryAPI,
    synced: tuple[Path, dict[str, Any]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ws = _copy(synced[0], tmp_path)
    last = _state(ws)["last_synced"]
    names = [f"io.github.mcp-orch-tests/resume-{i}" for i in range(5)]
    for name in names:
        api.publish(_doc(name))
    served = api.handle
    calls = {"n": 0}

    def flaky(target: str) -> tuple[int, str, bytes]:
        calls["n"] += 1
        if calls["n"] == 2:  # the second page fails
            return 500, "application/json", b'{"title": "Internal Server Error"}'
        return served(target)

    monkeypatch.setattr(api, "handle", flaky)
    with pytest.raises(RegistryAPIError) as info:
        sync_registry(ws.registry(), api.url, limit=2)
    assert info.value.status == 500
    entry = _state(ws)
    assert entry["cursor"] and entry["since"] == last and entry["partial"]["pages"] == 1
    assert len(_events(ws)) == 1  # only the first sync's
    monkeypatch.setattr(api, "handle", served)
    api.requests.clear()
    report = sync_registry(ws.registry(), api.url, limit=2)
    first = _query(api.requests[0])
    assert report.resumed and first["cursor"] == entry["cursor"]
    assert first["updated_since"] == last == report.since
    # the totals are the whole sync's: the page before the error counts too
    assert report.added == names and report.pages == 3
    assert _state(ws)["cursor"] is None and len(_events(ws)) == 2


def test_the_cli_prints_the_report(
    api: RegistryAPI, synced: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    ws = _copy(synced[0], tmp_path)
    api.publish(_doc("io.github.mcp-orch-tests/from-cli"))
    out = CliRunner().invoke(
        cli, ["registry", "sync", "--url", api.url, "--workspace", str(ws.path)]
    )
    assert out.exit_code == 0, out.output
    assert "1 added, 0 updated" in out.output and "snapshot sha256:" in out.output
    out = CliRunner().invoke(
        cli, ["registry", "sync", "--url", api.url, "--workspace", str(ws.path), "--json"]
    )
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["added"] == []
    bad = CliRunner().invoke(
        cli,
        ["registry", "sync", "--url", api.url, "--since", "yesterday", "--workspace", str(ws.path)],
    )
    assert bad.exit_code == 2 and "RFC 3339" in bad.output and "Traceback" not in bad.output


def test_a_sync_refuses_offline(ws: mo.Workspace) -> None:
    with pytest.raises(UsageError, match="offline: MCP_ORCH_OFFLINE is set"):
        sync_registry(ws.registry(), "http://127.0.0.1:9")
    out = CliRunner().invoke(cli, ["registry", "sync", "--workspace", str(ws.path)])
    assert out.exit_code == 2 and "offline" in out.output

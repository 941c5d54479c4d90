"""Behaviour that once went wrong: restore then deploy, diff against an artifact, relative
project folders, key and catalog events recorded by the library, short printing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import mcp_orch as mo


def _servers(path: Path) -> set[str]:
    return set(json.loads(path.read_text())["mcpServers"])


def test_restore_then_deploy_removes_entries_of_the_undone_deploy(registry, ws) -> None:
    p = ws.profile("cursor")
    registry.find("memory").add_to(p)
    p.draft.publish("one")
    registry.find("sequential-thinking").add_to(p)
    p.draft.publish("two").deploy()
    path = p.config_path()
    p.rollback(deploy=True)
    assert _servers(path) == {"memory"}
    two = p.deployed()
    p.restore()  # undo the rollback's deploy: the file holds both again
    assert _servers(path) == {"memory", "sequential-thinking"}
    assert p.deployed() is not None and p.deployed() != two  # the release that file came from
    assert set(p.deployed().servers) == {"memory", "sequential-thinking"}
    dep = p.deploy()  # latest is still "one"
    assert dep.changed
    assert _servers(path) == {"memory"}
    assert not p.drift().drifted


def test_diff_against_a_given_artifact_and_resolved_secrets(
    registry, ws, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = ws.profile("claude-desktop")
    registry.find("time").add_to(p)
    first = p.draft.publish("time")
    registry.find("github").add_to(p)
    monkeypatch.setenv("GITHUB_PERSONAL_ACCESS_TOKEN", "value-only-in-this-shell")
    p.draft.publish("github").deploy()
    monkeypatch.delenv("GITHUB_PERSONAL_ACCESS_TOKEN")
    # the value is not set now, but the file is exactly what was deployed
    assert p.diff().status == "up-to-date"
    older = p.diff(artifact_id=first.artifact_id)
    assert older.status != "up-to-date" and set(older.removed) == {"github"}


def test_relative_project_dir_is_recorded_absolute(registry, ws, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "proj").mkdir()
    p = ws.profile("cursor")
    registry.find("time").add_to(p)
    dep = p.draft.publish("x").deploy(scope="project", project_dir="proj")
    assert Path(dep.path).is_absolute()
    assert not p.drift(os.path.join("proj", ".cursor", "mcp.json")).drifted


def test_key_and_catalog_events_are_audited_by_the_library(ws, registry, tmp_path) -> None:
    ws.keys.init()
    ws.keys.rotate()
    other = mo.Workspace(tmp_path / "other")
    ws.keys.trust(other.keys.export_public(other.keys.init()))
    doc = json.loads((Path(__file__).parents[1] / "catalog" / "time.json").read_text())
    doc["name"] = "io.example/my-time"
    doc["_meta"] = {"io.github.mcp-orch/catalog": {"id": "my-time"}}
    registry.register(doc)
    events = [e["details"].get("event") for e in ws.audit.query(action="key")]
    assert sorted(events) == ["init", "rotate", "trust"]
    assert ws.audit.query(action="register")[0]["details"]["server"] == "my-time"


def test_printing_an_artifact_is_short(registry, ws) -> None:
    p = ws.profile("cursor")
    registry.find("time").add_to(p)
    art = p.draft.publish("x")
    assert str(art).startswith("<Artifact ") and art.signature not in str(art)
    assert str(art.deploy()).startswith("<Deployment ")


def test_publishing_a_profile_that_was_never_used_is_refused(ws) -> None:
    with pytest.raises(mo.NotFound) as err:
        ws.profile("cursor", "typo").draft.publish("x")
    assert "profile name" in err.value.hint and "profile" in err.value.inputs
    assert ws.profile("cursor", "typo").latest() is None
    assert not ws.audit.query(action="publish")

"""A crash at every write point of publish, deploy, rollback, restore and sync: the next command
finishes (or undoes) the change, and refs, client files and the audit log agree again."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import mcp_orch as mo

sys.path.insert(0, str(Path(__file__).parent))

from integrity import SCENARIOS, Scenario, crash_scenario, publish

pytestmark = pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_a_crash_at_any_write_point_is_finished_or_undone(
    scenario: Scenario, tmp_path: Path
) -> None:
    result = crash_scenario(scenario, tmp_path)
    assert result.points >= 5, f"{scenario.name} passed only {result.points} write points"
    assert result.tried == result.points
    assert result.failures == []
    # some crashes leave a half-done change behind, and every one of those was repaired
    assert result.detected > 0
    assert result.repaired == result.detected


# ---- a power cut: the writes whose fsyncs were collected are lost in any order ----------------


def _cut_before_the_collected_fsyncs(
    ws: mo.Workspace, monkeypatch: pytest.MonkeyPatch, change: Callable[[], Any]
) -> None:
    """Run ``change`` as if the power went before its collected fsyncs reached the disk: the
    journal entry (fsync'd first) stays, and what the steps wrote is whatever the test makes
    of it afterwards."""
    import mcp_orch.services.release.journal as journal

    def cut(_paths: dict[str, bool]) -> None:
        raise OSError(5, "power cut")

    monkeypatch.setattr(journal, "sync_all", cut)
    with pytest.raises(OSError, match="power cut"):
        change()
    monkeypatch.undo()
    assert list((ws.path / "journal").glob("*.json")), "the journal entry must be kept"


def test_a_power_cut_that_loses_a_publishs_object_ref_and_index_but_keeps_its_event_is_repaired(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = mo.Workspace(tmp_path / "ws", client_root=tmp_path / "root")
    profile = ws.profile("cursor")
    first = publish(profile, "a")
    refs = ws.path / "refs" / "cursor" / "default"
    index_before = (refs / "index").read_bytes()
    _cut_before_the_collected_fsyncs(ws, monkeypatch, lambda: publish(profile, "a", "b"))
    new = [e for e in ws.audit.events() if e["action"] == "publish"][-1]["artifact_id"]
    assert new != first.artifact_id
    # the disk kept the renames but not the data of the object, the old ref, a torn index
    obj = ws.store.object_path(new)
    os.chmod(obj, 0o644)
    obj.write_bytes(b"")
    (refs / "latest").write_text(first.artifact_id + "\n")
    (refs / "index").write_bytes(index_before + b"sha256:12")

    report = ws.verify()  # recovers first, then checks everything

    assert report["ok"], report["problems"]
    assert any("interrupted publish" in m for m in report.repaired), report.repaired
    assert ws.store.get_ref("cursor", "default", "latest") == new
    assert ws.store.index("cursor", "default") == [first.artifact_id, new]
    assert ws.store.get(new).artifact_id == new
    assert [e["action"] for e in ws.audit.events()].count("publish") == 2
    assert not list((ws.path / "journal").glob("*.json"))


def test_a_power_cut_that_loses_a_deploys_rename_writes_the_client_file_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "root").mkdir()
    ws = mo.Workspace(tmp_path / "ws", client_root=tmp_path / "root")
    profile = ws.profile("cursor")
    publish(profile, "a").deploy()
    target = profile.config_path()
    before = target.read_bytes()
    second = publish(profile, "a", "b")
    _cut_before_the_collected_fsyncs(ws, monkeypatch, second.deploy)
    assert target.read_bytes() != before
    target.write_bytes(before)  # the folder's fsync was lost: the rename never reached the disk
    ws.store.set_ref("cursor", "default", "deployed", None)  # and neither did the ref

    report = ws.verify()

    assert report["ok"], report["problems"]
    assert ws.store.get_ref("cursor", "default", "deployed") == second.artifact_id
    assert "b" in json.loads(target.read_text())["mcpServers"]


def test_a_power_cut_never_overwrites_a_client_file_someone_saved_since(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "root").mkdir()
    ws = mo.Workspace(tmp_path / "ws", client_root=tmp_path / "root")
    profile = ws.profile("cursor")
    publish(profile, "a").deploy()
    target = profile.config_path()
    second = publish(profile, "a", "b")
    _cut_before_the_collected_fsyncs(ws, monkeypatch, second.deploy)
    mine = b'{"mcpServers": {"mine": {"command": "x"}}}\n'
    target.write_bytes(mine)  # the user's editor saved the file before the next command

    ws.verify()

    assert target.read_bytes() == mine

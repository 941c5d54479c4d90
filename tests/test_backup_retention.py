"""Backup retention: each deploy keeps the newest ``keep_backups`` backups of a profile (20
unless set, 0 keeps all), ``mcp-orch backups prune`` removes the rest on demand, every prune is
an audit event, and ``verify`` tells a pruned backup from one removed by hand."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import mcp_orch as mo
from mcp_orch.core.errors import UsageError
from mcp_orch.frontends.cli import cli


def _deploys(profile: mo.Profile, n: int, start: int = 0, name: str = "svc") -> list[mo.Deployment]:
    """``n`` publish + deploy rounds, each changing one entry (so each takes a backup)."""
    out = []
    for i in range(start, start + n):
        profile.draft.clear()
        profile.draft.add_entry(name, {"command": "npx", "args": ["-y", f"pkg@{i}"]})
        out.append(profile.draft.publish(changelog=f"round {i}").deploy())
    return out


def _cli(ws: mo.Workspace, *argv: str, code: int = 0) -> Any:
    args = [*argv, "--workspace", str(ws.path), "--client-root", str(ws.client_root)]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result


def _cli_json(ws: mo.Workspace, *argv: str, code: int = 0) -> Any:
    return json.loads(_cli(ws, *argv, "--json", code=code).stdout)


def _prunes(ws: mo.Workspace) -> list[dict[str, Any]]:
    return [e for e in ws.audit.events() if e["action"] == "prune"]


@pytest.fixture
def cursor(ws: mo.Workspace) -> mo.Profile:
    profile = ws.profile("cursor")
    path = profile.config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"mcpServers": {"mine": {"command": "mine"}}}\n', encoding="utf-8")
    return profile


def test_the_default_keeps_the_newest_20_backups(ws: mo.Workspace, cursor: mo.Profile) -> None:
    assert cursor.settings["keep_backups"] == 20
    deps = _deploys(cursor, 25)
    listed = cursor.backups()
    assert len(listed) == 20
    # the newest 20: the one the last deploy took first, the one the 6th took last
    assert [b["backup"] for b in listed] == [d.backup for d in reversed(deps[5:])]
    assert all(Path(b["backup"]).exists() for b in listed)
    assert not any(Path(d.backup).exists() for d in deps[:5])  # type: ignore[arg-type]
    # one prune per deploy beyond the 20th, each naming the backup it removed
    prunes = _prunes(ws)
    assert [[r["backup"] for r in e["details"]["removed"]] for e in prunes] == [
        [d.backup] for d in deps[:5]
    ]
    assert ws.verify().ok


def test_keep_backups_3_keeps_three_and_0_keeps_every_backup(
    ws: mo.Workspace, cursor: mo.Profile
) -> None:
    cursor.configure(keep_backups=3)
    assert cursor.settings["keep_backups"] == 3
    deps = _deploys(cursor, 6)
    assert [b["backup"] for b in cursor.backups()] == [d.backup for d in reversed(deps[3:])]

    cursor.configure(keep_backups=0)  # keep all: nothing pruned any more
    _deploys(cursor, 4, start=6)
    assert len(cursor.backups()) == 7
    assert cursor.prune_backups()["removed"] == []  # the setting says keep all
    assert ws.verify().ok


def test_prune_dry_run_says_what_it_would_remove_and_removes_nothing(
    ws: mo.Workspace, cursor: mo.Profile
) -> None:
    _deploys(cursor, 4)
    before = cursor.backups()
    events = len(list(ws.audit.events()))
    doc = _cli_json(ws, "backups", "prune", "-c", "cursor", "--keep", "1", "--dry-run")
    assert doc["dry_run"] is True and doc["removed"] == 3
    assert [b["backup"] for b in doc["profiles"][0]["removed"]] == [b["backup"] for b in before[1:]]
    assert doc["bytes_freed"] == sum(
        Path(b["backup"]).stat().st_size + Path(b["backup"] + ".source").stat().st_size
        for b in before[1:]
    )
    assert cursor.backups() == before
    assert len(list(ws.audit.events())) == events  # nothing recorded either
    text = _cli(ws, "backups", "prune", "-c", "cursor", "--keep", "1", "--dry-run").stdout
    assert "cursor/default: would remove 3 backups" in text
    assert "nothing was removed" in text
    for b in before[1:]:
        assert b["backup"] in text


def test_prune_is_audited_and_verify_stays_ok(ws: mo.Workspace, cursor: mo.Profile) -> None:
    _deploys(cursor, 4)
    before = cursor.backups()
    text = _cli(ws, "backups", "prune", "-c", "cursor", "--keep", "1").stdout
    assert "cursor/default: removed 3 backups" in text and "freed" in text
    assert cursor.backups() == before[:1]
    for b in before[1:]:
        assert not Path(b["backup"]).exists() and not Path(b["backup"] + ".source").exists()
    # the event, as audit-log shows it, lists each removed backup with its digests
    events = _cli_json(ws, "audit-log", "--action", "prune")["events"]
    assert len(events) == 1
    event = events[0]
    assert (event["client"], event["profile"]) == ("cursor", "default")
    removed = event["details"]["removed"]
    assert [r["backup"] for r in removed] == [b["backup"] for b in before[1:]]
    assert all(r["digest"].startswith("sha256:") and r["meta_digest"] for r in removed)
    assert _cli_json(ws, "verify")["ok"] is True
    # nothing left to prune: no second event
    again = _cli_json(ws, "backups", "prune", "-c", "cursor", "--keep", "1")
    assert again["removed"] == 0 and len(_prunes(ws)) == 1


def test_a_backup_deleted_by_hand_is_still_reported_by_verify(
    ws: mo.Workspace, cursor: mo.Profile
) -> None:
    _deploys(cursor, 3)
    cursor.prune_backups(keep=2)
    assert ws.verify().ok
    victim = cursor.backups()[-1]["backup"]
    os.unlink(victim)
    report = ws.verify()
    assert not report.ok
    assert any(victim in p and "missing" in p for p in report.problems), report.problems


def test_restore_works_on_a_kept_backup(cursor: mo.Profile) -> None:
    original = cursor.config_path().read_bytes()
    cursor.configure(keep_backups=2)
    deps = _deploys(cursor, 5)
    assert len(cursor.backups()) == 2
    oldest_kept = cursor.backups()[-1]
    assert oldest_kept["backup"] == deps[3].backup
    kept_bytes = Path(oldest_kept["backup"]).read_bytes()
    assert kept_bytes != original  # the hand-written file's backup was pruned long ago
    cursor.restore(Path(oldest_kept["backup"]).name)
    assert cursor.config_path().read_bytes() == kept_bytes
    # the restore took a backup of the file it replaced, and pruning kept the count
    assert len(cursor.backups()) == 2
    assert cursor.workspace.verify().ok


def test_prune_keeps_the_backup_a_deployment_record_names(
    ws: mo.Workspace, cursor: mo.Profile
) -> None:
    """Two files of one profile: the newest backups are all of one file, yet the other file's
    last backup (the one its deployment record names) stays."""
    other = ws.path.parent / "elsewhere" / "mcp.json"
    other.parent.mkdir()
    other.write_text('{"mcpServers": {}}\n', encoding="utf-8")
    cursor.draft.add_entry("svc", {"command": "npx", "args": ["-y", "first"]})
    cursor.draft.publish(changelog="first").deploy(path=other)
    cursor.draft.clear()
    cursor.draft.add_entry("svc", {"command": "npx", "args": ["-y", "second"]})
    named = cursor.draft.publish(changelog="second").deploy(path=other).backup
    _deploys(cursor, 3)
    result = cursor.prune_backups(keep=1)
    kept = [b["backup"] for b in cursor.backups()]
    assert named in kept and len(kept) == 2
    assert len(result["removed"]) == 3
    assert ws.verify().ok


def test_prune_without_a_client_prunes_every_profile(ws: mo.Workspace, cursor: mo.Profile) -> None:
    work = ws.profile("cursor", "work")
    _deploys(cursor, 3)
    _deploys(work, 2, name="work-svc")
    doc = _cli_json(ws, "backups", "prune", "--keep", "1")
    assert {(p["profile"], len(p["removed"])) for p in doc["profiles"]} == {
        ("default", 2),
        ("work", 1),
    }
    assert doc["removed"] == 3
    assert len(cursor.backups()) == len(work.backups()) == 1
    # backups list shows what is left, as restore --list does
    assert _cli_json(ws, "backups", "list", "-c", "cursor")["backups"] == cursor.backups()
    assert ws.verify().ok


def test_bad_counts_are_typed_errors(ws: mo.Workspace, cursor: mo.Profile) -> None:
    with pytest.raises(UsageError, match="keep_backups must be a whole number of at least 0"):
        cursor.configure(keep_backups=-1)
    with pytest.raises(UsageError):
        cursor.configure(keep_backups=True)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="keep must be a whole number of at least 1"):
        cursor.prune_backups(keep=0)
    assert cursor.settings["keep_backups"] == 20  # nothing was written
    for argv in (
        ["backups", "prune", "-c", "cursor", "--keep", "0"],
        ["profile-settings", "-c", "cursor", "--keep-backups", "-3"],
    ):
        result = _cli(ws, *argv, code=2)
        assert result.stderr.startswith("error: ") and "hint: " in result.stderr
        doc = _cli_json(ws, *argv, code=2)
        assert doc["ok"] is False and doc["error"] == "UsageError" and doc["hint"]
    assert (
        _cli_json(ws, "profile-settings", "-c", "cursor", "--keep-backups", "5")["keep_backups"]
        == 5
    )


def test_a_crash_after_the_prune_event_leaves_whole_backups(
    ws: mo.Workspace, cursor: mo.Profile, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The event is written before anything is deleted, the ``.source`` file first: a crash
    between the two leaves a copy nothing lists, which the next prune removes (and records)."""
    _deploys(cursor, 3)
    before = cursor.backups()
    real_unlink = os.unlink
    calls = []

    def crash_on_second(path: Any, *a: Any, **kw: Any) -> None:
        if "backups" in Path(path).parts:
            calls.append(str(path))
        if len(calls) == 2:
            raise KeyboardInterrupt  # the process dies here
        real_unlink(path, *a, **kw)

    monkeypatch.setattr(os, "unlink", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        cursor.prune_backups(keep=1)
    monkeypatch.setattr(os, "unlink", real_unlink)
    # every listed backup is whole (its copy is there), and restoring one works
    listed = cursor.backups()
    assert all(Path(b["backup"]).exists() for b in listed)
    assert [b["backup"] for b in listed] == [b["backup"] for b in before if b in listed]
    assert len(listed) == 2
    assert ws.verify().ok  # the event says they were pruned: nothing reported missing
    result = cursor.prune_backups(keep=1)
    assert len(cursor.backups()) == 1
    assert [x["path"] for x in result["leftovers"]] == [before[1]["backup"]]
    assert _prunes(ws)[-1]["details"]["leftovers"][0]["path"] == before[1]["backup"]
    assert not Path(before[1]["backup"]).exists()
    assert ws.verify().ok

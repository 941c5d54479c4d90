"""The hash-chained audit log (mcp_orch/audit.py).

Covers: append and verify; an edited, removed, reordered or truncated event is caught by
``verify()`` with ``IntegrityError`` (also when the forger re-computes hashes); recovery of the
head after a crash between the append and the head write; ``query`` by client, profile, action,
artifact and ``since`` (``7d``, ISO date; a bad value is a ``UsageError``); ``frame()`` has typed
columns (``time`` a UTC datetime, ``seq`` Int64) and filters by ``since``; the actor defaults to
``user@host`` and honours ``mcp_orch.audit.current_actor``.
"""

from __future__ import annotations

import getpass
import hashlib
import itertools
import json
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import rfc8785

import mcp_orch.services.release.audit as audit_mod
from mcp_orch.core.errors import IntegrityError, UsageError
from mcp_orch.services.release.audit import AuditLog, current_actor

GENESIS = "sha256:" + "0" * 64


# ---- helpers -------------------------------------------------------------------------------------


@pytest.fixture
def log(tmp_path: Path) -> AuditLog:
    return AuditLog(tmp_path / "audit")


def _fill(log: AuditLog, n: int = 5) -> list[dict[str, Any]]:
    clients = ["cursor", "vscode"]
    return [
        log.append(
            "publish",
            client=clients[i % 2],
            profile="default",
            artifact_id="sha256:" + f"{i:02x}" * 32,
            changelog=f"change {i}",
        )
        for i in range(n)
    ]


def _lines(log: AuditLog) -> list[str]:
    return log.path.read_text(encoding="utf-8").splitlines(keepends=True)


def _write_lines(log: AuditLog, lines: list[str]) -> None:
    log.path.write_text("".join(lines), encoding="utf-8")


def _rehash(event: dict[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in event.items() if k != "hash"}
    event["hash"] = "sha256:" + hashlib.sha256(rfc8785.dumps(body)).hexdigest()
    return event


def _dump(event: dict[str, Any]) -> str:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n"


# ---- append / verify -----------------------------------------------------------------------------


def test_append_and_verify(log: AuditLog) -> None:
    assert log.verify() == 0  # an empty (missing) log is sound
    events = _fill(log, 5)
    assert [e["seq"] for e in events] == [1, 2, 3, 4, 5]
    assert events[0]["prev"] == GENESIS
    for before, after in itertools.pairwise(events):
        assert after["prev"] == before["hash"]
    for e in events:
        assert _rehash(dict(e))["hash"] == e["hash"]  # hash of its canonical JSON without hash
    assert log.verify() == 5
    stored = [json.loads(line) for line in _lines(log)]
    assert stored == events
    head = json.loads(log.head_path.read_text())
    assert (head["seq"], head["hash"]) == (5, events[-1]["hash"])


def test_append_survives_new_instances(tmp_path: Path) -> None:
    _fill(AuditLog(tmp_path / "audit"), 2)
    event = AuditLog(tmp_path / "audit").append("deploy", client="cursor")
    assert event["seq"] == 3
    assert AuditLog(tmp_path / "audit").verify() == 3


def test_unknown_action_is_refused(log: AuditLog) -> None:
    _fill(log, 1)
    with pytest.raises(UsageError):
        log.append("delete-everything")
    assert log.verify() == 1


def test_event_fields(log: AuditLog) -> None:
    e = log.append(
        "deploy",
        client="cursor",
        profile="work",
        artifact_id="sha256:" + "a" * 64,
        changelog="ship it",
        details={"path": "/x/mcp.json"},
    )
    assert e["action"] == "deploy"
    assert (e["client"], e["profile"]) == ("cursor", "work")
    assert e["details"] == {"path": "/x/mcp.json"}
    assert len(e["event_id"]) == 32
    when = datetime.fromisoformat(e["time"].replace("Z", "+00:00"))
    assert abs(datetime.now(UTC) - when) < timedelta(minutes=5)


# ---- tamper detection ----------------------------------------------------------------------------


def test_edited_event_is_caught(log: AuditLog) -> None:
    _fill(log, 5)
    lines = _lines(log)
    event = json.loads(lines[2])
    event["changelog"] = "something else"
    lines[2] = _dump(event)
    _write_lines(log, lines)
    with pytest.raises(IntegrityError):
        log.verify()


def test_edited_event_with_recomputed_hash_is_caught(log: AuditLog) -> None:
    _fill(log, 5)
    lines = _lines(log)
    lines[2] = _dump(_rehash({**json.loads(lines[2]), "actor": "mallory@evil"}))
    _write_lines(log, lines)
    with pytest.raises(IntegrityError):
        log.verify()


def test_edited_last_event_with_recomputed_hash_is_caught(log: AuditLog) -> None:
    _fill(log, 5)
    lines = _lines(log)
    lines[-1] = _dump(_rehash({**json.loads(lines[-1]), "client": "zed"}))
    _write_lines(log, lines)
    with pytest.raises(IntegrityError):
        log.verify()


def test_edited_details_are_caught(log: AuditLog) -> None:
    log.append("deploy", client="cursor", details={"path": "/a"})
    log.append("deploy", client="cursor", details={"path": "/b"})
    text = log.path.read_text(encoding="utf-8").replace('"/a"', '"/c"')
    log.path.write_text(text, encoding="utf-8")
    with pytest.raises(IntegrityError):
        log.verify()


def test_removed_event_is_caught(log: AuditLog) -> None:
    _fill(log, 5)
    lines = _lines(log)
    del lines[1]
    _write_lines(log, lines)
    with pytest.raises(IntegrityError):
        log.verify()


def test_removed_first_event_is_caught(log: AuditLog) -> None:
    _fill(log, 3)
    _write_lines(log, _lines(log)[1:])
    with pytest.raises(IntegrityError):
        log.verify()


def test_reordered_events_are_caught(log: AuditLog) -> None:
    _fill(log, 5)
    lines = _lines(log)
    lines[1], lines[3] = lines[3], lines[1]
    _write_lines(log, lines)
    with pytest.raises(IntegrityError):
        log.verify()


def test_truncated_log_is_caught(log: AuditLog) -> None:
    _fill(log, 5)
    _write_lines(log, _lines(log)[:-1])
    with pytest.raises(IntegrityError):
        log.verify()
    # appending does not paper over the truncation either
    with pytest.raises(IntegrityError):
        log.append("publish", client="cursor")
    with pytest.raises(IntegrityError):
        log.verify()


def test_truncated_log_and_deleted_head_are_caught(log: AuditLog) -> None:
    _fill(log, 5)
    _write_lines(log, _lines(log)[:-2])
    log.head_path.unlink()
    with pytest.raises(IntegrityError):
        log.verify()


def test_damaged_line_is_an_integrity_error(log: AuditLog) -> None:
    _fill(log, 3)
    lines = _lines(log)
    lines[1] = lines[1][:20] + "\n"
    _write_lines(log, lines)
    with pytest.raises(IntegrityError):
        log.verify()


def test_workspace_verify_reports_broken_audit(log: AuditLog, tmp_path: Path) -> None:
    import mcp_orch as mo

    ws = mo.Workspace(tmp_path / "ws2")
    for i in range(3):  # events that claim no artifact (publish events must have theirs)
        ws.audit.append("import", client="cursor", profile="default", changelog=f"import {i}")
    assert ws.verify()["ok"]
    assert ws.verify()["events"] == 3
    _write_lines(ws.audit, _lines(ws.audit)[:-1])
    report = ws.verify()
    assert not report["ok"]
    assert any(p.startswith("audit:") for p in report["problems"])


# ---- crash recovery ------------------------------------------------------------------------------


def test_head_recovery_after_crash_before_head_write(log: AuditLog) -> None:
    _fill(log, 3)
    old_head = log.head_path.read_bytes()
    fourth = log.append("deploy", client="cursor")
    log.head_path.write_bytes(old_head)  # the crash: event 4 is in the file, the head is not
    fifth = log.append("revert", client="cursor")
    assert fifth["seq"] == 5
    assert fifth["prev"] == fourth["hash"]
    assert log.verify() == 5
    assert [e["seq"] for e in log.events()] == [1, 2, 3, 4, 5]


def test_verify_right_after_crash_before_head_write(log: AuditLog) -> None:
    """The log is intact (it only grew past the head), so verify() must not call it tampered."""
    _fill(log, 3)
    old_head = log.head_path.read_bytes()
    log.append("deploy", client="cursor")
    log.head_path.write_bytes(old_head)
    assert log.verify() == 4


def test_head_recovery_refuses_forged_tail(log: AuditLog) -> None:
    _fill(log, 3)
    old_head = log.head_path.read_bytes()
    log.append("deploy", client="cursor")
    log.head_path.write_bytes(old_head)
    lines = _lines(log)
    lines[-1] = _dump({**json.loads(lines[-1]), "client": "zed"})  # edited, hash not updated
    _write_lines(log, lines)
    with pytest.raises(IntegrityError):
        log.append("revert", client="cursor")


# ---- queries -------------------------------------------------------------------------------------


@pytest.fixture
def dated_log(log: AuditLog, monkeypatch: pytest.MonkeyPatch) -> AuditLog:
    """Events 30 days ago (cursor), 10 days ago (vscode) and now (cursor, zed)."""
    now = datetime.now(UTC)
    for days, client, action, aid in (
        (30, "cursor", "publish", "sha256:" + "a" * 64),
        (10, "vscode", "deploy", "sha256:" + "b" * 64),
    ):
        with monkeypatch.context() as m:
            m.setattr(audit_mod, "now_utc", lambda d=days: now - timedelta(days=d))
            log.append(action, client=client, profile="default", artifact_id=aid)
    log.append("deploy", client="cursor", profile="work", artifact_id="sha256:" + "a" * 64)
    log.append("key", details={"event": "init"})
    return log


def test_query_filters(dated_log: AuditLog) -> None:
    q = dated_log.query
    assert [e["seq"] for e in q()] == [4, 3, 2, 1]  # newest first
    assert [e["seq"] for e in q(client="cursor")] == [3, 1]
    assert [e["seq"] for e in q(profile="work")] == [3]
    assert [e["seq"] for e in q(action="deploy")] == [3, 2]
    assert [e["seq"] for e in q(action="deploy", client="cursor")] == [3]
    assert [e["seq"] for e in q(artifact="sha256:" + "a" * 64)] == [3, 1]
    assert [e["seq"] for e in q(artifact="aaaaaaaa")] == [3, 1]  # prefix without sha256:
    assert [e["seq"] for e in q(artifact="bbbb")] == [2]
    assert list(q(client="nobody")) == []
    assert [e["seq"] for e in q(limit=2)] == [4, 3]


def test_query_since(dated_log: AuditLog) -> None:
    q = dated_log.query
    assert [e["seq"] for e in q(since="7d")] == [4, 3]
    assert [e["seq"] for e in q(since="2w")] == [4, 3, 2]
    assert [e["seq"] for e in q(since="60d")] == [4, 3, 2, 1]
    assert [e["seq"] for e in q(since="12h")] == [4, 3]
    twenty_days_ago = (datetime.now(UTC) - timedelta(days=20)).date().isoformat()
    assert [e["seq"] for e in q(since=twenty_days_ago)] == [4, 3, 2]
    assert [e["seq"] for e in q(since="2000-01-01")] == [4, 3, 2, 1]
    assert [e["seq"] for e in q(since="2000-01-01T00:00:00Z")] == [4, 3, 2, 1]
    assert [e["seq"] for e in q(since=datetime.now(UTC) - timedelta(days=15))] == [4, 3, 2]
    assert list(q(since="2999-01-01")) == []
    assert [e["seq"] for e in q(since="7d", client="cursor")] == [3]


@pytest.mark.parametrize("bad", ["yesterday", "7x", "-3d", "2026-13-45", "d7"])
def test_query_bad_since(dated_log: AuditLog, bad: str) -> None:
    with pytest.raises(UsageError):
        dated_log.query(since=bad)
    with pytest.raises(UsageError):
        dated_log.frame(since=bad)


def test_frame_types(dated_log: AuditLog) -> None:
    df = dated_log.frame()
    assert isinstance(df, pl.DataFrame)
    assert df.height == 4
    assert df.schema["seq"] == pl.Int64
    time_type = df.schema["time"]
    assert isinstance(time_type, pl.Datetime)
    assert time_type.time_zone == "UTC"
    for col in ("action", "client", "profile", "artifact_id", "changelog", "actor", "hash"):
        assert df.schema[col] == pl.String
    assert df["seq"].to_list() == [4, 3, 2, 1]
    first = df.filter(pl.col("seq") == 1)["time"][0]
    assert first.tzinfo is not None
    assert timedelta(days=29) < datetime.now(UTC) - first < timedelta(days=31)


def test_frame_since_and_filters(dated_log: AuditLog) -> None:
    assert dated_log.frame(since="7d")["seq"].to_list() == [4, 3]
    assert dated_log.frame(since="60d")["seq"].to_list() == [4, 3, 2, 1]
    twenty_days_ago = (datetime.now(UTC) - timedelta(days=20)).date().isoformat()
    assert dated_log.frame(since=twenty_days_ago)["seq"].to_list() == [4, 3, 2]
    assert dated_log.frame(client="cursor")["seq"].to_list() == [3, 1]
    assert dated_log.frame(action="deploy", since="7d")["seq"].to_list() == [3]
    assert dated_log.frame(artifact="bbbb")["seq"].to_list() == [2]
    # the eager view agrees with the lazy frame
    assert dated_log.query(since="14d").frame()["seq"].to_list() == [4, 3, 2]


def test_frame_of_empty_log_is_typed(log: AuditLog) -> None:
    df = log.frame()
    assert df.height == 0
    assert df.schema["seq"] == pl.Int64
    assert isinstance(df.schema["time"], pl.Datetime)
    assert df.schema["time"].time_zone == "UTC"  # type: ignore[union-attr]
    assert log.query().frame().schema == df.schema


def test_query_view_frame_types(dated_log: AuditLog) -> None:
    df = dated_log.query(client="cursor").frame()
    assert df["seq"].to_list() == [3, 1]
    assert df.schema["seq"] == pl.Int64
    assert df.schema["time"] == pl.Datetime("us", "UTC")


# ---- actor ---------------------------------------------------------------------------------------


def test_actor_defaults_to_user_at_host(log: AuditLog) -> None:
    event = log.append("publish", client="cursor")
    assert event["actor"] == f"{getpass.getuser()}@{socket.gethostname()}"


def test_actor_honours_current_actor(log: AuditLog) -> None:
    token = current_actor.set("ci-bot")
    try:
        assert log.append("publish", client="cursor")["actor"] == "ci-bot"
        assert log.append("publish", client="cursor", actor="alice")["actor"] == "alice"
    finally:
        current_actor.reset(token)
    assert log.append("publish", client="cursor")["actor"] != "ci-bot"
    assert log.verify() == 3
    assert [e["actor"] for e in log.query(client="cursor")][1:] == ["alice", "ci-bot"]


def test_publish_records_actor_from_context(tmp_path: Path) -> None:
    import mcp_orch as mo

    ws = mo.Workspace(tmp_path / "ws2", client_root=tmp_path / "root2")
    profile = ws.profile("cursor")
    profile.draft.add_entry("time", {"command": "uvx", "args": ["mcp-server-time"]})
    token = current_actor.set("token:deploy-bot")
    try:
        art = profile.draft.publish(changelog="via server")
    finally:
        current_actor.reset(token)
    event = ws.audit.query(action="publish")[0]
    assert event["artifact_id"] == art.artifact_id
    assert event["actor"] == "token:deploy-bot"
    assert event["changelog"] == "via server"

"""The audit log at scale (issue 16): queries read the log backwards and stop early, and verify
resumes from its checkpoint (mcp_orch/services/release/audit.py, verify.py).

Covers: ``query`` gives exactly what a full decode-filter-reverse-cut gives, for every filter
and combination (also filters that match nothing, values that appear only inside other fields,
artifact prefixes, ``since``, ``limit``), over a log of several read windows with a line longer
than a window; a damaged line is skipped; the CLI's ``audit-log`` and the operation agree with
it. ``verify`` saves a checkpoint and the next one checks only the new events and says so; an
event changed before the checkpoint (same length, so only the bytes' digest tells) or after it
is still reported; a damaged checkpoint, one from other code, or a log cut before it means a
full check and a note; ``full=True`` / ``--full`` ignore it; the replayed state at the
checkpoint gives the same findings as a full replay.
"""

from __future__ import annotations

import json
import random
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import mcp_orch as mo
from mcp_orch.core.clock import iso, now_utc
from mcp_orch.operations import releases
from mcp_orch.services.release import audit as audit_mod
from mcp_orch.services.release import audit_index
from mcp_orch.services.release.audit import GENESIS, AuditLog, _event_hash

CLIENTS = ["cursor", "vscode", "claude-code", "zed", "cursor-nightly"]
PROFILES = ["default", "work", "work2"]
ACTIONS = ["publish", "deploy", "revert", "restore", "key", "sync"]


def _write_log(log: AuditLog, events: list[dict[str, Any]]) -> None:
    """Chain ``events`` (seq, prev, hash) and write them the way ``append`` does."""
    prev, lines = GENESIS, []
    for seq, event in enumerate(events, 1):
        event.update(seq=seq, prev=prev)
        event["hash"] = prev = _event_hash(event)
        lines.append(json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n")
    data = "".join(lines).encode()
    log.root.mkdir(parents=True, exist_ok=True)
    log.path.write_bytes(data)
    log.head_path.write_text(json.dumps({"seq": len(events), "hash": prev, "size": len(data)}))


def _random_events(n: int, rng: random.Random) -> list[dict[str, Any]]:
    start = now_utc() - timedelta(days=30)
    out = []
    for i in range(n):
        client = rng.choice([*CLIENTS, ""])
        details: dict[str, Any] = {"n": i}
        if i % 7 == 0:  # decoys: a filter's bytes inside another field
            details["note"] = f'"client":"{rng.choice(CLIENTS)}","action":"key"'
        if i == n // 2:  # one line longer than the largest read window
            details["blob"] = "x" * (audit_mod._WINDOW + 1000)
        out.append(
            {
                "event_id": f"{i:032x}",
                "time": iso(start + timedelta(seconds=i * 30 * 86400 / n)),
                "action": rng.choice(ACTIONS),
                "client": client,
                "profile": rng.choice(PROFILES) if client else "",
                "artifact_id": (None if i % 5 == 0 else "sha256:" + f"{rng.getrandbits(256):064x}"),
                "changelog": rng.choice(["", "ünïcode ✓", 'quote " and \\ slash', f"r{i}"]),
                "actor": "t@host",
                "details": details,
            }
        )
    return out


def _reference(events: list[dict[str, Any]], **f: Any) -> list[int]:
    """What ``query`` must return: every event decoded, filtered, newest first, cut."""
    from mcp_orch.core.clock import parse_since

    start = parse_since(f.get("since"))
    out = [
        e["seq"]
        for e in reversed(events)
        if all(e[k] == f[k] for k in ("client", "profile", "action") if f.get(k))
        and (not f.get("artifact") or (e["artifact_id"] or "").startswith(f["artifact"]))
        and (start is None or e["time"] >= iso(start))
    ]
    return out[: f["limit"]] if f.get("limit") else out


@pytest.fixture(scope="module")
def small_windows() -> Iterator[None]:
    """Read windows of 1 KiB growing to 16 KiB: a log of a few MB is many windows (the
    logic is the same at 8 MiB; only the test's log is smaller)."""
    with pytest.MonkeyPatch.context() as m:
        m.setattr(audit_mod, "_FIRST_WINDOW", 1024)
        m.setattr(audit_mod, "_WINDOW", 16 * 1024)
        # blocks of 32 KiB: the filtered queries go through the block index, over many blocks
        m.setattr(audit_index, "BLOCK", 32 * 1024)
        m.setattr(audit_index, "GROWTH", 32 * 1024)
        yield


@pytest.fixture(scope="module")
def big(
    tmp_path_factory: pytest.TempPathFactory, small_windows: None
) -> tuple[AuditLog, list[dict[str, Any]]]:
    log = AuditLog(tmp_path_factory.mktemp("big") / "audit")
    events = _random_events(4000, random.Random(16))
    _write_log(log, events)
    assert log.path.stat().st_size > 50 * audit_mod._WINDOW  # many windows
    assert log.path.stat().st_size > 20 * audit_index.BLOCK  # many blocks
    return log, events


def test_query_matches_a_full_scan_for_every_filter(
    big: tuple[AuditLog, list[dict[str, Any]]],
) -> None:
    log, events = big
    rng = random.Random(8785)
    some_id = next(e["artifact_id"] for e in events if e["artifact_id"])
    filters: list[dict[str, Any]] = [
        {},
        {"client": "cursor"},
        {"client": "cursor-nightly"},  # "cursor" must not match it, nor the reverse
        {"client": "nobody"},
        {"profile": "work"},
        {"action": "key"},
        {"action": "key", "client": "zed", "profile": "work2"},
        {"action": "restore", "client": "nobody"},  # each part matches, together nothing
        {"artifact": some_id},
        {"artifact": some_id[7:20].upper()},  # a prefix, any case, without sha256:
        {"artifact": "ab"},
        {"artifact": "ffffffffffff"},
        {"since": "7d"},
        {"since": "7d", "client": "vscode", "action": "deploy"},
        {"since": "2999-01-01"},
        {"since": "60d", "profile": "default"},
    ]
    for f in filters:
        for limit in (None, 1, 50, 100_000):
            want = _reference(events, **{**f, "artifact": _norm(f.get("artifact")), "limit": limit})
            got = [e["seq"] for e in log.query(**f, limit=limit)]
            assert got == want, (f, limit)
    for _ in range(40):  # random combinations
        f = {
            "client": rng.choice([None, *CLIENTS]),
            "profile": rng.choice([None, *PROFILES]),
            "action": rng.choice([None, *ACTIONS]),
            "limit": rng.choice([None, 3, 50]),
        }
        assert [e["seq"] for e in log.query(**f)] == _reference(events, **f), f


def _norm(artifact: str | None) -> str | None:
    if not artifact:
        return None
    artifact = artifact.lower()
    return artifact if artifact.startswith("sha256:") else "sha256:" + artifact


def test_query_returns_whole_events_as_written(
    big: tuple[AuditLog, list[dict[str, Any]]],
) -> None:
    log, events = big
    (longest,) = [e for e in events if "blob" in e["details"]]
    got = log.query(client=longest["client"] or None, since="60d")
    assert longest in got  # the line longer than a window, whole
    assert log.query(limit=3) == list(reversed(events))[:3]


def test_a_damaged_line_is_skipped_by_queries(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit")
    for client in ("cursor", "vscode", "cursor"):
        log.append("deploy", client=client, profile="default")
    lines = log.path.read_bytes().splitlines(keepends=True)
    log.path.write_bytes(lines[0] + b'{"client":"cursor", damaged\n' + b"\n" + b"".join(lines[1:]))
    assert [e["seq"] for e in log.query(client="cursor")] == [3, 1]
    assert [e["seq"] for e in log.query()] == [3, 2, 1]


def test_cli_audit_log_and_the_operation_agree_with_query(
    ws: mo.Workspace, mcp_orch_cmd: list[str], cli_env: dict[str, str]
) -> None:
    events = _random_events(300, random.Random(3))
    for e in events:
        e["details"].pop("blob", None)
    _write_log(ws.audit, events)
    result = releases.audit_log(ws, client="zed", action="key", limit=5)
    assert [e["seq"] for e in result.events] == _reference(
        events, client="zed", action="key", limit=5
    )
    assert result.to_dict()["count"] == len(result.events)
    args = ["--client", "zed", "--action", "key", "--limit", "5", "--json"]
    proc = subprocess.run(
        [*mcp_orch_cmd, "audit-log", "--workspace", str(ws.path), *args],
        env=cli_env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(proc.stdout) == json.loads(json.dumps(result.to_dict()))


# ---- verify: the checkpoint ----------------------------------------------------------------------


def _entry(name: str) -> dict[str, Any]:
    return {"command": "npx", "args": ["-y", f"pkg-{name}"]}


def _release(profile: mo.Profile, *names: str) -> mo.Artifact:
    profile.draft.clear()
    for name in names:
        profile.draft.add_entry(name, _entry(name))
    return profile.draft.publish(changelog="+".join(names))


@pytest.fixture
def released(ws: mo.Workspace) -> mo.Workspace:
    """Publishes, deploys, a rollback, a restore and a key rotation: every kind of state."""
    cursor = ws.profile("cursor")
    _release(cursor, "a").deploy()
    _release(cursor, "a", "b").deploy()
    cursor.rollback(deploy=True)
    cursor.restore()
    ws.keys.rotate()
    _release(ws.profile("vscode"), "v").deploy()
    return ws


def test_verify_resumes_from_its_checkpoint_and_says_so(released: mo.Workspace) -> None:
    ws = released
    first = ws.verify()
    n = first.events
    assert first.ok and first.verified_before == 0 and first.notes == []
    assert "verified earlier" not in str(first)
    assert ws.audit.checkpoint_path.exists()
    again = ws.verify()
    assert again.ok and again.verified_before == n and again.events == n
    assert f"events 1..{n} verified earlier, none since" in str(again)
    _release(ws.profile("vscode"), "v", "w").deploy()  # a publish and a deploy: two events
    later = ws.verify()
    assert later.ok and later.events == n + 2 and later.verified_before == n
    assert (
        str(later)
        .splitlines()[0]
        .endswith(
            f"{n + 2} audit events chained (events 1..{n} verified earlier, "
            f"{n + 1}..{n + 2} checked now)"
        )
    )
    assert later.to_dict()["verified_before"] == n and later.to_dict()["notes"] == []
    ws.audit.append("sync", client="cursor", profile="default")
    assert f"events 1..{n + 2} verified earlier, {n + 3} checked now" in str(ws.verify())


def _edit_same_length(path: Path, line_no: int, old: bytes, new: bytes) -> None:
    assert len(old) == len(new)
    lines = path.read_bytes().splitlines(keepends=True)
    assert old in lines[line_no - 1]
    lines[line_no - 1] = lines[line_no - 1].replace(old, new, 1)
    path.write_bytes(b"".join(lines))


def test_an_event_changed_before_the_checkpoint_is_still_reported(
    released: mo.Workspace,
) -> None:
    ws = released
    assert ws.verify().ok
    # the same number of bytes: the head's size still matches, only the bytes' digest tells
    _edit_same_length(ws.audit.path, 2, b'"changelog":"a"', b'"changelog":"z"')
    report = ws.verify()
    assert not report.ok and report.verified_before == 0
    assert "audit: audit event 2 was edited (its hash does not match)" in report.problems
    assert report.notes == [
        "since the last verify, the audit log's bytes before the checkpoint changed: every "
        "event was checked"
    ]
    assert "note: since the last verify" in str(report)
    assert not ws.verify().ok  # a failed verify saves no checkpoint: still reported


def test_an_event_changed_after_the_checkpoint_is_reported(released: mo.Workspace) -> None:
    ws = released
    n = ws.verify().events
    ws.audit.append("sync", client="cursor", profile="default", changelog="one")
    ws.audit.append("sync", client="cursor", profile="default", changelog="two")
    _edit_same_length(ws.audit.path, n + 1, b'"changelog":"one"', b'"changelog":"eno"')
    report = ws.verify()
    assert not report.ok
    assert report.problems == [f"audit: audit event {n + 1} was edited (its hash does not match)"]
    assert report.notes == []  # the checkpoint held; the new events were checked


def test_a_damaged_checkpoint_means_a_full_verify_and_a_note(released: mo.Workspace) -> None:
    ws = released
    n = ws.verify().events
    path = ws.audit.checkpoint_path
    good = path.read_bytes()
    for damaged in (b"{not json", good.replace(b'"seq":', b'"seq":1', 1), b"[]", good[:-2]):
        path.write_bytes(damaged)
        report = ws.verify()
        assert report.ok and report.events == n and report.verified_before == 0
        assert report.notes == [f"the verify checkpoint {path} is damaged: every event was checked"]
        assert ws.verify().verified_before == n  # the full verify saved a good one again


def test_a_damaged_checkpoint_never_passes_a_broken_log(released: mo.Workspace) -> None:
    ws = released
    ws.verify()
    ws.audit.checkpoint_path.write_text("{}")
    _edit_same_length(ws.audit.path, 3, b'"action":"deploy"', b'"action":"revert"')
    report = ws.verify()
    assert not report.ok
    assert "audit: audit event 3 was edited (its hash does not match)" in report.problems


def test_a_log_cut_before_the_checkpoint_is_checked_whole(released: mo.Workspace) -> None:
    ws = released
    n = ws.verify().events
    lines = ws.audit.path.read_bytes().splitlines(keepends=True)[:2]
    ws.audit.path.write_bytes(b"".join(lines))  # a shorter log, with a head that agrees
    last = json.loads(lines[-1])
    ws.audit.head_path.write_text(
        json.dumps({"seq": 2, "hash": last["hash"], "size": len(b"".join(lines))})
    )
    report = ws.verify()
    assert report.events == 2 and report.verified_before == 0
    assert report.notes == [
        "since the last verify, the audit head records fewer events than the checkpoint: every "
        "event was checked"
    ]
    assert not report.ok  # and the store holds artifacts the shorter log never published
    assert n > 2


def test_a_checkpoint_of_other_code_is_not_resumed_from(released: mo.Workspace) -> None:
    ws = released
    ws.verify()
    point, state = ws.audit.read_checkpoint() or (None, None)
    assert point is not None
    ws.audit.write_checkpoint(point, {**state, "code": "0" * 64})  # a valid file, other code
    report = ws.verify()
    assert report.ok and report.verified_before == 0
    assert report.notes == [
        f"the verify checkpoint {ws.audit.checkpoint_path} was saved by another version: every "
        "event was checked"
    ]


def test_full_verify_ignores_the_checkpoint(
    released: mo.Workspace, mcp_orch_cmd: list[str], cli_env: dict[str, str]
) -> None:
    ws = released
    ws.verify()
    point, state = ws.audit.read_checkpoint() or (None, None)
    assert point is not None
    # a checkpoint whose replayed state says cursor's latest is nothing (forged, well formed)
    refs = state["fields"]["refs"]["d"]
    for pair in refs:
        if pair[0] == {"t": ["cursor", "default", "latest"]}:
            pair[1] = None
    ws.audit.write_checkpoint(point, state)
    resumed = ws.verify()
    assert resumed.verified_before == point.seq  # it was trusted: its bytes are unchanged
    assert any("cursor/default: ref latest points to" in p for p in resumed.problems)
    full = ws.verify(full=True)
    assert full.ok and full.verified_before == 0 and full.notes == []
    assert releases.verify(ws, full=True).report.verified_before == 0
    assert ws.verify().verified_before == point.seq  # the full verify saved the true state
    assert ws.verify().ok
    proc = subprocess.run(
        [*mcp_orch_cmd, "verify", "--full", "--workspace", str(ws.path)],
        env=cli_env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ok: ") and "verified earlier" not in proc.stdout
    proc = subprocess.run(
        [*mcp_orch_cmd, "verify", "--workspace", str(ws.path)],
        env=cli_env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0 and "verified earlier, none since" in proc.stdout


def test_the_resumed_replay_finds_what_a_full_one_finds(released: mo.Workspace) -> None:
    ws = released
    assert ws.verify().ok
    cursor = ws.profile("cursor")
    _release(cursor, "a", "c").deploy()  # new events after the checkpoint
    # then refs and records changed by hand: latest moved back, a deployment record edited
    first, *_, last = ws.store.index("cursor", "default")
    latest = ws.store.refs / "cursor" / "default" / "latest"
    latest.write_text(latest.read_text().replace(last, first))
    record = ws.path / "deployments" / "cursor" / "default.json"
    record.write_text(record.read_text() + " ")
    resumed, full = ws.verify(), ws.verify(full=True)
    assert resumed.verified_before > 0 and full.verified_before == 0
    assert resumed.problems == full.problems and len(full.problems) >= 2


# ---- the block index (audit_index) -------------------------------------------------------------


def _ranges(log: AuditLog, **values: str) -> list[tuple[int, int]]:
    with open(log.path, "rb") as fh:
        raw = {k: audit_index.raw_value(v) for k, v in values.items() if k != "artifact"}
        size = log.path.stat().st_size
        return audit_index.BlockIndex(log.root).candidates(
            fh, size, values=raw, artifact=values.get("artifact")
        )


def test_a_filter_that_matches_nothing_reads_only_the_unindexed_tail(
    big: tuple[AuditLog, list[dict[str, Any]]],
) -> None:
    log, events = big
    assert log.query(client="nobody") == []
    assert (log.root / "blocks.json").exists() and (log.root / "blocks.bits").exists()
    size = log.path.stat().st_size
    blocks = json.loads((log.root / "blocks.json").read_text())["blocks"]
    assert len(blocks) >= 20
    [(start, end)] = _ranges(log, client="nobody")  # the tail past the last whole block
    assert (start, end) == (blocks[-1]["end"], size) and end - start < audit_index.BLOCK
    # an id's first eight digits rule out almost every block; its own block is kept
    target = events[11]["artifact_id"]
    kept = _ranges(log, artifact=target)
    assert sum(e - s for s, e in kept) < size / 4
    at = log.path.read_bytes().index(target.encode())
    assert any(s <= at < e for s, e in kept)
    assert [e["seq"] for e in log.query(artifact=target)] == [12]
    assert [e["seq"] for e in log.query(artifact=target[:12])] == _reference(
        events, artifact=target[:12]
    )


def test_values_with_quotes_and_unicode_are_found_through_the_index(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit")
    events = _random_events(1500, random.Random(3))
    odd = ['cur"sor', "zéd ✓", "back\\slash"]
    for i, e in enumerate(events):
        if i % 97 == 0:
            e["client"] = odd[i % 3]
    _write_log(log, events)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(audit_index, "BLOCK", 16 * 1024)
        m.setattr(audit_index, "GROWTH", 16 * 1024)
        for client in odd:
            want = _reference(events, client=client)
            assert want and [e["seq"] for e in log.query(client=client)] == want, client


def test_the_index_follows_a_log_that_grew_or_was_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_index, "BLOCK", 16 * 1024)
    monkeypatch.setattr(audit_index, "GROWTH", 16 * 1024)
    log = AuditLog(tmp_path / "audit")
    events = _random_events(1200, random.Random(5))
    _write_log(log, events)
    assert [e["seq"] for e in log.query(client="zed")] == _reference(events, client="zed")
    built = len(json.loads((log.root / "blocks.json").read_text())["blocks"])
    # new events appended through the log: found (the tail), then indexed as blocks fill
    for _ in range(300):
        log.append("deploy", client="zed", profile="late")
    got = log.query(client="zed", profile="late")
    assert len(got) == 300
    assert len(json.loads((log.root / "blocks.json").read_text())["blocks"]) > built
    # the log replaced by another one (a restore from a backup): the old summaries are not used
    other = _random_events(1200, random.Random(6))
    for e in other:
        e["client"] = "other-client"
    _write_log(log, other)
    assert len(log.query(client="other-client")) == 1200
    assert log.query(client="zed", profile="late") == []


def test_an_index_that_cannot_be_written_or_read_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_index, "BLOCK", 16 * 1024)
    monkeypatch.setattr(audit_index, "GROWTH", 16 * 1024)
    log = AuditLog(tmp_path / "audit")
    events = _random_events(800, random.Random(7))
    _write_log(log, events)
    (log.root / "blocks.json").write_text("{not json")
    assert [e["seq"] for e in log.query(action="key")] == _reference(events, action="key")
    (log.root / "blocks.bits").write_bytes(b"short")
    assert [e["seq"] for e in log.query(action="key")] == _reference(events, action="key")

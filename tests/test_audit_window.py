"""audit.frame(since=...) reads only the tail of a long, time-ordered log, with the same result."""

from __future__ import annotations

import json
from datetime import timedelta

import polars as pl

from mcp_orch.core.clock import iso, now_utc
from mcp_orch.services.release.audit import GENESIS, AuditLog, _event_hash


def _build(log: AuditLog, n: int, days_back: int) -> None:
    start = now_utc() - timedelta(days=days_back, hours=1)
    prev = GENESIS
    lines = []
    for i in range(1, n + 1):
        event = {
            "event_id": f"{i:032x}",
            "seq": i,
            "time": iso(start + timedelta(seconds=i * days_back * 86400 / n)),
            "action": "publish" if i % 2 else "deploy",
            "client": "cursor",
            "profile": "default",
            "artifact_id": None,
            "changelog": f"event {i}",
            "actor": "bench@host",
            "details": {},
            "prev": prev,
        }
        event["hash"] = _event_hash(event)
        prev = event["hash"]
        lines.append(json.dumps(event, separators=(",", ":")))
    log.root.mkdir(parents=True, exist_ok=True)
    data = ("\n".join(lines) + "\n").encode()
    log.path.write_bytes(data)
    log.head_path.write_text(json.dumps({"seq": n, "hash": prev, "size": len(data)}))


def test_since_window_matches_a_full_scan(tmp_path) -> None:
    log = AuditLog(tmp_path / "audit")
    _build(log, 3000, days_back=30)
    assert log._offset_of(now_utc() - timedelta(days=7)) > 0  # the fast path is taken
    window = log.frame(since="7d")
    full = log.frame().filter(pl.col("time") >= now_utc() - timedelta(days=7))
    assert 600 < window.height < 800
    assert window["seq"].to_list() == full["seq"].to_list()
    assert log.frame(since="2h").height <= 10
    assert log.frame(since="60d").height == 3000
    log.append("deploy", client="cursor")
    assert log.frame(since="1m")["action"].to_list() == ["deploy"]
    assert log.verify() == 3001

"""Scale part ``audit``: ``audit-log`` and ``get_audit_log`` over the big log, and ``verify``.

Rows: ``mcp-orch audit-log`` (newest 50) as a whole process, its time and peak RSS, against the
in-process ``audit.frame(since="7d")`` (the issue's reference), run in turn; the same command
with filters (a client, an action the log never holds, an artifact prefix of an event near the
start, a client that matches nothing, a combination that matches nothing, ``--since 7d``, and
``--since 7d`` with a filter matching nothing); the MCP tool ``get_audit_log`` in process
(``mcp.Client(server)``), newest 50 and matching nothing; and ``verify`` after one new event
(resuming from the checkpoint the verify before saved) against ``verify --full``, on a log of
the same size whose events name no artifact (so the verify passes; checked before timing).

The CLI runs with bytecode caching on (``PYTHONPYCACHEPREFIX`` in the benchmark's temporary
folder, warmed once), as an installed mcp-orch has: a checkout run with
``PYTHONDONTWRITEBYTECODE=1`` would time compiling mcp-orch's sources on every start.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from pathlib import Path

import _scale

GOAL_S, GOAL_RSS = 0.3, 100e6


def _env(ctx: _scale.Context) -> dict[str, str]:
    return {"PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": str(ctx.tmp / "pycache")}


def _run(ctx: _scale.Context, *args: str) -> tuple[float, int, str]:
    """(wall seconds, peak RSS bytes, stdout) of ``mcp-orch ARGS`` as a process of its own
    (``verify`` may exit 1: it found problems)."""
    ok = (0, 1) if args[0] == "verify" else (0,)
    return _scale.peak_rss(_scale.cli(*args), _env(ctx), ok)


def _process_rows(ctx: _scale.Context, ws: Path, runs: int) -> list[_scale.Row]:
    import mcp_orch as mo
    from mcp_orch.services.release.audit import AuditLog

    log = AuditLog(ws / "audit")
    with open(log.path, "rb") as fh:  # an event near the start: a prefix found only at the end
        for _ in range(10):
            early = json.loads(fh.readline())
    prefix = early["artifact_id"][7:19]
    cases: list[tuple[str, list[str]]] = [
        ("newest 50", []),
        ("--client cursor", ["--client", "cursor"]),
        ("--action key (none in the log)", ["--action", "key"]),
        (f"--artifact-id {prefix} (event 10)", ["--artifact-id", prefix]),
        ("--client nosuch (matches nothing)", ["--client", "nosuch"]),
        ("--client cursor --action key (nothing)", ["--client", "cursor", "--action", "key"]),
        ("--since 7d", ["--since", "7d"]),
        ("--since 7d --client nosuch", ["--since", "7d", "--client", "nosuch"]),
    ]
    _run(ctx, "audit-log", "--workspace", str(ws), "--limit", "1")  # warm the bytecode cache
    # the first filtered query over a log without a block index builds it (once): its own row
    for name in ("blocks.json", "blocks.bits"):
        (ws / "audit" / name).unlink(missing_ok=True)
    build_wall, build_rss, _ = _run(ctx, "audit-log", "--workspace", str(ws), "--client", "nosuch")
    empty = ctx.tmp / "ws-audit-empty"
    mo.Workspace(empty, client_root=ctx.tmp / "root-audit-empty")
    wsobj = mo.Workspace(ws)
    start_times: list[float] = []
    got: dict[str, list[tuple[float, int]]] = {name: [] for name, _ in cases}
    shown: dict[str, int] = {}
    frame_times: list[float] = []
    for _ in range(runs):  # in turn: the reference, then every case, per round
        t = time.perf_counter()
        wsobj.audit.frame(since="7d")
        frame_times.append(time.perf_counter() - t)
        start_times.append(_run(ctx, "audit-log", "--workspace", str(empty), "--json")[0])
        for name, args in cases:
            wall, rss, out = _run(ctx, "audit-log", "--workspace", str(ws), "--json", *args)
            got[name].append((wall, rss))
            shown[name] = json.loads(out)["count"]
    ref, start = _scale.median(frame_times), _scale.median(start_times)
    rows = [
        _scale.Row(
            "mcp-orch audit-log --client nosuch, first filtered query (builds the block index)",
            f"{build_wall:.2f} s, {_scale.mb(build_rss)} peak",
            "once per log; later filtered queries read the index (rows below)",
        )
    ]
    for name, args in cases:
        wall = _scale.median([w for w, _ in got[name]])
        rss = max(r for _, r in got[name])
        rows.append(
            _scale.Row(
                f"mcp-orch audit-log {name}" if args else "mcp-orch audit-log (newest 50)",
                f"{_scale.ms(wall)}, {_scale.mb(rss)} peak ({shown[name]} events)",
                f"frame(since=7d) {_scale.ms(ref)}; CLI on an empty log {_scale.ms(start)}",
                "<= 0.3 s (the ref) and <= 100 MB",
                wall <= max(GOAL_S, ref) and rss <= GOAL_RSS,
                [f"{_scale.ratio(wall, ref)} the reference run in turn with it"]
                if wall > GOAL_S
                else [],
            )
        )
    return rows


def _mcp_rows(ws: Path, runs: int) -> list[_scale.Row]:
    from mcp import Client

    import mcp_orch as mo
    from mcp_orch.frontends.mcp_server import build_server

    wsobj = mo.Workspace(ws)
    cases = [("newest 50", {}), ("client_id nosuch (nothing)", {"client_id": "nosuch"})]

    async def measure() -> dict[str, tuple[list[float], int]]:
        out: dict[str, tuple[list[float], int]] = {}
        async with Client(build_server(wsobj)) as client:
            await client.call_tool("get_audit_log", {"limit": 1})  # the first call's imports
            for name, args in cases:
                times, count = [], 0
                for _ in range(runs):
                    t = time.perf_counter()
                    result = await client.call_tool("get_audit_log", args)
                    times.append(time.perf_counter() - t)
                    assert not result.is_error, result.content
                    count = (result.structured_content or {}).get("count", -1)
                out[name] = (times, count)
        return out

    t = time.perf_counter()
    wsobj.audit.frame(since="7d")
    ref = time.perf_counter() - t
    got = asyncio.run(measure())
    return [
        _scale.Row(
            f"MCP get_audit_log {name} (in process)",
            f"{_scale.ms(_scale.median(times))} ({count} events)",
            f"frame(since=7d) {_scale.ms(ref)}",
            "<= 0.3 s (the ref)",
            _scale.median(times) <= max(GOAL_S, ref),
        )
        for name, (times, count) in got.items()
    ]


def _verify_rows(ctx: _scale.Context, runs: int) -> list[_scale.Row]:
    import mcp_orch as mo

    path = ctx.tmp / "ws-audit-verify"
    mo.Workspace(path, client_root=ctx.tmp / "root-audit-verify")
    took = _scale.build_log(path / "audit", ctx.events, catalog_only=True)
    print(f"   built {ctx.events:,} catalog-only events for verify in {took:.0f} s", flush=True)
    full_wall, full_rss, out = _run(ctx, "verify", "--full", "--workspace", str(path), "--json")
    report = json.loads(out)
    if not report["ok"] or report["events"] != ctx.events:
        raise RuntimeError(f"verify of the generated log does not pass: {report}")
    ws = mo.Workspace(path)
    empty = ctx.tmp / "ws-audit-verify-empty"
    mo.Workspace(empty, client_root=ctx.tmp / "root-audit-verify-empty")
    times, rss, last, starts, hashes = [], 0, {}, [], []
    for _ in range(runs):
        ws.audit.append("catalog-sync", details={"bench": True})  # one new event, untimed
        wall, peak, out = _run(ctx, "verify", "--workspace", str(path), "--json")
        last = json.loads(out)
        if not last["ok"] or last["verified_before"] != last["events"] - 1:
            raise RuntimeError(f"verify did not resume from its checkpoint: {last}")
        times.append(wall)
        rss = max(rss, peak)
        starts.append(_run(ctx, "verify", "--workspace", str(empty), "--json")[0])
        t = time.perf_counter()
        with open(path / "audit" / "events.jsonl", "rb") as fh:
            hashlib.file_digest(fh, "sha256")
        hashes.append(time.perf_counter() - t)
    wall = _scale.median(times)
    return [
        _scale.Row(
            "mcp-orch verify after 1 new event (incremental)",
            f"{_scale.ms(wall)}, {_scale.mb(rss)} peak ({last['events']:,} events chained)",
            f"verify --full {full_wall:.2f} s, {_scale.mb(full_rss)}; floor: sha256 of the log "
            f"{_scale.ms(_scale.median(hashes))} + verify of an empty workspace "
            f"{_scale.ms(_scale.median(starts))}",
            "<= 1 s",
            wall <= 1.0,
        )
    ]


def rows(ctx: _scale.Context) -> list[_scale.Row]:
    runs = 3 if ctx.quick else 5
    ws = ctx.log_workspace()
    out = _process_rows(ctx, ws, runs)
    out += _mcp_rows(ws, runs)
    out += _verify_rows(ctx, runs)
    return out

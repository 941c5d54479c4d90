"""Benchmark: publish, deploy and the audit log, through the library.

Every figure is measured in this run, and variants that are compared are interleaved (one run
of each in turn) so machine noise hits them alike: compare the ratios, not absolute numbers.

1. publish: median ``Draft.publish()`` of a 20-server cursor profile whose payload changes every
   time (one server's arguments), with real ``os.fsync`` and with ``os.fsync`` patched to a no-op;
   the difference is the share of the latency that is fsync.
2. deploy (cursor, 20 servers): ``Artifact.deploy()`` into the client's file under a temporary
   client root; "fresh" = the file does not exist (20 entries written), "update" = the next
   release changes one entry of the deployed 20.
3. deploy into a big JSONC file (vscode, 20 servers): the client's ``mcp.json`` already holds
   500 servers and comments; "fresh" = the 500-server file as the user left it (restored
   before every run) gets our 20 servers, "update" = one of our 20 changes.
   Target: fresh deploy <= 50 ms median.
4. audit append: ``AuditLog.append`` at 1,000 and at 1,000,000 events (median of >= 50 appends
   each, interleaved). The big log is written directly in the format of ``mcp_orch/audit.py``
   (same fields; ``prev``/``hash`` from ``mcp_orch.services.release.audit._event_hash``; a matching
   ``audit/head.json``), spread over the last 60 days. Target: ratio big/small ~ 1.
5. ``ws.audit.frame(since="7d")`` over the big log (median of 5). Target <= 0.5 s.

When a target is missed, a cProfile of the operation (top functions by cumulative time) is
printed; ``--profile`` prints it for every operation.

    .venv/bin/python bench/bench_release.py             # 1,000,000 events (~1 min to build)
    .venv/bin/python bench/bench_release.py --quick     # 100,000 events, fewer runs
    .venv/bin/python bench/bench_release.py --only audit --events 300000

Everything lives in a temporary folder (workspaces, client roots, HOME), removed at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# Point every default location at a temporary folder before mcp_orch is imported, so nothing
# here can touch the real home even through a default.
_TMP = tempfile.TemporaryDirectory(prefix="mcp-orch-bench-release-")
TMP = Path(_TMP.name)
os.environ.update(
    HOME=str(TMP / "home"),
    MCP_ORCH_HOME=str(TMP / "default-workspace"),
    MCP_ORCH_CLIENT_ROOT=str(TMP / "default-client-root"),
    XDG_CONFIG_HOME=str(TMP / "home" / ".config"),
    XDG_DATA_HOME=str(TMP / "home" / ".local" / "share"),
)
os.environ.pop("MCP_ORCH_KEY_PASSPHRASE", None)

import mcp_orch as mo  # noqa: E402
from mcp_orch.core.clock import iso  # noqa: E402
from mcp_orch.services.release.audit import GENESIS, AuditLog, _event_hash  # noqa: E402

TARGET_DEPLOY_BIG_S = 0.050
TARGET_APPEND_RATIO = 1.5  # "about 1": the big log may cost at most this much more per append
TARGET_FRAME_S = 0.5

_REAL_FSYNC = os.fsync
Op = Callable[[], Any]


# ---- helpers -------------------------------------------------------------------------------


@contextlib.contextmanager
def fsync_disabled() -> Iterator[None]:
    """``os.fsync`` as a no-op (every fsync in mcp_orch goes through ``os.fsync``)."""
    os.fsync = lambda fd: None
    try:
        yield
    finally:
        os.fsync = _REAL_FSYNC


@contextlib.contextmanager
def fsync_counted(counter: list[int]) -> Iterator[None]:
    def counting(fd: int) -> None:
        counter[0] += 1
        _REAL_FSYNC(fd)

    os.fsync = counting
    try:
        yield
    finally:
        os.fsync = _REAL_FSYNC


def interleave(variants: dict[str, tuple[Op, Op]], runs: int) -> dict[str, list[float]]:
    """Run ``setup()`` (untimed) then ``op()`` (timed) of each variant in turn, ``runs`` times."""
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(runs):
        for name, (setup, op) in variants.items():
            setup()
            start = time.perf_counter()
            op()
            times[name].append(time.perf_counter() - start)
    return times


def load_text() -> str:
    """The 1-minute load average: above the CPU count, other work competes with the bench."""
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "n/a"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def report(title: str, times: dict[str, list[float]]) -> dict[str, float]:
    print(f"\n== {title}")
    print(f"   {'variant':44} {'median':>11} {'p10':>11} {'p90':>11}  runs")
    medians = {}
    for name, values in times.items():
        med = statistics.median(values)
        medians[name] = med
        qs = statistics.quantiles(values, n=10) if len(values) >= 2 else [values[0]] * 9
        print(f"   {name:44} {ms(med):>11} {ms(qs[0]):>11} {ms(qs[-1]):>11}  {len(values)}")
    return medians


def profile_op(label: str, setup: Op, op: Op, runs: int = 5, top: int = 15) -> None:
    """Print where ``op`` spends its time (cProfile, cumulative)."""
    prof = cProfile.Profile()
    for _ in range(runs):
        setup()
        prof.enable()
        op()
        prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out).strip_dirs().sort_stats("cumulative")
    stats.print_stats(top)
    print(f"\n-- profile of {label} ({runs} runs, top {top} by cumulative time)")
    lines = out.getvalue().splitlines()
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    for line in lines[start:]:
        if line.strip():
            print("   " + line)


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def entry(client: str, i: int, version: int = 0) -> dict[str, Any]:
    """A client-native stdio entry; its secret is an ``${env:...}`` reference, so it validates."""
    e: dict[str, Any] = {
        "command": "npx",
        "args": ["-y", f"@example/mcp-server-{i}@1.{version}.0", "--stdio"],
        "env": {"LOG_LEVEL": "info", "TOKEN": f"${{env:SERVER_{i}_TOKEN}}"},
    }
    if client == "vscode":
        e = {"type": "stdio", **e}
    return e


class Setup:
    """A workspace + client root of its own, with a 20-server draft for ``client``."""

    def __init__(self, name: str, client: str, servers: int = 20) -> None:
        base = TMP / name
        self.ws = mo.Workspace(base / "workspace", client_root=base / "client-root")
        self.client = client
        self.profile = self.ws.profile(client)
        self.draft = self.profile.draft
        for i in range(servers):
            self.draft.add_entry(f"bench-{i:02d}", entry(client, i))
        self.version = 0
        self.draft.publish(changelog="initial")  # the signing key is made here, untimed

    def bump(self) -> None:
        """Change the payload (server 0's version) so the next publish is a new artifact."""
        self.version += 1
        self.draft.add_entry("bench-00", entry(self.client, 0, self.version), replace=True)

    def publish_next(self) -> mo.Artifact:
        self.bump()
        return self.draft.publish(changelog=f"bump {self.version}")

    @property
    def target(self) -> Path:
        return self.profile.config_path()


# ---- 1. publish ----------------------------------------------------------------------------


def bench_publish(runs: int, show_profile: bool) -> None:
    real, nofsync = Setup("publish-fsync", "cursor"), Setup("publish-nofsync", "cursor")

    def publish_nofsync() -> None:
        with fsync_disabled():
            nofsync.draft.publish(changelog="bench")

    validate_only = Setup("publish-validate", "cursor")
    times = interleave(
        {
            "Draft.publish() (real fsync)": (real.bump, lambda: real.draft.publish("bench")),
            "Draft.publish() (os.fsync no-op)": (nofsync.bump, publish_nofsync),
            "  of which Draft.validate()": (validate_only.bump, validate_only.draft.validate),
        },
        runs,
    )
    med = report(f"publish: 20-server cursor profile, changing payload, {runs} runs", times)
    with_f = med["Draft.publish() (real fsync)"]
    without = med["Draft.publish() (os.fsync no-op)"]
    counter = [0]
    real.bump()
    with fsync_counted(counter):
        real.draft.publish("count fsyncs")
    print(
        f"   fsync share of publish: {ms(with_f - without)} of {ms(with_f)} "
        f"({(with_f - without) / with_f:.0%}); with/without ratio {with_f / without:.2f}x; "
        f"{counter[0]} fsync calls per publish"
    )
    if show_profile:
        profile_op("Draft.publish() (os.fsync no-op)", nofsync.bump, publish_nofsync)


# ---- 2./3. deploy --------------------------------------------------------------------------


def big_jsonc(servers: int) -> str:
    """A VS Code mcp.json the user maintains by hand: comments, inputs, ``servers`` servers
    pretty-printed the way VS Code writes them, a trailing comma, another top-level key."""
    lines = [
        "// VS Code MCP servers, kept by hand",
        "{",
        '  /* prompts for secrets */ "inputs": [',
        '    {"type": "promptString", "id": "api-key", "description": "API key", '
        '"password": true},',
        "  ],",
        '  "servers": {',
    ]
    for i in range(servers):
        if i % 50 == 0:
            lines.append(f"    // ---- group {i // 50} ----")
        body = {
            "type": "stdio",
            "command": "uvx" if i % 2 else "npx",
            "args": [f"user-server-{i}", "--port", str(9000 + i)],
            "env": {"API_KEY": "${input:api-key}", "INDEX": str(i)},
        }
        pretty = json.dumps(body, indent=2).replace("\n", "\n    ")
        # a comma after every member, the last one too: VS Code accepts trailing commas
        lines.append(f'    "user-{i:03d}": {pretty},  // server {i}')
    lines += ["  },", '  "other": {"keep": true}', "}", ""]
    return "\n".join(lines)


def bench_deploy(runs: int, show_profile: bool) -> None:
    # cursor, 20 servers
    cursor: dict[str, tuple[Op, Op]] = {}
    for fs in ("real fsync", "os.fsync no-op"):
        for mode in ("fresh", "update"):
            s = Setup(f"deploy-cursor-{mode}-{fs.split()[0]}", "cursor")
            setup, op = deploy_ops(s, mode, runs, nofsync=fs != "real fsync")
            cursor[f"cursor {mode} ({fs})"] = (setup, op)
    times = interleave(cursor, runs)
    med = report(f"deploy: cursor, 20-server profile, {runs} runs", times)
    cursor_fresh = med["cursor fresh (real fsync)"]
    for mode in ("fresh", "update"):
        a, b = med[f"cursor {mode} (real fsync)"], med[f"cursor {mode} (os.fsync no-op)"]
        print(f"   {mode}: fsync share {ms(a - b)} of {ms(a)} ({(a - b) / a:.0%})")

    # vscode, 20 servers into a 500-server JSONC file
    big: dict[str, tuple[Op, Op]] = {}
    text = big_jsonc(500)
    for fs in ("real fsync", "os.fsync no-op"):
        for mode in ("fresh", "update"):
            s = Setup(f"deploy-vscode-{mode}-{fs.split()[0]}", "vscode")
            s.target.parent.mkdir(parents=True, exist_ok=True)
            s.target.write_text(text, encoding="utf-8")
            setup, op = deploy_ops(s, mode, runs, nofsync=fs != "real fsync", original=text)
            big[f"vscode 500+20 {mode} ({fs})"] = (setup, op)
    print(f"\n   (the 500-server mcp.json is {len(text.encode()) / 1024:.0f} KiB)")
    times = interleave(big, runs)
    med = report(f"deploy: vscode, 20 servers into a 500-server JSONC file, {runs} runs", times)
    fresh = med["vscode 500+20 fresh (real fsync)"]
    for mode in ("fresh", "update"):
        a, b = (
            med[f"vscode 500+20 {mode} (real fsync)"],
            med[f"vscode 500+20 {mode} (os.fsync no-op)"],
        )
        print(f"   {mode}: fsync share {ms(a - b)} of {ms(a)} ({(a - b) / a:.0%})")
    ok = fresh <= TARGET_DEPLOY_BIG_S
    print(
        f"   target: fresh deploy into the 500-server file <= {ms(TARGET_DEPLOY_BIG_S)}: "
        f"{ms(fresh)} {verdict(ok)}"
    )
    print(
        f"   the 500-server file makes a fresh deploy {fresh / cursor_fresh:.1f}x as slow as "
        f"cursor's fresh deploy of the same 20 servers ({ms(cursor_fresh)})"
    )
    big_breakdown(text, big["vscode 500+20 fresh (os.fsync no-op)"], runs)
    if show_profile or not ok:
        setup, op = big["vscode 500+20 fresh (os.fsync no-op)"]
        profile_op("vscode fresh deploy into 500 servers (os.fsync no-op)", setup, op)
    if show_profile:
        setup, op = cursor["cursor update (os.fsync no-op)"]
        profile_op("cursor update deploy (os.fsync no-op)", setup, op)


def big_breakdown(text: str, deploy: tuple[Op, Op], runs: int) -> None:
    """Where a deploy into the 500-server file spends its time: the pieces timed alone."""
    import difflib

    from mcp_orch.domain.clients import jsonc
    from mcp_orch.domain.clients.dialects import apply_changes, read_config

    spec = mo.get_client("vscode")
    changes: dict[str, dict[str, Any] | None] = {
        f"bench-{i:02d}": entry("vscode", i) for i in range(20)
    }
    new_text = apply_changes(spec, text, changes, "mcp.json")
    pieces = interleave(
        {
            "read_config (jsonc parse, 500 servers)": (
                lambda: None,
                lambda: read_config(spec, text, "mcp.json"),
            ),
            "apply_changes (insert 20 servers)": (
                lambda: None,
                lambda: apply_changes(spec, text, changes, "mcp.json"),
            ),
            "difflib.unified_diff (old vs new text)": (
                lambda: None,
                lambda: "".join(
                    difflib.unified_diff(
                        text.splitlines(keepends=True), new_text.splitlines(keepends=True)
                    )
                ),
            ),
        },
        runs,
    )
    report("breakdown: the pieces of a deploy into the 500-server file, timed alone", pieces)
    calls = [0]
    real_parse = jsonc.parse

    def counting(*a: Any, **kw: Any) -> Any:
        calls[0] += 1
        return real_parse(*a, **kw)

    setup, op = deploy
    setup()
    jsonc.parse = counting  # type: ignore[assignment]
    try:
        op()
    finally:
        jsonc.parse = real_parse  # type: ignore[assignment]
    print(f"   one fresh deploy parses the whole file {calls[0]} times (jsonc.parse)")


def deploy_ops(
    s: Setup, mode: str, runs: int, *, nofsync: bool, original: str | None = None
) -> tuple[Op, Op]:
    """(setup, op) for one deploy variant. ``fresh``: the file as the user left it (or none);
    ``update``: the next of a series of pre-published releases (one entry changes)."""
    state: dict[str, Any] = {}
    extra = 8  # profile_op reuses the setup
    if mode == "update":
        artifacts = [s.publish_next() for _ in range(runs + extra + 1)]
        artifacts[0].deploy()  # the previous release is on disk
        series = iter(artifacts[1:])

        def setup() -> None:
            state["artifact"] = next(series)

    else:
        artifact = s.profile.latest()
        assert artifact is not None

        def setup() -> None:
            if original is None:
                s.target.unlink(missing_ok=True)
            else:
                s.target.write_text(original, encoding="utf-8")
            state["artifact"] = artifact

    def op() -> None:
        if nofsync:
            with fsync_disabled():
                dep = state["artifact"].deploy()
        else:
            dep = state["artifact"].deploy()
        assert dep.changed, "the bench expects every deploy to change the file"

    return setup, op


# ---- 4./5. audit ---------------------------------------------------------------------------


def build_log(root: Path, count: int, days: float = 60.0) -> float:
    """Write ``count`` valid, hash-chained events into ``root/events.jsonl`` (+ head.json),
    their times spread evenly over the last ``days`` days. Returns the seconds it took."""
    start = time.perf_counter()
    root.mkdir(parents=True, exist_ok=True)
    rng = random.Random(8785)
    clients = ("cursor", "claude-desktop", "vscode", "windsurf", "codex")
    actions = ("publish", "deploy", "deploy", "revert", "publish", "deploy")
    t0 = datetime.now(UTC) - timedelta(days=days)
    step = timedelta(days=days) / max(count, 1)
    prev, size = GENESIS, 0
    with open(root / "events.jsonl", "wb") as fh:
        chunk: list[bytes] = []
        for seq in range(1, count + 1):
            action = actions[seq % len(actions)]
            event: dict[str, Any] = {
                "event_id": f"{rng.getrandbits(128):032x}",
                "seq": seq,
                "time": iso(t0 + step * (seq - 1)),
                "action": action,
                "client": clients[seq % len(clients)],
                "profile": "default" if seq % 7 else "work",
                "artifact_id": f"sha256:{rng.getrandbits(256):064x}",
                "changelog": f"release {seq}",
                "actor": "bench@localhost",
                "details": {"servers": seq % 20} if action == "publish" else {"changed": True},
                "prev": prev,
            }
            event["hash"] = prev = _event_hash(event)
            line = (json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
            size += len(line)
            chunk.append(line)
            if len(chunk) >= 10_000:
                fh.write(b"".join(chunk))
                chunk.clear()
                if count >= 200_000 and seq % 100_000 == 0:
                    print(
                        f"   ... {seq:,} events ({time.perf_counter() - start:.0f} s)", flush=True
                    )
        fh.write(b"".join(chunk))
    (root / "head.json").write_text(json.dumps({"seq": count, "hash": prev, "size": size}))
    return time.perf_counter() - start


def bench_audit(events: int, appends: int, frame_runs: int, show_profile: bool) -> None:
    small_n = 1_000
    print(f"\n== audit: building logs of {small_n:,} and {events:,} events")
    small_ws = mo.Workspace(TMP / "audit-small", client_root=TMP / "audit-small-root")
    big_ws = mo.Workspace(TMP / "audit-big", client_root=TMP / "audit-big-root")
    small_s = build_log(small_ws.path / "audit", small_n)
    big_s = build_log(big_ws.path / "audit", events)
    big_bytes = (big_ws.path / "audit" / "events.jsonl").stat().st_size
    print(
        f"   built in {small_s:.2f} s and {big_s:.1f} s "
        f"({big_bytes / 2**20:.0f} MiB; {big_s / events * 1e6:.1f} us/event)"
    )
    n = small_ws.audit.verify()  # the generated format is what AuditLog itself accepts
    print(f"   AuditLog.verify() accepts the generated {n:,}-event log")

    def appender(log: AuditLog, nofsync: bool) -> Op:
        def op() -> None:
            kw: dict[str, Any] = {
                "client": "cursor",
                "profile": "default",
                "artifact_id": "sha256:" + "ab" * 32,
                "changelog": "bench append",
                "actor": "bench@localhost",
                "details": {"path": "/tmp/x/mcp.json", "changed": True},
            }
            if nofsync:
                with fsync_disabled():
                    log.append("deploy", **kw)
            else:
                log.append("deploy", **kw)

        return op

    def noop() -> None:
        return None

    small_log, big_log = small_ws.audit, big_ws.audit
    # one untimed append each: first-touch costs (lock file creation) out of the figures
    appender(small_log, False)()
    appender(big_log, False)()
    times = interleave(
        {
            f"append at {small_n:,} events (real fsync)": (noop, appender(small_log, False)),
            f"append at {events:,} events (real fsync)": (noop, appender(big_log, False)),
            f"append at {small_n:,} events (os.fsync no-op)": (noop, appender(small_log, True)),
            f"append at {events:,} events (os.fsync no-op)": (noop, appender(big_log, True)),
        },
        appends,
    )
    med = report(f"audit append: {appends} appends each, interleaved", times)
    worst = 0.0
    for fs in ("real fsync", "os.fsync no-op"):
        a = med[f"append at {small_n:,} events ({fs})"]
        b = med[f"append at {events:,} events ({fs})"]
        worst = max(worst, b / a)
        print(f"   ratio {events:,} / {small_n:,} events ({fs}): {b / a:.2f}")
    ok = worst <= TARGET_APPEND_RATIO
    print(
        f"   target: ratio ~ 1 (accepting <= {TARGET_APPEND_RATIO}): worst {worst:.2f} "
        f"{verdict(ok)}"
    )
    small_log.verify()
    head = json.loads(big_log.head_path.read_text())
    expected_seq = events + 1 + 2 * appends
    assert head["seq"] == expected_seq, (head["seq"], expected_seq)
    assert head["size"] == big_log.path.stat().st_size
    print(f"   the appended logs still chain (small: verify(); big: head seq {head['seq']:,})")
    if show_profile or not ok:
        profile_op(f"append at {events:,} events (os.fsync no-op)", noop, appender(big_log, True))

    # frame(since="7d")
    small_ws.audit.frame(since="7d")  # imports polars: out of the figures
    frames = interleave(
        {
            f"frame(since='7d') over {small_n:,} events": (
                noop,
                lambda: small_ws.audit.frame(since="7d"),
            ),
            f"frame(since='7d') over {events:,} events": (
                noop,
                lambda: big_ws.audit.frame(since="7d"),
            ),
        },
        frame_runs,
    )
    med = report(f"ws.audit.frame(since='7d'), {frame_runs} runs", frames)
    rows = big_ws.audit.frame(since="7d").height
    big_frame = med[f"frame(since='7d') over {events:,} events"]
    ok = big_frame <= TARGET_FRAME_S
    print(f"   {rows:,} rows of {events + 1 + 2 * appends:,} events are within 7 days")
    print(
        f"   target: <= {TARGET_FRAME_S:.1f} s over {events:,} events: "
        f"{big_frame:.3f} s {verdict(ok)}"
    )
    if show_profile or not ok:
        frame_breakdown(big_ws, frame_runs)
    if show_profile:
        profile_op(
            f"frame(since='7d') over {events:,} events",
            noop,
            lambda: big_ws.audit.frame(since="7d"),
            runs=2,
        )


def frame_breakdown(ws: mo.Workspace, runs: int) -> None:
    """Where frame(since=...) spends its time. polars works in Rust, so cProfile only sees
    ``collect``: compare with reading the file, with no filter, and with parsing only the
    window's bytes (an experiment done here, not what the library does)."""
    import polars as pl

    from mcp_orch.core.clock import parse_since
    from mcp_orch.services.release.audit import _COLUMNS, _NDJSON_SCHEMA

    path = ws.audit.path

    def tail_bytes(since: str) -> bytes:
        start = parse_since(since)
        assert start is not None
        first = iso(start)  # ISO strings in one format sort like the times they stand for
        lo, hi = 0, path.stat().st_size
        with open(path, "rb") as fh:
            while hi - lo > 65536:  # bisect on byte offsets; lines are in time order
                mid = (lo + hi) // 2
                fh.seek(mid)
                fh.readline()
                line = fh.readline()
                if line and json.loads(line)["time"] < first:
                    lo = mid
                else:
                    hi = mid
            fh.seek(lo)
            if lo:
                fh.readline()
            return fh.read()

    def window_only() -> int:
        start = parse_since("7d")
        df = (
            pl.read_ndjson(io.BytesIO(tail_bytes("7d")), schema=_NDJSON_SCHEMA())
            .lazy()
            .with_columns(pl.col("time").str.to_datetime("%Y-%m-%dT%H:%M:%S%.fZ", time_zone="UTC"))
            .filter(pl.col("time") >= start)
            .select(_COLUMNS)
            .sort("seq", descending=True)
            .collect()
        )
        return df.height

    assert window_only() == ws.audit.frame(since="7d").height
    times = interleave(
        {
            "frame(since='7d') (the library)": (lambda: None, lambda: ws.audit.frame(since="7d")),
            "frame() (no filter)": (lambda: None, ws.audit.frame),
            "read the whole log (bytes)": (lambda: None, path.read_bytes),
            "experiment: bisect + polars on the 7d tail": (lambda: None, window_only),
        },
        runs,
    )
    report(
        f"breakdown of frame(since='7d') ({path.stat().st_size / 2**20:.0f} MiB log), {runs} runs",
        times,
    )
    print(
        "   frame(since=...) parses the whole file and filters afterwards; the log is in time "
        "order, so seeking to the window first (bisect, or an offset index) bounds the work by "
        "the window, not by the log"
    )


# ---- main ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="100,000 events and fewer runs")
    ap.add_argument("--events", type=int, help="size of the big audit log (default 1,000,000)")
    ap.add_argument(
        "--only", choices=("publish", "deploy", "audit"), action="append", help="run only these"
    )
    ap.add_argument("--profile", action="store_true", help="print a cProfile of each operation")
    args = ap.parse_args(argv)
    events = args.events or (100_000 if args.quick else 1_000_000)
    publish_runs, deploy_runs = (10, 7) if args.quick else (50, 30)
    appends, frame_runs = 50, 5
    only = set(args.only or ("publish", "deploy", "audit"))

    print(f"mcp-orch release benchmarks ({'quick' if args.quick else 'full'}), temp dir {TMP}")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load_text()}")
    started = time.perf_counter()
    try:
        if "publish" in only:
            bench_publish(publish_runs, args.profile)
        if "deploy" in only:
            bench_deploy(deploy_runs, args.profile)
        if "audit" in only:
            bench_audit(events, appends, frame_runs, args.profile)
    finally:
        os.fsync = _REAL_FSYNC
        _TMP.cleanup()
    print(f"\ndone in {time.perf_counter() - started:.0f} s; load average now {load_text()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

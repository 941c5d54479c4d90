"""Shared pieces of the scale benchmark (``bench/scale.py``): the sandbox, the result rows,
timing helpers, and the generators of the big inputs (a 1,000,000-event audit log, a
~3,000-server catalog).

Import this module before ``mcp_orch``: it points every default location (HOME, the default
workspace and client root, XDG folders) at a temporary folder, so nothing a part of the
benchmark does can reach the real home, even through a default.
"""

from __future__ import annotations

import contextlib
import copy
import gzip
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "mcp-registry" / "servers.json.gz"

_TMP = tempfile.TemporaryDirectory(prefix="mcp-orch-bench-scale-")
TMP = Path(_TMP.name)
os.environ.update(
    HOME=str(TMP / "home"),
    MCP_ORCH_HOME=str(TMP / "default-workspace"),
    MCP_ORCH_CLIENT_ROOT=str(TMP / "default-client-root"),
    XDG_CONFIG_HOME=str(TMP / "home" / ".config"),
    XDG_DATA_HOME=str(TMP / "home" / ".local" / "share"),
    MCP_ORCH_OFFLINE="1",
)
os.environ.pop("MCP_ORCH_KEY_PASSPHRASE", None)
(TMP / "home").mkdir()

Op = Callable[[], Any]
_REAL_FSYNC = os.fsync


# ---- results -------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the final table: a figure, what it measured, its floor or reference (same
    run), the goal, and whether the goal is met (None: a figure without a goal)."""

    figure: str
    value: str
    floor: str = "-"
    goal: str = "-"
    met: bool | None = None
    notes: list[str] = field(default_factory=list)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def mb(nbytes: float) -> str:
    return f"{nbytes / 1e6:.0f} MB"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "-"


# ---- timing --------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def interleave(variants: dict[str, tuple[Op, Op]], runs: int) -> dict[str, list[float]]:
    """Run ``setup()`` (untimed) then ``op()`` (timed) of each variant in turn, ``runs``
    times: a busy machine slows every variant alike, so their ratio holds."""
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(runs):
        for name, (setup, op) in variants.items():
            setup()
            start = time.perf_counter()
            op()
            times[name].append(time.perf_counter() - start)
    return times


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
    """Count fsync calls in ``counter[0]``; with a second slot, those made by other threads
    (the journal's fsyncs done together) in ``counter[1]``."""
    import threading

    def counting(fd: int) -> None:
        counter[0] += 1
        if len(counter) > 1 and threading.current_thread() is not threading.main_thread():
            counter[1] += 1
        _REAL_FSYNC(fd)

    os.fsync = counting
    try:
        yield
    finally:
        os.fsync = _REAL_FSYNC


#: Runs its arguments and reports their wall time, peak RSS and exit status on its last stderr
#: line. Commands start from this small process, not from the benchmark: Linux keeps a
#: process's peak RSS across exec, so a command forked straight from the benchmark (hundreds of
#: MB by then) would report the benchmark's peak as its own.
_TRAMPOLINE = """
import json, os, subprocess, sys, time
t = time.perf_counter()
p = subprocess.Popen(sys.argv[1:])
_, status, usage = os.wait4(p.pid, 0)
wall = time.perf_counter() - t
sys.stderr.write("\\n" + json.dumps([wall, usage.ru_maxrss * 1024, os.waitstatus_to_exitcode(status)]))
"""


def peak_rss(
    argv: list[str], env: dict[str, str] | None = None, ok: tuple[int, ...] = (0,)
) -> tuple[float, int, str]:
    """Run a command and return (wall seconds, its peak RSS in bytes, stdout): both measured
    by a small launcher process around that one command (``os.wait4``), so neither the
    launcher's start-up nor this process's size is in them."""
    proc = subprocess.run(
        [sys.executable, "-c", _TRAMPOLINE, *argv],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
    )
    *errors, last = proc.stderr.split("\n")
    wall, rss, code = json.loads(last)
    if code not in ok:
        raise RuntimeError(f"{argv} failed ({code}): {errors[-20:]}")
    return wall, rss, proc.stdout


def cli(*args: str) -> list[str]:
    """``python -m mcp_orch ARGS`` with this interpreter."""
    return [sys.executable, "-m", "mcp_orch", *args]


def load_text() -> str:
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "n/a"


# ---- generators ----------------------------------------------------------------------------

CLIENTS = ("cursor", "claude-desktop", "vscode", "windsurf", "codex")
ACTIONS = ("publish", "deploy", "deploy", "revert", "publish", "deploy")


def _fast_hash(event: dict[str, Any]) -> str:
    """The event hash of ``audit._event_hash`` for events of ASCII strings, ints and None
    (sorted keys, no spaces: RFC 8785 for those values), ~20x faster than the general
    canonicaliser. ``build_log`` checks it against the real one."""
    import hashlib

    body = {k: v for k, v in event.items() if k != "hash"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def build_log(root: Path, count: int, days: float = 60.0, *, catalog_only: bool = False) -> float:
    """Write ``count`` valid, hash-chained events into ``root/events.jsonl`` (+ head.json) in
    the format of ``mcp_orch/services/release/audit.py``, their times spread evenly over the
    last ``days`` days. With ``catalog_only`` every event is a ``catalog-sync`` (events that
    name no artifact, so ``verify`` over them checks the chain and nothing else fails).
    Returns the seconds it took."""
    from mcp_orch.core.clock import iso
    from mcp_orch.services.release.audit import GENESIS, _event_hash

    start = time.perf_counter()
    root.mkdir(parents=True, exist_ok=True)
    rng = random.Random(8785)
    t0 = datetime.now(UTC) - timedelta(days=days)
    step = timedelta(days=days) / max(count, 1)
    prev, size = GENESIS, 0
    with open(root / "events.jsonl", "wb") as fh:
        chunk: list[bytes] = []
        for seq in range(1, count + 1):
            action = "catalog-sync" if catalog_only else ACTIONS[seq % len(ACTIONS)]
            event: dict[str, Any] = {
                "event_id": f"{rng.getrandbits(128):032x}",
                "seq": seq,
                "time": iso(t0 + step * (seq - 1)),
                "action": action,
                "client": "" if catalog_only else CLIENTS[seq % len(CLIENTS)],
                "profile": "" if catalog_only else ("default" if seq % 7 else "work"),
                "artifact_id": None if catalog_only else f"sha256:{rng.getrandbits(256):064x}",
                "changelog": f"release {seq}",
                "actor": "bench@localhost",
                "details": {"servers": seq % 20} if action == "publish" else {"changed": True},
                "prev": prev,
            }
            event["hash"] = prev = _fast_hash(event)
            if seq <= 1000 and event["hash"] != _event_hash(event):
                raise RuntimeError("the fast event hash differs from audit._event_hash")
            line = (json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
            size += len(line)
            chunk.append(line)
            if len(chunk) >= 20_000:
                fh.write(b"".join(chunk))
                chunk.clear()
        fh.write(b"".join(chunk))
    (root / "head.json").write_text(json.dumps({"seq": count, "hash": prev, "size": size}))
    return time.perf_counter() - start


def catalog_records(total: int) -> list[dict[str, Any]]:
    """The public data set's records (tests/data/mcp-registry, as the official registry's API
    returns them), then renamed copies of its valid ones until ``total`` names."""
    from mcp_orch.core.errors import MCPOrchError
    from mcp_orch.domain.catalog import validate_doc

    everything = json.loads(gzip.decompress(DATA.read_bytes()).decode("utf-8-sig"))
    out = list(everything)
    base = []
    for record in everything:  # copies of valid records only, so the total is reached
        try:
            validate_doc(record["server"], "record")
        except MCPOrchError:
            continue
        base.append(record)
    names = {r["server"]["name"] for r in base}
    n = 0
    while len(names) < total:
        n += 1
        for record in base:
            if len(names) >= total:
                break
            copy_ = copy.deepcopy(record)
            namespace, _, tail = copy_["server"]["name"].partition("/")
            copy_["server"]["name"] = f"io.github.scale-{n}.{namespace.split('.')[-1]}/{tail}"
            if copy_["server"]["name"] not in names:
                names.add(copy_["server"]["name"])
                out.append(copy_)
    return out


class Context:
    """What the parts share: the temporary folder, the run size, and the big inputs, each
    built once on first use."""

    def __init__(self, *, quick: bool, events: int, servers: int) -> None:
        self.tmp = TMP
        self.quick = quick
        self.events = events
        self.servers = servers
        self._log_ws: Path | None = None
        self._catalog_ws: Path | None = None

    def log_workspace(self) -> Path:
        """A workspace whose audit log holds ``events`` events over 60 days."""
        if self._log_ws is None:
            import mcp_orch as mo

            path = self.tmp / "ws-audit-big"
            mo.Workspace(path, client_root=self.tmp / "root-audit-big")
            took = build_log(path / "audit", self.events)
            size = (path / "audit" / "events.jsonl").stat().st_size
            print(f"   built {self.events:,} audit events ({size / 2**20:.0f} MiB) in {took:.0f} s")
            self._log_ws = path
        return self._log_ws

    def catalog_workspace(self) -> Path:
        """A workspace whose catalog holds ~``servers`` servers (the public data set plus
        renamed copies), imported the way a user imports them."""
        if self._catalog_ws is None:
            import mcp_orch as mo

            path = self.tmp / "ws-catalog-big"
            ws = mo.Workspace(path, client_root=self.tmp / "root-catalog-big")
            t = time.perf_counter()
            view = ws.registry().import_server_json(catalog_records(self.servers))
            print(
                f"   imported a {self.servers:,}-server catalog ({view.counts}) in "
                f"{time.perf_counter() - t:.1f} s"
            )
            self._catalog_ws = path
        return self._catalog_ws

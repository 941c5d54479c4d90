"""Benchmark: what the launcher (``mcp-orch exec``) adds to a server's start.

For each server it times, from spawn to the ``initialize`` response on stdout, the server started
directly and started through the installed ``mcp-orch exec --`` entry point, as a deployed
entry starts it. Runs are interleaved (direct, launcher, direct, ...) so machine noise hits both
alike; it prints the medians and the difference. The target: at most 50 ms added.

Launcher cases:

* ``store``  the secret comes from the secret store (the encrypted file backend: index read,
             key file, AES-GCM): what a launched entry costs on a machine without an OS keyring.
* ``env``    the reference is resolved from the launcher's environment (no store value).
* ``none``   no reference at all: the launcher's floor (interpreter start, exec).

Servers: ``tiny`` (tests/servers/tiny_stdio.py: almost no start-up of its own) and ``time``
(``python -m mcp_server_time``, a real server from PyPI).

    .venv/bin/python bench/launcher.py                 # both servers, 25 runs each
    .venv/bin/python bench/launcher.py --runs 41 --server tiny
    .venv/bin/python bench/launcher.py --strict        # exit 1 when the store case adds > 50 ms

Everything runs in a temporary HOME and secret folder; nothing touches the real home.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mcp_orch.services.secrets.store import SecretStore, launcher_path  # noqa: E402

TARGET_MS = 50.0
INIT = (
    json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "bench", "version": "0"},
            },
        }
    )
    + "\n"
)
SERVERS = {
    "tiny": [sys.executable, str(ROOT / "tests" / "servers" / "tiny_stdio.py")],
    "time": [sys.executable, "-m", "mcp_server_time"],
}


def first_response(argv: list[str], env: dict[str, str]) -> float:
    """Seconds from spawn to the first line on stdout (the ``initialize`` response)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(INIT)
    proc.stdin.flush()
    line = proc.stdout.readline()
    elapsed = time.perf_counter() - start
    proc.stdin.close()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if '"result"' not in line:
        raise SystemExit(f"{argv}: no initialize response ({line!r})")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=25)
    parser.add_argument("--server", choices=[*SERVERS, "all"], default="all")
    parser.add_argument("--strict", action="store_true")
    opts = parser.parse_args()
    exe = launcher_path()
    worst = 0.0
    with tempfile.TemporaryDirectory(prefix="mcp-orch-bench-") as tmp:
        base = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": tmp,
            "MCP_ORCH_SECRETS_DIR": str(Path(tmp) / "secrets"),
            "MCP_ORCH_SECRET_BACKEND": "file",
            "TINY_ECHO_ENV": "API_KEY",
        }
        os.environ.update(base)
        SecretStore().set("BENCH_KEY", "bench-secret-value")
        cases = {
            "store": {"API_KEY": "${env:BENCH_KEY}"},
            "env": {"API_KEY": "${env:FROM_ENV}", "FROM_ENV": "env-value"},
            "none": {"API_KEY": "plain"},
        }
        print(f"launcher: {exe}; {opts.runs} runs each, interleaved; cpus: {os.cpu_count()}")
        print(f"{'server':8} {'case':6} {'direct ms':>10} {'launched ms':>12} {'added ms':>9}")
        for name, argv in SERVERS.items():
            if opts.server not in ("all", name):
                continue
            for case, extra in cases.items():
                direct_env = {**base, "API_KEY": "bench-secret-value"}
                launched_env = {**base, **extra}
                first_response(argv, direct_env)  # warm the file cache for both
                first_response([exe, "exec", "--", *argv], launched_env)
                direct, launched = [], []
                for _ in range(opts.runs):
                    direct.append(first_response(argv, direct_env))
                    launched.append(first_response([exe, "exec", "--", *argv], launched_env))
                d, m = statistics.median(direct) * 1000, statistics.median(launched) * 1000
                if case == "store":
                    worst = max(worst, m - d)
                print(f"{name:8} {case:6} {d:10.1f} {m:12.1f} {m - d:9.1f}")
    verdict = "within" if worst <= TARGET_MS else "OVER"
    print(f"store case adds at most {worst:.1f} ms: {verdict} the {TARGET_MS:.0f} ms target")
    return 1 if opts.strict and worst > TARGET_MS else 0


if __name__ == "__main__":
    sys.exit(main())

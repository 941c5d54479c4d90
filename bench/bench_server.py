"""Benchmark: the bundled MCP server over stdio.

Measures

* cold start: from spawning ``python -m mcp_orch serve`` (and the ``mcp-orch serve`` console
  script) to the answer of the first ``tools/list``, through ``mcp.Client`` (so the handshake
  is included), against the same for a one-tool ``MCPServer`` script (the SDK floor: what any
  server built on the SDK pays, measured like for like, spawn -> first ``tools/list``), and
  the bare imports (``python -c ...``, which also count interpreter shutdown). Target: median
  <= 1.5 s.
* call latency in one warm session: the median (and p95) round trip of
  ``list_available_servers`` and ``validate_draft`` (a draft of 3 servers). Target: median
  <= 10 ms each. The first ``validate_draft`` of a fresh server process is printed apart (not
  in the median). The benchmark's own client validates tool results with ``jsonschema``, which
  the SDK imports on the first structured result: the client pays that import before the
  timed first call, so the figure is the server's. For comparison, the same calls straight
  through ``MCPServer.call_tool`` in this process (no transport, no client-side checks).

Every run uses a temporary workspace, client root and HOME (never the real home), and byte
code cached under a temporary prefix (what an installed package has).

    .venv/bin/python bench/bench_server.py            # 7 cold starts, 200 calls each
    .venv/bin/python bench/bench_server.py --quick    # 3 cold starts, 50 calls: a smoke test
    .venv/bin/python bench/bench_server.py --strict   # exit 1 when a target is missed
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio

COLD_TARGET_S = 1.5
CALL_TARGET_S = 0.010
DEVNULL = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process


def bench_env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        HOME=str(tmp / "home"),
        MCP_ORCH_HOME=str(tmp / "workspace"),
        MCP_ORCH_CLIENT_ROOT=str(tmp / "client-root"),
        XDG_CONFIG_HOME=str(tmp / "home" / ".config"),
        XDG_DATA_HOME=str(tmp / "home" / ".local" / "share"),
        PYTHONPYCACHEPREFIX=str(tmp / "pycache"),
    )
    for name in ("MCP_ORCH_DEBUG", "PYTHONPROFILEIMPORTTIME", "PYTHONDONTWRITEBYTECODE"):
        env.pop(name, None)
    for sub in ("home", "workspace", "client-root"):
        (tmp / sub).mkdir(parents=True, exist_ok=True)
    return env


def prepare(env: dict[str, str]) -> None:
    """A draft of three servers for cursor/default (what validate_draft checks)."""
    import mcp_orch as mo

    ws = mo.Workspace(env["MCP_ORCH_HOME"], client_root=env["MCP_ORCH_CLIENT_ROOT"])
    reg = mo.Registry(workspace=ws)
    prof = ws.profile("cursor")
    reg.find("time").add_to(prof)
    reg.find("fetch").add_to(prof)
    reg.find("github").add_to(prof, env={"GITHUB_PERSONAL_ACCESS_TOKEN": "${env:GITHUB_TOKEN}"})


def stdio_transport(cmd: list[str], env: dict[str, str]) -> Any:
    """The server as a subprocess; its stderr (the start-up banner) goes to /dev/null."""
    from mcp import StdioServerParameters
    from mcp.client.stdio import stdio_client

    keep = ("HOME", "PATH", "MCP_ORCH_HOME", "MCP_ORCH_CLIENT_ROOT", "PYTHONPYCACHEPREFIX")
    params = StdioServerParameters(
        command=cmd[0], args=cmd[1:], env={k: env[k] for k in keep if k in env}, cwd=env["HOME"]
    )
    return stdio_client(params, errlog=DEVNULL)


ONE_TOOL_SERVER = """\
from mcp.server.mcpserver import MCPServer

app = MCPServer("floor")


@app.tool()
def ping() -> str:
    return "pong"


app.run()
"""


async def cold_start(cmd: list[str], env: dict[str, str], min_tools: int = 17) -> float:
    """Seconds from spawn to the first tools/list answer."""
    from mcp import Client

    start = time.perf_counter()
    async with Client(stdio_transport(cmd, env), read_timeout_seconds=120) as c:
        tools = await c.list_tools()
        elapsed = time.perf_counter() - start
    if len(tools.tools) < min_tools:
        raise SystemExit(f"unexpected tools/list answer: {[t.name for t in tools.tools]}")
    return elapsed


def run_import(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=env["HOME"], capture_output=True)
    elapsed = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(proc.stderr.decode()[-2000:])
    return elapsed


async def timed(call: Callable[[], Awaitable[Any]], n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        result = await call()
        out.append(time.perf_counter() - start)
        if getattr(result, "is_error", False):
            raise SystemExit(f"tool error: {result.content}")
    return out


CALLS: dict[str, dict[str, Any]] = {
    "list_available_servers": {},
    "validate_draft": {"client_id": "cursor"},
}


async def session_latency(cmd: list[str], env: dict[str, str], n: int) -> dict[str, Any]:
    from mcp import Client

    out: dict[str, Any] = {}
    # the client side validates structured results with jsonschema, imported by the SDK on the
    # first one: pay it here, so the timed first call below is the server's cost alone
    import jsonschema.validators  # noqa: F401

    async with Client(stdio_transport(cmd, env), read_timeout_seconds=120) as c:
        await c.list_tools()
        start = time.perf_counter()
        first = await c.call_tool("validate_draft", CALLS["validate_draft"])
        out["first validate_draft"] = time.perf_counter() - start
        if first.is_error:
            raise SystemExit(f"tool error: {first.content}")
        for name, args in CALLS.items():
            call = functools.partial(c.call_tool, name, args)
            await timed(call, 5)  # warm-up
            out[name] = await timed(call, n)
    return out


async def inprocess_latency(env: dict[str, str], n: int) -> dict[str, list[float]]:
    import mcp_orch as mo
    from mcp_orch.frontends.mcp_server import build_server

    server = build_server(
        mo.Workspace(env["MCP_ORCH_HOME"], client_root=env["MCP_ORCH_CLIENT_ROOT"])
    )
    out: dict[str, list[float]] = {}
    for name, args in CALLS.items():
        call = functools.partial(server.call_tool, name, args)
        await timed(call, 5)
        out[name] = await timed(call, n)
    return out


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.95) - 1)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="3 cold starts, 50 calls (smoke test)")
    ap.add_argument("--runs", type=int, default=None, help="cold starts per variant (default 7)")
    ap.add_argument("--calls", type=int, default=None, help="calls per tool (default 200)")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = ap.parse_args(argv)
    runs = args.runs or (3 if args.quick else 7)
    calls = args.calls or (50 if args.quick else 200)

    python = sys.executable
    script = Path(python).parent / "mcp-orch"
    servers = {"python -m mcp_orch serve": [python, "-m", "mcp_orch", "serve"]}
    if script.exists():
        servers["mcp-orch serve (console script)"] = [str(script), "serve"]

    missed = False
    with tempfile.TemporaryDirectory(prefix="mcp-orch-bench-server-") as tmpdir:
        env = bench_env(Path(tmpdir))
        prepare(env)
        floor_script = Path(tmpdir) / "one_tool_server.py"
        floor_script.write_text(ONE_TOOL_SERVER)
        sdk_server = [python, str(floor_script)]
        floors = {
            "python -c pass": [python, "-c", "pass"],
            "python -c 'import mcp.server.mcpserver'": [
                python,
                "-c",
                "import mcp.server.mcpserver",
            ],
            "import mcp_orch.frontends.mcp_server + build_server()": [
                python,
                "-c",
                "from mcp_orch.frontends.mcp_server import build_server; build_server()",
            ],
        }
        for cmd in floors.values():  # warm-up: page cache and byte code
            run_import(cmd, env)
        for cmd in servers.values():
            anyio.run(cold_start, cmd, env)
        sdk_name = "one-tool MCPServer to tools/list (SDK floor)"
        anyio.run(cold_start, sdk_server, env, 1)

        times: dict[str, list[float]] = {name: [] for name in [*floors, sdk_name, *servers]}
        for _ in range(runs):  # interleaved, so noise spreads over every variant
            for name, cmd in floors.items():
                times[name].append(run_import(cmd, env))
            times[sdk_name].append(anyio.run(cold_start, sdk_server, env, 1))
            for name, cmd in servers.items():
                times[name].append(anyio.run(cold_start, cmd, env))

        print(f"mcp-orch MCP server over stdio: {runs} cold starts each, interleaved ({python})")
        print(f"{'cold start (spawn -> first tools/list answer)':52} {'median':>11} {'min':>11}")
        for name, values in times.items():
            print(f"{name:52} {ms(statistics.median(values))} {ms(min(values))}")
        sdk = statistics.median(times[sdk_name])
        for name in servers:
            med = statistics.median(times[name])
            good = med <= COLD_TARGET_S
            missed |= not good
            print(
                f"{name}: median {med:.3f} s, {med / sdk:.2f}x the one-tool SDK server "
                f"({sdk:.3f} s); target <= {COLD_TARGET_S} s: {'met' if good else 'MISSED'}"
            )

        print()
        session = anyio.run(session_latency, servers["python -m mcp_orch serve"], env, calls)
        inproc = anyio.run(inprocess_latency, env, calls)
        print(
            f"first validate_draft of a fresh server process: "
            f"{session['first validate_draft']:.3f} s (not in the medians below)"
        )
        print(f"{'call latency, ' + str(calls) + ' calls each':44} {'median':>11} {'p95':>11}")
        for name in CALLS:
            rt = session[name]
            print(f"{name + ' over stdio':44} {ms(statistics.median(rt))} {ms(p95(rt))}")
            ip = inproc[name]
            print(
                f"{name + ' in process (call_tool)':44} {ms(statistics.median(ip))} {ms(p95(ip))}"
            )
        for name in CALLS:
            med = statistics.median(session[name])
            good = med <= CALL_TARGET_S
            missed |= not good
            print(
                f"{name}: median {med * 1000:.1f} ms over stdio; target <= "
                f"{CALL_TARGET_S * 1000:.0f} ms: {'met' if good else 'MISSED'}"
            )
    try:
        load = os.getloadavg()
        print(f"\nload average during the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    except OSError:
        pass
    return 1 if (missed and args.strict) else 0


if __name__ == "__main__":
    sys.exit(main())

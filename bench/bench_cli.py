"""Benchmark: cold start of a light CLI command (``mcp-orch list-servers``).

Measures, in one run and interleaved so machine noise hits every variant alike:

* ``python -c pass``                      the interpreter's own start-up (the floor)
* ``python -m mcp_orch list-servers``     the module entry point
* ``.venv/bin/mcp-orch list-servers``     the console script users run

Each is a fresh subprocess (a cold interpreter; the OS file cache is warm after one untimed
warm-up run), plus ``python -c "import mcp_orch.frontends.cli"`` to split import cost from command cost.
Every mcp-orch variant runs twice: ``[bytecode cached]`` (what an installed package gets: .pyc
files, kept under a temporary ``PYTHONPYCACHEPREFIX`` so nothing is written beside the sources)
and ``[as inherited]`` (the caller's environment as is; with ``PYTHONDONTWRITEBYTECODE=1`` and
stale or missing .pyc files, modules are compiled on every run). It prints the medians,
mcp-orch's cost above bare Python (difference and ratio) and checks the target:
``list-servers`` median <= 0.12 s.

Then it runs ``python -X importtime -m mcp_orch list-servers`` and checks that none of the heavy
packages (``mcp``, ``polars``, ``ipywidgets``, ``jsonschema``, ``pydantic``) is imported on that
path, and prints the 10 slowest imports (cumulative and self time).

Every run uses a temporary workspace, client root and HOME (never the real home).

    .venv/bin/python bench/bench_cli.py            # 21 runs of each variant
    .venv/bin/python bench/bench_cli.py --quick    # 5 runs: a smoke test
    .venv/bin/python bench/bench_cli.py --strict   # exit 1 when the time target is missed
    .venv/bin/python bench/bench_cli.py --against /tmp/old   # and an older checkout, same run

Exit status: 1 if a heavy package is imported on the list-servers path (or, with ``--strict``,
if the time target is missed); 0 otherwise.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

TARGET_S = 0.12
AGAINST = "python -m mcp_orch list-servers (--against checkout)"
HEAVY = ("mcp", "polars", "ipywidgets", "jsonschema", "pydantic")


@dataclass
class ImportRow:
    name: str  # full dotted module name
    self_us: int
    cumulative_us: int
    depth: int  # 0 = imported directly by the command, not by another module


def bench_env(tmp: Path) -> dict[str, str]:
    """The environment of every run: temporary workspace, client root and HOME."""
    env = dict(os.environ)
    env.update(
        HOME=str(tmp / "home"),
        MCP_ORCH_HOME=str(tmp / "workspace"),
        MCP_ORCH_CLIENT_ROOT=str(tmp / "client-root"),
        XDG_CONFIG_HOME=str(tmp / "home" / ".config"),
        XDG_DATA_HOME=str(tmp / "home" / ".local" / "share"),
    )
    env.pop("MCP_ORCH_DEBUG", None)
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    for sub in ("home", "workspace", "client-root"):
        (tmp / sub).mkdir(parents=True, exist_ok=True)
    return env


def run_once(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=tmp_cwd(env), capture_output=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(
            f"command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr.decode()[-2000:]}"
        )
    return elapsed


def tmp_cwd(env: dict[str, str]) -> str:
    # run from the temporary HOME so no project-level config of the real cwd is picked up
    return env["HOME"]


def parse_importtime(stderr: str) -> list[ImportRow]:
    """Rows of ``-X importtime`` output (``import time: self | cumulative | name``)."""
    rows = []
    for line in stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        parts = line[len("import time:") :].split("|")
        if len(parts) != 3:
            continue
        try:
            self_us, cum_us = int(parts[0]), int(parts[1])
        except ValueError:  # the header line
            continue
        raw = parts[2].rstrip()
        name = raw.lstrip()
        depth = (len(raw) - len(name) - 1) // 2
        rows.append(ImportRow(name, self_us, cum_us, max(depth, 0)))
    return rows


def heavy_imports(rows: list[ImportRow]) -> dict[str, list[str]]:
    """Heavy package -> the modules of it that were imported."""
    found: dict[str, list[str]] = {}
    for row in rows:
        top = row.name.split(".", 1)[0]
        if top in HEAVY:
            found.setdefault(top, []).append(row.name)
    return found


def importer_chain(rows: list[ImportRow], index: int) -> list[str]:
    """The modules that (transitively) imported ``rows[index]``, outermost first.

    ``-X importtime`` prints a module after its children, so the parent of a row is the next
    row below it with a smaller depth."""
    chain = []
    depth = rows[index].depth
    for row in rows[index + 1 :]:
        if row.depth < depth:
            chain.append(row.name)
            depth = row.depth
            if depth == 0:
                break
    return list(reversed(chain))


def load_text() -> str:
    """The 1-minute load average: above the CPU count, other work competes with the bench."""
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "n/a"


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def bytecode_situation(env: dict[str, str]) -> str:
    """How the inherited environment treats .pyc files of mcp_orch: with
    PYTHONDONTWRITEBYTECODE set, a module without an up-to-date .pyc is compiled on every run."""
    import importlib.util

    spec = importlib.util.find_spec("mcp_orch")  # finds the package without importing it
    if spec is None or spec.origin is None:
        return "mcp_orch is not importable"
    pkg = Path(spec.origin).parent
    sources = sorted(pkg.rglob("*.py"))
    stale = 0
    for src in sources:
        pyc = Path(importlib.util.cache_from_source(str(src)))
        if not pyc.exists() or pyc.stat().st_mtime < src.stat().st_mtime:
            stale += 1
    nowrite = bool(env.get("PYTHONDONTWRITEBYTECODE"))
    text = (
        f"PYTHONDONTWRITEBYTECODE={'1' if nowrite else 'unset'}, "
        f"{stale} of {len(sources)} mcp_orch modules without an up-to-date .pyc"
    )
    if nowrite and stale:
        text += " (compiled from source on every run: see the [as inherited] rows)"
    return text


def print_imports(rows: list[ImportRow], label: str) -> None:
    total_us = sum(r.self_us for r in rows)
    print()
    print(
        f"python -X importtime -m mcp_orch list-servers ({label}): {len(rows)} modules, "
        f"{total_us / 1000:.1f} ms of import time in total"
    )
    print("top 10 imports by cumulative time (module incl. what it imports):")
    for r in sorted(rows, key=lambda r: r.cumulative_us, reverse=True)[:10]:
        print(f"  {r.cumulative_us / 1000:7.1f} ms cum  {r.self_us / 1000:6.1f} ms self  {r.name}")
    print("top 10 imports by self time (module body only):")
    for r in sorted(rows, key=lambda r: r.self_us, reverse=True)[:10]:
        print(f"  {r.self_us / 1000:7.1f} ms self  {r.cumulative_us / 1000:6.1f} ms cum   {r.name}")
    by_top: dict[str, int] = {}
    for r in rows:
        top = r.name.split(".", 1)[0]
        by_top[top] = by_top.get(top, 0) + r.self_us
    print("import time by top-level package (sum of self times):")
    for top, us in sorted(by_top.items(), key=lambda kv: kv[1], reverse=True)[:8]:
        print(f"  {us / 1000:7.1f} ms  {top}")


def check_heavy(rows: list[ImportRow], label: str) -> bool:
    found = heavy_imports(rows)
    print()
    print(f"heavy packages on the list-servers path ({label}):")
    for pkg in HEAVY:
        print(f"  {pkg:11} {'IMPORTED' if pkg in found else 'not imported'}")
    if not found:
        print("OK: none of " + ", ".join(HEAVY) + " is imported by list-servers")
        return True
    for pkg, mods in found.items():
        first = next(i for i, r in enumerate(rows) if r.name.split(".", 1)[0] == pkg)
        chain = importer_chain(rows, first)
        cost = sum(r.self_us for r in rows if r.name.split(".", 1)[0] == pkg)
        print(
            f"  {pkg}: {len(mods)} module(s), {cost / 1000:.1f} ms self time; "
            f"first {rows[first].name} via {' -> '.join(chain) or '(top level)'}"
        )
    print("FAIL: heavy packages are imported by list-servers")
    return False


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="5 runs per variant (smoke test)")
    ap.add_argument("--runs", type=int, default=None, help="runs per variant (default 21)")
    ap.add_argument("--strict", action="store_true", help="exit 1 when the time target is missed")
    ap.add_argument(
        "--against",
        type=Path,
        help="another checkout of mcp-orch (e.g. a `git worktree` of an older commit): its "
        "`python -m mcp_orch list-servers` runs interleaved with this one's, and the ratio of "
        "the two medians is printed",
    )
    args = ap.parse_args(argv)
    runs = args.runs or (5 if args.quick else 21)

    python = sys.executable
    script = Path(python).parent / "mcp-orch"
    commands: dict[str, list[str]] = {
        "import mcp_orch.frontends.cli (no command)": [
            python,
            "-c",
            "import mcp_orch.frontends.cli",
        ],
        "python -m mcp_orch list-servers": [python, "-m", "mcp_orch", "list-servers"],
    }
    if script.exists():
        commands["mcp-orch list-servers (console script)"] = [str(script), "list-servers"]
    else:
        print(f"note: no console script at {script}; run `pip install -e .` to measure it")

    load_before = load_text()
    with tempfile.TemporaryDirectory(prefix="mcp-orch-bench-cli-") as tmpdir:
        tmp = Path(tmpdir)
        inherited = bench_env(tmp)
        # what an installed package gets: byte-compiled modules. The cache goes to a temporary
        # prefix, so nothing is written next to the sources.
        cached = dict(inherited, PYTHONPYCACHEPREFIX=str(tmp / "pycache"))
        cached.pop("PYTHONDONTWRITEBYTECODE", None)
        envs = {"bytecode cached": cached, "as inherited": inherited}
        variants: dict[str, tuple[list[str], dict[str, str]]] = {
            "python -c pass": ([python, "-c", "pass"], cached)
        }
        for env_name, env in envs.items():
            for name, cmd in commands.items():
                variants[f"{name} [{env_name}]"] = (cmd, env)
        against = AGAINST + " [bytecode cached]"
        if args.against is not None:  # the other checkout first on the path, same environment
            other = dict(cached, PYTHONPATH=str(args.against.resolve()))
            variants[against] = ([python, "-m", "mcp_orch", "list-servers"], other)
        for cmd, env in variants.values():  # warm-up: page cache, .pyc files, workspace
            run_once(cmd, env)
        times: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(runs):  # interleaved, so noise spreads over every variant
            for name, (cmd, env) in variants.items():
                times[name].append(run_once(cmd, env))

        print(f"mcp-orch CLI cold start: {runs} runs each, interleaved  ({python})")
        print(f"load average before: {load_before}, after: {load_text()}  ({os.cpu_count()} CPUs)")
        print(f"inherited environment: {bytecode_situation(inherited)}")
        print(f"{'variant':58} {'median':>11} {'min':>11} {'max':>11}")
        for name, values in times.items():
            print(
                f"{name:58} {fmt_ms(statistics.median(values))} "
                f"{fmt_ms(min(values))} {fmt_ms(max(values))}"
            )
        base = statistics.median(times["python -c pass"])
        print()
        missed = False
        for name, values in times.items():
            if "list-servers" not in name:
                continue
            med = statistics.median(values)
            ok = med <= TARGET_S
            missed |= not ok
            print(
                f"{name}: median {med * 1000:.1f} ms = bare python + {(med - base) * 1000:.1f} ms "
                f"(ratio {med / base:.1f}x); target <= {TARGET_S * 1000:.0f} ms: "
                f"{'met' if ok else 'MISSED'}"
            )
        for env_name in envs:
            imp = statistics.median(
                times[f"import mcp_orch.frontends.cli (no command) [{env_name}]"]
            )
            cmd_med = statistics.median(times[f"python -m mcp_orch list-servers [{env_name}]"])
            print(
                f"split of python -m mcp_orch list-servers [{env_name}]: interpreter "
                f"{base * 1000:.1f} ms, importing mcp_orch.frontends.cli {(imp - base) * 1000:.1f} ms, "
                f"running the command {(cmd_med - imp) * 1000:.1f} ms"
            )
        if missed:
            print("target missed: see the import tables below for where the time goes")
        if args.against is not None:
            this = statistics.median(times["python -m mcp_orch list-servers [bytecode cached]"])
            that = statistics.median(times[against])
            print(
                f"against {args.against}: this checkout {this * 1000:.1f} ms, that one "
                f"{that * 1000:.1f} ms: ratio {this / that:.2f} (below 1: this one is faster)"
            )

        # -- what list-servers imports ---------------------------------------------------
        results = {}
        for env_name, env in envs.items():
            proc = subprocess.run(
                [python, "-X", "importtime", "-m", "mcp_orch", "list-servers"],
                env=env,
                cwd=tmp_cwd(env),
                capture_output=True,
                text=True,
            )
            if proc.returncode != 0:
                print(proc.stderr[-2000:])
                return 1
            results[env_name] = parse_importtime(proc.stderr)
    ok = True
    for env_name, rows in results.items():
        print_imports(rows, env_name)
    for env_name, rows in results.items():
        ok &= check_heavy(rows, env_name)
    if not ok or (missed and args.strict):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

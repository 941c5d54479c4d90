"""Benchmark: the catalog at registry scale (issue 14): ``list-servers`` and
``list_available_servers`` with ~3,000 servers, as a ratio to the bundled ones alone.

Two workspaces are built in a temporary folder:

* **bundled**: nothing imported (the bundled servers only);
* **scale**: the real public data set (tests/data/mcp-registry, 958 valid names) imported,
  plus copies of its records under other namespaces (``io.github.scale-N.owner/name``) up to
  ``--servers`` entries (default 3,000), imported the way a user imports them.

Then, interleaved (one run of each in turn, so a busy machine slows both alike):

* ``mcp-orch list-servers`` as a fresh process (cold interpreter), median of ``--runs``;
* ``list_available_servers``' operation (``operations.catalog.list_servers``, one page of 50)
  in process: with a fresh ``Registry`` per call (what a new CLI process pays) and with one
  ``Registry`` kept (what the MCP server pays between catalog changes), p50 and p99;
* 1,000 searches (``Registry.search``) over the kept registry.

Every figure is printed next to its bundled counterpart with the ratio. Run:

    .venv/bin/python bench/catalog_scale.py            # ~1-2 min
    .venv/bin/python bench/catalog_scale.py --quick    # ~30 s
"""

from __future__ import annotations

import argparse
import copy
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "mcp-registry" / "servers.json.gz"
QUERIES = ["github", "postgres", "slack", "time", "memory", "playwright", "filesystem", "jira"]


def records(total: int) -> list[dict[str, Any]]:
    """The data set's records, then renamed copies until ``total`` names."""
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


def cli_run(ws: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "mcp_orch", "list-servers", "--workspace", str(ws)],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--servers", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    runs = 5 if args.quick else args.runs
    calls = 50 if args.quick else 200

    from mcp_orch import Registry, Workspace
    from mcp_orch.operations import catalog

    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "HOME": tmp, "MCP_ORCH_OFFLINE": "1", "PYTHONPYCACHEPREFIX": tmp}
        small, big = Path(tmp) / "bundled", Path(tmp) / "scale"
        Workspace(small)
        t = time.perf_counter()
        view = Workspace(big).registry().import_server_json(records(args.servers))
        took = time.perf_counter() - t
        size = len(Registry(path=big))
        print(f"scale workspace: {size} servers ({view.counts}) imported in {took:.1f} s")
        bundled = len(Registry(path=small))
        print(f"bundled workspace: {bundled} servers\n")

        for ws in (small, big):  # warm-up: file cache, bytecode
            cli_run(ws, env)
        cli: dict[Path, list[float]] = {small: [], big: []}
        for _ in range(runs):
            for ws in (small, big):
                cli[ws].append(cli_run(ws, env))

        fresh: dict[Path, list[float]] = {small: [], big: []}
        kept: dict[Path, list[float]] = {small: [], big: []}
        regs = {ws: Registry(path=ws) for ws in (small, big)}
        for ws in (small, big):
            catalog.list_servers(regs[ws], limit=50)
        import gc

        for _ in range(calls):
            for ws in (small, big):
                t = time.perf_counter()
                catalog.list_servers(Registry(path=ws), limit=50)
                fresh[ws].append(time.perf_counter() - t)
                t = time.perf_counter()
                catalog.list_servers(regs[ws], limit=50)
                kept[ws].append(time.perf_counter() - t)
        gc.collect()
        search: dict[Path, float] = {}
        for ws in (small, big):
            t = time.perf_counter()
            for i in range(1000):
                regs[ws].search(QUERIES[i % len(QUERIES)])
            search[ws] = (time.perf_counter() - t) / 1000

    def row(label: str, a: float, b: float, unit: str = "ms") -> None:
        print(f"{label:<52} {a * 1000:9.2f} {b * 1000:9.2f} {unit}   x{b / a:6.1f}")

    print(f"{'figure':<52} {bundled:>9} {size:>9}        ratio")
    row("mcp-orch list-servers (process, median)", *(statistics.median(cli[w]) for w in cli))
    row("list_available_servers, fresh Registry (p50)", *(pct(fresh[w], 0.5) for w in fresh))
    row("list_available_servers, fresh Registry (p99)", *(pct(fresh[w], 0.99) for w in fresh))
    row("list_available_servers, kept Registry (p50)", *(pct(kept[w], 0.5) for w in kept))
    row("list_available_servers, kept Registry (p99)", *(pct(kept[w], 0.99) for w in kept))
    row("one search (mean of 1,000)", search[small], search[big])
    return 0


if __name__ == "__main__":
    sys.exit(main())

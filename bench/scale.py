"""Benchmark: mcp-orch at scale (issue 16), every figure next to its floor, in one run.

    .venv/bin/python bench/scale.py                 # ~5-8 min: 1,000,000 events, 3,000 servers
    .venv/bin/python bench/scale.py --quick         # ~1-2 min: 100,000 events, fewer runs
    .venv/bin/python bench/scale.py --only audit    # one part (audit, catalog, files, backups)

It generates its own inputs in a temporary folder (removed at the end): an audit log of
``--events`` hash-chained events spread over 60 days, and a catalog of ``--servers`` servers
(the public data set in tests/data/mcp-registry plus renamed copies of its valid records,
imported the way a user imports them). Each part measures its figures against a floor taken in
the same run (interleaved where compared) and the table at the end says, row by row, whether
the goal is met. Exit status 1 when a goal is missed and ``--strict`` is given.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _scale  # (sets up the sandbox before mcp_orch is imported)

PARTS = ("audit", "catalog", "files", "backups")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="100,000 events, fewer runs")
    parser.add_argument("--events", type=int, default=None, help="audit events (1,000,000)")
    parser.add_argument("--servers", type=int, default=3000, help="catalog servers (3,000)")
    parser.add_argument("--only", choices=PARTS, action="append", help="run only these parts")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    args = parser.parse_args(argv)
    events = args.events or (100_000 if args.quick else 1_000_000)
    ctx = _scale.Context(quick=args.quick, events=events, servers=args.servers)
    print(
        f"mcp-orch scale benchmark: {events:,} events, {args.servers:,} servers, "
        f"{os.cpu_count()} cores, load {_scale.load_text()}, python {sys.version.split()[0]}"
    )
    rows: list[_scale.Row] = []
    started = time.perf_counter()
    for name in args.only or PARTS:
        print(f"\n== {name}", flush=True)
        t = time.perf_counter()
        part = importlib.import_module(f"scale_{name}")
        got = part.rows(ctx)
        rows += got
        print(f"   ({len(got)} figures in {time.perf_counter() - t:.0f} s)")
    print(f"\nload {_scale.load_text()}; {time.perf_counter() - started:.0f} s in all\n")
    widths = [
        max(len(r.figure) for r in rows),
        max(len(r.value) for r in rows),
        max(len(r.floor) for r in rows),
        max(len(r.goal) for r in rows),
    ]
    head = ("figure", "measured", "floor / reference", "goal")
    print("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)) + "  met")
    missed = 0
    for r in rows:
        met = "-" if r.met is None else ("yes" if r.met else "NO")
        missed += r.met is False
        cells = (r.figure, r.value, r.floor, r.goal)
        print("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + f"  {met}")
        for note in r.notes:
            print(f"    {note}")
    goals = sum(r.met is not None for r in rows)
    print(f"\n{goals - missed} of {goals} goals met")
    return 1 if (missed and args.strict) else 0


if __name__ == "__main__":
    sys.exit(main())

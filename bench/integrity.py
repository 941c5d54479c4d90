"""Integrity figures: byte flips in every kind of workspace file, crashes at every write point.

    .venv/bin/python bench/integrity.py              # both tables
    .venv/bin/python bench/integrity.py --flips 64   # at most 64 flipped positions per file

For each file of a workspace that has published, deployed, restored and trusted a key, flip one
bit at each sampled byte, run ``verify`` and count: *tried*, *detected* (verify reports a problem
or raises a typed error), *harmless* (the file still means the same: JSON whitespace) and
*missed* (none of those). Drafts are the user's unsigned working copy: a flip there is detected
when reading the draft raises a typed error, and otherwise counts as a changed draft.

Then each operation (publish, deploy, rollback, restore, sync) is crashed at each of its write
points in a forked child (``os._exit`` just before the k-th ``os.replace``/``write``/``unlink``/
``fsync``): *tried*, *detected* (the crash left a half-done change: a journal entry or a temp
file) and *repaired* (after the next command refs, client files and the audit log agree).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
os.environ.setdefault("MCP_ORCH_CLIENT_ROOT", tempfile.mkdtemp(prefix="mco-bench-root-"))

import integrity as kit

import mcp_orch as mo
from mcp_orch.core.errors import MCPOrchError


def build(base: Path) -> mo.Workspace:
    """A workspace with every kind of file: objects, refs, index, audit, records, backups,
    drafts, keys (own, retired, trusted)."""
    (base / "root").mkdir(parents=True)
    ws = mo.Workspace(base / "ws", client_root=base / "root")
    other = mo.Workspace(base / "other", client_root=base / "root")
    cursor = ws.profile("cursor")
    kit.publish(cursor, "a").deploy()
    kit.publish(cursor, "a", "b").deploy()
    cursor.rollback(deploy=True)
    cursor.restore()
    kit.publish(ws.profile("vscode"), "v")
    ws.keys.rotate()
    kit.publish(ws.profile("claude-code"), "c")
    other.keys.init()
    ws.keys.trust(other.keys.export_public())
    cursor.draft.add_entry("d", kit.entry("pkg-d"))
    assert ws.verify().ok, ws.verify()
    return ws


def _meaning(path: Path, raw: bytes) -> Any:
    """What a file means, for telling a harmless flip (same meaning) from a change."""
    try:
        if path.suffix in (".pem", ".pub"):
            from cryptography.hazmat.primitives import serialization

            load: Any = (
                serialization.load_pem_private_key
                if path.suffix == ".pem"
                else serialization.load_pem_public_key
            )
            key = load(raw, None) if path.suffix == ".pem" else load(raw)
            public = key.public_key() if path.suffix == ".pem" else key
            return (
                "key",
                public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw),
            )
        if path.name == "current":
            return ("current", raw.decode().strip())
        if path.suffix == ".jsonl":
            return [json.loads(line) for line in raw.splitlines() if line.strip()]
        if path.suffix in (".json", ".source"):
            return json.loads(raw)
    except Exception:
        return ("unparsed", raw)
    return ("bytes", raw)


def _detected(ws: mo.Workspace, kind: str) -> bool:
    try:
        if kind == "draft":
            for prof in ws.profiles():
                _ = prof.draft.servers
            return False
        return not ws.verify().ok
    except MCPOrchError:
        return True


def flips(limit: int) -> dict[str, dict[str, int]]:
    table: dict[str, dict[str, int]] = defaultdict(
        lambda: {"files": 0, "tried": 0, "detected": 0, "harmless": 0, "missed": 0}
    )
    with tempfile.TemporaryDirectory() as tmp:
        ws = build(Path(tmp))
        files = list(kit.workspace_files(ws))
        for kind, path in files:
            original = path.read_bytes()
            mode = path.stat().st_mode
            os.chmod(path, 0o600)
            row = table[kind]
            row["files"] += 1
            meaning = _meaning(path, original)
            for i in kit.flip_positions(len(original), limit):
                flipped = bytearray(original)
                flipped[i] ^= 0x01
                path.write_bytes(bytes(flipped))
                row["tried"] += 1
                if _meaning(path, bytes(flipped)) == meaning:
                    row["harmless"] += 1
                elif _detected(ws, kind):
                    row["detected"] += 1
                else:
                    row["missed"] += 1
            path.write_bytes(original)
            os.chmod(path, mode & 0o7777)
        assert ws.verify().ok
    return dict(table)


def crashes() -> list[kit.CrashResult]:
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for scenario in kit.SCENARIOS:
            out.append(kit.crash_scenario(scenario, Path(tmp) / scenario.name))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--flips", type=int, default=96, help="positions per file (sampled)")
    parser.add_argument("--no-crashes", action="store_true")
    args = parser.parse_args()
    start = time.perf_counter()
    table = flips(args.flips)
    print(f"byte flips (one bit, at most {args.flips} positions per file)")
    print(f"{'file kind':<22}{'files':>6}{'tried':>7}{'detected':>10}{'harmless':>10}{'missed':>8}")
    total = defaultdict(int)
    for kind in sorted(table):
        row = table[kind]
        for k, v in row.items():
            total[k] += v
        print(
            f"{kind:<22}{row['files']:>6}{row['tried']:>7}{row['detected']:>10}"
            f"{row['harmless']:>10}{row['missed']:>8}"
        )
    print(
        f"{'all':<22}{total['files']:>6}{total['tried']:>7}{total['detected']:>10}"
        f"{total['harmless']:>10}{total['missed']:>8}"
    )
    if "draft" in table:
        print(
            "(a draft is the unsigned working copy: a flip that still parses is a changed "
            "draft, validated again when it is published)"
        )
    if not args.no_crashes:
        print("\ncrashes (os._exit before the k-th write point, then the next command)")
        print(f"{'operation':<18}{'tried':>7}{'detected':>10}{'repaired':>10}{'failed':>8}")
        for r in crashes():
            print(
                f"{r.scenario:<18}{r.tried:>7}{r.detected:>10}{r.repaired:>10}{len(r.failures):>8}"
            )
            for f in r.failures[:3]:
                print("    " + f[:200])
    print(f"\n({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()

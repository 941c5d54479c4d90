"""One published release pulled by 1,000 simulated machines from a loopback OCI registry.

    .venv/bin/python bench/pull.py            # 1,000 machines per mode (~2-3 min)
    .venv/bin/python bench/pull.py --quick    # 50 machines per mode (~10 s)

The real CNCF distribution registry (``docker-registry``, htpasswd basic auth) runs on loopback
(tests/oci_kit.py starts it). A publisher workspace publishes one release of cursor/default
and pushes it. Each simulated machine is a fresh workspace that trusts the publisher's key and
has the remote (its own anchor name); its pull is timed from the call to the moved ref: manifest,
blob, digest and signature checks, the journaled write of object, index, ref and audit event.
Modes: sequential, then 8 and 32 concurrent threads (one machine per pull, each its own HTTP
connection). Printed per mode: pull time per machine (p50/p95), requests per pull and bytes per
pull (counted by the client on the wire: request and response bodies, headers excluded), and
the total time. Every pulled workspace is checked: latest is the published release.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import oci_kit  # noqa: E402  (tests/oci_kit.py: starts the registry)

import mcp_orch as mo  # noqa: E402
from mcp_orch.operations import remote  # noqa: E402


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="50 machines per mode")
    parser.add_argument("--machines", type=int, default=None)
    args = parser.parse_args()
    machines = args.machines or (50 if args.quick else 1000)
    if oci_kit.binary() is None:
        print("docker-registry is not installed (Debian's docker-registry package)")
        return 1
    with tempfile.TemporaryDirectory(prefix="mcp-orch-bench-pull-") as tmp:
        base = Path(tmp)
        os.environ.update(
            HOME=str(base / "home"),
            DOCKER_CONFIG=str(base / "docker"),
            MCP_ORCH_OFFLINE="1",
        )
        with oci_kit.oci_registry(base / "registry") as reg:
            url = reg.url("team/mcp")
            publisher = mo.Workspace(base / "publisher", client_root=base / "publisher-root")
            profile = publisher.profile("cursor")
            for i in range(5):
                profile.draft.add_entry(
                    f"server-{i}", {"command": "npx", "args": ["-y", f"pkg-{i}@1.0.{i}"]}
                )
            release = profile.draft.publish(changelog="team baseline")
            remote.remote_add(
                publisher,
                "origin",
                url,
                username=oci_kit.USER,
                password=oci_kit.PASSWORD,
                machine="publisher",
            )
            pushed = remote.push(publisher)
            pem = publisher.keys.export_public()
            print(
                f"release {release.short_id}: {len(release.canonical_bytes())} bytes envelope; "
                f"push: {pushed.requests} requests; {machines} machines per mode"
            )
            print(
                f"{'mode':<12} {'machines':>8} {'total s':>8} {'pulls/s':>8} "
                f"{'p50 ms':>7} {'p95 ms':>7} {'req/pull':>8} {'bytes/pull':>10}"
            )
            # a machine: a fresh workspace that trusts the publisher and has the remote (made
            # once, then copied: the set-up is not what is measured)
            template = mo.Workspace(base / "template")
            template.keys.trust(pem)
            remote.remote_add(template, "origin", url, machine="fleet")
            for mode, workers in (("sequential", 1), ("8 threads", 8), ("32 threads", 32)):
                fleet = []
                for i in range(machines):  # set-up, not timed
                    folder = base / mode.replace(" ", "-") / f"m{i}"
                    shutil.copytree(template.path, folder)
                    fleet.append(mo.Workspace(folder))

                def pull_one(ws: mo.Workspace) -> tuple[float, int, int]:
                    start = time.perf_counter()
                    result = remote.pull(ws)
                    took = time.perf_counter() - start
                    assert result.profiles[0].status == "pulled"
                    return took, result.requests, result.bytes_received + result.bytes_sent

                start = time.perf_counter()
                if workers == 1:
                    rows = [pull_one(ws) for ws in fleet]
                else:
                    with ThreadPoolExecutor(workers) as pool:
                        rows = list(pool.map(pull_one, fleet))
                total = time.perf_counter() - start
                bad = [
                    ws for ws in fleet
                    if ws.store.get_ref("cursor", "default", "latest") != release.artifact_id
                ]  # fmt: skip
                if bad:
                    print(f"{mode}: {len(bad)} machines did not get the release")
                    return 1
                times = [r[0] * 1000 for r in rows]
                reqs = [r[1] for r in rows]
                sizes = [r[2] for r in rows]
                print(
                    f"{mode:<12} {machines:>8} {total:>8.2f} {machines / total:>8.1f} "
                    f"{statistics.median(times):>7.1f} {_pct(times, 0.95):>7.1f} "
                    f"{statistics.mean(reqs):>8.1f} {statistics.mean(sizes):>10.0f}"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

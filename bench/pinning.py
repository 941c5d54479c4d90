"""Pins of a 20-server profile: resolving the lock, publishing with it, probing, outdated.

    .venv/bin/python bench/pinning.py              # 3 runs of each figure (~4-5 min on 2 busy cores)
    .venv/bin/python bench/pinning.py --runs 5
    .venv/bin/python bench/pinning.py --runs 1 --probe-jobs 8

Everything runs against real registries on loopback, started with the helpers of
``tests/registry/kit.py``: verdaccio (npm) and pypiserver (PyPI), holding 20 tiny MCP stdio
servers, ``bench-probe-01`` .. ``-10`` on npm and ``bench-probe-11`` .. ``-20`` as wheels, each at
1.0.0 and 1.1.0 (latest). One cursor profile pins all 20 at 1.0.0 (``npx -y NAME@1.0.0``,
``uvx NAME@1.0.0``). Figures, each the median (and min) of ``--runs``:

* ``resolve``: ``lock_for`` of the 20 servers (npm via ``npm view``, PyPI via the simple index;
  it calls ``services.pinning.resolve`` at its default ``jobs``) against ``resolve(refs,
  jobs=1)``: the parallel speed-up; and the 10 PyPI packages alone (HTTP, no npm process).
* ``publish offline`` (``resolve=False``) against ``publish (resolving)``: what the lock costs.
  Every publish follows a change to the draft (an env var of one entry), so each is a release.
* ``probe 20``: ``mo.probe(draft, jobs=4, inherit_env=True)``; the first run (npx and uvx
  install into their caches) is reported apart as cold.
* ``publish --pin-tools``: resolve + probe + sign, warm. Its probe runs the servers with the
  MCP SDK's default environment (HOME, PATH, ...), not this process's: so the registry settings
  are also written where npm and uv look by default (``~/.npmrc``, ``~/.config/uv/uv.toml``,
  HOME's default caches linked to the caches above).
* ``outdated``: ``profile.outdated()``, all 20 outdated since 1.1.0 exists.

A lookup the registry does not answer within the resolver's timeout (10 s) makes an unresolved
lock row, not an error: the table counts them (such a run includes the whole timeout).

Variants that are compared run interleaved (one run of each in turn), so machine noise hits them
alike: read the ratios. Nothing leaves loopback; everything (workspace, client root, HOME, npm
and uv caches, registry storage) is in one temporary folder, removed at the end, and every
process started is stopped (its process group) even when a step fails.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from registry.kit import (
    _VERDACCIO_CONFIG,
    PypiServer,
    Verdaccio,
    _adduser,
    _base_env,
    build_npm_server,
    build_pypi_server,
    free_port,
    serving,
    tool_bin,
)

import mcp_orch as mo
from mcp_orch.core.errors import MCPOrchError
from mcp_orch.facade.pinning import lock_for, packages
from mcp_orch.services.pinning import DEFAULT_JOBS, resolve

N_NPM = 10
N_PYPI = 10
VERSIONS = ("1.0.0", "1.1.0")  # published in this order: 1.1.0 is latest
PINNED = VERSIONS[0]
BIN = Path(sys.executable).parent
RESOLVE = f"resolve (jobs={DEFAULT_JOBS})"  # lock_for: resolve() at its default jobs
PYPI_ONLY = f"resolve PyPI only ({N_PYPI})"


def npm_names() -> list[str]:
    return [f"bench-probe-{i:02d}" for i in range(1, N_NPM + 1)]


def pypi_names() -> list[str]:
    return [f"bench-probe-{i:02d}" for i in range(N_NPM + 1, N_NPM + N_PYPI + 1)]


# ---- the registries (the session fixtures of tests/registry/kit.py, as plain functions) -----


@contextlib.contextmanager
def start_verdaccio(root: Path) -> Iterator[Verdaccio]:
    binary = tool_bin("verdaccio")
    if binary is None:
        raise SystemExit("verdaccio is not installed: run scripts/ci-clients.sh")
    root.mkdir(parents=True)
    config = root / "config.yaml"
    config.write_text(
        _VERDACCIO_CONFIG.format(storage=root / "storage", htpasswd=root / "htpasswd"),
        encoding="utf-8",
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = _base_env(root / "home")
    argv = [binary, "--config", str(config), "--listen", f"127.0.0.1:{port}"]
    with serving(argv, url + "-/ping", root / "verdaccio.log", env):
        token = _adduser(url, "mcp-orch-bench", "mcp-orch-bench-pass")
        npmrc = root / "npmrc"
        npmrc.write_text(
            f"registry={url}\n//127.0.0.1:{port}/:_authToken={token}\n"
            "update-notifier=false\nfund=false\naudit=false\n",
            encoding="utf-8",
        )
        env.update(
            npm_config_registry=url,
            npm_config_userconfig=str(npmrc),
            npm_config_cache=str(root / "npm-cache"),
            npm_config_update_notifier="false",
        )
        yield Verdaccio(url=url, root=root, npmrc=npmrc, token=token, env=env)


@contextlib.contextmanager
def start_pypiserver(root: Path) -> Iterator[PypiServer]:
    binary = tool_bin("pypi-server")
    if binary is None:
        raise SystemExit("pypi-server is not installed: install the test extra (pypiserver)")
    packages_dir = root / "packages"
    packages_dir.mkdir(parents=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = _base_env(root / "home")
    argv = [
        binary,
        "run",
        "-p",
        str(port),
        "-i",
        "127.0.0.1",
        "--disable-fallback",
        "-a",
        ".",
        "-P",
        ".",
        "--backend",
        "simple-dir",
        str(packages_dir),
    ]
    with serving(argv, base + "/health", root / "pypiserver.log", env):
        url = base + "/simple/"
        env.update(
            PIP_INDEX_URL=url,
            UV_DEFAULT_INDEX=url,
            UV_CACHE_DIR=str(root / "uv-cache"),
            UV_PYTHON=sys.executable,
            UV_PYTHON_DOWNLOADS="never",
            UV_NO_CONFIG="1",
            PIP_CONFIG_FILE=os.devnull,
            PIP_DISABLE_PIP_VERSION_CHECK="1",
        )
        yield PypiServer(url=url, dir=packages_dir, env=env)


def publish_packages(npm: Verdaccio, pypi: PypiServer, build: Path) -> None:
    """The 20 packages at both versions; npm publishes run 4 at a time, one version after
    the other (so 1.1.0 is the ``latest`` tag)."""
    with ThreadPoolExecutor(4) as pool:
        for version in VERSIONS:
            dirs = [build_npm_server(build / "npm", n, version) for n in npm_names()]
            list(pool.map(npm.publish, dirs))
    for version in VERSIONS:
        for name in pypi_names():
            pypi.add(build_pypi_server(build / "pypi", name, version))


def point_at(npm: Verdaccio, pypi: PypiServer, home: Path) -> None:
    """This process's environment as the kit's ``env`` dicts have it (npm at verdaccio, uv and
    pip at pypiserver, no foreign ``npm_config_*``/``pip_*``/``uv_*``), HOME in the temporary
    folder, the venv's bin (``uvx``) first on PATH, ``MCP_ORCH_OFFLINE`` unset."""
    env = _base_env(home)
    for key, value in {**npm.env, **pypi.env}.items():
        if key not in ("HOME", "USERPROFILE"):
            env[key] = value
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}"
    env.pop("MCP_ORCH_OFFLINE", None)
    os.environ.clear()
    os.environ.update(env)
    # publish(pin_tools=True) probes with the MCP SDK's default environment (HOME, PATH, USER,
    # ...), not this one: the same settings as files under HOME, where npm and uv look by
    # default, with HOME's default caches being the caches above (so they are as warm)
    shutil.copyfile(npm.npmrc, home / ".npmrc")
    (home / ".npm").symlink_to(env["npm_config_cache"], target_is_directory=True)
    (home / ".cache").mkdir()
    (home / ".cache" / "uv").symlink_to(env["UV_CACHE_DIR"], target_is_directory=True)
    (home / ".config" / "uv").mkdir(parents=True)
    (home / ".config" / "uv" / "uv.toml").write_text(
        f'python-downloads = "never"\n\n[[index]]\nurl = "{pypi.url}"\ndefault = true\n',
        encoding="utf-8",
    )


# ---- measuring -------------------------------------------------------------------------------


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and of the children it has waited for (and
    theirs): npm, npx, uvx and the servers; not the registries, which run until the end."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


class Figures:
    """Times (ms) of each figure's runs, and the lock rows that came back unresolved (a lookup
    that timed out counts its whole timeout into the figure: they are shown, not hidden)."""

    def __init__(self) -> None:
        self.runs: dict[str, list[float]] = {}
        self.unresolved: dict[str, int] = {}
        self.reasons: dict[str, set[str]] = {}
        self.errors: dict[str, str] = {}
        self.servers: dict[str, int] = {}  # how many servers one run of the figure handles
        self.cpu: dict[str, list[float]] = {}  # CPU ms of this process and its children

    def time(self, name: str, fn: Callable[[], Any], servers: int = N_NPM + N_PYPI) -> Any:
        self.servers[name] = servers
        cpu, start = cpu_seconds(), time.perf_counter()
        out = fn()
        self.runs.setdefault(name, []).append((time.perf_counter() - start) * 1000)
        self.cpu.setdefault(name, []).append((cpu_seconds() - cpu) * 1000)
        return out

    def median(self, name: str) -> float:
        return statistics.median(self.runs[name])

    def count(self, name: str, rows: list[dict[str, Any]], expected: int = N_NPM + N_PYPI) -> None:
        """Check the rows of one run of ``name`` (one a server, each resolved one at the pinned
        version) and count the unresolved ones."""
        if len(rows) != expected:
            raise SystemExit(f"{name}: {len(rows)} lock rows, not {expected}")
        wrong = [r for r in rows if r.get("status") == "resolved" and r.get("version") != PINNED]
        if wrong:
            raise SystemExit(f"{name}: resolved to another version than {PINNED}: {wrong[0]}")
        bad = [r for r in rows if r.get("status") != "resolved"]
        self.unresolved[name] = self.unresolved.get(name, 0) + len(bad)
        self.reasons.setdefault(name, set()).update(str(r.get("reason")) for r in bad)


def lock_rows(lock: dict[str, Any] | None) -> list[dict[str, Any]]:
    return list((lock or {}).values())


def check_probe(report: Any) -> None:
    versions = {r.server: r.server_version for r in report.results}
    if not report.ok or set(versions.values()) != {PINNED} or len(versions) != N_NPM + N_PYPI:
        raise SystemExit(f"a probe failed:\n{report}")


def tool_versions() -> dict[str, str]:
    out = {}
    for name, argv in {
        "node": ["node", "--version"],
        "npm": ["npm", "--version"],
        "uv": [tool_bin("uv") or "uv", "--version"],
        "verdaccio": [tool_bin("verdaccio") or "verdaccio", "--version"],
    }.items():
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
            out[name] = (done.stdout or done.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            out[name] = "?"
    return out


def leftovers(marker: str) -> list[str]:
    """Processes (other than this one) whose command line or environment names ``marker``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
            environ = (proc / "environ").read_bytes()
        except OSError:
            continue
        if marker.encode() in cmdline or marker.encode() in environ:
            argv = cmdline.replace(b"\0", b" ").decode(errors="replace")
            found.append(f"{proc.name}: {argv}")
    return found


def bench(base: Path, runs: int, probe_jobs: int) -> None:
    figures = Figures()
    with contextlib.ExitStack() as stack:
        start = time.perf_counter()
        npm = stack.enter_context(start_verdaccio(base / "verdaccio"))
        pypi = stack.enter_context(start_pypiserver(base / "pypiserver"))
        publish_packages(npm, pypi, base / "build")
        point_at(npm, pypi, base / "home")
        os.environ["MCP_ORCH_CLIENT_ROOT"] = str(base / "root")
        (base / "root").mkdir()
        print(f"registries up, 40 package versions published ({time.perf_counter() - start:.1f} s)")

        ws = mo.Workspace(base / "ws", client_root=base / "root")
        profile = ws.profile("cursor")
        entries: dict[str, dict[str, Any]] = {}
        for name in npm_names():
            entries[name] = {"command": "npx", "args": ["-y", f"{name}@{PINNED}"]}
        for name in pypi_names():
            entries[name] = {"command": "uvx", "args": [f"{name}@{PINNED}"]}
        for name, entry in entries.items():
            profile.draft.add_entry(name, entry)
        first = npm_names()[0]
        rounds = iter(range(1, 1_000_000))

        def change() -> None:
            """A real change before each publish: the env var of one entry."""
            entry = {**entries[first], "env": {"BENCH_ROUND": str(next(rounds))}}
            profile.draft.add_entry(first, entry, replace=True)

        spec = profile.client
        servers = profile.draft.servers
        refs = list(packages(spec, servers).values())
        n = len(refs)
        figures.count("warm-up", lock_rows(lock_for(spec, servers)))  # untimed
        change()
        profile.publish("warm-up", resolve=False)  # untimed: creates the key, loads schemas

        # resolve: lock_for (resolve() at its default jobs) against resolve() at jobs=1, and
        # the 10 PyPI packages alone (HTTP only, no npm process); interleaved
        pypi_refs = [r for r in refs if r.registry == "pypi"]
        for _ in range(runs):
            figures.count(
                RESOLVE, lock_rows(figures.time(RESOLVE, lambda: lock_for(spec, servers)))
            )
            locks = figures.time("resolve jobs=1", lambda: resolve(refs, jobs=1))
            figures.count("resolve jobs=1", [x.to_dict() for x in locks])
            locks = figures.time(PYPI_ONLY, lambda: resolve(pypi_refs), servers=len(pypi_refs))
            figures.count(PYPI_ONLY, [x.to_dict() for x in locks], len(pypi_refs))

        # probe: cold (npx and uvx install into their caches), then warm
        def probe() -> Any:
            return mo.probe(
                profile.draft, jobs=probe_jobs, timeout=120, inherit_env=True, progress=False
            )

        check_probe(figures.time("probe 20, cold", probe))
        for _ in range(runs):
            check_probe(figures.time("probe 20, warm", probe))

        # publish: offline, resolving, with tool pins; interleaved, each after a change
        for _ in range(runs):
            change()
            art = figures.time("publish offline", lambda: profile.publish("bench", resolve=False))
            if any(r.get("status") != "unresolved" for r in (art.lock or {}).values()):
                raise SystemExit("publish(resolve=False) resolved something")
            change()
            art = figures.time("publish (resolving)", lambda: profile.publish("bench"))
            figures.count("publish (resolving)", lock_rows(art.lock))
            if "publish --pin-tools" in figures.errors:
                continue
            change()
            try:
                art = figures.time(
                    "publish --pin-tools", lambda: profile.publish("bench", pin_tools=True)
                )
            except MCPOrchError as exc:  # reported, and not tried again
                figures.errors["publish --pin-tools"] = f"{type(exc).__name__}: {exc}"
                continue
            figures.count("publish --pin-tools", lock_rows(art.lock))
            if len(art.tools or {}) != n:
                raise SystemExit(f"publish --pin-tools pinned {len(art.tools or {})} of {n}")

        for _ in range(runs):
            report = figures.time("outdated", profile.outdated)
            rows = [
                {
                    "status": "unresolved" if r.status == "unresolved" else "resolved",
                    "version": r.current,
                    "reason": r.reason,
                }
                for r in report.rows
            ]
            figures.count("outdated", rows)
            resolved = [r for r in report.rows if r.status != "unresolved"]
            if any(not r.newer or r.latest != VERSIONS[1] for r in resolved):
                raise SystemExit(f"outdated: expected every server outdated:\n{report}")

    print_table(figures, n, runs)


def print_table(figures: Figures, n: int, runs: int) -> None:
    print(f"\n{n} servers ({N_NPM} npm, {N_PYPI} PyPI), median and min of {runs} runs")
    print(
        f"{'figure':<24}{'runs':>5}{'median ms':>11}{'min ms':>10}{'per server ms':>15}"
        f"{'CPU ms':>9}{'CPU/wall':>10}{'unresolved':>12}"
    )
    for name, values in figures.runs.items():
        med, size = statistics.median(values), figures.servers[name]
        bad = (
            f"{figures.unresolved[name]}/{size * len(values)}"
            if name in figures.unresolved
            else "-"
        )
        cpu = statistics.median(figures.cpu[name])
        print(
            f"{name:<24}{len(values):>5}{med:>11.1f}{min(values):>10.1f}{med / size:>15.1f}"
            f"{cpu:>9.0f}{cpu / med:>10.2f}{bad:>12}"
        )
    for name, error in figures.errors.items():
        print(f"{name:<24} FAILED: {error}")
    print(
        "(CPU ms: this process and the child processes it waited for, with theirs: npm, npx,\n"
        f" uvx, the servers; not the registries. {os.cpu_count()} cores: CPU/wall <= "
        f"{os.cpu_count()}, less when other jobs share them)"
    )
    m = figures.runs
    print("\nratios (medians of the same run)")
    for label, top, bottom in (
        ("publish (resolving) / publish offline", "publish (resolving)", "publish offline"),
        (f"resolve jobs=1 / jobs={DEFAULT_JOBS} (parallel speed-up)", "resolve jobs=1", RESOLVE),
        ("publish --pin-tools / publish (resolving)", "publish --pin-tools", "publish (resolving)"),
        ("probe 20 cold / warm", "probe 20, cold", "probe 20, warm"),
    ):
        if top in m and bottom in m:
            ratio = figures.median(top) / figures.median(bottom)
            print(f"  {label:<52}{ratio:>7.2f}x")
    if "publish (resolving)" in m and "publish offline" in m:
        cost = figures.median("publish (resolving)") - figures.median("publish offline")
        print(f"  the lock's cost in a publish: {cost:.0f} ms ({cost / n:.1f} ms a server)")
    reasons = {r for name, rs in figures.reasons.items() for r in rs}
    if reasons:
        print("\nunresolved lock rows (they count their timeout into the figure):")
        for reason in sorted(reasons):
            where = [k for k, rs in figures.reasons.items() if reason in rs]
            print(f"  {reason} ({', '.join(where)})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each figure (median, min)")
    parser.add_argument("--probe-jobs", type=int, default=4, help="servers probed at a time")
    args = parser.parse_args()
    versions = tool_versions()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"cores: {os.cpu_count()}, load average: {load}, Python {platform.python_version()}, "
        f"mcp-orch {mo.__version__}"
    )
    print(", ".join(f"{k} {v}" for k, v in versions.items()))
    saved = dict(os.environ)
    base = Path(tempfile.mkdtemp(prefix="mco-bench-pinning-"))
    start = time.perf_counter()
    try:
        bench(base, max(1, args.runs), args.probe_jobs)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        left = leftovers(str(base))
        shutil.rmtree(base, ignore_errors=True)
        print(f"\nprocesses left running: {len(left)}")
        for line in left:
            print("  " + line[:200])
        print(f"({time.perf_counter() - start:.1f} s)")
    return 1 if left else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Catalog truth: every bundled catalog entry is checked against the real package registries and
started for real, so the catalog cannot drift from what exists (the truth comes from npm, PyPI
and the OCI registries, never from our own picture of them).

1. ``test_packages_exist_at_their_pinned_versions[<id>]``: every package of the entry exists at
   its pinned version, asked through the registries' own clients and the user's configuration:
   npm with ``npm view <pkg>@<version> version mcpName --json`` (the ``.npmrc`` and
   ``npm_config_*`` apply), PyPI and OCI with mcp-orch's own resolver
   (mcp_orch/services/pinning/resolve.py: the index uv / pip would ask, the anonymous OCI token
   flow). The entry's top-level ``version`` must equal each package's pinned version, and an npm
   package that declares ``mcpName`` must declare exactly the entry's ``name`` (the official
   registry verifies exactly that). A registry that cannot be reached is a skip that says so.
2. ``test_starts_and_lists_tools[<id>]``: each entry whose default render is a stdio package is
   rendered for Claude Code as a user would get it, started and probed with mcp-orch's probe
   (all at once, ``PROBE_JOBS`` at a time, each within ``PROBE_TIMEOUT`` seconds, enough for a
   first ``npx -y`` / ``uvx`` download): it must answer ``initialize`` and ``tools/list`` with at
   least one tool. HOME and the working folder are temporary (every download is a first one,
   unless the environment names npm / uv caches). The servers get this process's environment,
   as Claude Code passes its own, so the machine's CA and proxy settings reach npx and uvx.
   A required input without a default gets an obvious test value (a path: a temporary git
   repository; a choice: the first), else an obviously fake placeholder. An entry that got no
   placeholder must start. One that refuses its placeholders is skipped with its error, unless
   it failed before it could read them (the package did not install, by npm's cache and logs or
   uv's error; the runtime is too old; a module is missing): that fails, as a server that cannot
   start must never be hidden. Docker entries are skipped when there is no docker (or docker
   daemon) to run them. The end of the run prints one line per entry: started (tools, seconds),
   skipped or failed, and why.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import mcp_orch as mo
from mcp_orch.domain.pins import PackageRef, package_of, split_image
from mcp_orch.domain.transport import choose
from mcp_orch.services.pinning.resolve import resolve

pytestmark = pytest.mark.registry

CLIENT = "claude-code"  # how the entries are rendered and started
PROBE_TIMEOUT = 300.0  # seconds per server, a first download included (mongodb: 610 MB)
PROBE_JOBS = 4  # servers started at a time (npx / uvx installs are CPU-bound on 2 cores)
LOOKUP_TIMEOUT = 60.0  # seconds per registry lookup
LOOKUP_JOBS = 4  # entries looked up at a time
PLACEHOLDER = "mcp-orch-catalog-truth-placeholder"  # the value of every secret
# npm's codes for a registry it could not reach (resolve.py's reasons say "could not be reached")
NPM_UNREACHABLE = ("ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EHOSTUNREACH")
UNREACHABLE = re.compile(r"could not be reached|did not answer in time")
# a server that failed before it could read any secret: its runner could not install it, or it
# could not load its own code
BROKEN_BEFORE_START = re.compile(
    r"No solution found when resolving|requirements are unsatisfiable|Failed to (?:download|"
    r"build|fetch|install)|^npm (?:error|ERR!)|\bE(?:404|TARGET)\b|Cannot find module|"
    r"ERR_MODULE_NOT_FOUND|ERR_REQUIRE_ESM|ModuleNotFoundError|No module named|"
    r"requires Node(?:\.js)? v?\d|EBADENGINE",
    re.MULTILINE,
)
# npm's debug log: an install script that failed, an error line
NPM_SCRIPT_FAILED = re.compile(r"info run (\S+ \S+) \{ code: [1-9]")
NPM_ERROR = re.compile(r"^\d+ error (.+)$", re.MULTILINE)


def _bundled() -> dict[str, mo.Server]:
    """The bundled catalog, read without any workspace (an empty temporary one)."""
    with tempfile.TemporaryDirectory() as empty:
        return {s.id: s for s in mo.Registry(path=empty).all() if s.source == "bundled"}


BUNDLED = _bundled()  # discovered at collection: a new catalog entry is a new test id
PACKAGED = sorted(i for i, s in BUNDLED.items() if s.packages)
STDIO = sorted(i for i, s in BUNDLED.items() if choose(s.doc)[0] == "package")


def _selected(request: pytest.FixtureRequest, test: str) -> list[str]:
    """The server ids of ``test`` this run selected (``-k time`` starts only ``time``)."""
    items = [i for i in request.session.items if getattr(i, "originalname", "") == test]
    return [str(i.callspec.params["server_id"]) for i in items if isinstance(i, pytest.Function)]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """This module's sandbox, for its module fixtures (they are set up before the
    function-scoped one of tests/conftest.py): HOME, workspace, client root and working folder
    (``repo``, a git repository) temporary, the test venv's bin (uv) at the end of PATH."""
    root = tmp_path_factory.mktemp("catalog-truth")
    repo = root / "repo"
    repo.mkdir()
    (root / "home").mkdir()
    with pytest.MonkeyPatch.context() as mp:
        for var, value in {
            "HOME": root / "home",
            "USERPROFILE": root / "home",
            "MCP_ORCH_HOME": root / "ws",
            "MCP_ORCH_CLIENT_ROOT": root / "clients",
            "PATH": f"{os.environ['PATH']}{os.pathsep}{Path(sys.executable).parent}",
            "npm_config_update_notifier": "false",
            "npm_config_logs_max": "1000",  # npm's debug logs say why an npx install failed
            "npm_config_audit": "false",
            "npm_config_fund": "false",
            # puppeteer's postinstall fetches Chrome from Google's storage, which this
            # sandbox cannot reach (desktop-commander depends on it; it runs without)
            "PUPPETEER_SKIP_DOWNLOAD": "true",
        }.items():
            mp.setenv(var, str(value))
        for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "MCP_ORCH_OFFLINE"):
            mp.delenv(var, raising=False)
        mp.chdir(repo)
        if shutil.which("git"):
            subprocess.run(["git", "init", "-q", str(repo)], check=True)
        yield root


# ---- 1. the packages exist -------------------------------------------------------------------


def _npm_view(ident: str, version: str) -> tuple[dict[str, Any] | None, str | None]:
    """``({"version", "mcpName"?}, None)`` from npm, or ``(None, why not)``; the why of an
    unreachable registry starts with ``unreachable:``."""
    npm = shutil.which("npm")
    if npm is None:
        return None, "unreachable: npm is not installed"
    argv = [npm, "view", f"{ident}@{version}", "version", "mcpName", "--json"]
    argv += ["--fetch-retries=1", "--fetch-retry-mintimeout=2000", "--fetch-timeout=30000"]
    try:
        out = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=LOOKUP_TIMEOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "npm_config_update_notifier": "false"},
        )
    except subprocess.TimeoutExpired:
        return None, f"unreachable: npm view {ident}@{version} did not answer in time"
    try:
        data = json.loads(out.stdout) if out.stdout.strip() else None
    except json.JSONDecodeError:
        data = None
    if isinstance(data, str):  # one field only: the package declares no mcpName
        return {"version": data}, None
    if isinstance(data, dict) and isinstance(data.get("version"), str):
        return data, None
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        code, summary = str(error.get("code")), str(error.get("summary", "")).splitlines()[0]
        prefix = "unreachable: " if code in NPM_UNREACHABLE else ""
        return None, f"{prefix}npm view {ident}@{version}: {code}: {summary}"
    last = (out.stderr.strip().splitlines() or ["no output"])[-1]
    return None, f"npm view {ident}@{version} printed no version (exit {out.returncode}): {last}"


def _resolved(ref: PackageRef) -> tuple[str | None, str | None]:
    """``(version, None)`` as the registry resolves ``ref``, or ``(None, why not)``."""
    [lock] = resolve([ref], timeout=LOOKUP_TIMEOUT)
    if lock.resolved:
        return lock.version, None
    reason = lock.reason or "unresolved"
    return None, ("unreachable: " if UNREACHABLE.search(reason) else "") + reason


def _pinned(pkg: dict[str, Any]) -> str | None:
    """The version a package pins: its ``version``, or an OCI identifier's tag."""
    if pkg.get("registryType") == "oci":
        _repo, tag, _digest = split_image(str(pkg["identifier"]))
        return tag or pkg.get("version")
    return str(pkg["version"]) if pkg.get("version") else None


def _check_package(server: mo.Server, pkg: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(problems, why it could not be checked) of one package."""
    kind, ident, version = pkg.get("registryType"), str(pkg.get("identifier")), _pinned(pkg)
    label = f"{kind}:{ident}"
    if not version and "@sha256:" not in ident:  # an image pinned by digest only is pinned
        return [f"{label} pins no version"], []
    problems = []
    if version and version.removeprefix("v") != server.version.removeprefix("v"):
        problems.append(f"{label} is pinned at {version}, the entry's version is {server.version}")
    if kind == "npm":
        found, why = _npm_view(ident, str(version))
        if found is not None and found["version"] != version:
            why = f"npm view {ident}@{version} answered version {found['version']}"
        mcp_name = found.get("mcpName") if found else None
        if mcp_name is not None and mcp_name != server.name:
            problems.append(f"{label}@{version} declares mcpName {mcp_name!r}, not {server.name!r}")
    elif kind == "pypi":
        ref = PackageRef("pypi", ident, f"=={version}", "exact", "uvx", 0, version)
        got, why = _resolved(ref)
        if got is not None and got != version:
            why = f"the index resolves {ident}=={version} to {got}"
    elif kind == "oci":
        repo, tag, digest = split_image(ident)
        ref = PackageRef("oci", repo, tag or version, "exact", "docker", 0, version, digest)
        _got, why = _resolved(ref)
    else:
        return problems, [f"{label}: no check for {kind} packages"]
    if why is None:
        return problems, []
    if why.startswith("unreachable: "):
        return problems, [why.removeprefix("unreachable: ")]
    return [*problems, why], []


@dataclass
class Looked:
    """One entry's lookups: the packages checked, what is wrong, what could not be asked."""

    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)


def _look_up(server: mo.Server) -> Looked:
    out = Looked()
    for pkg in server.packages:
        problems, unchecked = _check_package(server, pkg)
        out.problems += problems
        out.unchecked += unchecked
        if not unchecked:
            out.checked.append(f"{pkg.get('registryType')}:{pkg.get('identifier')}")
    return out


@pytest.fixture(scope="module")
def looked_up(sandbox: Path, request: pytest.FixtureRequest) -> dict[str, Looked]:
    """Every package of every selected entry looked up, ``LOOKUP_JOBS`` entries at a time."""
    ids = _selected(request, "test_packages_exist_at_their_pinned_versions")
    with ThreadPoolExecutor(LOOKUP_JOBS) as pool:
        return dict(zip(ids, pool.map(_look_up, (BUNDLED[i] for i in ids)), strict=True))


@pytest.mark.parametrize("server_id", PACKAGED)
def test_packages_exist_at_their_pinned_versions(
    server_id: str, looked_up: dict[str, Looked]
) -> None:
    found = looked_up[server_id]
    assert not found.problems, f"{server_id}:\n" + "\n".join(found.problems + found.unchecked)
    if found.unchecked:
        checked = ", ".join(found.checked) or "nothing"
        pytest.skip(f"{server_id}: checked {checked}; not checked: " + "; ".join(found.unchecked))


# ---- 2. the stdio entries start --------------------------------------------------------------


@dataclass
class Planned:
    """How one entry is probed: its rendered entry and the inputs it got a placeholder for, or
    why it is not started; then its probe and, if npx could not install it, why."""

    entry: dict[str, Any] | None = None
    placeheld: list[str] = field(default_factory=list)
    skip: str | None = None
    result: Any = None  # the ServerProbe
    not_installed: str | None = None


def _test_value(item: dict[str, Any], repo: Path) -> tuple[str, bool]:
    """``(value, is a placeholder)`` for a required input without a default: an obvious one
    (a path: the temporary git repository; a choice: the first), else the placeholder."""
    hint = f"{item.get('valueHint', '')} {item.get('name', '')}".lower()
    if item.get("isSecret"):
        return PLACEHOLDER, True
    if item.get("choices"):
        return str(item["choices"][0]), False
    if item.get("format") == "filepath" or re.search(r"path|dir|folder|repo\b|root", hint):
        return str(repo), False
    return PLACEHOLDER, True


def _plan(server: mo.Server, repo: Path, no_docker: str | None) -> Planned:
    _kind, index = choose(server.doc)
    pkg = server.doc["packages"][index]
    runs_in_docker = pkg.get("runtimeHint") == "docker" or pkg.get("registryType") == "oci"
    if runs_in_docker and no_docker:
        return Planned(skip=f"runs in docker, and {no_docker}")
    params: dict[str, str] = {}
    env: dict[str, str] = {}
    placeheld = []
    args = (pkg.get("runtimeArguments") or []) + (pkg.get("packageArguments") or [])
    items = [(a, "param") for a in args] + [
        (v, "env") for v in pkg.get("environmentVariables") or []
    ]
    for item, where in items:
        # a secret gets the placeholder even when optional: a server that needs one of
        # several (slack's tokens) or one unless signed in (sentry) reads it
        wanted = item.get("isRequired") or (where == "env" and item.get("isSecret"))
        if not wanted or item.get("default") is not None or "value" in item:
            continue  # optional, defaulted or fixed
        if where == "param" and not any(k in item for k in ("valueHint", "format")):
            continue  # a bare flag (``--stdio``) or a positional without a slot: rendered as is
        key = item["name"] if where == "env" else item.get("valueHint") or item["name"].lstrip("-")
        value, placeholder = _test_value(item, repo)
        if placeholder:
            placeheld.append(key)
        (env if where == "env" else params)[key] = value
    return Planned(entry=server.render(CLIENT, params=params, env=env), placeheld=placeheld)


def _docker_problem() -> str | None:
    """Why docker entries cannot run here; None when they can."""
    docker = shutil.which("docker")
    if docker is None:
        return "docker is not on PATH"
    try:
        info = subprocess.run([docker, "info"], capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        return "the docker daemon did not answer `docker info` within 20 s"
    if info.returncode != 0:
        last = (info.stderr.strip().splitlines() or ["no output"])[-1]
        return f"the docker daemon is not reachable (docker info: {last})"
    return None


def _npx_not_installed(entry: dict[str, Any]) -> str | None:
    """Why ``npx`` did not install the entry's package (it can exit 1 saying nothing), from
    npm's cache and its debug logs; None when it did, or the entry runs no npx."""
    ref = package_of(entry)
    if ref is None or ref.runner != "npx":
        return None
    named = [v for k, v in os.environ.items() if k.lower() == "npm_config_cache" and v]
    cache = Path(named[0]) if named else Path.home() / ".npm"
    if any(cache.glob(f"_npx/*/node_modules/{ref.name}/package.json")):
        return None
    spec = f"{ref.name}@{ref.spec}" if ref.spec else ref.name
    failed = []
    for log in sorted(cache.glob("_logs/*.log")):
        text = log.read_text(errors="replace")
        if f"verbose title npm exec {spec}\n" in text:
            failed += NPM_SCRIPT_FAILED.findall(text) + NPM_ERROR.findall(text)[:3]
    failed = list(dict.fromkeys(failed))  # one install, logged by several npm runs
    return f"npx did not install {spec}" + (f" (failed: {'; '.join(failed)})" if failed else "")


@pytest.fixture(scope="module")
def probed(sandbox: Path, request: pytest.FixtureRequest) -> Iterator[dict[str, Planned]]:
    """Every selected stdio entry started and probed, all at once; then the record of each,
    printed."""
    repo = sandbox / "repo"
    no_docker = _docker_problem()
    registry = mo.Registry()
    plans = {
        i: _plan(registry.get(i), repo, no_docker)
        for i in _selected(request, "test_starts_and_lists_tools")
    }
    servers = {i: p.entry for i, p in plans.items() if p.entry is not None}
    report = mo.probe(
        {"mcpServers": servers},
        client=CLIENT,
        jobs=PROBE_JOBS,
        timeout=PROBE_TIMEOUT,
        inherit_env=True,
        progress=False,
    )
    for result in report:
        plan = plans[result.server]
        plan.result = result
        if not result.ok and plan.entry is not None:
            plan.not_installed = _npx_not_installed(plan.entry)
    yield plans
    record = [(i, *_verdict(plan)) for i, plan in plans.items()]
    started = sum(status == "ok" for _i, status, _why in record)
    terminal = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if terminal is None or capture is None:  # an xdist worker
        return
    with capture.global_and_fixture_disabled():
        terminal.write_line("")
        terminal.write_sep("-", f"catalog truth: {started} of {len(record)} stdio entries started")
        for i, status, why in record:
            terminal.write_line(f"{status:<7} {i}: {why.splitlines()[0][:200]}")


def _verdict(plan: Planned) -> tuple[str, str]:
    """``("ok" | "skipped" | "FAILED", why)`` of one entry's probe."""
    r = plan.result
    if r is None:
        return "skipped", plan.skip or "not probed"
    where = f"{r.target}\nstderr (tail):\n{r.stderr[-1500:]}"
    if r.ok and r.tools:
        return "ok", f"{len(r.tools)} tool(s), started in {(r.startup_ms or 0) / 1000:.1f} s"
    if r.ok:
        return "FAILED", f"started, but tools/list listed no tool\n{where}"
    broken = plan.not_installed or BROKEN_BEFORE_START.search(f"{r.stderr}\n{r.error}")
    if plan.placeheld and not broken and not r.error.startswith("no answer"):  # not a timeout
        inputs = ", ".join(plan.placeheld)
        return "skipped", f"needs a real {inputs} to start (it refused the placeholder): {_gist(r)}"
    why = f"{plan.not_installed}: " if plan.not_installed else ""
    return "FAILED", f"did not start: {why}{_gist(r)}\n{where}"


@pytest.mark.parametrize("server_id", STDIO)
def test_starts_and_lists_tools(server_id: str, probed: dict[str, Planned]) -> None:
    status, why = _verdict(probed[server_id])
    if status == "skipped":
        pytest.skip(f"{server_id}: {why}")
    if status == "FAILED":
        pytest.fail(f"{server_id} {why}", pytrace=False)


def _gist(r: Any) -> str:
    """The probe's error, with the server's own last error line when the probe quotes another
    (a Node crash ends with its version, not its reason)."""
    lines = [ln.strip() for ln in (r.stderr or "").splitlines()]
    errors = [ln for ln in lines if "rror" in ln and not ln.startswith("at ")]
    return f"{r.error} [{errors[-1][:300]}]" if errors and errors[-1] not in r.error else r.error

"""Real package registries on loopback, and tiny MCP server packages to publish to them.

    def test_pin(verdaccio, npm_pin_probe, pypiserver, pypi_pin_probe):
        verdaccio.url, verdaccio.env          # http://127.0.0.1:PORT/, npm's env for it
        pypiserver.url, pypiserver.env        # http://127.0.0.1:PORT/simple/, pip's and uv's env
        npm_pin_probe.versions                # ('1.0.0', '1.1.0'): 1.1.0 is latest
        mcp_exchange(["npx", "-y", "mcp-orch-pin-probe@1.0.0"], verdaccio.env)["initialize"]

Fixtures (session scope; the root ``tests/conftest.py`` registers this module as a plugin):

- ``verdaccio``: the real verdaccio (``scripts/ci-clients.sh`` installs it from
  tests/acceptance/requirements.txt) on a free loopback port, storage in a temporary folder, no
  uplinks (fully offline). A user is registered over its HTTP API and its token is written to a
  temporary ``.npmrc``; ``env`` points npm at the registry, that ``.npmrc``, a temporary cache
  and a temporary HOME. ``publish(dir)`` runs ``npm publish``. Skips when verdaccio is missing.
- ``pypiserver``: ``pypi-server run`` (the ``test`` extra installs it) on a free loopback port,
  no fallback to pypi.org, no authentication; ``add(path)`` copies a wheel or sdist in; ``env``
  points pip and uv at it (``PIP_INDEX_URL``, ``UV_DEFAULT_INDEX``) with a temporary uv cache.
- ``npm_pin_probe`` / ``pypi_pin_probe``: :data:`PROBE` published at 1.0.0 and 1.1.0 (latest).

Builders: :func:`build_npm_server` (a package whose ``bin`` is a dependency-free Node MCP stdio
server) and :func:`build_pypi_server` (a wheel, built with zipfile, whose console script is the
same server in stdlib Python); both answer ``initialize`` with ``serverInfo.version`` = the
package version, and list one tool ``whoami`` that names it. :func:`mcp_exchange` talks to one.
Every process a fixture starts runs in its own process group, terminated at teardown.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import hashlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from acceptance.kit import NPM_BIN, free_port

__all__ = [
    "PROBE",
    "PROBE_VERSIONS",
    "Published",
    "PypiServer",
    "Verdaccio",
    "build_npm_server",
    "build_pypi_sdist",
    "build_pypi_server",
    "free_port",
    "mcp_exchange",
    "npm_pin_probe",
    "pypi_pin_probe",
    "pypiserver",
    "serving",
    "tool_bin",
    "verdaccio",
]

PROBE = "mcp-orch-pin-probe"  # the package both registries hold
PROBE_VERSIONS = ("1.0.0", "1.1.0")  # published in this order: 1.1.0 is latest
PROTOCOL = "2025-06-18"  # what mcp_exchange asks for (the servers echo it)
START_TIMEOUT = 30.0
# variables of the outer environment that would point a tool at another registry or config
_FOREIGN = re.compile(r"^(npm_config_|pip_|uv_)", re.IGNORECASE)


def tool_bin(name: str) -> str | None:
    """An installed tool: the venv's (``pypi-server``, ``uv``, ``uvx``), the clients cache's
    (``verdaccio``), else PATH's; None when none has it."""
    for folder in (Path(sys.executable).parent, NPM_BIN):
        if (folder / name).exists():
            return str(folder / name)
    return shutil.which(name)


def _base_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not _FOREIGN.match(k)}
    env.update(HOME=str(home), USERPROFILE=str(home), NO_COLOR="1", CI="1")
    for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        env.pop(var, None)
    home.mkdir(parents=True, exist_ok=True)
    return env


# ---- processes -------------------------------------------------------------------------------


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate the process group (SIGTERM, then SIGKILL)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
    else:  # the leader is gone; children may not be
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)


def _http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return bool(resp.status == 200)
    except (OSError, ValueError):
        return False


@contextlib.contextmanager
def serving(
    argv: Sequence[str], ready_url: str, log: Path, env: Mapping[str, str]
) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``argv`` in its own process group, wait until ``ready_url`` answers 200, yield it,
    then terminate the group."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=dict(env),
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _http_ok(ready_url, 1.0):
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-2000:]
                state = f"exited {proc.returncode}" if proc.poll() is not None else "no answer"
                pytest.fail(f"{argv[0]} did not start ({state}):\n{tail}", pytrace=False)
            time.sleep(0.1)
        yield proc
    finally:
        _stop(proc)


# ---- verdaccio -------------------------------------------------------------------------------

_VERDACCIO_CONFIG = """\
storage: {storage}
auth:
  htpasswd:
    file: {htpasswd}
    max_users: 10
uplinks: {{}}
packages:
  '@*/*':
    access: $all
    publish: $authenticated
    unpublish: $authenticated
  '**':
    access: $all
    publish: $authenticated
    unpublish: $authenticated
web:
  enable: false
log: {{type: stdout, format: pretty, level: warn}}
"""


@dataclass
class Verdaccio:
    """A running verdaccio: ``url`` (with a trailing slash), ``npmrc`` (registry and token),
    ``env`` for npm / npx, ``publish(dir)``, ``packument(name)`` as served over HTTP."""

    url: str
    root: Path
    npmrc: Path
    token: str
    env: dict[str, str] = field(default_factory=dict)

    def publish(self, package_dir: Path, tag: str | None = None) -> None:
        argv = ["npm", "publish", str(package_dir), "--registry", self.url]
        if tag:
            argv += ["--tag", tag]
        out = subprocess.run(
            argv, env=self.env, cwd=self.root, capture_output=True, text=True, timeout=60
        )
        if out.returncode != 0:
            pytest.fail(f"npm publish {package_dir} failed:\n{out.stderr[-2000:]}", pytrace=False)

    def packument(self, name: str) -> dict[str, Any]:
        url = self.url + name.replace("/", "%2f")
        with urllib.request.urlopen(url, timeout=10) as resp:
            data: dict[str, Any] = json.load(resp)
        return data


def _adduser(url: str, user: str, password: str) -> str:
    body = json.dumps({"name": user, "password": password, "type": "user"}).encode()
    req = urllib.request.Request(
        f"{url}-/user/org.couchdb.user:{user}",
        data=body,
        method="PUT",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return str(json.load(resp)["token"])


@pytest.fixture(scope="session")
def verdaccio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Verdaccio]:
    binary = tool_bin("verdaccio")
    if binary is None:
        pytest.skip(
            f"verdaccio is not installed in {NPM_BIN}: run scripts/ci-clients.sh "
            "(it installs tests/acceptance/requirements.txt)"
        )
    root = tmp_path_factory.mktemp("verdaccio")
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
        token = _adduser(url, "mcp-orch-test", "mcp-orch-test-pass")
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


# ---- pypiserver ------------------------------------------------------------------------------


@dataclass
class PypiServer:
    """A running pypiserver: ``url`` (its simple index, ``.../simple/``), ``dir`` (the files it
    serves), ``add(path)``, ``env`` for pip and uv."""

    url: str
    dir: Path
    env: dict[str, str] = field(default_factory=dict)

    def add(self, path: Path) -> Path:
        target = self.dir / path.name
        shutil.copyfile(path, target)
        return target


@pytest.fixture(scope="session")
def pypiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PypiServer]:
    binary = tool_bin("pypi-server")
    if binary is None:
        pytest.skip("pypi-server is not installed: install the test extra (pypiserver)")
    root = tmp_path_factory.mktemp("pypiserver")
    packages = root / "packages"
    packages.mkdir()
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
        "simple-dir",  # reads the folder on every request: added files show at once
        str(packages),
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
        yield PypiServer(url=url, dir=packages, env=env)


# ---- the MCP server packages -----------------------------------------------------------------

_NODE_SERVER = r"""#!/usr/bin/env node
// A tiny MCP stdio server (newline-delimited JSON-RPC): which package version runs.
"use strict";
const NAME = __NAME__;
const VERSION = __VERSION__;
const readline = require("readline");
const send = (msg) => process.stdout.write(JSON.stringify(msg) + "\n");
const tool = {
  name: "whoami",
  description: `Names the package that runs: ${NAME} ${VERSION}`,
  inputSchema: { type: "object", properties: {} },
};
function answer(method, params) {
  switch (method) {
    case "initialize":
      return {
        protocolVersion: params.protocolVersion || "2025-06-18",
        capabilities: { tools: {}, resources: {}, prompts: {} },
        serverInfo: { name: NAME, version: VERSION },
      };
    case "ping":
      return {};
    case "tools/list":
      return { tools: [tool] };
    case "tools/call":
      if (params.name !== "whoami") throw { code: -32602, message: `no tool ${params.name}` };
      return { content: [{ type: "text", text: `${NAME} ${VERSION}` }], isError: false };
    case "resources/list":
      return { resources: [] };
    case "prompts/list":
      return { prompts: [] };
    default:
      throw { code: -32601, message: `method not found: ${method}` };
  }
}
readline.createInterface({ input: process.stdin, terminal: false }).on("line", (line) => {
  if (!line.trim()) return;
  let msg;
  try {
    msg = JSON.parse(line);
  } catch (e) {
    send({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "parse error" } });
    return;
  }
  if (msg.id === undefined || msg.id === null) return; // a notification
  try {
    send({ jsonrpc: "2.0", id: msg.id, result: answer(msg.method, msg.params || {}) });
  } catch (err) {
    send({ jsonrpc: "2.0", id: msg.id, error: { code: err.code || -32603, message: String(err.message || err) } });
  }
});
// stdin EOF: nothing more is pending, so node exits on its own (stdout is flushed first)
"""

_PYTHON_SERVER = '''"""A tiny MCP stdio server (newline-delimited JSON-RPC): which package version runs."""

import json
import sys

NAME = __NAME__
VERSION = __VERSION__
TOOL = {
    "name": "whoami",
    "description": f"Names the package that runs: {NAME} {VERSION}",
    "inputSchema": {"type": "object", "properties": {}},
}


class Failure(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def answer(method, params):
    if method == "initialize":
        return {
            "protocolVersion": params.get("protocolVersion") or "2025-06-18",
            "capabilities": {"tools": {}, "resources": {}, "prompts": {}},
            "serverInfo": {"name": NAME, "version": VERSION},
        }
    if method == "ping":
        return {}
    if method == "tools/list":
        return {"tools": [TOOL]}
    if method == "tools/call":
        if params.get("name") != "whoami":
            raise Failure(-32602, f"no tool {params.get('name')}")
        return {"content": [{"type": "text", "text": f"{NAME} {VERSION}"}], "isError": False}
    if method == "resources/list":
        return {"resources": []}
    if method == "prompts/list":
        return {"prompts": []}
    raise Failure(-32601, f"method not found: {method}")


def send(msg):
    sys.stdout.write(json.dumps(msg) + "\\n")
    sys.stdout.flush()


def main():
    for line in sys.stdin:  # ends at stdin EOF
        if not line.strip():
            continue
        try:
            msg = json.loads(line)
        except ValueError:
            send({"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "parse error"}})
            continue
        if not isinstance(msg, dict) or msg.get("id") is None:
            continue  # a notification
        try:
            send({"jsonrpc": "2.0", "id": msg["id"], "result": answer(msg.get("method"), msg.get("params") or {})})
        except Failure as err:
            send({"jsonrpc": "2.0", "id": msg["id"], "error": {"code": err.code, "message": str(err)}})
'''


def _fill(template: str, name: str, version: str) -> str:
    return template.replace("__NAME__", json.dumps(name)).replace(
        "__VERSION__", json.dumps(version)
    )


def build_npm_server(tmpdir: Path, name: str, version: str) -> Path:
    """A publishable npm package folder: ``name`` at ``version``, whose only ``bin`` (named
    after the package, without its scope) is a Node MCP stdio server."""
    folder = Path(tmpdir) / f"npm-{name.replace('@', '').replace('/', '-')}-{version}"
    folder.mkdir(parents=True)
    command = name.rsplit("/", 1)[-1]
    manifest = {
        "name": name,
        "version": version,
        "description": f"mcp-orch registry test server {version}",
        "bin": {command: "server.js"},
        "files": ["server.js"],
        "license": "MIT",
    }
    (folder / "package.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    server = folder / "server.js"
    server.write_text(_fill(_NODE_SERVER, name, version), encoding="utf-8")
    server.chmod(0o755)
    return folder


def _dist(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


_ZIP_TIME = (2020, 2, 2, 0, 0, 0)  # fixed: the same wheel has the same bytes, hence sha256


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def build_pypi_server(tmpdir: Path, name: str, version: str) -> Path:
    """A ``py3-none-any`` wheel of ``name`` at ``version`` (built with zipfile: METADATA, WHEEL,
    entry_points.txt, RECORD with sha256s) whose console script ``name`` is a stdlib-only
    Python MCP stdio server."""
    module, dist = _dist(name), _dist(name)
    info = f"{dist}-{version}.dist-info"
    files: dict[str, bytes] = {
        f"{module}/__init__.py": _fill(_PYTHON_SERVER, name, version).encode(),
        f"{module}/__main__.py": b"from . import main\n\nmain()\n",
        f"{info}/METADATA": (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
            f"Summary: mcp-orch registry test server {version}\nRequires-Python: >=3.8\n"
        ).encode(),
        f"{info}/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: mcp-orch-tests\nRoot-Is-Purelib: true\n"
            b"Tag: py3-none-any\n"
        ),
        f"{info}/entry_points.txt": f"[console_scripts]\n{name} = {module}:main\n".encode(),
    }
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    for path, data in files.items():
        writer.writerow([path, _record_hash(data), len(data)])
    writer.writerow([f"{info}/RECORD", "", ""])
    files[f"{info}/RECORD"] = record.getvalue().encode()
    out = Path(tmpdir) / f"{dist}-{version}-py3-none-any.whl"
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as whl:
        for path, data in files.items():
            entry = zipfile.ZipInfo(path, _ZIP_TIME)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            whl.writestr(entry, data)
    return out


def build_pypi_sdist(tmpdir: Path, name: str, version: str) -> Path:
    """A source distribution ``<dist>-<version>.tar.gz`` (PKG-INFO, pyproject.toml and the same
    server module): for what an index lists, not to be built."""
    dist = _dist(name)
    top = f"{dist}-{version}"
    files = {
        f"{top}/PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{top}/pyproject.toml": (
            f'[project]\nname = "{name}"\nversion = "{version}"\n'
            f'[project.scripts]\n"{name}" = "{dist}:main"\n'
        ).encode(),
        f"{top}/{dist}/__init__.py": _fill(_PYTHON_SERVER, name, version).encode(),
    }
    out = Path(tmpdir) / f"{top}.tar.gz"
    out.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(out, "w:gz") as tar:
        for path, data in files.items():
            entry = tarfile.TarInfo(path)
            entry.size, entry.mtime, entry.mode = len(data), 1580601600, 0o644
            tar.addfile(entry, io.BytesIO(data))
    return out


# ---- published packages ----------------------------------------------------------------------


@dataclass(frozen=True)
class Published:
    """A package a fixture registry holds: its ``versions`` in publish order, ``latest``, and
    what was published for each version (the npm package folder, the wheel)."""

    name: str
    versions: tuple[str, ...]
    latest: str
    artifacts: dict[str, Path]


@pytest.fixture(scope="session")
def npm_pin_probe(verdaccio: Verdaccio, tmp_path_factory: pytest.TempPathFactory) -> Published:
    build = tmp_path_factory.mktemp("npm-probe")
    artifacts = {}
    for version in PROBE_VERSIONS:
        artifacts[version] = build_npm_server(build, PROBE, version)
        verdaccio.publish(artifacts[version])
    return Published(PROBE, PROBE_VERSIONS, PROBE_VERSIONS[-1], artifacts)


@pytest.fixture(scope="session")
def pypi_pin_probe(pypiserver: PypiServer, tmp_path_factory: pytest.TempPathFactory) -> Published:
    build = tmp_path_factory.mktemp("pypi-probe")
    artifacts = {v: pypiserver.add(build_pypi_server(build, PROBE, v)) for v in PROBE_VERSIONS}
    return Published(PROBE, PROBE_VERSIONS, PROBE_VERSIONS[-1], artifacts)


# ---- talking to a server ---------------------------------------------------------------------


def mcp_exchange(
    argv: Sequence[str],
    env: Mapping[str, str],
    *,
    cwd: Path | None = None,
    timeout: float = 90.0,
) -> dict[str, Any]:
    """Start ``argv`` (in its own process group), send ``initialize``,
    ``notifications/initialized``, ``tools/list`` and ``tools/call whoami``, close stdin and
    read the answers: ``{"initialize": result, "tools": [...], "whoami": text, "exit": rc}``.
    A failure (with the process's stderr) when an answer is missing."""
    lines = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": PROTOCOL,
                "capabilities": {},
                "clientInfo": {"name": "mcp-orch-tests", "version": "0"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}},
        {
            "jsonrpc": "2.0",
            "id": 3,
            "method": "tools/call",
            "params": {"name": "whoami", "arguments": {}},
        },
    ]
    payload = "".join(json.dumps(m) + "\n" for m in lines).encode()
    proc = subprocess.Popen(
        list(argv),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(env),
        cwd=cwd,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(payload, timeout=timeout)
    except subprocess.TimeoutExpired:
        _stop(proc)
        out, err = proc.communicate()
        pytest.fail(f"{' '.join(argv)} did not finish in {timeout:g}s:\n{err.decode()[-2000:]}")
    finally:
        _stop(proc)
    answers: dict[int, Any] = {}
    for raw in out.decode(errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            msg = json.loads(raw)
            if isinstance(msg, dict) and "id" in msg:
                answers[msg["id"]] = msg
    if not all(i in answers and "result" in answers[i] for i in (1, 2, 3)):
        pytest.fail(
            f"{' '.join(argv)} (exit {proc.returncode}) did not answer:\nstdout: "
            f"{out.decode(errors='replace')[-1000:]}\nstderr: {err.decode(errors='replace')[-2000:]}",
            pytrace=False,
        )
    return {
        "initialize": answers[1]["result"],
        "tools": answers[2]["result"]["tools"],
        "whoami": answers[3]["result"]["content"][0]["text"],
        "exit": proc.returncode,
    }

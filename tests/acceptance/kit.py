"""Helpers of the acceptance suite: the installed clients, a sandbox HOME deployed by mcp-orch,
the real server-everything behind an authenticating loopback proxy.

Nothing here touches the real home: every client command runs with HOME (and the XDG folders)
inside a temporary folder, and mcp-orch deploys into that folder as its client root.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import mcp_orch as mo
from mcp_orch.domain.clients import get_client, to_native

REPO = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("MCP_ORCH_CLIENTS_CACHE") or REPO / ".cache" / "clients").resolve()
NPM = CACHE / "npm"
NPM_BIN = NPM / "node_modules" / ".bin"
PYPI_BIN = CACHE / "pypi" / "bin"
MATRIX_FILE = REPO / ".cache" / "acceptance-matrix.md"

TOKEN = "accept-7f3c9e2b1d"  # what the proxy demands; ACCEPT_TOKEN in the clients' environment
TOKEN_VAR = "ACCEPT_TOKEN"
SERVERS = ("stdio", "http", "sse")
NAMES = {"stdio": "time", "http": "everything-http", "sse": "everything-sse"}
TRANSPORTS = {"stdio": "stdio", "http": "streamable-http", "sse": "sse"}
# variables that point a client at the real home or a real account: never passed through
REAL_HOME_VARS = (
    "CODEX_HOME",
    "CLAUDE_CONFIG_DIR",
    "GEMINI_CLI_HOME",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "ANTHROPIC_API_KEY",
    "OPENAI_API_KEY",
    "npm_config_prefix",
    "NPM_CONFIG_PREFIX",
    "npm_config_userconfig",
)


def client_bin(name: str) -> str:
    """The absolute path of an installed binary, or a test failure (CI installs them all)."""
    for folder in (NPM_BIN, PYPI_BIN):
        path = folder / name
        if path.exists():
            return str(path)
    skipped = CACHE / "pypi.skipped"
    if skipped.exists():  # the install script could not find a Python new enough for them
        pytest.skip(f"{name}: {skipped.read_text().strip()}")
    pytest.fail(
        f"{name} is not installed in {CACHE}: run scripts/ci-clients.sh "
        f"(it installs tests/acceptance/requirements.txt)",
        pytrace=False,
    )


def ca_bundle() -> str | None:
    """The system CA bundle (the sandbox intercepts TLS; Node and Rust tools need it named)."""
    for cand in (
        os.environ.get("SSL_CERT_FILE"),
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/cert.pem",
    ):
        if cand and Path(cand).is_file():
            return cand
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the sandbox --------------------------------------------------------------------------------
def neutral_entries(everything: Everything | None) -> dict[str, dict[str, Any]]:
    """The three servers as mcp-orch's neutral entries, keyed by role (stdio, http, sse)."""
    auth = {"Authorization": "Bearer ${env:" + TOKEN_VAR + "}"}
    out: dict[str, dict[str, Any]] = {
        "stdio": {
            "transport": "stdio",
            "command": sys.executable,
            "args": ["-m", "mcp_server_time", "--local-timezone", "UTC"],
            "env": {"TZ_HINT": "${env:" + TOKEN_VAR + "}"},
        }
    }
    if everything is not None:
        out["http"] = {"transport": "streamable-http", "url": everything.http_url, "headers": auth}
        out["sse"] = {"transport": "sse", "url": everything.sse_url, "headers": dict(auth)}
    return out


@dataclass
class Sandbox:
    """A temporary HOME, a project folder in it, and an mcp-orch workspace whose client root is
    that HOME. ``run`` runs a client there; ``deploy`` puts the three servers in its file."""

    root: Path
    everything: Everything | None = None
    home: Path = field(init=False)
    project: Path = field(init=False)
    ws: mo.Workspace = field(init=False)
    env: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.home = self.root / "home"
        self.project = self.home / "project"
        self.project.mkdir(parents=True)
        self.ws = mo.Workspace(self.root / "ws", client_root=self.home)
        self.env = self._environment()
        self._npmrc()

    def _environment(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in REAL_HOME_VARS
            and not k.startswith(("XDG_", "MCP_ORCH_", "PYTEST_", "COV_", "CLAUDE", "CODEX"))
        }
        node_dir = str(Path(shutil.which("node") or "/usr/bin/node").parent)
        path = [str(NPM_BIN), str(PYPI_BIN), node_dir, env.get("PATH", "/usr/bin:/bin")]
        env.update(
            HOME=str(self.home),
            USERPROFILE=str(self.home),
            XDG_CONFIG_HOME=str(self.home / ".config"),
            XDG_DATA_HOME=str(self.home / ".local" / "share"),
            XDG_STATE_HOME=str(self.home / ".local" / "state"),
            XDG_CACHE_HOME=str(self.home / ".cache"),
            PATH=os.pathsep.join(path),
            NO_COLOR="1",
            CI="1",
            **{TOKEN_VAR: TOKEN},
        )
        ca = ca_bundle()
        if ca:
            env["SSL_CERT_FILE"] = ca
            env["NODE_EXTRA_CA_CERTS"] = ca
        return env

    def _npmrc(self) -> None:
        """The sandbox user's npm: HOME is an npm project whose node_modules is the cache's, so
        ``npx -y mcp-remote`` (the bridge mcp-orch renders, run from the project folder) finds
        the pinned mcp-remote there and downloads nothing; ~/.npmrc names the CA bundle."""
        lines = ["update-notifier=false", "fund=false", "audit=false", "prefer-offline=true"]
        ca = ca_bundle()
        if ca:
            lines.append(f"cafile={ca}")
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            reg = subprocess.run(
                ["npm", "config", "get", "registry"], capture_output=True, text=True, timeout=20
            ).stdout.strip()
            if reg.startswith("http"):
                lines.append(f"registry={reg}")
        (self.home / ".npmrc").write_text("\n".join(lines) + "\n", encoding="utf-8")
        (self.home / "package.json").write_text('{"private": true}\n', encoding="utf-8")
        (self.home / "node_modules").symlink_to(NPM / "node_modules", target_is_directory=True)

    def run(
        self, argv: Sequence[str], timeout: float = 60, **kw: Any
    ) -> subprocess.CompletedProcess[str]:
        """Run a command as the sandbox user (text, captured, cwd=project, env=.env)."""
        kw.setdefault("cwd", self.project)
        kw.setdefault("env", self.env)
        kw.setdefault("stdin", subprocess.DEVNULL)
        return subprocess.run(
            list(argv), capture_output=True, text=True, timeout=timeout, check=False, **kw
        )

    def entries(
        self, client_id: str, servers: Sequence[str] = SERVERS
    ) -> dict[str, dict[str, Any]]:
        """The client-native entries mcp-orch renders for the servers (name -> entry)."""
        spec = get_client(client_id)
        neutral = neutral_entries(self.everything)
        missing = [s for s in servers if s not in neutral]
        if missing:
            raise ValueError(f"{missing}: use the `everything` fixture for remote servers")
        return {NAMES[s]: to_native(spec, neutral[s]) for s in servers}

    def deploy(
        self,
        client_id: str,
        *,
        servers: Sequence[str] = SERVERS,
        profile: str = "default",
        scope: str = "user",
    ) -> mo.Deployment:
        """Add the servers to the profile's draft (the client-native entries mcp-orch's own
        renderer makes from the neutral ones), validate, publish and deploy into the sandbox."""
        prof = self.ws.profile(client_id, profile, target_os="linux")
        draft = prof.draft
        for name, entry in self.entries(client_id, servers).items():
            draft.add_entry(name, entry, replace=True)
        # MCP006 (command not on PATH) looks at this process's PATH, not the client's
        art = draft.validate(ignore=["MCP006"]).publish(changelog=f"acceptance: {client_id}")
        kw: dict[str, Any] = {"scope": scope}
        if scope == "project":
            kw["project_dir"] = str(self.project)
        return art.deploy(**kw)


# -- server-everything behind a loopback proxy that demands the bearer token ---------------------
_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "host",
    "content-length",
}


class _Proxy(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, upstream_port: int, token: str, seen: list[tuple[str, dict[str, str]]]):
        self.upstream_port = upstream_port
        self.token = token
        self.seen = seen
        super().__init__(("127.0.0.1", 0), _ProxyHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # a client that hangs up mid-stream is normal here


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Proxy

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.server.seen.append((self.path, headers))
        body = self._body()
        if headers.get("authorization") != f"Bearer {self.server.token}":
            msg = b'{"error":"missing or wrong bearer token"}'
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("WWW-Authenticate", 'Bearer realm="acceptance"')
            self.send_header("Content-Length", str(len(msg)))
            self.end_headers()
            self.wfile.write(msg)
            return
        up = http.client.HTTPConnection("127.0.0.1", self.server.upstream_port, timeout=300)
        fwd = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
        fwd["Host"] = f"127.0.0.1:{self.server.upstream_port}"
        if body or self.command in ("POST", "PUT", "PATCH"):
            fwd["Content-Length"] = str(len(body))
        try:
            up.request(self.command, self.path, body=body or None, headers=fwd)
            resp = up.getresponse()
        except OSError as exc:
            self.send_error(502, f"upstream: {exc}")
            return
        try:
            self.send_response(resp.status, resp.reason)
            for k, v in resp.getheaders():
                if k.lower() not in _HOP:
                    self.send_header(k, v)
            length = resp.getheader("Content-Length")
            chunked = length is None and self.command != "HEAD" and resp.status not in (204, 304)
            if length is not None:
                self.send_header("Content-Length", length)
            if chunked:
                self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.flush()
            while True:
                data = resp.read1(65536)
                if not data:
                    break
                if chunked:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                else:
                    self.wfile.write(data)
                self.wfile.flush()
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
        except (OSError, http.client.HTTPException):  # a side went away (an SSE stream closed)
            self.close_connection = True
        finally:
            up.close()

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _handle  # noqa: N815


@dataclass
class Everything:
    """The real server-everything twice (streamable HTTP and SSE) on loopback, each behind a
    proxy that answers 401 without ``Authorization: Bearer <token>`` and records every request's
    path and headers in ``seen``."""

    token: str = TOKEN
    http_url: str = ""
    sse_url: str = ""
    seen: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    _procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _proxies: list[_Proxy] = field(default_factory=list)
    _logs: list[Path] = field(default_factory=list)

    def start(self, logdir: Path) -> Everything:
        exe = client_bin("mcp-server-everything")
        for mode, path in (("streamableHttp", "/mcp"), ("sse", "/sse")):
            port = free_port()
            log = logdir / f"everything-{mode}.log"
            self._logs.append(log)
            env = {**os.environ, "PORT": str(port)}
            with log.open("wb") as out:
                proc = subprocess.Popen(
                    [exe, mode],
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            self._procs.append(proc)
            _wait_port(port, proc, log)
            proxy = _Proxy(port, self.token, self.seen)
            self._proxies.append(proxy)
            threading.Thread(target=proxy.serve_forever, daemon=True).start()
            url = f"http://127.0.0.1:{proxy.server_address[1]}{path}"
            if mode == "sse":
                self.sse_url = url
            else:
                self.http_url = url
        return self

    def mark(self) -> int:
        """A position in ``seen``: pass it to ``headers_for`` to see only later requests."""
        return len(self.seen)

    def headers_for(self, path: str, since: int = 0) -> list[dict[str, str]]:
        """The headers of the requests the proxy saw on ``path`` (``/mcp``, ``/sse``,
        ``/message``; the query is ignored), from position ``since`` of ``seen`` on."""
        return [h for p, h in list(self.seen)[since:] if p.split("?")[0] == path]

    def stop(self) -> None:
        for proxy in self._proxies:
            proxy.shutdown()
            proxy.server_close()
        for proc in self._procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)


def _wait_port(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server-everything exited: {log.read_text(errors='replace')}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"server-everything did not listen on {port}: {log.read_text()}")


@contextlib.contextmanager
def sandbox_open(root: Path, everything: Everything | None) -> Iterator[Sandbox]:
    """A :class:`Sandbox` with this process pointed at it too (HOME, the mcp-orch folders and
    ACCEPT_TOKEN, which clients whose rendering resolves secrets at deploy time read), for a
    sandbox shared by the tests of a module (the ``sandbox`` fixture is per test)."""
    with pytest.MonkeyPatch.context() as mp:
        sb = Sandbox(root, everything=everything)
        mp.setenv("HOME", str(sb.home))
        mp.setenv("USERPROFILE", str(sb.home))
        mp.setenv("MCP_ORCH_HOME", str(root / "ws"))
        mp.setenv("MCP_ORCH_CLIENT_ROOT", str(sb.home))
        mp.delenv("XDG_CONFIG_HOME", raising=False)
        mp.delenv("MCP_ORCH_KEY_PASSPHRASE", raising=False)
        mp.setenv(TOKEN_VAR, TOKEN)
        yield sb


@contextlib.contextmanager
def everything_running(logdir: Path) -> Iterator[Everything]:
    ev = Everything()
    try:
        yield ev.start(logdir)
    finally:
        ev.stop()


class ProcEnv:
    """Watch /proc while a client runs; keep the environment of the first process whose command
    line holds ``marker`` and whose HOME is the sandbox's (the stdio server the client started)."""

    def __init__(self, marker: str, home: Path) -> None:
        self.marker, self.home = marker.encode(), f"HOME={home}".encode()
        self.env: dict[str, str] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.is_set() and self.env is None:
            for pid in Path("/proc").iterdir():
                if not pid.name.isdigit():
                    continue
                with contextlib.suppress(OSError):
                    if self.marker not in (pid / "cmdline").read_bytes():
                        continue
                    raw = (pid / "environ").read_bytes().split(b"\0")
                    if self.home in raw:
                        pairs = (v.decode(errors="replace").partition("=") for v in raw if v)
                        self.env = {k: v for k, _, v in pairs}
                        return
            time.sleep(0.02)

    def __enter__(self) -> ProcEnv:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

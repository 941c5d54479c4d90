"""The limits of ``mcp-orch serve --http``: header and body timeouts, body size, the session cap
and idle session expiry.

The servers here run in this process (uvicorn in a thread, configured by ``uvicorn_config`` as
``serve --http`` does), with small limits, so a test can look into the SDK's session manager;
one subprocess checks that the command's options reach them. Raw sockets stand for slow or
misbehaving clients.
"""

from __future__ import annotations

import gc
import json
import os
import socket
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
import uvicorn

import mcp_orch as mo
from mcp_orch.frontends.cli.serve import serve_cmd
from mcp_orch.frontends.mcp_server import HTTPLimits, build_server, http_app, uvicorn_config
from mcp_orch.services.release.tokens import TokenStore

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "test", "version": "0"},
    },
}
ACCEPT = "application/json, text/event-stream"


@dataclass
class Live:
    host: str
    port: int
    token: str
    manager: Any  # the SDK's StreamableHTTPSessionManager

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/mcp"

    def sessions(self) -> dict[str, Any]:
        return self.manager._server_instances  # type: ignore[no-any-return]

    def initialize(self, http: httpx2.Client) -> httpx2.Response:
        return http.post(
            self.url,
            json=INITIALIZE,
            headers={"Accept": ACCEPT, "Authorization": f"Bearer {self.token}"},
        )

    def ping(self, http: httpx2.Client, session: str) -> httpx2.Response:
        return http.post(
            self.url,
            json={"jsonrpc": "2.0", "id": 2, "method": "ping"},
            headers={
                "Accept": ACCEPT,
                "Authorization": f"Bearer {self.token}",
                "Mcp-Session-Id": session,
                "Mcp-Protocol-Version": "2025-11-25",
            },
        )

    def raw(self) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout=10)
        return sock

    def head(self, content_length: int | None = None, *, chunked: bool = False) -> bytes:
        lines = [
            "POST /mcp HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            f"Authorization: Bearer {self.token}",
            "Content-Type: application/json",
            f"Accept: {ACCEPT}",
        ]
        if content_length is not None:
            lines.append(f"Content-Length: {content_length}")
        if chunked:
            lines.append("Transfer-Encoding: chunked")
        return ("\r\n".join(lines) + "\r\n\r\n").encode()


@contextmanager
def live_server(base: Path, limits: HTTPLimits) -> Iterator[Live]:
    ws = mo.Workspace(base / "ws", client_root=base / "root")
    token = TokenStore(ws).create("limits")
    server = build_server(ws)
    app = http_app(server, TokenStore(ws), limits=limits)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    config = uvicorn_config(app, limits, log_level="warning", lifespan="on", access_log=False)
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield Live("127.0.0.1", sock.getsockname()[1], token, server.session_manager)
    finally:
        uv.should_exit = True
        thread.join(15)
        sock.close()


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """Short header and body timeouts, 8 KiB of headers, a 64 KiB body, at most 3 sessions."""
    limits = HTTPLimits(
        header_timeout=0.5,
        max_header_bytes=8 * 1024,
        body_timeout=0.5,
        max_body=64 * 1024,
        session_idle=300,
        max_sessions=3,
    )
    with live_server(tmp_path_factory.mktemp("capped"), limits) as live:
        yield live


@pytest.fixture(scope="module")
def expiring(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """Sessions expire after 1 s without a request."""
    with live_server(tmp_path_factory.mktemp("expiring"), HTTPLimits(session_idle=1)) as live:
        yield live


def closed_after(sock: socket.socket, *, within: float = 5) -> tuple[float, bytes]:
    """Wait until the server closes ``sock``: seconds waited and whatever it sent first."""
    start = time.monotonic()
    sock.settimeout(within)
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    except TimeoutError:
        pytest.fail(f"the connection was still open after {within}s (got {received[:80]!r})")
    return time.monotonic() - start, received


def wait_until(check: Callable[[], bool], within: float) -> float:
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > within:
            pytest.fail(f"not within {within}s")
        time.sleep(0.05)
    return time.monotonic() - start


# ---- the connection ------------------------------------------------------------------------


def test_incomplete_headers_are_closed_after_the_timeout(capped: Live) -> None:
    half = capped.raw()
    half.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    drip = capped.raw()
    drip.sendall(b"POST /mcp HTTP/1.1\r\n")
    # a client that keeps sending a header byte now and then is closed all the same
    start = time.monotonic()
    try:
        for byte in b"X-Slow: aaaaaaaaaaaaaaaaaaaa":
            drip.sendall(bytes([byte]))
            time.sleep(0.1)
            if time.monotonic() - start > 3:
                break
    except (BrokenPipeError, ConnectionResetError):
        pass
    waited, sent = closed_after(half)
    assert sent == b""  # closed, not answered
    assert waited < 4
    assert closed_after(drip)[1] == b""
    assert time.monotonic() - start < 4
    # a complete request on a connection of its own is served meanwhile
    with httpx2.Client(timeout=30) as http:
        response = capped.initialize(http)
        assert response.status_code == 200, response.text
        http.delete(
            capped.url,
            headers={
                "Authorization": f"Bearer {capped.token}",
                "Mcp-Session-Id": response.headers["mcp-session-id"],
            },
        )


def test_a_kept_alive_connection_that_starts_a_request_slowly_is_closed(capped: Live) -> None:
    sock = capped.raw()
    body = b'{"jsonrpc": "2.0", "id": 1, "method": "ping"}'
    sock.sendall(capped.head(len(body)) + body)  # a whole request: answered (400, no session)
    sock.settimeout(5)
    first = sock.recv(65536)
    assert first.startswith(b"HTTP/1.1 400"), first[:80]
    sock.sendall(b"POST /mcp HTTP/1.1\r\n")  # then the next one stalls
    _, sent = closed_after(sock)
    assert b"HTTP/1.1 " not in sent


def test_many_slow_connections_are_all_closed(capped: Live) -> None:
    socks = []
    for i in range(100):
        sock = capped.raw()
        sock.sendall(f"GET /mcp?{i} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode())
        socks.append(sock)
    start = time.monotonic()
    for sock in socks:
        assert closed_after(sock)[1] == b""
        sock.close()
    assert time.monotonic() - start < 5


def test_oversized_headers_get_400(capped: Live) -> None:
    sock = capped.raw()
    sock.sendall(b"GET /mcp HTTP/1.1\r\nX-Big: " + b"a" * (10 * 1024) + b"\r\n\r\n")
    _, sent = closed_after(sock)
    assert sent.startswith(b"HTTP/1.1 400"), sent[:80]


# ---- the request body ----------------------------------------------------------------------


def test_a_stalled_body_gets_408_and_the_connection_closes(capped: Live) -> None:
    sock = capped.raw()
    sock.sendall(capped.head(200) + b'{"jsonrpc": "2.0", ')
    _, sent = closed_after(sock)
    head, _, body = sent.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), sent[:200]
    assert b"connection: close" in head.lower()
    error = json.loads(body)
    assert error["jsonrpc"] == "2.0" and error["error"]["code"] == -32600
    assert "stalled" in error["error"]["message"]


def test_an_oversized_body_gets_413(capped: Live) -> None:
    declared = capped.raw()  # refused on its Content-Length, before anything is read
    declared.sendall(capped.head(64 * 1024 + 1))
    _, sent = closed_after(declared)
    assert sent.startswith(b"HTTP/1.1 413"), sent[:80]
    assert (
        "larger than 65536 bytes" in json.loads(sent.partition(b"\r\n\r\n")[2])["error"]["message"]
    )

    chunked = capped.raw()  # no length declared: refused once it has sent too much
    chunked.sendall(capped.head(chunked=True))
    chunk = b"a" * 16 * 1024
    try:
        for _ in range(5):
            chunked.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    except (BrokenPipeError, ConnectionResetError):
        pass
    _, sent = closed_after(chunked)
    assert sent.startswith(b"HTTP/1.1 413"), sent[:80]

    with httpx2.Client(timeout=30) as http:  # unauthenticated: refused all the same
        response = http.post(capped.url, content=b"x" * (64 * 1024 + 1))
    assert response.status_code == 413


# ---- sessions ------------------------------------------------------------------------------


def test_sessions_beyond_the_cap_get_503_with_retry_after(capped: Live) -> None:
    with httpx2.Client(timeout=30) as http:
        wait_until(lambda: not capped.sessions(), 10)
        opened = []
        for _ in range(3):
            response = capped.initialize(http)
            assert response.status_code == 200, response.text
            opened.append(response.headers["mcp-session-id"])
        assert sorted(capped.sessions()) == sorted(opened)

        refused = capped.initialize(http)
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "30"
        assert refused.json()["error"]["message"] == "Too many open sessions"
        assert len(capped.sessions()) == 3
        assert all(capped.ping(http, s).status_code == 200 for s in opened)  # none was evicted

        ended = http.delete(
            capped.url,
            headers={"Authorization": f"Bearer {capped.token}", "Mcp-Session-Id": opened[0]},
        )
        assert ended.status_code == 200
        again = capped.initialize(http)  # room again
        assert again.status_code == 200
        for session in [*opened[1:], again.headers["mcp-session-id"]]:
            http.delete(
                capped.url,
                headers={"Authorization": f"Bearer {capped.token}", "Mcp-Session-Id": session},
            )
    assert wait_until(lambda: not capped.sessions(), 10) >= 0


def test_an_idle_session_expires_and_is_freed(expiring: Live) -> None:
    with httpx2.Client(timeout=30) as http:
        sessions = []
        for _ in range(5):
            response = expiring.initialize(http)
            assert response.status_code == 200, response.text
            sessions.append(response.headers["mcp-session-id"])
        assert expiring.ping(http, sessions[0]).status_code == 200
        transports = [weakref.ref(expiring.sessions()[s]) for s in sessions]
        assert set(sessions) <= set(expiring.sessions())

        waited = wait_until(lambda: not set(sessions) & set(expiring.sessions()), 10)
        assert waited > 0.5  # expired for being idle, not at once
        for session in sessions:
            response = expiring.ping(http, session)
            assert response.status_code == 404, response.text
            assert response.json()["error"]["message"] == "Session not found"
        wait_until(lambda: (gc.collect(), all(ref() is None for ref in transports))[1], 10)

        fresh = expiring.initialize(http)  # a client that lost its session starts another
        assert fresh.status_code == 200


# ---- the command ---------------------------------------------------------------------------


LIMITS = ["--header-timeout", "0.5", "--max-sessions", "1", "--session-idle", "60"]


def test_the_command_options_reach_the_server(tmp_path: Path) -> None:
    defaults = {p.name: p.default for p in serve_cmd.params}
    limits = HTTPLimits()
    assert defaults["session_idle"] == limits.session_idle
    assert defaults["max_sessions"] == limits.max_sessions
    assert defaults["header_timeout"] == limits.header_timeout

    env = _sandbox(tmp_path)
    token = TokenStore(mo.Workspace(tmp_path / "ws")).create("cli")
    proc = subprocess.Popen(
        [sys.executable, "-m", "mcp_orch", "serve", "--http", "--port", "0", *LIMITS],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert " at http://" in line, line + proc.stderr.read()
        url = line.split(" at ", 1)[1].split()[0]
        host, port = url.removeprefix("http://").split("/")[0].rsplit(":", 1)
        sock = socket.create_connection((host, int(port)), timeout=10)
        sock.sendall(b"POST /mcp HTTP/1.1\r\n")
        _, sent = closed_after(sock)
        assert sent == b""
        headers = {"Accept": ACCEPT, "Authorization": f"Bearer {token}"}
        with httpx2.Client(timeout=30) as http:
            assert http.post(url, json=INITIALIZE, headers=headers).status_code == 200
            refused = http.post(url, json=INITIALIZE, headers=headers)
            assert refused.status_code == 503 and refused.headers["retry-after"] == "30"
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)

    stdio = subprocess.run(
        [sys.executable, "-m", "mcp_orch", "serve", "--max-sessions", "5"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert stdio.returncode == 2 and "--max-sessions needs --http" in stdio.stderr


def test_limits_are_checked() -> None:
    for bad in ({"header_timeout": 0}, {"session_idle": float("inf")}, {"max_sessions": 0}):
        with pytest.raises(ValueError):
            HTTPLimits(**bad)
    assert HTTPLimits(session_idle=1).retry_after == 1


def _sandbox(base: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        HOME=str(base / "home"),
        MCP_ORCH_HOME=str(base / "ws"),
        MCP_ORCH_CLIENT_ROOT=str(base / "root"),
    )
    env.pop("XDG_CONFIG_HOME", None)
    (base / "home").mkdir(exist_ok=True)
    return env

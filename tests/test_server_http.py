"""The MCP server over streamable HTTP with bearer tokens.

One ``mcp-orch serve --http --port 0`` subprocess (on a free loopback port) serves the whole
module; each test mints its own token from the test process, which the running server picks up
without a restart. Covered: 401 without a token, with a wrong one and with another scheme; the
lifecycle with a token (the client file on disk, the token's name as the audit actor, for both
the 2026 single-request protocol and a legacy session); a revoked token stops working, also in
an open session; 200 concurrent tool calls from 8 clients; binding a non-loopback address with
no token configured is refused; the ``token`` commands store only hashes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

import mcp_orch as mo
from mcp_orch.operations.serving import is_loopback
from mcp_orch.services.release.tokens import TokenStore

pytestmark = pytest.mark.anyio

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


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Served:
    url: str
    workspace: Path
    client_root: Path
    env: dict[str, str]
    log: list[str]

    def ws(self) -> mo.Workspace:
        return mo.Workspace(self.workspace, client_root=self.client_root)

    def mint(self, name: str) -> str:
        return TokenStore(self.ws()).create(name)


def sandbox_env(base: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        HOME=str(base / "home"),
        MCP_ORCH_HOME=str(base / "ws"),
        MCP_ORCH_CLIENT_ROOT=str(base / "root"),
    )
    env.pop("XDG_CONFIG_HOME", None)
    (base / "home").mkdir(exist_ok=True)
    return env


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    base = tmp_path_factory.mktemp("http")
    env = sandbox_env(base)
    proc = subprocess.Popen(
        [sys.executable, "-m", "mcp_orch", "serve", "--http", "--port", "0"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    log: list[str] = []
    url: list[str] = []
    ready = threading.Event()

    def drain() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            log.append(line)
            if " at http://" in line and not url:
                url.append(line.split(" at ", 1)[1].split()[0])
                ready.set()
        ready.set()

    threading.Thread(target=drain, daemon=True).start()
    ready.wait(60)
    if not url:
        proc.kill()
        pytest.fail("the server did not start:\n" + "".join(log))
    assert url[0].startswith("http://127.0.0.1:") and url[0].endswith("/mcp")
    try:
        yield Served(url[0], base / "ws", base / "root", env, log)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@asynccontextmanager
async def connect(url: str, token: str | None, mode: str = "auto") -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    timeout = httpx2.Timeout(30, read=120)
    async with (
        httpx2.AsyncClient(headers=headers, timeout=timeout) as http,
        Client(streamable_http_client(url, http_client=http), mode=mode) as c,  # type: ignore[arg-type]
    ):
        yield c


async def ok(c: Client, tool: str, **args: Any) -> dict[str, Any]:
    result = await c.call_tool(tool, args)
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    return result.structured_content


def leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in leaves(inner)]
    return [exc]


async def post(url: str, headers: dict[str, str]) -> httpx2.Response:
    async with httpx2.AsyncClient(timeout=30) as http:
        return await http.post(
            url,
            json=INITIALIZE,
            headers={"Accept": "application/json, text/event-stream", **headers},
        )


# ---- authentication ------------------------------------------------------------------------


async def test_no_token_or_a_wrong_one_gets_401(served: Served) -> None:
    served.mint("someone")
    for headers in (
        {},
        {"Authorization": "Bearer mco_wrong"},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
    ):
        response = await post(served.url, headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"].startswith("Bearer")
        body = response.json()
        assert body["error"] == "unauthorized" and "mcp-orch token create" in body["hint"]
    with pytest.raises(BaseException) as err:
        async with connect(served.url, "mco_wrong"):
            pass
    assert any(isinstance(e, MCPError) for e in leaves(err.value))


async def test_a_valid_token_is_let_in(served: Served) -> None:
    token = served.mint("raw")
    response = await post(served.url, {"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert "mcp-orch" in response.text


async def test_the_lifecycle_with_a_token(served: Served) -> None:
    token = served.mint("alice")
    async with connect(served.url, token) as c:
        assert "github" in [
            s["id"] for s in (await ok(c, "list_available_servers", search="github"))["servers"]
        ]
        await ok(c, "add_server_to_config", client_id="cursor", server_id="time")
        assert (await ok(c, "validate_draft", client_id="cursor"))["ok"] is True
        art = await ok(c, "publish_config", client_id="cursor", changelog="over http")
        dep = await ok(c, "deploy_config", client_id="cursor")
        events = (await ok(c, "get_audit_log", client_id="cursor", profile_id="default"))["events"]

    target = served.client_root / ".cursor" / "mcp.json"
    assert dep["path"] == str(target)
    on_disk = json.loads(target.read_text())
    assert on_disk["mcpServers"]["time"]["command"] == "uvx"
    assert [(e["action"], e["actor"]) for e in events[:2]] == [
        ("deploy", "alice"),
        ("publish", "alice"),
    ]
    stored = served.ws().audit.query(artifact=art["artifact_id"])
    assert {e["actor"] for e in stored} == {"alice"}


async def test_a_legacy_session_records_the_token_name_too(served: Served) -> None:
    token = served.mint("bob")
    async with connect(served.url, token, mode="legacy") as c:
        assert not c.protocol_version.startswith("2026")
        await ok(
            c, "add_server_to_config", client_id="vscode", profile_id="legacy", server_id="fetch"
        )
        art = await ok(
            c, "publish_config", client_id="vscode", profile_id="legacy", changelog="bob"
        )
    events = served.ws().audit.query(artifact=art["artifact_id"])
    assert [(e["action"], e["actor"]) for e in events] == [("publish", "bob")]


async def test_a_revoked_token_stops_working(served: Served) -> None:
    token = served.mint("carol")
    async with connect(served.url, token) as c:
        await ok(c, "list_profiles")
        out = subprocess.run(
            [sys.executable, "-m", "mcp_orch", "token", "revoke", "carol"],
            env=served.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
        with pytest.raises(MCPError):
            await c.call_tool("list_profiles", {})
    response = await post(served.url, {"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


async def test_200_concurrent_calls_from_8_clients(served: Served) -> None:
    token = served.mint("load")
    failures: list[str] = []
    done = 0

    async def one(c: Client, i: int, j: int) -> None:
        nonlocal done
        profile = f"load{i}"
        calls: list[tuple[str, dict[str, Any]]] = [
            ("list_available_servers", {"search": ["", "git", "search", "docs"][j % 4]}),
            ("describe_server", {"server_id": ["time", "github", "fetch"][j % 3]}),
            (
                "add_server_to_config",
                {"client_id": "cursor", "profile_id": profile, "server_id": "time"},
            ),
            ("validate_draft", {"client_id": "cursor", "profile_id": profile}),
            ("view_draft_config", {"client_id": "cursor", "profile_id": profile}),
            ("publish_config", {"client_id": "cursor", "profile_id": profile, "changelog": "load"}),
            ("list_profiles", {}),
            ("get_audit_log", {"limit": 5}),
        ]
        name, args = calls[j % len(calls)]
        result = await c.call_tool(name, args)
        if result.is_error:
            failures.append(f"{name} {args}: {result.content}")
        done += 1

    async def client(i: int) -> None:
        async with connect(served.url, token) as c:
            await ok(
                c,
                "add_server_to_config",
                client_id="cursor",
                profile_id=f"load{i}",
                server_id="time",
            )
            async with anyio.create_task_group() as tg:
                for j in range(25):
                    tg.start_soon(one, c, i, j)

    start = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for i in range(8):
            tg.start_soon(client, i)
    elapsed = time.perf_counter() - start
    assert failures == [], failures[:5]
    assert done == 200, elapsed
    check = served.ws().verify()
    assert check["ok"], check["problems"]
    assert {e["actor"] for e in served.ws().audit.query(action="publish")} >= {"load"}


# ---- binding and tokens --------------------------------------------------------------------


def test_binding_elsewhere_without_a_token_is_refused(tmp_path: Path) -> None:
    env = sandbox_env(tmp_path)
    out = subprocess.run(
        [sys.executable, "-m", "mcp_orch", "serve", "--http", "--host", "0.0.0.0", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert "refusing to serve on 0.0.0.0" in out.stderr
    assert "hint: create a bearer token first, or bind to 127.0.0.1 (--host)" in out.stderr


def test_loopback_detection() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("[::1]")
    assert is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("::") and not is_loopback("192.168.1.9")


def test_token_commands_store_only_hashes(tmp_path: Path) -> None:
    env = sandbox_env(tmp_path)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "mcp_orch", "token", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    created = cli("create", "ci")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("mco_") and len(token) > 40 and "\n" not in token
    assert "shown only this once" in created.stderr
    store = tmp_path / "ws" / "tokens.json"
    assert store.stat().st_mode & 0o777 == 0o600
    for path in (tmp_path / "ws").rglob("*"):
        if path.is_file():
            assert token not in path.read_text(errors="replace"), path
    saved = json.loads(store.read_text())["tokens"]["ci"]
    assert saved["hash"].startswith("sha256:")
    ws = mo.Workspace(tmp_path / "ws")
    assert TokenStore(ws).verify(token) == "ci"
    assert TokenStore(ws).verify(token + "x") is None

    listed = cli("list", "--json")
    assert [row["name"] for row in json.loads(listed.stdout)["tokens"]] == ["ci"]
    assert token not in listed.stdout and saved["hash"] not in listed.stdout

    again = cli("create", "ci")
    assert again.returncode == 2 and "already exists" in again.stderr
    bad = cli("create", "../x")
    assert bad.returncode == 2 and "invalid token name" in bad.stderr
    unknown = cli("revoke", "nobody")
    assert unknown.returncode == 2 and "hint: tokens: ci" in unknown.stderr

    assert cli("revoke", "ci").returncode == 0
    assert json.loads(cli("list", "--json").stdout) == {"tokens": []}
    assert TokenStore(ws).verify(token) is None
    events = ws.audit.query(action="key")
    assert [e["details"]["event"] for e in events] == ["token-revoke", "token-create"]

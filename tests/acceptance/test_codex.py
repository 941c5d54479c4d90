"""Codex reads what mcp-orch deployed into ~/.codex/config.toml (CODEX_HOME unset, so the
sandbox HOME's ~/.codex): ``codex mcp get NAME --json`` prints the transport Codex parsed, and
``codex app-server``'s ``mcpServerStatus/list`` starts every server and reports the MCP server
info of each one it connected to (offline: no model, no login)."""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kit import NAMES, TOKEN, TOKEN_VAR, Everything, Sandbox, client_bin, sandbox_open

from mcp_orch.domain.pins import MCP_REMOTE_VERSION

CLIENT = "codex"


@dataclass
class Reading:
    sandbox: Sandbox
    get: dict[str, dict[str, Any]]  # name -> `codex mcp get NAME --json`
    status: dict[str, dict[str, Any]]  # name -> its McpServerStatus from the app server
    since: int


def app_server_status(sb: Sandbox, timeout: float = 120) -> dict[str, dict[str, Any]]:
    """``mcpServerStatus/list`` of ``codex app-server`` (JSON-RPC over stdio, one per line)."""
    proc = subprocess.Popen(
        [client_bin("codex"), "app-server"],
        cwd=sb.project,
        env=sb.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True).start()  # type: ignore[union-attr]

    def send(msg: dict[str, Any]) -> None:
        proc.stdin.write(json.dumps(msg) + "\n")  # type: ignore[union-attr]
        proc.stdin.flush()  # type: ignore[union-attr]

    def answer(req_id: int) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                msg = json.loads(lines.get(timeout=max(0.1, deadline - time.monotonic())))
            except queue.Empty:
                break
            if msg.get("id") == req_id:
                assert "error" not in msg, msg
                return dict(msg["result"])
        raise AssertionError(f"codex app-server gave no answer to request {req_id}")

    try:
        send(
            {
                "id": 1,
                "method": "initialize",
                "params": {"clientInfo": {"name": "acc", "version": "1"}},
            }
        )
        answer(1)
        send({"method": "initialized"})
        send({"id": 2, "method": "mcpServerStatus/list", "params": {"detail": "toolsAndAuthOnly"}})
        return {s["name"]: s for s in answer(2)["data"]}
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def codex(tmp_path_factory: pytest.TempPathFactory, everything: Everything) -> Iterator[Reading]:
    with sandbox_open(tmp_path_factory.mktemp("codex"), everything) as sb:
        assert "CODEX_HOME" not in sb.env
        dep = sb.deploy(CLIENT)
        assert Path(dep.path) == sb.home / ".codex" / "config.toml"
        exe = client_bin("codex")
        got = {}
        for name in NAMES.values():
            res = sb.run([exe, "mcp", "get", name, "--json"], timeout=60)
            assert res.returncode == 0, res.stderr
            got[name] = json.loads(res.stdout)
        since = everything.mark()
        yield Reading(sb, got, app_server_status(sb), since)


def _connected(status: dict[str, Any]) -> bool:
    return bool(status.get("serverInfo")) and not status.get("toolsError") and bool(status["tools"])


def test_stdio(codex: Reading, verdict) -> None:
    verdict.cell(CLIENT, "stdio")
    t = codex.get["time"]["transport"]
    assert t["type"] == "stdio"
    assert t["args"][:2] == ["-m", "mcp_server_time"]
    # Codex cannot expand variables in `env`: mcp-orch resolves the reference at deploy time
    assert t["env"] == {"TZ_HINT": TOKEN}
    status = codex.status["time"]
    assert _connected(status), status
    assert status["serverInfo"]["name"] == "mcp-time"
    verdict(CLIENT, "stdio", "connected (env resolved at deploy)")


def test_http(codex: Reading, everything: Everything, verdict) -> None:
    verdict.cell(CLIENT, "http")
    t = codex.get["everything-http"]["transport"]
    assert t["type"] == "streamable_http"
    assert t["url"] == everything.http_url
    assert t["bearer_token_env_var"] == TOKEN_VAR  # the token stays in the environment
    status = codex.status["everything-http"]
    assert status["authStatus"] == "bearerToken"
    assert _connected(status), status
    sent = [
        h
        for h in everything.headers_for("/mcp", codex.since)
        if h.get("user-agent", "").startswith("codex-mcp-client/")
    ]
    assert sent and all(h.get("authorization") == f"Bearer {TOKEN}" for h in sent)
    verdict(CLIENT, "http", "connected ✓ header (bearer_token_env_var)")


def test_sse_bridged(codex: Reading, everything: Everything, verdict) -> None:
    verdict.cell(CLIENT, "sse")
    t = codex.get["everything-sse"]["transport"]
    assert t["type"] == "stdio"  # Codex has no SSE: mcp-orch bridges it with mcp-remote
    assert t["command"] == "npx"
    args = t["args"]
    bridge = f"mcp-remote@{MCP_REMOTE_VERSION}"  # the bridge is pinned
    assert args[args.index(bridge) + 1] == everything.sse_url
    assert args[args.index("--transport") + 1] == "sse-only"
    header = args[args.index("--header") + 1]
    assert header.startswith("Authorization:"), header
    # the value reaches mcp-remote through the environment Codex gives it: either a literal in
    # `env`, or ACCEPT_TOKEN passed through with `env_vars` (the value stays out of the file)
    ref = header.partition(":")[2]
    assert "${" in ref, header
    assert TOKEN in json.dumps(t["env"]) or TOKEN_VAR in (t.get("env_vars") or []), t
    status = codex.status["everything-sse"]
    assert _connected(status), status
    sent = everything.headers_for("/sse", codex.since)
    assert sent and all(h.get("authorization") == f"Bearer {TOKEN}" for h in sent)
    verdict(CLIENT, "sse", "bridged (mcp-remote) connected ✓ header")

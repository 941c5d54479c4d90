"""Mistral Vibe reads what mcp-orch deployed into ~/.vibe/config.toml. ``vibe mcp`` only adds and
removes, so Vibe is asked in Python, from its own venv: ``build_user_config_orchestrator`` (the
user-config stack ``vibe mcp add`` uses) parses the file into its ``MCPServer`` models, and
``MCPRegistry.get_tools_async`` runs Vibe's own discovery (initialize + tools/list) against each
server. Vibe has stdio, ``http`` and ``streamable-http`` transports and no SSE: an SSE server is
bridged through ``npx mcp-remote`` (stdio)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kit import PYPI_BIN, TOKEN, Everything, Sandbox, client_bin, sandbox_open

from mcp_orch.domain.pins import MCP_REMOTE_VERSION

CLIENT = "mistral-vibe"

READ = r"""
import asyncio, json
from vibe.core.config.default_orchestrator import build_user_config_orchestrator
from vibe.core.config.harness_files._harness_manager import init_harness_files_manager
from vibe.core.tools.mcp.registry import MCPRegistry

async def main():
    init_harness_files_manager("user")
    servers = list((await build_user_config_orchestrator()).config.mcp_servers)
    out = {}
    for s in servers:
        d = {"transport": s.transport}
        if s.transport == "stdio":
            d.update(argv=s.argv(), env=dict(s.env))
        else:
            d.update(url=s.url, headers=s.http_headers())
        out[s.name] = d
    reg = MCPRegistry()
    tools = await reg.get_tools_async(servers)
    failed = reg.pop_failed()
    for name, d in out.items():
        d["tools"] = sorted(t[len(name) + 1:] for t in tools if t.startswith(name + "_"))
        d["failed"] = failed.get(name)
    print(json.dumps(out))

asyncio.run(main())
"""


@dataclass
class Reading:
    sandbox: Sandbox
    path: Path
    servers: dict[str, dict[str, Any]]
    since: int


@pytest.fixture(scope="module")
def vibe(tmp_path_factory: pytest.TempPathFactory, everything: Everything) -> Iterator[Reading]:
    client_bin("vibe")
    with sandbox_open(tmp_path_factory.mktemp("vibe"), everything) as sb:
        dep = sb.deploy(CLIENT)
        since = everything.mark()
        out = sb.run([str(PYPI_BIN / "python"), "-c", READ], timeout=240)
        assert out.returncode == 0, out.stderr
        servers = json.loads(out.stdout.strip().splitlines()[-1])
        yield Reading(sb, Path(dep.path), servers, since)


def test_file_is_vibes_user_config(vibe: Reading) -> None:
    assert vibe.path == vibe.sandbox.home / ".vibe" / "config.toml"
    assert set(vibe.servers) >= {"time", "everything-http", "everything-sse"}, vibe.servers


def test_stdio(vibe: Reading, verdict) -> None:
    verdict.cell(CLIENT, "stdio")
    srv = vibe.servers["time"]
    assert srv["transport"] == "stdio" and srv["argv"][1:3] == ["-m", "mcp_server_time"], srv
    # Vibe passes `env` as given (no expansion) and does not inherit ACCEPT_TOKEN (the MCP SDK's
    # default environment): resolving at deploy time is the only way to give the value
    assert srv["env"].get("TZ_HINT") == TOKEN, srv
    assert srv["failed"] is None and "get_current_time" in srv["tools"], srv
    verdict(CLIENT, "stdio", "connected ✓ env (resolved at deploy)")


def test_http(vibe: Reading, everything: Everything, verdict) -> None:
    verdict.cell(CLIENT, "http")
    srv = vibe.servers["everything-http"]
    # Vibe's `http` and `streamable-http` both connect with streamable_http_client
    assert srv["transport"] in ("http", "streamable-http") and srv["url"] == everything.http_url
    assert srv["headers"].get("Authorization") == f"Bearer {TOKEN}", srv
    assert srv["failed"] is None and "echo" in srv["tools"], srv
    sent = everything.headers_for("/mcp", vibe.since)
    assert sent and all(h.get("authorization") == f"Bearer {TOKEN}" for h in sent)
    verdict(CLIENT, "http", "connected ✓ header expanded")


def test_sse(vibe: Reading, everything: Everything, verdict) -> None:
    verdict.cell(CLIENT, "sse")
    srv = vibe.servers["everything-sse"]
    bridge = f"mcp-remote@{MCP_REMOTE_VERSION}"  # the bridge, pinned
    assert srv["transport"] == "stdio" and bridge in srv["argv"], srv
    assert everything.sse_url in srv["argv"], srv
    assert srv["failed"] is None and "echo" in srv["tools"], srv
    sent = everything.headers_for("/message", vibe.since)
    assert sent and all(h.get("authorization") == f"Bearer {TOKEN}" for h in sent)
    verdict(CLIENT, "sse", "connected via mcp-remote ✓ header")

"""The Cline CLI (npm ``cline``) and what mcp-orch deploys for ``cline``. The CLI has no command
that lists MCP servers (``cline mcp`` only adds and removes; ``cline config`` needs a TTY), so it
is asked through its own MCP code: @cline/core, which the ``cline`` package pins and its compiled
binary embeds (cline_read.mjs): ``resolveDefaultMcpSettingsPath`` (where it reads),
``resolveMcpServerRegistrations`` (what it parses) and ``InMemoryMcpManager`` (what connects).

mcp-orch's ``cline`` row is the VS Code extension's file (globalStorage/saoudrizwan.claude-dev/
settings/cline_mcp_settings.json, which expands ``${env:NAME}``); the CLI is its own row,
``cline-cli``: it reads ~/.cline/data/settings/cline_mcp_settings.json (@cline/shared
``resolveMcpSettingsPath``; ``$CLINE_MCP_SETTINGS_PATH`` overrides) and expands no variables, so
mcp-orch resolves secrets at deploy time. The transport cells also read mcp-orch's file through
that variable, which must name the same file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kit import NPM, TOKEN, Everything, Sandbox, client_bin, sandbox_open

CLIENT = "cline-cli"
HERE = Path(__file__).resolve().parent


@dataclass
class Reading:
    sandbox: Sandbox
    deployed: Path  # where mcp-orch wrote
    default: dict[str, Any]  # the CLI's reading with its default path
    pointed: dict[str, Any]  # the CLI's reading of mcp-orch's file (CLINE_MCP_SETTINGS_PATH)
    since: int


def _read(sb: Sandbox, **env: str) -> dict[str, Any]:
    out = sb.run(
        ["node", str(HERE / "cline_read.mjs"), str(NPM / "node_modules")],
        timeout=240,
        env={**sb.env, **env},
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def cline(tmp_path_factory: pytest.TempPathFactory, everything: Everything) -> Iterator[Reading]:
    client_bin("cline")
    with sandbox_open(tmp_path_factory.mktemp("cline"), everything) as sb:
        dep = sb.deploy(CLIENT)
        default = _read(sb)
        since = everything.mark()
        pointed = _read(sb, CLINE_MCP_SETTINGS_PATH=str(dep.path))
        yield Reading(sb, Path(dep.path), default, pointed, since)


def test_cli_reads_its_own_settings_path(cline: Reading) -> None:
    # what the CLI resolves with HOME sandboxed: the path is a fact about the CLI, not mcp-orch
    assert cline.default["path"] == str(
        cline.sandbox.home / ".cline" / "data" / "settings" / "cline_mcp_settings.json"
    )


def test_cli_sees_the_deployed_servers(cline: Reading, verdict) -> None:
    verdict.cell(CLIENT, "path")
    assert str(cline.deployed) == cline.default["path"]
    assert set(cline.default["servers"]) >= {"time", "everything-http", "everything-sse"}
    verdict(CLIENT, "path", "~/.cline/data/settings ✓")


def test_stdio(cline: Reading, verdict) -> None:
    verdict.cell(CLIENT, "stdio")
    srv = cline.pointed["servers"]["time"]
    assert srv["type"] == "stdio" and srv["args"][:2] == ["-m", "mcp_server_time"], srv
    status = cline.pointed["status"]["time"]
    assert status["connected"] and "get_current_time" in status["tools"], status
    assert srv.get("env", {}).get("TZ_HINT") == TOKEN, srv
    verdict(CLIENT, "stdio", "connected ✓ env resolved at deploy")


def _remote(cline: Reading, everything: Everything, name: str, kind: str, url: str, path: str):
    srv = cline.pointed["servers"][name]
    assert srv["type"] == kind and srv["url"] == url, srv
    status = cline.pointed["status"][name]
    sent = everything.headers_for(path, cline.since)
    assert status["connected"], (status, [h.get("authorization") for h in sent])
    assert sent and all(h.get("authorization") == f"Bearer {TOKEN}" for h in sent)


def test_http(cline: Reading, everything: Everything, verdict) -> None:
    verdict.cell(CLIENT, "http")
    _remote(cline, everything, "everything-http", "streamableHttp", everything.http_url, "/mcp")
    verdict(CLIENT, "http", "connected ✓ header expanded")


def test_sse(cline: Reading, everything: Everything, verdict) -> None:
    verdict.cell(CLIENT, "sse")
    _remote(cline, everything, "everything-sse", "sse", everything.sse_url, "/sse")
    verdict(CLIENT, "sse", "connected ✓ header expanded")

"""Continue reads what mcp-orch deployed into ~/.continue/config.yaml. The Continue CLI (``cn``)
has no offline command that lists MCP servers (``cn --help``: only an interactive session or
``-p`` with a model), so the file is read by Continue's own parser, @continuedev/config-yaml
``unrollAssistant``, called as ``cn`` calls it for a local config (continue_parse.mjs), and each
parsed server is connected the way ``cn`` builds its transports (src/services/mcpTransports.ts:
remote headers come only from ``requestOptions.headers``; a top-level ``headers`` is stripped by
the parser's schema)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kit import NPM, TOKEN, Everything, Sandbox, client_bin, sandbox_open

CLIENT = "continue"
HERE = Path(__file__).resolve().parent


@dataclass
class Reading:
    sandbox: Sandbox
    path: Path
    servers: dict[str, dict[str, Any]]
    status: dict[str, dict[str, Any]]
    errors: list[str]
    since: int


@pytest.fixture(scope="module")
def cont(tmp_path_factory: pytest.TempPathFactory, everything: Everything) -> Iterator[Reading]:
    client_bin("cn")  # the CLI is installed (and its parser with it)
    with sandbox_open(tmp_path_factory.mktemp("continue"), everything) as sb:
        dep = sb.deploy(CLIENT)
        path = Path(dep.path)
        since = everything.mark()
        out = sb.run(
            ["node", str(HERE / "continue_parse.mjs"), str(NPM / "node_modules"), str(path)],
            timeout=180,
        )
        assert out.returncode == 0, out.stderr
        data = json.loads(out.stdout.strip().splitlines()[-1])
        yield Reading(sb, path, data["servers"], data["status"], data["errors"], since)


def test_file_is_continues_user_config(cont: Reading) -> None:
    # cn src/configLoader.ts: path.join(env.continueHome, "config.yaml"), continueHome ~/.continue
    assert cont.path == cont.sandbox.home / ".continue" / "config.yaml"
    assert cont.errors == []


def test_stdio(cont: Reading, verdict) -> None:
    verdict.cell(CLIENT, "stdio")
    srv = cont.servers["time"]
    assert srv["command"].endswith("python") or "python" in srv["command"], srv
    assert srv["args"][:2] == ["-m", "mcp_server_time"], srv
    assert srv.get("env", {}).get("TZ_HINT") == TOKEN, srv  # the secret, rendered by Continue
    assert cont.status["time"]["connected"], cont.status["time"]
    assert "get_current_time" in cont.status["time"]["tools"]
    verdict(CLIENT, "stdio", "connected ✓ env expanded")


def _remote(cont: Reading, everything: Everything, name: str, url: str, kind: str, path: str):
    srv = cont.servers[name]
    assert srv.get("type") == kind, srv
    assert srv["url"] == url, srv
    headers = (srv.get("requestOptions") or {}).get("headers") or {}
    assert headers.get("Authorization") == f"Bearer {TOKEN}", srv
    assert cont.status[name]["connected"], cont.status[name]
    sent = everything.headers_for(path, cont.since)
    assert sent and all(h.get("authorization") == f"Bearer {TOKEN}" for h in sent)


def test_http(cont: Reading, everything: Everything, verdict) -> None:
    verdict.cell(CLIENT, "http")
    _remote(cont, everything, "everything-http", everything.http_url, "streamable-http", "/mcp")
    verdict(CLIENT, "http", "connected ✓ header expanded")


def test_sse(cont: Reading, everything: Everything, verdict) -> None:
    verdict.cell(CLIENT, "sse")
    _remote(cont, everything, "everything-sse", everything.sse_url, "sse", "/message")
    verdict(CLIENT, "sse", "connected ✓ header expanded")

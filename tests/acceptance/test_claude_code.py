"""Claude Code reads what mcp-orch deployed into ~/.claude.json: ``claude mcp list`` connects to
each server (it prints "✔ Connected" only after the MCP handshake), ``claude mcp get NAME``
prints its parsed transport, URL, headers and environment."""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from kit import NAMES, TOKEN, Everything, Sandbox, client_bin, sandbox_open

CLIENT = "claude-code"


@dataclass
class Reading:
    sandbox: Sandbox
    listing: dict[str, str]  # name -> the rest of its `claude mcp list` line
    get: dict[str, str]  # name -> `claude mcp get NAME` output
    since: int  # where this client's requests start in everything.seen


@pytest.fixture(scope="module")
def claude(tmp_path_factory: pytest.TempPathFactory, everything: Everything) -> Iterator[Reading]:
    with sandbox_open(tmp_path_factory.mktemp("claude"), everything) as sb:
        sb.env.update(CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1", DISABLE_AUTOUPDATER="1")
        dep = sb.deploy(CLIENT)
        assert Path(dep.path) == sb.home / ".claude.json"
        since = everything.mark()
        exe = client_bin("claude")
        out = sb.run([exe, "mcp", "list"], timeout=120)
        assert out.returncode == 0, out.stderr
        listing = {}
        for line in out.stdout.splitlines():
            name, sep, rest = line.partition(": ")
            if sep and name in NAMES.values():
                listing[name] = rest
        with ThreadPoolExecutor(3) as pool:  # each `get` checks the server's health too
            runs = dict(
                zip(
                    NAMES.values(),
                    pool.map(lambda n: sb.run([exe, "mcp", "get", n], timeout=120), NAMES.values()),
                    strict=True,
                )
            )
        for res in runs.values():
            assert res.returncode == 0, res.stderr
        got = {name: res.stdout for name, res in runs.items()}
        yield Reading(sb, listing, got, since)


def _field(text: str, label: str) -> str:
    m = re.search(rf"^\s*{label}:\s*(.*)$", text, re.M)
    return m.group(1).strip() if m else ""


def test_stdio(claude: Reading, verdict) -> None:
    verdict.cell(CLIENT, "stdio")
    line = claude.listing["time"]
    assert "-m mcp_server_time" in line
    assert "✔ Connected" in line, line
    got = claude.get["time"]
    assert _field(got, "Type") == "stdio"
    assert _field(got, "Scope").startswith("User config")
    # Claude Code expands ${VAR} when it starts the server: the reference is its own syntax
    assert "TZ_HINT=${ACCEPT_TOKEN}" in got.replace(" ", "") or "${ACCEPT_TOKEN}" in got, got
    verdict(CLIENT, "stdio", "connected (env ${ACCEPT_TOKEN})")


@pytest.mark.parametrize(
    ("role", "kind", "path"), [("http", "http", "/mcp"), ("sse", "sse", "/sse")]
)
def test_remote(
    claude: Reading, everything: Everything, verdict, role: str, kind: str, path: str
) -> None:
    verdict.cell(CLIENT, role)
    name = NAMES[role]
    url = everything.http_url if role == "http" else everything.sse_url
    line = claude.listing[name]
    assert line.startswith(f"{url} ({kind.upper()})"), line
    assert "✔ Connected" in line, line
    got = claude.get[name]
    assert _field(got, "Type") == kind
    assert _field(got, "URL") == url
    # the header as Claude Code reads it: its own ${VAR} reference ...
    assert _field(got, "Authorization") == "Bearer ${ACCEPT_TOKEN}", got
    # ... which it expands when it connects: the proxy refuses anything but the real token
    sent = [
        h
        for h in everything.headers_for(path, claude.since)
        if h.get("user-agent", "").startswith("claude-code/")
    ]
    assert sent, f"Claude Code never reached {path}"
    assert all(h.get("authorization") == f"Bearer {TOKEN}" for h in sent)
    verdict(CLIENT, role, "connected ✓ header expanded")

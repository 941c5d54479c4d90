"""Qwen Code reads what mcp-orch deployed (issue 12 item 1).

``qwen mcp list`` (@qwen-code/qwen-code) reads ~/.qwen/settings.json, expands ``${VAR}`` in the
entries and connects to every server, offline, printing one line per server::

    ✓ time: /path/python -m mcp_server_time --local-timezone UTC (stdio) - Connected
    ✓ everything-http: http://127.0.0.1:PORT/mcp (http) - Connected
    ✓ everything-sse: http://127.0.0.1:PORT/sse (sse) - Connected

The loopback proxy in front of server-everything answers 401 without the expanded bearer token,
so "Connected" on a remote line also says that the header was sent and expanded. The stdio
server's environment is read from /proc while the client has it running.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from kit import NAMES, TOKEN, TOKEN_VAR, Everything, ProcEnv, Sandbox, client_bin

CLIENT = "qwen-code"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
LINE = re.compile(r"^\W*(?P<name>[\w.-]+): (?P<target>.+) \((?P<kind>\w+)\) - (?P<status>.+?)\s*$")


@dataclass
class Reading:
    sandbox: Sandbox
    everything: Everything
    stdout: str
    lines: dict[str, dict[str, str]]
    stdio_env: dict[str, str] | None
    seen: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def auth_on(self, path: str) -> list[str | None]:
        return [h.get("authorization") for p, h in self.seen if p.split("?")[0] == path]


@contextlib.contextmanager
def sandbox_for_module(
    tmp_path_factory: pytest.TempPathFactory, everything: Everything
) -> Iterator[Sandbox]:
    """The ``sandbox`` fixture's Sandbox, once for the module (one client run for three cells)."""
    root = tmp_path_factory.mktemp(CLIENT)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(TOKEN_VAR, TOKEN)
        mp.setenv("HOME", str(root / "orch-home"))
        mp.setenv("MCP_ORCH_CLIENT_ROOT", str(root / "acc" / "home"))
        mp.setenv("MCP_ORCH_HOME", str(root / "acc" / "ws"))
        mp.delenv("XDG_CONFIG_HOME", raising=False)
        yield Sandbox(root / "acc", everything=everything)


def qwen_list(sb: Sandbox, everything: Everything) -> Reading:
    n0 = len(everything.seen)
    with ProcEnv("mcp_server_time", sb.home) as watch:
        proc = sb.run([client_bin("qwen"), "mcp", "list"], timeout=120)
    out = ANSI.sub("", proc.stdout + proc.stderr)
    lines = {m["name"]: m.groupdict() for m in map(LINE.match, out.splitlines()) if m}
    return Reading(sb, everything, out, lines, watch.env, list(everything.seen[n0:]))


# -- fixtures --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def reading(tmp_path_factory: pytest.TempPathFactory, everything: Everything) -> Iterator[Reading]:
    with sandbox_for_module(tmp_path_factory, everything) as sb:
        sb.deploy(CLIENT)
        yield qwen_list(sb, everything)


# -- the cells -------------------------------------------------------------------------------------
def test_deployed_file_is_the_one_qwen_reads(reading: Reading) -> None:
    # Qwen Code (a Gemini CLI fork) reads ~/.qwen/settings.json; the listing names all three
    path = reading.sandbox.home / ".qwen" / "settings.json"
    assert path.is_file()
    assert set(NAMES.values()) <= set(reading.lines), reading.stdout


def test_stdio(reading: Reading, verdict) -> None:
    verdict.cell(CLIENT, "stdio")
    line = reading.lines.get(NAMES["stdio"])
    assert line, reading.stdout
    assert line["kind"] == "stdio"
    assert "mcp_server_time" in line["target"]
    assert line["status"] == "Connected", reading.stdout
    # ${ACCEPT_TOKEN} in env is expanded by qwen before it starts the server
    assert reading.stdio_env is not None, "the stdio server was not seen running"
    assert reading.stdio_env.get("TZ_HINT") == TOKEN
    verdict(CLIENT, "stdio", "connected; env ${VAR} expanded")


def test_streamable_http(reading: Reading, verdict) -> None:
    verdict.cell(CLIENT, "http")
    line = reading.lines.get(NAMES["http"])
    assert line, reading.stdout
    assert line["kind"] == "http"  # httpUrl: streamable HTTP
    assert line["target"] == reading.everything.http_url
    auth = reading.auth_on("/mcp")
    assert auth and set(auth) == {f"Bearer {TOKEN}"}, auth
    assert line["status"] == "Connected", reading.stdout
    verdict(CLIENT, "http", "connected; Authorization ${VAR} expanded")


def test_sse(reading: Reading, verdict) -> None:
    verdict.cell(CLIENT, "sse")
    line = reading.lines.get(NAMES["sse"])
    assert line, reading.stdout
    assert line["kind"] == "sse"  # url: SSE
    assert line["target"] == reading.everything.sse_url
    auth = reading.auth_on("/sse")
    assert auth and set(auth) == {f"Bearer {TOKEN}"}, auth
    assert line["status"] == "Connected", reading.stdout
    verdict(CLIENT, "sse", "connected; Authorization ${VAR} expanded")

"""OpenCode reads what mcp-orch deployed (issue 12 item 1).

Two of OpenCode's own commands (opencode-ai), offline, HOME and XDG_* in the sandbox:

- ``opencode debug config``: the resolved configuration as JSON, with ``{env:VAR}`` already
  expanded (header values masked as ``***``); it loads $XDG_CONFIG_HOME/opencode/{config.json,
  opencode.json,opencode.jsonc} (``--print-logs`` shows the paths) and the project's
  opencode.json;
- ``opencode mcp list``: connects to every server and prints ``✓ <name> connected`` (or
  ``✗ <name> failed``) with the command or URL under it.

The loopback proxy in front of server-everything answers 401 without the expanded bearer token,
so "connected" on a remote also says the header was sent expanded.

OpenCode has no SSE type: a ``"type": "remote"`` entry tries streamable HTTP and falls back to
SSE by itself (``test_sse_as_remote_connects``), so an ``npx mcp-remote`` bridge for SSE is
needless (issue 12); the one mcp-orch used to write did not even connect under
``opencode mcp list`` (timed out after 30 s).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from kit import NAMES, TOKEN, TOKEN_VAR, Everything, ProcEnv, Sandbox, client_bin

CLIENT = "opencode"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
STATUS = re.compile(r"^\W*[✓✗]\s+(?P<name>[\w.-]+)\s+(?P<status>\w[\w ]*?)\s*$")


@dataclass
class Reading:
    sandbox: Sandbox
    everything: Everything
    stdout: str
    lines: dict[str, dict[str, str]]
    config: dict[str, Any]
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


def parse_list(out: str) -> dict[str, dict[str, str]]:
    """``opencode mcp list`` -> name -> {status, target, detail}."""
    lines: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for raw in out.splitlines():
        m = STATUS.match(raw)
        if m:
            current = lines[m["name"]] = {"status": m["status"], "target": "", "detail": ""}
            continue
        text = raw.strip(" │\t")
        if current is not None and text and not text.startswith(("└", "┌")):
            current["detail"] = (current["detail"] + " " + current["target"]).strip()
            current["target"] = text
    return lines


def opencode_read(sb: Sandbox, everything: Everything) -> Reading:
    exe = client_bin("opencode")
    cfg = sb.run([exe, "debug", "config"], timeout=120)
    assert cfg.returncode == 0, cfg.stdout + cfg.stderr
    config = json.loads(cfg.stdout[cfg.stdout.index("{") :])
    n0 = len(everything.seen)
    with ProcEnv("mcp_server_time", sb.home) as watch:
        proc = sb.run([exe, "mcp", "list"], timeout=180)
    out = ANSI.sub("", proc.stdout + proc.stderr)
    return Reading(
        sb, everything, out, parse_list(out), config, watch.env, list(everything.seen[n0:])
    )


# -- fixtures --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def reading(tmp_path_factory: pytest.TempPathFactory, everything: Everything) -> Iterator[Reading]:
    with sandbox_for_module(tmp_path_factory, everything) as sb:
        sb.deploy(CLIENT)
        yield opencode_read(sb, everything)


def entry(reading: Reading, role: str) -> dict[str, Any]:
    mcp = reading.config.get("mcp") or {}
    assert NAMES[role] in mcp, f"opencode debug config has no {NAMES[role]}: {sorted(mcp)}"
    return mcp[NAMES[role]]


# -- the cells -------------------------------------------------------------------------------------
def test_deployed_file_is_the_one_opencode_reads(reading: Reading) -> None:
    path = reading.sandbox.home / ".config" / "opencode" / "opencode.json"
    assert path.is_file()
    assert set(NAMES.values()) <= set(reading.config.get("mcp") or {})
    assert set(NAMES.values()) <= set(reading.lines), reading.stdout


def test_stdio(reading: Reading, verdict) -> None:
    verdict.cell(CLIENT, "stdio")
    e = entry(reading, "stdio")
    assert e["type"] == "local"
    assert "mcp_server_time" in e["command"]
    # {env:ACCEPT_TOKEN} is expanded by OpenCode itself (debug config shows the value)
    assert e.get("environment", {}).get("TZ_HINT") == TOKEN
    line = reading.lines.get(NAMES["stdio"])
    assert line and line["status"] == "connected", reading.stdout
    assert reading.stdio_env is not None, "the stdio server was not seen running"
    assert reading.stdio_env.get("TZ_HINT") == TOKEN
    verdict(CLIENT, "stdio", "connected; environment {env:VAR} expanded")


def test_streamable_http(reading: Reading, verdict) -> None:
    verdict.cell(CLIENT, "http")
    e = entry(reading, "http")
    assert e["type"] == "remote"
    assert e["url"] == reading.everything.http_url
    assert "Authorization" in e.get("headers", {})  # the value is masked in debug config
    auth = reading.auth_on("/mcp")
    assert auth and set(auth) == {f"Bearer {TOKEN}"}, auth
    line = reading.lines.get(NAMES["http"])
    assert line and line["status"] == "connected", reading.stdout
    assert line["target"] == reading.everything.http_url
    verdict(CLIENT, "http", "connected; Authorization {env:VAR} expanded")


def test_sse(reading: Reading, verdict) -> None:
    verdict.cell(CLIENT, "sse")
    e = entry(reading, "sse")
    assert e["type"] == "remote", f"OpenCode reads a {e['type']} server: {e.get('command')}"
    assert e["url"] == reading.everything.sse_url
    assert "Authorization" in e.get("headers", {})
    line = reading.lines.get(NAMES["sse"])
    assert line and line["status"] == "connected", reading.stdout
    auth = reading.auth_on("/sse")
    assert auth and set(auth) == {f"Bearer {TOKEN}"}, auth
    verdict(CLIENT, "sse", "connected (remote, SSE fallback); Authorization expanded")


def test_sse_as_remote_connects(sandbox: Sandbox, everything: Everything) -> None:
    """The evidence for test_sse: the shape OpenCode documents for any remote server
    (``type: remote``, url, headers with {env:VAR}) connects to the SSE server. Written by hand
    here, not by mcp-orch."""
    path = sandbox.home / ".config" / "opencode" / "opencode.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    auth = {"Authorization": "Bearer {env:" + TOKEN_VAR + "}"}
    doc = {"mcp": {"sse": {"type": "remote", "url": everything.sse_url, "headers": auth}}}
    path.write_text(json.dumps(doc), encoding="utf-8")
    n0 = len(everything.seen)
    proc = sandbox.run([client_bin("opencode"), "mcp", "list"], timeout=120)
    out = ANSI.sub("", proc.stdout + proc.stderr)
    assert parse_list(out).get("sse", {}).get("status") == "connected", out
    seen = [h.get("authorization") for p, h in everything.seen[n0:] if p.startswith("/sse")]
    assert f"Bearer {TOKEN}" in seen, seen

"""Crush reads what mcp-orch deployed (issue 12 item 1).

Crush (@charmland/crush) has no command that lists its MCP servers; what it reads is asked the
way Copilot's is (test_copilot_cli.py): ``crush dirs`` names the folder it reads its user config
from, and ``crush run`` against a stub OpenAI-compatible model on loopback (an ``openai-compat``
provider in the project's .crush.json) starts every MCP server and offers their tools to the
model as ``mcp_<server>_<tool>`` (charmbracelet/crush internal/agent/tools/mcp-tools.go).

@charmland/crush's postinstall downloads the Go binary from GitHub releases, which this
workplace cannot reach, so the package is not in requirements.txt and the client's cells skip
until the binary is there (``MCP_ORCH_CRUSH_BIN`` or <cache>/npm/node_modules/.bin/crush).

Where Crush reads (charmbracelet/crush internal/config/load.go, ``GlobalConfig``):
``$CRUSH_GLOBAL_CONFIG/crush.json``, else ``home.Config()/crush/crush.json`` with
``home.Config() = $XDG_CONFIG_HOME or <home>/.config`` on every OS, so on Windows
``%USERPROFILE%\\.config\\crush\\crush.json``. ``%LOCALAPPDATA%\\crush\\crush.json`` is
``GlobalConfigData``, the file Crush itself writes its overrides to.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath

import pytest
from kit import NAMES, NPM_BIN, TOKEN, Everything, ProcEnv, Sandbox
from test_copilot_cli import sandbox_for_module, stub_model

from mcp_orch.domain.clients import config_path

CLIENT = "crush"
NOT_INSTALLABLE = (
    "crush is not installed: @charmland/crush's postinstall downloads its binary from GitHub "
    "releases, unreachable here (set MCP_ORCH_CRUSH_BIN to a crush binary)"
)


def crush_bin() -> str:
    for cand in (os.environ.get("MCP_ORCH_CRUSH_BIN"), str(NPM_BIN / "crush")):
        if cand and Path(cand).exists():
            probe = subprocess.run([cand, "--version"], capture_output=True, text=True, check=False)
            if probe.returncode == 0:
                return cand
    pytest.skip(NOT_INSTALLABLE)


@dataclass
class Reading:
    sandbox: Sandbox
    everything: Everything
    dirs: str
    run_out: str
    tools: set[str]
    stdio_env: dict[str, str] | None
    seen: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def auth_on(self, path: str) -> list[str | None]:
        return [h.get("authorization") for p, h in self.seen if p.split("?")[0] == path]

    def connected(self, role: str) -> bool:
        return any(t.startswith(f"mcp_{NAMES[role]}_") for t in self.tools)


def crush_read(sb: Sandbox, everything: Everything, exe: str) -> Reading:
    dirs = sb.run([exe, "dirs"], timeout=60)
    with stub_model() as model:
        provider = {
            "type": "openai-compat",
            "base_url": model.base_url,
            "api_key": "stub",
            "models": [{"id": "stub", "name": "stub", "context_window": 8192}],
        }
        doc = {
            "providers": {"stub": provider},
            "models": {
                "large": {"provider": "stub", "model": "stub"},
                "small": {"provider": "stub", "model": "stub"},
            },
        }
        (sb.project / ".crush.json").write_text(json.dumps(doc), encoding="utf-8")
        n0 = len(everything.seen)
        with ProcEnv("mcp_server_time", sb.home) as watch:
            proc = sb.run([exe, "run", "-q", "say ok"], timeout=180)
        return Reading(
            sb,
            everything,
            dirs.stdout + dirs.stderr,
            proc.stdout + proc.stderr,
            set(model.tools),
            watch.env,
            list(everything.seen[n0:]),
        )


@pytest.fixture(scope="module")
def reading(tmp_path_factory: pytest.TempPathFactory, everything: Everything) -> Iterator[Reading]:
    exe = crush_bin()
    with sandbox_for_module(tmp_path_factory, everything) as sb:
        sb.deploy(CLIENT)
        yield crush_read(sb, everything, exe)


@pytest.fixture
def cell(verdict, request: pytest.FixtureRequest) -> Reading:
    """Name the cell, then read (a module fixture asked for by name is set up after this, so a
    skip for a missing binary fills the cell as n/a)."""
    verdict.cell(CLIENT, request.param)
    return request.getfixturevalue("reading")


# -- where Crush reads ------------------------------------------------------------------------------
def test_windows_user_file() -> None:
    """GlobalConfig() = filepath.Join(home.Config(), "crush", "crush.json") and home.Config() =
    cmp.Or($XDG_CONFIG_HOME, filepath.Join(os.UserHomeDir(), ".config")) on every OS
    (charmbracelet/crush internal/config/load.go, internal/home/home.go)."""
    path = config_path(CLIENT, target_os="windows")
    assert PureWindowsPath(path) == PureWindowsPath("C:/Users/user/.config/crush/crush.json")


def test_linux_user_file_is_the_one_crush_reads(reading: Reading) -> None:
    written = reading.sandbox.home / ".config" / "crush" / "crush.json"
    assert written.is_file()
    assert str(written.parent) in reading.dirs, reading.dirs


# -- the cells -------------------------------------------------------------------------------------
@pytest.mark.parametrize("cell", ["stdio"], indirect=True)
def test_stdio(cell: Reading, verdict) -> None:
    reading = cell
    assert reading.connected("stdio"), (sorted(reading.tools), reading.run_out)
    assert reading.stdio_env is not None, "the stdio server was not seen running"
    assert reading.stdio_env.get("TZ_HINT") == TOKEN
    verdict(CLIENT, "stdio", "connected; env $VAR expanded")


@pytest.mark.parametrize("cell", ["http"], indirect=True)
def test_streamable_http(cell: Reading, verdict) -> None:
    reading = cell
    auth = reading.auth_on("/mcp")
    assert auth and set(auth) == {f"Bearer {TOKEN}"}, auth
    assert reading.connected("http"), (sorted(reading.tools), reading.run_out)
    verdict(CLIENT, "http", "connected; Authorization $VAR expanded")


@pytest.mark.parametrize("cell", ["sse"], indirect=True)
def test_sse(cell: Reading, verdict) -> None:
    reading = cell
    auth = reading.auth_on("/sse")
    assert auth and set(auth) == {f"Bearer {TOKEN}"}, auth
    assert reading.connected("sse"), (sorted(reading.tools), reading.run_out)
    verdict(CLIENT, "sse", "connected; Authorization $VAR expanded")

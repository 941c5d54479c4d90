"""Shared fixtures. Every test runs with a temporary workspace, client root and HOME, so nothing
ever touches the real home directory or real client configs."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from acceptance import matrix as acceptance_matrix

import mcp_orch as mo


@pytest.fixture(autouse=True)
def _sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    # a publish resolves its lock against the package registries: only the `registry` tests,
    # which start their own on loopback, may do that
    if request.node.get_closest_marker("registry") is None:
        monkeypatch.setenv("MCP_ORCH_OFFLINE", "1")
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("USERPROFILE", str(home))
    monkeypatch.setenv("MCP_ORCH_HOME", str(tmp_path / "ws"))
    monkeypatch.setenv("MCP_ORCH_CLIENT_ROOT", str(tmp_path / "root"))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv("MCP_ORCH_KEY_PASSPHRASE", raising=False)
    # the secret store: in the temporary HOME, on the encrypted file, never the real keyring
    for var in ("XDG_DATA_HOME", "MCP_ORCH_SECRETS_DIR", "MCP_ORCH_SECRETS_PASSPHRASE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MCP_ORCH_SECRET_BACKEND", "file")
    # output as a user's pipe gets it: pytest-xdist workers set COLUMNS=80 and CI may set colour
    for var in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def client_root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    root.mkdir(exist_ok=True)
    return root


@pytest.fixture
def ws(tmp_path: Path, client_root: Path) -> mo.Workspace:
    return mo.Workspace(tmp_path / "ws", client_root=client_root)


@pytest.fixture
def registry(ws: mo.Workspace) -> mo.Registry:
    return mo.Registry(workspace=ws)


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """Environment for running the CLI in a subprocess inside the sandbox."""
    env = dict(os.environ)
    env["MCP_ORCH_HOME"] = str(tmp_path / "ws")
    env["MCP_ORCH_CLIENT_ROOT"] = str(tmp_path / "root")
    env["HOME"] = str(tmp_path / "home")
    return env


@pytest.fixture
def mcp_orch_cmd() -> list[str]:
    return [sys.executable, "-m", "mcp_orch"]


# the acceptance suite's client x transport matrix (tests/acceptance/matrix.py): verdicts travel
# in the test reports (also from xdist workers) and are printed once at the end
def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    acceptance_matrix.collect(report)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    acceptance_matrix.summary(terminalreporter)


pytest_plugins = ["registry.kit"]  # the loopback registries (tests/registry/kit.py)

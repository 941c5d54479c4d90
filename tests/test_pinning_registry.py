"""Issue 13 against real package registries on loopback (verdaccio for npm, pypiserver for PyPI,
started by tests/registry/kit.py, holding ``mcp-orch-pin-probe`` 1.0.0 and 1.1.0): a release
pins 1.0.0, its signed lock holds the registries' own integrity hashes, the deployed entry runs
exactly 1.0.0 although 1.1.0 is newest, ``outdated`` sees 1.1.0, ``upgrade`` puts it into the
draft and the next release runs it; an offline publish keeps the pins, its lock unresolved."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from registry.kit import PROBE, Published, PypiServer, Verdaccio

import mcp_orch as mo
from mcp_orch.frontends.cli import cli

pytestmark = pytest.mark.registry


def _doc(registry_type: str, version: str) -> dict[str, Any]:
    hint = {"npm": "npx", "pypi": "uvx"}[registry_type]
    return {
        "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
        "name": f"io.github.mcp-orch/pin-probe-{registry_type}",
        "description": "The pin probe: says which version of it runs",
        "version": version,
        "packages": [
            {
                "registryType": registry_type,
                "identifier": PROBE,
                "version": version,
                "runtimeHint": hint,
                "transport": {"type": "stdio"},
            }
        ],
    }


@pytest.fixture
def env(
    verdaccio: Verdaccio,
    pypiserver: PypiServer,
    npm_pin_probe: Published,
    pypi_pin_probe: Published,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, str]:
    """This process's environment pointed at the loopback registries (npm's and uv's own
    settings), with the ``uvx`` of the test venv on PATH."""
    if shutil.which("uvx") is None and not (Path(sys.executable).parent / "uvx").exists():
        pytest.skip("uv is not installed (the test extra installs it)")
    monkeypatch.delenv("MCP_ORCH_OFFLINE", raising=False)
    for key, value in {**verdaccio.env, **pypiserver.env}.items():
        if key != "HOME":
            monkeypatch.setenv(key, value)
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    return dict(os.environ)


def test_a_release_runs_exactly_the_version_it_names(
    ws: mo.Workspace,
    client_root: Path,
    env: dict[str, str],
    verdaccio: Verdaccio,
    npm_pin_probe: Published,
    pypi_pin_probe: Published,
) -> None:
    reg = ws.registry()
    reg.import_server_json([_doc("npm", "1.0.0"), _doc("pypi", "1.0.0")])
    prof = ws.profile("cursor")
    reg.find("pin-probe-npm").add_to(prof, name="npm-probe")
    reg.find("pin-probe-pypi").add_to(prof, name="pypi-probe")
    assert prof.draft.servers["npm-probe"]["args"] == ["-y", f"{PROBE}@1.0.0"]
    assert prof.draft.servers["pypi-probe"]["args"] == [f"{PROBE}@1.0.0"]

    art = prof.publish("pin 1.0.0")
    npm_row, pypi_row = art.lock["npm-probe"], art.lock["pypi-probe"]
    assert npm_row["status"] == pypi_row["status"] == "resolved"
    served = verdaccio.packument(PROBE)["versions"]["1.0.0"]["dist"]["integrity"]
    assert (npm_row["version"], npm_row["integrity"]) == ("1.0.0", served)
    wheel = pypi_pin_probe.artifacts["1.0.0"]
    assert pypi_row["version"] == "1.0.0"
    assert pypi_row["integrity"] == "sha256:" + hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert npm_row["registry_url"].startswith("http://127.0.0.1:")
    assert "latest" not in npm_row  # the lock pins; what is newest moves and is not signed

    prof.deploy()
    deployed = client_root / ".cursor" / "mcp.json"
    report = mo.probe(deployed, client="cursor", inherit_env=True, timeout=120)
    assert report.ok, str(report)
    assert {r.server: r.server_version for r in report.results} == {
        "npm-probe": "1.0.0",
        "pypi-probe": "1.0.0",
    }

    found = prof.outdated()
    assert [(r.server, r.current, r.latest) for r in found.outdated] == [
        ("npm-probe", "1.0.0", "1.1.0"),
        ("pypi-probe", "1.0.0", "1.1.0"),
    ]
    cli_out = CliRunner().invoke(cli, ["outdated", "-c", "cursor"])
    assert cli_out.exit_code == 1 and "1.0.0 -> 1.1.0 available" in cli_out.output

    up = prof.upgrade()
    assert up.changed == {"npm-probe": ("1.0.0", "1.1.0"), "pypi-probe": ("1.0.0", "1.1.0")}
    assert prof.draft.servers["npm-probe"]["args"] == ["-y", f"{PROBE}@1.1.0"]
    new = prof.publish("upgrade to 1.1.0")
    assert new.lock["npm-probe"]["version"] == new.lock["pypi-probe"]["version"] == "1.1.0"
    prof.deploy()
    again = mo.probe(deployed, client="cursor", inherit_env=True, timeout=120)
    assert {r.server_version for r in again.results} == {"1.1.0"}
    assert not prof.outdated().outdated


def test_a_range_is_locked_to_what_it_resolves_to(ws: mo.Workspace, env: dict[str, str]) -> None:
    prof = ws.profile("cursor")
    prof.configure(pin="minor")
    ws.registry().import_server_json(_doc("npm", "1.0.0"))
    ws.registry().find("pin-probe-npm").add_to(prof, name="probe")
    assert prof.draft.servers["probe"]["args"] == ["-y", f"{PROBE}@~1.0.0"]
    art = prof.publish("a range")
    assert art.lock["probe"]["spec"] == "~1.0.0"
    assert art.lock["probe"]["version"] == "1.0.0"  # ~1.0.0 admits no 1.1.0
    out = json.loads(CliRunner().invoke(cli, ["get-config", "-c", "cursor", "--json"]).output)
    assert out["lock"]["probe"]["integrity"].startswith("sha512-")


def test_offline_then_online(
    ws: mo.Workspace, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ws.registry().import_server_json(_doc("pypi", "1.0.0"))
    prof = ws.profile("cursor")
    ws.registry().find("pin-probe-pypi").add_to(prof, name="probe")
    monkeypatch.setenv("MCP_ORCH_OFFLINE", "1")
    offline = prof.publish("on a plane")
    assert offline.lock["probe"]["status"] == "unresolved"
    assert offline.payload["mcpServers"]["probe"]["args"] == [f"{PROBE}@1.0.0"]  # pins kept
    assert prof.publish("still offline").artifact_id == offline.artifact_id
    monkeypatch.delenv("MCP_ORCH_OFFLINE")
    online = prof.publish("landed")  # the same payload, now with a resolved lock: a new release
    assert online.artifact_id != offline.artifact_id and online.parent == offline.artifact_id
    assert online.lock["probe"]["status"] == "resolved"
    assert prof.publish("again").artifact_id == online.artifact_id  # nothing more to pin

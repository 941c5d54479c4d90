"""Issue 13, pins: exact versions rendered by default (profile setting ``pin``), rule MCP013 on
floating packages, the lock and the tool pins in the signed envelope (offline here: the
``registry`` tests resolve against real registries), ``upgrade --to``, and tool pins compared
with a live server that changes between runs (``probe --against``, ``drift --tools``,
``check --level live``). The tiny real stdio server reads which variant to be from a file its
entry names, so one entry can change between two runs."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import mcp_orch as mo
from mcp_orch.core.errors import IntegrityError, SignatureError, StoreCorrupt, UsageError
from mcp_orch.domain.pins import MCP_REMOTE_VERSION, package_of, repin
from mcp_orch.domain.transport import render_server
from mcp_orch.frontends.cli import cli

PY = sys.executable

SERVER = r"""
import os
from pathlib import Path
from mcp.server.mcpserver import MCPServer

variant = Path(os.environ["SHIFT_FILE"]).read_text().strip()
srv = MCPServer("shifty", version="1.0.%s" % variant)

if variant == "2":
    @srv.tool(description="Add two numbers (and remember a note).")
    def add(a: int, b: int, note: str = "") -> int:
        return a + b
else:
    @srv.tool(description="Add two numbers.")
    def add(a: int, b: int) -> int:
        return a + b

srv.run()
"""


def _cli(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


# ---- rendering ---------------------------------------------------------------------------------


def test_packages_render_pinned_by_default(registry: mo.Registry) -> None:
    memory = registry.find("memory")
    entry = render_server(memory.doc).entry
    assert entry["args"] == ["-y", f"@modelcontextprotocol/server-memory@{memory.version}"]
    time = registry.find("time")
    assert render_server(time.doc).entry["args"] == [f"mcp-server-time@{time.version}"]
    github = registry.find("github")
    args = render_server(github.doc, transport="stdio").entry["args"]
    assert [a for a in args if a.startswith("ghcr.io/")] == [
        "ghcr.io/github/github-mcp-server:1.11.0"
    ]


def test_the_pin_modes(registry: mo.Registry) -> None:
    memory, time = registry.find("memory"), registry.find("time")
    v = memory.version
    assert render_server(memory.doc, pin="minor").entry["args"][1].endswith(f"@~{v}")
    assert render_server(memory.doc, pin="floating").entry["args"][1].endswith("server-memory")
    minor = render_server(time.doc, pin="minor").entry["args"]
    assert minor[:3] == ["--from", f"mcp-server-time~={time.version}", "mcp-server-time"]
    assert render_server(time.doc, pin="floating").entry["args"] == ["mcp-server-time"]
    assert render_server(time.doc, version="2025.1.1").entry["args"] == ["mcp-server-time@2025.1.1"]


def test_the_bridge_is_pinned_and_still_read_back(ws: mo.Workspace, registry: mo.Registry) -> None:
    prof = ws.profile("claude-desktop")
    registry.find("deepwiki").add_to(prof)
    entry = prof.draft.servers["deepwiki"]
    assert entry["args"][:2] == ["-y", f"mcp-remote@{MCP_REMOTE_VERSION}"]
    # the pinned bridge is still understood as the remote it is (sync, diff, probe read it)
    from mcp_orch.domain.clients import from_native, get_client, unwrap_remote

    neutral = from_native(get_client("claude-desktop"), entry)
    assert unwrap_remote(neutral)["url"] == "https://mcp.deepwiki.com/mcp"


def test_the_profile_setting_decides_how_add_writes_versions(
    ws: mo.Workspace, registry: mo.Registry
) -> None:
    prof = ws.profile("cursor")
    assert prof.settings == {
        "pin": "exact",
        "pin_tools": False,
        "keep_backups": 20,
        "secrets": "auto",
    }
    prof.configure(pin="minor")
    registry.find("memory").add_to(prof)
    assert prof.draft.servers["memory"]["args"][1].endswith("@~" + registry.find("memory").version)
    assert ws.profile("cursor").settings["pin"] == "minor"  # kept in the draft file
    with pytest.raises(UsageError, match="pin must be one of exact, minor, floating"):
        prof.configure(pin="loose")
    result = _cli("profile-settings", "-c", "cursor", "--pin", "floating", "--pin-tools")
    assert result.exit_code == 0, result.output
    assert "pin = floating, pin_tools = true" in result.output


def test_a_damaged_setting_is_refused(ws: mo.Workspace, registry: mo.Registry) -> None:
    prof = ws.profile("cursor")
    registry.find("time").add_to(prof)
    data = json.loads(prof.draft.path.read_text())
    data["settings"] = {"pin": "sometimes"}
    prof.draft.path.write_text(json.dumps(data))
    with pytest.raises(StoreCorrupt, match="pin setting 'sometimes'"):
        _ = prof.draft.servers


# ---- reading a pin from any entry ------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"command": "npx", "args": ["-y", "@a/b"]}, ("npm", "@a/b", "floating")),
        ({"command": "npx", "args": ["-y", "@a/b@1.2.3", "--x"]}, ("npm", "@a/b", "exact")),
        ({"command": "npx", "args": ["-y", "pkg@^1.2"]}, ("npm", "pkg", "range")),
        ({"command": "npx", "args": ["-y", "pkg@latest"]}, ("npm", "pkg", "floating")),
        ({"command": "npx", "args": ["-y", "-p", "pkg@2.0.0", "bin"]}, ("npm", "pkg", "exact")),
        ({"command": "pnpm", "args": ["dlx", "pkg@1.0.0"]}, ("npm", "pkg", "exact")),
        ({"command": "cmd", "args": ["/c", "npx", "-y", "pkg"]}, ("npm", "pkg", "floating")),
        ({"command": "uvx", "args": ["mcp-server-time"]}, ("pypi", "mcp-server-time", "floating")),
        ({"command": "uvx", "args": ["mcp-server-time@1.0"]}, ("pypi", "mcp-server-time", "exact")),
        (
            {"command": "uvx", "args": ["--from", "x==1.0.0", "x-cli"]},
            ("pypi", "x", "exact"),
        ),
        ({"command": "uv", "args": ["tool", "run", "x~=1.2"]}, ("pypi", "x", "range")),
        ({"command": "pipx", "args": ["run", "--spec", "x==2", "x"]}, ("pypi", "x", "exact")),
        (
            {"command": "docker", "args": ["run", "-i", "--rm", "-e", "K", "img"]},
            ("oci", "img", "floating"),
        ),
        ({"command": "docker", "args": ["run", "-i", "img:latest"]}, ("oci", "img", "floating")),
        ({"command": "docker", "args": ["run", "img:1.2"]}, ("oci", "img", "exact")),
        (
            {"command": "docker", "args": ["run", "ghcr.io/o/i@sha256:" + "a" * 64]},
            ("oci", "ghcr.io/o/i", "exact"),
        ),
        ({"command": "dnx", "args": ["Pkg@1.0.0", "--yes"]}, ("nuget", "Pkg", "exact")),
    ],
)
def test_package_of(entry: dict[str, Any], expected: tuple[str, str, str]) -> None:
    ref = package_of(entry)
    assert ref is not None
    assert (ref.registry, ref.name, ref.pin) == expected


@pytest.mark.parametrize(
    "entry",
    [
        {"command": "python", "args": ["-m", "server"]},
        {"command": "npx", "args": ["-y", "github:user/repo"]},
        {"command": "npx", "args": ["-y", "./local"]},
        {"command": "uvx", "args": ["--from", "git+https://example.com/x", "x"]},
        {"command": "node", "args": ["server.js"]},
        {"command": "npx", "args": ["-y", "{missing}"]},
    ],
)
def test_what_is_no_registry_package(entry: dict[str, Any]) -> None:
    assert package_of(entry) is None


def test_repin_keeps_the_rest_of_the_entry() -> None:
    entry = {"command": "npx", "args": ["-y", "pkg@1.0.0", "--port", "1"], "env": {"K": "v"}}
    assert repin(entry, "1.1.0") == {**entry, "args": ["-y", "pkg@1.1.0", "--port", "1"]}
    uv = {"command": "uvx", "args": ["--from", "x==1.0.0", "x-cli", "--flag"]}
    assert repin(uv, "2.0.0")["args"] == ["--from", "x==2.0.0", "x-cli", "--flag"]
    image = {"command": "docker", "args": ["run", "-i", "--rm", "ghcr.io/o/i:1.0.0", "serve"]}
    assert repin(image, "1.1.0")["args"] == ["run", "-i", "--rm", "ghcr.io/o/i:1.1.0", "serve"]


# ---- MCP013 -------------------------------------------------------------------------------------


def test_check_flags_floating_packages_in_any_users_file(tmp_path: Path) -> None:
    cfg = tmp_path / "mcp.json"
    servers = {
        "floating": {"command": "npx", "args": ["-y", "some-mcp"]},
        "latest": {"command": "uvx", "args": ["other-mcp@latest"]},
        "bridge": {"command": "npx", "args": ["-y", "mcp-remote", "https://x.example/mcp"]},
        "image": {"command": "docker", "args": ["run", "-i", "--rm", "mcp/time"]},
        "pinned": {"command": "npx", "args": ["-y", "some-mcp@1.2.3"]},
        "range": {"command": "npx", "args": ["-y", "some-mcp@~1.2.3"]},
        "local": {"command": "node", "args": ["server.js"]},
    }
    cfg.write_text(json.dumps({"mcpServers": servers}))
    spec = mo.get_client("cursor")
    report = mo.check_payload(spec, json.loads(cfg.read_text()), select=["MCP013"])
    flagged = sorted(f.server for f in report.findings)
    assert flagged == ["bridge", "floating", "image", "latest"]
    first = next(f for f in report.findings if f.server == "floating")
    assert first.severity == "warning" and first.field == "args[1]"
    assert "some-mcp@1.2.3" in first.hint
    latest = next(f for f in report.findings if f.server == "latest")
    assert "moving tag 'latest'" in latest.message


def test_what_add_server_writes_passes_mcp013(ws: mo.Workspace, registry: mo.Registry) -> None:
    prof = ws.profile("cursor")
    for sid in ("time", "memory", "fetch", "filesystem"):
        registry.find(sid).add_to(
            prof, params={"allowed_directory": "/data"} if sid == "filesystem" else None
        )
    assert not [f for f in prof.draft.check().findings if f.code == "MCP013"]
    prof.configure(pin="floating")
    registry.find("git").add_to(prof, params={"repository": "/src"})
    codes = [(f.code, f.server) for f in prof.draft.check().findings]
    assert ("MCP013", "git") in codes


# ---- the lock in the envelope (offline here) ---------------------------------------------------


def test_an_offline_publish_keeps_the_pins_and_says_the_lock_is_unresolved(
    ws: mo.Workspace, registry: mo.Registry
) -> None:
    prof = ws.profile("cursor")
    registry.find("time").add_to(prof)
    registry.find("deepwiki").add_to(prof)  # a remote: runs no package, so no lock row
    art = prof.publish("time")
    assert set(art.lock or {}) == {"time"}
    row = art.lock["time"]
    assert row["status"] == "unresolved" and row["reason"] == "offline: MCP_ORCH_OFFLINE is set"
    assert (row["registry"], row["name"], row["version"]) == (
        "pypi",
        "mcp-server-time",
        registry.find("time").version,
    )
    assert "lock" in art.envelope() and "tools" not in art.envelope()
    art.verify()
    event = ws.audit.query(action="publish")[0]
    assert event["details"]["locked"] == 0 and event["details"]["unresolved"] == ["time"]
    shown = _cli("get-config", "-c", "cursor")
    assert "time: pypi mcp-server-time" in shown.output and "unresolved (offline" in shown.output
    data = json.loads(_cli("get-config", "-c", "cursor", "--json").output)
    assert data["lock"]["time"]["status"] == "unresolved" and data["tools"] is None
    html = art._repr_html_()  # the notebook display shows the lock
    assert "<b>Lock</b>" in html and "mcp-server-time" in html and "offline" in html


def test_a_release_without_packages_has_the_old_envelope(
    ws: mo.Workspace, registry: mo.Registry
) -> None:
    from mcp_orch.services.release.artifact import ENVELOPE_FIELDS

    prof = ws.profile("cursor")
    registry.find("deepwiki").add_to(prof)
    art = prof.publish("remote only")
    assert tuple(art.envelope()) == ENVELOPE_FIELDS and art.lock is None


def test_the_lock_is_signed(ws: mo.Workspace, registry: mo.Registry) -> None:
    prof = ws.profile("cursor")
    registry.find("time").add_to(prof)
    art = prof.publish("time")
    obj = next((ws.path / "objects").rglob("*.json"))
    data = json.loads(obj.read_text())
    data["envelope"]["lock"]["time"]["version"] = "6.6.6"
    obj.write_text(json.dumps(data))
    with pytest.raises((SignatureError, IntegrityError)):
        ws.profile("cursor").artifact(art.artifact_id).verify()


# ---- upgrade -------------------------------------------------------------------------------------


def test_upgrade_to_a_named_version(ws: mo.Workspace, registry: mo.Registry) -> None:
    prof = ws.profile("cursor")
    registry.find("time").add_to(prof, params={"local_timezone": "UTC"})
    prof.draft.add_entry(
        "own", {"command": "npx", "args": ["-y", "own-mcp@1.0.0"], "env": {"A": "1"}}
    )
    report = prof.upgrade("time", to="2025.1.1")
    assert report.changed == {"time": (registry.find("time").version, "2025.1.1")}
    assert prof.draft.servers["time"]["args"] == [
        "mcp-server-time@2025.1.1",
        "--local-timezone=UTC",
    ]
    prof.upgrade("own", to="1.1.0")
    assert prof.draft.servers["own"] == {
        "command": "npx",
        "args": ["-y", "own-mcp@1.1.0"],
        "env": {"A": "1"},
    }
    with pytest.raises(UsageError, match="say which server"):
        prof.upgrade(to="1.0.0")
    registry.find("deepwiki").add_to(ws.profile("vscode"))
    # offline: nothing is known about newer versions, and upgrade says so
    out = _cli("upgrade", "-c", "cursor")
    assert "unresolved (offline" in out.output and out.exit_code == 0
    assert _cli("outdated", "-c", "cursor").exit_code == 0


# ---- tool pins against a server that changes between runs -------------------------------------


@pytest.fixture
def shifty(tmp_path: Path) -> tuple[Path, Path]:
    script = tmp_path / "shifty.py"
    script.write_text(SERVER)
    switch = tmp_path / "variant.txt"
    switch.write_text("1")
    return script, switch


def test_pinned_tools_catch_the_change_everywhere(
    ws: mo.Workspace, client_root: Path, shifty: tuple[Path, Path]
) -> None:
    script, switch = shifty
    prof = ws.profile("cursor")
    prof.draft.add_entry(
        "shifty", {"command": PY, "args": [str(script)], "env": {"SHIFT_FILE": str(switch)}}
    )
    art = prof.publish("pin the tools", pin_tools=True)
    pin = art.tools["shifty"]
    assert pin["digest"].startswith("sha256:") and pin["manifest"]["server"]["version"] == "1.0.1"
    assert [t["name"] for t in pin["manifest"]["tools"]] == ["add"]
    assert "pinned_tools" in ws.audit.query(action="publish")[0]["details"]
    # the same server as pinned: no change
    same = prof.probe_against("latest", timeout=60)
    assert same.results[0].changes == []
    prof.deploy()
    assert not prof.drift(tools=True, timeout=60).drifted

    switch.write_text("2")  # the rug pull: another description, another schema, another version
    report = prof.probe_against("latest", timeout=60)
    kinds = {c.kind for c in report.results[0].changes}
    assert {
        "tool-description-changed",
        "tool-input-schema-changed",
        "server-version-changed",
    } <= kinds
    schema = next(c for c in report.results[0].changes if c.kind == "tool-input-schema-changed")
    assert "note" in schema.diff

    drift = prof.drift(tools=True, timeout=60)
    assert drift.drifted and "shifty" in drift.tool_changes
    assert "tools    shifty" in str(drift)

    cfg = client_root / ".cursor" / "mcp.json"
    runner = CliRunner()
    probe = runner.invoke(cli, ["probe", str(cfg), "--against", "deployed"])
    assert probe.exit_code == 1, probe.output
    assert re.search(r"\d+ changes? since .* \(deployed\) \(MCP014\)", probe.output)
    assert "tool-input-schema-changed" in probe.output
    drift_cli = runner.invoke(cli, ["drift", "-c", "cursor", "--tools", "--json"])
    assert drift_cli.exit_code == 1
    assert json.loads(drift_cli.output)["tool_changes"]["shifty"]
    check = runner.invoke(cli, ["check", str(cfg), "--level", "live", "--json"])
    assert check.exit_code == 1, check.output
    target = json.loads(check.output)["targets"][0]
    codes = [f["code"] for f in target["errors"] + target["warnings"]]
    assert "MCP014" in codes

    # accepting the change: publishing again with pins takes the new manifest
    again = prof.publish("accept the new tools", pin_tools=True)
    assert again.artifact_id != art.artifact_id
    assert again.tools["shifty"]["manifest"]["server"]["version"] == "1.0.2"


def test_pin_tools_refuses_a_server_that_does_not_answer(ws: mo.Workspace, tmp_path: Path) -> None:
    prof = ws.profile("cursor")
    prof.draft.add_entry("broken", {"command": PY, "args": ["-c", "raise SystemExit(3)"]})
    with pytest.raises(mo.InvalidConfig, match="cannot pin the tools of broken"):
        prof.publish("x", pin_tools=True)
    assert prof.latest() is None


def test_probe_against_a_release_without_tool_pins(ws: mo.Workspace, registry: mo.Registry) -> None:
    prof = ws.profile("cursor")
    registry.find("deepwiki").add_to(prof)
    prof.publish("no pins")
    with pytest.raises(mo.NotFound, match="no pinned tools"):
        prof.probe_against("latest")

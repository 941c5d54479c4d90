"""detect, import and sync (mcp_orch/sync.py) through the library and the CLI."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import tomlkit
from ruamel.yaml import YAML

import mcp_orch as mo
from mcp_orch.domain.clients import config_path, get_client, server_map
from mcp_orch.domain.clients.dialects import read_config
from mcp_orch.domain.pins import MCP_REMOTE_VERSION

GH_TOKEN = "ghp_" + "A1b2C3d4E5" * 4  # looks like a GitHub token; not a real one

CURSOR_FILE = {
    "mcpServers": {
        "gh": {
            "command": "docker",
            "args": [
                "run",
                "-i",
                "--rm",
                "-e",
                "GITHUB_PERSONAL_ACCESS_TOKEN",
                "ghcr.io/github/github-mcp-server",
            ],
            "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": GH_TOKEN},
        },
        "clock": {"command": "uvx", "args": ["mcp-server-time"]},
        "linear": {
            "url": "https://mcp.linear.app/mcp",
            "headers": {"Authorization": "Bearer lin_api_Zx8aQw3ErTy7UiOp9AsDfGhJkLzXcVbN"},
        },
        "mine": {"command": "/opt/bin/my-server", "args": ["--flag"]},
    },
    "otherSetting": True,
}


def _write_cursor(ws: mo.Workspace) -> Path:
    path = Path(config_path("cursor", root=ws.client_root))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(CURSOR_FILE, indent=2))
    return path


def test_detect_finds_installed_clients_with_counts(ws: mo.Workspace) -> None:
    _write_cursor(ws)
    zed = Path(config_path("zed", root=ws.client_root))
    zed.parent.mkdir(parents=True)
    zed.write_text("{ // broken\n")
    rows = {r["client"]: r for r in ws.detect()}
    assert rows["cursor"]["installed"] and rows["cursor"]["servers"] == 4
    assert rows["zed"]["installed"] and rows["zed"]["servers"] is None
    assert "does not parse" in rows["zed"]["error"]
    assert not rows["windsurf"]["installed"]
    assert ws.detect().frame().filter(installed=True).height == 2


def test_import_keeps_entries_links_catalog_and_moves_secrets(ws: mo.Workspace) -> None:
    path = _write_cursor(ws)
    before = path.read_bytes()
    result = ws.import_client("cursor")
    assert path.read_bytes() == before  # nothing in the client file changes
    assert result.servers == ["gh", "clock", "linear", "mine"]
    assert result.linked == {"gh": "github", "clock": "time", "linear": "linear"}
    fields = {(s["server"], s["field"]) for s in result.secrets}
    assert fields == {
        ("gh", "env.GITHUB_PERSONAL_ACCESS_TOKEN"),
        ("linear", "headers.Authorization"),
    }
    assert GH_TOKEN not in json.dumps(result.to_dict())  # reported masked
    draft = ws.profile("cursor").draft
    assert draft.servers["gh"]["env"] == {
        "GITHUB_PERSONAL_ACCESS_TOKEN": "${env:GITHUB_PERSONAL_ACCESS_TOKEN}"
    }
    assert draft.servers["linear"]["headers"] == {"Authorization": "Bearer ${env:LINEAR_TOKEN}"}
    assert draft.servers["mine"] == CURSOR_FILE["mcpServers"]["mine"]  # exact entry kept
    assert GH_TOKEN not in draft.path.read_text()
    assert ws.audit.query(action="import")[0]["details"]["servers"] == result.servers


def test_import_keep_secrets_is_flagged_by_validation(ws: mo.Workspace) -> None:
    _write_cursor(ws)
    ws.import_client("cursor", keep_secrets=True)
    report = ws.profile("cursor").draft.check()
    assert not report.ok
    assert {f.server for f in report.errors if f.code == "MCP003"} >= {"gh"}


def test_import_claude_code_placeholders_become_references(ws: mo.Workspace) -> None:
    path = Path(config_path("claude-code", root=ws.client_root))
    path.write_text(
        json.dumps(
            {
                "mcpServers": {
                    "x": {
                        "type": "stdio",
                        "command": "npx",
                        "args": ["-y", "x"],
                        "env": {"TOKEN": "${MY_TOKEN}"},
                    }
                }
            }
        )
    )
    ws.import_client("claude-code")
    assert ws.profile("claude-code").draft.servers["x"]["env"] == {"TOKEN": "${env:MY_TOKEN}"}


def test_import_missing_file_is_not_found(ws: mo.Workspace) -> None:
    with pytest.raises(mo.NotFound) as err:
        ws.import_client("windsurf")
    assert "detect" in err.value.hint


def test_sync_renders_natively_for_each_client(
    ws: mo.Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_cursor(ws)
    ws.import_client("cursor")
    ws.profile("cursor").draft.remove("mine")
    ws.profile("cursor").draft.publish(changelog="imported")
    monkeypatch.setenv("GITHUB_PERSONAL_ACCESS_TOKEN", "value-from-env")
    monkeypatch.setenv("LINEAR_TOKEN", "lin-from-env")
    result = ws.profile("cursor").sync_to(
        ["vscode", "codex", "claude-desktop", "goose", "continue"], deploy=True
    )
    assert set(result.targets) == {"vscode", "codex", "claude-desktop", "goose", "continue"}

    def servers(client: str) -> dict[str, dict]:
        spec = get_client(client)
        path = Path(config_path(spec, root=ws.client_root))
        return server_map(spec, read_config(spec, path.read_text(), str(path)))

    vs = servers("vscode")
    assert vs["linear"] == {
        "type": "http",
        "url": "https://mcp.linear.app/mcp",
        "headers": {"Authorization": "Bearer ${env:LINEAR_TOKEN}"},
    }
    assert vs["clock"]["type"] == "stdio"
    # Claude Desktop cannot run remote servers: bridged with mcp-remote, secret resolved
    cd = servers("claude-desktop")
    assert cd["linear"]["args"][:3] == [
        "-y",
        f"mcp-remote@{MCP_REMOTE_VERSION}",
        "https://mcp.linear.app/mcp",
    ]
    assert cd["linear"]["env"] == {"AUTH_HEADER": "Bearer lin-from-env"}
    # Codex keeps secrets in the environment (env_vars / bearer_token_env_var)
    codex = tomlkit.parse(Path(config_path("codex", root=ws.client_root)).read_text()).unwrap()
    assert codex["mcp_servers"]["gh"]["env_vars"] == ["GITHUB_PERSONAL_ACCESS_TOKEN"]
    assert codex["mcp_servers"]["linear"]["bearer_token_env_var"] == "LINEAR_TOKEN"
    assert "value-from-env" not in Path(config_path("codex", root=ws.client_root)).read_text()
    goose = YAML().load(Path(config_path("goose", root=ws.client_root)).read_text())
    assert goose["extensions"]["linear"]["type"] == "streamable_http"
    assert goose["extensions"]["gh"]["env_keys"] == ["GITHUB_PERSONAL_ACCESS_TOKEN"]
    cont = servers("continue")
    assert cont["gh"]["env"] == {
        "GITHUB_PERSONAL_ACCESS_TOKEN": "${{ secrets.GITHUB_PERSONAL_ACCESS_TOKEN }}"
    }
    event = ws.audit.query(action="sync")[0]
    assert set(event["details"]["targets"]) == set(result.targets)
    assert ws.verify()["ok"]


def test_sync_checks_every_secret_before_writing_any_file(ws: mo.Workspace) -> None:
    _write_cursor(ws)
    ws.import_client("cursor")
    with pytest.raises(mo.MissingSecret):
        ws.profile("cursor").sync_to(["vscode", "claude-desktop"], deploy=True)
    assert not Path(config_path("vscode", root=ws.client_root)).exists()
    assert not Path(config_path("claude-desktop", root=ws.client_root)).exists()


def test_cli_detect_import_sync(
    ws: mo.Workspace, cli_env: dict[str, str], mcp_orch_cmd: list[str]
) -> None:
    _write_cursor(ws)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*mcp_orch_cmd, *args], env=cli_env, capture_output=True, text=True)

    out = run("detect", "--json")
    assert out.returncode == 0
    assert [r["client"] for r in json.loads(out.stdout)["clients"]] == ["cursor"]
    out = run("import", "--client", "cursor")
    assert out.returncode == 0 and "catalog: github" in out.stdout
    assert GH_TOKEN not in out.stdout
    run("remove-server", "mine", "--client", "cursor")
    out = run("sync", "--from", "cursor", "--to", "vscode,zed", "--json")
    assert out.returncode == 0, out.stderr
    assert set(json.loads(out.stdout)["targets"]) == {"vscode", "zed"}
    out = run("sync", "--from", "cursor/default", "--to", "nope")
    assert out.returncode == 2 and "unknown client" in out.stderr

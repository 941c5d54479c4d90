"""``mcp-orch check`` and ``mcp-orch probe`` (mcp_orch/validation/cli.py), the settings and
targets behind them (mcp_orch/validation/config.py), and the secret scanner they report from
(mcp_orch/secrets.py): client detection from paths, levels, select/ignore, pyproject settings,
drafts and artifacts, --json and --junit-xml, exit codes, masked secrets.
"""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import mcp_orch as mo
from mcp_orch.domain.clients.detect import detect_client
from mcp_orch.domain.secrets import redact, scan_entry, scan_value
from mcp_orch.frontends.cli import cli
from mcp_orch.services.validation.settings import load_settings

PY = sys.executable
GHP = "ghp_" + "A1b2C3d4E5f6G7h8I9j0" * 2  # a GitHub-shaped token (fake)

TINY = (Path(__file__).parent / "servers" / "tiny_stdio.py").read_text()


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def write(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data, indent=2))
    return path


def desktop(
    tmp_path: Path, servers: dict[str, Any], name: str = "claude_desktop_config.json"
) -> Path:
    return write(tmp_path / "configs" / name, {"mcpServers": servers})


LEAKY = {
    "github": {
        "command": "npx",
        "args": ["-y", "@modelcontextprotocol/server-github"],
        "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": GHP},
    }
}
CLEAN = {"time": {"command": PY, "args": ["-m", "mcp_server_time"]}}


# ---- files, detection, exit codes ----------------------------------------------------------


def test_a_literal_secret_fails_the_check_and_is_shown_masked(tmp_path: Path) -> None:
    path = desktop(tmp_path, {**LEAKY, **CLEAN})
    result = run("check", str(path))
    assert result.exit_code == 1
    assert "MCP003 github" in result.output
    assert "[env.GITHUB_PERSONAL_ACCESS_TOKEN]" in result.output
    assert "ghp_…(44 chars)" in result.output
    assert GHP not in result.output
    assert "claude-desktop, client from path" in result.output
    assert "1 target FAILED" in result.output


def test_a_clean_file_passes_and_no_workspace_is_created(tmp_path: Path) -> None:
    result = run("check", str(desktop(tmp_path, CLEAN)))
    assert result.exit_code == 0, result.output
    assert "all checks passed" in result.output
    assert not (tmp_path / "ws").exists()  # checking a file needs no workspace


@pytest.mark.parametrize(
    ("relative", "data", "client"),
    [
        ("home/.cursor/mcp.json", {"mcpServers": {}}, "cursor"),
        ("proj/.vscode/mcp.json", {"servers": {}}, "vscode"),
        ("x/claude_desktop_config.json", {"mcpServers": {}}, "claude-desktop"),
        ("home/.gemini/settings.json", {"mcpServers": {}}, "gemini-cli"),
        ("proj/.mcp.json", {"mcpServers": {}}, "claude-code"),  # the content breaks the tie
        ("home/.mcp.json", {"servers": {}}, "visual-studio"),
        ("home/.codex/config.toml", None, "codex"),
        ("home/.continue/config.yaml", None, "continue"),
        ("proj/.continue/mcpServers/team.yaml", None, "continue"),
    ],
)
def test_the_client_is_detected_from_the_path(
    tmp_path: Path, relative: str, data: Any, client: str
) -> None:
    assert detect_client(tmp_path / relative, data).id == client


def test_an_ambiguous_file_name_asks_for_client(tmp_path: Path) -> None:
    path = write(tmp_path / "shared" / "mcp.json", {"mcpServers": CLEAN})
    result = run("check", str(path))
    assert result.exit_code == 2
    assert "cannot tell which client reads" in result.output and "cursor" in result.output
    assert "--client" in result.output
    assert run("check", str(path), "--client", "cursor").exit_code == 0


def test_other_dialects_toml_and_yaml(tmp_path: Path) -> None:
    toml = write(
        tmp_path / ".codex" / "config.toml",
        f'model = "o3"\n\n[mcp_servers.github]\ncommand = "npx"\nargs = ["-y", "gh"]\n'
        f'env = {{ GITHUB_TOKEN = "{GHP}" }}\n',
    )
    yaml = write(
        tmp_path / ".continue" / "config.yaml",
        "name: team\nmcpServers:\n  - name: time\n    command: uvx\n    args: [mcp-server-time]\n",
    )
    result = run("check", str(toml), str(yaml), "--level", "static", "--json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    by = {t["client"]: t for t in data["targets"]}
    assert by["codex"]["errors"][0]["code"] == "MCP003" and by["codex"]["servers"] == ["github"]
    assert by["continue"]["ok"] and by["continue"]["servers"] == ["time"]


def test_missing_and_unparseable_files(tmp_path: Path) -> None:
    missing = run("check", str(tmp_path / "nope" / "claude_desktop_config.json"))
    assert missing.exit_code == 2 and "no such file" in missing.output
    broken = write(tmp_path / "b" / "claude_desktop_config.json", '{"mcpServers": {,}')
    result = run("check", str(broken))
    assert result.exit_code == 1 and "could not be checked" in result.output


def test_a_folder_is_searched_for_client_config_files(tmp_path: Path) -> None:
    desktop(tmp_path, LEAKY)
    write(tmp_path / "configs" / ".vscode" / "mcp.json", {"servers": CLEAN})
    write(tmp_path / "configs" / "notes.json", {"not": "a config"})
    data = json.loads(run("check", str(tmp_path / "configs"), "--json").output)
    clients = sorted(t["client"] for t in data["targets"])
    assert clients == ["claude-desktop", "vscode"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run("check", str(empty)).exit_code == 2


# ---- levels, select, ignore -------------------------------------------------------------------


def test_levels_static_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOT_SET_HERE", raising=False)
    path = desktop(
        tmp_path,
        {"x": {"command": "no-such-cmd-mcp-orch", "args": [], "env": {"K": "${env:NOT_SET_HERE}"}}},
    )
    env_level = run("check", str(path), "--json")
    codes = {w["code"] for w in json.loads(env_level.output)["targets"][0]["warnings"]}
    assert codes == {"MCP006", "MCP011"}  # environment is the default level
    static = json.loads(run("check", str(path), "--level", "static", "--json").output)
    assert static["levels"] == ["static"] and static["targets"][0]["warnings"] == []


def test_select_and_ignore_like_ruff(tmp_path: Path) -> None:
    path = desktop(tmp_path, {**LEAKY, "Bad Name": {"command": PY}})
    assert run("check", str(path), "--ignore", "MCP003,MCP004,MCP010").exit_code == 0
    only = json.loads(run("check", str(path), "--select", "MCP004", "--json").output)
    assert {e["code"] for e in only["targets"][0]["errors"]} == {"MCP004"}
    by_name = json.loads(run("check", str(path), "--select", "literal-secret", "--json").output)
    assert {e["code"] for e in by_name["targets"][0]["errors"]} == {"MCP003"}
    typo = run("check", str(path), "--select", "MCP03")
    assert typo.exit_code == 2 and "unknown rule 'MCP03'" in typo.output


def test_pyproject_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    desktop(tmp_path, LEAKY)
    write(
        tmp_path / "pyproject.toml",
        '[project]\nname = "team"\n\n[tool.mcp-orch]\nignore = ["MCP003"]\n'
        'levels = ["static"]\nconfigs = ["configs/*.json"]\n',
    )
    sub = tmp_path / "deeper" / "folder"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)  # the nearest pyproject.toml above the current folder
    settings = load_settings()
    assert settings.ignore == ["MCP003"] and settings.levels == ("static",)
    result = run("check", "--json")  # no PATH: the configs of pyproject.toml
    data = json.loads(result.output)
    assert result.exit_code == 0, result.output
    assert data["levels"] == ["static"] and data["ignore"] == ["MCP003"]
    assert data["targets"][0]["client"] == "claude-desktop"
    assert run("check", "--select", "MCP003").exit_code == 0  # still ignored by pyproject
    assert run("check", "--level", "environment", "--json").exit_code == 0


def test_pyproject_mistakes_are_usage_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = desktop(tmp_path, CLEAN)
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "pyproject.toml", '[tool.mcp-orch]\nignores = ["MCP003"]\n')
    result = run("check", str(path))
    assert result.exit_code == 2 and "unknown key 'ignores'" in result.output
    write(tmp_path / "pyproject.toml", '[tool.mcp-orch]\nlevels = ["static", "runtime"]\n')
    assert "unknown level 'runtime'" in run("check", str(path)).output


def test_pyproject_maps_ambiguous_files_to_clients(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "team" / "mcp.json", {"mcpServers": CLEAN})
    write(tmp_path / "pyproject.toml", '[tool.mcp-orch.clients]\n"team/*.json" = "windsurf"\n')
    monkeypatch.chdir(tmp_path)
    data = json.loads(run("check", "team/mcp.json", "--json").output)
    assert data["targets"][0]["client"] == "windsurf"
    assert data["targets"][0]["client_from"] == "pyproject"


# ---- drafts and artifacts -------------------------------------------------------------------------


def test_drafts_and_artifacts(ws: mo.Workspace, registry: mo.Registry) -> None:
    registry.find("time").add_to(ws.profile("cursor"))
    art = ws.profile("cursor").draft.publish(changelog="time")
    result = run("check", "draft:cursor/default", f"artifact:{art.artifact_id[7:19]}", "--json")
    assert result.exit_code == 0, result.output
    kinds = [(t["kind"], t["client"], t["servers"]) for t in json.loads(result.output)["targets"]]
    assert kinds == [("draft", "cursor", ["time"]), ("artifact", "cursor", ["time"])]
    unknown = run("check", "artifact:abcdef123456")
    assert unknown.exit_code == 2 and "no artifact" in unknown.output


def test_a_tampered_artifact_cannot_be_checked(ws: mo.Workspace, registry: mo.Registry) -> None:
    registry.find("time").add_to(ws.profile("cursor"))
    art = ws.profile("cursor").draft.publish(changelog="time")
    obj = ws.store._object_path(art.artifact_id)
    obj.chmod(0o644)
    obj.write_text(obj.read_text().replace("mcp-server-time", "mcp-server-evil"))
    result = run("check", f"artifact:{art.artifact_id}")
    assert result.exit_code == 1 and "could not be checked" in result.output


# ---- output formats ----------------------------------------------------------------------------


def test_junit_xml_has_a_testcase_per_server_and_level(tmp_path: Path) -> None:
    path = desktop(tmp_path, {**LEAKY, **CLEAN})
    out = tmp_path / "reports" / "mcp.xml"
    assert run("check", str(path), "--junit-xml", str(out)).exit_code == 1
    root = ET.parse(out).getroot()
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert set(cases) == {
        "(config)::static",
        "github::static",
        "github::environment",
        "time::static",
        "time::environment",
    }
    failure = cases["github::static"].find("failure")
    assert failure is not None and failure.get("type") == "MCP003"
    assert "hint:" in (failure.text or "") and GHP not in out.read_text()
    assert cases["time::static"].find("failure") is None
    assert root.get("tests") == "5" and root.get("failures") == "1"


def test_json_report_shape(tmp_path: Path) -> None:
    data = json.loads(run("check", str(desktop(tmp_path, LEAKY)), "--json").output)
    assert data["ok"] is False
    target = data["targets"][0]
    assert target["kind"] == "file" and target["client_from"] == "path"
    finding = target["errors"][0]
    assert finding["field"] == "env.GITHUB_PERSONAL_ACCESS_TOKEN"
    assert GHP not in json.dumps(data)


# ---- live level and the probe command ---------------------------------------------------------


def test_live_level_probes_the_servers(tmp_path: Path) -> None:
    tiny = write(tmp_path / "tiny.py", TINY)
    path = desktop(
        tmp_path,
        {
            "tiny": {"command": PY, "args": [str(tiny)]},
            "dead": {"command": PY, "args": ["-c", "import sys; sys.exit(7)"]},
        },
    )
    out = tmp_path / "live.xml"
    result = run("check", str(path), "--level", "live", "--timeout", "20", "--junit-xml", str(out))
    assert result.exit_code == 1
    assert "PROBE dead: the server exited during start-up (exit code 7)" in result.output
    assert "live       ok      tiny: tiny 0.1.0" in result.output
    cases = {c.get("name"): c for c in ET.parse(out).getroot().iter("testcase")}
    assert cases["dead::live"].find("failure") is not None
    assert cases["tiny::live"].find("failure") is None
    ignored = run("check", str(path), "--level", "live", "--ignore", "PROBE")
    assert ignored.exit_code == 0  # the live level can be switched off like any rule


def test_probe_command(tmp_path: Path) -> None:
    tiny = write(tmp_path / "tiny.py", TINY)
    path = desktop(tmp_path, {"tiny": {"command": PY, "args": [str(tiny)]}})
    text = run("probe", str(path))
    assert text.exit_code == 0, text.output
    assert "1 of 1 server answered" in text.output
    assert "tiny 0.1.0" in text.output and "2025-06-18" in text.output
    data = json.loads(run("probe", str(path), "--json").output)
    assert data["ok"] and data["servers"][0]["tools"] == ["echo"]
    bad = desktop(
        tmp_path, {"gone": {"command": "no-such-cmd-mcp-orch"}}, "x/claude_desktop_config.json"
    )
    failed = run("probe", str(bad))
    assert failed.exit_code == 1 and "hint:" in failed.output
    assert run("probe", str(path), "--server", "nope").exit_code == 2


def test_check_and_probe_are_listed_and_keep_mcp_off_the_import_path() -> None:
    assert {"check", "probe"} <= set(run("--help").output.split())
    code = (
        "import sys, mcp_orch.frontends.cli.check, mcp_orch.services.validation.targets, "
        "mcp_orch.frontends.pytest_plugin, mcp_orch.services.probe; "
        "print(sorted(m for m in ('mcp', 'polars', 'anyio') if m in sys.modules))"
    )
    out = subprocess.run([PY, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ---- the secret scanner --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("ghp_" + "a1B2" * 9, "github-token"),
        ("github_pat_" + "11ABCDEFG0" * 3, "github-token"),
        ("glpat-" + "x1Y2z3W4v5U6t7S8r9Q0", "gitlab-token"),
        ("sk-proj-" + "Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8", "openai-key"),
        ("sk-ant-api03-" + "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2", "anthropic-key"),
        ("xoxb-1234567890-0987654321-AbCdEfGhIjKl", "slack-token"),
        ("AKIA" + "Q3EGRTYUJHNBVFDS", "aws-access-key"),
        ("AIza" + "SyD-1a2B3c4D5e6F7g8H9i0J1k2L3m4N5o6", "google-api-key"),
        ("sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc", "stripe-key"),
    ],
)
def test_scanner_knows_each_provider(value: str, kind: str, tmp_path: Path) -> None:
    assert scan_value(value)[0].kind == kind
    result = run("check", str(desktop(tmp_path, {"s": {"command": "x", "env": {"KEY": value}}})))
    assert result.exit_code == 1 and "MCP003" in result.output and value not in result.output


def test_scan_entry_points_at_the_field_and_suggests_a_reference() -> None:
    aws_secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    entry = {
        "command": "npx",
        "args": ["serve", "--token", GHP],
        "env": {"AWS_SECRET_ACCESS_KEY": aws_secret, "LOG_LEVEL": "debug", "REF": "${env:X}"},
        "headers": {"Authorization": "Bearer Zk3Lm8Np2Qr7St1Uv6Wx0Yz4Ab9Cd5Ef"},
    }
    hits = {h.field: h for h in scan_entry(entry, server="team-api")}
    assert set(hits) == {"args[2]", "env.AWS_SECRET_ACCESS_KEY", "headers.Authorization"}
    assert hits["args[2]"].replacement == "${env:GITHUB_TOKEN}"
    assert hits["env.AWS_SECRET_ACCESS_KEY"].kind == "aws-secret-key"
    assert hits["env.AWS_SECRET_ACCESS_KEY"].replacement == "${env:AWS_SECRET_ACCESS_KEY}"
    header = hits["headers.Authorization"]
    assert header.kind == "high-entropy"  # generic: no known prefix, but random-looking
    assert header.replacement == "Bearer ${env:TEAM_API_TOKEN}"
    assert "export TEAM_API_TOKEN" in header.suggestion
    everything = json.dumps([h.to_dict() for h in hits.values()])
    assert GHP not in everything and aws_secret not in everything
    assert "Zk3Lm8Np2Qr7St1Uv6Wx0Yz4Ab9Cd5Ef" not in everything


def test_check_flags_generic_secrets_in_env_and_headers(tmp_path: Path) -> None:
    # Library gap (reported): rule MCP003 calls scan_value() without its env/headers checks.
    path = write(
        tmp_path / ".cursor" / "mcp.json",
        {
            "mcpServers": {
                "api": {
                    "url": "https://api.example.com/mcp",
                    "headers": {"Authorization": "Bearer Zk3Lm8Np2Qr7St1Uv6Wx0Yz4Ab9Cd5Ef"},
                },
                "aws": {
                    "command": "aws-mcp",
                    "env": {"AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
                },
            }
        },
    )
    result = run("check", str(path), "--level", "static", "--json")
    errors = json.loads(result.output)["targets"][0]["errors"]
    fields = {(e["code"], e["server"], e["field"]) for e in errors}
    assert ("MCP003", "api", "headers.Authorization") in fields
    assert ("MCP003", "aws", "env.AWS_SECRET_ACCESS_KEY") in fields
    hints = " ".join(e["hint"] for e in errors)
    assert "${env:AWS_SECRET_ACCESS_KEY}" in hints  # the reference to write, by name
    assert "Zk3Lm8Np2Qr7St1Uv6Wx0Yz4Ab9Cd5Ef" not in result.output


def test_scanner_leaves_ordinary_values_alone() -> None:
    entry = {
        "command": "docker",
        "args": ["run", "-i", "--rm", "ghcr.io/github/github-mcp-server:sha-1a2b3c4d5e6f"],
        "env": {"LOG_LEVEL": "info", "ROOT": "/home/user/projects/very-long-folder-name-123"},
        "headers": {"Accept": "application/json", "X-Id": "${env:TEAM_ID}"},
    }
    assert scan_entry(entry) == []


def test_redact_masks_tokens_and_given_values_in_text() -> None:
    text = f"error: token {GHP} rejected; password hunter2-but-longer"
    out = redact(text, ["hunter2-but-longer"])
    assert GHP not in out and "hunter2-but-longer" not in out
    assert "ghp_…(44 chars)" in out

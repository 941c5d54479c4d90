"""Issue 12, item 2: client facts that were wrong in the client table, each checked against the
client's own build or source (the row's ``verified_by``), rendered, deployed, imported back and
checked. Every test here fails on the table and renderer before the fix."""

from __future__ import annotations

import json
import os
from pathlib import Path, PureWindowsPath
from typing import Any

import pytest

import mcp_orch as mo
from mcp_orch.core.errors import UsageError
from mcp_orch.domain.clients import (
    CLIENTS,
    build_payload,
    config_path,
    current_os,
    from_native,
    get_client,
    refs_from_placeholders,
    server_map,
    to_native,
    unwrap_remote,
)
from mcp_orch.domain.clients.dialects import apply_changes, read_config
from mcp_orch.domain.clients.generate import clients_markdown
from mcp_orch.domain.pins import MCP_REMOTE_VERSION
from mcp_orch.facade.sync import neutral_servers
from mcp_orch.services.validation import check_payload

TOKEN = "tok-issue12-Zq8vN3xR7pLm2Kd9"  # what the environment holds; never in a deployed file
BEARER = {"Authorization": "Bearer ${env:TOKEN}"}
STDIO = {"transport": "stdio", "command": "npx", "args": ["-y", "some-server"], "env": {}}
HTTP = {"transport": "streamable-http", "url": "https://mcp.example.com/mcp", "headers": BEARER}
SSE = {"transport": "sse", "url": "https://mcp.example.com/sse", "headers": BEARER}
# warnings that would lead a user to break a working entry
BREAKING = {"MCP007", "MCP009", "MCP010"}
BRIDGE = f"mcp-remote@{MCP_REMOTE_VERSION}"  # the bridge, pinned (profile pin = "exact")


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKEN", TOKEN)
    monkeypatch.setenv("API_KEY", TOKEN)
    for var in ("CODEX_HOME", "COPILOT_HOME"):
        monkeypatch.delenv(var, raising=False)


def _deploy(ws: mo.Workspace, client: str, servers: dict[str, dict[str, Any]]) -> Path:
    """Publish ``servers`` (neutral entries) for ``client`` and deploy them; the file's path."""
    spec = get_client(client)
    profile = ws.profile(client, target_os="linux")
    for name, neutral in servers.items():
        profile.draft.add_entry(name, to_native(spec, neutral, "linux"), origin="catalog")
    artifact = profile.draft.validate().publish(changelog=f"issue 12 {client}")
    return Path(artifact.deploy().path)


def _servers(client: str, path: Path) -> dict[str, dict[str, Any]]:
    spec = get_client(client)
    return server_map(spec, read_config(spec, path.read_text(encoding="utf-8"), str(path)))


# MCP003: the secret scanner (domain/secrets.py) does not yet know Continue's
IGNORED: dict[str, list[str]] = {}


def _no_breaking_advice(client: str, data: dict[str, Any]) -> None:
    ignore = ["MCP006", "MCP011", *IGNORED.get(client, [])]
    report = check_payload(get_client(client), data, ignore=ignore)
    assert report.ok, str(report)
    assert not [f for f in report.findings if f.code in BREAKING], str(report)


def _three(ws: mo.Workspace, client: str) -> tuple[Path, dict[str, dict[str, Any]]]:
    path = _deploy(ws, client, {"local": STDIO, "web": HTTP, "events": SSE})
    text = path.read_text(encoding="utf-8")
    assert TOKEN not in text, text
    _no_breaking_advice(client, read_config(get_client(client), text, str(path)))
    return path, _servers(client, path)


def _neutral(client: str, entry: dict[str, Any]) -> dict[str, Any]:
    spec = get_client(client)
    return unwrap_remote(from_native(spec, refs_from_placeholders(spec, entry)))


# ---- Goose ------------------------------------------------------------------------------------


def test_goose_streamable_http_extension_has_a_description(ws: mo.Workspace) -> None:
    _, servers = _three(ws, "goose")
    web = servers["web"]
    assert web["type"] == "streamable_http" and web["uri"] == HTTP["url"]
    assert web["description"] == "web"  # goose skips an extension without one
    assert servers["local"]["description"] == "local"


def test_goose_schema_requires_description_on_streamable_http() -> None:
    data = {"extensions": {"web": {"name": "web", "type": "streamable_http", "uri": HTTP["url"]}}}
    report = check_payload(get_client("goose"), data, ignore=["MCP006"])
    assert any(f.code == "MCP010" and "description" in f.message for f in report.findings)


def test_goose_sse_is_bridged_not_written_natively(ws: mo.Workspace) -> None:
    _, servers = _three(ws, "goose")
    events = servers["events"]
    assert events["type"] == "stdio" and BRIDGE in events["args"]
    assert "sse-only" in events["args"]
    assert "sse" not in get_client("goose").remote


def test_goose_header_secret_is_a_variable_in_env_keys(ws: mo.Workspace) -> None:
    _, servers = _three(ws, "goose")
    assert servers["web"]["headers"] == {"Authorization": "Bearer ${TOKEN}"}
    assert servers["web"]["env_keys"] == ["TOKEN"]
    bridge = servers["events"]  # the bridge names the variable itself, passed through by name
    assert "Authorization:Bearer ${TOKEN}" in bridge["args"]
    assert bridge["env_keys"] == ["TOKEN"] and "envs" not in bridge
    assert _neutral("goose", servers["web"])["headers"] == BEARER


# ---- Continue ---------------------------------------------------------------------------------


def test_continue_headers_go_under_request_options(ws: mo.Workspace) -> None:
    path, servers = _three(ws, "continue")
    for name in ("web", "events"):
        assert "headers" not in servers[name]
        assert servers[name]["requestOptions"] == {
            "headers": {"Authorization": "Bearer ${{ secrets.TOKEN }}"}
        }
    assert servers["web"]["type"] == "streamable-http" and servers["events"]["type"] == "sse"
    assert "requestOptions:" in path.read_text(encoding="utf-8")


def test_continue_request_options_are_not_called_unread() -> None:
    data = {
        "name": "x",
        "version": "0.0.1",
        "schema": "v1",
        "mcpServers": [
            {
                "name": "web",
                "type": "streamable-http",
                "url": HTTP["url"],
                "requestOptions": {"headers": {"Authorization": "Bearer ${{ secrets.TOKEN }}"}},
            },
            {"name": "plain", "url": HTTP["url"]},  # type is optional in config-yaml
        ],
    }
    _no_breaking_advice("continue", data)


def test_continue_secret_placeholder_is_not_a_literal() -> None:
    entry = {
        "name": "web",
        "type": "streamable-http",
        "url": HTTP["url"],
        "requestOptions": {"headers": {"Authorization": "Bearer ${{ secrets.TOKEN }}"}},
    }
    report = check_payload(get_client("continue"), {"mcpServers": [entry]}, ignore=["MCP006"])
    assert not [f for f in report.findings if f.code == "MCP003"], str(report)


def test_continue_import_keeps_the_request_options_header(ws: mo.Workspace, tmp_path: Path) -> None:
    file = tmp_path / "config.yaml"
    file.write_text(
        "name: x\nversion: 0.0.1\nschema: v1\nmcpServers:\n"
        "  - name: web\n    type: streamable-http\n    url: https://mcp.example.com/mcp\n"
        "    requestOptions:\n      headers:\n"
        "        Authorization: Bearer ${{ secrets.TOKEN }}\n",
        encoding="utf-8",
    )
    profile = ws.profile("continue")
    profile.import_from(path=file)
    assert neutral_servers(profile)["web"] == HTTP


# ---- Cline, Codex, Mistral Vibe: header secrets stay in the environment -----------------------


def test_cline_writes_env_references_not_the_secret(ws: mo.Workspace) -> None:
    _, servers = _three(ws, "cline")
    assert servers["web"] == {
        "type": "streamableHttp",
        "url": HTTP["url"],
        "headers": {"Authorization": "Bearer ${env:TOKEN}"},
    }
    assert servers["events"]["type"] == "sse"
    assert servers["events"]["headers"] == {"Authorization": "Bearer ${env:TOKEN}"}


def test_codex_header_secrets_are_named_variables(ws: mo.Workspace) -> None:
    headers = {"Authorization": "Bearer ${env:TOKEN}", "X-Api-Key": "${env:API_KEY}"}
    path = _deploy(
        ws,
        "codex",
        {
            "web": {**HTTP, "headers": headers},
            "events": SSE,
            "keyed": {**SSE, "headers": {"X-Api-Key": "${env:API_KEY}"}},  # a renamed variable
        },
    )
    text = path.read_text(encoding="utf-8")
    assert TOKEN not in text, text
    servers = _servers("codex", path)
    assert servers["web"] == {
        "url": HTTP["url"],
        "bearer_token_env_var": "TOKEN",
        "env_http_headers": {"X-Api-Key": "API_KEY"},
    }
    assert "Authorization:Bearer ${TOKEN}" in servers["events"]["args"]
    assert servers["events"]["env_vars"] == ["TOKEN"] and "env" not in servers["events"]
    assert "X-Api-Key:${API_KEY}" in servers["keyed"]["args"]
    assert servers["keyed"]["env_vars"] == ["API_KEY"]
    _no_breaking_advice("codex", read_config(get_client("codex"), text, str(path)))
    assert _neutral("codex", servers["web"])["headers"] == headers
    assert _neutral("codex", servers["events"]) == SSE


def test_mistral_vibe_names_the_token_variable(ws: mo.Workspace) -> None:
    path = _deploy(
        ws,
        "mistral-vibe",
        {"web": HTTP, "keyed": {**HTTP, "headers": {"X-Api-Key": "Token ${env:API_KEY}"}}},
    )
    text = path.read_text(encoding="utf-8")
    assert TOKEN not in text, text
    servers = _servers("mistral-vibe", path)
    assert servers["web"] == {"transport": "http", "url": HTTP["url"], "api_key_env": "TOKEN"}
    assert servers["keyed"] == {
        "transport": "http",
        "url": HTTP["url"],
        "api_key_env": "API_KEY",
        "api_key_header": "X-Api-Key",
        "api_key_format": "Token {token}",
    }
    _no_breaking_advice("mistral-vibe", read_config(get_client("mistral-vibe"), text, str(path)))
    assert _neutral("mistral-vibe", servers["keyed"])["headers"] == {
        "X-Api-Key": "Token ${env:API_KEY}"
    }


def test_codex_home_replaces_the_codex_folder(
    monkeypatch: pytest.MonkeyPatch, client_root: Path
) -> None:
    home = client_root / "elsewhere" / "codex"
    monkeypatch.setenv("CODEX_HOME", str(home))
    assert config_path("codex", target_os=current_os()) == home / "config.toml"
    monkeypatch.setenv("CODEX_HOME", "/outside/the/sandbox")  # a real CODEX_HOME never leaks in
    assert config_path("codex", target_os=current_os()) == client_root / ".codex" / "config.toml"


# ---- Gemini CLI -------------------------------------------------------------------------------


def test_gemini_writes_url_and_type(ws: mo.Workspace) -> None:
    _, servers = _three(ws, "gemini-cli")
    assert servers["web"] == {
        "type": "http",
        "url": HTTP["url"],
        "headers": {"Authorization": "Bearer ${TOKEN}"},
    }
    assert servers["events"]["type"] == "sse" and servers["events"]["url"] == SSE["url"]
    assert "httpUrl" not in json.dumps(servers)


@pytest.mark.parametrize(
    ("entry", "transport"),
    [
        ({"type": "http", "url": HTTP["url"]}, "streamable-http"),
        ({"httpUrl": HTTP["url"]}, "streamable-http"),  # deprecated, still read
        ({"url": HTTP["url"]}, "streamable-http"),  # untyped: streamable HTTP first
        ({"type": "sse", "url": SSE["url"]}, "sse"),
    ],
)
def test_gemini_import_reads_the_transport(entry: dict[str, Any], transport: str) -> None:
    neutral = _neutral("gemini-cli", entry)
    assert neutral["transport"] == transport
    if transport == "streamable-http":  # sync writes type http for Claude Code, no SSE bridge
        assert to_native(get_client("claude-code"), neutral)["type"] == "http"
        assert "sse-only" not in str(to_native(get_client("claude-desktop"), neutral))
    _no_breaking_advice("gemini-cli", {"mcpServers": {"s": entry}})


# ---- Windsurf, Junie --------------------------------------------------------------------------


def test_windsurf_url_entry_is_remote_and_valid() -> None:
    entry = {"url": HTTP["url"], "headers": {"Authorization": "Bearer ${env:TOKEN}"}}
    assert _neutral("windsurf", entry) == HTTP
    _no_breaking_advice("windsurf", {"mcpServers": {"web": entry}})


def test_junie_runs_stdio_only(ws: mo.Workspace) -> None:
    path = _deploy(ws, "junie", {"web": HTTP})
    web = _servers("junie", path)["web"]
    assert web["command"] == "npx" and BRIDGE in web["args"] and "url" not in web
    assert get_client("junie").remote == {}


# ---- OpenCode, Kilo: SSE without a bridge -----------------------------------------------------


@pytest.mark.parametrize("client", ["opencode", "kilo-code"])
def test_sse_falls_back_natively(ws: mo.Workspace, client: str) -> None:
    _, servers = _three(ws, client)
    events = servers["events"]
    assert events["type"] == "remote" and events["url"] == SSE["url"]
    assert "mcp-remote" not in json.dumps(events)
    assert events["headers"] == {"Authorization": "Bearer {env:TOKEN}"}


# ---- paths ------------------------------------------------------------------------------------


def test_claude_desktop_windows_msix_path() -> None:
    path = config_path("claude-desktop", target_os="windows")
    assert path == PureWindowsPath(
        "C:/Users/user/AppData/Local/Packages/Claude_pzs8sxrjxfjjc/LocalCache/Roaming/Claude/"
        "claude_desktop_config.json"
    )
    assert "Roaming/Claude" not in get_client("claude-desktop").paths["windows"].split("Cache/")[0]


def test_crush_windows_reads_the_profile_config_folder() -> None:
    path = config_path("crush", target_os="windows")
    assert path == PureWindowsPath("C:/Users/user/.config/crush/crush.json")


def test_copilot_home_and_project_files(monkeypatch: pytest.MonkeyPatch, client_root: Path) -> None:
    spec = get_client("copilot-cli")
    assert spec.project_path == ".github/mcp.json" and ".mcp.json" in spec.other_project_paths
    home = client_root / "copilot-home"
    monkeypatch.setenv("COPILOT_HOME", str(home))
    assert config_path(spec, target_os=current_os()) == home / "mcp-config.json"
    assert "`.github/mcp.json`, `.mcp.json`" in clients_markdown()


# ---- 5ire -------------------------------------------------------------------------------------


def test_5ire_deploy_refuses_but_check_reads(ws: mo.Workspace) -> None:
    spec = get_client("5ire")
    profile = ws.profile("5ire", target_os="linux")
    profile.draft.add_entry("local", to_native(spec, STDIO), origin="catalog")
    artifact = profile.draft.validate().publish(changelog="5ire")
    with pytest.raises(UsageError) as err:
        artifact.deploy()
    assert "database" in err.value.message and err.value.hint
    target = Path(config_path(spec, root=ws.client_root))
    assert not target.exists()
    report = check_payload(spec, build_payload(spec, {"local": to_native(spec, STDIO)}))
    assert report.ok


# ---- the reference ----------------------------------------------------------------------------


def test_every_row_says_what_verified_it() -> None:
    assert all(c.verified_by for c in CLIENTS)
    text = clients_markdown()
    assert "| verified by |" in text.splitlines()[7]
    assert "@openai/codex 0.171.0" in text and "@google/gemini-cli 0.61.0" in text


def test_no_secret_reaches_a_client_that_can_reference_it(ws: mo.Workspace) -> None:
    """Every client that can expand or name a variable gets the reference, not the value."""
    for client in ("cline", "codex", "goose", "mistral-vibe", "continue", "gemini-cli"):
        path = _deploy(ws, client, {f"web-{client}": HTTP})
        assert TOKEN not in path.read_text(encoding="utf-8"), client
    assert os.environ["TOKEN"] == TOKEN


def test_render_of_a_new_file_parses_back() -> None:
    for client in ("continue", "goose", "gemini-cli", "mistral-vibe"):
        spec = get_client(client)
        text = apply_changes(spec, "", {"web": to_native(spec, HTTP)}, "new")
        assert server_map(spec, read_config(spec, text, "new"))

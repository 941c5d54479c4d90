"""The client table and the entry shapes of every client.

Covers ``mcp_orch/clients/table.py``, ``spec.py`` and ``__init__.py``: the table itself (every
client has an id, a name, a dialect and a path per OS; the twelve most used clients of
CLIENTS.md are there with their documented formats), ``config_path`` (under the client root for
every OS, Windows layout, XDG, project scope, errors), ``to_native`` / ``from_native`` for a
stdio, a streamable-http and an SSE entry of every client (mcp-remote bridging where a client
lacks the transport, ``cmd /c`` on Windows), placeholder syntax, and the generated JSON Schemas
(up to date, and every rendered entry of every client validates against its client's schema).
"""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath
from typing import Any

import pytest

import mcp_orch.domain.clients as clients_mod
from mcp_orch.core.errors import NotFound, UsageError
from mcp_orch.core.resources import client_schema_name, validator
from mcp_orch.domain.clients import (
    ClientSpec,
    config_path,
    env_refs,
    from_native,
    get_client,
    header_env_name,
    list_clients,
    substitute_refs,
    to_native,
    with_named_fields,
    wrap_remote,
)
from mcp_orch.domain.clients.dialects import apply_changes, read_config
from mcp_orch.domain.pins import MCP_REMOTE_VERSION

ROOT = Path(__file__).resolve().parents[1]
OSES = ("macos", "windows", "linux")
CLIENTS = list_clients()
IDS = [c.id for c in CLIENTS]

TOP_TWELVE = (
    "claude-desktop",
    "claude-code",
    "cursor",
    "cline",
    "windsurf",
    "vscode",
    "zed",
    "continue",
    "codex",
    "gemini-cli",
    "goose",
    "lm-studio",
)

STDIO: dict[str, Any] = {
    "transport": "stdio",
    "command": "npx",
    "args": ["-y", "@acme/mcp-server", "--root", "/data"],
    "env": {"ACME_TOKEN": "${env:ACME_TOKEN}", "LOG_LEVEL": "debug"},
}
HTTP: dict[str, Any] = {
    "transport": "streamable-http",
    "url": "https://mcp.acme.example/mcp",
    "headers": {"Authorization": "Bearer ${env:ACME_TOKEN}", "X-Api-Key": "k-123"},
}
SSE: dict[str, Any] = {
    "transport": "sse",
    "url": "https://mcp.acme.example/sse",
    "headers": {"Authorization": "Bearer ${env:ACME_TOKEN}"},
}
NEUTRALS = {"stdio": STDIO, "streamable-http": HTTP, "sse": SSE}


def _real_home() -> str:
    return pwd.getpwuid(os.getuid()).pw_dir


def _is_under(path: PurePath, base: Path) -> bool:
    try:
        Path(path).relative_to(base)
    except ValueError:
        return False
    return True


# ---- the table ------------------------------------------------------------------------------


def test_table_has_at_least_26_clients_with_unique_slug_ids() -> None:
    assert len(CLIENTS) >= 26
    assert len(set(IDS)) == len(IDS), "client ids must be unique"
    for cid in IDS:
        assert cid == cid.lower() and cid.replace("-", "").isalnum(), cid


def test_the_twelve_most_used_clients_are_in_the_table() -> None:
    missing = [c for c in TOP_TWELVE if c not in IDS]
    assert not missing


@pytest.mark.parametrize("spec", CLIENTS, ids=IDS)
def test_every_client_has_name_dialect_source_and_a_path_per_os(spec: ClientSpec) -> None:
    assert spec.name.strip()
    assert spec.dialect in ("json", "jsonc", "toml", "yaml")
    assert set(spec.paths) == set(OSES)
    for os_name in OSES:
        assert spec.paths[os_name].strip(), (spec.id, os_name)
    assert spec.servers_key and all(spec.servers_key)
    assert spec.source.strip(), "every row records where its facts come from"
    if spec.dialect in ("json", "jsonc"):
        assert spec.layout == "map", "JSON files keep servers in a map"
    if spec.placeholder is not None:
        assert spec.placeholder.count("NAME") == 1


def test_get_client_returns_the_row_and_accepts_a_spec() -> None:
    spec = get_client("cursor")
    assert spec.id == "cursor" and spec.name == "Cursor"
    assert get_client(spec) is spec
    assert [c.id for c in list_clients()] == IDS


def test_list_clients_returns_a_copy() -> None:
    listed = list_clients()
    listed.clear()
    assert len(list_clients()) == len(IDS)


@pytest.mark.parametrize(
    ("cid", "dialect", "key", "layout"),
    [
        ("claude-desktop", "json", ("mcpServers",), "map"),
        ("claude-code", "json", ("mcpServers",), "map"),
        ("cursor", "json", ("mcpServers",), "map"),
        ("cline", "json", ("mcpServers",), "map"),
        ("windsurf", "json", ("mcpServers",), "map"),
        ("vscode", "jsonc", ("servers",), "map"),
        ("zed", "jsonc", ("context_servers",), "map"),
        ("continue", "yaml", ("mcpServers",), "list"),
        ("codex", "toml", ("mcp_servers",), "map"),
        ("gemini-cli", "json", ("mcpServers",), "map"),
        ("goose", "yaml", ("extensions",), "map"),
        ("lm-studio", "json", ("mcpServers",), "map"),
        ("amp", "jsonc", ("amp.mcpServers",), "map"),
        ("mistral-vibe", "toml", ("mcp_servers",), "array-of-tables"),
        ("opencode", "jsonc", ("mcp",), "map"),
        ("crush", "json", ("mcp",), "map"),
        ("visual-studio", "json", ("servers",), "map"),
    ],
)
def test_format_and_servers_key_match_clients_md(
    cid: str, dialect: str, key: tuple[str, ...], layout: str
) -> None:
    spec = get_client(cid)
    assert (spec.dialect, spec.servers_key, spec.layout) == (dialect, key, layout)


# ---- errors ---------------------------------------------------------------------------------


def test_unknown_client_is_not_found_with_a_close_match_hint() -> None:
    with pytest.raises(NotFound) as err:
        get_client("cursr")
    assert "cursr" in err.value.message
    assert "cursor" in err.value.hint
    assert err.value.exit_code == 2


def test_unknown_client_without_close_match_points_to_the_list() -> None:
    with pytest.raises(NotFound) as err:
        get_client("qqqqqqqqqq")
    assert "list the clients" in err.value.hint


def test_config_path_of_unknown_client_is_not_found() -> None:
    with pytest.raises(NotFound):
        config_path("claude-desktp", target_os="linux")


def test_unknown_scope_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as err:
        config_path("cursor", scope="global", root=tmp_path, target_os="linux")
    assert "scope" in err.value.message and "global" in err.value.message
    assert "user" in err.value.hint and "project" in err.value.hint


def test_unknown_os_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as err:
        config_path("cursor", root=tmp_path, target_os="beos")
    assert "beos" in err.value.message


@pytest.mark.parametrize("cid", [c.id for c in CLIENTS if not c.project_path])
def test_project_scope_for_client_without_project_file_is_refused(cid: str, tmp_path: Path) -> None:
    with pytest.raises(UsageError) as err:
        config_path(cid, scope="project", project_dir=tmp_path)
    assert "project" in err.value.message
    assert "user" in err.value.hint


# ---- config paths ---------------------------------------------------------------------------

# CLIENTS.md, first table: the path of each of the twelve relative to the home folder.
EXPECTED_USER_PATHS: dict[str, dict[str, str]] = {
    "claude-desktop": {
        "macos": "Library/Application Support/Claude/claude_desktop_config.json",
        # issue 12: the MSIX app reads only its package's virtualised AppData
        "windows": "AppData/Local/Packages/Claude_pzs8sxrjxfjjc/LocalCache/Roaming/Claude/"
        "claude_desktop_config.json",
        "linux": ".config/Claude/claude_desktop_config.json",
    },
    "claude-code": dict.fromkeys(OSES, ".claude.json"),
    "cursor": dict.fromkeys(OSES, ".cursor/mcp.json"),
    "cline": {
        "macos": "Library/Application Support/Code/User/globalStorage/saoudrizwan.claude-dev/"
        "settings/cline_mcp_settings.json",
        "windows": "AppData/Roaming/Code/User/globalStorage/saoudrizwan.claude-dev/"
        "settings/cline_mcp_settings.json",
        "linux": ".config/Code/User/globalStorage/saoudrizwan.claude-dev/"
        "settings/cline_mcp_settings.json",
    },
    "windsurf": dict.fromkeys(OSES, ".codeium/windsurf/mcp_config.json"),
    "vscode": {
        "macos": "Library/Application Support/Code/User/mcp.json",
        "windows": "AppData/Roaming/Code/User/mcp.json",
        "linux": ".config/Code/User/mcp.json",
    },
    "zed": {
        "macos": ".config/zed/settings.json",
        "windows": "AppData/Roaming/Zed/settings.json",
        "linux": ".config/zed/settings.json",
    },
    "continue": dict.fromkeys(OSES, ".continue/config.yaml"),
    "codex": dict.fromkeys(OSES, ".codex/config.toml"),
    "gemini-cli": dict.fromkeys(OSES, ".gemini/settings.json"),
    "goose": {
        "macos": ".config/goose/config.yaml",
        "windows": "AppData/Roaming/Block/goose/config/config.yaml",
        "linux": ".config/goose/config.yaml",
    },
    "lm-studio": dict.fromkeys(OSES, ".lmstudio/mcp.json"),
    # more clients whose path is not in doubt
    "crush": {
        "macos": ".config/crush/crush.json",
        "windows": ".config/crush/crush.json",  # issue 12: AppData/Local/crush is its state
        "linux": ".config/crush/crush.json",
    },
    "kiro": dict.fromkeys(OSES, ".kiro/settings/mcp.json"),
    "copilot-cli": dict.fromkeys(OSES, ".copilot/mcp-config.json"),
    "mistral-vibe": dict.fromkeys(OSES, ".vibe/config.toml"),
}


@pytest.fixture
def as_os(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Pretend to run on another OS, so that its paths resolve for real (under the root)."""

    def switch(os_name: str) -> None:
        monkeypatch.setattr(clients_mod, "current_os", lambda: os_name)

    return switch


@pytest.mark.parametrize("os_name", OSES)
@pytest.mark.parametrize("spec", CLIENTS, ids=IDS)
def test_user_path_resolves_under_the_client_root_on_every_os(
    spec: ClientSpec, os_name: str, tmp_path: Path, as_os: Any
) -> None:
    as_os(os_name)
    root = tmp_path / "sandbox-root"
    path = config_path(spec, root=root, target_os=os_name)
    assert isinstance(path, Path)
    assert _is_under(path, root), path
    assert path != root
    rel = Path(path).relative_to(root).as_posix()
    assert "{" not in rel and "~" not in rel and ".." not in rel.split("/"), rel
    assert not _is_under(path, Path(_real_home())) or _is_under(root, Path(_real_home()))
    template = spec.paths[os_name]
    if os_name == "windows":
        if "{AD}" in template or "{VSU}" in template or "{AS}" in template:
            assert rel.startswith("AppData/Roaming/"), rel
        if "{LAD}" in template:
            assert rel.startswith("AppData/Local/"), rel
    if os_name == "macos" and ("{AS}" in template or "{VSU}" in template):
        assert rel.startswith("Library/Application Support/"), rel


@pytest.mark.parametrize("os_name", OSES)
@pytest.mark.parametrize("cid", sorted(EXPECTED_USER_PATHS))
def test_user_path_of_well_known_clients_matches_clients_md(
    cid: str, os_name: str, tmp_path: Path, as_os: Any
) -> None:
    as_os(os_name)
    path = config_path(cid, root=tmp_path, target_os=os_name)
    assert Path(path) == tmp_path / EXPECTED_USER_PATHS[cid][os_name]


@pytest.mark.parametrize("spec", CLIENTS, ids=IDS)
def test_default_root_is_mcp_orch_client_root(spec: ClientSpec, tmp_path: Path) -> None:
    # conftest points MCP_ORCH_CLIENT_ROOT at tmp_path / "root"; system-wide files go there too
    path = config_path(spec)
    assert _is_under(path, tmp_path / "root"), path


def test_without_client_root_user_paths_go_to_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, as_os: Any
) -> None:
    as_os("linux")
    monkeypatch.delenv("MCP_ORCH_CLIENT_ROOT")
    home = tmp_path / "home"  # conftest's sandboxed HOME
    assert config_path("cursor", target_os="linux") == home / ".cursor/mcp.json"
    assert config_path("claude-code", target_os="linux") == home / ".claude.json"


@pytest.mark.skipif(sys.platform.startswith("win"), reason="POSIX system path")
def test_system_wide_file_without_client_root_is_the_real_system_path(
    monkeypatch: pytest.MonkeyPatch, as_os: Any
) -> None:
    as_os("linux")
    monkeypatch.delenv("MCP_ORCH_CLIENT_ROOT")
    path = config_path("claude-code-managed", target_os="linux")
    assert path == Path("/etc/claude-code/managed-mcp.json")


def test_system_wide_file_with_client_root_stays_under_the_root(tmp_path: Path, as_os: Any) -> None:
    for os_name, rel in (
        ("linux", "etc/claude-code/managed-mcp.json"),
        ("macos", "Library/Application Support/ClaudeCode/managed-mcp.json"),
        ("windows", "Program Files/ClaudeCode/managed-mcp.json"),
    ):
        as_os(os_name)
        assert config_path("claude-code-managed", root=tmp_path, target_os=os_name) == (
            tmp_path / rel
        )


def test_xdg_config_home_is_honoured_on_linux_without_client_root(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, as_os: Any
) -> None:
    as_os("linux")
    monkeypatch.delenv("MCP_ORCH_CLIENT_ROOT")
    xdg = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
    assert config_path("zed", target_os="linux") == xdg / "zed/settings.json"
    assert config_path("goose", target_os="linux") == xdg / "goose/config.yaml"
    assert config_path("vscode", target_os="linux") == xdg / "Code/User/mcp.json"
    # home-relative paths do not move
    assert config_path("cursor", target_os="linux") == tmp_path / "home/.cursor/mcp.json"


def test_xdg_config_home_does_not_escape_an_explicit_root(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, as_os: Any
) -> None:
    as_os("linux")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    root = tmp_path / "r"
    assert config_path("zed", root=root, target_os="linux") == root / ".config/zed/settings.json"


@pytest.mark.parametrize("spec", CLIENTS, ids=IDS)
def test_path_for_a_foreign_windows_target_is_a_pure_windows_path(
    spec: ClientSpec, tmp_path: Path, as_os: Any
) -> None:
    as_os("linux")
    path = config_path(spec, root=tmp_path, target_os="windows")
    assert isinstance(path, PureWindowsPath)
    assert path.drive.upper() == "C:"
    assert "{" not in str(path) and "~" not in str(path)
    template = spec.paths["windows"]
    text = path.as_posix()
    if "{AD}" in template or "{VSU}" in template or "{AS}" in template:
        assert "/AppData/Roaming/" in text, text
    if "{LAD}" in template:
        assert "/AppData/Local/" in text, text
    if spec.id in EXPECTED_USER_PATHS:
        assert text.endswith("/" + EXPECTED_USER_PATHS[spec.id]["windows"]), text


@pytest.mark.parametrize("spec", CLIENTS, ids=IDS)
def test_path_for_a_foreign_macos_target_is_a_pure_posix_path(
    spec: ClientSpec, tmp_path: Path, as_os: Any
) -> None:
    as_os("windows")
    path = config_path(spec, root=tmp_path, target_os="macos")
    assert isinstance(path, PurePosixPath) and not isinstance(path, Path)
    assert "{" not in str(path)
    assert not str(path).startswith(_real_home() + "/")
    if spec.id in EXPECTED_USER_PATHS:
        assert str(path).endswith("/" + EXPECTED_USER_PATHS[spec.id]["macos"]), path


@pytest.mark.parametrize(
    ("cid", "rel"),
    [
        ("claude-code", ".mcp.json"),
        ("cursor", ".cursor/mcp.json"),
        ("vscode", ".vscode/mcp.json"),
        ("zed", ".zed/settings.json"),
        ("codex", ".codex/config.toml"),
        ("gemini-cli", ".gemini/settings.json"),
        ("kiro", ".kiro/settings/mcp.json"),
        ("roo-code", ".roo/mcp.json"),
    ],
)
def test_project_scope_paths(cid: str, rel: str, tmp_path: Path) -> None:
    project = tmp_path / "proj"
    assert config_path(cid, scope="project", project_dir=project) == project / rel


def test_continue_project_file_is_a_block_in_mcp_servers_folder(tmp_path: Path) -> None:
    path = Path(config_path("continue", scope="project", project_dir=tmp_path))
    assert path.parent == tmp_path / ".continue" / "mcpServers"
    assert path.suffix == ".yaml"


@pytest.mark.parametrize("spec", [c for c in CLIENTS if c.project_path], ids=lambda c: c.id)
def test_project_scope_defaults_to_cwd_and_ignores_client_root(
    spec: ClientSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "cwd-project"
    project.mkdir()
    monkeypatch.chdir(project)
    path = config_path(spec, scope="project", root=tmp_path / "root")
    assert path == project / str(spec.project_path)
    assert _is_under(path, project)


# ---- native entries -------------------------------------------------------------------------


#: The mcp-remote bridge as written: pinned at the version mcp-orch ships (profile pin "exact").
BRIDGE = f"mcp-remote@{MCP_REMOTE_VERSION}"


def _bridge(spec: ClientSpec, neutral: dict[str, Any]) -> dict[str, Any]:
    """What to_native should write for a remote server the client cannot run natively."""
    args = ["-y", BRIDGE, neutral["url"]]
    env: dict[str, str] = {}
    for name, value in neutral["headers"].items():
        var = (
            "AUTH_HEADER" if name == "Authorization" else name.upper().replace("-", "_") + "_HEADER"
        )
        args += ["--header", f"{name}:${{{var}}}"]
        env[var] = value
    if neutral["transport"] == "sse":
        args += ["--transport", "sse-only"]
    return {"transport": "stdio", "command": "npx", "args": args, "env": env}


@pytest.mark.parametrize("transport", list(NEUTRALS))
@pytest.mark.parametrize("spec", CLIENTS, ids=IDS)
def test_to_native_from_native_round_trip(spec: ClientSpec, transport: str) -> None:
    neutral = NEUTRALS[transport]
    native = to_native(spec, neutral, "linux")
    back = from_native(spec, native)
    if spec.supports(transport):
        ambiguous = (
            transport == "sse"
            and "streamable-http" in spec.remote
            and to_native(spec, {**HTTP, "url": SSE["url"], "headers": SSE["headers"]}) == native
        )
        if ambiguous:
            # The client writes SSE and streamable HTTP the same way (it detects the transport
            # itself), so the file cannot say which one it was; it reads back as streamable HTTP.
            assert back == {**SSE, "transport": "streamable-http"}
        else:
            assert back == neutral
    else:
        assert back == _bridge(spec, neutral)
    # reading a native entry and writing it again gives the same entry
    assert to_native(spec, back, "linux") == native
    assert neutral == NEUTRALS[transport], "to_native must not mutate its input"


@pytest.mark.parametrize("transport", ["streamable-http", "sse"])
@pytest.mark.parametrize("spec", CLIENTS, ids=IDS)
def test_remote_transport_the_client_lacks_is_bridged_with_mcp_remote(
    spec: ClientSpec, transport: str
) -> None:
    neutral = NEUTRALS[transport]
    native = to_native(spec, neutral, "linux")
    s = spec.stdio
    if spec.supports(transport):
        shape = spec.remote[transport]
        assert native[shape.url] == neutral["url"]
        headers: Any = native
        for key in shape.headers.split("."):  # Continue: requestOptions.headers
            headers = headers[key]
        assert headers == neutral["headers"]
        if shape.type_key and shape.type_value:
            assert native[shape.type_key] == shape.type_value
        assert s.command not in native or s.command in spec.static_fields
        return
    bridge = _bridge(spec, neutral)
    if s.command_array:
        assert native[s.command] == ["npx", *bridge["args"]]
    else:
        assert native[s.command] == "npx"
        assert native[s.args] == bridge["args"]
    assert native[s.env] == bridge["env"]
    args = native[s.command][1:] if s.command_array else native[s.args]
    assert args[:3] == ["-y", BRIDGE, neutral["url"]]
    assert ("--transport" in args) == (transport == "sse")
    if transport == "sse":
        assert args[-2:] == ["--transport", "sse-only"]
    # header values travel through env, the argument has no space after the colon
    for name in neutral["headers"]:
        var = header_env_name(name)
        assert f"{name}:${{{var}}}" in args
    assert not any(" " in a for a in args), "arguments with spaces break on Windows"
    assert all(v not in " ".join(args) for v in neutral["headers"].values())


def test_clients_without_native_remote_bridge_every_remote_server() -> None:
    for cid in ("claude-desktop", "witsy"):
        spec = get_client(cid)
        assert not spec.native_remote
        for neutral in (HTTP, SSE):
            assert to_native(spec, neutral)["command"] == "npx"


def test_wrap_remote_names_header_variables() -> None:
    assert header_env_name("Authorization") == "AUTH_HEADER"
    assert header_env_name("authorization") == "AUTH_HEADER"
    assert header_env_name("X-Api-Key") == "X_API_KEY_HEADER"
    wrapped = wrap_remote({"transport": "streamable-http", "url": "https://x.example/mcp"})
    assert wrapped == {
        "transport": "stdio",
        "command": "npx",
        "args": ["-y", BRIDGE, "https://x.example/mcp"],
        "env": {},
    }


# Expected native entries of the twelve (CLIENTS.md, first table).
_S = {"command": "npx", "args": STDIO["args"], "env": STDIO["env"]}
_H = {"url": HTTP["url"], "headers": HTTP["headers"]}
_E = {"url": SSE["url"], "headers": SSE["headers"]}


def _bridged(neutral: dict[str, Any], **extra: Any) -> dict[str, Any]:
    b = _bridge(get_client("claude-desktop"), neutral)
    return {"command": "npx", "args": b["args"], "env": b["env"], **extra}


EXPECTED_NATIVE: dict[str, dict[str, dict[str, Any]]] = {
    "claude-desktop": {"stdio": _S, "streamable-http": _bridged(HTTP), "sse": _bridged(SSE)},
    "claude-code": {
        "stdio": {"type": "stdio", **_S},
        "streamable-http": {"type": "http", **_H},
        "sse": {"type": "sse", **_E},
    },
    "cursor": {"stdio": _S, "streamable-http": _H, "sse": _E},
    "cline": {
        "stdio": _S,
        "streamable-http": {"type": "streamableHttp", **_H},
        "sse": {"type": "sse", **_E},
    },
    "windsurf": {
        "stdio": _S,
        "streamable-http": {"serverUrl": HTTP["url"], "headers": HTTP["headers"]},
        "sse": {"serverUrl": SSE["url"], "headers": SSE["headers"]},
    },
    "vscode": {
        "stdio": {"type": "stdio", **_S},
        "streamable-http": {"type": "http", **_H},
        "sse": {"type": "sse", **_E},
    },
    "zed": {
        "stdio": {**_S, "source": "custom"},
        "streamable-http": {**_H, "source": "custom"},
        "sse": _bridged(SSE, source="custom"),
    },
    "continue": {  # issue 12: headers under requestOptions (config-yaml strips top-level ones)
        "stdio": _S,
        "streamable-http": {
            "type": "streamable-http",
            "url": HTTP["url"],
            "requestOptions": {"headers": HTTP["headers"]},
        },
        "sse": {"type": "sse", "url": SSE["url"], "requestOptions": {"headers": SSE["headers"]}},
    },
    "codex": {
        "stdio": _S,
        "streamable-http": {"url": HTTP["url"], "http_headers": HTTP["headers"]},
        "sse": _bridged(SSE),
    },
    "gemini-cli": {
        "stdio": _S,
        # issue 12: url + type (httpUrl is deprecated)
        "streamable-http": {"type": "http", **_H},
        "sse": {"type": "sse", **_E},
    },
    "goose": {
        "stdio": {
            "type": "stdio",
            "cmd": "npx",
            "args": STDIO["args"],
            "envs": STDIO["env"],
            "enabled": True,
            "timeout": 300,
        },
        "streamable-http": {
            "type": "streamable_http",
            "uri": HTTP["url"],
            "headers": HTTP["headers"],
            "enabled": True,
            "timeout": 300,
        },
        "sse": {  # issue 12: goose no longer supports SSE
            "type": "stdio",
            "cmd": "npx",
            "args": _bridged(SSE)["args"],
            "envs": _bridged(SSE)["env"],
            "enabled": True,
            "timeout": 300,
        },
    },
    "lm-studio": {"stdio": _S, "streamable-http": _H, "sse": _bridged(SSE)},
    "opencode": {
        "stdio": {
            "type": "local",
            "command": ["npx", *STDIO["args"]],
            "environment": STDIO["env"],
            "enabled": True,
        },
        "streamable-http": {"type": "remote", **_H, "enabled": True},
        "sse": {"type": "remote", **_E, "enabled": True},  # issue 12: falls back to SSE itself
    },
    "copilot-cli": {
        "stdio": {"type": "local", **_S, "tools": ["*"]},
        "streamable-http": {"type": "http", **_H, "tools": ["*"]},
        "sse": {"type": "sse", **_E, "tools": ["*"]},
    },
}


@pytest.mark.parametrize("transport", list(NEUTRALS))
@pytest.mark.parametrize("cid", list(EXPECTED_NATIVE))
def test_native_entry_of_well_known_clients(cid: str, transport: str) -> None:
    expected = EXPECTED_NATIVE[cid][transport]
    assert to_native(get_client(cid), NEUTRALS[transport], "linux") == expected


def test_stdio_entry_without_args_or_env() -> None:
    neutral = {"transport": "stdio", "command": "/usr/local/bin/server"}
    assert to_native(get_client("cursor"), neutral) == {
        "command": "/usr/local/bin/server",
        "args": [],
    }
    back = from_native(get_client("cursor"), to_native(get_client("cursor"), neutral))
    assert back == {**neutral, "args": [], "env": {}}


def test_from_native_drops_unknown_fields_and_reads_extra_shapes() -> None:
    entry = {"command": "uvx", "args": ["mcp-server-fetch"], "disabled": True, "x": 1}
    assert from_native(get_client("cline"), entry) == {
        "transport": "stdio",
        "command": "uvx",
        "args": ["mcp-server-fetch"],
        "env": {},
    }
    # the type field decides the transport of a typed remote entry
    sse_entry = {"type": "sse", "url": "https://a.example"}
    assert from_native(get_client("claude-code"), sse_entry)["transport"] == "sse"


# ---- Windows --------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["npx", "uvx"])
@pytest.mark.parametrize("spec", CLIENTS, ids=IDS)
def test_windows_wraps_shims_in_cmd_c_only_for_clients_that_need_it(
    spec: ClientSpec, command: str
) -> None:
    neutral = {**STDIO, "command": command}
    native = to_native(spec, neutral, "windows")
    s = spec.stdio
    argv = native[s.command] if s.command_array else [native[s.command], *native[s.args]]
    if spec.windows_cmd_wrap:
        assert argv == ["cmd", "/c", command, *STDIO["args"]]
    else:
        assert argv == [command, *STDIO["args"]]
    assert native[s.env] == STDIO["env"]
    # reading it back gives the plain command again
    assert from_native(spec, native) == neutral
    # other OSes never wrap
    for os_name in ("linux", "macos"):
        plain = to_native(spec, neutral, os_name)
        argv = plain[s.command] if s.command_array else [plain[s.command], *plain[s.args]]
        assert argv[0] == command


def test_vscode_and_visual_studio_do_not_wrap_but_claude_desktop_does() -> None:
    assert not get_client("vscode").windows_cmd_wrap
    assert not get_client("visual-studio").windows_cmd_wrap
    assert get_client("claude-desktop").windows_cmd_wrap
    assert get_client("cursor").windows_cmd_wrap


@pytest.mark.parametrize("command", ["python", "docker", "C:/tools/server.exe"])
def test_windows_does_not_wrap_real_executables(command: str) -> None:
    native = to_native(get_client("claude-desktop"), {**STDIO, "command": command}, "windows")
    assert native["command"] == command
    assert native["args"] == STDIO["args"]


def test_windows_bridge_for_claude_desktop_is_wrapped_too() -> None:
    native = to_native(get_client("claude-desktop"), HTTP, "windows")
    assert native["command"] == "cmd"
    assert native["args"][:5] == ["/c", "npx", "-y", BRIDGE, HTTP["url"]]


# ---- placeholders ---------------------------------------------------------------------------

EXPECTED_PLACEHOLDER: dict[str, str | None] = {
    # CLIENTS.md, first table
    "claude-desktop": None,
    "claude-code": "${GITHUB_TOKEN}",
    "cursor": "${env:GITHUB_TOKEN}",
    "cline": "${env:GITHUB_TOKEN}",  # issue 12: McpHub expands ${env:VAR}
    "windsurf": "${env:GITHUB_TOKEN}",
    "vscode": "${env:GITHUB_TOKEN}",
    "zed": None,
    "continue": "${{ secrets.GITHUB_TOKEN }}",
    "codex": None,
    "gemini-cli": "${GITHUB_TOKEN}",
    "goose": None,
    "lm-studio": None,
    # more clients with documented syntax
    "kilo-code": "{env:GITHUB_TOKEN}",
    "opencode": "{env:GITHUB_TOKEN}",
    "copilot-cli": "${GITHUB_TOKEN}",
    "crush": "$GITHUB_TOKEN",
    "kiro": "${GITHUB_TOKEN}",
    "claude-code-managed": "${GITHUB_TOKEN}",
    "qwen-code": "${GITHUB_TOKEN}",
    "5ire": None,
    "jan": None,
    "witsy": None,
}


@pytest.mark.parametrize(("cid", "expected"), list(EXPECTED_PLACEHOLDER.items()))
def test_placeholder_syntax_per_client(cid: str, expected: str | None) -> None:
    assert get_client(cid).placeholder_for("GITHUB_TOKEN") == expected


@pytest.mark.parametrize("spec", [c for c in CLIENTS if c.placeholder], ids=lambda c: c.id)
def test_secret_references_become_the_client_placeholder(spec: ClientSpec) -> None:
    native = to_native(spec, HTTP if spec.supports("streamable-http") else STDIO)
    rendered = substitute_refs(native, lambda v: spec.placeholder_for(v) or v)
    text = repr(rendered)
    assert str(spec.placeholder_for("ACME_TOKEN")) in text
    if not str(spec.placeholder).startswith("${env:"):
        assert env_refs(rendered) == [], "no ${env:...} reference may be left"


def test_env_refs_and_substitute_refs_walk_nested_values() -> None:
    value = {"a": ["x ${env:ONE} y", {"b": "${env:TWO}${env:ONE}"}], "c": 3, "d": "$ONE"}
    assert env_refs(value) == ["ONE", "TWO", "ONE"]
    out = substitute_refs(value, lambda v: f"<{v}>")
    assert out == {"a": ["x <ONE> y", {"b": "<TWO><ONE>"}], "c": 3, "d": "$ONE"}


# ---- schemas --------------------------------------------------------------------------------


def test_generated_schemas_and_reference_are_up_to_date() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mcp_orch.domain.clients.generate", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_there_is_one_schema_per_client() -> None:
    files = {p.name.removesuffix(".schema.json") for p in (ROOT / "schemas/clients").glob("*.json")}
    assert files == set(IDS)


def _payload(spec: ClientSpec, entries: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The servers part of ``spec``'s file holding ``entries``."""
    servers: Any
    if spec.layout == "map":
        servers = dict(entries)
    else:
        field = spec.name_field or "name"
        servers = [{field: name, **entry} for name, entry in entries.items()]
    node: Any = servers
    for key in reversed(spec.servers_key):
        node = {key: node}
    return dict(node)


def _rendered(spec: ClientSpec) -> dict[str, dict[str, Any]]:
    entries: dict[str, dict[str, Any]] = {}
    for os_name in ("linux", "windows"):
        for transport, neutral in NEUTRALS.items():
            entries[f"{transport}-{os_name}"] = to_native(spec, neutral, os_name)
    entries["bare"] = to_native(spec, {"transport": "stdio", "command": "server"}, "linux")
    entries["no-headers"] = to_native(
        spec, {"transport": "streamable-http", "url": "http://localhost:8080/mcp"}
    )
    # deploy writes the fields a client needs named (issue 12: Goose's description)
    return {n: with_named_fields(spec, n, e) for n, e in entries.items()}


@pytest.mark.parametrize("spec", CLIENTS, ids=IDS)
def test_every_rendered_entry_validates_against_the_client_schema(spec: ClientSpec) -> None:
    check = validator(client_schema_name(spec.id))
    payload = _payload(spec, _rendered(spec))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in check.iter_errors(payload)]
    assert not errors


@pytest.mark.parametrize("spec", CLIENTS, ids=IDS)
def test_a_file_written_in_the_client_dialect_validates_against_its_schema(
    spec: ClientSpec,
) -> None:
    check = validator(client_schema_name(spec.id))
    text = apply_changes(spec, "", dict(_rendered(spec)))
    data = read_config(spec, text)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in check.iter_errors(data)]
    assert not errors


@pytest.mark.parametrize("spec", CLIENTS, ids=IDS)
def test_client_schema_rejects_broken_entries(spec: ClientSpec) -> None:
    check = validator(client_schema_name(spec.id))
    s = spec.stdio
    no_command = {s.args: ["x"]} if not s.command_array else {s.env: {"A": "1"}}
    assert not check.is_valid(_payload(spec, {"broken": no_command}))
    wrong_env = to_native(spec, STDIO)
    wrong_env[s.env] = {"PORT": 8080}
    assert not check.is_valid(_payload(spec, {"broken": wrong_env}))
    for transport, shape in spec.remote.items():
        bad_url = to_native(spec, {**NEUTRALS[transport], "url": "ftp://x.example"})
        assert shape.url in bad_url
        assert not check.is_valid(_payload(spec, {"broken": bad_url})), transport
    assert not check.is_valid(_payload(spec, {"bad name!": to_native(spec, STDIO)}))

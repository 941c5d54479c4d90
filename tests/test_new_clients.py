"""Issue 12, item 3: the clients and variants added to the client table, each with its source.

For every new row, a stdio server, a streamable-HTTP server with ``Authorization: Bearer
${env:TOKEN}`` and an SSE server are published and deployed through the public API into a
temporary client root; the file lands at the row's path, holds exactly the client's native
entries, is detected as that client's file and checks with no errors (for a client that expands
no variables, the one finding is MCP003 on the token it holds by design)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import mcp_orch as mo
from mcp_orch.domain.clients import CLIENTS, config_path, get_client, server_map, to_native
from mcp_orch.domain.clients.detect import detect_client
from mcp_orch.domain.clients.dialects import read_config
from mcp_orch.domain.pins import MCP_REMOTE_VERSION

TOKEN = "tok-issue12-new-clients-7Hq2"  # what the environment holds
BEARER = {"Authorization": "Bearer ${env:TOKEN}"}
NEUTRAL = {
    "local": {"transport": "stdio", "command": "npx", "args": ["-y", "some-server"], "env": {}},
    "web": {
        "transport": "streamable-http",
        "url": "https://mcp.example.com/mcp",
        "headers": BEARER,
    },
    "events": {"transport": "sse", "url": "https://mcp.example.com/sse", "headers": BEARER},
}
STDIO = {"command": "npx", "args": ["-y", "some-server"]}
MCP_URL, SSE_URL = "https://mcp.example.com/mcp", "https://mcp.example.com/sse"


def _bridge(url: str, *extra: str) -> dict[str, Any]:
    """A remote server through mcp-remote, for a client without native remote transports; the
    client expands no variables, so the header's value is resolved at deploy time."""
    args = [
        "-y",
        f"mcp-remote@{MCP_REMOTE_VERSION}",
        url,
        "--header",
        "Authorization:${AUTH_HEADER}",
        *extra,
    ]
    return {"command": "npx", "args": args, "env": {"AUTH_HEADER": f"Bearer {TOKEN}"}}


def _typed(http: str, sse: str, auth: str, key: str = "type") -> dict[str, Any]:
    return {
        "web": {key: http, "url": MCP_URL, "headers": {"Authorization": auth}},
        "events": {key: sse, "url": SSE_URL, "headers": {"Authorization": auth}},
    }


_VSCODE_LIKE = {"local": {"type": "stdio", **STDIO}, **_typed("http", "sse", "Bearer ${env:TOKEN}")}
RESOLVED = f"Bearer {TOKEN}"  # clients without env expansion get the value at deploy time

# client id -> (user path under the client root on Linux, the exact entries deployed there)
EXPECTED: dict[str, tuple[str, dict[str, Any]]] = {
    "vscode-insiders": (".config/Code - Insiders/User/mcp.json", _VSCODE_LIKE),
    "vscodium": (".config/VSCodium/User/mcp.json", _VSCODE_LIKE),
    "vscode-server": (".vscode-server/data/User/mcp.json", _VSCODE_LIKE),
    "windsurf-jetbrains": (
        ".codeium/mcp_config.json",
        {
            "local": STDIO,
            "web": {"serverUrl": MCP_URL, "headers": BEARER},
            "events": {"serverUrl": SSE_URL, "headers": BEARER},
        },
    ),
    "cline-cli": (
        ".cline/data/settings/cline_mcp_settings.json",
        {"local": STDIO, **_typed("streamableHttp", "sse", RESOLVED)},
    ),
    "amazon-q-cli": (
        ".aws/amazonq/mcp.json",
        {
            "local": STDIO,
            "web": {"type": "http", "url": MCP_URL, "headers": {"Authorization": RESOLVED}},
            "events": _bridge(SSE_URL, "--transport", "sse-only"),
        },
    ),
    "kimi-cli": (
        ".kimi/mcp.json",
        {"local": STDIO, **_typed("http", "sse", RESOLVED, "transport")},
    ),
    "qoder-cli": (".qoder/settings.json", {"local": STDIO, **_typed("http", "sse", RESOLVED)}),
    "auggie": (".augment/settings.json", {"local": STDIO, **_typed("http", "sse", RESOLVED)}),
    "librechat": (
        "LibreChat/librechat.yaml",
        {
            "local": {"type": "stdio", **STDIO},
            **_typed("streamable-http", "sse", "Bearer ${TOKEN}"),
        },
    ),
    "boltai": (
        ".boltai/mcp.json",
        {
            "local": STDIO,
            "web": _bridge(MCP_URL),
            "events": _bridge(SSE_URL, "--transport", "sse-only"),
        },
    ),
}
NEW = sorted(EXPECTED)


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKEN", TOKEN)
    for var in ("CLINE_DIR", "KIMI_SHARE_DIR"):
        monkeypatch.delenv(var, raising=False)


def _deploy(ws: mo.Workspace, client: str) -> Path:
    spec = get_client(client)
    profile = ws.profile(client, target_os="linux")
    for name, neutral in NEUTRAL.items():
        profile.draft.add_entry(name, to_native(spec, neutral, "linux"), origin="catalog")
    artifact = profile.draft.validate().publish(changelog=f"issue 12: three servers for {client}")
    return Path(artifact.deploy().path)


def test_the_table_has_at_least_40_clients_and_every_new_one() -> None:
    ids = [c.id for c in CLIENTS]
    assert len(ids) >= 40
    assert len(set(ids)) == len(ids)
    assert set(NEW) <= set(ids)


@pytest.mark.parametrize("client", NEW)
def test_a_new_row_names_its_source_and_how_it_was_verified(client: str) -> None:
    spec = get_client(client)
    assert spec.source.strip() and spec.verified_by.strip()


@pytest.mark.parametrize("client", NEW)
def test_three_transports_land_at_the_rows_path_in_its_native_shape(
    ws: mo.Workspace, client_root: Path, client: str
) -> None:
    spec = get_client(client)
    rel, expected = EXPECTED[client]
    path = _deploy(ws, client)
    assert path == client_root / rel
    assert path == config_path(spec, root=client_root, target_os="linux")
    data = read_config(spec, path.read_text(encoding="utf-8"), str(path))
    assert server_map(spec, data) == expected
    for key, value in spec.new_file_fields.items():
        assert data[key] == value
    report = mo.check_payload(spec, data)
    if spec.placeholder is None:
        # the client expands no variables, so the token is in the file by design (resolved at
        # deploy time): MCP003 rightly reports it there, and nothing else is wrong
        secrets = [f for f in report.errors if f.code == "MCP003"]
        assert {f.server for f in secrets} == {"web", "events"}, str(report)
        assert [f for f in report.errors if f.code != "MCP003"] == [], str(report)
    else:
        assert TOKEN not in path.read_text(encoding="utf-8")
        assert report.errors == [], str(report)
    assert detect_client(path).id == client


@pytest.mark.parametrize("client", ["vscode-insiders", "vscodium", "vscode-server"])
def test_vscode_variants_keep_vscodes_shape_at_other_paths(client: str) -> None:
    vscode, spec = get_client("vscode"), get_client(client)
    for name in (
        "dialect",
        "servers_key",
        "layout",
        "stdio",
        "remote",
        "placeholder",
        "windows_cmd_wrap",
        "extra_fields",
        "name_pattern",
    ):
        assert getattr(spec, name) == getattr(vscode, name), name
    assert spec.paths != vscode.paths
    assert spec.project_path is None  # .vscode/mcp.json stays the vscode row's
    assert detect_client(Path("/w/.vscode/mcp.json")).id == "vscode"


@pytest.mark.parametrize(
    ("client", "os_name", "rel"),
    [
        ("vscode-insiders", "macos", "Library/Application Support/Code - Insiders/User/mcp.json"),
        ("vscode-insiders", "windows", "AppData/Roaming/Code - Insiders/User/mcp.json"),
        ("vscodium", "macos", "Library/Application Support/VSCodium/User/mcp.json"),
        ("vscodium", "windows", "AppData/Roaming/VSCodium/User/mcp.json"),
        ("windsurf-jetbrains", "windows", ".codeium/mcp_config.json"),
        ("cline-cli", "windows", ".cline/data/settings/cline_mcp_settings.json"),
        ("amazon-q-cli", "macos", ".aws/amazonq/mcp.json"),
        ("kimi-cli", "windows", ".kimi/mcp.json"),
        ("auggie", "windows", ".augment/settings.json"),
    ],
)
def test_user_paths_on_other_systems(client: str, os_name: str, rel: str) -> None:
    home = "C:/Users/user" if os_name == "windows" else "/Users/user"
    path = config_path(client, root="/unused", target_os=os_name)
    assert path.as_posix() == f"{home}/{rel}"


@pytest.mark.parametrize(
    ("client", "project_file"),
    [
        ("amazon-q-cli", ".amazonq/mcp.json"),
        ("qoder-cli", ".qoder/settings.json"),
        ("auggie", ".augment/settings.json"),
        ("librechat", "librechat.yaml"),
    ],
)
def test_project_files_of_new_clients(client: str, project_file: str, tmp_path: Path) -> None:
    path = config_path(client, scope="project", project_dir=tmp_path)
    assert path == tmp_path / project_file
    assert detect_client(path).id == client

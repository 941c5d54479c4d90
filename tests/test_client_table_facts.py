"""The client table is the one place with facts about individual clients.

A new :class:`ClientSpec` row, and nothing else, is enough for the rest of mcp-orch to know
about its extra config files (detection), its off switch (the probe skips servers the client
would not start), its servers key (MCP010 names it when it is found in another client's file),
its URL field (MCP007 reports it in a client that cannot run remote servers), its required
fields (the generated schema) and its working-directory field (the probe starts the server
there). The last test scans the package source: outside ``domain/clients/table.py`` no module
compares a value with a client id or keys a mapping on one.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import mcp_orch.domain.clients as clients_mod
from mcp_orch.domain.clients import (
    CLIENTS,
    ClientSpec,
    RemoteShape,
    StdioShape,
    get_client,
)
from mcp_orch.domain.clients.detect import detect_client, find_config_files
from mcp_orch.domain.clients.generate import entry_schemas
from mcp_orch.domain.clients.payload import ServerMap
from mcp_orch.services.probe import is_disabled, launch_for, probe_set
from mcp_orch.services.validation import check_payload

PACKAGE = Path(clients_mod.__file__).resolve().parents[2]
TABLE = PACKAGE / "domain" / "clients" / "table.py"


def _home(path: str) -> dict[str, str]:
    return {"linux": f"~/{path}", "macos": f"~/{path}", "windows": f"~/{path}"}


def _acme() -> ClientSpec:
    """A client row mcp-orch has never heard of, with a fact of each kind."""
    return ClientSpec(
        id="acme-agent",
        name="Acme Agent",
        dialect="json",
        paths=_home(".acme/agent.json"),
        servers_key=("toolServers",),
        stdio=StdioShape(cwd="workdir"),
        remote={"streamable-http": RemoteShape(type_key=None, url="endpoint")},
        extra_patterns=(".acme/servers.d/*.acme",),
        off_switch=("state", "paused"),
        required_fields=("owner",),
    )


@pytest.fixture
def acme(monkeypatch: pytest.MonkeyPatch) -> ClientSpec:
    """The table with one more row, as if it had been added to table.py (and nothing else)."""
    spec = _acme()
    monkeypatch.setattr(clients_mod, "CLIENTS", (*CLIENTS, spec))
    monkeypatch.setitem(clients_mod._BY_ID, spec.id, spec)
    return spec


# ---- detection -------------------------------------------------------------------------------


def test_a_new_rows_extra_file_pattern_is_detected_and_found(
    acme: ClientSpec, tmp_path: Path
) -> None:
    file = tmp_path / ".acme" / "servers.d" / "team.acme"
    file.parent.mkdir(parents=True)
    file.write_text("{}")
    assert detect_client(file).id == "acme-agent"
    assert file in find_config_files(tmp_path)


@pytest.mark.parametrize(
    ("path", "client"),
    [
        (".continue/mcpServers/github.yaml", "continue"),
        (".continue/mcpServers/github.yml", "continue"),
        ("project/opencode.jsonc", "opencode"),
        ("project/.opencode/opencode.json", "opencode"),
        ("project/.kilo/kilo.jsonc", "kilo-code"),
        ("Claude/claude_desktop_config.json", "claude-desktop"),
    ],
)
def test_the_tables_extra_file_patterns_still_detect_their_client(
    tmp_path: Path, path: str, client: str
) -> None:
    assert detect_client(tmp_path / path).id == client
    assert get_client(client).extra_patterns


# ---- the probe's off switch ------------------------------------------------------------------


def test_a_new_rows_off_switch_skips_its_servers_in_a_probe(acme: ClientSpec) -> None:
    missing = "mcp-orch-test-no-such-command"
    servers = {"paused": {"command": missing, "args": [], "state": "paused"}}
    report = probe_set(ServerMap(acme.id, servers, "acme"), progress=False)
    assert report.skipped == ["paused"]
    assert list(report) == []  # nothing was started
    assert is_disabled(acme, {"command": missing, "state": "paused"})
    assert not is_disabled(acme, {"command": missing, "state": "running"})
    # another client's switch means nothing to this one
    assert not is_disabled(acme, {"command": missing, "disabled": True})


@pytest.mark.parametrize(
    ("client", "off", "on"),
    [
        ("cline", {"disabled": True}, {"disabled": False}),
        ("windsurf", {"disabled": True}, {}),
        ("kiro", {"disabled": True}, {}),
        ("amp", {"disabled": True}, {}),
        ("roo-code", {"disabled": True}, {}),
        ("factory-droid", {"disabled": True}, {}),
        ("crush", {"disabled": True}, {"disabled": False}),
        ("codex", {"enabled": False}, {"enabled": True}),
        ("goose", {"enabled": False}, {"enabled": True}),
        ("opencode", {"enabled": False}, {"enabled": True}),
        ("kilo-code", {"enabled": False}, {"enabled": True}),
        ("zed", {"enabled": False}, {"enabled": True}),
        ("5ire", {"isActive": False}, {"isActive": True}),
        ("jan", {"active": False}, {"active": True}),
    ],
)
def test_each_clients_own_switch_turns_its_server_off(
    client: str, off: dict[str, Any], on: dict[str, Any]
) -> None:
    entry = {"command": "npx", "args": []}
    assert is_disabled(client, {**entry, **off})
    assert not is_disabled(client, {**entry, **on})
    assert not is_disabled(client, {**entry, "disabled": 1, "enabled": 0})  # not booleans
    assert get_client(client).off_switch is not None


def test_the_probe_starts_a_server_in_the_rows_working_directory(
    acme: ClientSpec, tmp_path: Path
) -> None:
    launch = launch_for(acme, "x", {"command": "srv", "workdir": str(tmp_path), "cwd": "/nope"})
    assert launch.cwd == str(tmp_path)


# ---- validation ------------------------------------------------------------------------------


def test_mcp010_names_a_new_rows_servers_key_in_another_clients_file(acme: ClientSpec) -> None:
    payload = {"toolServers": {"time": {"command": "uvx", "args": ["mcp-server-time"]}}}
    report = check_payload("cursor", payload, select=["MCP010"])
    finding = next(f for f in report.errors if f.code == "MCP010")
    assert finding.field == "toolServers"
    assert "'mcpServers', not 'toolServers'" in finding.message


def test_mcp010_knows_every_clients_servers_key() -> None:
    goose_style = {"extensions": {"time": {"cmd": "uvx", "args": ["mcp-server-time"]}}}
    report = check_payload("cursor", goose_style, select=["MCP010"])
    assert [f.field for f in report.errors] == ["extensions"]


def test_mcp010_does_not_take_a_settings_files_own_keys_for_servers() -> None:
    # Gemini CLI's settings.json has "mcp" and "extensions" keys of its own: they are not taken
    # for servers under another client's key, and a file without mcpServers has no servers
    # (no error: issue 12, a settings file with no MCP section is valid)
    settings = {"mcp": {"allowed": ["github"]}, "extensions": {"disabled": ["x"]}}
    report = check_payload("gemini-cli", settings, select=["MCP010"])
    assert report.errors == []


def test_mcp007_reports_a_new_rows_url_field_in_a_client_without_remote(
    acme: ClientSpec,
) -> None:
    payload = {"mcpServers": {"api": {"endpoint": "https://example.com/mcp"}}}
    report = check_payload("claude-desktop", payload, select=["MCP007"])
    assert [(f.code, f.field) for f in report.errors] == [("MCP007", "endpoint")]
    assert "endpoint is ignored" in report.errors[0].message


def test_a_new_rows_required_fields_are_required_by_its_schema(acme: ClientSpec) -> None:
    assert entry_schemas(acme)["stdio"]["required"] == ["command", "owner"]
    assert "tools" in entry_schemas(get_client("copilot-cli"))["stdio"]["required"]


# ---- no client facts outside the table -------------------------------------------------------


def _strings(node: ast.AST) -> Iterator[ast.Constant]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node
    elif isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        for element in node.elts:
            yield from _strings(element)


def _keyed_or_compared(tree: ast.AST) -> Iterator[ast.Constant]:
    """String constants compared with something, used as dict keys, subscripts or match cases."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            for side in (node.left, *node.comparators):
                yield from _strings(side)
        elif isinstance(node, ast.Dict):
            for key in node.keys:
                if key is not None:
                    yield from _strings(key)
        elif isinstance(node, ast.Subscript):
            yield from _strings(node.slice)
        elif isinstance(node, ast.MatchValue):
            yield from _strings(node.value)


def test_no_module_outside_the_table_compares_or_keys_on_a_client_id() -> None:
    ids = {c.id for c in CLIENTS}
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == TABLE:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for const in _keyed_or_compared(tree):
            if const.value in ids:
                found.append(f"{path.relative_to(PACKAGE.parent)}:{const.lineno}: {const.value!r}")
    assert found == [], "client facts outside the table:\n" + "\n".join(found)


def test_the_scan_would_see_a_client_id_in_a_comparison_or_a_key() -> None:
    tree = ast.parse('if spec.id == "codex": pass\nX = {"goose": 1}\ny = t["cline"]\n')
    assert {c.value for c in _keyed_or_compared(tree)} == {"codex", "goose", "cline"}

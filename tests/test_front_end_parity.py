"""The CLI's ``--json`` and the MCP tool return the same document for the same action.

Both front ends call one operation (``mcp_orch.operations``) and print / return its result's
``to_dict()``. Each case below builds the same workspace twice (same signing key, a clock that
ticks the same way, the same audit event ids, the same folder), runs the action through the CLI
in one copy and through the MCP tool in the other, and compares the two documents. Failures
compare too: the error document of a refused action is the same.

Also here: the behaviours that had drifted apart between the front ends before there was one
operations layer, each as a regression test.
"""

from __future__ import annotations

import contextlib
import importlib
import itertools
import json
import shutil
import sys
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest
from click.testing import CliRunner
from mcp import Client

import mcp_orch as mo
from mcp_orch.frontends.cli import ORDER, cli
from mcp_orch.frontends.mcp_server import TOOLS, build_server

REMOTE = {
    "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
    "name": "io.github.example/remote-weather",
    "description": "Weather forecasts, hosted",
    "version": "1.0.0",
    "remotes": [{"type": "streamable-http", "url": "https://weather.example.com/mcp"}],
}
#: A server.json file both front ends import (written once, at import, outside any workspace).
REMOTE_FILE = Path(tempfile.mkdtemp(prefix="mcp-orch-parity-")) / "remote-weather.json"
REMOTE_FILE.write_text(json.dumps(REMOTE), encoding="utf-8")
WEATHER = {
    "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
    "name": "io.github.example/weather",
    "description": "Weather forecasts for anywhere",
    "version": "1.0.0",
    "packages": [
        {
            "registryType": "npm",
            "identifier": "@example/weather-mcp",
            "version": "1.0.0",
            "transport": {"type": "stdio"},
        }
    ],
}


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One signing key for every copy, so the same content gets the same signature and id."""
    ws = mo.Workspace(tmp_path_factory.mktemp("keys") / "ws")
    ws.keys.ensure()
    return ws.path / "keys"


def _freeze(monkeypatch: pytest.MonkeyPatch) -> None:
    start = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    ticks = itertools.count()
    ids = itertools.count()

    def now() -> datetime:
        return start + timedelta(milliseconds=next(ticks))

    for name, module in list(sys.modules.items()):
        if name.startswith("mcp_orch") and callable(getattr(module, "now_utc", None)):
            monkeypatch.setattr(module, "now_utc", now)
    import mcp_orch.services.release.audit as audit

    class _Ids:
        @staticmethod
        def uuid4() -> Any:
            return type("U", (), {"hex": f"{next(ids):032x}"})()

    monkeypatch.setattr(audit, "uuid", _Ids)
    # other random ids (a journal's transaction ids) count on their own, the same in both copies
    with contextlib.suppress(ImportError):
        importlib.import_module("mcp_orch.services.release.journal")
    txns = itertools.count()

    class _Txns:
        frozen = True

        @staticmethod
        def uuid4() -> Any:
            return type("U", (), {"hex": f"{next(txns):032x}"})()

    for name, module in list(sys.modules.items()):
        own = name.startswith("mcp_orch") and module is not audit
        current = getattr(module, "uuid", None)
        if own and (current is uuid or getattr(current, "frozen", False)):
            monkeypatch.setattr(module, "uuid", _Txns)


def build(root: Path, keys: Path, monkeypatch: pytest.MonkeyPatch) -> mo.Workspace:
    """The workspace every case starts from: cursor/default with two releases (the first one
    deployed), a draft that adds a third server, and the weather server imported."""
    _freeze(monkeypatch)
    ws = mo.Workspace(root / "ws", client_root=root / "home")
    shutil.copytree(keys, ws.path / "keys")
    reg = ws.registry()
    cursor = ws.profile("cursor")
    reg.find("time").add_to(cursor)
    one = cursor.draft.publish(changelog="one")
    one.deploy()
    reg.find("fetch").add_to(cursor)
    cursor.draft.publish(changelog="two")
    reg.find("memory").add_to(cursor)
    reg.import_server_json(WEATHER)
    return ws


def ids(ws: mo.Workspace) -> dict[str, str]:
    """Values the cases refer to: the two artifact ids, an upper-case prefix of the first."""
    history = ws.profile("cursor").history()
    two, one = history[0].artifact_id, history[1].artifact_id
    return {"one": one, "two": two, "ONE_PREFIX": one[7:17].upper()}


def run_cli(ws: mo.Workspace, argv: list[str]) -> tuple[int, Any]:
    args = [*argv, "--workspace", str(ws.path), "--client-root", str(ws.client_root), "--json"]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    return result.exit_code, json.loads(result.stdout)


def run_tool(ws: mo.Workspace, tool: str, arguments: dict[str, Any]) -> tuple[bool, Any]:
    async def call() -> tuple[bool, Any]:
        # the server file imported here is the one folder the server may read paths in
        async with Client(build_server(ws, roots=[REMOTE_FILE.parent])) as client:
            result = await client.call_tool(tool, arguments)
            return bool(result.is_error), result.structured_content

    return anyio.run(call)


# (case id, CLI argv, MCP tool, tool arguments); {one}, {two}, {ONE_PREFIX} are filled in
CASES: list[tuple[str, list[str], str, dict[str, Any]]] = [
    ("list-clients", ["list-clients"], "list_clients", {}),
    ("list-profiles", ["list-profiles"], "list_profiles", {}),
    (
        "list-servers",
        ["list-servers", "--search", "git", "--limit", "3"],
        "list_available_servers",
        {"search": "git", "limit": 3},
    ),
    (
        "list-servers-page",
        ["list-servers", "-t", "stdio", "--limit", "4", "--cursor", "4"],
        "list_available_servers",
        {"transport_filter": "stdio", "limit": 4, "cursor": "4"},
    ),
    (
        "describe-server",
        ["describe-server", "time", "-c", "cursor", "--param", "local_timezone=UTC"],
        "describe_server",
        {"server_id": "time", "client_id": "cursor", "params": {"local_timezone": "UTC"}},
    ),
    (
        "import-servers",
        ["import-servers", str(REMOTE_FILE)],
        "import_servers",
        {"path": str(REMOTE_FILE)},
    ),
    (
        "add-server",
        ["add-server", "weather", "-c", "cursor", "--name", "wx"],
        "add_server_to_config",
        {"client_id": "cursor", "server_id": "weather", "server_name": "wx"},
    ),
    (
        "add-server-taken",
        ["add-server", "fetch", "-c", "cursor", "--name", "time"],
        "add_server_to_config",
        {"client_id": "cursor", "server_id": "fetch", "server_name": "time"},
    ),
    (
        "remove-server",
        ["remove-server", "time", "-c", "cursor"],
        "remove_server_from_config",
        {"client_id": "cursor", "server_name": "time"},
    ),
    ("show-draft", ["show-draft", "-c", "cursor"], "view_draft_config", {"client_id": "cursor"}),
    (
        "validate-draft",
        ["validate-draft", "-c", "cursor"],
        "validate_draft",
        {"client_id": "cursor"},
    ),
    (
        "validate-draft-unknown-rule",
        ["validate-draft", "-c", "cursor", "--select", "MCP99"],
        "validate_draft",
        {"client_id": "cursor", "select": ["MCP99"]},
    ),
    (
        "publish-config",
        ["publish-config", "-c", "cursor", "-m", "three"],
        "publish_config",
        {"client_id": "cursor", "changelog": "three"},
    ),
    (
        "deploy-config-dry-run",
        ["deploy-config", "-c", "cursor", "--dry-run"],
        "deploy_config",
        {"client_id": "cursor", "dry_run": True},
    ),
    ("deploy-config", ["deploy-config", "-c", "cursor"], "deploy_config", {"client_id": "cursor"}),
    (
        "deploy-config-old",
        ["deploy-config", "-c", "cursor", "--artifact-id", "{ONE_PREFIX}"],
        "deploy_config",
        {"client_id": "cursor", "artifact_id": "{ONE_PREFIX}"},
    ),
    ("get-config", ["get-config", "-c", "cursor"], "get_config", {"client_id": "cursor"}),
    (
        "get-config-unknown-profile",
        ["get-config", "-c", "cursor", "-p", "nothing"],
        "get_config",
        {"client_id": "cursor", "profile_id": "nothing"},
    ),
    ("diff-config", ["diff-config", "-c", "cursor"], "diff_config", {"client_id": "cursor"}),
    (
        "diff-config-artifacts",
        ["diff-config", "-c", "cursor", "--from", "{one}", "--to", "{two}"],
        "diff_config",
        {"client_id": "cursor", "from_artifact": "{one}", "to_artifact": "{two}"},
    ),
    ("drift", ["drift", "-c", "cursor"], "check_drift", {"client_id": "cursor"}),
    ("rollback", ["rollback", "-c", "cursor"], "rollback_config", {"client_id": "cursor"}),
    (
        "rollback-deploy",
        ["rollback", "-c", "cursor", "--deploy", "--yes"],  # --yes: no preview dry run first
        "rollback_config",
        {"client_id": "cursor", "deploy": True},
    ),
    (
        "config-history",
        ["config-history", "-c", "cursor"],
        "get_config_history",
        {"client_id": "cursor"},
    ),
    ("audit-log", ["audit-log", "--limit", "5"], "get_audit_log", {"limit": 5}),
    (
        "profile-settings",
        ["profile-settings", "-c", "cursor", "--pin", "minor"],
        "profile_settings",
        {"client_id": "cursor", "pin": "minor"},
    ),
    ("outdated", ["outdated", "-c", "cursor"], "list_outdated_servers", {"client_id": "cursor"}),
    (
        "upgrade-unknown",
        ["upgrade", "nosuch", "-c", "cursor"],
        "upgrade_servers",
        {"client_id": "cursor", "server_name": "nosuch"},
    ),
    (
        "audit-log-by-artifact",
        ["audit-log", "--artifact-id", "{ONE_PREFIX}"],
        "get_audit_log",
        {"artifact_id": "{ONE_PREFIX}"},
    ),
    (
        "audit-log-unknown-action",
        ["audit-log", "--action", "nosuch"],
        "get_audit_log",
        {"action": "nosuch"},
    ),
]

#: CLI commands that have no MCP tool, on purpose (they manage this machine, keys or the server).
CLI_ONLY = {
    "registry",
    "detect",
    "import",
    "sync",
    "restore",
    "backups",
    "verify",
    "init-configs",
    "keys",
    "approve",  # co-signing and the policy file: no MCP tool (yet)
    "policy",
    # team sharing and machine secrets: a model neither pushes to a registry nor holds a token
    "remote",
    "push",
    "pull",
    "secret",
    "exec",  # the launcher a client starts, not an action
    "serve",
    "token",
    "install-self",
    "check",
    "probe",
    # one entry of a draft: the MCP tool view_draft_config returns every entry, as show-draft does
    "get-server",
}


def _fill(value: Any, known: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**known) if "{" in value else value
    if isinstance(value, list):
        return [_fill(v, known) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, known) for k, v in value.items()}
    return value


@pytest.mark.parametrize(
    ("argv", "tool", "arguments"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_cli_json_and_mcp_tool_return_the_same_document(
    argv: list[str],
    tool: str,
    arguments: dict[str, Any],
    keys: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # both copies live at the same path in turn, so paths (and the audit hashes over them) match
    here = tmp_path / "workspace"
    via_cli = build(here, keys, monkeypatch)
    known = ids(via_cli)
    code, cli_doc = run_cli(via_cli, _fill(argv, known))
    here.rename(tmp_path / "after-cli")
    via_mcp = build(here, keys, monkeypatch)
    assert ids(via_mcp) == known  # the two copies really are the same state
    failed, mcp_doc = run_tool(via_mcp, tool, _fill(arguments, known))
    assert cli_doc == mcp_doc
    # a refusal is a refusal in both, a success a success in both
    assert failed == (code != 0 and isinstance(cli_doc, dict) and cli_doc.get("ok") is False)


def test_every_mcp_tool_and_every_cli_command_is_covered() -> None:
    assert {c[2] for c in CASES} == set(TOOLS)
    shared = {c[1][0] for c in CASES}
    assert set(cli.list_commands(None)) == shared | CLI_ONLY  # type: ignore[arg-type]
    # --help lists lazily loaded commands by ORDER: every command has its place there
    assert cli.list_commands(None) == ORDER  # type: ignore[arg-type]


# ---- the behaviours that had drifted between the front ends ---------------------------------


def test_importing_through_either_front_end_records_one_register_event_per_import(
    keys: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = REMOTE_FILE
    via_cli = build(tmp_path / "cli", keys, monkeypatch)
    run_cli(via_cli, ["import-servers", str(page)])
    via_mcp = build(tmp_path / "mcp", keys, monkeypatch)
    run_tool(via_mcp, "import_servers", {"path": str(page)})
    for ws in (via_cli, via_mcp):
        events = ws.audit.query(action="register")
        remote = [e for e in events if "remote-weather" in e["details"]["servers"]]
        assert len(remote) == 1  # the whole file is one import
        assert remote[0]["details"]["file"] == str(page)
        assert remote[0]["details"]["count"] == len(remote[0]["details"]["servers"])


def test_config_history_json_says_which_artifact_is_latest_and_deployed(
    keys: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = build(tmp_path, keys, monkeypatch)
    known = ids(ws)
    _, doc = run_cli(ws, ["config-history", "-c", "cursor"])
    assert doc["latest"] == known["two"] and doc["deployed"] == known["one"]
    assert [a["changelog"] for a in doc["artifacts"]] == ["two", "one"]


def test_an_unknown_rule_is_the_same_error_in_validate_draft_and_check(
    keys: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = build(tmp_path, keys, monkeypatch)
    code_v, validate = run_cli(ws, ["validate-draft", "-c", "cursor", "--select", "MCP99"])
    code_c, check = run_cli(ws, ["check", "draft:cursor/default", "--select", "MCP99"])
    assert code_v == code_c == 2
    assert validate == check
    assert (
        validate["error"] == "UsageError" and validate["message"] == "select: unknown rule 'MCP99'"
    )


def test_audit_log_finds_an_artifact_by_an_upper_case_prefix(
    keys: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = build(tmp_path, keys, monkeypatch)
    known = ids(ws)
    _, doc = run_cli(ws, ["audit-log", "--artifact-id", known["ONE_PREFIX"]])
    assert [e["action"] for e in doc["events"]] == ["deploy", "publish"]
    assert {e["artifact_id"] for e in doc["events"]} == {known["one"]}


def test_an_error_hint_is_spelled_for_each_front_end(
    keys: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = build(tmp_path / "a", keys, monkeypatch)
    argv = ["add-server", "fetch", "-c", "cursor", "--name", "time"]
    result = CliRunner().invoke(
        cli, [*argv, "--workspace", str(ws.path), "--client-root", str(ws.client_root)]
    )
    assert result.exit_code == 2
    assert (
        "hint: replace the entry, or choose another name for the new one (--replace, --name)"
        in (result.stderr)
    )

    async def call() -> str:
        async with Client(build_server(ws)) as client:
            res = await client.call_tool(
                "add_server_to_config",
                {"client_id": "cursor", "server_id": "fetch", "server_name": "time"},
            )
            return "\n".join(getattr(b, "text", "") for b in res.content)

    text = anyio.run(call)
    assert "(tool arguments: replace, server_name)" in text and "--replace" not in text
    with pytest.raises(mo.AlreadyExists) as err:
        ws.registry().find("fetch").add_to(ws.profile("cursor"), name="time")
    assert "--" not in err.value.hint and err.value.inputs == ("replace", "name")

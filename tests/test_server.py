"""The bundled MCP server in process (``mcp.Client(server)``): every tool, resource and prompt,
with the error cases a model will hit (bad ids, unknown servers, literal secrets, invalid drafts,
conflicts, bad cursors) coming back as MCP errors that carry the library's message and hint.

Also: ``import mcp_orch`` and light CLI commands never import ``mcp``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

import mcp_orch as mo
from mcp_orch.frontends.mcp_server import PROMPTS, RESOURCES, TOOLS, build_server

# what the catalog's time server renders as: pinned at its version (profile pin = "exact")
TIME = "mcp-server-time@2026.10.19"

pytestmark = pytest.mark.anyio

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


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def client(ws: mo.Workspace) -> AsyncIterator[Client]:
    async with Client(build_server(ws)) as c:
        yield c


async def ok(c: Client, tool: str, **args: Any) -> dict[str, Any]:
    """Call a tool that must succeed; its structured content."""
    result = await c.call_tool(tool, args)
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    return result.structured_content


async def fails(c: Client, tool: str, **args: Any) -> tuple[dict[str, Any], str]:
    """Call a tool that must fail with a library error; (structured error, text)."""
    result = await c.call_tool(tool, args)
    assert result.is_error, result.structured_content
    text = "\n".join(getattr(block, "text", "") for block in result.content)
    data = result.structured_content or {}
    assert data.get("ok") is False, text
    assert text.startswith("error: "), text
    return data, text


def cursor_file(client_root: Path) -> Path:
    return client_root / ".cursor" / "mcp.json"


async def publish_time(c: Client, changelog: str = "add time") -> dict[str, Any]:
    await ok(c, "add_server_to_config", client_id="cursor", server_id="time")
    return await ok(c, "publish_config", client_id="cursor", changelog=changelog)


# ---- listing -------------------------------------------------------------------------------


async def test_every_tool_is_listed_with_a_description_and_schemas(client: Client) -> None:
    tools = {t.name: t for t in (await client.list_tools()).tools}
    assert sorted(tools) == sorted(TOOLS)
    for name, t in tools.items():
        assert t.description and len(t.description) > 60, name
        assert t.input_schema["type"] == "object", name
        for prop, schema in (t.input_schema.get("properties") or {}).items():
            if prop not in ("limit",):
                assert schema.get("description"), f"{name}.{prop} has no description"
        assert t.output_schema is not None and t.output_schema["type"] == "object", name
    listing, deploy = (
        tools["list_available_servers"].annotations,
        tools["deploy_config"].annotations,
    )
    assert listing is not None and listing.read_only_hint is True
    assert deploy is not None and deploy.read_only_hint is False and deploy.destructive_hint
    required = set(tools["add_server_to_config"].input_schema["required"])
    assert required == {"client_id", "server_id"}
    for name, t in tools.items():  # a real result schema, and no keys but the listed ones
        assert t.output_schema and t.output_schema.get("properties"), name
        assert t.input_schema["additionalProperties"] is False, name


async def test_the_offer_lists_are_what_the_server_registers(client: Client) -> None:
    # TOOLS, RESOURCES and PROMPTS are written out by hand next to build_server (and served as
    # capabilities://server): each must name every registration once (sorted lists keep any
    # duplicate), and nothing else
    tools = [t.name for t in (await client.list_tools()).tools]
    static = [str(r.uri) for r in (await client.list_resources()).resources]
    templates = [
        t.uri_template for t in (await client.list_resource_templates()).resource_templates
    ]
    prompts = [p.name for p in (await client.list_prompts()).prompts]
    assert sorted(TOOLS) == sorted(tools)
    assert sorted(RESOURCES) == sorted(static + templates)
    assert sorted(PROMPTS) == sorted(prompts)
    caps = await read(client, "capabilities://server")
    assert (caps["tools"], caps["resources"], caps["prompts"]) == (TOOLS, RESOURCES, PROMPTS)


async def test_list_clients_gives_paths_under_the_client_root(
    client: Client, client_root: Path
) -> None:
    data = await ok(client, "list_clients")
    by_id = {c["id"]: c for c in data["clients"]}
    assert {"claude-desktop", "cursor", "vscode", "codex"} <= set(by_id)
    assert by_id["cursor"]["config_path"] == str(cursor_file(client_root))
    assert by_id["vscode"]["servers_key"] == "servers"


async def test_list_profiles(client: Client) -> None:
    assert (await ok(client, "list_profiles")) == {"profiles": []}
    await publish_time(client)
    await ok(
        client, "add_server_to_config", client_id="vscode", profile_id="work", server_id="fetch"
    )
    rows = {(p["client"], p["profile"]): p for p in (await ok(client, "list_profiles"))["profiles"]}
    assert set(rows) == {("cursor", "default"), ("vscode", "work")}
    assert rows[("cursor", "default")]["latest"].startswith("sha256:")
    assert rows[("vscode", "work")]["latest"] is None
    assert rows[("vscode", "work")]["draft_servers"] == 1


# ---- catalog -------------------------------------------------------------------------------


async def test_list_available_servers_search_and_transport(
    client: Client, registry: mo.Registry
) -> None:
    everything = await ok(client, "list_available_servers", limit=200)
    assert everything["total"] == len(registry) == len(everything["servers"])
    assert everything["next_cursor"] is None
    assert "server_json" not in everything["servers"][0]

    found = await ok(client, "list_available_servers", search="github")
    assert "github" in [s["id"] for s in found["servers"]]
    remote = await ok(
        client, "list_available_servers", transport_filter="streamable-http", limit=200
    )
    assert remote["servers"] and all(
        "streamable-http" in s["transports"] for s in remote["servers"]
    )
    local = await ok(client, "list_available_servers", transport_filter="stdio", limit=200)
    assert {s["id"] for s in local["servers"]} == {
        s.id for s in registry.search("", transport="stdio")
    }
    none = await ok(client, "list_available_servers", search="no-such-words-anywhere")
    assert none == {
        "servers": [],
        "total": 0,
        "offset": 0,
        "limit": 50,
        "next_cursor": None,
        "count": 0,
        "transport_counts": {"stdio": 0, "streamable-http": 0, "sse": 0},
    }


async def test_list_available_servers_pages_with_cursor_and_offset(client: Client) -> None:
    total = (await ok(client, "list_available_servers"))["total"]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        args: dict[str, Any] = {"limit": 7}
        if cursor:
            args["cursor"] = cursor
        page = await ok(client, "list_available_servers", **args)
        assert len(page["servers"]) <= 7
        seen += [s["id"] for s in page["servers"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == total
    assert pages == -(-total // 7)
    second = await ok(client, "list_available_servers", limit=7, offset=7)
    assert [s["id"] for s in second["servers"]] == seen[7:14]
    assert second["offset"] == 7


async def test_list_available_servers_bad_input_is_a_tool_error(client: Client) -> None:
    data, text = await fails(client, "list_available_servers", cursor="page-2")
    assert data["error"] == "UsageError" and "cursor" in data["message"]
    assert "next_cursor" in data["hint"]
    data, text = await fails(client, "list_available_servers", transport_filter="carrier-pigeon")
    assert data["message"] == "unknown transport 'carrier-pigeon'"
    assert data["hint"] == "use stdio, streamable-http, sse or remote"
    assert "hint: use stdio" in text
    bad = await client.call_tool("list_available_servers", {"limit": 0})
    assert bad.is_error  # the input schema says 1..200


async def test_describe_server_with_inputs_and_rendered_entry(client: Client) -> None:
    data = await ok(client, "describe_server", server_id="github")
    assert data["id"] == "github" and data["server_json"]["name"] == data["name"]
    token = next(i for i in data["inputs"] if i["name"] == "GITHUB_PERSONAL_ACCESS_TOKEN")
    assert token["secret"] and not token["required"]  # optional: OAuth without it
    assert "rendered" not in data

    data = await ok(
        client,
        "describe_server",
        server_id="github",
        client_id="vscode",
        env_vars={"GITHUB_PERSONAL_ACCESS_TOKEN": "${env:GITHUB_TOKEN}"},
    )
    entry = data["rendered"]["entry"]
    assert data["rendered"]["client"] == "vscode"
    assert entry["env"]["GITHUB_PERSONAL_ACCESS_TOKEN"] == "${env:GITHUB_TOKEN}"


async def test_describe_unknown_server_names_the_closest(client: Client) -> None:
    # like the CLI, one close match is taken; several are listed; none is an error
    assert (await ok(client, "describe_server", server_id="githib"))["id"] == "github"
    data, _ = await fails(client, "describe_server", server_id="s")
    assert data["error"] == "NotFound" and "several" in data["message"]
    data, text = await fails(client, "describe_server", server_id="qqqqqq")
    assert data["error"] == "NotFound" and data["hint"]
    assert text == f"error: {data['message']}\nhint: {data['hint']}"
    data, _ = await fails(client, "describe_server", server_id="time", client_id="no-such-client")
    assert data["error"] == "NotFound" and "no-such-client" in data["message"]


async def test_import_servers_inline_as_string_and_from_a_path(
    tmp_path: Path, ws: mo.Workspace
) -> None:
    async with Client(build_server(ws, roots=[tmp_path])) as client:
        await _import_inline_string_and_path(client, tmp_path, ws)


async def _import_inline_string_and_path(client: Client, tmp_path: Path, ws: mo.Workspace) -> None:
    data = await ok(client, "import_servers", document=WEATHER)
    assert data["count"] == 1 and data["imported"][0]["id"] == "weather"
    # the catalog the other tools see is refreshed at once
    found = await ok(client, "list_available_servers", search="forecasts")
    assert [s["id"] for s in found["servers"]] == ["weather"]
    assert (await ok(client, "describe_server", server_id="weather"))["source"] == "workspace"

    page = {
        "servers": [
            {"server": {**WEATHER, "name": "io.github.example/tides", "version": "2.0.0"}},
            {"server": {**WEATHER, "name": "io.github.example/winds"}},
        ],
        "metadata": {"count": 2},
    }
    data = await ok(client, "import_servers", document=json.dumps(page))
    assert sorted(s["id"] for s in data["imported"]) == ["tides", "winds"]

    path = tmp_path / "servers.json"
    path.write_text(json.dumps([{**WEATHER, "name": "io.github.example/rain"}]))
    data = await ok(client, "import_servers", path=str(path))
    assert [s["id"] for s in data["imported"]] == ["rain"]
    registered = ws.audit.query(action="register")  # one event per import, naming its servers
    assert sorted(sorted(e["details"]["servers"]) for e in registered) == [
        ["rain"],
        ["tides", "winds"],
        ["weather"],
    ]


async def test_import_servers_errors(ws: mo.Workspace, tmp_path: Path) -> None:
    async with Client(build_server(ws, roots=[tmp_path])) as client:
        await _import_errors(client, tmp_path)


async def _import_errors(client: Client, tmp_path: Path) -> None:
    data, _ = await fails(client, "import_servers")
    assert data["error"] == "UsageError"
    data, _ = await fails(client, "import_servers", document=WEATHER, path=str(tmp_path / "x"))
    assert data["error"] == "UsageError"
    data, _ = await fails(client, "import_servers", document={"name": "io.github.x/y"})
    assert data["error"] == "InvalidConfig" and "server.json" in data["message"]
    data, _ = await fails(client, "import_servers", document="{not json")
    assert data["error"] == "ParseError"
    data, _ = await fails(client, "import_servers", path=str(tmp_path / "missing.json"))
    assert data["error"] == "NotFound" and data["hint"] == "check the path"
    assert (await ok(client, "list_available_servers", search="io.github.x"))["total"] == 0


# ---- the draft -----------------------------------------------------------------------------


async def test_add_view_remove(client: Client, ws: mo.Workspace) -> None:
    data = await ok(
        client,
        "add_server_to_config",
        client_id="cursor",
        server_id="github",
        env_vars={"GITHUB_PERSONAL_ACCESS_TOKEN": "${env:GITHUB_TOKEN}"},
        server_name="gh",
    )
    assert data["added"] == "gh" and data["draft"] == ["gh"]
    assert ws.profile("cursor").draft.servers["gh"] == data["entry"]
    assert data["entry"]["env"] == {"GITHUB_PERSONAL_ACCESS_TOKEN": "${env:GITHUB_TOKEN}"}

    await ok(client, "add_server_to_config", client_id="cursor", server_id="time")
    view = await ok(client, "view_draft_config", client_id="cursor")
    assert view == json.loads(json.dumps(ws.profile("cursor").draft.to_dict()))
    assert set(view["payload"]["mcpServers"]) == {"gh", "time"}
    assert view["servers"]["gh"]["catalog_id"] == "github"

    data = await ok(client, "remove_server_from_config", client_id="cursor", server_name="gh")
    assert data == {"removed": "gh", "draft": ["time"]}
    assert ws.profile("cursor").draft.names == ["time"]


async def test_add_refuses_a_literal_secret_and_writes_nothing(
    client: Client, ws: mo.Workspace
) -> None:
    data, _ = await fails(
        client,
        "add_server_to_config",
        client_id="cursor",
        server_id="github",
        env_vars={"GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_abcdefghijklmnopqrstuvwxyz0123456789"},
    )
    assert data["error"] == "InvalidConfig"
    assert "literal" in data["message"] and "${env:" in data["hint"]
    assert "ghp_abcdefghijklmnopqrstuvwxyz0123456789" not in json.dumps(data)
    assert len(ws.profile("cursor").draft) == 0


async def test_add_name_clash_needs_replace(client: Client, ws: mo.Workspace) -> None:
    await ok(client, "add_server_to_config", client_id="cursor", server_id="time")
    again = await ok(client, "add_server_to_config", client_id="cursor", server_id="time")
    assert again["draft"] == ["time"]  # the same entry again is a re-run, not a clash
    args = {"client_id": "cursor", "server_id": "time", "params": {"timezone": "Europe/Paris"}}
    data, _ = await fails(client, "add_server_to_config", **args)
    assert data["error"] == "AlreadyExists" and "replace" in data["hint"]
    data = await ok(client, "add_server_to_config", **args, replace=True)
    assert "Europe/Paris" in json.dumps(data["entry"])


async def test_bad_ids_are_refused_with_the_library_hint(client: Client, ws: mo.Workspace) -> None:
    data, text = await fails(client, "add_server_to_config", client_id="../etc", server_id="time")
    assert data["error"] == "InvalidId" and "invalid client id '../etc'" in text
    assert "not a path" in data["hint"]
    data, _ = await fails(client, "view_draft_config", client_id="cursor", profile_id="Bad Profile")
    assert data["error"] == "InvalidId"
    data, _ = await fails(client, "view_draft_config", client_id="notepad")
    assert data["error"] == "NotFound" and "list the clients" in data["hint"]
    data, _ = await fails(
        client, "remove_server_from_config", client_id="cursor", server_name="nope"
    )
    assert data["error"] == "NotFound"
    bad = await client.call_tool("add_server_to_config", {"client_id": "cursor"})
    assert bad.is_error  # server_id is required by the input schema
    assert not list(ws.path.glob("drafts/*/*.json"))


async def test_validate_draft_reports_findings(client: Client) -> None:
    await ok(client, "add_server_to_config", client_id="cursor", server_id="time")
    report = await ok(client, "validate_draft", client_id="cursor")
    assert report["ok"] is True and report["errors"] == []
    await ok(client, "add_server_to_config", client_id="cursor", server_id="filesystem")
    report = await ok(client, "validate_draft", client_id="cursor")
    assert report["ok"] is False
    assert [e["code"] for e in report["errors"]] == ["MCP002"]
    assert report["errors"][0]["server"] == "filesystem" and report["errors"][0]["hint"]
    only = await ok(client, "validate_draft", client_id="cursor", select=["MCP006"])
    assert all(f["code"] == "MCP006" for f in only["errors"] + only["warnings"])
    skipped = await ok(client, "validate_draft", client_id="cursor", ignore=["MCP002"])
    assert skipped["ok"] is True


# ---- release -------------------------------------------------------------------------------


async def test_publish_get_and_history(client: Client, ws: mo.Workspace) -> None:
    art = await publish_time(client)
    assert art["artifact_id"].startswith("sha256:") and art["changelog"] == "add time"
    assert art["payload"] == {"mcpServers": {"time": {"command": "uvx", "args": [TIME]}}}
    # the signed lock: time runs a PyPI package, unresolved because the tests are offline
    assert art["lock"]["time"]["status"] == "unresolved" and art["tools"] is None
    latest = ws.profile("cursor").latest()
    assert latest is not None and latest.artifact_id == art["artifact_id"]
    again = await ok(client, "publish_config", client_id="cursor", changelog="same content")
    assert again["artifact_id"] == art["artifact_id"]  # idempotent
    assert (art["status"], again["status"]) == ("published", "unchanged")

    got = await ok(client, "get_config", client_id="cursor")
    assert got == {k: v for k, v in art.items() if k not in ("status", "unchanged")}
    assert (
        await ok(client, "get_config", client_id="cursor", artifact_id=art["artifact_id"][:15])
    )["artifact_id"] == art["artifact_id"]

    await ok(client, "add_server_to_config", client_id="cursor", server_id="fetch")
    second = await ok(client, "publish_config", client_id="cursor", changelog="add fetch")
    hist = await ok(client, "get_config_history", client_id="cursor")
    assert [a["artifact_id"] for a in hist["artifacts"]] == [
        second["artifact_id"],
        art["artifact_id"],
    ]
    assert hist["latest"] == second["artifact_id"] and hist["deployed"] is None
    assert hist["artifacts"][0]["parent"] == art["artifact_id"]
    assert (
        len((await ok(client, "get_config_history", client_id="cursor", limit=1))["artifacts"]) == 1
    )


async def test_publish_an_invalid_draft_is_an_error_with_the_report(
    client: Client, ws: mo.Workspace
) -> None:
    await ok(client, "add_server_to_config", client_id="cursor", server_id="filesystem")
    data, text = await fails(client, "publish_config", client_id="cursor")
    assert data["error"] == "InvalidConfig"
    assert data["report"]["errors"][0]["code"] == "MCP002"
    assert "MCP002" in text and "hint: " in text
    assert ws.profile("cursor").latest() is None


async def test_get_config_errors(client: Client) -> None:
    data, _ = await fails(client, "get_config", client_id="cursor")
    assert data["error"] == "NotFound" and "publish" in data["hint"]
    await publish_time(client)
    data, _ = await fails(
        client, "get_config", client_id="cursor", artifact_id="sha256:" + "0" * 64
    )
    assert data["error"] == "NotFound"


async def test_deploy_dry_run_then_deploy(client: Client, client_root: Path) -> None:
    art = await publish_time(client)
    target = cursor_file(client_root)
    dry = await ok(client, "deploy_config", client_id="cursor", dry_run=True)
    assert dry["dry_run"] is True and '+    "time"' in dry["diff_text"]
    assert not target.exists()

    dep = await ok(client, "deploy_config", client_id="cursor")
    assert dep["path"] == str(target) and dep["managed"] == ["time"]
    assert dep["artifact_id"] == art["artifact_id"]
    on_disk = json.loads(target.read_text())
    assert on_disk["mcpServers"]["time"] == {"command": "uvx", "args": [TIME]}
    again = await ok(client, "deploy_config", client_id="cursor")
    assert again["changed"] is False


async def test_deploy_conflict_is_refused_then_adopted(client: Client, client_root: Path) -> None:
    target = cursor_file(client_root)
    target.parent.mkdir(parents=True)
    mine = '{\n  "mcpServers": {"time": {"command": "my-time"}, "other": {"command": "x"}}\n}\n'
    target.write_text(mine)
    await publish_time(client)
    data, text = await fails(client, "deploy_config", client_id="cursor")
    assert data["error"] == "ConflictError" and "adopt" in data["hint"]
    assert "nothing was written" in text
    assert target.read_text() == mine
    await ok(client, "deploy_config", client_id="cursor", adopt=True)
    on_disk = json.loads(target.read_text())
    assert on_disk["mcpServers"]["time"]["command"] == "uvx"
    assert on_disk["mcpServers"]["other"] == {"command": "x"}


async def test_deploy_project_scope(ws: mo.Workspace, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    async with Client(build_server(ws, roots=[project])) as client:
        await _deploy_project(client, project)


async def _deploy_project(client: Client, project: Path) -> None:
    await publish_time(client)
    dep = await ok(
        client, "deploy_config", client_id="cursor", scope="project", project_dir=str(project)
    )
    assert Path(dep["path"]) == project / ".cursor" / "mcp.json"
    assert "time" in json.loads((project / ".cursor" / "mcp.json").read_text())["mcpServers"]
    data, _ = await fails(client, "deploy_config", client_id="cursor", scope="galaxy")
    assert "scope" in data["message"]


async def test_diff_drift_and_rollback(client: Client, client_root: Path) -> None:
    data, _ = await fails(client, "check_drift", client_id="cursor")
    assert data["error"] == "NotFound" and "deploy" in data["hint"]
    first = await publish_time(client)
    await ok(client, "deploy_config", client_id="cursor")
    assert (await ok(client, "diff_config", client_id="cursor"))["status"] == "up-to-date"
    assert (await ok(client, "check_drift", client_id="cursor"))["status"] == "clean"

    await ok(client, "add_server_to_config", client_id="cursor", server_id="fetch")
    second = await ok(client, "publish_config", client_id="cursor", changelog="add fetch")
    d = await ok(client, "diff_config", client_id="cursor")
    assert d["status"] == "outdated" and d["added"] == ["fetch"]
    between = await ok(
        client, "diff_config", client_id="cursor", from_artifact=first["artifact_id"]
    )
    assert between["added"] == ["fetch"] and between["removed"] == []

    target = cursor_file(client_root)
    text = json.loads(target.read_text())
    text["mcpServers"]["time"]["args"] = ["mcp-server-time", "--local-timezone", "UTC"]
    text["mcpServers"]["mine"] = {"command": "mine"}
    target.write_text(json.dumps(text))
    drift = await ok(client, "check_drift", client_id="cursor")
    assert drift["status"] == "drifted"
    assert list(drift["edited"]) == ["time"] and drift["added"] == ["mine"]

    back = await ok(client, "rollback_config", client_id="cursor")
    assert back["artifact_id"] == first["artifact_id"]
    hist = await ok(client, "get_config_history", client_id="cursor")
    assert hist["latest"] == first["artifact_id"]
    # a newer artifact can be rolled "back" to by id, and deployed at once
    await ok(
        client,
        "rollback_config",
        client_id="cursor",
        artifact_id=second["artifact_id"],
        deploy=True,
    )
    on_disk = json.loads(target.read_text())["mcpServers"]
    assert {"time", "fetch", "mine"} <= set(on_disk)
    assert on_disk["time"]["args"] == [TIME]


async def test_rollback_without_a_parent_is_an_error(client: Client) -> None:
    data, _ = await fails(client, "rollback_config", client_id="cursor")
    assert data["error"] == "NotFound"
    await publish_time(client)
    data, _ = await fails(client, "rollback_config", client_id="cursor")
    assert data["error"] == "NotFound" and "parent" in data["message"]


async def test_audit_log(client: Client) -> None:
    art = await publish_time(client)
    await ok(client, "deploy_config", client_id="cursor")
    events = (await ok(client, "get_audit_log"))["events"]
    actions = [e["action"] for e in events]
    assert actions[:2] == ["deploy", "publish"]  # newest first
    deploys = (await ok(client, "get_audit_log", action="deploy"))["events"]
    assert [e["artifact_id"] for e in deploys] == [art["artifact_id"]]
    mine = await ok(client, "get_audit_log", client_id="cursor", since="1d", limit=1)
    assert len(mine["events"]) == 1
    data, _ = await fails(client, "get_audit_log", since="last tuesday")
    assert data["error"] == "UsageError" and "7d" in data["hint"]


async def test_audit_log_unknown_action_is_refused(client: Client) -> None:
    # a typo in a filter must not look like "nothing happened"
    await publish_time(client)
    data, _ = await fails(client, "get_audit_log", action="publsh")
    assert data["error"] == "UsageError" and "publish" in data["hint"]


async def test_an_unexpected_exception_is_a_tool_error_not_a_crash(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mcp_orch.facade import registry as catalog

    def boom(*a: Any, **kw: Any) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(catalog.Registry, "search", boom)
    data, text = await fails(client, "list_available_servers")
    assert "internal error" in data["message"] and "disk on fire" in data["message"]
    assert "hint: " in text
    monkeypatch.undo()
    assert (await ok(client, "list_available_servers"))["total"] > 0


# ---- resources -----------------------------------------------------------------------------


async def read(c: Client, uri: str) -> Any:
    result = await c.read_resource(uri)
    (content,) = result.contents
    assert content.mime_type == "application/json"
    return json.loads(content.text)  # type: ignore[union-attr]


async def test_resources_are_listed(client: Client) -> None:
    static = {str(r.uri) for r in (await client.list_resources()).resources}
    templates = {
        t.uri_template for t in (await client.list_resource_templates()).resource_templates
    }
    assert static | templates == set(RESOURCES)


async def test_capability_and_catalog_resources(
    client: Client, ws: mo.Workspace, client_root: Path, registry: mo.Registry
) -> None:
    caps = await read(client, "capabilities://server")
    assert caps["workspace"] == str(ws.path) and caps["client_root"] == str(client_root)
    assert caps["tools"] == TOOLS and caps["prompts"] == PROMPTS
    clients = await read(client, "capabilities://clients")
    assert clients == await ok(client, "list_clients")
    reg = await read(client, "server://registry")
    assert reg["total"] == len(registry) == len(reg["servers"])
    one = await read(client, "server://github")
    assert one["id"] == "github" and one["server_json"]["name"] == one["name"]


async def test_config_and_audit_resources(client: Client, client_root: Path) -> None:
    await ok(client, "add_server_to_config", client_id="cursor", server_id="time")
    draft = await read(client, "config://cursor/default/draft")
    assert list(draft["payload"]["mcpServers"]) == ["time"]
    art = await ok(client, "publish_config", client_id="cursor", changelog="c1")
    assert await read(client, "config://cursor/default/latest") == {
        k: v for k, v in art.items() if k not in ("status", "unchanged")
    }
    await ok(client, "deploy_config", client_id="cursor")
    deployed = await read(client, "config://cursor/default/deployed")
    assert deployed["artifact"]["artifact_id"] == art["artifact_id"]
    assert deployed["drift"]["status"] == "clean"
    target = cursor_file(client_root)
    target.write_text(target.read_text().replace("mcp-server-time", "mcp-server-clock"))
    deployed = await read(client, "config://cursor/default/deployed")
    assert deployed["drift"]["status"] == "drifted" and list(deployed["drift"]["edited"]) == [
        "time"
    ]
    audit = await read(client, "audit://cursor/default")
    assert [e["action"] for e in audit["events"]] == ["deploy", "publish"]
    assert (await read(client, "audit://vscode/default"))["events"] == []


async def test_resource_errors(client: Client) -> None:
    with pytest.raises(MCPError) as err:
        await client.read_resource("server://no-such-server")
    assert "no server 'no-such-server'" in err.value.error.message
    assert "hint:" in err.value.error.message
    with pytest.raises(MCPError) as err:
        await client.read_resource("config://cursor/default/latest")
    assert "nothing published" in err.value.error.message
    with pytest.raises(MCPError) as err:
        await client.read_resource("config://cursor/default/deployed")
    assert "not been deployed" in err.value.error.message
    with pytest.raises(MCPError) as err:
        await client.read_resource("config://notepad/default/draft")
    assert "unknown client" in err.value.error.message
    with pytest.raises(MCPError):
        await client.read_resource("config://cursor/..%2F..%2Fetc/draft")


# ---- prompts -------------------------------------------------------------------------------


async def test_prompts(client: Client) -> None:
    prompts = {p.name: p for p in (await client.list_prompts()).prompts}
    assert sorted(prompts) == sorted(PROMPTS)
    args = {a.name: a for a in prompts["setup_server"].arguments or []}
    assert args["client_id"].required and not args["server"].required

    result = await client.get_prompt("setup_server", {"client_id": "cursor", "server": "github"})
    text = result.messages[0].content.text  # type: ignore[union-attr]
    steps = [
        "list_available_servers",
        "describe_server",
        "add_server_to_config",
        "validate_draft",
        "publish_config",
        "deploy_config",
    ]
    positions = [text.index(step) for step in steps]
    assert positions == sorted(positions)  # in lifecycle order
    assert 'client_id="cursor"' in text and "github" in text and "${env:" in text
    for tool in TOOLS:
        if tool in text:
            assert tool in TOOLS

    drift = await client.get_prompt("review_drift", {"client_id": "vscode"})
    assert "check_drift" in drift.messages[0].content.text  # type: ignore[union-attr]


# ---- the fast path -------------------------------------------------------------------------


def test_light_paths_do_not_import_mcp(cli_env: dict[str, str]) -> None:
    code = (
        "import sys, mcp_orch, mcp_orch.frontends.cli\n"
        "from mcp_orch.frontends.cli import main\n"
        "try:\n    main(['list-servers', '--json'])\n"
        "except SystemExit as e:\n    assert not e.code, e.code\n"
        "heavy = sorted(m for m in sys.modules if m == 'mcp' or m.startswith('mcp.'))\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=cli_env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert "HEAVY []" in out.stdout


def test_help_lists_the_server_commands(cli_env: dict[str, str], mcp_orch_cmd: list[str]) -> None:
    out = subprocess.run(
        [*mcp_orch_cmd, "--help"], env=cli_env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0
    for name in ("serve", "token", "install-self"):
        assert f"  {name} " in out.stdout

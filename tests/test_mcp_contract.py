"""The bundled MCP server's inputs and outputs: the contract of its tools.

* the parameter names of the plan mcp-orch implements (``client_id``, ``profile_id``,
  ``server_id``, ``server_name``, ``params``, ``env_vars``, ``transport_filter``, ``payload``,
  ``artifact_id``, ``limit``, ``since``) and its result fields (``count``,
  ``transport_counts``, ``status``, ``config_path``, ...);
* an unknown argument is an error naming the allowed ones, never silently dropped; the SDK's
  own argument errors carry the same error document; ``prompts/get`` errors are JSON-RPC
  errors;
* every tool has a real ``outputSchema`` and its results validate against it;
* paths from the model only inside the roots the server was started with; reads bounded, and
  errors that never echo a file's content.

Each test is a regression test of one break the old server had.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import jsonschema
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS
from test_front_end_parity import CASES, REMOTE_FILE, _fill, build, ids

import mcp_orch as mo
from mcp_orch.frontends.mcp_server import TOOLS, build_server

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def client(ws: mo.Workspace) -> AsyncIterator[Client]:
    async with Client(build_server(ws)) as c:
        yield c


async def ok(c: Client, tool: str, **args: Any) -> dict[str, Any]:
    result = await c.call_tool(tool, args)
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    return result.structured_content


async def refused(c: Client, tool: str, args: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """A call that must be a tool error carrying the error document; (document, text)."""
    result = await c.call_tool(tool, args)
    text = "\n".join(getattr(b, "text", "") for b in result.content)
    assert result.is_error, text
    doc = result.structured_content
    assert isinstance(doc, dict), text  # the SDK's errors had no structured content
    assert doc["ok"] is False and set(doc) >= {"error", "message", "hint"}, doc
    assert text.startswith(f"error: {doc['message']}\n"), text
    return doc, text


def cursor_file(root: Path) -> Path:
    return root / ".cursor" / "mcp.json"


# ---- the earlier names -------------------------------------------------------------------------


async def test_the_tools_take_the_earlier_parameter_names(client: Client) -> None:
    tools = {t.name: t for t in (await client.list_tools()).tools}
    props = {name: set(t.input_schema.get("properties") or {}) for name, t in tools.items()}
    assert {"client_id", "server_id", "profile_id", "params", "env_vars", "server_name"} <= props[
        "add_server_to_config"
    ]
    assert {"client_id", "server_name", "profile_id"} == props["remove_server_from_config"]
    assert "transport_filter" in props["list_available_servers"]
    assert "payload" in props["validate_draft"] and "payload" in props["publish_config"]
    assert {"client_id", "profile_id", "artifact_id", "limit", "since"} <= props["get_audit_log"]
    assert {"client_id", "profile_id", "artifact_id"} <= props["deploy_config"]
    for name, names in props.items():  # the old spellings are gone everywhere
        assert not names & {"client", "profile", "env"}, name
    assert "transport" not in props["list_available_servers"]


async def test_the_audit_action_filter_names_every_action_the_log_records(client: Client) -> None:
    """A model picks `action` from the description (and a user from `audit-log --help`): an
    action the log records but the text leaves out is one nobody filters by."""
    from click.testing import CliRunner

    from mcp_orch.frontends.cli import cli
    from mcp_orch.services.release.audit import ACTIONS

    tools = {t.name: t for t in (await client.list_tools()).tools}
    described = tools["get_audit_log"].input_schema["properties"]["action"]["description"]
    helped = CliRunner().invoke(cli, ["audit-log", "--help"], terminal_width=400).output
    for action in ACTIONS:
        assert re.search(rf"(?<![\w-]){re.escape(action)}(?![\w-])", described), action
        assert re.search(rf"(?<![\w-]){re.escape(action)}(?![\w-])", helped), action


async def test_profile_id_reaches_the_named_profile(client: Client, ws: mo.Workspace) -> None:
    # before, profile_id was dropped and the server went to the default profile
    await ok(
        client, "add_server_to_config", client_id="cursor", profile_id="work", server_id="time"
    )
    assert ws.profile("cursor", "work").draft.names == ["time"]
    assert len(ws.profile("cursor").draft) == 0
    art = await ok(client, "publish_config", client_id="cursor", profile_id="work")
    assert art["profile"] == "work"
    events = await ok(client, "get_audit_log", client_id="cursor", profile_id="work")
    assert [e["profile"] for e in events["events"]] == ["work"]


async def test_the_earlier_result_fields(client: Client, client_root: Path) -> None:
    page = await ok(client, "list_available_servers", transport_filter="stdio", limit=3)
    assert page["count"] == len(page["servers"]) == 3
    counts = page["transport_counts"]
    assert set(counts) >= {"stdio", "streamable-http", "sse"}
    assert counts["stdio"] == page["total"]  # over every match, not only this page
    everything = await ok(client, "list_available_servers", limit=200)
    by_hand: dict[str, int] = {}
    for s in everything["servers"]:
        for t in s["transports"]:
            by_hand[t] = by_hand.get(t, 0) + 1
    assert {k: v for k, v in everything["transport_counts"].items() if v} == by_hand

    await ok(client, "add_server_to_config", client_id="cursor", server_id="time")
    art = await ok(client, "publish_config", client_id="cursor", changelog="add time")
    assert art["status"] == "published" and art["changelog"] == "add time"
    assert art["artifact_id"].startswith("sha256:")
    again = await ok(client, "publish_config", client_id="cursor", changelog="again")
    assert again["status"] == "unchanged" and again["artifact_id"] == art["artifact_id"]

    dry = await ok(client, "deploy_config", client_id="cursor", dry_run=True)
    assert dry["status"] == "dry-run" and not cursor_file(client_root).exists()
    dep = await ok(client, "deploy_config", client_id="cursor")
    assert dep["status"] == "deployed" and dep["artifact_id"] == art["artifact_id"]
    assert dep["config_path"] == str(cursor_file(client_root)) == dep["path"]

    hist = await ok(client, "get_config_history", client_id="cursor")
    assert hist["count"] == len(hist["artifacts"]) == 1
    audit = await ok(client, "get_audit_log", since="1d", action="deploy")
    assert audit["count"] == len(audit["events"]) == 1


async def test_payload_is_validated_and_published_instead_of_the_draft(
    client: Client, ws: mo.Workspace
) -> None:
    good = {"mcpServers": {"clock": {"command": "uvx", "args": ["mcp-server-time"]}}}
    report = await ok(client, "validate_draft", client_id="cursor", payload=good)
    assert report["ok"] is True and report["target"] == "payload"
    bad = {"mcpServers": {"gh": {"command": "x", "env": {"T": "ghp_" + "a1" * 18}}}}
    report = await ok(client, "validate_draft", client_id="cursor", payload=bad)
    assert report["ok"] is False

    doc, _ = await refused(client, "publish_config", {"client_id": "cursor", "payload": bad})
    assert doc["error"] == "InvalidConfig" and doc["report"]["errors"]
    assert ws.profile("cursor").latest() is None
    art = await ok(client, "publish_config", client_id="cursor", payload=good, changelog="p")
    assert art["status"] == "published" and art["payload"] == good
    assert len(ws.profile("cursor").draft) == 0  # the draft is not involved
    # the shorthand {"servers": {...}}, and the same content again
    again = await ok(
        client, "publish_config", client_id="cursor", payload={"servers": good["mcpServers"]}
    )
    assert again["status"] == "unchanged" and again["artifact_id"] == art["artifact_id"]
    # a document that holds no servers at all is refused (it would publish an empty config)
    doc, _ = await refused(
        client, "publish_config", {"client_id": "cursor", "payload": {"theme": "dark"}}
    )
    assert doc["error"] == "UsageError" and "mcpServers" in doc["message"]


# ---- unknown and invalid arguments -------------------------------------------------------------


async def test_an_unknown_argument_is_an_error_and_nothing_is_written(
    client: Client, ws: mo.Workspace, client_root: Path
) -> None:
    await ok(client, "add_server_to_config", client_id="cursor", server_id="time")
    await ok(client, "publish_config", client_id="cursor")
    # before: dryRun was dropped, so this deployed for real
    doc, _ = await refused(client, "deploy_config", {"client_id": "cursor", "dryRun": True})
    assert doc["error"] == "UsageError"
    assert "'dryRun'" in doc["message"] and "dry_run" in doc["message"]
    assert "client_id, profile_id, artifact_id, dry_run" in doc["message"]  # the allowed ones
    assert doc["hint"] == "did you mean dry_run?"
    assert not cursor_file(client_root).exists()
    assert ws.audit.query(action="deploy") == []


@pytest.mark.parametrize(
    ("tool", "args", "meant"),
    [
        ("deploy_config", {"client": "cursor"}, "client_id"),
        ("view_draft_config", {"client_id": "cursor", "profile": "work"}, "profile_id"),
        ("add_server_to_config", {"client_id": "c", "server_id": "t", "env": {}}, "env_vars"),
        ("list_available_servers", {"transport": "stdio"}, "transport_filter"),
        ("remove_server_from_config", {"client_id": "cursor", "name": "x"}, "server_name"),
        ("get_config_history", {"client_id": "cursor", "limt": 3}, "limit"),
    ],
)
async def test_an_old_or_misspelled_argument_names_the_right_one(
    client: Client, tool: str, args: dict[str, Any], meant: str
) -> None:
    doc, _ = await refused(client, tool, args)
    (wrong,) = set(args) - {"client_id", "server_id"}
    assert f"unknown argument '{wrong}'; did you mean {meant}?" in doc["message"]
    assert doc["hint"] == f"did you mean {meant}?"


async def test_every_input_schema_forbids_other_keys(client: Client) -> None:
    for t in (await client.list_tools()).tools:
        assert t.input_schema["additionalProperties"] is False, t.name
        doc, _ = await refused(client, t.name, {"no_such_argument": 1})
        assert doc["error"] == "UsageError" and "'no_such_argument'" in doc["message"]


@pytest.mark.parametrize(
    ("tool", "args", "names"),
    [
        ("list_available_servers", {"limit": 0}, ["limit"]),
        ("list_available_servers", {"limit": "ten"}, ["limit"]),
        ("get_config_history", {"client_id": "cursor", "limit": 5000}, ["limit"]),
        ("add_server_to_config", {"client_id": "cursor"}, ["server_id"]),
        ("deploy_config", {"client_id": "cursor", "dry_run": "perhaps"}, ["dry_run"]),
    ],
)
async def test_the_sdks_argument_errors_carry_the_error_document(
    client: Client, tool: str, args: dict[str, Any], names: list[str]
) -> None:
    doc, text = await refused(client, tool, args)
    assert doc["error"] == "UsageError" and doc["inputs"] == names
    assert names[0] in doc["message"] and "pydantic" not in text
    assert "input_value" not in text  # the values given are not echoed
    if "client_id" in args and tool == "add_server_to_config":
        assert "missing required argument server_id" in doc["message"]


async def test_prompts_get_errors_are_json_rpc_errors(client: Client) -> None:
    with pytest.raises(MCPError) as err:
        await client.get_prompt("setup_servr", {"client_id": "cursor"})
    assert err.value.error.code == INVALID_PARAMS
    assert "unknown prompt 'setup_servr'" in err.value.error.message
    assert "setup_server" in err.value.error.message
    with pytest.raises(MCPError) as err:
        await client.get_prompt("setup_server", {})
    assert err.value.error.code == INVALID_PARAMS and "client_id" in err.value.error.message
    with pytest.raises(MCPError) as err:
        await client.get_prompt("review_drift", {"client": "cursor"})
    assert err.value.error.code == INVALID_PARAMS
    assert "did you mean client_id?" in err.value.error.message
    assert "Traceback" not in err.value.error.message


# ---- output schemas ----------------------------------------------------------------------------


#: Cases for the tools whose front-end parity cases only reach an error: each tool needs one
#: result to check against its output schema. Offline (the test conftest), ``upgrade_servers``
#: with ``to`` asks no registry.
SCHEMA_CASES = [
    *CASES,
    (
        "upgrade-to",
        ["upgrade", "memory", "-c", "cursor", "--to", "2026.9.1"],
        "upgrade_servers",
        {"client_id": "cursor", "server_name": "memory", "to": "2026.9.1"},
    ),
]


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = mo.Workspace(tmp_path_factory.mktemp("keys") / "ws")
    ws.keys.ensure()
    return ws.path / "keys"


def test_every_tool_result_validates_against_its_output_schema(
    keys: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def run() -> set[str]:
        checked: set[str] = set()
        for n, (_case, _argv, tool, arguments) in enumerate(SCHEMA_CASES):
            ws = build(tmp_path / str(n), keys, monkeypatch)
            args = _fill(arguments, ids(ws))
            async with Client(build_server(ws, roots=[REMOTE_FILE.parent])) as c:
                schemas = {t.name: t.output_schema for t in (await c.list_tools()).tools}
                result = await c.call_tool(tool, args)
            schema = schemas[tool]
            assert schema and schema.get("properties") and schema.get("required"), tool
            jsonschema.Draft202012Validator.check_schema(schema)
            if not result.is_error:
                jsonschema.validate(result.structured_content, schema)
                checked.add(tool)
        return checked

    assert anyio.run(run) == set(TOOLS)


# ---- file-system roots -------------------------------------------------------------------------


async def test_project_dir_needs_a_root(
    ws: mo.Workspace, tmp_path: Path, client_root: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    args = {"client_id": "cursor", "scope": "project", "project_dir": str(project)}
    async with Client(build_server(ws)) as c:  # no roots: no paths at all
        await ok(c, "add_server_to_config", client_id="cursor", server_id="time")
        await ok(c, "publish_config", client_id="cursor")
        doc, _ = await refused(c, "deploy_config", args)
        assert doc["error"] == "UsageError" and doc["inputs"] == ["project_dir"]
        assert "--allow-root DIR" in doc["hint"]
        doc, _ = await refused(c, "deploy_config", {**args, "dry_run": True})
        assert doc["inputs"] == ["project_dir"]
        # scope=project without a folder would use the server's own: refused too
        doc, _ = await refused(c, "deploy_config", {"client_id": "cursor", "scope": "project"})
        assert doc["inputs"] == ["project_dir"]
    assert not (project / ".cursor").exists()

    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "link").symlink_to(project)  # inside the root by name, outside in fact
    (allowed / "inner").mkdir()
    (allowed / "inner" / ".cursor").symlink_to(project)  # the client's folder leads out
    async with Client(build_server(ws, roots=[allowed])) as c:
        for where in (project, allowed / "link", allowed / "..", allowed / "inner"):
            doc, _ = await refused(c, "deploy_config", {**args, "project_dir": str(where)})
            assert doc["inputs"] == ["project_dir"], where
        dep = await ok(c, "deploy_config", **{**args, "project_dir": str(allowed / "p")})
        assert dep["config_path"] == str(allowed / "p" / ".cursor" / "mcp.json")
    assert not (project / ".cursor").exists() and not (project / "mcp.json").exists()
    assert ws.audit.query(action="deploy")[0]["details"]["path"].startswith(str(allowed))


async def test_import_servers_path_needs_a_root(ws: mo.Workspace, tmp_path: Path) -> None:
    doc_file = tmp_path / "servers.json"
    doc_file.write_text(REMOTE_FILE.read_text())
    async with Client(build_server(ws)) as c:
        doc, _ = await refused(c, "import_servers", {"path": str(doc_file)})
        assert doc["inputs"] == ["path"] and "--allow-root" in doc["hint"]
        doc, _ = await refused(c, "import_servers", {"path": "/etc/passwd"})
        assert doc["inputs"] == ["path"]
    other = tmp_path / "other"
    other.mkdir()
    async with Client(build_server(ws, roots=[other])) as c:
        doc, _ = await refused(c, "import_servers", {"path": str(doc_file)})
        assert doc["inputs"] == ["path"]
        assert "passwd" not in json.dumps(await ok(c, "list_available_servers", search="root"))
    async with Client(build_server(ws, roots=[tmp_path])) as c:
        assert (await ok(c, "import_servers", path=str(doc_file)))["count"] == 1


async def test_reads_inside_a_root_are_bounded(ws: mo.Workspace, tmp_path: Path) -> None:
    root = tmp_path / "allowed"
    root.mkdir()
    fifo = root / "pipe.json"
    os.mkfifo(fifo)
    (root / "folder.json").mkdir()
    big = root / "big.json"
    with big.open("wb") as f:
        f.truncate(17 * 1024 * 1024)  # sparse: over the 16 MiB cap
    async with Client(build_server(ws, roots=[root, "/dev"])) as c:
        for path in (fifo, root / "folder.json", big, Path("/dev/zero")):
            start = time.monotonic()
            doc, _ = await refused(c, "import_servers", {"path": str(path)})
            assert time.monotonic() - start < 5, path  # a FIFO must not hang, nor /dev/zero fill
            assert doc["error"] == "FileError", (path, doc)
            assert str(path) in doc["message"]


async def test_import_errors_do_not_echo_the_files_content(
    ws: mo.Workspace, tmp_path: Path
) -> None:
    secret = "hunter2-TOP-SECRET-value"
    records = [
        {"name": "io.github.example/fine", "description": "d", "version": "1"},
        {"name": secret, "description": "d", "version": "1"},
    ]
    (tmp_path / "any.json").write_text(json.dumps(records))
    (tmp_path / "wrong-type.json").write_text(json.dumps({"name": 7, "description": secret}))
    (tmp_path / "text.json").write_text(f"{secret} is not json")
    (tmp_path / "none.json").write_text(json.dumps(records[1:]))
    async with Client(build_server(ws, roots=[tmp_path])) as c:
        for name in ("none.json", "wrong-type.json", "text.json"):
            doc, text = await refused(c, "import_servers", {"path": str(tmp_path / name)})
            assert secret not in text and secret not in json.dumps(doc), name
        doc, _ = await refused(c, "import_servers", {"path": str(tmp_path / "none.json")})
        assert re.search(r"none\.json: record 1: not a valid server\.json", doc["message"])
        # the valid record is taken, the other listed by its number only
        result = await ok(c, "import_servers", path=str(tmp_path / "any.json"))
        assert secret not in json.dumps(result)
        assert [r["record"] for r in result["rejected"]] == [2]
        assert result["rejected"][0]["name"] is None
        assert (await ok(c, "list_available_servers", search="fine"))["total"] == 1


# ---- the reference cannot drift --------------------------------------------------------------

DOC = Path(__file__).parent.parent / "docs" / "reference" / "mcp-tools.md"


def _type(schema: dict[str, Any]) -> str:
    """A JSON Schema type as the reference spells it."""
    if "anyOf" in schema:
        kinds = [_type(s) for s in schema["anyOf"] if s.get("type") != "null"]
        return " or ".join(dict.fromkeys(kinds))
    kind = schema.get("type", "any")
    if isinstance(kind, list):
        return " or ".join(_type({**schema, "type": k}) for k in kind if k != "null")
    if kind == "array":
        inner = schema.get("items") or {}
        return f"array of {_type(inner)}s" if inner.get("type") else "array"
    if kind == "integer" and ("minimum" in schema or "maximum" in schema):
        low, high = schema.get("minimum"), schema.get("maximum")
        return f"integer {low}–{high}" if high is not None else f"integer ≥ {low}"
    return str(kind)


def schema_block(tool: Any) -> str:
    """The generated part of a tool's section: its parameters and its result fields."""
    props = tool.input_schema.get("properties") or {}
    required = set(tool.input_schema.get("required") or [])
    lines = []
    if props:
        lines += ["| parameter | type | default | description |", "|---|---|---|---|"]
        for name, s in props.items():
            default = "required" if name in required else json.dumps(s.get("default"))
            default = {"null": "–", '""': '`""`'}.get(default) or default.replace('"', "`")
            text = (s.get("description") or "").replace("|", "\\|")
            lines.append(f"| `{name}` | {_type(s)} | {default} | {text} |")
    else:
        lines.append("No parameters.")
    out = tool.output_schema or {}
    always = set(out.get("required") or [])
    fields = [
        f"`{k}`" + ("" if k in always else " (optional)") for k in (out.get("properties") or {})
    ]
    lines += ["", "Result fields: " + ", ".join(fields) + "."]
    return "\n".join(lines)


def test_the_reference_shows_each_tools_schema(ws: mo.Workspace) -> None:
    """docs/reference/mcp-tools.md holds, for each tool, the block this test generates from
    the real server (parameters and result fields). MCP_ORCH_UPDATE_DOCS=1 rewrites it."""

    async def listed() -> list[Any]:
        async with Client(build_server(ws)) as c:
            return list((await c.list_tools()).tools)

    text = DOC.read_text(encoding="utf-8")
    new = text
    for tool in anyio.run(listed):
        start, end = f"<!-- schema:{tool.name} -->", f"<!-- /schema:{tool.name} -->"
        assert start in new and end in new, f"{tool.name}: no schema block in {DOC.name}"
        head, rest = new.split(start, 1)
        _, tail = rest.split(end, 1)
        new = f"{head}{start}\n{schema_block(tool)}\n{end}{tail}"
    if os.environ.get("MCP_ORCH_UPDATE_DOCS") == "1":
        DOC.write_text(new, encoding="utf-8")
    assert new == text, "the tool schemas changed: run with MCP_ORCH_UPDATE_DOCS=1"

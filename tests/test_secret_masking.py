"""No output shows a literal secret, and no free-text field keeps one.

Every secret the scanner flags is masked wherever entries are shown: ``diff-config`` (CLI text,
CLI ``--json``, the MCP tool, the notebook display), ``get-config`` and ``show-draft`` (CLI and
MCP tools); the stored artifact and draft keep the real values. A server name holding a token is
refused, and an imported server.json record whose description holds one is rejected (with the
reason) while the others are imported.

Secret-shaped values are assembled at run time so this file holds no credential-shaped literal.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from mcp import Client

import mcp_orch as mo
from mcp_orch.frontends.cli import cli
from mcp_orch.frontends.mcp_server import build_server
from mcp_orch.operations import catalog, drafts
from mcp_orch.services.release.publish import publish_payload

PW = "pw" + "9Xq2Zr"
KEY = "abc123" + "def456ghi"
LIVE = "sk-" + "live-" + "7Hq2Lm9"
GHP = "ghp_" + "A1b2C3d4E5f6G7h8I9j0" * 2
SECRETS = (PW, KEY, LIVE, GHP)

CLEAN_DB = {"command": "npx", "args": ["-y", "db-mcp", "postgres://app@db.internal/app"]}
LEAKY_DB = {
    "command": "npx",
    "args": ["-y", "db-mcp", f"postgres://app:{PW}@db.internal/app", f"--api-key={KEY}"],
}
LEAKY_REMOTE = {
    "command": "npx",
    "args": [
        "-y",
        "mcp-remote",
        "https://x.example.com/mcp",
        "--header",
        f"Authorization: Bearer {LIVE}",
        "--access-token",
        GHP,
    ],
}


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


def run(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def publish_raw(ws: mo.Workspace, servers: dict[str, Any], changelog: str = "") -> str:
    """Publish a payload as is (no validation): an artifact made before the scanner knew these
    shapes, or from a file published with its secrets."""
    prof = ws.profile("cursor")
    return publish_payload(prof, {"mcpServers": servers}, changelog=changelog).artifact_id


@pytest.fixture
def two_releases(ws: mo.Workspace) -> tuple[str, str]:
    first = publish_raw(ws, {"db": CLEAN_DB, "remote": {"url": "https://x.example.com/mcp"}})
    second = publish_raw(ws, {"db": LEAKY_DB, "remote": LEAKY_REMOTE})
    return first, second


# ---- diff-config -------------------------------------------------------------------------------


def test_diff_config_between_artifacts_masks_args(two_releases: tuple[str, str]) -> None:
    first, _ = two_releases
    text = run("diff-config", "-c", "cursor", "--from", first)
    assert "~ db" in text and "postgres://app:****@db.internal/app" in text
    assert "--api-key=abc1" in text
    assert_no_secret(text)
    data = json.loads(run("diff-config", "-c", "cursor", "--from", first, "--json"))
    assert set(data["modified"]) == {"db", "remote"}
    assert_no_secret(json.dumps(data))


def test_diff_config_of_the_client_file_masks_args(
    ws: mo.Workspace, client_root: Path, two_releases: tuple[str, str]
) -> None:
    publish_raw(ws, {"db": CLEAN_DB})  # latest is clean; the file on disk holds the secrets
    target = client_root / ".cursor" / "mcp.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps({"mcpServers": {"db": LEAKY_DB, "remote": LEAKY_REMOTE}}))
    text = run("diff-config", "-c", "cursor")
    assert "~ db" in text
    assert_no_secret(text)
    assert_no_secret(run("diff-config", "-c", "cursor", "--json"))


def test_diff_notebook_display_masks_args(ws: mo.Workspace, two_releases: tuple[str, str]) -> None:
    first, second = two_releases
    prof = ws.profile("cursor")
    d = mo.diff(prof.artifact(first), prof.artifact(second))
    assert_no_secret(d._repr_html_() + str(d) + json.dumps(d.to_dict()))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def client(ws: mo.Workspace) -> AsyncIterator[Client]:
    async with Client(build_server(ws)) as c:
        yield c


async def tool(c: Client, name: str, **args: Any) -> dict[str, Any]:
    [spec] = [t for t in (await c.list_tools()).tools if t.name == name]
    if "client_id" in spec.input_schema.get("properties", {}):  # the tools' newer spelling
        args["client_id"] = args.pop("client")
    result = await c.call_tool(name, args)
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    text = "\n".join(getattr(block, "text", "") for block in result.content)
    assert_no_secret(text)
    return result.structured_content


@pytest.mark.anyio
async def test_mcp_tools_mask_diff_config_get_config_and_the_draft(
    client: Client, ws: mo.Workspace, two_releases: tuple[str, str]
) -> None:
    first, _ = two_releases
    diff = await tool(client, "diff_config", client="cursor", from_artifact=first)
    assert set(diff["modified"]) == {"db", "remote"}
    assert_no_secret(json.dumps(diff))

    got = await tool(client, "get_config", client="cursor")
    assert got["payload"]["mcpServers"]["db"]["args"][2] == "postgres://app:****@db.internal/app"
    assert_no_secret(json.dumps(got))
    # the stored, signed artifact keeps the real values
    assert ws.profile("cursor").latest().payload["mcpServers"]["db"] == LEAKY_DB  # type: ignore[union-attr]

    ws.profile("cursor").draft.add_entry("remote", LEAKY_REMOTE)
    view = await tool(client, "view_draft_config", client="cursor")
    assert_no_secret(json.dumps(view))
    assert ws.profile("cursor").draft.servers["remote"] == LEAKY_REMOTE


def test_cli_get_config_and_show_draft_mask_entries(
    ws: mo.Workspace, two_releases: tuple[str, str]
) -> None:
    assert_no_secret(run("get-config", "-c", "cursor"))
    assert_no_secret(run("get-config", "-c", "cursor", "--json"))
    ws.profile("cursor").draft.add_entry("db", LEAKY_DB)
    text = run("show-draft", "-c", "cursor")
    assert "postgres://app:****@db.internal/app" in text
    assert_no_secret(text)
    assert_no_secret(run("show-draft", "-c", "cursor", "--json"))
    draft = ws.profile("cursor").draft
    assert_no_secret(draft._repr_html_() + ws.profile("cursor").latest()._repr_html_())  # type: ignore[union-attr]


# ---- free text: names and catalog descriptions -------------------------------------------------


def test_a_server_name_holding_a_token_is_refused(ws: mo.Workspace) -> None:
    draft = ws.profile("cursor").draft
    with pytest.raises(mo.UsageError) as info:
        draft.add_entry(GHP, {"command": "x"})
    assert "name" in info.value.message and GHP not in str(info.value)
    assert info.value.inputs == ("name",)
    with pytest.raises(mo.UsageError):
        drafts.add_server(ws, "cursor", "default", "time", name=GHP)
    assert GHP not in draft.names and not draft.path.exists()


def _doc(name: str, description: str) -> dict[str, Any]:
    return {
        "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
        "name": f"io.github.example/{name}",
        "description": description,
        "version": "1.0.0",
        "packages": [
            {
                "registryType": "npm",
                "identifier": f"@example/{name}-mcp",
                "version": "1.0.0",
                "transport": {"type": "stdio"},
            }
        ],
    }


def test_an_imported_record_with_a_token_in_its_description_is_rejected(
    ws: mo.Workspace, tmp_path: Path
) -> None:
    docs = [_doc("weather", "Weather forecasts"), _doc("leaky", f"Use the key {GHP} to start")]
    result = catalog.import_servers(ws, document=docs)
    data = result.to_dict()
    assert [s["id"] for s in data["imported"]] == ["weather"]
    [rejected] = data["rejected"]
    assert rejected["record"] == 2 and rejected["name"] == "io.github.example/leaky"
    assert "description" in rejected["reason"] and "GitHub token" in rejected["reason"]
    assert_no_secret(json.dumps(data))
    assert [s.id for s in mo.Registry(workspace=ws).search("leaky")] == []
    assert_no_secret((ws.path / "audit").read_text() if (ws.path / "audit").is_file() else "")

    path = tmp_path / "servers.json"
    path.write_text(json.dumps(docs))
    text = run("import-servers", str(path))
    assert "imported 1 server: weather" in text and "rejected record 2" in text
    assert_no_secret(text)


def test_an_import_where_every_record_holds_a_token_is_an_error(ws: mo.Workspace) -> None:
    with pytest.raises(mo.UsageError) as info:
        catalog.import_servers(ws, document=_doc("leaky", f"token {GHP}"))
    assert "description" in info.value.message and GHP not in str(info.value)
    with pytest.raises(mo.UsageError):
        mo.Registry(workspace=ws).register(_doc("leaky", f"password=hunter2-{PW}"))

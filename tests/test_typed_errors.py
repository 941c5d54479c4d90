"""Every failure reaches the user as a typed error with a hint, whatever the front end.

A damaged workspace file (a draft, a deployment record, the audit head) is a ``StoreCorrupt``
that names the file, never an "internal error"; a file that cannot be written is a
``FileError`` (not a bare ``MCPOrchError``); an unexpected exception is an ``InternalError``.
The CLI's ``--json``, its text and the MCP tool carry the same kind.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from click.testing import CliRunner
from mcp import Client

import mcp_orch as mo
from mcp_orch.frontends.cli import cli
from mcp_orch.frontends.mcp_server import build_server


def run(ws: mo.Workspace, *argv: str) -> tuple[int, dict[str, Any]]:
    args = [*argv, "--workspace", str(ws.path), "--client-root", str(ws.client_root), "--json"]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    return result.exit_code, json.loads(result.stdout)


def text(ws: mo.Workspace, *argv: str) -> tuple[int, str]:
    args = [*argv, "--workspace", str(ws.path), "--client-root", str(ws.client_root)]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    return result.exit_code, result.stderr


def tool(ws: mo.Workspace, name: str, **arguments: Any) -> dict[str, Any]:
    async def call() -> dict[str, Any]:
        async with Client(build_server(ws)) as client:
            result = await client.call_tool(name, arguments)
            assert result.is_error
            return result.structured_content or {}

    return anyio.run(call)


@pytest.fixture
def deployed(ws: mo.Workspace) -> mo.Workspace:
    cursor = ws.profile("cursor")
    ws.registry().find("time").add_to(cursor)
    cursor.draft.publish(changelog="one").deploy()
    return ws


def test_a_damaged_draft_is_store_corrupt_naming_the_file(deployed: mo.Workspace) -> None:
    draft = deployed.path / "drafts" / "cursor" / "default.json"
    draft.write_text('{"servers": {', encoding="utf-8")
    code, doc = run(deployed, "show-draft", "-c", "cursor")
    assert code == 1 and doc["error"] == "StoreCorrupt"
    assert str(draft) in doc["message"] and "internal error" not in doc["message"]
    assert "restore the file from a backup" in doc["hint"]
    assert tool(deployed, "view_draft_config", client_id="cursor")["error"] == "StoreCorrupt"
    with pytest.raises(mo.StoreCorrupt):
        deployed.profile("cursor").draft.to_dict()


def test_a_damaged_deployment_record_is_store_corrupt(deployed: mo.Workspace) -> None:
    record = deployed.path / "deployments" / "cursor" / "default.json"
    record.write_text("not json", encoding="utf-8")
    code, doc = run(deployed, "drift", "-c", "cursor")
    assert code == 1 and doc["error"] == "StoreCorrupt" and str(record) in doc["message"]
    assert tool(deployed, "check_drift", client_id="cursor")["error"] == "StoreCorrupt"


@pytest.mark.parametrize("head", ['{"seq": 1', '["not", "a", "head"]'], ids=["cut", "wrong"])
def test_a_damaged_audit_head_is_store_corrupt_and_nothing_is_published(
    deployed: mo.Workspace, head: str
) -> None:
    head_file = deployed.path / "audit" / "head.json"
    head_file.write_text(head, encoding="utf-8")
    deployed.registry().find("fetch").add_to(deployed.profile("cursor"))
    code, doc = run(deployed, "publish-config", "-c", "cursor", "-m", "two")
    assert code == 1 and doc["error"] == "StoreCorrupt" and str(head_file) in doc["message"]
    assert [a.changelog for a in deployed.profile("cursor").history()] == ["one"]
    assert head_file.read_text(encoding="utf-8") == head  # left as it was
    code, message = text(deployed, "publish-config", "-c", "cursor", "-m", "two")
    assert code == 1 and "internal error" not in message and "hint: restore the file" in message
    code, doc = run(deployed, "deploy-config", "-c", "cursor")
    assert code == 1 and doc["error"] == "StoreCorrupt"


def test_a_file_that_cannot_be_written_is_a_file_error(
    deployed: mo.Workspace, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("{}", encoding="utf-8")
    code, doc = run(deployed, "deploy-config", "-c", "cursor", "--path", str(blocker / "x.json"))
    assert code == 1 and doc["error"] == "FileError"
    assert "check the path and its permissions" in doc["hint"]


def test_an_unexpected_exception_is_an_internal_error_with_a_hint(
    deployed: mo.Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mcp_orch.operations import audit  # where the CLI's verify command finds its action

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(audit, "verify", boom)
    monkeypatch.delenv("MCP_ORCH_DEBUG", raising=False)
    code, doc = run(deployed, "verify")
    assert code == 1 and doc["error"] == "InternalError"
    assert "disk on fire" in doc["message"] and "please report it" in doc["hint"]

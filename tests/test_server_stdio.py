"""End to end over real stdio: ``python -m mcp_orch serve`` as a subprocess with a temporary
workspace and client root, driven through discover → add → validate → publish → deploy by
``mcp.Client(StdioServerParameters(...))``; the client's config file on disk is checked.

Also ``install-self``: the entry it deploys into a client's file is launched exactly as the
client would launch it, and answers. Each test spawns one server (about 1-3 s each).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

from mcp_orch.frontends.mcp_server import TOOLS

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def server_params(cli_env: dict[str, str], *extra: str) -> StdioServerParameters:
    env = {k: cli_env[k] for k in ("MCP_ORCH_HOME", "MCP_ORCH_CLIENT_ROOT", "HOME")}
    return StdioServerParameters(
        command=sys.executable, args=["-m", "mcp_orch", "serve", *extra], env=env
    )


async def ok(c: Client, tool: str, **args: Any) -> dict[str, Any]:
    result = await c.call_tool(tool, args)
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    return result.structured_content


async def test_the_whole_lifecycle_over_stdio(
    cli_env: dict[str, str], client_root: Path, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    target = client_root / ".cursor" / "mcp.json"
    target.parent.mkdir(parents=True)
    target.write_text('// mine\n{"mcpServers": {"mine": {"command": "my-server"}}, "theme": 1}\n')
    before = target.read_text()

    params = server_params(cli_env, "--allow-root", str(project))
    async with Client(params, read_timeout_seconds=60) as c:
        assert c.server_info is not None and c.server_info.name == "mcp-orch"
        assert sorted(t.name for t in (await c.list_tools()).tools) == sorted(TOOLS)

        # discover
        found = await ok(c, "list_available_servers", search="time")
        assert "time" in [s["id"] for s in found["servers"]]
        described = await ok(c, "describe_server", server_id="time", client_id="cursor")
        assert described["rendered"]["entry"]["command"] == "uvx"

        # add (a bad one first: a tool error, and the session carries on)
        bad = await c.call_tool("add_server_to_config", {"client_id": "cursr", "server_id": "time"})
        assert bad.is_error and "unknown client 'cursr'" in bad.content[0].text  # type: ignore[union-attr]
        added = await ok(
            c,
            "add_server_to_config",
            client_id="cursor",
            server_id="time",
            params={"timezone": "Europe/Paris"},
        )
        assert added["draft"] == ["time"]

        # validate, publish, preview, deploy
        report = await ok(c, "validate_draft", client_id="cursor")
        assert report["ok"] is True
        art = await ok(c, "publish_config", client_id="cursor", changelog="add time over stdio")
        dry = await ok(c, "deploy_config", client_id="cursor", dry_run=True)
        assert dry["dry_run"] and target.read_text() == before
        dep = await ok(c, "deploy_config", client_id="cursor")
        assert dep["path"] == str(target) and dep["backup"]

        # what lands on disk: ours added, everything else kept
        text = target.read_text()
        assert text.startswith("// mine")
        assert '"theme": 1' in text
        assert '"mine": {"command": "my-server"}' in text
        drift = await ok(c, "check_drift", client_id="cursor")
        assert drift["status"] == "clean"
        history = await ok(c, "get_config_history", client_id="cursor")
        assert history["deployed"] == art["artifact_id"] == history["latest"]
        events = (await ok(c, "get_audit_log", client_id="cursor"))["events"]
        assert [e["action"] for e in events] == ["deploy", "publish"]

        # --allow-root: a project folder inside the root is taken, one outside is refused
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        args = {"client_id": "cursor", "scope": "project"}
        out = await c.call_tool("deploy_config", {**args, "project_dir": str(elsewhere)})
        assert out.is_error and out.structured_content is not None
        assert out.structured_content["inputs"] == ["project_dir"]
        assert not (elsewhere / ".cursor").exists()
        dep = await ok(c, "deploy_config", **args, project_dir=str(project))
        assert dep["config_path"] == str(project / ".cursor" / "mcp.json")

    from mcp_orch.domain.clients.jsonc import loads

    data = loads(target.read_text())
    assert data["mcpServers"]["time"] == {
        "command": "uvx",
        "args": ["mcp-server-time@2026.10.19", "--local-timezone=Europe/Paris"],
    }
    assert data["mcpServers"]["mine"] == {"command": "my-server"}


def run_cli(cli_env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcp_orch", *args],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_install_self_deploys_an_entry_that_starts_this_server(
    cli_env: dict[str, str], client_root: Path, tmp_path: Path
) -> None:
    out = run_cli(cli_env, "install-self", "--client", "cursor", "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    target = client_root / ".cursor" / "mcp.json"
    assert result["deployment"]["path"] == str(target)
    entry = json.loads(target.read_text())["mcpServers"]["mcp-orch"]
    assert entry == result["entry"]
    assert Path(entry["command"]).is_absolute() and Path(entry["command"]).exists()
    assert entry["args"][-1] == "serve"
    assert entry["env"]["MCP_ORCH_HOME"] == str(tmp_path / "ws")
    assert entry["env"]["MCP_ORCH_CLIENT_ROOT"] == str(client_root)

    # launch the entry as Cursor would (its env on top of a minimal environment)
    env = {"HOME": cli_env["HOME"], "PATH": os.environ.get("PATH", ""), **entry["env"]}
    params = StdioServerParameters(command=entry["command"], args=entry["args"], env=env)
    async with Client(params, read_timeout_seconds=60) as c:
        profiles = (await ok(c, "list_profiles"))["profiles"]
        assert [(p["client"], p["profile"], p["draft_servers"]) for p in profiles] == [
            ("cursor", "default", 1)
        ]
        caps = json.loads(
            (await c.read_resource("capabilities://server")).contents[0].text  # type: ignore[union-attr]
        )
        assert caps["workspace"] == str(tmp_path / "ws")


def test_install_self_for_vscode_and_errors(cli_env: dict[str, str], client_root: Path) -> None:
    out = run_cli(cli_env, "install-self", "--client", "vscode", "--name", "orch")
    assert out.returncode == 0, out.stderr
    assert "installed 'orch' in Visual Studio Code" in out.stdout
    files = list(client_root.rglob("mcp.json"))
    assert len(files) == 1 and files[0].parts[-3:] == ("Code", "User", "mcp.json")
    assert "orch" in json.loads(files[0].read_text())["servers"]

    out = run_cli(cli_env, "install-self", "--client", "notepad")
    assert out.returncode == 2
    assert "unknown client 'notepad'" in out.stderr and "hint:" in out.stderr

    out = run_cli(cli_env, "serve", "--port", "9999")
    assert out.returncode == 2 and "--port needs --http" in out.stderr

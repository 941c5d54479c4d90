"""The README's main job, ``make demo`` (scripts/demo.py), runs to its end in a sandbox: the
policy refuses a publish with its rule code and then admits it, the token Claude Desktop cannot
expand stays in the secret store (the deployed entry runs the launcher; the value is in no client
file or backup), the user's own entry survives every deploy, and, with Debian's
``docker-registry`` installed, a teammate's workspace pulls through the registry and deploys.
Marked ``registry``: publish resolves the lock through npm and PyPI."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import oci_kit
import pytest

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "demo-token-not-a-real-secret"

pytestmark = pytest.mark.registry


def test_the_demo_runs_the_whole_lifecycle_and_no_client_file_holds_the_token(
    tmp_path: Path,
) -> None:
    sandbox = tmp_path / "sandbox"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCP_ORCH_")}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "demo.py"), "--sandbox", str(sandbox)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    out = proc.stdout
    assert proc.returncode == 0, out[-4000:] + proc.stderr[-4000:]
    assert "POL003 deepwiki: remote host mcp.deepwiki.com is not in the allowed hosts" in out
    config = sandbox / "client-root" / ".config" / "Claude" / "claude_desktop_config.json"
    text = config.read_text(encoding="utf-8")
    servers = json.loads(text)["mcpServers"]
    github = servers["github"]
    assert Path(github["command"]).name == "mcp-orch" and github["args"][:2] == ["exec", "--"]
    assert github["env"] == {"GITHUB_PERSONAL_ACCESS_TOKEN": "${env:GITHUB_PERSONAL_ACCESS_TOKEN}"}
    assert servers["my-own"] == {"command": "my-server"}  # the user's entry, kept throughout
    backups = [p for p in (sandbox / "workspace" / "backups").rglob("*") if p.is_file()]
    assert backups and not [p for p in [config, *backups] if TOKEN.encode() in p.read_bytes()]
    assert "ok: " in out.rsplit("$ mcp-orch verify", 1)[1]
    if oci_kit.binary() is None:
        assert "sharing through an OCI registry skipped" in out
        return
    teammate = sandbox / "teammate" / "client-root" / ".cursor" / "mcp.json"
    assert sorted(json.loads(teammate.read_text(encoding="utf-8"))["mcpServers"]) == [
        "deepwiki",
        "github",
        "time",
    ]
    assert "another workspace's" in out  # one host: the teammate's pull names whose anchor
    assert re.search(r"\(teammate\) \$ mcp-orch verify\S*\s+ok: ", out)

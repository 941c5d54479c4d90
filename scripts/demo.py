"""The main job: the whole lifecycle in a sandbox workspace and sandbox client root.

    make demo            # or: .venv/bin/python scripts/demo.py [--keep]

Runs the real ``mcp-orch`` CLI step by step — discover → add → validate → publish → deploy →
edit by hand → drift → rollback → history → check → sync to more clients → detect → audit →
verify — printing each command and its output. Everything
happens under ``.sandbox/`` (a fresh folder each run); your real home and client configs are
never read or written.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SANDBOX = ROOT / ".sandbox"


def main() -> int:
    if SANDBOX.exists():
        shutil.rmtree(SANDBOX)
    ws, root = SANDBOX / "workspace", SANDBOX / "client-root"
    env = dict(os.environ)
    env.update(
        MCP_ORCH_HOME=str(ws),
        MCP_ORCH_CLIENT_ROOT=str(root),
        HOME=str(SANDBOX / "home"),
        # a stand-in value: Claude Desktop cannot expand variables, so deploy resolves it
        GITHUB_PERSONAL_ACCESS_TOKEN="demo-token-not-a-real-secret",
    )
    env.pop("XDG_CONFIG_HOME", None)
    (SANDBOX / "home").mkdir(parents=True)
    step = 0

    def run(*args: str, ok: tuple[int, ...] = (0,)) -> str:
        nonlocal step
        step += 1
        print(f"\n\033[1m[{step}] $ mcp-orch {' '.join(args)}\033[0m", flush=True)
        proc = subprocess.run(
            [sys.executable, "-m", "mcp_orch", *args],
            env=env,
            capture_output=True,
            text=True,
        )
        out = (proc.stdout + proc.stderr).rstrip()
        print(out)
        if proc.returncode not in ok:
            print(f"\nstep {step} failed with exit code {proc.returncode}", file=sys.stderr)
            raise SystemExit(1)
        return proc.stdout

    print(f"sandbox: workspace={ws}\n         client root={root}")
    c = ["--client", "claude-desktop"]
    run("list-servers", "--search", "git")
    run("describe-server", "github", "--client", "claude-desktop")
    run("add-server", "time", *c, "--param", "local_timezone=Europe/Paris")
    run(
        "add-server",
        "github",
        *c,
        "--env",
        "GITHUB_PERSONAL_ACCESS_TOKEN=${env:GITHUB_PERSONAL_ACCESS_TOKEN}",
    )
    run("add-server", "deepwiki", *c, "--transport", "remote")
    run("show-draft", *c)
    run("validate-draft", *c)
    run("publish-config", *c, "--changelog", "time, github and deepwiki")
    config = root / ".config" / "Claude" / "claude_desktop_config.json"
    config.parent.mkdir(parents=True)
    config.write_text(
        json.dumps(
            {"globalShortcut": "Ctrl+Space", "mcpServers": {"my-own": {"command": "my-server"}}},
            indent=2,
        )
        + "\n"
    )
    print(f"\n(an existing Claude Desktop config with the user's own server: {config})")
    run("deploy-config", *c, "--dry-run")
    run("deploy-config", *c)
    print(f"\n--- {config} ---\n{config.read_text()}")

    print("(editing the file by hand: the time server gets another zone, 'scratch' is added)")
    data = json.loads(config.read_text())
    data["mcpServers"]["time"]["args"][-1] = "--local-timezone=Asia/Tokyo"
    data["mcpServers"]["scratch"] = {"command": "scratch-server"}
    config.write_text(json.dumps(data, indent=2) + "\n")
    run("drift", *c, ok=(1,))
    run("diff-config", *c)

    run("remove-server", "deepwiki", *c)
    run("add-server", "memory", *c)
    run("publish-config", *c, "--changelog", "swap deepwiki for memory")
    run("deploy-config", *c)
    run("rollback", *c, "--deploy")
    print(f"\n--- {config} after rollback ---\n{config.read_text()}")
    run("config-history", *c)
    run("check", str(config), "--level", "static")
    run("sync", "--from", "claude-desktop", "--to", "cursor,vscode,codex", "--deploy")
    run("detect")
    run("audit-log", "--limit", "12")
    run("verify")
    print(f"\nDone. Everything is in {SANDBOX} (deleted at the next run).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

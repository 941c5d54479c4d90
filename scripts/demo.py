"""The main job: the whole lifecycle in a sandbox workspace and sandbox client root.

    make demo            # or: .venv/bin/python scripts/demo.py [--keep]

Runs the real ``mcp-orch`` CLI step by step — discover → add → validate → a policy refuses a
publish, then admits it → publish → the token into the secret store → deploy (the token stays
out of the file) → edit by hand → drift → rollback → history → check → sync to more clients →
detect → share through an OCI registry: push, and a teammate's workspace trusts the key, pulls
and deploys (when Debian's ``docker-registry`` is installed: ``make system``) → audit → verify —
printing each command and its output. Everything happens under ``.sandbox/`` (a fresh folder
each run; ``--sandbox DIR`` for another); your real home and client configs are never read or
written.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SANDBOX = ROOT / ".sandbox"
#: A stand-in value: Claude Desktop cannot expand variables, so it goes to the secret store and
#: the deployed entry runs the launcher; the value must end up in no client file or backup.
TOKEN = "demo-token-not-a-real-secret"
#: First a policy that admits remote servers on example.com only (deepwiki's host is refused:
#: POL003), then one that admits deepwiki's host too.
POLICY = """description = "demo: which remote hosts this workspace may publish"

[remotes]
allow = [{hosts}]

[transports]
allow = ["stdio", "streamable-http"]
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="mcp-orch's whole lifecycle in a sandbox")
    parser.add_argument("--sandbox", type=Path, default=SANDBOX, help="the sandbox folder")
    sandbox = parser.parse_args(argv).sandbox.resolve()
    if sandbox.exists():
        shutil.rmtree(sandbox)
    ws, root = sandbox / "workspace", sandbox / "client-root"
    env = dict(os.environ)
    env.update(
        MCP_ORCH_HOME=str(ws),
        MCP_ORCH_CLIENT_ROOT=str(root),
        HOME=str(sandbox / "home"),
        GITHUB_PERSONAL_ACCESS_TOKEN=TOKEN,
    )
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "DOCKER_CONFIG", "MCP_ORCH_SECRETS_KEY"):
        env.pop(name, None)
    (sandbox / "home").mkdir(parents=True)
    step = 0

    def run(
        *args: str,
        ok: tuple[int, ...] = (0,),
        env_: dict[str, str] | None = None,
        stdin: str | None = None,
    ) -> str:
        nonlocal step
        step += 1
        who = "" if env_ is None else "(teammate) "
        print(f"\n\033[1m[{step}] {who}$ mcp-orch {' '.join(args)}\033[0m", flush=True)
        proc = subprocess.run(
            [sys.executable, "-m", "mcp_orch", *args],
            env=env if env_ is None else env_,
            capture_output=True,
            text=True,
            input=stdin,
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
    policy = ws / "policy.toml"
    policy.write_text(POLICY.format(hosts='"*.example.com"'), encoding="utf-8")
    print(f"\n(a policy in {policy}: remote servers only on *.example.com)")
    run("policy", "show")
    run("publish-config", *c, "--changelog", "time, github and deepwiki", ok=(1,))
    policy.write_text(POLICY.format(hosts='"*.example.com", "mcp.deepwiki.com"'), encoding="utf-8")
    print("\n(the policy now admits deepwiki's host too)")
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
    print("(Claude Desktop cannot expand ${env:...}: the token goes into the secret store)")
    var = "GITHUB_PERSONAL_ACCESS_TOKEN"
    run("secret", "set", var, "--value-from-env", var)  # the value from the environment
    run("deploy-config", *c, "--dry-run")
    run("deploy-config", *c)
    print(f"\n--- {config} ---\n{config.read_text()}")
    _no_token(config, ws / "backups")

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
    _share(run, env, sandbox)
    _no_token(config, ws / "backups")
    run("audit-log", "--limit", "12")
    run("verify")
    print(f"\nDone. Everything is in {sandbox} (deleted at the next run).")
    return 0


def _no_token(config: Path, backups: Path) -> None:
    """The token's value is in no client file and no backup (it is in the secret store)."""
    files = [config, *(p for p in backups.rglob("*") if p.is_file())]
    leaked = [str(p) for p in files if TOKEN.encode() in p.read_bytes()]
    if leaked:
        print(f"\nthe token's value is in {', '.join(leaked)}", file=sys.stderr)
        raise SystemExit(1)
    print(f"\n(the token's value is in none of {len(files)} files: the client's and its backups)")


@contextlib.contextmanager
def _registry(folder: Path) -> Iterator[object | None]:
    """The CNCF distribution registry on loopback (tests/oci_kit.py), or None without it."""
    sys.path.insert(0, str(ROOT / "tests"))
    import oci_kit  # the tests' own starter: htpasswd basic auth, a free port

    if oci_kit.binary() is None:
        yield None
        return
    with oci_kit.oci_registry(folder) as reg:
        yield reg


def _share(run: Callable[..., str], env: dict[str, str], sandbox: Path) -> None:
    """Push every profile to an OCI registry; a teammate's workspace trusts this workspace's
    key, pulls, deploys Cursor's profile into its own client root and verifies."""
    with _registry(sandbox / "registry") as reg:
        if reg is None:
            print(
                "\n(sharing through an OCI registry skipped: Debian's docker-registry is not "
                "installed; `make system` installs it)"
            )
            return
        import oci_kit

        url = f"oci://127.0.0.1:{reg.port}/demo/mcp"  # type: ignore[attr-defined]
        login = ("--username", oci_kit.USER, "--password-stdin")
        print(f"\n(an OCI registry on loopback: {url}, basic auth)")
        run("remote", "add", "team", url, *login, stdin=oci_kit.PASSWORD)
        run("push")
        pem = sandbox / "me.pem"
        pem.write_text(run("keys", "export-public"), encoding="utf-8")
        mate = dict(env)
        mate.update(
            MCP_ORCH_HOME=str(sandbox / "teammate" / "workspace"),
            MCP_ORCH_CLIENT_ROOT=str(sandbox / "teammate" / "client-root"),
            HOME=str(sandbox / "teammate" / "home"),
        )
        (sandbox / "teammate" / "home").mkdir(parents=True)
        print("\n(a teammate's workspace, with its own home and client root)")
        run("keys", "trust", str(pem), env_=mate)
        run("remote", "add", "team", url, *login, stdin=oci_kit.PASSWORD, env_=mate)
        run("pull", env_=mate)
        run("deploy-config", "--client", "cursor", env_=mate)
        run("audit-log", "--limit", "4", env_=mate)
        run("verify", env_=mate)


if __name__ == "__main__":
    raise SystemExit(main())

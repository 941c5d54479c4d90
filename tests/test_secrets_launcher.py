"""No secret in any client file: the secret store, ``mcp-orch secret``, the launcher
(``mcp-orch exec``), deploy with ``secrets = "launcher"``, VS Code inputs, and ``check``'s hint.

The CLI runs as a user runs it (the installed entry point, in a subprocess); the launcher is
started as a client starts a server (the deployed entry's command, args and env), and a real
stdio MCP server (tests/servers/tiny_stdio.py, which reports a variable in its server name) is
asked over MCP what it received. The store lives in the test's temporary HOME, on the encrypted
file backend (tests/conftest.py): never the real keyring.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

import mcp_orch as mo
from mcp_orch.domain.clients import config_path
from mcp_orch.services.secrets import sealed
from mcp_orch.services.secrets.store import SecretStore

pytestmark = pytest.mark.anyio
TINY = str(Path(__file__).parent / "servers" / "tiny_stdio.py")
VALUE = "s3cr3t-Value-4242-unique"
ENTRY = str(Path(sys.executable).parent / "mcp-orch")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def cli(
    env: dict[str, str], *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ENTRY, *args], env=env, input=stdin, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def env(cli_env: dict[str, str]) -> dict[str, str]:
    return {**cli_env, "MCP_ORCH_SECRET_BACKEND": "file"}


def store_dir(home: str) -> Path:
    return Path(home) / ".local" / "share" / "mcp-orch-secrets"


def grep(folder: Path, value: str) -> list[Path]:
    """Every file under ``folder`` whose bytes hold ``value``."""
    return [p for p in folder.rglob("*") if p.is_file() and value.encode() in p.read_bytes()]


def test_secret_set_list_rm_through_the_cli(env: dict[str, str], tmp_path: Path) -> None:
    out = cli(env, "secret", "set", "API_KEY", stdin=VALUE + "\n")
    assert out.returncode == 0, out.stderr
    assert "stored API_KEY (file)" in out.stdout
    env2 = {**env, "FROM_CI": "ci-value-77"}
    out = cli(env2, "secret", "set", "CI_TOKEN", "--value-from-env", "FROM_CI")
    assert out.returncode == 0, out.stderr

    # never from an argument, and nothing stored then
    out = cli(env, "secret", "set", "OTHER", "the-value-itself")
    assert out.returncode == 2
    assert "never taken from an argument" in out.stderr and "Traceback" not in out.stderr
    out = cli(env, "secret", "set", "9BAD", stdin="x")
    assert out.returncode == 2 and "not a secret name" in out.stderr

    listed = json.loads(cli(env, "secret", "list", "--json").stdout)
    assert [r["name"] for r in listed["secrets"]] == ["API_KEY", "CI_TOKEN"]
    assert {r["backend"] for r in listed["secrets"]} == {"file"}
    text = cli(env, "secret", "list").stdout
    assert "API_KEY" in text and VALUE not in text

    # the store is in the temporary HOME, private, and holds no value in plain text
    folder = store_dir(env["HOME"])
    assert listed["store"] == str(folder)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "secrets.key").stat().st_mode) == 0o600
    assert grep(folder, VALUE) == [] and grep(folder, "ci-value-77") == []
    assert SecretStore(folder).get("API_KEY") == VALUE

    out = cli(env, "secret", "rm", "CI_TOKEN")
    assert out.returncode == 0 and "removed CI_TOKEN" in out.stdout
    out = cli(env, "secret", "rm", "CI_TOKEN")
    assert out.returncode == 2 and "no secret named CI_TOKEN" in out.stderr
    assert SecretStore(folder).names() == ["API_KEY"]

    # audited by name, never by value
    log = "".join(p.read_text() for p in (tmp_path / "ws").rglob("*.jsonl"))
    assert '"secret-set"' in log and '"secret-rm"' in log and "CI_TOKEN" in log
    assert VALUE not in log and "ci-value-77" not in log


def test_a_value_does_not_open_under_another_name_or_key(tmp_path: Path) -> None:
    store = SecretStore(tmp_path / "s", backend="file")
    store.set("A", "alpha")
    box, index_path = tmp_path / "s" / "secrets", tmp_path / "s" / "index"
    data = sealed.loads(box.read_text(), "entries")
    data["entries"]["B"] = data["entries"]["A"]  # a value moved to another name
    box.write_text(sealed.dumps(data, "entries"))
    index = sealed.loads(index_path.read_text(), "secrets")
    index["secrets"]["B"] = index["secrets"]["A"]
    index_path.write_text(sealed.dumps(index, "secrets"))
    with pytest.raises(mo.SecretStoreError, match="does not decrypt"):
        store.get("B")
    assert store.get("A") == "alpha"
    raw = bytearray(base64.b64decode(data["entries"]["A"]["data"]))
    raw[0] ^= 1  # one bit of the ciphertext
    data["entries"]["A"]["data"] = base64.b64encode(bytes(raw)).decode()
    box.write_text(sealed.dumps(data, "entries"))
    with pytest.raises(mo.SecretStoreError, match="does not decrypt"):
        store.get("A")
    (tmp_path / "s" / "secrets.key").write_text(base64.b64encode(b"k" * 32).decode())
    store.set("C", "gamma")  # the value under another key: does not open with the old ones
    assert store.get("C") == "gamma"


def _deploy(ws: mo.Workspace, client: str, secrets: str | None, **server: Any) -> mo.Profile:
    prof = ws.profile(client)
    if secrets:
        prof.configure(secrets=secrets)
    prof.draft.add_custom("tiny", **server)
    prof.draft.publish("add tiny").deploy()
    return prof


def _tiny(var: str = "API_KEY") -> dict[str, Any]:
    return {
        "command": sys.executable,
        "args": [TINY, "--key=${env:" + var + "}"],
        "env": {"TINY_ECHO_ENV": "SERVER_KEY", "SERVER_KEY": "${env:" + var + "}"},
    }


async def test_launcher_deploy_keeps_values_out_of_file_and_backups_and_the_server_gets_them(
    ws: mo.Workspace, client_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    SecretStore().set("API_KEY", VALUE)
    monkeypatch.delenv("API_KEY", raising=False)
    target = Path(config_path("claude-desktop", root=client_root))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text('{"mcpServers": {}, "theme": "dark"}\n')  # the user's file: backed up
    prof = _deploy(ws, "claude-desktop", "launcher", **_tiny())
    prof.draft.add_custom("tiny2", **_tiny())  # a second deploy: the first file is backed up
    prof.draft.publish("add tiny2").deploy()

    assert grep(client_root, VALUE) == []  # the client file
    assert grep(tmp_path / "ws", VALUE) == []  # backups, records, store, audit
    assert grep(tmp_path / "ws", '"theme"')  # the backups are there, and hold no value
    data = json.loads(target.read_text())
    assert data["theme"] == "dark"
    entry = data["mcpServers"]["tiny"]
    assert entry["command"] == ENTRY and Path(entry["command"]).is_absolute()
    assert entry["args"][:3] == ["exec", "--", sys.executable]
    assert entry["env"]["SERVER_KEY"] == "${env:API_KEY}"
    assert prof.drift().status == "clean"  # the launcher rendering is not a hand edit

    # start it as Claude Desktop does: the entry's command, args and env over a small env
    env = {"HOME": os.environ["HOME"], "PATH": os.environ["PATH"], **entry["env"]}
    env["MCP_ORCH_SECRET_BACKEND"] = "file"
    params = StdioServerParameters(command=entry["command"], args=entry["args"], env=env)
    async with Client(params, read_timeout_seconds=30) as c:
        assert c.server_info is not None
        assert c.server_info.name == f"tiny:{VALUE}"  # the real server received the secret
        tools = {t.name for t in (await c.list_tools()).tools}
        assert f"--key={VALUE}" in tools  # and so did its argument


def test_a_missing_secret_stops_the_launcher_with_one_line(
    ws: mo.Workspace, client_root: Path
) -> None:
    _deploy(ws, "claude-desktop", "launcher", **_tiny("NOT_STORED"))
    target = Path(config_path("claude-desktop", root=client_root))
    entry = json.loads(target.read_text())["mcpServers"]["tiny"]
    env = {"HOME": os.environ["HOME"], "PATH": os.environ["PATH"], **entry["env"]}
    out = subprocess.run(
        [entry["command"], *entry["args"]], env=env, capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 1
    assert out.stdout == ""  # stdout is the protocol's
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "NOT_STORED" in lines[0] and "secret set NOT_STORED" in lines[0]

    # from the launcher's own environment when the store does not have it
    env["NOT_STORED"] = "from-env-1"
    out = subprocess.run(
        [entry["command"], *entry["args"]],
        env=env,
        input='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}\n',
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["result"]["serverInfo"]["name"] == "tiny:from-env-1"


def test_secrets_setting_auto_and_inline(
    ws: mo.Workspace, client_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = Path(config_path("claude-desktop", root=client_root))
    monkeypatch.setenv("API_KEY", "env-value-55")
    # auto, nothing in the store: today's inline values (the client cannot expand)
    prof = _deploy(ws, "claude-desktop", None, **_tiny())
    assert prof.settings["secrets"] == "auto"
    assert "env-value-55" in target.read_text()
    # auto with the secret in the store: the launcher
    SecretStore().set("API_KEY", VALUE)
    prof.draft.publish("again", resolve=False)
    prof.latest().deploy()
    entry = json.loads(target.read_text())["mcpServers"]["tiny"]
    assert entry["args"][:2] == ["exec", "--"] and VALUE not in target.read_text()
    assert "env-value-55" not in target.read_text()
    # inline only when asked
    prof.configure(secrets="inline")
    prof.latest().deploy()
    assert "env-value-55" in target.read_text()
    with pytest.raises(mo.UsageError, match="secrets must be one of"):
        prof.configure(secrets="plain")


def test_a_dry_run_with_an_unset_variable_previews_each_entry_as_the_deploy_would_write_it(
    ws: mo.Workspace, client_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stored secret's entry runs the launcher in the preview too; only the unset
    variable's place is marked, and a set value is masked, never shown."""
    SecretStore().set("API_KEY", VALUE)
    monkeypatch.delenv("API_KEY", raising=False)
    monkeypatch.delenv("UNSET_TOKEN", raising=False)
    monkeypatch.setenv("SET_TOKEN", "set-value-9191")
    prof = ws.profile("claude-desktop")
    prof.draft.add_custom("tiny", **_tiny())
    prof.draft.add_custom(
        "other",
        command=sys.executable,
        args=[TINY],
        env={"A": "${env:UNSET_TOKEN}", "B": "${env:SET_TOKEN}"},
    )
    art = prof.draft.publish("two", resolve=False)
    with pytest.raises(mo.MissingSecret, match="UNSET_TOKEN"):
        art.deploy()
    preview = art.deploy(dry_run=True)
    text = preview.diff_text
    assert "<UNSET_TOKEN is not set>" in text and "deploy would stop" in text
    assert "set-value-9191" not in text and VALUE not in text
    assert '"exec"' in text and "<API_KEY is not set>" not in text  # tiny: the launcher
    target = Path(config_path("claude-desktop", root=client_root))
    assert not target.exists()


def test_vscode_gets_password_inputs_merged_with_the_users_own(
    ws: mo.Workspace, client_root: Path
) -> None:
    SecretStore().set("API_KEY", VALUE)
    target = Path(config_path("vscode", root=client_root))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        "// my settings\n"
        '{\n  "inputs": [{"type": "promptString", "id": "mine", "description": "my own"}],\n'
        '  "servers": {}\n}\n'
    )
    _deploy(ws, "vscode", None, **_tiny())
    text = target.read_text()
    assert text.startswith("// my settings\n") and VALUE not in text
    data = json.loads("\n".join(text.splitlines()[1:]))
    assert data["inputs"] == [
        {"type": "promptString", "id": "mine", "description": "my own"},
        {
            "type": "promptString",
            "id": "API_KEY",
            "description": "API_KEY (a secret mcp-orch deployed; VS Code keeps it encrypted)",
            "password": True,
        },
    ]
    entry = data["servers"]["tiny"]
    assert entry["command"] == sys.executable  # VS Code runs the server itself
    assert entry["env"]["SERVER_KEY"] == "${input:API_KEY}"
    assert entry["args"][1] == "--key=${input:API_KEY}"
    ws.profile("vscode").latest().deploy()  # again: the input is not added twice
    assert json.loads("\n".join(target.read_text().splitlines()[1:]))["inputs"] == data["inputs"]


def test_check_suggests_the_launcher_for_a_client_that_cannot_expand(
    env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "claude_desktop_config.json"
    path.write_text(
        json.dumps(
            {
                "mcpServers": {
                    "gh": {
                        "command": "npx",
                        "args": ["-y", "@modelcontextprotocol/server-github@1.0.0"],
                        "env": {
                            "GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_" + "a1B2c3D4e5" * 4,
                            "OTHER": "${env:OTHER}",
                        },
                    }
                }
            }
        )
    )
    out = cli(env, "check", str(path), "--client", "claude-desktop", "--json")
    (target,) = json.loads(out.stdout)["targets"]
    findings = target["errors"] + target["warnings"]
    hints = {f["code"]: f["hint"] for f in findings}
    assert "secret set GITHUB_PERSONAL_ACCESS_TOKEN" in hints["MCP003"]
    assert "secrets setting launcher" in hints["MCP003"]
    assert not hints["MCP003"].startswith("write ${env:")  # not a reference it would not expand
    assert "does not expand" in next(f["message"] for f in findings if f["code"] == "MCP011")
    assert "launcher" in hints["MCP011"]


def test_the_keyring_backend_from_set_to_the_launcher(env: dict[str, str], tmp_path: Path) -> None:
    servers = str(Path(__file__).parent / "servers")
    kr = {
        **env,
        "MCP_ORCH_SECRET_BACKEND": "keyring",
        "PYTHON_KEYRING_BACKEND": "json_keyring.JsonKeyring",
        "PYTHONPATH": servers,
        "TEST_KEYRING_FILE": str(tmp_path / "keyring.json"),
    }
    out = cli(kr, "secret", "set", "KR_TOKEN", stdin="from-the-keyring")
    assert out.returncode == 0, out.stderr
    assert "(keyring:json_keyring:JsonKeyring)" in out.stdout
    held = json.loads((tmp_path / "keyring.json").read_text())
    assert held == {"mcp-orch/KR_TOKEN": "from-the-keyring"}  # in the keyring, not the file
    assert not (store_dir(env["HOME"]) / "secrets").exists()

    # the launcher loads the recorded backend class itself (no PYTHON_KEYRING_BACKEND needed)
    run_env = {k: v for k, v in kr.items() if k != "PYTHON_KEYRING_BACKEND"}
    out = subprocess.run(
        [ENTRY, "exec", "--", sys.executable, "-c", "import os; print(os.environ['K'])"],
        env={**run_env, "K": "${env:KR_TOKEN}"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "from-the-keyring"

    out = cli(kr, "secret", "rm", "KR_TOKEN")
    assert out.returncode == 0, out.stderr
    assert json.loads((tmp_path / "keyring.json").read_text()) == {}

    # asked for by name where keyring finds none: a clear error, nothing stored
    none = {**kr, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    out = cli(none, "secret", "set", "KR_TOKEN", stdin="x")
    assert out.returncode == 1 and "no OS keyring is available" in out.stderr


def test_probe_starts_a_launched_entry_through_the_launcher(
    ws: mo.Workspace, client_root: Path, env: dict[str, str]
) -> None:
    SecretStore().set("API_KEY", VALUE)
    _deploy(ws, "claude-desktop", "launcher", **_tiny())
    target = config_path("claude-desktop", root=client_root)
    out = cli(env, "probe", str(target), "--client", "claude-desktop", "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"tiny:{VALUE}" in out.stdout  # the server's name: it got the value from the store

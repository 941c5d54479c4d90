"""End-to-end tests of the ``mcp-orch`` command line, run as a user runs it: in a subprocess
(``python -m mcp_orch ...`` and the ``mcp-orchestration`` console script) against a temporary
workspace, client root and HOME (the ``cli_env`` fixture).

Covered: the catalog commands (list-clients, list-profiles, list-servers with its filters,
describe-server with a rendered entry, import-servers with official server.json documents and a
registry API page), drafts (add-server with every option, remove-server, show-draft,
validate-draft on drafts and files with --select/--ignore), releases (publish-config, deploy-config
with --dry-run/--path/--adopt, get-config, diff-config, drift, rollback, restore, config-history),
audit-log filters, verify (clean and tampered), keys, init-configs, ``--json`` output of every
command, exit codes (0 ok, 1 failed check, 2 bad usage) and the ``error:``/``hint:`` lines on stderr
(never a traceback).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import mcp_orch
from mcp_orch.domain.pins import MCP_REMOTE_VERSION

REGISTRY_EXAMPLES = Path("/work/shared/data/mcp-registry/docs/reference/server-json/examples/valid")
SCHEMA_URL = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"
GHP = "ghp_" + "A1b2C3d4E5f6G7h8I9j0" * 2  # a GitHub-shaped token (fake)
OFFICIAL = "io.modelcontextprotocol.registry/official"
# the bundled postgres server (MCP Toolbox, --prebuilt=postgres): its required non-secret inputs
# and the host and port defaults the catalog renders
PG_ENV = ("--env", "POSTGRES_DATABASE=app", "--env", "POSTGRES_USER=app", "--env")
PG_DEFAULTS = {
    "POSTGRES_HOST": "localhost",
    "POSTGRES_PORT": "5432",
    "POSTGRES_DATABASE": "app",
    "POSTGRES_USER": "app",
}


class Cli:
    """Runs ``python -m mcp_orch`` in the sandbox; every run is checked for tracebacks."""

    def __init__(self, env: dict[str, str], tmp_path: Path) -> None:
        env = dict(env)
        env.pop("MCP_ORCH_DEBUG", None)
        env.pop("MCP_ORCH_KEY_PASSPHRASE", None)
        env["PYTHONIOENCODING"] = "utf-8"
        self.env = env
        self.tmp = tmp_path
        self.ws = Path(env["MCP_ORCH_HOME"])
        self.root = Path(env["MCP_ORCH_CLIENT_ROOT"])
        self.cwd = tmp_path / "cwd"
        self.cwd.mkdir(exist_ok=True)
        self._clients: dict[str, str] | None = None

    def run(
        self,
        *args: str,
        code: int | None = 0,
        stdin: str | None = None,
        extra_env: dict[str, str] | None = None,
        argv0: list[str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        env = {**self.env, **(extra_env or {})}
        proc = subprocess.run(
            [*(argv0 or [sys.executable, "-m", "mcp_orch"]), *args],
            env=env,
            cwd=self.cwd,
            input=stdin,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=120,
        )
        both = proc.stdout + proc.stderr
        assert "Traceback" not in both, f"mcp-orch {' '.join(args)} printed a traceback:\n{both}"
        if code is not None:
            assert proc.returncode == code, (
                f"mcp-orch {' '.join(args)}: exit {proc.returncode}, expected {code}\n"
                f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
            )
        return proc

    def out(self, *args: str, code: int = 0, **kw: Any) -> str:
        return self.run(*args, code=code, **kw).stdout

    def json(self, *args: str, code: int = 0, **kw: Any) -> Any:
        proc = self.run(*args, "--json", code=code, **kw)
        try:
            return json.loads(proc.stdout)
        except json.JSONDecodeError:  # pragma: no cover - the assertion message is the point
            pytest.fail(f"mcp-orch {' '.join(args)} --json printed no JSON:\n{proc.stdout}")

    def fail(self, code: int, *args: str, **kw: Any) -> str:
        """Run a command that must fail: exit ``code``, nothing on stdout, ``error: ...`` first
        and ``hint: ...`` last on stderr. Returns stderr."""
        proc = self.run(*args, code=code, **kw)
        assert proc.stdout == "", f"{args}: an error printed to stdout: {proc.stdout!r}"
        lines = proc.stderr.strip().splitlines()
        assert lines, f"{args}: exit {code} without a message"
        assert lines[0].startswith("error: "), proc.stderr
        assert len(lines[0]) > len("error: ") + 5, proc.stderr
        assert lines[-1].startswith("hint: "), proc.stderr
        return proc.stderr

    def usage_error(self, *args: str, **kw: Any) -> str:
        """Exit 2 with exactly two lines: the error and the hint."""
        err = self.fail(2, *args, **kw)
        assert len(err.strip().splitlines()) == 2, err
        return err

    def client_file(self, client: str) -> Path:
        """The client's config file under the client root, as ``list-clients`` reports it."""
        if self._clients is None:
            self._clients = {
                r["id"]: r["config_path"] for r in self.json("list-clients")["clients"]
            }
        return Path(self._clients[client])

    def audit_actions(self) -> list[str]:
        return [e["action"] for e in self.json("audit-log", "--limit", "1000")["events"]]


@pytest.fixture
def cli(cli_env: dict[str, str], tmp_path: Path) -> Cli:
    return Cli(cli_env, tmp_path)


def write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def publish(ws: mcp_orch.Workspace, client: str, *servers: str, changelog: str = "") -> str:
    """Setup through the library, in this process (the CLI under test runs in subprocesses):
    add catalog servers to the draft of ``client``/default and publish it; returns its id."""
    profile = ws.profile(client)
    registry = mcp_orch.Registry(workspace=ws)
    for server in servers:
        registry.find(server).add_to(profile)
    return profile.draft.validate().publish(changelog=changelog).artifact_id


def files_under(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.exists() else []


# ---- front door ----------------------------------------------------------------------------


def test_help_version_and_the_mcp_orchestration_alias(cli: Cli) -> None:
    help_text = cli.out("--help")
    for command in (
        "list-clients",
        "list-profiles",
        "list-servers",
        "describe-server",
        "import-servers",
        "add-server",
        "remove-server",
        "show-draft",
        "validate-draft",
        "publish-config",
        "deploy-config",
        "get-config",
        "diff-config",
        "drift",
        "rollback",
        "restore",
        "config-history",
        "audit-log",
        "verify",
        "keys",
        "init-configs",
    ):
        assert f"  {command} " in help_text, command
    assert mcp_orch.__version__ in cli.out("--version")

    alias = Path(sys.executable).parent / "mcp-orchestration"
    assert alias.is_file(), f"the console script {alias} is not installed"
    assert mcp_orch.__version__ in cli.out("--version", argv0=[str(alias)])
    via_alias = json.loads(cli.out("list-clients", "--json", argv0=[str(alias)]))
    assert via_alias == cli.json("list-clients")
    # the alias drives the same workspace
    cli.out("add-server", "time", "--client", "cursor", argv0=[str(alias)])
    assert cli.json("show-draft", "-c", "cursor")["payload"]["mcpServers"].keys() == {"time"}
    # and reports errors the same way
    cli.usage_error("add-server", "time", "--client", "nosuchclient", argv0=[str(alias)])

    # click's own usage errors: exit 2, no traceback
    bad = cli.run("no-such-command", code=2)
    assert "No such command" in bad.stderr
    missing = cli.run("add-server", "time", code=2)
    assert "--client" in missing.stderr


def test_read_only_commands_write_nothing(cli: Cli, tmp_path: Path) -> None:
    for args in (
        ["list-clients"],
        ["list-profiles"],
        ["list-servers", "--search", "git"],
        ["describe-server", "github", "-c", "cursor"],
        ["show-draft", "-c", "cursor"],
        ["validate-draft", "-c", "cursor"],
        ["config-history", "-c", "cursor"],
        ["audit-log"],
        ["keys", "list"],
    ):
        cli.out(*args)
    assert cli.json("verify") == {
        "ok": True,
        "artifacts": 0,
        "events": 0,
        "problems": [],
        "repaired": [],
        "verified_before": 0,
        "notes": [],
    }
    assert files_under(tmp_path / "ws") == [] and files_under(tmp_path / "root") == []
    assert files_under(tmp_path / "home") == []


# ---- catalog -------------------------------------------------------------------------------


def test_list_clients_and_profiles(cli: Cli) -> None:
    text = cli.out("list-clients")
    assert text.splitlines()[0].split()[:3] == ["ID", "NAME", "FORMAT"]
    rows = cli.json("list-clients")["clients"]
    ids = [r["id"] for r in rows]
    assert len(ids) >= 20 and len(ids) == len(set(ids))
    for expected in ("claude-desktop", "claude-code", "cursor", "vscode", "windsurf", "codex"):
        assert expected in ids
        assert expected in text
    for r in rows:
        assert {"id", "name", "dialect", "config_path"} <= r.keys()
        assert Path(r["config_path"]).is_relative_to(cli.root), r
    cursor = next(r for r in rows if r["id"] == "cursor")
    assert cursor["name"] == "Cursor" and cursor["dialect"] == "json"
    assert cursor["config_path"] == str(cli.root / ".cursor" / "mcp.json")
    assert {r["dialect"] for r in rows} >= {"json", "jsonc", "toml", "yaml"}

    assert cli.json("list-profiles")["profiles"] == []
    assert "(none)" in cli.out("list-profiles")
    cli.out("add-server", "time", "-c", "cursor")
    cli.out("add-server", "fetch", "-c", "cursor", "-p", "work")
    cli.out("add-server", "memory", "-c", "cursor", "-p", "work")
    cli.out("publish-config", "-c", "cursor", "-p", "work")
    profiles = {(p["client"], p["profile"]): p for p in cli.json("list-profiles")["profiles"]}
    assert set(profiles) == {("cursor", "default"), ("cursor", "work")}
    assert profiles["cursor", "default"]["draft_servers"] == 1
    assert profiles["cursor", "default"]["latest"] is None
    assert profiles["cursor", "work"]["draft_servers"] == 2
    assert profiles["cursor", "work"]["latest"].startswith("sha256:")
    assert profiles["cursor", "work"]["deployed"] is None
    text = cli.out("list-profiles")
    assert "work" in text and "default" in text


def test_list_servers_with_filters(cli: Cli) -> None:
    everything = cli.json("list-servers")["servers"]
    assert len(everything) >= 30
    ids = [s["id"] for s in everything]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    for s in everything:
        assert {"id", "name", "title", "description", "transports", "tags"} <= s.keys()
        assert s["source"] == "bundled"
    assert {"github", "time", "fetch", "filesystem", "deepwiki"} <= set(ids)
    text = cli.out("list-servers")
    assert text.rstrip().endswith(f"{len(everything)} servers")
    assert "github" in text and "DESCRIPTION" in text.splitlines()[0]

    stdio = cli.json("list-servers", "--transport", "stdio")["servers"]
    assert stdio and all("stdio" in s["transports"] for s in stdio)
    assert "time" in [s["id"] for s in stdio] and "deepwiki" not in [s["id"] for s in stdio]
    remote = cli.json("list-servers", "-t", "remote")["servers"]
    assert remote and all(set(s["transports"]) - {"stdio"} for s in remote)
    assert "deepwiki" in [s["id"] for s in remote] and "time" not in [s["id"] for s in remote]
    assert len(stdio) + len(remote) >= len(everything)
    sse = cli.json("list-servers", "--transport", "sse")["servers"]
    assert sse and all("sse" in s["transports"] for s in sse)

    found = cli.json("list-servers", "--search", "database")["servers"]
    assert "postgres" in [s["id"] for s in found]
    assert len(found) < len(everything)
    exact = cli.json("list-servers", "-s", "github")["servers"]
    assert exact[0]["id"] == "github"  # exact id first
    both = cli.json("list-servers", "--search", "database", "--transport", "stdio")["servers"]
    assert both and {s["id"] for s in both} <= {s["id"] for s in found}
    assert all("stdio" in s["transports"] for s in both)

    tag = everything[0]["tags"][0]
    tagged = cli.json("list-servers", "--tag", tag)["servers"]
    assert tagged and all(tag in [t.lower() for t in s["tags"]] for s in tagged)
    assert everything[0]["id"] in [s["id"] for s in tagged]

    assert cli.json("list-servers", "--search", "zzz-no-such-words")["servers"] == []
    assert "0 servers" in cli.out("list-servers", "--search", "zzz-no-such-words")
    err = cli.usage_error("list-servers", "--transport", "carrier-pigeon")
    assert "carrier-pigeon" in err


def test_describe_server_and_its_rendered_entry(cli: Cli) -> None:
    text = cli.out("describe-server", "github")
    assert text.startswith("GitHub (github)")
    assert "GITHUB_PERSONAL_ACCESS_TOKEN" in text and "inputs:" in text
    assert "entry for" not in text

    data = cli.json("describe-server", "github")
    assert data["id"] == "github" and data["title"] == "GitHub"
    assert data["name"].startswith("io.github.")
    assert "stdio" in data["transports"]
    assert data["server_json"]["name"] == data["name"]
    secret = [i for i in data["inputs"] if i["name"] == "GITHUB_PERSONAL_ACCESS_TOKEN"]
    # secret, and optional: without it the server signs in with OAuth
    assert secret and secret[0]["secret"] is True and secret[0]["required"] is False
    assert "rendered" not in data

    cursor = cli.json(
        "describe-server",
        "github",
        "--client",
        "cursor",
        "--env",
        "GITHUB_PERSONAL_ACCESS_TOKEN=${env:GH}",
    )
    assert cursor["rendered"]["client"] == "cursor"
    entry = cursor["rendered"]["entry"]
    assert entry["env"] == {"GITHUB_PERSONAL_ACCESS_TOKEN": "${env:GH}"}
    assert "command" in entry
    text = cli.out("describe-server", "github", "-c", "cursor")
    assert "entry for cursor:" in text and '"command"' in text

    # remote transport: native url for Cursor, bridged through mcp-remote for Claude Desktop
    native = cli.json("describe-server", "deepwiki", "-c", "cursor", "--transport", "remote")
    assert native["rendered"]["entry"]["url"].startswith("https://")
    bridged = cli.json("describe-server", "deepwiki", "-c", "claude-desktop")
    assert f"mcp-remote@{MCP_REMOTE_VERSION}" in bridged["rendered"]["entry"]["args"]

    params = cli.json("describe-server", "time", "-c", "cursor", "--param", "timezone=Europe/Paris")
    assert any("Europe/Paris" in a for a in params["rendered"]["entry"]["args"])

    err = cli.usage_error("describe-server", "githubb-nope")
    assert "githubb-nope" in err
    cli.usage_error("describe-server", "time", "-c", "nosuchclient")
    cli.usage_error("describe-server", "time", "-c", "cursor", "--param", "no-equals-sign")


# ---- drafts --------------------------------------------------------------------------------


def test_add_server_options_show_draft_and_remove(cli: Cli) -> None:
    added = cli.json("add-server", "time", "-c", "cursor", "--param", "timezone=Europe/Paris")
    assert added["added"] == "time" and added["draft"] == ["time"]
    assert added["entry"]["command"] and any("Europe/Paris" in a for a in added["entry"]["args"])

    # a secret as a reference, never as a value
    pg = cli.json(
        "add-server", "postgres", "-c", "cursor", *PG_ENV, "POSTGRES_PASSWORD=${env:PG_PW}"
    )
    assert pg["entry"]["env"] == {**PG_DEFAULTS, "POSTGRES_PASSWORD": "${env:PG_PW}"}

    # a remote server with a header, under another name
    docs = cli.json(
        "add-server",
        "context7",
        "-c",
        "cursor",
        "--transport",
        "remote",
        "--header",
        "CONTEXT7_API_KEY=${env:C7_KEY}",
        "--name",
        "docs",
    )
    assert docs["added"] == "docs"
    assert docs["entry"]["url"].startswith("https://")
    assert "command" not in docs["entry"]
    assert docs["entry"]["headers"] == {"CONTEXT7_API_KEY": "${env:C7_KEY}"}
    assert docs["draft"] == ["time", "postgres", "docs"]

    text = cli.out("add-server", "fetch", "-c", "cursor")
    assert "added fetch to the draft of cursor/default" in text

    # the same name twice is refused; --replace replaces it (and keeps its place)
    err = cli.usage_error("add-server", "time", "-c", "cursor")
    assert "--replace" in err or "replace" in err
    replaced = cli.json("add-server", "time", "-c", "cursor", "--replace")
    assert not any("Europe/Paris" in a for a in replaced["entry"]["args"])
    assert replaced["draft"] == ["time", "postgres", "docs", "fetch"]

    draft = cli.json("show-draft", "-c", "cursor")
    assert draft["client"] == "cursor" and draft["profile"] == "default"
    payload = draft["payload"]["mcpServers"]
    assert list(payload) == ["time", "postgres", "docs", "fetch"]
    assert payload["postgres"]["env"]["POSTGRES_PASSWORD"] == "${env:PG_PW}"
    assert payload["docs"] == docs["entry"]
    assert draft["servers"]["docs"]["catalog_id"] == "context7"
    shown = cli.out("show-draft", "-c", "cursor")
    assert shown.startswith("draft cursor/default")
    assert json.loads(shown.split("\n", 1)[1]) == draft["payload"]

    removed = cli.json("remove-server", "postgres", "-c", "cursor")
    assert removed == {"removed": "postgres", "draft": ["time", "docs", "fetch"]}
    assert "removed docs" in cli.out("remove-server", "docs", "-c", "cursor")
    assert list(cli.json("show-draft", "-c", "cursor")["payload"]["mcpServers"]) == [
        "time",
        "fetch",
    ]
    err = cli.usage_error("remove-server", "postgres", "-c", "cursor")
    assert "postgres" in err

    # Windows rendering wraps npx/uvx in cmd /c; the draft remembers the target OS
    win = cli.json(
        "add-server",
        "filesystem",
        "-c",
        "claude-desktop",
        "--param",
        "allowed_directory=C:\\work",
        "--target-os",
        "windows",
    )
    assert win["entry"]["command"] == "cmd"
    assert win["entry"]["args"][:2] == ["/c", "npx"]
    assert "C:\\work" in win["entry"]["args"]
    assert cli.json("show-draft", "-c", "claude-desktop")["target_os"] == "windows"
    linux = cli.json(
        "add-server", "filesystem", "-c", "cursor", "--param", "allowed_directory=/srv"
    )
    assert linux["entry"]["command"] == "npx"
    cli.run("add-server", "time", "-c", "cursor", "-p", "x", "--target-os", "beos", code=2)

    # a server without a remote cannot be added as remote
    err = cli.usage_error("add-server", "time", "-c", "cursor", "-p", "r", "--transport", "remote")
    assert "remote" in err


def test_validate_draft_and_files_with_select_and_ignore(cli: Cli, tmp_path: Path) -> None:
    cli.out("add-server", "time", "-c", "cursor")
    report = cli.json("validate-draft", "-c", "cursor")
    assert report["ok"] is True and report["errors"] == []
    assert report["client"] == "cursor" and "cursor/default" in report["target"]
    assert {"warnings", "suggestions"} <= report.keys()
    assert "ok:" in cli.out("validate-draft", "-c", "cursor")

    # an unfilled required placeholder fails (exit 1) with a finding that names the fix
    cli.out("add-server", "filesystem", "-c", "cursor", "-p", "fs")
    proc = cli.run("validate-draft", "-c", "cursor", "-p", "fs", code=1)
    assert "FAILED" in proc.stdout and "MCP002" in proc.stdout
    assert "give the parameter allowed_directory a value" in proc.stdout
    failed = cli.json("validate-draft", "-c", "cursor", "-p", "fs", code=1)
    assert failed["ok"] is False
    assert [f["code"] for f in failed["errors"]] == ["MCP002"]
    assert failed["errors"][0]["server"] == "filesystem"
    assert failed["errors"][0]["hint"]
    ignored = cli.json("validate-draft", "-c", "cursor", "-p", "fs", "--ignore", "MCP002")
    assert ignored["ok"] is True

    # a client file: a literal secret and a name Cursor cannot use
    bad = write_json(
        tmp_path / "mcp.json",
        {
            "mcpServers": {
                "gh": {"command": "npx", "args": ["x"], "env": {"GITHUB_TOKEN": GHP}},
            }
        },
    )
    proc = cli.run("validate-draft", "-c", "cursor", "--file", str(bad), code=1)
    assert "MCP003" in proc.stdout
    assert GHP not in proc.stdout + proc.stderr  # the report masks the secret
    found = cli.json("validate-draft", "-c", "cursor", "--file", str(bad), code=1)
    assert found["target"] == str(bad)
    assert "MCP003" in [f["code"] for f in found["errors"]]
    assert GHP not in json.dumps(found)
    assert cli.json("validate-draft", "-c", "cursor", "--file", str(bad), "--ignore", "MCP003")[
        "ok"
    ]
    by_name = cli.json(
        "validate-draft", "-c", "cursor", "--file", str(bad), "--ignore", "literal-secret"
    )
    assert by_name["ok"] is True
    only = cli.json(
        "validate-draft",
        "-c",
        "cursor",
        "--file",
        str(bad),
        "--select",
        "MCP004",
        "--select",
        "MCP005",
    )
    assert only["ok"] is True
    assert not any(
        f["code"] not in ("MCP004", "MCP005")
        for kind in ("errors", "warnings", "suggestions")
        for f in only[kind]
    )
    selected = cli.json(
        "validate-draft", "-c", "cursor", "--file", str(bad), "--select", "MCP003", code=1
    )
    assert {f["code"] for f in selected["errors"]} == {"MCP003"}

    badname = write_json(tmp_path / "names.json", {"mcpServers": {"bad name!": {"command": "npx"}}})
    names = cli.json("validate-draft", "-c", "cursor", "--file", str(badname), code=1)
    assert "MCP004" in {f["code"] for f in names["errors"]}

    cli.usage_error("validate-draft", "-c", "cursor", "--file", str(tmp_path / "missing.json"))
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    cli.fail(1, "validate-draft", "-c", "cursor", "--file", str(broken))


# ---- import-servers ------------------------------------------------------------------------


@pytest.mark.skipif(not REGISTRY_EXAMPLES.is_dir(), reason="MCP Registry copy not available")
def test_import_official_server_json_examples(cli: Cli) -> None:
    text = cli.out("import-servers", str(REGISTRY_EXAMPLES / "with-package.json"))
    assert "imported 1 server: local-weather" in text
    remote = cli.json("import-servers", str(REGISTRY_EXAMPLES / "with-remote.json"))["imported"]
    assert [s["id"] for s in remote] == ["remote-weather"]
    assert remote[0]["source"] == "workspace" and remote[0]["title"] == "Remote Weather"
    assert remote[0]["transports"] == ["streamable-http"]

    listed = {s["id"]: s for s in cli.json("list-servers", "--search", "weather")["servers"]}
    assert {"local-weather", "remote-weather"} <= set(listed)
    assert listed["local-weather"]["source"] == "workspace"
    assert "remote-weather" in [
        s["id"] for s in cli.json("list-servers", "--transport", "remote")["servers"]
    ]

    described = cli.json("describe-server", "local-weather", "-c", "cursor")
    assert described["name"] == "io.github.user/local-weather"
    entry = described["rendered"]["entry"]
    assert "@modelcontextprotocol/server-weather" in " ".join(entry["args"])
    assert entry["env"] == {"API_KEY": "${env:API_KEY}"}  # a secret input becomes a reference

    # imported servers go through the whole flow like bundled ones
    cli.out("add-server", "remote-weather", "-c", "cursor", "--header", "Authorization=${env:WX}")
    cli.out("add-server", "local-weather", "-c", "cursor")
    payload = cli.json("show-draft", "-c", "cursor")["payload"]["mcpServers"]
    assert payload["remote-weather"]["url"] == "https://api.example.com/mcp"  # variable default
    assert payload["remote-weather"]["headers"] == {"Authorization": "${env:WX}"}
    cli.out("validate-draft", "-c", "cursor")
    art = cli.json("publish-config", "-c", "cursor", "-m", "weather")
    assert set(art["payload"]["mcpServers"]) == {"remote-weather", "local-weather"}
    assert "register" in cli.audit_actions()


def _doc(name: str, version: str, description: str = "An imported test server.") -> dict[str, Any]:
    return {
        "$schema": SCHEMA_URL,
        "name": name,
        "description": description,
        "version": version,
        "packages": [
            {
                "registryType": "npm",
                "identifier": "@example/weather-mcp",
                "version": version,
                "transport": {"type": "stdio"},
                "runtimeHint": "npx",
            }
        ],
    }


def test_import_a_registry_api_page_and_bad_documents(cli: Cli, tmp_path: Path) -> None:
    page = {
        "servers": [
            {
                "server": _doc("io.github.example/weather-mcp", "1.0.0"),
                "_meta": {OFFICIAL: {"status": "active", "isLatest": False}},
            },
            {
                "server": _doc("io.github.example/weather-mcp", "1.1.0"),
                "_meta": {OFFICIAL: {"status": "active", "isLatest": True}},
            },
            {
                "server": _doc("io.github.example/tides", "0.3.0", "Tide tables."),
                "_meta": {OFFICIAL: {"status": "active", "isLatest": True}},
            },
        ],
        "metadata": {"count": 3, "nextCursor": None},
    }
    path = write_json(tmp_path / "page.json", page)
    imported = cli.json("import-servers", str(path))["imported"]
    assert sorted((s["id"], s["version"]) for s in imported) == [
        ("tides", "0.3.0"),
        ("weather", "1.1.0"),
    ]
    described = cli.json("describe-server", "weather")
    assert described["version"] == "1.1.0" and described["source"] == "workspace"
    # the registry's _meta travels with the document
    assert OFFICIAL in described["server_json"]["_meta"]
    assert {"weather", "tides"} <= {s["id"] for s in cli.json("list-servers")["servers"]}
    # a list of documents works as well
    listed = write_json(tmp_path / "list.json", [_doc("io.github.example/surf", "2.0.0")])
    assert "surf" in cli.out("import-servers", str(listed))

    # documents that are not valid server.json: exit 1, nothing registered
    invalid = write_json(tmp_path / "invalid.json", {"name": "no-namespace", "version": "1"})
    err = cli.fail(1, "import-servers", str(invalid))
    assert "server.json" in err
    notjson = tmp_path / "notjson.json"
    notjson.write_text("nope", encoding="utf-8")
    cli.fail(1, "import-servers", str(notjson))
    empty = write_json(tmp_path / "empty.json", {"servers": []})
    cli.fail(1, "import-servers", str(empty))
    cli.usage_error("import-servers", str(tmp_path / "missing.json"))
    assert "no-namespace" not in json.dumps(cli.json("list-servers")["servers"])


def test_import_api_page_keeps_the_version_marked_latest(cli: Cli, tmp_path: Path) -> None:
    """A registry page may list the newest version first: ``isLatest`` says which one it is."""
    page = {
        "servers": [
            {
                "server": _doc("io.github.example/weather-mcp", "2.0.0"),
                "_meta": {OFFICIAL: {"status": "active", "isLatest": True}},
            },
            {
                "server": _doc("io.github.example/weather-mcp", "1.0.0"),
                "_meta": {OFFICIAL: {"status": "active", "isLatest": False}},
            },
        ],
        "metadata": {"count": 2},
    }
    imported = cli.json("import-servers", str(write_json(tmp_path / "page.json", page)))["imported"]
    assert [(s["id"], s["version"]) for s in imported] == [("weather", "2.0.0")]
    assert cli.json("describe-server", "weather")["version"] == "2.0.0"


# ---- publish / deploy ----------------------------------------------------------------------


def test_publish_is_signed_idempotent_and_publishes_files(cli: Cli, tmp_path: Path) -> None:
    cli.out("add-server", "time", "-c", "cursor")
    art = cli.json("publish-config", "-c", "cursor", "-m", "first release")
    assert art["artifact_id"].startswith("sha256:") and len(art["artifact_id"]) == 71
    assert art["payload_digest"].startswith("sha256:")
    assert art["client"] == "cursor" and art["profile"] == "default"
    assert art["changelog"] == "first release" and art["parent"] is None
    assert art["key_id"].startswith("ed25519:") and art["signature"]
    assert art["payload"] == cli.json("show-draft", "-c", "cursor")["payload"]
    assert cli.ws.joinpath("objects").is_dir()

    text = cli.out("publish-config", "-c", "cursor", "-m", "first release")  # again: same id
    assert text.startswith(f"unchanged: {art['artifact_id']} (changelog not recorded)")
    assert "cursor/default, 1 server, signed by" in text
    # the lock it signed: time runs a PyPI package, not resolved offline (the test conftest)
    assert "lock: 0 of 1 package resolved (offline: MCP_ORCH_OFFLINE is set)" in text
    assert art["lock"]["time"]["status"] == "unresolved" and art["tools"] is None
    assert len(cli.json("config-history", "-c", "cursor")["artifacts"]) == 1

    cli.out("add-server", "fetch", "-c", "cursor")
    second = cli.json("publish-config", "-c", "cursor", "-m", "add fetch")
    assert second["artifact_id"] != art["artifact_id"]
    assert second["parent"] == art["artifact_id"]

    # a client file, published as is
    src = write_json(
        tmp_path / "team.json",
        {"mcpServers": {"clock": {"command": "uvx", "args": ["mcp-server-time"]}}},
    )
    filed = cli.json("publish-config", "-c", "cursor", "-p", "team", "--file", str(src), "-m", "f")
    assert filed["profile"] == "team"
    assert filed["payload"]["mcpServers"] == {
        "clock": {"command": "uvx", "args": ["mcp-server-time"]}
    }
    refiled = cli.json("publish-config", "-c", "cursor", "-p", "team", "--file", str(src))
    assert refiled["artifact_id"] == filed["artifact_id"]
    # the same payload for another profile is another artifact
    assert filed["artifact_id"] not in (art["artifact_id"], second["artifact_id"])

    # a failing draft or file is not published: exit 1, the report on stderr, no new artifact
    cli.out("add-server", "filesystem", "-c", "cursor", "-p", "fs")
    err = cli.fail(1, "publish-config", "-c", "cursor", "-p", "fs")
    assert "MCP002" in err
    fs = next(p for p in cli.json("list-profiles")["profiles"] if p["profile"] == "fs")
    assert fs["latest"] is None
    leaky = write_json(
        tmp_path / "leaky.json",
        {"mcpServers": {"gh": {"command": "npx", "args": ["x"], "env": {"GITHUB_TOKEN": GHP}}}},
    )
    err = cli.fail(1, "publish-config", "-c", "cursor", "-p", "leaky", "--file", str(leaky))
    assert "MCP003" in err and GHP not in err
    assert GHP not in "".join(p.read_text(errors="replace") for p in files_under(cli.ws))
    cli.usage_error("publish-config", "-c", "cursor", "--file", str(tmp_path / "missing.json"))
    assert [a for a in cli.audit_actions() if a == "publish"] == ["publish"] * 3


def test_deploy_dry_run_real_deploy_and_path(cli: Cli, tmp_path: Path) -> None:
    cli.out("add-server", "time", "-c", "cursor")
    cli.out("add-server", "deepwiki", "-c", "cursor")
    art = cli.json("publish-config", "-c", "cursor", "-m", "one")
    target = cli.client_file("cursor")
    assert target == cli.root / ".cursor" / "mcp.json"
    before = files_under(cli.ws)

    # --dry-run prints the diff and writes nothing: no client file, no backup, no record, no event
    text = cli.out("deploy-config", "-c", "cursor", "--dry-run")
    assert f"+++ {target}" in text and '+    "time": {' in text
    assert "(dry run: nothing written)" in text
    dry = cli.json("deploy-config", "-c", "cursor", "--dry-run")
    assert dry["dry_run"] is True and dry["changed"] is True
    assert dry["path"] == str(target) and dry["backup"] is None
    assert sorted(dry["managed"]) == ["deepwiki", "time"]
    assert "mcp-server-time" in dry["diff_text"]
    assert not target.exists() and not files_under(cli.root)
    assert [p for p in files_under(cli.ws) if p not in before and p.suffix != ".lock"] == []
    assert "deploy" not in cli.audit_actions()
    cli.usage_error("drift", "-c", "cursor")  # nothing deployed yet

    # the real deploy writes the client's own file under the client root
    dep = cli.json("deploy-config", "-c", "cursor")
    assert dep["dry_run"] is False and dep["changed"] is True
    assert dep["path"] == str(target) and dep["artifact_id"] == art["artifact_id"]
    assert read_json(target) == art["payload"]
    assert cli.audit_actions()[0] == "deploy"
    profile = cli.json("list-profiles")["profiles"][0]
    assert profile["deployed"] == art["artifact_id"]
    again = cli.out("deploy-config", "-c", "cursor")
    assert "already up to date" in again

    # --path writes another file, leaving the client's file alone
    other = tmp_path / "elsewhere" / "mcp.json"
    cli.out("add-server", "fetch", "-c", "cursor")
    cli.out("publish-config", "-c", "cursor")
    mtime = target.stat().st_mtime_ns
    elsewhere = cli.json("deploy-config", "-c", "cursor", "--path", str(other))
    assert elsewhere["path"] == str(other)
    assert set(read_json(other)["mcpServers"]) == {"time", "deepwiki", "fetch"}
    assert target.stat().st_mtime_ns == mtime
    assert set(read_json(target)["mcpServers"]) == {"time", "deepwiki"}

    # an explicit earlier artifact
    old = cli.json("deploy-config", "-c", "cursor", "--artifact-id", art["artifact_id"][:15])
    assert old["artifact_id"] == art["artifact_id"]
    cli.usage_error("deploy-config", "-c", "cursor", "--artifact-id", "sha256:" + "0" * 64)
    cli.usage_error("deploy-config", "-c", "cursor", "-p", "never-published")


def test_deploy_conflict_adopt_and_restore(cli: Cli, ws: mcp_orch.Workspace) -> None:
    target = cli.client_file("cursor")
    original = (
        '{\n  "theme": "dark",\n  "mcpServers": {\n'
        '    "time": {"command": "my-own-time"},\n'
        '    "mine": {"command": "keep-me"}\n  }\n}\n'
    )
    target.parent.mkdir(parents=True)
    target.write_text(original, encoding="utf-8")
    publish(ws, "cursor", "time")

    err = cli.fail(1, "deploy-config", "-c", "cursor")
    assert "time" in err and "--adopt" in err
    assert target.read_text(encoding="utf-8") == original  # nothing written
    assert cli.json("restore", "-c", "cursor", "--list")["backups"] == []

    dep = cli.json("deploy-config", "-c", "cursor", "--adopt")
    assert dep["managed"] == ["time"] and dep["backup"]
    data = read_json(target)
    assert data["theme"] == "dark"
    assert data["mcpServers"]["mine"] == {"command": "keep-me"}
    assert data["mcpServers"]["time"]["command"] != "my-own-time"
    assert Path(dep["backup"]).read_text(encoding="utf-8") == original

    backups = cli.json("restore", "-c", "cursor", "--list")["backups"]
    assert len(backups) == 1
    assert backups[0]["source"] == str(target) and backups[0]["backup"] == dep["backup"]
    assert "BACKUP" in cli.out("restore", "-c", "cursor", "--list").splitlines()[0]
    restored = cli.json("restore", "-c", "cursor")
    assert restored["source"] == str(target)
    assert target.read_text(encoding="utf-8") == original
    assert "restore" in cli.audit_actions()
    # restoring is itself undoable: the deployed file was backed up first
    listed = cli.json("restore", "-c", "cursor", "--list")["backups"]
    assert len(listed) == 2 and listed[1]["backup"] == dep["backup"]
    cli.out("restore", "-c", "cursor", "--backup", listed[0]["backup"])
    assert read_json(target) == data
    cli.out("restore", "-c", "cursor", "--backup", Path(dep["backup"]).name)
    assert target.read_text(encoding="utf-8") == original
    cli.usage_error("restore", "-c", "cursor", "-p", "other")  # no backups there
    cli.usage_error("restore", "-c", "cursor", "--backup", "../../etc/passwd")
    cli.usage_error("restore", "-c", "cursor", "--backup", "no-such-backup")

    # an unparseable client file is refused and left untouched
    target.write_text("{ this is not json", encoding="utf-8")
    cli.fail(1, "deploy-config", "-c", "cursor", "--adopt")
    assert target.read_text(encoding="utf-8") == "{ this is not json"


def test_restore_accepts_the_taken_stamp_that_list_shows(cli: Cli, ws: mcp_orch.Workspace) -> None:
    """``restore --list`` leads with TAKEN; that stamp should pick the backup."""
    publish(ws, "cursor", "time")
    cli.out("deploy-config", "-c", "cursor")
    target = cli.client_file("cursor")
    first = target.read_text(encoding="utf-8")
    publish(ws, "cursor", "fetch")
    cli.out("deploy-config", "-c", "cursor")
    listed = cli.json("restore", "-c", "cursor", "--list")["backups"]
    assert len(listed) == 1
    cli.out("restore", "-c", "cursor", "--backup", listed[0]["taken"])
    assert target.read_text(encoding="utf-8") == first


def test_secret_references_reach_only_the_client_file(cli: Cli) -> None:
    secret = "s3cr3t-Value-of-the-db-password"
    reference = {**PG_DEFAULTS, "POSTGRES_PASSWORD": "${env:PG_PW}"}
    for client in ("claude-desktop", "cursor"):
        cli.out("add-server", "postgres", "-c", client, *PG_ENV, "POSTGRES_PASSWORD=${env:PG_PW}")
    art = cli.json("publish-config", "-c", "claude-desktop", "-m", "db")
    assert art["payload"]["mcpServers"]["postgres"]["env"] == reference
    cli.out("publish-config", "-c", "cursor", "-m", "db")

    # Claude Desktop cannot expand variables: without the value nothing is written
    err = cli.usage_error("deploy-config", "-c", "claude-desktop")
    assert "PG_PW" in err
    desktop = cli.client_file("claude-desktop")
    assert not desktop.exists()
    cli.out("deploy-config", "-c", "claude-desktop", extra_env={"PG_PW": secret})
    written = {**reference, "POSTGRES_PASSWORD": secret}
    assert read_json(desktop)["mcpServers"]["postgres"]["env"] == written

    # Cursor expands ${env:NAME} itself: the file keeps the reference
    cli.out("deploy-config", "-c", "cursor", extra_env={"PG_PW": secret})
    cursor_env = read_json(cli.client_file("cursor"))["mcpServers"]["postgres"]["env"]
    assert cursor_env == reference

    # the value is nowhere in the workspace (artifacts, drafts, audit, deployment records)
    for path in files_under(cli.ws):
        if "backups" not in path.parts:
            assert secret not in path.read_text(encoding="utf-8", errors="replace"), path
    assert secret not in json.dumps(cli.json("audit-log")["events"])
    assert secret not in json.dumps(cli.json("get-config", "-c", "claude-desktop"))


def test_get_diff_drift_rollback_and_history(cli: Cli) -> None:
    cli.out("add-server", "time", "-c", "cursor")
    a1 = cli.json("publish-config", "-c", "cursor", "-m", "one")["artifact_id"]
    cli.usage_error("diff-config", "-c", "cursor", "-p", "nothing")
    missing = cli.json("diff-config", "-c", "cursor")  # no client file yet
    assert missing["status"] == "outdated" and missing["added"] == ["time"]
    cli.out("deploy-config", "-c", "cursor")
    target = cli.client_file("cursor")

    got = cli.json("get-config", "-c", "cursor")
    assert got["artifact_id"] == a1 and got["changelog"] == "one"
    assert set(got) >= {"payload", "signature", "key_id", "created", "parent", "payload_digest"}
    text = cli.out("get-config", "-c", "cursor")
    assert f"artifact {a1} (signature ok" in text

    same = cli.json("diff-config", "-c", "cursor")
    assert same["status"] == "up-to-date"
    assert same["added"] == [] and same["removed"] == [] and same["modified"] == {}
    assert cli.out("diff-config", "-c", "cursor").startswith("up-to-date")
    clean = cli.json("drift", "-c", "cursor")
    assert clean["status"] == "clean" and clean["path"] == str(target)

    cli.out("add-server", "fetch", "-c", "cursor")
    a2 = cli.json("publish-config", "-c", "cursor", "-m", "two")["artifact_id"]
    behind = cli.json("diff-config", "-c", "cursor")
    assert behind["status"] == "outdated" and behind["added"] == ["fetch"]
    assert behind["recommendation"] == "deploy the latest release of cursor/default"
    between = cli.json("diff-config", "-c", "cursor", "--from", a1, "--to", a2)
    assert between["added"] == ["fetch"] and between["status"] == "outdated"
    reverse = cli.json("diff-config", "-c", "cursor", "--from", a2, "--to", a1)
    assert reverse["removed"] == ["fetch"]
    to_old = cli.json("diff-config", "-c", "cursor", "--to", a1)  # the file against a1
    assert to_old["status"] == "up-to-date"
    cli.out("deploy-config", "-c", "cursor")

    # a hand edit: drift exits 1 and names it; diff calls the file diverged
    data = read_json(target)
    data["mcpServers"]["time"]["args"].append("--local-timezone=UTC")
    data["mcpServers"]["by-hand"] = {"command": "mine"}
    write_json(target, data)
    proc = cli.run("drift", "-c", "cursor", code=1)
    assert "drifted" in proc.stdout and "time" in proc.stdout and "by-hand" in proc.stdout
    drift = cli.json("drift", "-c", "cursor", code=1)
    assert drift["status"] == "drifted"
    assert list(drift["edited"]) == ["time"] and drift["added"] == ["by-hand"]
    assert cli.json("diff-config", "-c", "cursor")["status"] == "diverged"

    # rollback: latest goes back to the parent, a revert event is recorded
    back = cli.json("rollback", "-c", "cursor")
    assert back["artifact_id"] == a1
    assert cli.json("get-config", "-c", "cursor")["artifact_id"] == a1
    revert = cli.json("audit-log", "--action", "revert")["events"]
    assert revert and revert[0]["artifact_id"] == a1
    assert set(read_json(target)["mcpServers"]) == {"time", "fetch", "by-hand"}  # not deployed
    cli.usage_error("rollback", "-c", "cursor")  # a1 has no parent
    # rollback --deploy to a2 would replace the hand edit to time: a script must say --yes
    refused = cli.usage_error("rollback", "-c", "cursor", "--artifact-id", a2, "--deploy")
    assert "would replace hand edits to time" in refused and "--yes" in refused
    assert cli.json("get-config", "-c", "cursor")["artifact_id"] == a1  # nothing rolled back
    # with --yes: the file gets a2, the hand-made entry survives
    text = cli.out("rollback", "-c", "cursor", "--artifact-id", a2, "--deploy", "--yes")
    assert "deployed" in text and "note: replaced hand edits to time" in text
    servers = read_json(target)["mcpServers"]
    assert set(servers) == {"time", "fetch", "by-hand"}
    assert "--local-timezone=UTC" not in servers["time"]["args"]
    assert cli.run("drift", "-c", "cursor").returncode == 0

    history = cli.json("config-history", "-c", "cursor")["artifacts"]
    assert [h["artifact_id"] for h in history] == [a2, a1]
    assert history[0]["changelog"] == "two" and history[0]["parent"] == a1
    assert sorted(history[0]["servers"]) == ["fetch", "time"]
    assert [
        h["artifact_id"]
        for h in cli.json("config-history", "-c", "cursor", "--limit", "1")["artifacts"]
    ] == [a2]
    table = cli.out("config-history", "-c", "cursor")
    assert "latest" in table and "deployed" in table and a1[:19] in table
    assert cli.json("config-history", "-c", "cursor", "-p", "empty")["artifacts"] == []


def test_audit_log_filters(cli: Cli, ws: mcp_orch.Workspace) -> None:
    art_id = publish(ws, "cursor", "time", changelog="audited")
    cli.out("deploy-config", "-c", "cursor")
    publish(ws, "vscode", "time")

    events = cli.json("audit-log")["events"]
    assert [e["seq"] for e in events] == sorted((e["seq"] for e in events), reverse=True)
    first = events[0]
    assert {"seq", "time", "action", "client", "profile", "actor", "hash", "prev"} <= first.keys()
    assert {e["action"] for e in events} >= {"publish", "deploy", "key"}
    text = cli.out("audit-log")
    assert text.splitlines()[0].split()[:3] == ["SEQ", "TIME", "ACTION"]
    assert "audited" in text

    publishes = cli.json("audit-log", "--action", "publish")["events"]
    assert len(publishes) == 2 and {e["action"] for e in publishes} == {"publish"}
    mine = cli.json("audit-log", "--action", "publish", "--client", "cursor")["events"]
    assert [e["artifact_id"] for e in mine] == [art_id]
    assert mine[0]["changelog"] == "audited"
    by_artifact = cli.json("audit-log", "--artifact-id", art_id)["events"]
    assert {e["action"] for e in by_artifact} == {"publish", "deploy"}
    assert len(cli.json("audit-log", "--limit", "2")["events"]) == 2

    assert len(cli.json("audit-log", "--since", "1d")["events"]) == len(events)
    assert len(cli.json("audit-log", "--since", "12h")["events"]) == len(events)
    assert cli.json("audit-log", "--since", "2999-01-01")["events"] == []
    assert len(cli.json("audit-log", "--since", "2000-01-01")["events"]) == len(events)

    err = cli.usage_error("audit-log", "--action", "explode")
    assert "explode" in err and "publish" in err
    cli.usage_error("audit-log", "--since", "last tuesday")


def test_verify_catches_tampering(cli: Cli, ws: mcp_orch.Workspace) -> None:
    art_id = publish(ws, "cursor", "time", changelog="original")
    cli.out("keys", "rotate")
    cli.out("add-server", "fetch", "-c", "cursor")
    new = cli.json("publish-config", "-c", "cursor", "-m", "after rotation")
    old_key = cli.json("get-config", "-c", "cursor", "--artifact-id", art_id)["key_id"]
    assert new["key_id"] != old_key  # signed with the rotated key; both verify
    result = cli.json("verify")
    assert result == {
        "ok": True,
        "artifacts": 2,
        "events": result["events"],
        "problems": [],
        "repaired": [],
        "verified_before": 0,
        "notes": [],
    }
    assert result["events"] >= 4

    objects = [p for p in files_under(cli.ws / "objects") if art_id[7:] in p.name]
    assert len(objects) == 1
    stored = objects[0]
    pristine = stored.read_bytes()
    stored.write_text(pristine.decode().replace('"original"', '"edited later"'), encoding="utf-8")
    proc = cli.run("verify", code=1)
    assert proc.stdout.startswith("PROBLEMS") and art_id in proc.stdout
    bad = cli.json("verify", code=1)
    assert bad["ok"] is False and any(art_id in p for p in bad["problems"])
    err = cli.fail(1, "get-config", "-c", "cursor", "--artifact-id", art_id)
    assert "verify" in err
    target = cli.client_file("cursor")
    cli.fail(1, "deploy-config", "-c", "cursor", "--artifact-id", art_id)
    assert not target.exists()
    stored.write_bytes(pristine)
    assert cli.json("verify")["ok"] is True

    # an edited audit event breaks the chain
    log = cli.ws / "audit" / "events.jsonl"
    lines = log.read_text(encoding="utf-8").splitlines()
    first_publish = next(i for i, line in enumerate(lines) if '"publish"' in line)
    event = json.loads(lines[first_publish])
    event["changelog"] = "rewritten history"
    lines[first_publish] = json.dumps(event, separators=(",", ":"))
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    broken = cli.json("verify", code=1)
    assert broken["ok"] is False and any("audit" in p for p in broken["problems"])


def test_a_rotation_by_the_cli_reaches_a_workspace_open_in_another_process(
    cli: Cli, ws: mcp_orch.Workspace
) -> None:
    """A notebook (or ``mcp-orch serve``) keeps its Workspace open while someone runs
    ``mcp-orch keys rotate``: what it publishes next must be signed with the new current key,
    not the retired one."""
    first = publish(ws, "cursor", "time")
    rotated = cli.json("keys", "rotate")
    second = publish(ws, "cursor", "fetch")
    signed_by = cli.json("get-config", "-c", "cursor", "--artifact-id", second)["key_id"]
    assert (
        cli.json("get-config", "-c", "cursor", "--artifact-id", first)["key_id"] == rotated["old"]
    )
    assert signed_by == rotated["key_id"]


def test_keys_init_rotate_export_trust_list(cli: Cli, tmp_path: Path) -> None:
    assert cli.json("keys", "list")["keys"] == []
    created = cli.json("keys", "init")
    assert created["created"] is True and created["key_id"].startswith("ed25519:")
    kid = created["key_id"]
    assert cli.json("keys", "init") == {"key_id": kid, "created": False}
    assert "already have" in cli.out("keys", "init")
    assert cli.json("keys", "list")["keys"] == [{"key_id": kid, "status": "current"}]

    pem = cli.out("keys", "export-public")
    assert pem.startswith("-----BEGIN PUBLIC KEY-----") and "PRIVATE" not in pem
    exported = cli.json("keys", "export-public")
    assert exported["key_id"] == kid and exported["pem"].strip() == pem.strip()

    cli.out("add-server", "time", "-c", "cursor")
    cli.out("publish-config", "-c", "cursor")
    rotated = cli.json("keys", "rotate")
    assert rotated["old"] == kid and rotated["key_id"] not in (kid, None)
    statuses = {k["key_id"]: k["status"] for k in cli.json("keys", "list")["keys"]}
    assert statuses == {kid: "retired", rotated["key_id"]: "current"}
    assert cli.out("keys", "export-public", "--key-id", kid).strip() == pem.strip()
    assert cli.json("verify")["ok"] is True  # old artifacts still verify
    assert "retired" in cli.out("keys", "list")

    # a teammate's workspace trusts the exported key, from a file or stdin
    pem_file = tmp_path / "teammate.pem"
    pem_file.write_text(pem, encoding="utf-8")
    team = {"MCP_ORCH_HOME": str(tmp_path / "teammate-ws")}
    trusted = cli.json("keys", "trust", str(pem_file), extra_env=team)
    assert trusted == {"trusted": kid}
    assert cli.json("keys", "list", extra_env=team)["keys"] == [
        {"key_id": kid, "status": "trusted"}
    ]
    assert "trusted" in cli.out("keys", "trust", "-", stdin=pem, extra_env=team)
    assert "key" in cli.audit_actions()

    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key\n", encoding="utf-8")
    cli.fail(1, "keys", "trust", str(garbage))
    cli.usage_error("keys", "export-public", "--key-id", "ed25519:0000")
    assert "Usage" in cli.run("keys", "trust", str(tmp_path / "none.pem"), code=2).stderr


def test_init_configs_publishes_samples_and_deploys_nothing(cli: Cli) -> None:
    samples = cli.json("init-configs")["published"]
    assert {s["client"] for s in samples} >= {"claude-desktop", "cursor"}
    for s in samples:
        assert s["profile"] == "sample" and s["artifact_id"].startswith("sha256:")
        assert "time" in s["servers"]
    assert not files_under(cli.root)
    profiles = {(p["client"], p["profile"]): p for p in cli.json("list-profiles")["profiles"]}
    for s in samples:
        p = profiles[s["client"], "sample"]
        assert p["latest"] == s["artifact_id"] and p["deployed"] is None
        got = cli.json("get-config", "-c", s["client"], "-p", "sample")
        assert sorted(got["payload"]["mcpServers"]) == sorted(s["servers"])
    assert cli.out("verify").startswith(f"ok: {len(samples)} artifacts verified")
    assert "sample" in cli.out("list-profiles")


# ---- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["add-server", "no-such-server-anywhere", "-c", "cursor"],
        ["add-server", "time", "-c", "no-such-client"],
        ["add-server", "time", "-c", "../x"],
        ["add-server", "time", "-c", "cursor", "-p", "../x"],
        ["add-server", "time", "-c", "cursor", "-p", "/etc"],
        ["add-server", "time", "-c", "cursor", "--name", "../x"],
        ["add-server", "time", "-c", "cursor", "--param", "timezone"],
        ["add-server", "time", "-c", "cursor", "--env", "=value"],
        ["add-server", "context7", "-c", "cursor", "--header", "no-equals"],
        ["show-draft", "-c", "../../x"],
        ["config-history", "-c", "cursor", "-p", "..\\x"],
        ["get-config", "-c", "cursor", "--artifact-id", "../../objects/x"],
        ["get-config", "-c", "cursor"],
        ["list-profiles", "--bogus"],
    ],
    ids=lambda a: " ".join(a),
)
def test_bad_usage_exits_2_with_error_and_hint(cli: Cli, args: list[str], tmp_path: Path) -> None:
    if "--bogus" in args:  # click's own usage errors: exit 2, a usage line, no traceback
        proc = cli.run(*args, code=2)
        assert "Usage:" in proc.stderr and proc.stdout == ""
        return
    err = cli.usage_error(*args)
    assert "Traceback" not in err
    # nothing was written for a rejected id, inside or outside the workspace
    assert not any(p.name == "x" or p.name.startswith("x.") for p in files_under(tmp_path))


def test_errors_as_json(cli: Cli) -> None:
    proc = cli.run("add-server", "nosuchserver", "-c", "cursor", "--json", code=2)
    data = json.loads(proc.stdout)
    assert data["ok"] is False and data["error"] == "NotFound"
    assert "nosuchserver" in data["message"] and data["hint"]
    bad_id = json.loads(cli.run("show-draft", "-c", "../x", "--json", code=2).stdout)
    assert bad_id["error"] == "InvalidId"
    cli.out("add-server", "filesystem", "-c", "cursor")
    failed = json.loads(cli.run("publish-config", "-c", "cursor", "--json", code=1).stdout)
    assert failed["error"] == "InvalidConfig"
    assert [f["code"] for f in failed["report"]["errors"]] == ["MCP002"]


def test_workspace_and_client_root_options_override_the_environment(
    cli: Cli, tmp_path: Path
) -> None:
    ws, root = tmp_path / "other-ws", tmp_path / "other-root"
    opts = ["--workspace", str(ws), "--client-root", str(root)]
    cli.out("add-server", "time", "-c", "cursor", *opts)
    cli.out("publish-config", "-c", "cursor", *opts)
    dep = cli.json("deploy-config", "-c", "cursor", *opts)
    assert dep["path"] == str(root / ".cursor" / "mcp.json")
    assert (root / ".cursor" / "mcp.json").is_file()
    assert not files_under(cli.root) and not cli.ws.exists()
    assert cli.json("list-profiles")["profiles"] == []
    assert len(cli.json("list-profiles", *opts)["profiles"]) == 1
    assert os.path.isdir(ws)


# ---- files that cannot be read or written: a clean error, never an "internal error" ---------


@pytest.mark.parametrize(
    "command",
    [
        ["validate-draft", "-c", "cursor", "--file", "{file}"],
        ["publish-config", "-c", "cursor", "-p", "fromfile", "--file", "{file}"],
        ["import-servers", "{file}"],
        ["keys", "trust", "{file}"],
        ["deploy-config", "-c", "cursor", "--path", "{file}"],
        ["diff-config", "-c", "cursor", "--path", "{file}"],
    ],
    ids=lambda c: c[0],
)
def test_a_file_that_is_not_utf8_is_a_parse_error(
    cli: Cli, ws: mcp_orch.Workspace, tmp_path: Path, command: list[str]
) -> None:
    if command[0] in ("deploy-config", "diff-config"):
        publish(ws, "cursor", "time")
    path = tmp_path / "latin1.json"
    raw = '{"mcpServers": {"caf\xe9": {"command": "x"}}}'.encode("latin-1")
    path.write_bytes(raw)
    err = cli.fail(1, *[a.replace("{file}", str(path)) for a in command])
    assert "internal error" not in err, err
    assert str(path.name) in err
    assert path.read_bytes() == raw


@pytest.mark.parametrize("where", ["under-a-file", "unwritable"])
def test_deploy_to_a_path_that_cannot_be_written_is_a_clean_error(
    cli: Cli, ws: mcp_orch.Workspace, tmp_path: Path, where: str
) -> None:
    if where == "unwritable" and not Path("/proc/self").is_dir():
        pytest.skip("needs Linux /proc (a folder nobody can create files in)")
    publish(ws, "cursor", "time")
    blocker = tmp_path / "a-file"
    blocker.write_text("{}", encoding="utf-8")
    target = blocker / "mcp.json" if where == "under-a-file" else Path("/proc/mcp-orch-test.json")
    err = cli.fail(1, "deploy-config", "-c", "cursor", "--path", str(target))
    assert "internal error" not in err, err
    assert str(target) in err
    assert "deploy" not in cli.audit_actions()


@pytest.mark.parametrize(
    "content",
    ['{"mcpServers": "not an object"}'],
    ids=["servers-not-an-object"],
)
def test_publish_file_refuses_what_validate_draft_rejects(
    cli: Cli, tmp_path: Path, content: str
) -> None:
    path = tmp_path / "mcp.json"
    path.write_text(content, encoding="utf-8")
    assert cli.json("validate-draft", "-c", "cursor", "--file", str(path), code=1)["ok"] is False
    cli.fail(1, "publish-config", "-c", "cursor", "--file", str(path))
    assert cli.json("list-profiles")["profiles"] == [] or all(
        p["latest"] is None for p in cli.json("list-profiles")["profiles"]
    )


def test_an_empty_file_has_no_servers_for_validate_draft(cli: Cli, tmp_path: Path) -> None:
    # issue 12: a file with no MCP section has no servers; it is not an error (this was the
    # "empty-file" case above, rejected only because the schema required mcpServers)
    path = tmp_path / "mcp.json"
    path.write_text("", encoding="utf-8")
    assert cli.json("validate-draft", "-c", "cursor", "--file", str(path))["ok"] is True


@pytest.mark.parametrize(
    "args",
    [["config-history", "-c", "cursor"], ["audit-log"]],
    ids=lambda a: a[0],
)
def test_a_negative_limit_is_bad_usage(cli: Cli, args: list[str]) -> None:
    proc = cli.run(*args, "--limit", "-1", code=2)
    assert proc.stdout == "" and "limit" in proc.stderr.lower()


def test_publishing_a_file_with_no_servers_is_refused(cli: Cli, tmp_path: Path) -> None:
    # a release made from it would remove every server mcp-orch manages in the client's file
    path = tmp_path / "mcp.json"
    path.write_text('{"globalShortcut": "Ctrl+Space"}\n', encoding="utf-8")
    err = cli.usage_error("publish-config", "-c", "cursor", "--file", str(path))
    assert "no MCP servers" in err and "nothing was published" in err
    assert cli.json("list-profiles")["profiles"] == [] or all(
        p["latest"] is None for p in cli.json("list-profiles")["profiles"]
    )

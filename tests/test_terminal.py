"""The CLI in a terminal (issue 15): colour on a TTY only (``NO_COLOR``, ``FORCE_COLOR``),
tables sized to the width (``COLUMNS``), ``Examples:`` in every ``--help``, shell completion
of ids, servers that are not in the catalog (``add-server NAME -- COMMAND``, ``--url``),
``get-server``, a truthful no-op publish, one hint per error, and ``rollback --deploy`` asking
before it replaces hand edits.

Run as a user runs it: ``python -m mcp_orch`` in a subprocess (a pseudo-terminal where the
test is about a terminal), against the sandboxed workspace and client root of ``cli_env``.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import click
import pytest

import mcp_orch as mo
from mcp_orch.frontends.cli import cli as root_cli
from mcp_orch.frontends.render import plural, table

ANSI = re.compile(r"\x1b\[[0-9;]*m")
TERMINAL_VARS = ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "TERM", "MCP_ORCH_DEBUG")


@pytest.fixture
def env(cli_env: dict[str, str]) -> dict[str, str]:
    out = {k: v for k, v in cli_env.items() if k not in TERMINAL_VARS}
    out["PYTHONIOENCODING"] = "utf-8"
    out["MCP_ORCH_OFFLINE"] = "1"
    return out


def run(
    env: dict[str, str], *args: str, code: int | None = 0, stdin: str | None = None, **extra: str
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "mcp_orch", *args],
        env={**env, **extra},
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    if code is not None:
        assert proc.returncode == code, (args, proc.returncode, proc.stdout, proc.stderr)
    return proc


def in_terminal(
    env: dict[str, str], *args: str, answer: str | None = None, **extra: str
) -> tuple[int, str]:
    """Run in a pseudo-terminal (stdin, stdout and stderr are the terminal); ``answer`` is
    typed when the program asks. Returns the exit status and everything the terminal showed."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mcp_orch", *args],
        env={**env, "TERM": "xterm", **extra},
        stdin=follower,
        stdout=follower,
        stderr=follower,
        close_fds=True,
    )
    os.close(follower)
    shown = b""
    answered = answer is None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the program closed the terminal
                break
            if not chunk:
                break
            shown += chunk
            if not answered and b"[y/N]" in shown:
                os.write(leader, answer.encode() + b"\n")  # type: ignore[union-attr]
                answered = True
        elif proc.poll() is not None:
            break
    code = proc.wait(timeout=30)
    os.close(leader)
    text = shown.decode("utf-8", "replace").replace("\r\n", "\n")
    assert "Traceback" not in text, text
    return code, text


# ---- colour ----------------------------------------------------------------------------------


def test_colour_on_a_terminal_and_never_when_piped_or_no_color(env: dict[str, str]) -> None:
    code, shown = in_terminal(env, "remove-server", "nosuch", "--client", "cursor")
    assert code == 2
    assert "\x1b[31merror: no server 'nosuch'" in shown  # errors red
    assert "\x1b[36mhint: " in shown  # hints cyan
    code, plain = in_terminal(env, "remove-server", "nosuch", "--client", "cursor", NO_COLOR="1")
    assert code == 2 and "error: no server 'nosuch'" in plain and not ANSI.search(plain)
    piped = run(env, "remove-server", "nosuch", "--client", "cursor", code=2)
    assert not ANSI.search(piped.stderr) and piped.stderr.startswith("error: ")
    forced = run(env, "remove-server", "nosuch", "-c", "cursor", code=2, FORCE_COLOR="1")
    assert forced.stderr.startswith("\x1b[31merror: ")
    both = run(
        env, "remove-server", "nosuch", "-c", "cursor", code=2, FORCE_COLOR="1", NO_COLOR="1"
    )
    assert not ANSI.search(both.stderr)  # NO_COLOR wins
    # success green, and never a colour code in --json, even forced or on a terminal
    ok = run(env, "add-server", "time", "-c", "cursor", FORCE_COLOR="1")
    assert ok.stdout.startswith("\x1b[32madded\x1b[0m time to the draft")
    code, doc = in_terminal(env, "show-draft", "-c", "cursor", "--json")
    assert code == 0 and not ANSI.search(doc) and json.loads(doc)["servers"]
    forced_json = run(env, "show-draft", "-c", "cursor", "--json", FORCE_COLOR="1")
    assert not ANSI.search(forced_json.stdout)
    json.loads(forced_json.stdout)


def test_diffs_are_coloured_by_line(env: dict[str, str]) -> None:
    run(env, "add-server", "time", "-c", "cursor")
    run(env, "publish-config", "-c", "cursor", "-m", "one")
    code, shown = in_terminal(env, "deploy-config", "-c", "cursor", "--dry-run")
    assert code == 0
    assert "\x1b[1m--- " in shown and "\x1b[1m+++ " in shown  # file headers bold
    assert "\x1b[36m@@ " in shown  # hunks cyan
    assert re.search(r"\x1b\[32m\+\s+\"mcpServers\"", shown)  # added lines green
    piped = run(env, "deploy-config", "-c", "cursor", "--dry-run")
    assert not ANSI.search(piped.stdout) and '+  "mcpServers"' in piped.stdout
    run(env, "deploy-config", "-c", "cursor")
    target = Path(env["MCP_ORCH_CLIENT_ROOT"]) / ".cursor" / "mcp.json"
    data = json.loads(target.read_text())
    del data["mcpServers"]["time"]
    target.write_text(json.dumps(data))
    drift = run(env, "drift", "-c", "cursor", code=1, FORCE_COLOR="1")
    assert "\x1b[31m  removed  time" in drift.stdout  # a removed entry red


# ---- tables ----------------------------------------------------------------------------------


def visible(text: str) -> list[str]:
    return ANSI.sub("", text).splitlines()


def test_piped_tables_without_columns_cut_nothing(env: dict[str, str]) -> None:
    env = {k: v for k, v in env.items() if k != "COLUMNS"}
    everything = json.loads(run(env, "list-servers", "--json").stdout)["servers"]
    rows = run(env, "list-servers").stdout.splitlines()[1:-1]
    assert len(rows) == len(everything)
    assert not [r for r in rows if r.endswith("…")]  # a pipe to grep or a file keeps every cell
    for row, server in zip(rows, everything, strict=True):
        assert row.endswith(server["description"].replace("\n", " "))


@pytest.mark.parametrize("columns", [60, 120, 200])
def test_tables_fit_columns_and_never_cut_ids(env: dict[str, str], columns: int) -> None:
    servers = run(env, "list-servers", "--json").stdout
    everything = json.loads(servers)["servers"]
    text = run(env, "list-servers", COLUMNS=str(columns)).stdout
    lines = text.splitlines()
    assert lines[0].split()[:2] == ["ID", "TITLE"]  # the upper-case headers, as before
    rows = lines[1:-1]
    assert len(rows) == len(everything)  # piped: one line per row, greppable
    assert all(len(line) <= columns for line in lines), max(lines, key=len)
    for row, server in zip(rows, everything, strict=True):
        assert row.startswith(server["id"] + " ")  # the id whole
    cut = [r for r in rows if r.endswith("…")]
    full = sum(1 for r, s in zip(rows, everything, strict=True) if r.endswith(s["description"]))
    if columns == 60:
        assert len(cut) > len(rows) / 2  # descriptions cut to fit
    if columns == 200:
        assert full > len(rows) * 0.8 and len(cut) < len(rows) / 5  # nearly all whole
    # a coloured terminal draws the same table with rich: the widest column wraps instead
    drawn = run(env, "list-servers", "--limit", "5", COLUMNS=str(columns), FORCE_COLOR="1").stdout
    assert "\x1b[1mID" in drawn  # bold headers
    shown = visible(drawn)
    assert all(len(line) <= columns for line in shown)
    first = everything[0]
    words = " ".join(line for line in shown[1:] if line.strip()).split()
    assert first["id"] in words
    assert set(first["description"].split()) <= set(" ".join(shown).split())  # wrapped, whole


def test_table_shrinks_the_widest_column_first() -> None:
    rows = [("an-id-that-is-long", "Title", "x" * 80), ("b", "Another title", "short")]
    text = table(["id", "title", "description"], rows, width=60, colour=False)
    lines = text.splitlines()
    assert all(len(line) <= 60 for line in lines)
    assert lines[1].startswith("an-id-that-is-long  Title ")  # id and title whole
    assert lines[1].endswith("…") and "Another title" in lines[2]
    wide = table(["id", "title", "description"], rows, width=200, colour=False)
    assert "x" * 80 in wide and "…" not in wide
    narrow = table(
        ["id", "description"], [("an-id-that-is-long", "y" * 50)], width=10, colour=False
    )
    assert narrow.splitlines()[1].startswith("an-id-that-is-long")  # never cut, even too narrow
    assert table(["id"], [], colour=False).splitlines() == ["ID", "(none)"]


def test_plurals_are_right() -> None:
    assert plural(1, "server") == "1 server" and plural(2, "server") == "2 servers"
    assert plural(0, "entry", "entries") == "0 entries"


def test_piped_list_servers_does_not_import_rich(env: dict[str, str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "mcp_orch", "list-servers", "--limit", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines()}
    assert "mcp_orch.frontends.cli" in imported
    assert not {m for m in imported if m == "rich" or m.startswith("rich.")}


# ---- help ------------------------------------------------------------------------------------


def walk(group: click.Group, ctx: click.Context, path: list[str]) -> list[tuple[list[str], Any]]:
    out: list[tuple[list[str], Any]] = []
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        assert cmd is not None, name
        sub = click.Context(cmd, info_name=name, parent=ctx)
        out.append(([*path, name], (cmd, sub)))
        if isinstance(cmd, click.Group):
            out += walk(cmd, sub, [*path, name])
    return out


def test_every_help_has_examples_naming_its_command() -> None:
    top = click.Context(root_cli, info_name="mcp-orch")
    commands = [([], (root_cli, top)), *walk(root_cli, top, [])]
    assert len(commands) > 40
    for path, (cmd, ctx) in commands:
        text = cmd.get_help(ctx)
        assert "Examples:" in text, " ".join(path)
        first = text.split("Examples:", 1)[1].strip().splitlines()[0].strip()
        assert first.startswith(" ".join(["mcp-orch", *path])), (path, first)


# ---- completion ------------------------------------------------------------------------------


def complete(env: dict[str, str], words: str) -> list[str]:
    """What bash completion offers for the command line ``words`` (the last word is the one
    being completed), through click's real completion entry point."""
    parts = words.split(" ")
    proc = subprocess.run(
        [sys.executable, "-m", "mcp_orch"],
        env={
            **env,
            "_MCP_ORCH_COMPLETE": "bash_complete",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(parts) - 1),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    return [line.split(",", 1)[1] for line in proc.stdout.splitlines() if "," in line]


def test_shell_completion_of_ids(env: dict[str, str]) -> None:
    ws = Path(env["MCP_ORCH_HOME"])
    assert complete(env, "mcp-orch show-draft --client cu") == ["cursor"]  # before any ws
    assert not ws.exists()  # completing never creates the workspace
    assert "claude-desktop" in complete(env, "mcp-orch show-draft -c ")
    run(env, "add-server", "time", "-c", "cursor")
    run(env, "add-server", "fetch", "-c", "cursor", "-p", "work")
    run(env, "add-server", "memory", "-c", "vscode", "-p", "team")
    assert complete(env, "mcp-orch show-draft -c cursor -p ") == ["default", "work"]
    assert complete(env, "mcp-orch show-draft -c vscode --profile t") == ["team"]
    assert complete(env, "mcp-orch remove-server -c cursor ") == ["time"]
    assert complete(env, "mcp-orch get-server -c cursor -p work ") == ["fetch"]
    assert set(complete(env, "mcp-orch get-server ")) == {"time", "fetch", "memory"}
    catalog = complete(env, "mcp-orch add-server git")
    assert {"git", "github"} <= set(catalog) and all(c.startswith("git") for c in catalog)
    assert "time" in complete(env, "mcp-orch describe-server ti")
    other = {**env, "MCP_ORCH_HOME": str(ws.parent / "elsewhere")}
    assert complete(other, "mcp-orch remove-server -c cursor ") == []  # no such workspace
    script = subprocess.run(
        [sys.executable, "-m", "mcp_orch"],
        env={**env, "_MCP_ORCH_COMPLETE": "bash_source"},
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    assert "_MCP_ORCH_COMPLETE=bash_complete" in script and "complete -o" in script


# ---- servers that are not in the catalog; get-server ------------------------------------


def test_add_a_server_by_its_command_or_url(env: dict[str, str]) -> None:
    out = run(
        env,
        "add-server",
        "my-tool",
        "-c",
        "cursor",
        "--env",
        "API_KEY=${env:MY_KEY}",
        "--",
        "node",
        "./server.js",
        "--port",
        "3000",
        "-y",
    ).stdout
    assert out.startswith("added my-tool to the draft of cursor/default (1 server: my-tool)")
    got = json.loads(run(env, "get-server", "my-tool", "-c", "cursor", "--json").stdout)
    assert got["entry"] == {
        "command": "node",
        "args": ["./server.js", "--port", "3000", "-y"],
        "env": {"API_KEY": "${env:MY_KEY}"},
    }
    assert got["record"]["origin"] == "custom" and "catalog_id" not in got["record"]
    assert got["payload"] == {"mcpServers": {"my-tool": got["entry"]}}
    # a remote server: native where the client runs remotes, bridged where it cannot
    run(
        env,
        "add-server",
        "docs",
        "-c",
        "cursor",
        "--url",
        "https://mcp.example.com/mcp",
        "--header",
        "Authorization=Bearer ${env:DOCS_TOKEN}",
    )
    docs = json.loads(run(env, "get-server", "docs", "-c", "cursor", "--json").stdout)["entry"]
    assert docs["url"] == "https://mcp.example.com/mcp"
    assert docs["headers"] == {"Authorization": "Bearer ${env:DOCS_TOKEN}"}
    run(
        env,
        "add-server",
        "docs",
        "-c",
        "claude-desktop",
        "--url",
        "https://mcp.example.com/sse",
        "--transport",
        "sse",
    )
    bridged = json.loads(run(env, "get-server", "docs", "-c", "claude-desktop", "--json").stdout)
    assert "mcp-remote" in " ".join(bridged["entry"]["args"])
    # the draft validates and publishes like any other
    run(env, "validate-draft", "-c", "cursor", code=None)
    published = json.loads(run(env, "publish-config", "-c", "cursor", "-m", "own", "--json").stdout)
    assert set(published["payload"]["mcpServers"]) == {"my-tool", "docs"}


def test_a_server_by_command_keeps_the_librarys_rules(env: dict[str, str]) -> None:
    draft_file = Path(env["MCP_ORCH_HOME"]) / "drafts" / "cursor" / "default.json"
    both = run(
        env,
        "add-server",
        "x",
        "-c",
        "cursor",
        "--url",
        "https://a.example/mcp",
        "--",
        "node",
        "x",
        code=2,
    )
    assert "not both" in both.stderr and "(-- COMMAND, --url)" in both.stderr
    run(env, "add-server", "x", "-c", "cursor", "--url", "ftp://a.example", code=2)
    run(
        env,
        "add-server",
        "x",
        "-c",
        "cursor",
        "--url",
        "https://a.example",
        "--transport",
        "stdio",
        code=2,
    )
    run(env, "add-server", "x", "-c", "cursor", "--param", "a=b", "--", "node", code=2)
    run(env, "add-server", "bad name", "-c", "cursor", "--", "node", code=2)
    secret = run(
        env,
        "add-server",
        "x",
        "-c",
        "cursor",
        "--env",
        "TOKEN=ghp_" + "A1b2C3d4E5f6G7h8I9j0" * 2,
        "--",
        "node",
        "x.js",
        code=1,
    )
    assert "MCP003" in secret.stderr and "nothing was written" in secret.stderr
    assert not draft_file.exists()  # nothing was written by any of them


def test_add_custom_from_python(tmp_path: Path) -> None:
    ws = mo.Workspace(tmp_path / "ws")
    draft = ws.profile("vscode").draft.add_custom("local", command="uvx", args=["my-server"])
    draft.add_custom("remote", url="https://mcp.example.com/mcp")
    assert draft.servers["local"]["command"] == "uvx"
    assert draft.servers["remote"]["url"] == "https://mcp.example.com/mcp"
    with pytest.raises(mo.UsageError):
        draft.add_custom("neither")
    with pytest.raises(mo.AlreadyExists):
        draft.add_custom("local", command="npx", args=["other"])


def test_get_server_text_and_missing_name(env: dict[str, str]) -> None:
    run(env, "add-server", "time", "-c", "cursor")
    text = run(env, "get-server", "time", "-c", "cursor").stdout
    assert text.startswith("time in the draft of cursor/default\n  catalog:   time v")
    assert '"mcpServers": {' in text and "mcp-server-time@" in text
    missing = run(env, "get-server", "nosuch", "-c", "cursor", code=2)
    assert missing.stderr.splitlines() == [
        "error: no server 'nosuch' in the draft of cursor/default",
        "hint: servers in the draft: time",
    ]


# ---- publish, hints, rollback ---------------------------------------------------------------


def test_a_no_op_publish_says_unchanged(env: dict[str, str]) -> None:
    run(env, "add-server", "time", "-c", "cursor")
    first = json.loads(run(env, "publish-config", "-c", "cursor", "-m", "one", "--json").stdout)
    assert first["unchanged"] is False and first["status"] == "published"
    again = run(env, "publish-config", "-c", "cursor", "-m", "two").stdout
    assert again.startswith(f"unchanged: {first['artifact_id']} (changelog not recorded)\n")
    assert "changelog of that release: one" in again
    doc = json.loads(run(env, "publish-config", "-c", "cursor", "-m", "three", "--json").stdout)
    assert doc["unchanged"] is True and doc["changelog"] == "one"
    assert doc["changelog_recorded"] is False and doc["changelog_given"] == "three"
    quiet = run(env, "publish-config", "-c", "cursor").stdout
    assert quiet.startswith(f"unchanged: {first['artifact_id']} (same content as latest)")
    history = json.loads(run(env, "config-history", "-c", "cursor", "--json").stdout)
    assert [a["changelog"] for a in history["artifacts"]] == ["one"]


def test_one_hint_per_error(env: dict[str, str], tmp_path: Path) -> None:
    """The error's hint is its report's first finding's: printed once, last."""
    failures = [
        (
            "add-server",
            "github",
            "-c",
            "cursor",
            "--env",
            "GITHUB_PERSONAL_ACCESS_TOKEN=ghp_" + "A1b2C3d4E5f6G7h8I9j0" * 2,
        ),
        ("add-server", "redis", "-c", "cursor", "--param", "url=redis://u:hunter2pass@db:6379"),
    ]
    for args in failures:
        proc = run(env, *args, code=1)
        hints = [line for line in proc.stderr.splitlines() if "hint:" in line]
        assert len(hints) == 1 and proc.stderr.splitlines()[-1] == hints[0], proc.stderr
    run(env, "add-server", "filesystem", "-c", "cursor")  # its folder is not filled in
    for args in [
        ("publish-config", "-c", "cursor"),
        (
            "publish-config",
            "-c",
            "cursor",
            "--file",
            str(Path(env["MCP_ORCH_HOME"]) / "drafts" / "cursor" / "default.json"),
        ),
    ]:
        proc = run(env, *args, code=None)
        assert proc.returncode in (1, 2), proc.stderr
        lines = proc.stderr.splitlines()
        hint = lines[-1]
        assert hint.startswith("hint: ")
        assert sum(1 for line in lines if line.strip() == hint) == 1, proc.stderr


def test_rollback_deploy_asks_before_replacing_hand_edits(env: dict[str, str]) -> None:
    run(env, "add-server", "time", "-c", "cursor")
    a1 = json.loads(run(env, "publish-config", "-c", "cursor", "-m", "one", "--json").stdout)
    run(env, "add-server", "fetch", "-c", "cursor")
    run(env, "publish-config", "-c", "cursor", "-m", "two")
    run(env, "deploy-config", "-c", "cursor")
    target = Path(env["MCP_ORCH_CLIENT_ROOT"]) / ".cursor" / "mcp.json"
    data = json.loads(target.read_text())
    data["mcpServers"]["time"]["args"].append("--local-timezone=UTC")
    target.write_text(json.dumps(data, indent=2) + "\n")
    edited = target.read_text()

    def latest() -> str:
        return json.loads(run(env, "get-config", "-c", "cursor", "--json").stdout)["changelog"]

    # no terminal, no --yes: refused, nothing rolled back, nothing written
    refused = run(env, "rollback", "-c", "cursor", "--deploy", code=2)
    assert "would replace hand edits to time" in refused.stderr
    assert refused.stderr.splitlines()[-1].startswith("hint: run again with --yes")
    assert target.read_text() == edited and latest() == "two"
    # on a terminal: the coloured diff, then the question; "n" changes nothing
    code, shown = in_terminal(env, "rollback", "-c", "cursor", "--deploy", answer="n")
    assert code == 1 and "Deploy and replace them? [y/N]" in shown
    assert "\x1b[31m-" in shown and "--local-timezone=UTC" in shown
    assert "nothing was changed" in shown
    assert target.read_text() == edited and latest() == "two"
    # "y" rolls back and deploys, with the note deploy-config prints
    code, shown = in_terminal(env, "rollback", "-c", "cursor", "--deploy", answer="y")
    assert code == 0, shown
    assert "note: replaced hand edits to time" in ANSI.sub("", shown)
    assert latest() == "one" and "--local-timezone=UTC" not in target.read_text()
    assert set(json.loads(target.read_text())["mcpServers"]) == {"time"}
    # --yes in a script: no question
    data = json.loads(target.read_text())
    data["mcpServers"]["time"]["args"].append("--again")
    target.write_text(json.dumps(data))
    run(env, "publish-config", "-c", "cursor", "-m", "three", "--file", str(target))
    done = run(
        env, "rollback", "-c", "cursor", "--artifact-id", a1["artifact_id"], "--deploy", "--yes"
    )
    assert "note: replaced hand edits to time" in done.stdout
    assert "--again" not in target.read_text()

"""The live probe (mcp_orch/probe.py): real servers from PyPI (mcp-server-time, mcp-server-git),
a tiny hand-written stdio server, deliberately broken servers (exits at once, hangs with a child
process, prints garbage on stdout), and loopback streamable-HTTP / SSE servers the tests start.

Every probe checks what a user sees: the report, its frame, the error and hint of a failure, and
that no process of a probed server is left running afterwards. No network beyond 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import mcp_orch as mo
from mcp_orch.facade.serversets import aprobe, probe
from mcp_orch.services.probe import ProbeReport, launch_for

PY = sys.executable
BIN = Path(sys.executable).parent

# A minimal MCP server over stdio, JSON-RPC by hand (no SDK import): starts in milliseconds.
# TINY_TOOLS names its tools, TINY_LOG gets "start NAME PID" / "end NAME" lines, TINY_ECHO_ENV
# names a variable whose value it reports in its server name (to see what env it was given).
TINY = (Path(__file__).parent / "servers" / "tiny_stdio.py").read_text()

EXITS = r"""
import sys
print("fatal: no config file at /etc/nowhere.toml", file=sys.stderr)
sys.exit(3)
"""

# Hangs without ever answering, and has a child process: both must be gone after the probe.
HANGS = r"""
import os, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
with open(sys.argv[1], "w") as fh:
    fh.write(f"{os.getpid()} {child.pid}")
time.sleep(600)
"""

GARBAGE = r"""
import sys
print("Server v1.0 listening (this banner belongs on stderr)", flush=True)
for line in sys.stdin:
    print("??? " + line[:10], flush=True)
"""

# Prints its secret to stderr and exits: the report must show it masked only.
LEAKS = r"""
import os, sys
print("auth failed for token " + os.environ["API_TOKEN"], file=sys.stderr)
sys.exit(1)
"""


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie, exited but not yet reaped, counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rfind(")") + 2] not in "ZX"


def wait_gone(pids: list[int], seconds: float = 5.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        left = [p for p in pids if alive(p)]
        if not left:
            return []
        time.sleep(0.05)
    return [p for p in pids if alive(p)]


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    script = tmp_path / "tiny_server.py"
    script.write_text(TINY)
    return script


def cursor_payload(servers: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {"mcpServers": servers}


# ---- real servers ----------------------------------------------------------------------------


def test_real_servers_from_pypi_answer_with_their_tools() -> None:
    git_script = BIN / "mcp-server-git"  # the console script pip installed, as a client runs it
    git = (
        {"command": str(git_script), "args": []}
        if git_script.exists()
        else {"command": PY, "args": ["-m", "mcp_server_git"]}
    )
    payload = cursor_payload(
        {"time": {"command": PY, "args": ["-m", "mcp_server_time"]}, "git": git}
    )
    report = probe(payload, client="cursor", jobs=2, timeout=90)

    assert report.ok, str(report)
    t, g = report["time"], report["git"]
    assert {"get_current_time", "convert_time"} <= set(t.tools)
    assert t.server_name == "mcp-time" and t.server_version
    assert t.protocol_version
    assert "git_status" in g.tools and "git_log" in g.tools
    for r in report:
        assert r.startup_ms is not None and r.startup_ms > 0
        assert r.first_response_ms is not None
        assert r.latency_ms == pytest.approx(r.startup_ms + r.first_response_ms)
        assert r.exit_code is not None  # stopped, and reaped

    frame = report.frame()
    assert frame.columns[:9] == [
        "server",
        "ok",
        "protocol_version",
        "server_name",
        "server_version",
        "tool_count",
        "tool_names",
        "latency_ms",
        "error",
    ]
    row = frame.filter(frame["server"] == "time").row(0, named=True)
    assert row["ok"] and row["tool_count"] == len(t.tools) and row["error"] is None
    assert "get_current_time" in row["tool_names"]
    json.dumps(report.to_dict())  # the CLI's --json form


# ---- entry points: draft, artifact, file -----------------------------------------------------


def test_probe_a_draft_an_artifact_and_a_config_file(ws: mo.Workspace, tiny: Path) -> None:
    profile = ws.profile("claude-desktop")
    draft = profile.draft.add_entry("tiny", {"command": PY, "args": [str(tiny), "from_draft"]})
    from_draft = probe(draft)
    assert from_draft.ok and "from_draft" in from_draft["tiny"].tools
    assert from_draft.client == "claude-desktop" and "claude-desktop/default" in from_draft.target

    artifact = draft.publish(changelog="tiny")
    from_artifact = probe(artifact)
    assert from_artifact.ok and from_artifact.target.startswith("artifact ")
    assert probe(f"artifact:{artifact.artifact_id[7:19]}", workspace=ws).ok
    assert probe("draft:claude-desktop/default", workspace=ws)["tiny"].ok

    file = ws.client_root / "claude_desktop_config.json"
    artifact.deploy(path=file)
    from_file = probe(file)  # client detected from the file name
    assert from_file.client == "claude-desktop"
    assert from_file["tiny"].tools == ["echo", "from_draft"]


def test_env_and_args_reach_the_server_exactly_and_refs_are_resolved(
    tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TINY_TOKEN", "resolved-value-123")
    monkeypatch.setenv("OUTSIDE_ONLY", "should-not-leak")
    payload = cursor_payload(
        {
            "refs": {
                "command": PY,
                "args": [str(tiny), "arg_tool"],
                "env": {"TINY_ECHO_ENV": "TOKEN", "TOKEN": "${env:TINY_TOKEN}"},
            },
            "minimal": {
                "command": PY,
                "args": [str(tiny)],
                "env": {"TINY_ECHO_ENV": "OUTSIDE_ONLY"},
            },
        }
    )
    report = probe(payload, client="cursor", timeout=30)
    assert report["refs"].server_name == "tiny:resolved-value-123"  # the reference was resolved
    assert "arg_tool" in report["refs"].tools
    # Like the SDK's reference clients: only a short default list of variables is inherited.
    assert report["minimal"].server_name == "tiny:<unset>"
    assert probe(payload, client="cursor", inherit_env=True)["minimal"].server_name == (
        "tiny:should-not-leak"
    )


def test_client_placeholders_are_read_as_references(
    tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TINY_TOKEN", "from-claude-code-syntax")
    payload = {
        "mcpServers": {
            "t": {
                "type": "stdio",
                "command": PY,
                "args": [str(tiny)],
                "env": {"TINY_ECHO_ENV": "T", "T": "${TINY_TOKEN}"},
            }
        }
    }
    assert probe(payload, client="claude-code")["t"].server_name == "tiny:from-claude-code-syntax"


def test_a_missing_reference_fails_without_starting_the_server(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    log = tmp_path / "log"
    payload = cursor_payload(
        {
            "t": {
                "command": PY,
                "args": [str(tiny)],
                "env": {"KEY": "${env:NOT_SET_ANYWHERE}", "TINY_LOG": str(log)},
            }
        }
    )
    r = probe(payload, client="cursor")["t"]
    assert not r.ok
    assert "NOT_SET_ANYWHERE is not set" in (r.error or "")
    assert "export NOT_SET_ANYWHERE" in (r.hint or "")
    assert not log.exists()  # never started


def test_a_missing_command_is_reported_with_an_install_hint() -> None:
    payload = cursor_payload({"gone": {"command": "no-such-command-mcp-orch-test", "args": []}})
    r = probe(payload, client="cursor")["gone"]
    assert not r.ok and "not found" in (r.error or "")
    assert "no-such-command-mcp-orch-test" in (r.hint or "")


# ---- broken servers ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> tuple[ProbeReport, Path]:
    """One concurrent probe of three broken servers and a good one (2 s timeout)."""
    folder = tmp_path_factory.mktemp("broken")
    for name, text in {"exits": EXITS, "hangs": HANGS, "garbage": GARBAGE, "tiny": TINY}.items():
        (folder / f"{name}.py").write_text(text)
    pids = folder / "hang.pids"
    payload = cursor_payload(
        {
            "exits": {"command": PY, "args": [str(folder / "exits.py")]},
            "hangs": {"command": PY, "args": [str(folder / "hangs.py"), str(pids)]},
            "garbage": {"command": PY, "args": [str(folder / "garbage.py")]},
            "good": {
                "command": PY,
                "args": [str(folder / "tiny.py")],
                "env": {"TINY_LOG": str(folder / "good.log")},
            },
        }
    )
    return probe(payload, client="cursor", jobs=4, timeout=2), folder


def test_a_server_that_exits_at_once_shows_its_exit_code_and_stderr(
    broken: tuple[ProbeReport, Path],
) -> None:
    report, _ = broken
    r = report["exits"]
    assert not r.ok and r.exit_code == 3
    assert "exited during start-up (exit code 3)" in (r.error or "")
    assert "no config file at /etc/nowhere.toml" in (r.error or "")  # the stderr's last line
    assert "fatal: no config file" in r.stderr
    assert r.hint


def test_a_hanging_server_times_out_and_its_whole_process_group_is_killed(
    broken: tuple[ProbeReport, Path],
) -> None:
    report, folder = broken
    r = report["hangs"]
    assert not r.ok
    assert "no answer to the handshake within 2s" in (r.error or "")
    assert "--timeout" in (r.hint or "")
    leader, child = (int(x) for x in (folder / "hang.pids").read_text().split())
    assert wait_gone([leader, child]) == [], "the hanging server or its child is still running"


def test_garbage_on_stdout_is_named_in_the_error(broken: tuple[ProbeReport, Path]) -> None:
    report, _ = broken
    r = report["garbage"]
    assert not r.ok
    assert "non-JSON-RPC output on stdout" in (r.error or "")
    assert "Server v1.0 listening" in (r.error or "")
    assert "stderr" in (r.hint or "")


def test_broken_servers_do_not_spoil_the_good_one_and_nothing_is_left(
    broken: tuple[ProbeReport, Path],
) -> None:
    report, folder = broken
    assert not report.ok and [r.server for r in report.failed] == ["exits", "hangs", "garbage"]
    assert report["good"].ok and report["good"].tools == ["echo"]
    assert [r.server for r in report] == ["exits", "hangs", "garbage", "good"]  # config order
    log = (folder / "good.log").read_text().split()
    assert log[0] == "start" and "end" in log  # it saw its stdin close and exited cleanly
    assert wait_gone([int(log[2])]) == []
    assert "FAILED" in str(report) and "hint:" in str(report)
    frame = report.frame()
    assert frame["ok"].to_list() == [False, False, False, True]
    assert all(frame["error"].to_list()[:3])


def test_secret_values_never_appear_in_a_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "zq8Kx2vLm9PwR4tY7uN3"
    monkeypatch.setenv("MY_API_TOKEN", secret)
    script = tmp_path / "leaks.py"
    script.write_text(LEAKS)
    payload = cursor_payload(
        {
            "leaky": {
                "command": PY,
                "args": [str(script), "--token", "ghp_" + "x" * 36],
                "env": {"API_TOKEN": "${env:MY_API_TOKEN}"},
            }
        }
    )
    report = probe(payload, client="cursor")
    r = report["leaky"]
    assert not r.ok and "auth failed for token" in r.stderr
    everything = json.dumps(report.to_dict()) + str(report) + report._repr_html_()
    assert secret not in everything
    assert "ghp_" + "x" * 36 not in everything  # a token in the args is masked in `target`
    assert "zq8K…(20 chars)" in r.stderr


# ---- remote servers on loopback ----------------------------------------------------------------


class _RequireBearer:
    """ASGI middleware: 401 unless ``Authorization: Bearer <token>``."""

    def __init__(self, app: Any, token: str) -> None:
        self.app, self.token = app, token

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = dict(scope.get("headers") or [])
            if headers.get(b"authorization") != f"Bearer {self.token}".encode():
                await send({"type": "http.response.start", "status": 401, "headers": []})
                await send({"type": "http.response.body", "body": b"unauthorized"})
                return
        await self.app(scope, receive, send)


def _serve(app: Any) -> Iterator[int]:
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "the loopback server did not start"
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(10)


def _mcp_server() -> Any:
    from mcp.server.mcpserver import MCPServer

    srv = MCPServer("loopback", version="1.2.3")

    @srv.tool()
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    @srv.prompt()
    def greet() -> str:
        """Say hello."""
        return "hello"

    return srv


@pytest.fixture(scope="module")
def http_port() -> Iterator[int]:
    yield from _serve(_RequireBearer(_mcp_server().streamable_http_app(), "loop-token-1234"))


@pytest.fixture(scope="module")
def sse_port() -> Iterator[int]:
    yield from _serve(_RequireBearer(_mcp_server().sse_app(), "loop-token-1234"))


def test_streamable_http_server_with_headers_from_references(
    http_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOOP_TOKEN", "loop-token-1234")
    url = f"http://127.0.0.1:{http_port}/mcp"
    payload = cursor_payload(
        {"loop": {"url": url, "headers": {"Authorization": "Bearer ${env:LOOP_TOKEN}"}}}
    )
    r = probe(payload, client="cursor", timeout=30)["loop"]
    assert r.ok, r.error
    assert r.transport == "streamable-http"
    assert (r.server_name, r.server_version) == ("loopback", "1.2.3")
    assert r.tools == ["add"] and r.prompts == ["greet"]
    assert r.target == f"{url} (streamable-http)"


def test_remote_server_rejecting_the_credentials_says_so(
    http_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOOP_TOKEN", "a-wrong-token-value")
    payload = cursor_payload(
        {
            "loop": {
                "url": f"http://127.0.0.1:{http_port}/mcp",
                "headers": {"Authorization": "Bearer ${env:LOOP_TOKEN}"},
            }
        }
    )
    r = probe(payload, client="cursor", timeout=30)["loop"]
    assert not r.ok and "HTTP 401" in (r.error or "")
    assert "Authorization" in (r.hint or "")
    assert "a-wrong-token-value" not in json.dumps(r.to_dict())


def test_sse_server(sse_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOOP_TOKEN", "loop-token-1234")
    payload = {
        "mcpServers": {
            "old": {
                "type": "sse",
                "url": f"http://127.0.0.1:{sse_port}/sse",
                "headers": {"Authorization": "Bearer ${LOOP_TOKEN}"},
            }
        }
    }
    r = probe(payload, client="claude-code", timeout=30)["old"]
    assert r.ok, r.error
    assert r.transport == "sse" and r.tools == ["add"]


def test_nothing_listening_is_a_connection_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    r = probe(cursor_payload({"x": {"url": f"http://127.0.0.1:{port}/mcp"}}), client="cursor")["x"]
    assert not r.ok and "cannot connect" in (r.error or "")


# ---- concurrency, API details ------------------------------------------------------------------


def test_jobs_bounds_how_many_servers_run_at_once(tiny: Path, tmp_path: Path) -> None:
    log = tmp_path / "log"
    env = {"TINY_LOG": str(log)}
    payload = cursor_payload(
        {
            f"s{i}": {"command": PY, "args": [str(tiny)], "env": {**env, "TINY_NAME": f"s{i}"}}
            for i in range(4)
        }
    )
    report = probe(payload, client="cursor", jobs=1)
    assert report.ok
    events = [line.split()[0] for line in log.read_text().splitlines()]
    assert events == ["start", "end"] * 4  # one at a time: each ends before the next starts


def test_server_selection_and_bad_arguments(tiny: Path) -> None:
    payload = cursor_payload(
        {"a": {"command": PY, "args": [str(tiny)]}, "b": {"command": PY, "args": [str(tiny)]}}
    )
    report = probe(payload, client="cursor", servers=["b"])
    assert [r.server for r in report] == ["b"]
    with pytest.raises(mo.NotFound, match="no server 'c'"):
        probe(payload, client="cursor", servers=["c"])
    with pytest.raises(mo.NotFound):
        report["a"]
    with pytest.raises(mo.UsageError, match="jobs"):
        probe(payload, client="cursor", jobs=0)
    with pytest.raises(mo.UsageError, match="client"):
        probe(payload)  # a bare payload needs its client


def test_probe_works_inside_a_running_event_loop(tiny: Path) -> None:
    payload = cursor_payload({"t": {"command": PY, "args": [str(tiny)]}})

    async def notebook_cell() -> tuple[bool, bool]:
        sync = probe(payload, client="cursor")  # a loop runs here, as in Jupyter
        asynchronous = await aprobe(payload, client="cursor")
        return sync.ok, asynchronous.ok

    assert asyncio.run(notebook_cell()) == (True, True)


def test_progress_bar_on_stderr_only_when_asked_or_on_a_terminal(
    tiny: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    payload = cursor_payload(
        {"a": {"command": PY, "args": [str(tiny)]}, "b": {"command": PY, "args": [str(tiny)]}}
    )
    probe(payload, client="cursor")  # stderr is not a terminal here: no bar
    assert "probing" not in capsys.readouterr().err
    probe(payload, client="cursor", progress=True)
    err = capsys.readouterr().err
    assert "probing [" in err and "2/2" in err


def test_html_view_escapes_names_and_never_raises(tiny: Path) -> None:
    payload = cursor_payload({"<b>x</b>": {"command": PY, "args": [str(tiny)]}})
    report = probe(payload, client="cursor")
    html = report._repr_html_()
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
    assert "1 of 1" in html


def test_launch_shows_the_command_line_with_secrets_masked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GH", "ghp_" + "a" * 36)
    launch = launch_for("cursor", "gh", {"command": "npx", "args": ["serve", "${env:GH}"]})
    assert launch.args == ["serve", "ghp_" + "a" * 36]  # what the server gets
    assert launch.display() == "npx serve ghp_…(40 chars)"  # what a report shows


def test_notebook_progress_bar_is_an_ipywidget(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("ipywidgets")
    import IPython.display

    from mcp_orch.services.probe import ServerProbe
    from mcp_orch.services.probe import progress as probe_module

    shown: list[Any] = []
    monkeypatch.setattr(probe_module, "_in_notebook", lambda: True)
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **kw: shown.extend(objs))
    bar: Any = probe_module.progress_bar(3, "draft cursor/default", None)
    assert shown, "the widget was not displayed"
    bar.advance(ServerProbe("a", "stdio", "a", ok=True))
    bar.advance(ServerProbe("b", "stdio", "b", ok=False))
    bar.close()
    assert (bar.bar.value, bar.bar.max) == (2, 3)
    assert bar.bar.bar_style == "danger" and "1 failed" in bar.caption.value


def test_servers_the_client_disabled_are_not_started(tiny: Path, tmp_path: Path) -> None:
    log = tmp_path / "starts.log"
    payload = {
        "mcpServers": {
            "on": {"command": PY, "args": [str(tiny)], "env": {"TINY_LOG": str(log)}},
            "off": {
                "command": PY,
                "args": [str(tiny)],
                "env": {"TINY_LOG": str(log), "TINY_NAME": "off"},
                "disabled": True,
            },
        }
    }
    report = probe(payload, client="cline")
    assert [r.server for r in report] == ["on"]
    assert report.skipped == ["off"]
    assert "1 disabled" in report.summary()
    assert "start off" not in log.read_text()
    # asked for by name, a disabled server is probed anyway
    assert probe(payload, client="cline", servers=["off"])["off"].ok

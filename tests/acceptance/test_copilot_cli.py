"""GitHub Copilot CLI reads what mcp-orch deployed (issue 12 item 1).

Copilot CLI's own commands (@github/copilot), offline, HOME in the sandbox:

- ``copilot mcp list --json``: every configured server as Copilot parsed it, with its
  ``source`` (``user``: ~/.copilot/mcp-config.json, or $COPILOT_HOME/mcp-config.json;
  ``workspace``: the project's .mcp.json or .github/mcp.json, read only in a trusted folder);
  values as written (``${VAR}`` is expanded when a server is started);
- ``copilot -p`` with ``COPILOT_OFFLINE=true`` and a bring-your-own-model endpoint
  (``COPILOT_PROVIDER_BASE_URL``) that is a stub OpenAI-compatible server on loopback: Copilot
  starts every MCP server, connects, and offers their tools to the model as
  ``<server>-<tool>``; a server's tools in that request mean Copilot connected to it.

The loopback proxy in front of server-everything answers 401 without the expanded bearer token,
so tools from a remote server also say that the header was sent expanded.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from kit import NAMES, TOKEN, TOKEN_VAR, Everything, ProcEnv, Sandbox, client_bin

CLIENT = "copilot-cli"


@contextlib.contextmanager
def sandbox_for_module(
    tmp_path_factory: pytest.TempPathFactory, everything: Everything
) -> Iterator[Sandbox]:
    """The ``sandbox`` fixture's Sandbox, once for the module (one client run for three cells)."""
    root = tmp_path_factory.mktemp(CLIENT)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(TOKEN_VAR, TOKEN)
        mp.setenv("HOME", str(root / "orch-home"))
        mp.setenv("MCP_ORCH_CLIENT_ROOT", str(root / "acc" / "home"))
        mp.setenv("MCP_ORCH_HOME", str(root / "acc" / "ws"))
        mp.delenv("XDG_CONFIG_HOME", raising=False)
        yield Sandbox(root / "acc", everything=everything)


class _ModelHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: StubModel

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, body: str, ctype: str = "application/json") -> None:
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._send(json.dumps({"object": "list", "data": [{"id": "stub", "object": "model"}]}))

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        for tool in body.get("tools") or ():
            self.server.tools.add((tool.get("function") or tool).get("name", ""))
        usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
        base = {"id": "stub-1", "created": 1, "model": "stub"}
        if body.get("stream"):
            chunks = [
                {
                    **base,
                    "object": "chat.completion.chunk",
                    "choices": [{"index": 0, "delta": {"role": "assistant", "content": "ok"}}],
                },
                {
                    **base,
                    "object": "chat.completion.chunk",
                    "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                    "usage": usage,
                },
            ]
            text = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
            self._send(text, "text/event-stream")
        else:
            msg = {"role": "assistant", "content": "ok"}
            choice = {"index": 0, "message": msg, "finish_reason": "stop"}
            self._send(
                json.dumps(
                    {**base, "object": "chat.completion", "choices": [choice], "usage": usage}
                )
            )


class StubModel(ThreadingHTTPServer):
    """An OpenAI-compatible chat endpoint on loopback that answers "ok" and keeps the names of
    the tools the client offered it."""

    daemon_threads = True

    def __init__(self) -> None:
        self.tools: set[str] = set()
        super().__init__(("127.0.0.1", 0), _ModelHandler)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


@contextlib.contextmanager
def stub_model() -> Iterator[StubModel]:
    srv = StubModel()
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()


def copilot_json(sb: Sandbox, env: dict[str, str] | None = None) -> dict[str, Any]:
    proc = sb.run([client_bin("copilot"), "mcp", "list", "--json"], timeout=120, env=env or sb.env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = proc.stdout
    if "{" not in text:  # "No MCP servers configured."
        return {}
    return json.loads(text[text.index("{") :]).get("mcpServers") or {}


def trust(sb: Sandbox) -> None:
    """Trust the project folder (as the user does at Copilot's first-run prompt)."""
    path = sb.home / ".copilot" / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"trusted_folders": [str(sb.project)]}), encoding="utf-8")


@dataclass
class Reading:
    sandbox: Sandbox
    everything: Everything
    servers: dict[str, Any]
    prompt_out: str
    tools: set[str]
    stdio_env: dict[str, str] | None
    seen: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def auth_on(self, path: str) -> list[str | None]:
        return [h.get("authorization") for p, h in self.seen if p.split("?")[0] == path]

    def log_tail(self) -> str:
        """Copilot's MCP log lines (for a failure message)."""
        logs = sorted((self.sandbox.root / "copilot-logs").glob("*.log"))
        text = "\n".join(p.read_text(errors="replace") for p in logs)
        return "\n".join(ln[:300] for ln in text.splitlines() if "mcp" in ln.lower())[-4000:]

    def connected(self, role: str) -> bool:
        return any(t.startswith(NAMES[role] + "-") for t in self.tools)


def copilot_read(sb: Sandbox, everything: Everything) -> Reading:
    servers = copilot_json(sb)
    with stub_model() as model:
        env = {
            **sb.env,
            "COPILOT_OFFLINE": "true",
            "COPILOT_PROVIDER_BASE_URL": model.base_url,
            "COPILOT_PROVIDER_API_KEY": "stub",
            "COPILOT_MODEL": "stub",
            "COPILOT_AUTO_UPDATE": "false",
        }
        argv = [client_bin("copilot"), "-p", "say ok", "--allow-all-tools", "--stream", "off"]
        argv += ["--log-level", "debug", "--log-dir", str(sb.root / "copilot-logs")]
        n0 = len(everything.seen)
        outs: list[str] = []
        stdio_env: dict[str, str] | None = None
        # a server slow to start on a loaded machine can miss the first turn: ask twice at most
        for _ in range(2):
            with ProcEnv("mcp_server_time", sb.home) as watch:
                proc = sb.run(argv, timeout=180, env=env)
            outs.append(proc.stdout + proc.stderr)
            stdio_env = stdio_env or watch.env
            if all(any(t.startswith(n + "-") for t in model.tools) for n in NAMES.values()):
                break
        return Reading(
            sb,
            everything,
            servers,
            "\n".join(outs),
            set(model.tools),
            stdio_env,
            list(everything.seen[n0:]),
        )


# -- fixtures --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def reading(tmp_path_factory: pytest.TempPathFactory, everything: Everything) -> Iterator[Reading]:
    with sandbox_for_module(tmp_path_factory, everything) as sb:
        sb.deploy(CLIENT)
        yield copilot_read(sb, everything)


def entry(reading: Reading, role: str) -> dict[str, Any]:
    assert NAMES[role] in reading.servers, f"copilot mcp list: {sorted(reading.servers)}"
    e = reading.servers[NAMES[role]]
    assert e.get("source") == "user"
    assert e.get("enabled") is True
    return e


# -- the cells -------------------------------------------------------------------------------------
def test_stdio(reading: Reading, verdict) -> None:
    verdict.cell(CLIENT, "stdio")
    e = entry(reading, "stdio")
    assert e["type"] == "local"
    assert "mcp_server_time" in e["args"]
    assert e["env"] == {"TZ_HINT": "${" + TOKEN_VAR + "}"}
    assert reading.connected("stdio"), (sorted(reading.tools), reading.log_tail())
    assert reading.stdio_env is not None, "the stdio server was not seen running"
    assert reading.stdio_env.get("TZ_HINT") == TOKEN
    verdict(CLIENT, "stdio", "connected; env ${VAR} expanded")


def test_streamable_http(reading: Reading, verdict) -> None:
    verdict.cell(CLIENT, "http")
    e = entry(reading, "http")
    assert e["type"] == "http"
    assert e["url"] == reading.everything.http_url
    assert e["headers"] == {"Authorization": "Bearer ${" + TOKEN_VAR + "}"}
    auth = reading.auth_on("/mcp")
    assert auth and set(auth) == {f"Bearer {TOKEN}"}, auth
    assert reading.connected("http"), (sorted(reading.tools), reading.log_tail())
    verdict(CLIENT, "http", "connected; Authorization ${VAR} expanded")


def test_sse(reading: Reading, verdict) -> None:
    verdict.cell(CLIENT, "sse")
    e = entry(reading, "sse")
    assert e["type"] == "sse"
    assert e["url"] == reading.everything.sse_url
    assert e["headers"] == {"Authorization": "Bearer ${" + TOKEN_VAR + "}"}
    auth = reading.auth_on("/sse")
    assert auth and set(auth) == {f"Bearer {TOKEN}"}, auth
    assert reading.connected("sse"), (sorted(reading.tools), reading.log_tail())
    verdict(CLIENT, "sse", "connected; Authorization ${VAR} expanded")


def test_project_scope_is_read_as_workspace(sandbox: Sandbox) -> None:
    """Project scope: mcp-orch writes .github/mcp.json; Copilot reads it (and .mcp.json) as its
    workspace servers once the folder is trusted."""
    sandbox.deploy(CLIENT, scope="project")
    assert (sandbox.project / ".github" / "mcp.json").is_file()
    trust(sandbox)
    servers = copilot_json(sandbox)
    assert {n: s.get("source") for n, s in servers.items()} == dict.fromkeys(
        NAMES.values(), "workspace"
    )
    assert servers[NAMES["http"]]["url"] == sandbox.everything.http_url  # type: ignore[union-attr]


def test_copilot_home_is_honoured(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """``copilot help environment``: "COPILOT_HOME: override the directory where configuration
    and state files are stored; defaults to $HOME/.copilot"."""
    copilot_home = sandbox.home / "copilot-home"
    copilot_home.mkdir()
    monkeypatch.setenv("COPILOT_HOME", str(copilot_home))  # the user's environment, for mcp-orch
    sandbox.deploy(CLIENT)
    servers = copilot_json(sandbox, env={**sandbox.env, "COPILOT_HOME": str(copilot_home)})
    assert set(NAMES.values()) <= set(servers), (
        f"Copilot with COPILOT_HOME={copilot_home} lists {sorted(servers)}; mcp-orch wrote "
        f"{sorted(str(p.relative_to(sandbox.home)) for p in sandbox.home.rglob('*.json'))}"
    )

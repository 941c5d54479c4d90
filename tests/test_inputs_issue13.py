"""Inputs that do what the user meant (issue 13): an optional secret without a value is left
out of the entry, an unknown param is refused with "did you mean ...?" (API, CLI, MCP tool),
and a remote that answers 401 with OAuth metadata (RFC 9728) needs a sign-in, not other
credentials (probe and ``check --level live``); the catalog marks OAuth remotes."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from mcp import Client

import mcp_orch as mo
from mcp_orch.core.errors import UsageError
from mcp_orch.frontends.cli import cli
from mcp_orch.frontends.mcp_server import build_server

# ---- optional secrets ----------------------------------------------------------------------


def test_optional_secret_without_a_value_is_left_out_and_deploys(
    ws: mo.Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CONTEXT7_API_KEY", raising=False)
    server = ws.registry().find("context7")
    env = server.packages[0]["environmentVariables"][0]
    assert env["name"] == "CONTEXT7_API_KEY" and env["isSecret"] and not env["isRequired"]
    profile = ws.profile("claude-desktop")
    server.add_to(profile)
    entry = profile.draft.servers["context7"]
    assert "CONTEXT7_API_KEY" not in json.dumps(entry)
    dep = profile.draft.publish(changelog="context7").deploy()
    written = json.loads(Path(dep.path).read_text())["mcpServers"]["context7"]
    assert "CONTEXT7_API_KEY" not in (written.get("env") or {})
    # the optional remote header is left out too; a given value is still used
    assert server.render("cursor", transport="remote").get("headers") in (None, {})
    given = server.render("cursor", env={"CONTEXT7_API_KEY": "${env:MY_KEY}"})
    assert given["env"] == {"CONTEXT7_API_KEY": "${env:MY_KEY}"}


def test_required_secret_still_becomes_a_reference(ws: mo.Workspace) -> None:
    entry = ws.registry().find("airtable").render("cursor")
    assert entry["env"]["AIRTABLE_API_KEY"] == "${env:AIRTABLE_API_KEY}"
    entry = ws.registry().find("brave-search").render("cursor")
    assert entry["env"]["BRAVE_API_KEY"] == "${env:BRAVE_API_KEY}"


# ---- unknown params ------------------------------------------------------------------------


def test_unknown_param_is_refused_in_the_api(ws: mo.Workspace) -> None:
    server = ws.registry().find("time")
    profile = ws.profile("cursor")
    with pytest.raises(UsageError) as caught:
        server.add_to(profile, params={"tz": "Europe/Paris"})
    err = caught.value
    assert "'tz'" in err.message and err.inputs == ("params",)
    assert "did you mean timezone?" in err.hint and "local_timezone" in err.hint
    assert "time" not in profile.draft.names  # nothing was added
    with pytest.raises(UsageError, match="did you mean local_timezone"):
        server.render("cursor", params={"local_timezon": "Europe/Paris"})
    # every accepted spelling still works
    for key in ("timezone", "local_timezone", "local-timezone"):
        entry = server.render("cursor", params={key: "Europe/Paris"})
        assert "--local-timezone=Europe/Paris" in entry["args"]


def test_unknown_param_exits_2_with_error_and_hint_in_the_cli() -> None:
    result = CliRunner().invoke(
        cli, ["add-server", "time", "-c", "cursor", "--param", "tz=Europe/Paris"]
    )
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2, lines
    assert lines[0].startswith("error: ") and "'tz'" in lines[0]
    assert lines[1].startswith("hint: did you mean timezone?") and lines[1].endswith("(--param)")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_unknown_param_is_a_structured_error_in_the_mcp_tool(ws: mo.Workspace) -> None:
    async with Client(build_server(ws)) as c:
        result = await c.call_tool(
            "add_server_to_config",
            {"client_id": "cursor", "server_id": "time", "params": {"tz": "Europe/Paris"}},
        )
        assert result.is_error
        data = result.structured_content or {}
        assert data["ok"] is False and data["error"] == "UsageError"
        assert "'tz'" in data["message"] and "did you mean timezone?" in data["hint"]
        assert data["inputs"] == ["params"]
        good = await c.call_tool(
            "add_server_to_config",
            {"client_id": "cursor", "server_id": "time", "params": {"timezone": "UTC"}},
        )
        assert not good.is_error, good.content


# ---- OAuth remotes -------------------------------------------------------------------------


class _OAuthHandler(BaseHTTPRequestHandler):
    """Answers every request 401 with RFC 9728 protected-resource metadata."""

    def _deny(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        port = self.server.server_address[1]
        meta = f"http://127.0.0.1:{port}/.well-known/oauth-protected-resource"
        body = b'{"error": "invalid_token"}'
        self.send_response(401)
        self.send_header("WWW-Authenticate", f'Bearer resource_metadata="{meta}"')
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._deny()

    def do_POST(self) -> None:
        self._deny()

    def do_DELETE(self) -> None:
        self._deny()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def oauth_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OAuthHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/mcp"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def test_probe_reports_a_needed_oauth_sign_in(oauth_url: str) -> None:
    report = mo.probe({"mcpServers": {"linear": {"url": oauth_url}}}, client="cursor", timeout=20)
    r = report["linear"]
    assert not r.ok and r.needs_sign_in and r.status == "needs sign-in (OAuth)"
    assert "needs sign-in (OAuth)" in (r.error or "")
    assert "credentials" not in (r.error or "") + (r.hint or "")
    assert r.to_dict()["status"] == "needs sign-in (OAuth)"
    assert report.ok and not report.failed and report.sign_in == [r]
    assert "1 needs sign-in (OAuth)" in report.summary()


def test_a_401_with_oauth_metadata_and_a_token_is_still_wrong_credentials(oauth_url: str) -> None:
    payload = {"mcpServers": {"x": {"url": oauth_url, "headers": {"Authorization": "Bearer n"}}}}
    r = mo.probe(payload, client="cursor", timeout=20)["x"]
    assert not r.ok and not r.needs_sign_in and "HTTP 401" in (r.error or "")


def test_check_live_does_not_fail_for_a_needed_sign_in(oauth_url: str, tmp_path: Path) -> None:
    path = tmp_path / ".cursor" / "mcp.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"mcpServers": {"linear": {"url": oauth_url}}}))
    result = CliRunner().invoke(
        cli, ["check", str(path), "--level", "live", "--json"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    target = doc["targets"][0] if "targets" in doc else doc
    assert target["ok"] is True
    probed = target["probe"]["servers"][0]
    assert probed["status"] == "needs sign-in (OAuth)" and probed["needs_sign_in"] is True


def test_the_catalog_marks_oauth_remotes(ws: mo.Workspace) -> None:
    registry = ws.registry()
    assert registry.find("linear").oauth and registry.find("notion").oauth
    assert not registry.find("time").oauth and not registry.find("deepwiki").oauth
    assert registry.find("linear").to_dict()["oauth"] is True
    result = CliRunner().invoke(cli, ["describe-server", "linear"])
    assert result.exit_code == 0 and "sign-in:     OAuth" in result.stdout
    plain = CliRunner().invoke(cli, ["describe-server", "time"])
    assert "sign-in:" not in plain.stdout

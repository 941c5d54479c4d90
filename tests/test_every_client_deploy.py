"""For every client in the table: a stdio, a streamable-HTTP and an SSE server deploy into an
empty file, into a file holding the user's own content (and comments where the format has them),
and are refused by a file that does not parse; the result re-parses and passes the client's
schema."""

from __future__ import annotations

from pathlib import Path

import pytest

import mcp_orch as mo
from mcp_orch.domain.clients import CLIENTS, ClientSpec, get_client, server_map, to_native
from mcp_orch.domain.clients.dialects import read_config
from mcp_orch.services.validation import check_payload

# a client that no longer reads its file (5ire, issue 12) refuses deploys: see
# tests/test_client_facts_issue12.py
CLIENT_IDS = [c.id for c in CLIENTS if c.deployable]

USER_ENTRY = {"transport": "stdio", "command": "/opt/bin/my-own-server", "args": ["--x"], "env": {}}

EXISTING = {
    "json": '{\n  "theme": "dark",\n  SERVERS\n}\n',
    "jsonc": '{\n  // the user\'s comment\n  "theme": "dark", /* inline */\n  SERVERS,\n}\n',
    "toml": '# the user\'s comment\ntheme = "dark"\n\nSERVERS\n[other]\nkeep = true\n',
    "yaml": "# the user's comment\ntheme: dark\nSERVERS\n",
}
BROKEN = {
    "json": '{"mcpServers": {',
    "jsonc": '{\n  // unterminated\n  "servers": {\n',
    "toml": "[mcp_servers.x\ncommand = 1\n",
    "yaml": "a: [1, 2\nb: {\n",
}


def _user_servers(spec: ClientSpec) -> str:
    """The user's own server, written in the client's format under its server key."""
    from mcp_orch.domain.clients.dialects import apply_changes

    entry = to_native(spec, USER_ENTRY)
    text = apply_changes(spec, "", {"mine": entry}, "seed")
    if spec.dialect in ("json", "jsonc"):
        body = text.strip()[1:-1].strip()  # the "key": {...} member(s)
        return body
    return text


def _seed_file(spec: ClientSpec) -> str:
    body = _user_servers(spec)
    return EXISTING[spec.dialect].replace("SERVERS", body)


def _publish(ws: mo.Workspace, client: str) -> mo.Artifact:
    reg = mo.Registry(workspace=ws)
    profile = ws.profile(client, target_os="linux")
    reg.find("time").add_to(profile)
    reg.find("deepwiki").add_to(profile, name="wiki-http", transport="streamable-http")
    reg.find("deepwiki").add_to(profile, name="wiki-sse", transport="sse")
    return profile.draft.validate().publish(changelog=f"three transports for {client}")


def _check_result(spec: ClientSpec, path: Path) -> dict[str, dict]:
    data = read_config(spec, path.read_text(encoding="utf-8"), str(path))
    report = check_payload(spec, data, ignore=["MCP006"])
    assert report.ok, str(report)
    return server_map(spec, data)


@pytest.mark.parametrize("client", CLIENT_IDS)
def test_three_transports_into_an_empty_file(ws: mo.Workspace, client: str) -> None:
    spec = get_client(client)
    dep = _publish(ws, client).deploy()
    servers = _check_result(spec, Path(dep.path))
    assert {"time", "wiki-http", "wiki-sse"} <= set(servers)
    neutral_sse = servers["wiki-sse"]
    if "sse" in spec.remote:
        assert "mcp-remote" not in str(neutral_sse)
    else:
        assert "mcp-remote" in str(neutral_sse) and "sse-only" in str(neutral_sse)


@pytest.mark.parametrize("client", CLIENT_IDS)
def test_user_content_and_comments_survive(ws: mo.Workspace, client: str) -> None:
    spec = get_client(client)
    art = _publish(ws, client)
    path = Path(ws.profile(client).config_path())
    path.parent.mkdir(parents=True, exist_ok=True)
    seed = _seed_file(spec)
    path.write_text(seed, encoding="utf-8")
    art.deploy()
    text = path.read_text(encoding="utf-8")
    servers = _check_result(spec, path)
    assert servers["mine"] == server_map(spec, read_config(spec, seed))["mine"]
    assert {"time", "wiki-http", "wiki-sse"} <= set(servers)
    data = read_config(spec, text)
    assert data["theme"] == "dark"
    if spec.dialect != "json":
        assert "the user's comment" in text
    if spec.dialect == "toml":
        assert data["other"] == {"keep": True}
    # taking the servers out again gives back the user's file
    ws.profile(client).draft.clear()
    ws.profile(client).draft.add_entry(
        "placeholder", to_native(spec, USER_ENTRY | {"command": "p"})
    )
    ws.profile(client).draft.publish("swap").deploy()
    after = read_config(spec, path.read_text(encoding="utf-8"))
    assert not {"time", "wiki-http", "wiki-sse"} & set(server_map(spec, after))


@pytest.mark.parametrize("client", CLIENT_IDS)
def test_unparseable_file_is_refused_and_untouched(ws: mo.Workspace, client: str) -> None:
    spec = get_client(client)
    art = _publish(ws, client)
    path = Path(ws.profile(client).config_path())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(BROKEN[spec.dialect], encoding="utf-8")
    before = path.read_bytes()
    with pytest.raises(mo.ParseError) as err:
        art.deploy()
    assert "untouched" in err.value.hint
    assert path.read_bytes() == before
    assert ws.profile(client).deployed() is None

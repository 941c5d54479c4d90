"""Drafts (mcp_orch/draft.py) and the ids of workspaces and profiles.

Covers: drafts persisting across Workspace objects; add / add_entry / remove / clear /
servers / payload; name clashes (AlreadyExists unless replace=True, the same entry again is a
no-op); invalid server names and path-like client/profile ids (InvalidId, nothing written);
literal secrets refused before anything is written; ``validate()`` returning the draft or
raising InvalidConfig with the report; the headline chain from the README; and the payload
shape of several clients.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import mcp_orch as mo
from mcp_orch.domain.pins import MCP_REMOTE_VERSION
from mcp_orch.services.validation import ValidationReport

# Entries render pinned at the catalog's version (profile setting pin = "exact", the default).
TIME = "mcp-server-time@2026.10.19"

# Built at run time so the test file itself holds no credential-shaped literal.
FAKE_GITHUB_TOKEN = "ghp_" + "Ab3dE6gH9j" * 4


def _tree(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file())


# -- persistence ---------------------------------------------------------------------------------


def test_draft_persists_across_workspace_objects(tmp_path: Path, client_root: Path) -> None:
    first = mo.Workspace(tmp_path / "ws", client_root=client_root)
    mo.Registry(workspace=first).find("time").add_to(
        first.profile("cursor"), params={"local_timezone": "UTC"}
    )
    second = mo.Workspace(tmp_path / "ws", client_root=client_root)
    draft = second.profile("cursor").draft
    assert draft.names == ["time"]
    assert draft.servers["time"]["args"] == [TIME, "--local-timezone=UTC"]
    assert draft.path.is_file()
    assert draft.path.is_relative_to(second.path)
    # another profile of the same client, and another client, are separate drafts
    assert len(second.profile("cursor", "work").draft) == 0
    assert len(second.profile("vscode").draft) == 0


def test_edits_from_two_objects_are_both_kept(ws: mo.Workspace, registry: mo.Registry) -> None:
    a = ws.profile("cursor").draft
    b = mo.Workspace(ws.path).profile("cursor").draft
    a.add(registry.get("time"))
    b.add(registry.get("git"))
    assert sorted(a.names) == ["git", "time"]
    assert sorted(b.names) == ["git", "time"]


def test_empty_draft(ws: mo.Workspace) -> None:
    draft = ws.profile("cursor").draft
    assert len(draft) == 0
    assert draft.servers == {}
    assert draft.payload == {"mcpServers": {}}
    assert not draft.path.exists()  # reading never writes


# -- add / remove / clear ------------------------------------------------------------------------


def test_add_returns_the_draft_and_renders_for_the_client(
    ws: mo.Workspace, registry: mo.Registry
) -> None:
    profile = ws.profile("cursor")
    draft = registry.find("filesystem").add_to(profile, params={"allowed_directory": "/data"})
    assert isinstance(draft, mo.Draft)
    assert "filesystem" in draft
    assert draft.servers == {
        "filesystem": {
            "command": "npx",
            "args": ["-y", "@modelcontextprotocol/server-filesystem@2026.8.31", "/data"],
        }
    }
    assert draft.payload == {"mcpServers": draft.servers}
    assert draft.add(registry.get("time")) is draft


def test_add_with_a_custom_name(ws: mo.Workspace, registry: mo.Registry) -> None:
    draft = ws.profile("cursor").draft
    draft.add(registry.get("time"), name="time-paris", params={"local_timezone": "Europe/Paris"})
    draft.add(registry.get("time"), name="time-tokyo", params={"local_timezone": "Asia/Tokyo"})
    assert draft.names == ["time-paris", "time-tokyo"]


def test_remove_and_clear(ws: mo.Workspace, registry: mo.Registry) -> None:
    draft = ws.profile("cursor").draft
    draft.add(registry.get("time")).add(registry.get("git"))
    assert draft.remove("time") is draft
    assert draft.names == ["git"]
    assert mo.Workspace(ws.path).profile("cursor").draft.names == ["git"]
    with pytest.raises(mo.NotFound) as info:
        draft.remove("time")
    assert "git" in info.value.hint
    assert draft.clear() is draft
    assert len(draft) == 0
    assert mo.Workspace(ws.path).profile("cursor").draft.servers == {}


def test_add_entry_keeps_a_native_entry_as_is(ws: mo.Workspace) -> None:
    draft = ws.profile("cursor").draft
    entry = {"command": "node", "args": ["server.js"], "env": {"MODE": "dev"}}
    draft.add_entry("local", entry)
    entry["args"].append("mutated")  # the draft holds its own copy
    assert draft.servers["local"] == {
        "command": "node",
        "args": ["server.js"],
        "env": {"MODE": "dev"},
    }
    with pytest.raises(mo.InvalidConfig):
        draft.add_entry("bad", "npx server")  # type: ignore[arg-type]


# -- name clashes --------------------------------------------------------------------------------


def test_same_name_different_entry_is_refused(ws: mo.Workspace, registry: mo.Registry) -> None:
    draft = ws.profile("cursor").draft
    draft.add(registry.get("time"))
    before = draft.servers
    with pytest.raises(mo.AlreadyExists) as info:
        draft.add(registry.get("time"), params={"local_timezone": "Europe/Paris"})
    assert "time" in info.value.message
    assert "replace" in info.value.hint
    assert draft.servers == before


def test_replace_true_replaces(ws: mo.Workspace, registry: mo.Registry) -> None:
    draft = ws.profile("cursor").draft
    draft.add(registry.get("time"))
    registry.get("time").add_to(
        ws.profile("cursor"), params={"local_timezone": "Europe/Paris"}, replace=True
    )
    assert draft.servers["time"]["args"][-1] == "--local-timezone=Europe/Paris"
    assert len(draft) == 1


def test_same_entry_again_is_a_no_op(ws: mo.Workspace, registry: mo.Registry) -> None:
    draft = ws.profile("cursor").draft
    draft.add(registry.get("time"), params={"local_timezone": "UTC"})
    before = draft.servers
    draft.add(registry.get("time"), params={"local_timezone": "UTC"})
    assert draft.servers == before
    assert len(draft) == 1


def test_add_entry_clash(ws: mo.Workspace) -> None:
    draft = ws.profile("cursor").draft
    draft.add_entry("x", {"command": "a"})
    draft.add_entry("x", {"command": "a"})  # same entry: fine
    with pytest.raises(mo.AlreadyExists):
        draft.add_entry("x", {"command": "b"})
    draft.add_entry("x", {"command": "b"}, replace=True)
    assert draft.servers["x"] == {"command": "b"}


# -- ids -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["bad name", "../x", "a/b", "-lead", "x;rm"])
def test_invalid_server_names(ws: mo.Workspace, registry: mo.Registry, name: str) -> None:
    draft = ws.profile("cursor").draft
    with pytest.raises(mo.InvalidId):
        draft.add(registry.get("time"), name=name)
    with pytest.raises(mo.InvalidId):
        draft.add_entry(name, {"command": "npx"})
    assert len(draft) == 0
    assert not draft.path.exists()


@pytest.mark.parametrize("bad", ["../x", "a/b", "UPPER", "..", "", "a\\b", "x" * 65])
def test_path_like_profile_ids(ws: mo.Workspace, bad: str) -> None:
    with pytest.raises(mo.InvalidId):
        ws.profile("cursor", bad)
    with pytest.raises(mo.InvalidId):
        ws.profile(bad)
    assert _tree(ws.path) == []


def test_path_like_id_hint_says_it_is_a_name(ws: mo.Workspace) -> None:
    with pytest.raises(mo.InvalidId) as info:
        ws.profile("cursor", "../x")
    assert "not a path" in info.value.hint


def test_unknown_client(ws: mo.Workspace) -> None:
    with pytest.raises(mo.NotFound) as info:
        ws.profile("cursr")
    assert "cursor" in info.value.hint


# -- secrets -------------------------------------------------------------------------------------


def test_literal_secret_for_a_secret_env_is_refused(
    ws: mo.Workspace, registry: mo.Registry
) -> None:
    profile = ws.profile("cursor")
    profile.draft.add(registry.get("time"))
    before = profile.draft.path.read_bytes()
    with pytest.raises(mo.InvalidConfig) as info:
        registry.find("github").add_to(
            profile, env={"GITHUB_PERSONAL_ACCESS_TOKEN": "not-a-reference-123"}
        )
    err = info.value
    assert "GITHUB_PERSONAL_ACCESS_TOKEN" in err.message
    assert "nothing was written" in err.message
    assert "${env:" in err.hint
    assert isinstance(err.report, ValidationReport)
    assert err.report.codes() == ["MCP003"]
    assert "not-a-reference-123" not in str(err)
    assert profile.draft.path.read_bytes() == before
    assert "github" not in profile.draft


def test_token_shaped_literal_is_refused_and_never_echoed(
    ws: mo.Workspace, registry: mo.Registry
) -> None:
    profile = ws.profile("vscode")
    with pytest.raises(mo.InvalidConfig) as info:
        registry.find("github").add_to(
            profile, env={"GITHUB_PERSONAL_ACCESS_TOKEN": FAKE_GITHUB_TOKEN}
        )
    assert FAKE_GITHUB_TOKEN not in str(info.value)
    assert FAKE_GITHUB_TOKEN not in json.dumps(info.value.to_dict())
    assert not profile.draft.path.exists()
    assert not any(FAKE_GITHUB_TOKEN in p.read_text() for p in ws.path.rglob("*.json"))


def test_literal_secret_in_a_remote_header_is_refused(
    ws: mo.Workspace, registry: mo.Registry
) -> None:
    for client in ("cursor", "claude-desktop"):
        profile = ws.profile(client)
        with pytest.raises(mo.InvalidConfig):
            registry.find("github").add_to(
                profile, transport="remote", params={"github_token": "plain-token-value"}
            )
        assert not profile.draft.path.exists()


def test_literal_secret_in_a_secret_argument_is_refused(
    ws: mo.Workspace, registry: mo.Registry
) -> None:
    # redis's --url argument is marked isSecret in the catalog (it carries the password)
    profile = ws.profile("cursor")
    with pytest.raises(mo.InvalidConfig):
        registry.find("redis").add_to(
            profile, params={"redis_url": "redis://default:hunter2pw@db.example.com:6379"}
        )
    assert not profile.draft.path.exists()


def test_secret_references_are_accepted(ws: mo.Workspace, registry: mo.Registry) -> None:
    draft = registry.find("github").add_to(
        ws.profile("cursor"), env={"GITHUB_PERSONAL_ACCESS_TOKEN": "${env:GITHUB_TOKEN}"}
    )
    assert draft.servers["github"]["env"] == {"GITHUB_PERSONAL_ACCESS_TOKEN": "${env:GITHUB_TOKEN}"}
    draft = registry.find("redis").add_to(
        ws.profile("cursor"), params={"redis_url": "${env:REDIS_URL}"}
    )
    assert "--url=${env:REDIS_URL}" in draft.servers["redis"]["args"]


# -- validate ------------------------------------------------------------------------------------


def test_headline_chain(ws: mo.Workspace) -> None:
    draft = mo.Registry(workspace=ws).find("github").add_to(ws.profile("claude-desktop")).validate()
    assert isinstance(draft, mo.Draft)
    entry = draft.payload["mcpServers"]["github"]
    assert entry["command"] == "docker"
    # the token is optional (the image signs in with OAuth on first use): it is left out
    assert not entry.get("env")
    # a required secret becomes a reference
    brave = mo.Registry(workspace=ws).find("brave-search")
    draft = brave.add_to(ws.profile("claude-desktop")).validate()
    assert draft.payload["mcpServers"]["brave-search"]["env"] == {
        "BRAVE_API_KEY": "${env:BRAVE_API_KEY}"
    }


def test_validate_returns_the_same_draft(ws: mo.Workspace, registry: mo.Registry) -> None:
    draft = ws.profile("cursor").draft
    draft.add(registry.get("time"))
    assert draft.validate() is draft


def test_validate_raises_with_the_report(ws: mo.Workspace, registry: mo.Registry) -> None:
    draft = registry.find("filesystem").add_to(ws.profile("cursor"))  # no allowed_directory
    report = draft.check()
    assert not report.ok
    with pytest.raises(mo.InvalidConfig) as info:
        draft.validate()
    err = info.value
    assert isinstance(err.report, ValidationReport)
    assert [f.code for f in err.report.errors] == ["MCP002"]
    assert "allowed_directory" in err.message
    assert "allowed_directory" in err.hint
    assert err.to_dict()["report"]["ok"] is False
    # the draft itself is kept as it was, so the user can fix it
    assert draft.names == ["filesystem"]


def test_validate_missing_required_env(ws: mo.Workspace, registry: mo.Registry) -> None:
    draft = registry.find("grafana").add_to(ws.profile("cursor"))
    with pytest.raises(mo.InvalidConfig) as info:
        draft.validate()
    assert "GRAFANA_URL" in info.value.message
    registry.find("grafana").add_to(
        ws.profile("cursor"), env={"GRAFANA_URL": "https://grafana.example.com"}, replace=True
    )
    assert draft.validate(ignore=["MCP011"]) is draft


def test_validate_select_and_ignore(ws: mo.Workspace, registry: mo.Registry) -> None:
    draft = registry.find("filesystem").add_to(ws.profile("cursor"))
    assert draft.validate(ignore=["MCP002"]) is draft
    assert draft.check(select=["MCP002"]).codes() == ["MCP002"]


# -- payload shapes ------------------------------------------------------------------------------


def test_payload_shape_per_client(ws: mo.Workspace, registry: mo.Registry) -> None:
    time = registry.get("time")
    for client in ("cursor", "claude-desktop", "vscode", "zed", "continue"):
        time.add_to(ws.profile(client))
    assert ws.profile("cursor").draft.payload == {
        "mcpServers": {"time": {"command": "uvx", "args": [TIME]}}
    }
    assert ws.profile("claude-desktop").draft.payload == {
        "mcpServers": {"time": {"command": "uvx", "args": [TIME]}}
    }
    assert ws.profile("vscode").draft.payload == {
        "servers": {"time": {"type": "stdio", "command": "uvx", "args": [TIME]}}
    }
    zed = ws.profile("zed").draft.payload
    assert list(zed) == ["context_servers"]
    assert zed["context_servers"]["time"]["command"] == "uvx"
    cont = ws.profile("continue").draft.payload
    assert cont == {"mcpServers": [{"name": "time", "command": "uvx", "args": [TIME]}]}


def test_payload_of_a_remote_server_per_client(ws: mo.Workspace, registry: mo.Registry) -> None:
    github = registry.get("github")
    github.add_to(ws.profile("vscode"), transport="remote")
    github.add_to(ws.profile("claude-desktop"), transport="remote")
    vscode = ws.profile("vscode").draft.payload["servers"]["github"]
    assert vscode["type"] == "http" and vscode["url"].startswith("https://")
    bridged = ws.profile("claude-desktop").draft.payload["mcpServers"]["github"]
    assert bridged["args"][:2] == ["-y", f"mcp-remote@{MCP_REMOTE_VERSION}"]


def test_payload_is_a_copy(ws: mo.Workspace, registry: mo.Registry) -> None:
    draft = registry.get("time").add_to(ws.profile("cursor"))
    payload = draft.payload
    payload["mcpServers"]["time"]["args"].append("--evil")
    assert draft.payload["mcpServers"]["time"]["args"] == [TIME]


def test_target_os_windows_profile(ws: mo.Workspace, registry: mo.Registry) -> None:
    profile = ws.profile("claude-desktop", "win", target_os="windows")
    draft = registry.get("time").add_to(profile)
    assert draft.servers["time"] == {"command": "cmd", "args": ["/c", "uvx", TIME]}


# -- views ---------------------------------------------------------------------------------------


def test_draft_views(ws: mo.Workspace, registry: mo.Registry) -> None:
    draft = registry.get("time").add_to(ws.profile("cursor"))
    data = draft.to_dict()
    assert data["client"] == "cursor" and data["profile"] == "default"
    assert data["payload"] == draft.payload
    json.dumps(data)
    frame = draft.frame()
    assert frame["name"].to_list() == ["time"]
    assert frame["command"].to_list() == ["uvx"]
    assert "cursor/default" in repr(draft)
    html = draft._repr_html_()
    assert isinstance(html, str) and "time" in html

"""Deploy, drift, rollback, restore and diffs (mcp_orch/deploy.py, diffs.py, Profile).

Covers: deploy into an empty root creates the client's file; deploying into files that hold
unmanaged servers, other top-level keys and (VS Code JSONC) comments and trailing commas keeps
all of them byte for byte; a later deploy that drops a server removes only that entry; a
same-named unmanaged entry is a ``ConflictError`` unless ``adopt=True``; an unparseable file is a
``ParseError`` and stays byte-identical; a crash during the write leaves the old file, no temp
files and no moved refs or events; secrets (resolved for Claude Desktop, ``MissingSecret`` when
unset; ``${env:NAME}`` for Cursor, ``${NAME}`` for Claude Code); the file mode is kept; backups
and ``restore()``; ``dry_run``; ``drift()``; ``rollback()``; ``diff()`` between artifacts and
``Profile.diff()`` against the file; ``ws.verify()``.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

import mcp_orch as mo
from mcp_orch.core.errors import ConflictError, MissingSecret, NotFound, ParseError, SignatureError

SECRET_VAR = "MCPORCH_TEST_SECRET"
SECRET_VALUE = "sk-test-very-secret-value-0123456789"


# ---- helpers -------------------------------------------------------------------------------------


def _entry(arg: str = "pkg", **extra: Any) -> dict[str, Any]:
    return {"command": "npx", "args": ["-y", arg], **extra}


def _vs_entry(arg: str = "pkg", **extra: Any) -> dict[str, Any]:
    return {"type": "stdio", "command": "npx", "args": ["-y", arg], **extra}


def _publish(profile: mo.Profile, changelog: str = "", **servers: dict[str, Any]) -> mo.Artifact:
    profile.draft.clear()
    for name, entry in servers.items():
        profile.draft.add_entry(name, entry)
    return profile.draft.publish(changelog=changelog)


def _events(ws: mo.Workspace, action: str | None = None) -> list[dict[str, Any]]:
    return [e for e in ws.audit.events() if action is None or e["action"] == action]


def _refs(ws: mo.Workspace, profile: mo.Profile) -> tuple[str | None, str | None]:
    store = ws.store
    return (
        store.get_ref(profile.client.id, profile.id, "latest"),
        store.get_ref(profile.client.id, profile.id, "deployed"),
    )


def _servers(path: Path, key: str = "mcpServers") -> dict[str, Any]:
    from mcp_orch.domain.clients import jsonc

    data: dict[str, Any] = jsonc.loads(path.read_text(encoding="utf-8"))[key]
    return data


def _write(path: Path, text: str) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path.read_bytes()


@pytest.fixture
def cursor(ws: mo.Workspace) -> mo.Profile:
    return ws.profile("cursor")


@pytest.fixture
def vscode(ws: mo.Workspace) -> mo.Profile:
    return ws.profile("vscode")


@pytest.fixture(autouse=True)
def _no_test_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SECRET_VAR, raising=False)


# ---- deploy into an empty root -------------------------------------------------------------------


def test_deploy_into_empty_root_creates_client_file(
    ws: mo.Workspace, cursor: mo.Profile, client_root: Path
) -> None:
    from mcp_orch.domain.clients import config_path

    art = _publish(cursor, "first", time=_entry("time"))
    expected = Path(config_path(cursor.client, root=client_root))
    assert expected == client_root / ".cursor" / "mcp.json"
    assert not expected.exists()
    dep = art.deploy()
    assert Path(dep.path) == expected
    assert json.loads(expected.read_text(encoding="utf-8")) == art.payload
    assert dep.managed == ["time"]
    assert dep.changed and not dep.dry_run
    assert dep.backup is None
    assert cursor.deployed() == art
    events = _events(ws, "deploy")
    assert len(events) == 1
    assert events[0]["artifact_id"] == art.artifact_id
    assert events[0]["details"]["path"] == str(expected)


@pytest.mark.parametrize(
    ("client", "key", "entry"),
    [
        ("claude-desktop", "mcpServers", _entry("time")),
        ("claude-code", "mcpServers", _vs_entry("time")),
        ("vscode", "servers", _vs_entry("time")),
        ("windsurf", "mcpServers", _entry("time")),
    ],
)
def test_deploy_each_json_client(
    ws: mo.Workspace, client: str, key: str, entry: dict[str, Any]
) -> None:
    profile = ws.profile(client)
    art = _publish(profile, time=entry)
    dep = art.deploy()
    assert Path(dep.path) == profile.config_path()
    assert _servers(Path(dep.path), key) == {"time": entry}


def test_redeploy_same_artifact_changes_nothing(ws: mo.Workspace, cursor: mo.Profile) -> None:
    art = _publish(cursor, time=_entry("time"))
    art.deploy()
    before = cursor.config_path().read_bytes()
    again = art.deploy()
    assert not again.changed
    assert cursor.config_path().read_bytes() == before
    assert cursor.backups() == []


# ---- keeping the user's data ---------------------------------------------------------------------

CURSOR_HEAD = """{
    "theme":   "dark",
    "mcpServers": {
        "mine": {"command": "mine-bin",   "args": ["--x"]},
        "remote-mine": {
            "url": "https://example.com/mcp"
        }"""
CURSOR_TAIL = """
    },
    "zzz": [1, 2,   3],
    "nested": {"a": {"b": null}}
}
"""


def test_deploy_keeps_unmanaged_json_byte_for_byte(cursor: mo.Profile) -> None:
    path = cursor.config_path()
    original = _write(path, CURSOR_HEAD + CURSOR_TAIL).decode()
    _publish(cursor, a=_entry("a"), b=_entry("b")).deploy()
    text = path.read_text(encoding="utf-8")
    assert text.startswith(CURSOR_HEAD)
    assert text.endswith(CURSOR_TAIL)
    data = json.loads(text)
    assert data["theme"] == "dark"
    assert data["zzz"] == [1, 2, 3]
    assert data["nested"] == {"a": {"b": None}}
    assert list(data["mcpServers"]) == ["mine", "remote-mine", "a", "b"]
    # dropping b removes only b
    _publish(cursor, a=_entry("a")).deploy()
    text = path.read_text(encoding="utf-8")
    assert text.startswith(CURSOR_HEAD)
    assert text.endswith(CURSOR_TAIL)
    assert list(json.loads(text)["mcpServers"]) == ["mine", "remote-mine", "a"]
    # dropping everything gives the user's file back exactly
    _publish(cursor).deploy()
    assert path.read_text(encoding="utf-8") == original


def test_drop_removes_only_that_entry_between_unmanaged_ones(cursor: mo.Profile) -> None:
    path = cursor.config_path()
    _write(path, '{"mcpServers": {"mine": {"command": "x"}}}\n')
    _publish(cursor, a=_entry("a"), b=_entry("b")).deploy()
    # the user adds a server by hand after ours
    data = json.loads(path.read_text())
    data["mcpServers"]["later"] = {"command": "later-bin"}
    data["extra"] = {"k": 1}
    path.write_text(json.dumps(data, indent=2) + "\n")
    _publish(cursor, b=_entry("b")).deploy()
    data2 = json.loads(path.read_text())
    assert data2["mcpServers"] == {
        "mine": {"command": "x"},
        "b": _entry("b"),
        "later": {"command": "later-bin"},
    }
    assert data2["extra"] == {"k": 1}


VSCODE_HEAD = """// my vscode mcp config
{
  "inputs": [
    {"id": "tok", "type": "promptString", "password": true}, // keep me
  ],
  /* servers I manage by hand */
  "servers": {
    "mine": {
      "type": "stdio",
      "command": "mine-bin", // trailing comment
      "args": [],
    },
"""
VSCODE_TAIL = """  },
  "other": {"x": 1,}, // after
}
"""


def test_deploy_keeps_vscode_comments_and_trailing_commas(vscode: mo.Profile) -> None:
    path = vscode.config_path()
    original = _write(path, VSCODE_HEAD + VSCODE_TAIL).decode()
    _publish(vscode, a=_vs_entry("a"), b=_vs_entry("b")).deploy()
    text = path.read_text(encoding="utf-8")
    assert text.startswith(VSCODE_HEAD)
    assert text.endswith(VSCODE_TAIL)
    servers = _servers(path, "servers")
    assert list(servers) == ["mine", "a", "b"]
    assert servers["a"] == _vs_entry("a")
    _publish(vscode, b=_vs_entry("b")).deploy()
    text = path.read_text(encoding="utf-8")
    assert text.startswith(VSCODE_HEAD)
    assert text.endswith(VSCODE_TAIL)
    assert list(_servers(path, "servers")) == ["mine", "b"]
    _publish(vscode).deploy()
    assert path.read_text(encoding="utf-8") == original


def test_deploy_into_file_without_servers_key(cursor: mo.Profile) -> None:
    path = cursor.config_path()
    _write(path, '{\n  "theme": "light"\n}\n')
    _publish(cursor, a=_entry("a")).deploy()
    data = json.loads(path.read_text())
    assert data == {"theme": "light", "mcpServers": {"a": _entry("a")}}
    assert path.read_text().startswith('{\n  "theme": "light",')


@pytest.mark.skipif(sys.platform.startswith("win"), reason="symlinks need privileges on Windows")
def test_deploy_through_symlink_keeps_the_link(cursor: mo.Profile, tmp_path: Path) -> None:
    """Config files kept in a dotfiles repo and linked into place stay linked."""
    real = tmp_path / "dotfiles" / "mcp.json"
    _write(real, '{"mcpServers": {"mine": {"command": "x"}}}\n')
    link = cursor.config_path()
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(real)
    _publish(cursor, a=_entry("a")).deploy()
    assert link.is_symlink()
    assert _servers(real) == {"mine": {"command": "x"}, "a": _entry("a")}


def test_deploy_to_explicit_path(ws: mo.Workspace, cursor: mo.Profile, tmp_path: Path) -> None:
    target = tmp_path / "project" / ".cursor" / "mcp.json"
    art = _publish(cursor, a=_entry("a"))
    dep = art.deploy(path=target)
    assert Path(dep.path) == target
    assert _servers(target) == {"a": _entry("a")}
    assert not cursor.config_path().exists()
    assert cursor.drift(target).status == "clean"


def test_deploy_refuses_artifact_of_another_profile(ws: mo.Workspace) -> None:
    from mcp_orch.core.errors import UsageError
    from mcp_orch.services.release.deploy import deploy_artifact

    art = _publish(ws.profile("cursor"), a=_entry("a"))
    other = ws.profile("cursor", "work")
    with pytest.raises(UsageError):
        deploy_artifact(other, art)
    assert not other.config_path().exists() or other.deployed() is None


# ---- conflicts and refused files -----------------------------------------------------------------


def test_same_named_unmanaged_entry_is_a_conflict(ws: mo.Workspace, cursor: mo.Profile) -> None:
    path = cursor.config_path()
    before = _write(path, '{"mcpServers": {"a": {"command": "users-own"}}}\n')
    art = _publish(cursor, a=_entry("a"))
    events = len(_events(ws))
    with pytest.raises(ConflictError) as info:
        art.deploy()
    assert "a" in info.value.message
    assert path.read_bytes() == before
    assert cursor.deployed() is None
    assert len(_events(ws)) == events
    assert cursor.backups() == []

    dep = art.deploy(adopt=True)
    assert _servers(path) == {"a": _entry("a")}
    assert dep.managed == ["a"]
    assert dep.backup and Path(dep.backup).read_bytes() == before
    # adopted entries are managed from now on: dropping it removes it
    _publish(cursor, b=_entry("b")).deploy()
    assert _servers(path) == {"b": _entry("b")}


def test_same_named_identical_entry_is_not_a_conflict(cursor: mo.Profile) -> None:
    path = cursor.config_path()
    _write(path, json.dumps({"mcpServers": {"a": _entry("a")}}))
    dep = _publish(cursor, a=_entry("a")).deploy()
    assert dep.managed == ["a"]
    assert _servers(path) == {"a": _entry("a")}


@pytest.mark.parametrize(
    ("client", "text"),
    [
        ("cursor", '{"mcpServers": {"x": {"command": "y"}'),
        ("cursor", '{"mcpServers": {"x": {"command": "y"}}} trailing'),
        ("cursor", "[1, 2, 3]\n"),
        ("cursor", '{"mcpServers": []}\n'),
        ("vscode", '{\n  /* unterminated comment\n  "servers": {}\n}\n'),
        ("vscode", '{"servers": {"x": {command: "y"}}}\n'),
    ],
)
def test_unparseable_file_is_refused_and_untouched(
    ws: mo.Workspace, client: str, text: str
) -> None:
    profile = ws.profile(client)
    entry = _vs_entry("a") if client == "vscode" else _entry("a")
    art = _publish(profile, a=entry)
    path = profile.config_path()
    before = _write(path, text)
    mtime = path.stat().st_mtime_ns
    events = len(_events(ws))
    with pytest.raises(ParseError):
        art.deploy()
    with pytest.raises(ParseError):
        art.deploy(dry_run=True)
    assert path.read_bytes() == before
    assert path.stat().st_mtime_ns == mtime
    assert profile.deployed() is None
    assert len(_events(ws)) == events
    assert profile.backups() == []


# ---- crash during the write ----------------------------------------------------------------------


@pytest.mark.parametrize("only_target", [True, False], ids=["target-replace", "every-replace"])
def test_crash_during_write_leaves_everything_as_it_was(
    ws: mo.Workspace, cursor: mo.Profile, monkeypatch: pytest.MonkeyPatch, only_target: bool
) -> None:
    import mcp_orch.core.fs as util

    first = _publish(cursor, a=_entry("a"))
    first.deploy()
    second = _publish(cursor, a=_entry("a"), b=_entry("b"))
    path = cursor.config_path()
    before = path.read_bytes()
    listing = sorted(os.listdir(path.parent))
    refs = _refs(ws, cursor)
    events = len(_events(ws))
    records = (ws.path / "deployments").rglob("*.json")
    records_before = {p: p.read_bytes() for p in records}
    real_replace = os.replace

    def crash(src: Any, dst: Any, *a: Any, **kw: Any) -> None:
        if not only_target or Path(dst) == path:
            raise OSError(28, "No space left on device")
        real_replace(src, dst, *a, **kw)

    monkeypatch.setattr(util.os, "replace", crash)
    with pytest.raises(OSError):
        second.deploy()
    monkeypatch.setattr(util.os, "replace", real_replace)

    assert path.read_bytes() == before
    assert sorted(os.listdir(path.parent)) == listing  # no temp files left
    assert _refs(ws, cursor) == refs
    assert cursor.deployed() == first
    assert len(_events(ws)) == events
    assert not any(e["artifact_id"] == second.artifact_id for e in _events(ws, "deploy"))
    assert {p: p.read_bytes() for p in records_before} == records_before
    ws.audit.verify()
    # after the crash a normal deploy works
    second.deploy()
    assert list(_servers(path)) == ["a", "b"]


# ---- secrets -------------------------------------------------------------------------------------


def _secret_entry() -> dict[str, Any]:
    return _entry("svc", env={"API_KEY": "${env:" + SECRET_VAR + "}"})


def test_claude_desktop_missing_secret_writes_nothing(ws: mo.Workspace) -> None:
    profile = ws.profile("claude-desktop")
    art = _publish(profile, svc=_secret_entry())
    path = profile.config_path()
    with pytest.raises(MissingSecret) as info:
        art.deploy()
    assert SECRET_VAR in info.value.message
    assert not path.exists()
    assert profile.deployed() is None
    assert _events(ws, "deploy") == []
    # with an existing file: still nothing written
    before = _write(path, '{"mcpServers": {}}\n')
    with pytest.raises(MissingSecret):
        art.deploy()
    # a dry run still previews, marking where the unset value would go, and writes nothing
    preview = art.deploy(dry_run=True)
    assert f"<{SECRET_VAR} is not set>" in preview.diff_text
    assert "deploy would stop" in preview.diff_text
    assert path.read_bytes() == before
    assert profile.backups() == []


def test_claude_desktop_reports_every_missing_secret(ws: mo.Workspace) -> None:
    profile = ws.profile("claude-desktop")
    art = _publish(
        profile,
        one=_entry("one", env={"A": "${env:MCPORCH_MISSING_ONE}"}),
        two=_entry("two", env={"B": "${env:MCPORCH_MISSING_TWO}"}),
    )
    with pytest.raises(MissingSecret) as info:
        art.deploy()
    assert "MCPORCH_MISSING_ONE" in info.value.message
    assert "MCPORCH_MISSING_TWO" in info.value.message


def test_claude_desktop_resolves_secret_only_in_the_file(
    ws: mo.Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_VAR, SECRET_VALUE)
    profile = ws.profile("claude-desktop")
    art = _publish(profile, "with secret", svc=_secret_entry())
    dep = art.deploy()
    assert _servers(Path(dep.path))["svc"]["env"] == {"API_KEY": SECRET_VALUE}
    assert "${env:" + SECRET_VAR + "}" in json.dumps(art.payload)
    # the value is in the client's file only: not in objects, drafts, records or the audit log
    for p in ws.path.rglob("*"):
        if p.is_file() and "backups" not in p.parts and not p.name.endswith(".lock"):
            assert SECRET_VALUE not in p.read_text(encoding="utf-8", errors="replace"), p
    assert SECRET_VALUE not in dep.diff_text


def test_cursor_writes_env_placeholder(ws: mo.Workspace, cursor: mo.Profile) -> None:
    dep = _publish(cursor, svc=_secret_entry()).deploy()  # the variable is not set: no error
    assert _servers(Path(dep.path))["svc"]["env"] == {"API_KEY": "${env:" + SECRET_VAR + "}"}


def test_claude_code_writes_shell_placeholder(ws: mo.Workspace) -> None:
    profile = ws.profile("claude-code")
    entry = _vs_entry("svc", env={"API_KEY": "${env:" + SECRET_VAR + "}"})
    dep = _publish(profile, svc=entry).deploy()
    assert _servers(Path(dep.path))["svc"]["env"] == {"API_KEY": "${" + SECRET_VAR + "}"}


def test_dry_run_writes_nothing_and_masks_secrets(
    ws: mo.Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_VAR, SECRET_VALUE)
    profile = ws.profile("claude-desktop")
    art = _publish(profile, svc=_secret_entry())
    path = profile.config_path()
    events = len(_events(ws))
    dep = art.deploy(dry_run=True)
    assert dep.dry_run
    assert not path.exists()
    assert profile.deployed() is None
    assert len(_events(ws)) == events
    assert not (ws.path / "deployments").exists() or not list(
        (ws.path / "deployments").rglob("*.json")
    )
    assert "+" in dep.diff_text and '"svc"' in dep.diff_text
    assert SECRET_VALUE not in dep.diff_text
    assert SECRET_VALUE[:4] in dep.diff_text  # shown masked, not dropped
    # dry run over an existing file
    before = _write(path, '{"mcpServers": {"mine": {"command": "x"}}}\n')
    dep = art.deploy(dry_run=True)
    assert path.read_bytes() == before
    assert SECRET_VALUE not in dep.diff_text
    assert '"mine"' in dep.diff_text or "svc" in dep.diff_text
    assert profile.backups() == []


# ---- file mode, backups, restore -----------------------------------------------------------------


@pytest.mark.skipif(sys.platform.startswith("win"), reason="POSIX permission bits")
@pytest.mark.parametrize("mode", [0o600, 0o640, 0o644])
def test_original_file_mode_is_kept(cursor: mo.Profile, mode: int) -> None:
    path = cursor.config_path()
    _write(path, '{"mcpServers": {}}\n')
    os.chmod(path, mode)
    _publish(cursor, a=_entry("a")).deploy()
    assert stat.S_IMODE(path.stat().st_mode) == mode
    _publish(cursor, b=_entry("b")).deploy()
    assert stat.S_IMODE(path.stat().st_mode) == mode


def test_backup_and_restore(ws: mo.Workspace, cursor: mo.Profile) -> None:
    path = cursor.config_path()
    original = _write(path, '{"mcpServers": {"mine": {"command": "x"}}, "k": 1}\n')
    dep = _publish(cursor, a=_entry("a")).deploy()
    assert dep.backup is not None
    assert Path(dep.backup).read_bytes() == original
    listed = cursor.backups()
    assert [b["backup"] for b in listed] == [dep.backup]
    assert listed[0]["source"] == str(path)
    deployed_bytes = path.read_bytes()
    assert deployed_bytes != original

    restored = cursor.restore()
    assert restored["backup"] == dep.backup
    assert path.read_bytes() == original
    assert _events(ws, "restore")[-1]["details"]["path"] == str(path)
    # restoring is itself undoable: the deployed version was backed up first
    newest = cursor.backups()[0]
    assert Path(newest["backup"]).read_bytes() == deployed_bytes
    cursor.restore(Path(newest["backup"]).name)
    assert path.read_bytes() == deployed_bytes


def test_restore_without_backups(cursor: mo.Profile) -> None:
    with pytest.raises(NotFound):
        cursor.restore()
    _publish(cursor, a=_entry("a")).deploy()  # into an empty root: nothing to back up
    with pytest.raises(NotFound):
        cursor.restore()
    _write(cursor.config_path(), "{}")
    _publish(cursor, b=_entry("b")).deploy()
    with pytest.raises(NotFound):
        cursor.restore("no-such-backup.json")


# ---- drift ---------------------------------------------------------------------------------------


def test_drift_detects_hand_edits(cursor: mo.Profile) -> None:
    path = cursor.config_path()
    _write(path, '{"mcpServers": {"mine": {"command": "x"}}}\n')
    _publish(cursor, a=_entry("a"), b=_entry("b")).deploy()
    clean = cursor.drift()
    assert clean.status == "clean"
    assert not clean.drifted
    assert (clean.edited, clean.removed, clean.added) == ({}, [], [])

    data = json.loads(path.read_text())
    data["mcpServers"]["a"]["args"][1] = "a-edited"
    data["mcpServers"]["a"]["env"] = {"X": "1"}
    del data["mcpServers"]["b"]
    data["mcpServers"]["by-hand"] = {"command": "hand"}
    path.write_text(json.dumps(data, indent=2))

    report = cursor.drift()
    assert report.drifted and report.status == "drifted"
    fields = {c["field"] for c in report.edited["a"]}
    assert "args[1]" in fields
    assert any(f.startswith("env") for f in fields)
    assert list(report.edited) == ["a"]
    assert report.removed == ["b"]
    assert report.added == ["by-hand"]  # 'mine' was there before: not reported
    assert report.to_dict()["status"] == "drifted"
    assert "args[1]" in str(report)


def test_drift_with_resolved_secret_reports_only_hand_edits(
    ws: mo.Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Claude Desktop gets the secret's value; that is not a hand edit."""
    monkeypatch.setenv(SECRET_VAR, SECRET_VALUE)
    profile = ws.profile("claude-desktop")
    _publish(profile, svc=_secret_entry()).deploy()
    assert profile.drift().status == "clean"
    path = profile.config_path()
    data = json.loads(path.read_text())
    data["mcpServers"]["svc"]["args"][1] = "edited"
    path.write_text(json.dumps(data))
    report = profile.drift()
    assert [c["field"] for c in report.edited["svc"]] == ["args[1]"]
    assert SECRET_VALUE not in str(report.to_dict())


def test_drift_of_deleted_file(cursor: mo.Profile) -> None:
    _publish(cursor, a=_entry("a")).deploy()
    cursor.config_path().unlink()
    assert cursor.drift().removed == ["a"]


def test_drift_before_deploy(cursor: mo.Profile) -> None:
    _publish(cursor, a=_entry("a"))
    with pytest.raises(NotFound):
        cursor.drift()


def test_redeploy_over_hand_edit_reports_overwrite(cursor: mo.Profile) -> None:
    art = _publish(cursor, a=_entry("a"))
    art.deploy()
    path = cursor.config_path()
    data = json.loads(path.read_text())
    data["mcpServers"]["a"]["args"] = ["edited"]
    path.write_text(json.dumps(data))
    dep = art.deploy()
    assert dep.overwritten == ["a"]
    assert _servers(path)["a"] == _entry("a")
    assert cursor.drift().status == "clean"


# ---- rollback ------------------------------------------------------------------------------------


def test_rollback_moves_latest_to_parent(ws: mo.Workspace, cursor: mo.Profile) -> None:
    v1 = _publish(cursor, "v1", a=_entry("a"))
    v2 = _publish(cursor, "v2", a=_entry("a"), b=_entry("b"))
    v2.deploy()
    path = cursor.config_path()
    on_disk = path.read_bytes()
    target = cursor.rollback()
    assert target.artifact_id == v1.artifact_id
    assert cursor.latest() == v1
    assert path.read_bytes() == on_disk  # without deploy=True the file is not touched
    assert cursor.deployed() == v2
    revert = _events(ws, "revert")[-1]
    assert revert["artifact_id"] == v1.artifact_id
    assert revert["details"]["from"] == v2.artifact_id
    # history keeps every artifact; nothing is deleted
    assert {a.artifact_id for a in cursor.history()} == {v1.artifact_id, v2.artifact_id}
    ws.audit.verify()


def test_rollback_with_deploy_writes_parent(ws: mo.Workspace, cursor: mo.Profile) -> None:
    path = cursor.config_path()
    _write(path, '{"mcpServers": {"mine": {"command": "x"}}}\n')
    v1 = _publish(cursor, "v1", a=_entry("a"))
    v1.deploy()
    _publish(cursor, "v2", a=_entry("a2"), b=_entry("b")).deploy()
    cursor.rollback(deploy=True)
    assert _servers(path) == {"mine": {"command": "x"}, "a": _entry("a")}
    assert cursor.deployed() == v1
    assert cursor.latest() == v1
    assert _events(ws)[-1]["action"] == "deploy"
    assert _events(ws)[-2]["action"] == "revert"


def test_rollback_to_named_artifact(cursor: mo.Profile) -> None:
    v1 = _publish(cursor, a=_entry("a"))
    _publish(cursor, a=_entry("a2"))
    _publish(cursor, a=_entry("a3"))
    assert cursor.rollback(v1.short_id).artifact_id == v1.artifact_id
    assert cursor.latest() == v1


def test_rollback_without_parent(ws: mo.Workspace, cursor: mo.Profile) -> None:
    with pytest.raises(NotFound):
        cursor.rollback()
    v1 = _publish(cursor, a=_entry("a"))
    with pytest.raises(NotFound):
        cursor.rollback()
    assert cursor.latest() == v1
    assert _events(ws, "revert") == []


def test_rollback_refuses_tampered_target(ws: mo.Workspace, cursor: mo.Profile) -> None:
    import base64

    v1 = _publish(cursor, a=_entry("a"))
    v2 = _publish(cursor, a=_entry("a2"))
    obj = ws.store._object_path(v1.artifact_id)
    data = json.loads(obj.read_text())
    sig = bytearray(base64.b64decode(data["signature"]))
    sig[0] ^= 0xFF
    data["signature"] = base64.b64encode(bytes(sig)).decode()
    os.chmod(obj, 0o644)
    obj.write_text(json.dumps(data))
    with pytest.raises(SignatureError):
        cursor.rollback()
    assert cursor.latest() == v2
    assert _events(ws, "revert") == []


# ---- diffs ---------------------------------------------------------------------------------------


def test_diff_between_artifacts(cursor: mo.Profile) -> None:
    v1 = _publish(
        cursor,
        a=_entry("pkg1", env={"X": "${env:X1}"}),
        b=_entry("b"),
    )
    v2 = _publish(
        cursor,
        a=_entry("pkg2", env={"X": "${env:X2}"}),
        c=_entry("c"),
    )
    d = mo.diff(v1, v2)
    assert set(d.added) == {"c"}
    assert set(d.removed) == {"b"}
    assert set(d.modified) == {"a"}
    changes = {c["field"]: (c["old"], c["new"]) for c in d.modified["a"]}
    assert changes == {"args[1]": ("pkg1", "pkg2"), "env.X": ("${env:X1}", "${env:X2}")}
    assert d.status == "outdated"  # v1 is an ancestor of v2
    assert mo.diff(v1, v1).status == "up-to-date"
    assert not mo.diff(v2, v2).changed
    back = mo.diff(v2, v1)
    assert set(back.added) == {"b"} and set(back.removed) == {"c"}
    assert back.status == "diverged"
    assert "args[1]" in str(d)
    assert d.to_dict()["added"] == ["c"]


def test_diff_of_branches_is_diverged(cursor: mo.Profile) -> None:
    _publish(cursor, a=_entry("a"))
    left = _publish(cursor, a=_entry("a"), b=_entry("b"))
    cursor.rollback()
    right = _publish(cursor, a=_entry("a"), c=_entry("c"))
    assert right.parent == left.parent
    assert mo.diff(left, right).status == "diverged"


def test_diff_paths_for_added_fields_and_list_items(cursor: mo.Profile) -> None:
    v1 = _publish(cursor, a={"command": "npx", "args": ["-y"]})
    v2 = _publish(cursor, a={"command": "npx", "args": ["-y", "pkg"], "env": {"Y": "${env:Y}"}})
    fields = {c["field"]: c for c in mo.diff(v1, v2).modified["a"]}
    assert fields["args[1]"]["old"] is None and fields["args[1]"]["new"] == "pkg"
    assert "env" in fields or "env.Y" in fields


def test_diff_masks_literal_env_values(tmp_path: Path) -> None:
    a = {"mcpServers": {"s": {"command": "x", "env": {"PASSWORD": "hunter2-longer-value"}}}}
    b = {"mcpServers": {"s": {"command": "x", "env": {"PASSWORD": "other-long-password"}}}}
    d = mo.diff(a, b, client="cursor")
    (change,) = d.modified["s"]
    assert change["field"] == "env.PASSWORD"
    assert "hunter2-longer-value" not in str(d)
    assert "other-long-password" not in str(d)


def test_profile_diff_statuses(ws: mo.Workspace, cursor: mo.Profile) -> None:
    with pytest.raises(NotFound):
        cursor.diff()
    v1 = _publish(cursor, a=_entry("a"))
    not_deployed = cursor.diff()
    assert set(not_deployed.added) == {"a"}
    v1.deploy()
    assert cursor.diff().status == "up-to-date"
    _publish(cursor, a=_entry("a2"), b=_entry("b"))
    outdated = cursor.diff()
    assert outdated.status == "outdated"
    assert set(outdated.added) == {"b"}
    assert {c["field"] for c in outdated.modified["a"]} == {"args[1]"}
    # a hand edit of a managed entry makes the file diverge
    path = cursor.config_path()
    data = json.loads(path.read_text())
    data["mcpServers"]["a"]["args"].append("--by-hand")
    path.write_text(json.dumps(data))
    assert cursor.diff().status == "diverged"


def test_profile_diff_diverged_after_hand_edit_of_latest(cursor: mo.Profile) -> None:
    _publish(cursor, a=_entry("a")).deploy()
    path = cursor.config_path()
    data = json.loads(path.read_text())
    data["mcpServers"]["a"]["command"] = "uvx"
    path.write_text(json.dumps(data))
    d = cursor.diff()
    assert d.status == "diverged"
    assert [c["field"] for c in d.modified["a"]] == ["command"]


# ---- workspace verify ----------------------------------------------------------------------------


def test_workspace_verify_healthy_then_tampered(ws: mo.Workspace, cursor: mo.Profile) -> None:
    _publish(cursor, a=_entry("a")).deploy()
    v2 = _publish(cursor, a=_entry("a"), b=_entry("b"))
    _publish(ws.profile("vscode"), a=_vs_entry("a"))
    report = ws.verify()
    assert report["ok"], report["problems"]
    assert report["problems"] == []
    assert report["artifacts"] == 3
    assert report["events"] == len(_events(ws))

    obj = ws.store._object_path(v2.artifact_id)
    os.chmod(obj, 0o644)
    obj.write_text(obj.read_text().replace('"b"', '"evil"'))
    report = ws.verify()
    assert not report["ok"]
    assert any(v2.artifact_id in p or v2.short_id in p for p in report["problems"])


def test_workspace_verify_reports_dangling_ref(ws: mo.Workspace, cursor: mo.Profile) -> None:
    art = _publish(cursor, a=_entry("a"))
    obj = ws.store._object_path(art.artifact_id)
    os.chmod(obj, 0o644)
    obj.unlink()
    report = ws.verify()
    assert not report["ok"]
    assert any("latest" in p for p in report["problems"])

"""The record is complete: verify checks every file it relies on against the audit log, a
failed change changes nothing, and client files are written safely (read-only, concurrent
writers, a save by the client app in between)."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

import mcp_orch as mo
from mcp_orch.core.errors import FileChanged, FileError
from mcp_orch.frontends.cli import main as cli_main


def _entry(arg: str) -> dict[str, Any]:
    return {"command": "npx", "args": ["-y", arg]}


def _publish(profile: mo.Profile, *names: str) -> mo.Artifact:
    profile.draft.clear()
    for name in names:
        profile.draft.add_entry(name, _entry(f"pkg-{name}"))
    return profile.draft.publish(changelog="+".join(names))


def _problems(ws: mo.Workspace) -> list[str]:
    report = ws.verify()
    return list(report.problems)


@pytest.fixture
def cursor(ws: mo.Workspace) -> mo.Profile:
    return ws.profile("cursor")


@pytest.fixture
def released(ws: mo.Workspace, cursor: mo.Profile) -> mo.Workspace:
    _publish(cursor, "a").deploy()
    _publish(cursor, "a", "b").deploy()
    _publish(ws.profile("vscode"), "v")
    assert _problems(ws) == []
    return ws


def _ref(ws: mo.Workspace, client: str, name: str) -> Path:
    return ws.path / "refs" / client / "default" / name


# ---- verify: the audit log explains every file ---------------------------------------------------


def test_verify_fails_when_the_whole_audit_folder_is_deleted(released: mo.Workspace) -> None:
    shutil.rmtree(released.path / "audit")
    problems = _problems(released)
    assert any("audit log is empty or missing" in p for p in problems), problems


def test_verify_fails_when_the_log_is_emptied_and_its_head_reset(released: mo.Workspace) -> None:
    (released.path / "audit" / "events.jsonl").write_text("")
    (released.path / "audit" / "head.json").write_text(
        json.dumps({"seq": 0, "hash": "sha256:" + "0" * 64, "size": 0})
    )
    assert any("audit log is empty or missing" in p for p in _problems(released))


def test_verify_catches_a_ref_moved_back_to_an_older_signed_release(
    released: mo.Workspace, cursor: mo.Profile
) -> None:
    index = released.store.index("cursor", "default")
    for ref in ("latest", "deployed"):
        _ref(released, "cursor", ref).write_text(index[0] + "\n")
        problems = _problems(released)
        assert any(f"ref {ref} points to" in p and "downgraded" in p for p in problems), problems
        _ref(released, "cursor", ref).write_text(index[1] + "\n")
    assert _problems(released) == []


def test_verify_catches_an_index_entry_whose_object_is_gone(released: mo.Workspace) -> None:
    first = released.store.index("cursor", "default")[0]
    path = released.store.object_path(first)
    os.chmod(path, 0o644)
    path.unlink()
    problems = _problems(released)
    assert any("is missing" in p for p in problems), problems


def test_verify_catches_another_profiles_artifact_in_a_ref(released: mo.Workspace) -> None:
    other = released.store.get_ref("vscode", "default", "latest")
    assert other
    _ref(released, "cursor", "latest").write_text(other + "\n")
    problems = _problems(released)
    assert any("an artifact of vscode/default" in p for p in problems), problems


@pytest.mark.parametrize("field", ["size", "seq"])
def test_verify_catches_a_head_off_by_one(released: mo.Workspace, field: str) -> None:
    head = released.path / "audit" / "head.json"
    data = json.loads(head.read_text())
    data[field] += 1
    head.write_text(json.dumps(data))
    problems = _problems(released)
    assert any(p.startswith("audit:") for p in problems), problems


def test_verify_catches_an_index_line_added_by_hand(released: mo.Workspace) -> None:
    other = released.store.get_ref("vscode", "default", "latest")
    with open(released.path / "refs" / "cursor" / "default" / "index", "a") as fh:
        fh.write(f"{other}\n")
    assert any("index does not match" in p for p in _problems(released))


def test_every_byte_flip_in_an_index_or_ref_is_caught(released: mo.Workspace) -> None:
    for name in ("index", "latest", "deployed"):
        path = _ref(released, "cursor", name)
        original = path.read_bytes()
        missed = []
        for i in range(len(original)):
            flipped = bytearray(original)
            flipped[i] ^= 0x01
            path.write_bytes(bytes(flipped))
            if not _problems(released):
                missed.append(i)
        path.write_bytes(original)
        assert missed == [], f"{name}: flips at {missed} went unnoticed"


def test_a_ref_without_a_colon_is_a_typed_error_naming_the_file(
    released: mo.Workspace, cursor: mo.Profile
) -> None:
    _ref(released, "cursor", "latest").write_text("garbage\n")
    with pytest.raises(mo.StoreCorrupt, match="refs/cursor/default/latest"):
        cursor.latest()


def test_an_object_nobody_published_is_reported(released: mo.Workspace) -> None:
    art = released.profile("cursor").latest()
    assert art is not None
    stored = art.stored()
    stored["envelope"] = {**stored["envelope"], "changelog": "smuggled"}
    from mcp_orch.core.ids import canonical, sha256_id

    aid = sha256_id(canonical(stored["envelope"]))
    released.store.put_stored(aid, stored)
    problems = _problems(released)
    assert any("no publish of it" in p or "signature" in p for p in problems), problems


# ---- a failed change changes nothing -------------------------------------------------------------


def _fail_audit(monkeypatch: pytest.MonkeyPatch, ws: mo.Workspace) -> None:
    def broken(*a: Any, **kw: Any) -> None:
        raise OSError(28, "No space left on device", str(ws.audit.path))

    monkeypatch.setattr(type(ws.audit), "append", broken)


def test_publish_whose_audit_append_fails_moves_nothing(
    ws: mo.Workspace, cursor: mo.Profile, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _publish(cursor, "a")
    cursor.draft.add_entry("b", _entry("pkg-b"))
    index_before = (ws.path / "refs/cursor/default/index").read_bytes()
    objects_before = sorted(ws.store.all_ids())
    _fail_audit(monkeypatch, ws)
    with pytest.raises(OSError):
        cursor.draft.publish()
    monkeypatch.undo()
    assert cursor.latest() == first
    assert (ws.path / "refs/cursor/default/index").read_bytes() == index_before
    assert sorted(ws.store.all_ids()) == objects_before
    assert not list((ws.path / "journal").glob("*.json"))
    assert _problems(ws) == []


def test_deploy_whose_audit_append_fails_leaves_the_client_file_as_it_was(
    ws: mo.Workspace, cursor: mo.Profile, monkeypatch: pytest.MonkeyPatch
) -> None:
    _publish(cursor, "a").deploy()
    path = cursor.config_path()
    before = path.read_bytes()
    deployed = cursor.deployed()
    second = _publish(cursor, "a", "b")
    _fail_audit(monkeypatch, ws)
    with pytest.raises(OSError):
        second.deploy()
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert cursor.deployed() == deployed
    assert _problems(ws) == []
    second.deploy()
    assert sorted(json.loads(path.read_text())["mcpServers"]) == ["a", "b"]


# ---- client files --------------------------------------------------------------------------------


def test_a_read_only_client_file_is_refused_unless_forced(
    ws: mo.Workspace, cursor: mo.Profile, cli_env: dict[str, str], tmp_path: Path
) -> None:
    art = _publish(cursor, "a")
    path = cursor.config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"mcpServers": {"mine": {"command": "x"}}}\n')
    path.chmod(0o444)
    before = path.read_bytes()
    with pytest.raises(FileError, match="read-only") as info:
        art.deploy()
    assert "force" in (info.value.hint or "")
    assert path.read_bytes() == before
    assert cursor.deployed() is None
    art.deploy(force=True)
    assert sorted(json.loads(path.read_text())["mcpServers"]) == ["a", "mine"]
    assert path.stat().st_mode & 0o777 == 0o444  # the mode is kept


def test_cli_deploy_refuses_a_read_only_file_with_a_hint(
    ws: mo.Workspace, cursor: mo.Profile, capsys: pytest.CaptureFixture[str]
) -> None:
    _publish(cursor, "a")
    path = cursor.config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{}\n")
    path.chmod(0o444)
    args = ["deploy-config", "--client", "cursor", "--workspace", str(ws.path)]
    with pytest.raises(SystemExit) as exit_info:
        cli_main(args)
    assert exit_info.value.code != 0
    err = capsys.readouterr().err
    assert "read-only" in err and "hint:" in err and "--force" in err
    assert "Traceback" not in err
    with pytest.raises(SystemExit) as exit_info:
        cli_main([*args, "--force"])
    assert exit_info.value.code == 0


def test_a_save_by_the_client_app_during_deploy_is_kept(
    ws: mo.Workspace, cursor: mo.Profile, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mcp_orch.services.release.deploy as deploy_mod

    art = _publish(cursor, "a")
    path = cursor.config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"mcpServers": {}}\n')
    real = deploy_mod._read_target
    calls = []

    def read_then_app_saves(target: Path) -> Any:
        out = real(target)
        calls.append(1)
        if len(calls) == 1:  # the client app saves its own server right after our read
            path.write_text('{"mcpServers": {"app": {"command": "app"}}}\n')
        return out

    monkeypatch.setattr(deploy_mod, "_read_target", read_then_app_saves)
    art.deploy()
    assert len(calls) == 2  # merged again into the file as the app left it
    assert sorted(json.loads(path.read_text())["mcpServers"]) == ["a", "app"]


def test_deploy_gives_up_when_the_file_keeps_changing(
    ws: mo.Workspace, cursor: mo.Profile, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mcp_orch.services.release.deploy as deploy_mod

    art = _publish(cursor, "a")
    path = cursor.config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"mcpServers": {}}\n')
    real = deploy_mod._read_target
    n = [0]

    def busy(target: Path) -> Any:
        out = real(target)
        n[0] += 1
        path.write_text(json.dumps({"mcpServers": {f"app{n[0]}": {"command": "x"}}}))
        return out

    monkeypatch.setattr(deploy_mod, "_read_target", busy)
    with pytest.raises(FileChanged):
        art.deploy()
    assert json.loads(path.read_text()) == {"mcpServers": {"app3": {"command": "x"}}}
    assert cursor.deployed() is None
    assert _problems(ws) == []


def _deploy_many(ws_path: str, root: str, prefix: str, count: int, path: str) -> None:
    ws = mo.Workspace(Path(ws_path), client_root=Path(root))
    profile = ws.profile("cursor")
    for i in range(1, count + 1):
        profile.draft.add_entry(f"{prefix}{i}", _entry(f"{prefix}{i}"))
        profile.draft.publish(changelog=f"{prefix}{i}").deploy(path=path)


def test_concurrent_deploys_from_two_workspaces_through_a_symlink_lose_nothing(
    tmp_path: Path, client_root: Path
) -> None:
    real = tmp_path / "shared" / "mcp.json"
    real.parent.mkdir()
    real.write_text('{"mcpServers": {}}\n')
    link = tmp_path / "link.json"
    link.symlink_to(real)
    ctx = multiprocessing.get_context("fork")
    count = 8
    jobs = [
        ctx.Process(
            target=_deploy_many,
            args=(str(tmp_path / "w1"), str(client_root), "a", count, str(real)),
        ),
        ctx.Process(
            target=_deploy_many,
            args=(str(tmp_path / "w2"), str(client_root), "b", count, str(link)),
        ),
    ]
    for j in jobs:
        j.start()
    for j in jobs:
        j.join(120)
        assert j.exitcode == 0
    servers = json.loads(real.read_text())["mcpServers"]
    expected = {f"{p}{i}" for p in "ab" for i in range(1, count + 1)}
    assert set(servers) == expected, sorted(expected - set(servers))
    assert link.is_symlink()


@pytest.mark.parametrize(
    ("where", "content", "deploy_reads_it"),
    [
        ("deployments/cursor/default.json", '{"targets": ["not", "a", "map"]}', True),
        ("deployments/cursor/default.json", '{"targets": {"/x": {"managed": "a"}}}', True),
        ("audit/head.json", '{"seq": "1", "hash": 5, "size": null}', True),
        ("refs/cursor/default/latest", "no-colon-here\n", True),
        ("refs/cursor/default/index", "sha256:zz\n", False),
    ],
)
def test_damaged_workspace_files_are_typed_errors_naming_the_file(
    released: mo.Workspace,
    capsys: pytest.CaptureFixture[str],
    where: str,
    content: str,
    deploy_reads_it: bool,
) -> None:
    (released.path / where).write_text(content)
    if deploy_reads_it:
        with pytest.raises(SystemExit) as exit_info:
            cli_main(["deploy-config", "-c", "cursor", "--workspace", str(released.path)])
        err = capsys.readouterr().err
        assert exit_info.value.code == 1, err
        assert "Traceback" not in err and "internal error" not in err, err
        assert "error:" in err and "hint:" in err, err
        assert Path(where).name in err, err
    assert not released.verify().ok


def test_a_held_lock_is_a_typed_error_after_the_timeout(
    ws: mo.Workspace, cursor: mo.Profile, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mcp_orch.services.release.journal as journal

    art = _publish(cursor, "a")
    held = journal._file_lock(ws.path / "locks" / "release.lock")
    monkeypatch.setattr(held, "timeout", 0.2)
    ctx = multiprocessing.get_context("fork")
    ready, done = ctx.Event(), ctx.Event()

    def hold() -> None:
        with journal.release_lock(ws):
            ready.set()
            done.wait(10)

    other = ctx.Process(target=hold)
    other.start()
    try:
        assert ready.wait(10)
        with pytest.raises(mo.ConflictError, match="locked by another mcp-orch process") as info:
            art.deploy()
        assert "release.lock" in (info.value.hint or "")
    finally:
        done.set()
        other.join(10)
    art.deploy()

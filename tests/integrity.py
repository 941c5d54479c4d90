"""Fault injection for the workspace: crashes at every write point, byte flips in every file.

Shared by ``tests/test_crash_points.py`` (the regression test) and ``bench/integrity.py`` (the
figures). A crash is real: the operation runs in a forked child that calls ``os._exit`` just
before its k-th write point (``os.replace``, ``os.write``, ``os.unlink``, ``os.fsync``,
``os.truncate``), so no ``finally`` or ``except`` of mcp-orch runs; the parent then lets the
next command recover and checks that refs, client files and the audit log agree.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mcp_orch as mo
from mcp_orch.core.ids import sha256_id

WRITE_POINTS = ("replace", "rename", "write", "unlink", "fsync", "truncate", "ftruncate")
CRASH_EXIT = 137


def entry(arg: str) -> dict[str, Any]:
    return {"command": "npx", "args": ["-y", arg]}


def publish(profile: mo.Profile, *names: str, changelog: str = "") -> mo.Artifact:
    profile.draft.clear()
    for name in names:
        profile.draft.add_entry(name, entry(f"pkg-{name}"))
    return profile.draft.publish(changelog=changelog or "+".join(names))


@dataclass
class Scenario:
    """A state to start from and one operation to crash."""

    name: str
    setup: Callable[[mo.Workspace], None]
    op: Callable[[mo.Workspace], Any]
    #: Whether the operation is one transaction (the state after a crash is before or after).
    atomic: bool = True


def _setup_publish(ws: mo.Workspace) -> None:
    publish(ws.profile("cursor"), "a").deploy()
    ws.profile("cursor").draft.add_entry("b", entry("pkg-b"))


def _setup_deploy(ws: mo.Workspace) -> None:
    p = ws.profile("cursor")
    publish(p, "a").deploy()
    publish(p, "a", "b")


def _setup_rollback(ws: mo.Workspace) -> None:
    p = ws.profile("cursor")
    publish(p, "a").deploy()
    publish(p, "a", "b").deploy()


def _setup_sync(ws: mo.Workspace) -> None:
    publish(ws.profile("cursor"), "a", "b").deploy()


SCENARIOS = [
    Scenario("publish", _setup_publish, lambda ws: ws.profile("cursor").draft.publish()),
    Scenario("deploy", _setup_deploy, lambda ws: ws.profile("cursor").latest().deploy()),
    Scenario("rollback", _setup_rollback, lambda ws: ws.profile("cursor").rollback(deploy=False)),
    Scenario(
        "rollback+deploy",
        _setup_rollback,
        lambda ws: ws.profile("cursor").rollback(deploy=True),
        atomic=False,
    ),
    Scenario("restore", _setup_rollback, lambda ws: ws.profile("cursor").restore()),
    Scenario(
        "sync",
        _setup_sync,
        lambda ws: ws.profile("cursor").sync_to(["vscode", "claude-code"], deploy=True),
        atomic=False,
    ),
]


# ---- running an operation in a child that crashes ------------------------------------------------


def _run_child(op: Callable[[], Any], crash_at: int | None, report: int) -> None:
    """In the forked child: count write points, exit hard at number ``crash_at``."""
    count = 0

    def wrap(name: str) -> None:
        real = getattr(os, name)

        def point(*a: Any, **kw: Any) -> Any:
            nonlocal count
            count += 1
            if crash_at is not None and count == crash_at:
                os._exit(CRASH_EXIT)
            return real(*a, **kw)

        setattr(os, name, point)

    for name in WRITE_POINTS:
        if hasattr(os, name):
            wrap(name)
    status = 0
    try:
        op()
    except BaseException:
        import traceback

        traceback.print_exc()
        status = 3
    _raw_write(report, str(count).encode())
    os._exit(status)


def _raw_write(fd: int, data: bytes) -> None:
    # os.write is wrapped in the child: go through a file object (its own write path)
    with os.fdopen(fd, "wb", closefd=False) as fh:
        fh.write(data)


def run_crashing(op: Callable[[], Any], crash_at: int | None) -> tuple[int, int]:
    """Fork, run ``op`` crashing before write point ``crash_at`` (None: never).
    Returns (exit status, write points passed)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read)
        try:
            _run_child(op, crash_at, write)
        finally:
            os._exit(4)
    os.close(write)
    with os.fdopen(read, "rb") as fh:
        out = fh.read()
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    return code, int(out or b"0")


# ---- the state that must agree -------------------------------------------------------------------


def files_of(ws: mo.Workspace) -> dict[str, str | None]:
    root = ws.client_root
    assert root is not None
    return {
        str(p.relative_to(root)): sha256_id(p.read_bytes())
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def state(ws: mo.Workspace) -> dict[str, Any]:
    """Refs, client files and the audit log's actions (what a transaction changes together)."""
    refs = {}
    for client, prof in ws.store.profiles():
        for ref in ("latest", "deployed"):
            refs[f"{client}/{prof}/{ref}"] = ws.store.get_ref(client, prof, ref)
    actions = [e["action"] for e in ws.audit.events() if e["action"] != "key"]
    return {"refs": refs, "files": files_of(ws), "actions": actions}


def temp_files(*roots: Path) -> list[Path]:
    return [p for r in roots for p in r.rglob("*.tmp") if p.name.startswith(".")]


def disagreements(ws: mo.Workspace) -> list[str]:
    """Why refs, client files and audit log do not agree (empty when they do)."""
    out = []
    report = ws.verify()
    out += [f"verify: {p}" for p in report.problems]
    if list((ws.path / "journal").glob("*.json")):
        out.append("a journal entry is left after verify")
    root = ws.client_root
    assert root is not None
    leftovers = temp_files(ws.path, root)
    if leftovers:
        out.append(f"temp files left: {[p.name for p in leftovers]}")
    last_file: dict[str, str | None] = {}
    for e in ws.audit.events():
        d = e.get("details") or {}
        if e["action"] in ("deploy", "restore") and d.get("path") and "file_digest" in d:
            last_file[d["path"]] = d["file_digest"]
    for path, digest in last_file.items():
        now = sha256_id(Path(path).read_bytes()) if Path(path).exists() else None
        if now != digest:
            out.append(f"{path} is not what the last deploy/restore event recorded")
    return out


@dataclass
class CrashResult:
    scenario: str
    points: int
    tried: int = 0
    detected: int = 0  # a half-done change was found (journal entry, temp file) after the crash
    repaired: int = 0  # ... and after the next command everything agrees again
    failures: list[str] = field(default_factory=list)


def _fresh(base: Path, name: str) -> mo.Workspace:
    if base.exists():
        shutil.rmtree(base)
    (base / "root").mkdir(parents=True)
    return mo.Workspace(base / name, client_root=base / "root")


def _reset(work: Path, snapshot: Path) -> mo.Workspace:
    """The workspace and client root back as the snapshot has them, at the same paths (the
    records hold absolute paths)."""
    shutil.rmtree(work)
    shutil.copytree(snapshot, work, symlinks=True)
    return mo.Workspace(work / "ws", client_root=work / "root")


def crash_scenario(scenario: Scenario, base: Path) -> CrashResult:
    """Crash ``scenario`` at each of its write points in turn; check recovery each time."""
    work, snapshot = base / "work", base / "snapshot"
    ws = _fresh(work, "ws")
    scenario.setup(ws)
    before = state(ws)
    shutil.copytree(work, snapshot, symlinks=True)
    code, points = run_crashing(lambda: scenario.op(ws), None)
    assert code == 0, f"{scenario.name} fails without a crash (exit {code})"
    after = state(ws)
    result = CrashResult(scenario.name, points)
    for k in range(1, points + 1):
        ws = _reset(work, snapshot)
        code, _ = run_crashing(lambda ws=ws: scenario.op(ws), k)  # type: ignore[misc]
        result.tried += 1
        if code != CRASH_EXIT:
            result.failures.append(f"point {k}: no crash (exit {code})")
            continue
        root = ws.client_root
        assert root is not None
        half_done = bool(list((ws.path / "journal").glob("*.json"))) or bool(
            temp_files(ws.path, root)
        )
        problems = disagreements(ws)
        if scenario.atomic:
            now = normalised(state(ws), before)
            if now not in (normalised(before, before), normalised(after, before)):
                problems.append(f"the state is neither the one before nor the one after: {now}")
        if half_done:
            result.detected += 1
        if problems:
            result.failures.append(f"point {k}: " + "; ".join(problems))
        elif half_done:
            result.repaired += 1
    return result


def normalised(s: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    """A state with artifact ids that were not there before written as "new" (ids hold the
    creation time, so two runs of one operation make different ids)."""
    known = {v: k for k, v in before["refs"].items() if v}
    return {**s, "refs": {k: known.get(v, "new") if v else None for k, v in s["refs"].items()}}


# ---- byte flips ----------------------------------------------------------------------------------


def workspace_files(ws: mo.Workspace) -> Iterator[tuple[str, Path]]:
    """Every file of a workspace with the kind it is counted under."""
    for path in sorted(ws.path.rglob("*")):
        if not path.is_file() or path.suffix == ".lock":
            continue
        rel = path.relative_to(ws.path).parts
        if rel == ("audit", "verified.json"):
            # verify's checkpoint, a cache: a damaged one makes verify check every event
            # (tests/test_audit_scale.py), so a flip there changes nothing verify finds
            continue
        kind = {
            "objects": "object",
            "audit": "audit " + path.name,
            "deployments": "deployment record",
            "drafts": "draft",
        }.get(rel[0])
        if rel[0] == "refs":
            kind = "ref " + path.name
        elif rel[0] == "backups":
            kind = "backup meta" if path.suffix == ".source" else "backup"
        elif rel[0] == "keys":
            kind = "key " + (
                "trusted" if "trusted" in rel else path.name if len(rel) == 2 else "public"
            )
        if kind:
            yield kind, path


def flip_positions(size: int, limit: int) -> list[int]:
    if size <= limit:
        return list(range(size))
    step = size / limit
    return sorted({int(i * step) for i in range(limit)})

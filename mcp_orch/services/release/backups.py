"""Backups of client files: taken before each deploy, listed, restored and pruned.

>>> backups(profile)                  # newest first: backup, source, taken
>>> restore(profile)                  # the newest back to the file it came from
>>> prune(profile, keep=20)           # all but the newest 20 removed, with a "prune" event
>>> prune(profile, keep=1, dry_run=True)["removed"]   # what would go; nothing removed

Retention: each deploy or restore that takes a backup is followed by :func:`auto_prune`
with the profile's ``keep_backups`` setting (default :data:`DEFAULT_KEEP`; 0 keeps every
backup). A prune runs after the change that took the backup is committed, under the release
lock (so no journaled change, which may need a backup to finish or undo, is pending), never
removes the newest backup or one a deployment record names, and writes its audit event
(each removed backup with its digests) *before* deleting anything: a crash mid-prune leaves
whole backups (the ``.source`` file goes first, so a backup is listed only while its copy is
there) and the next prune finishes the job.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from mcp_orch.core.clock import now_utc
from mcp_orch.core.errors import IntegrityError, MCPOrchError, NotFound, UsageError
from mcp_orch.core.ids import canonical, sha256_id
from mcp_orch.services.release.audit import default_actor
from mcp_orch.services.release.context import ProfileParts, WorkspaceParts
from mcp_orch.services.release.journal import Plan, changing, digest_of, run, target_lock
from mcp_orch.services.release.records import dump_records, load_records, records_path

#: How many backups a profile keeps when its ``keep_backups`` setting is not set.
DEFAULT_KEEP = 20


def backup_folder(profile: ProfileParts) -> Path:
    return profile.workspace.path / "backups" / profile.client.id / profile.id


def plan_backup(
    plan: Plan,
    profile: ProfileParts,
    target: Path,
    digest: str,
    record: dict[str, Any] | None = None,
) -> tuple[Path, str]:
    """Add to ``plan`` a copy of ``target`` (whose bytes hash to ``digest``) into the
    workspace, with the deployment record that described it; returns the backup's path and
    the digest of its ``.source`` file (both go into the audit event)."""
    folder = backup_folder(profile)
    stamp = now_utc().strftime("%Y%m%dT%H%M%S%fZ")
    dest = folder / f"{stamp}-{target.name}"
    plan.copy(target, dest, digest=digest, mode=0o600)
    meta = {"source": str(target), "record": record or {}, "digest": digest}
    meta_digest = plan.write(
        folder / f"{stamp}-{target.name}.source", json.dumps(meta), before=None, mode=0o600
    )
    return dest, meta_digest


def _read_meta(path: Path) -> dict[str, Any]:
    text = path.read_text().strip()
    try:
        meta: dict[str, Any] = json.loads(text)
    except json.JSONDecodeError:  # a plain path (older backups)
        meta = {"source": text, "record": {}}
    return meta


def backups(profile: ProfileParts) -> list[dict[str, str]]:
    """Backups of this profile's files, newest first."""
    return [_entry(p) for p in _sources(backup_folder(profile))]


def _sources(folder: Path) -> list[Path]:
    """The ``.source`` files of a backup folder, newest first (their names start with the
    time the backup was taken)."""
    try:
        names = [
            e.name
            for e in os.scandir(folder)
            if e.name.endswith(".source") and not e.name.startswith(".")
        ]
    except FileNotFoundError:
        return []
    return [folder / n for n in sorted(names, reverse=True)]


def _entry(meta: Path) -> dict[str, str]:
    return {
        "backup": str(meta.with_suffix("")),
        "source": _read_meta(meta)["source"],
        "taken": meta.name.split("-", 1)[0],
    }


def restore(profile: ProfileParts, backup: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """Write a backup (default: the newest) back to the file it came from, and make the
    deployment record match it again (so the next deploy knows which entries it manages).
    One journaled transaction: the current file is backed up first, then replaced (only if
    nobody saved it meanwhile), the record, ``deployed`` and the audit event follow."""
    ws = profile.workspace
    ws.audit.check_ready()
    with changing(ws):
        items = backups(profile)
        if not items:
            raise NotFound(f"no backups for {profile.ref}", "backups are taken before each deploy")
        chosen = items[0]
        if backup is not None:
            chosen = next(
                (
                    b
                    for b in items
                    if str(backup) in (b["backup"], Path(b["backup"]).name, b["taken"])
                ),
                {},
            )
            if not chosen:
                raise NotFound(
                    f"no backup {backup}",
                    "choose one of the listed backups: "
                    + (", ".join(b["taken"] for b in items[:5]) or "(none)"),
                    inputs=("backup",),
                )
        source = Path(chosen["source"])
        data = Path(chosen["backup"]).read_bytes()
        meta = _read_meta(Path(chosen["backup"] + ".source"))
        saved = meta.get("record") or {}
        if meta.get("digest") and meta["digest"] != sha256_id(data):
            raise IntegrityError(
                f"the backup {chosen['backup']} was changed since it was taken; nothing was "
                "restored",
                "verify the workspace; choose another backup",
            )
        known = load_records(profile)["targets"]
        if known and str(source) not in known:
            raise IntegrityError(
                f"the backup {chosen['backup']} names {source}, a file {profile.ref} never "
                "deployed to; nothing was restored",
                "verify the workspace: the backup's .source file was changed",
            )
        deployed = saved.get("artifact_id")
        with target_lock(source):
            before = digest_of(source)
            records = load_records(profile)
            current = records["targets"].get(str(source), {})
            plan = Plan("restore", profile.client.id, profile.id)
            taken, meta_digest = None, None
            if before is not None and before != sha256_id(data):
                taken, meta_digest = plan_backup(plan, profile, source, before, current)
            file_digest = plan.write(source, data, before=before)
            if saved:
                records["targets"][str(source)] = saved
            else:  # the file predates any deploy: that deploy's entries are no longer managed
                records["targets"].pop(str(source), None)
            rpath = records_path(profile)
            records_digest = plan.write(rpath, dump_records(records), before=digest_of(rpath))
            # `deployed` names the release the restored file came from (none if it predates one)
            plan.set_ref(profile.client.id, profile.id, "deployed", deployed)
            plan.event(
                "restore",
                client=profile.client.id,
                profile=profile.id,
                artifact_id=deployed,
                actor=default_actor(),
                details={
                    "path": str(source),
                    "backup": chosen["backup"],
                    "deployed": deployed,
                    "file_digest": file_digest,
                    "backup_taken": str(taken) if taken else None,
                    "backup_digest": before if taken else None,
                    "backup_meta_digest": meta_digest,
                    "records_digest": records_digest,
                    "record_digest": sha256_id(canonical(saved)) if saved else None,
                },
            )
            run(ws, plan)
    return chosen


# ---- retention -------------------------------------------------------------------------------


def check_keep(keep: Any, name: str = "keep", *, allow_all: bool = False) -> int:
    """``keep`` as a count of backups to keep: a whole number of at least 1 (with
    ``allow_all``, 0 too: keep every backup); else a :class:`UsageError`."""
    low = 0 if allow_all else 1
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < low:
        raise UsageError(
            f"{name} must be a whole number of at least {low}, not {keep!r}",
            "1 keeps only the newest backup"
            + (", 0 keeps every backup (no pruning)" if allow_all else ""),
            inputs=(name,),
        )
    return keep


def backup_profiles(ws: WorkspaceParts) -> list[tuple[str, str]]:
    """(client, profile) of every profile that has a backup folder, sorted."""
    root = ws.path / "backups"
    if not root.is_dir():
        return []
    return sorted(
        (c.name, p.name)
        for c in root.iterdir()
        if c.is_dir()
        for p in c.iterdir()
        if p.is_dir() and not p.name.startswith(".")
    )


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _leftovers(folder: Path) -> list[Path]:
    """Backup copies without their ``.source`` file: what a crash between the two deletions
    of a prune (or an undone deploy's copy) left; listed nowhere, so nothing restores them."""
    try:
        names = {e.name for e in os.scandir(folder) if e.is_file()}
    except FileNotFoundError:
        return []
    return sorted(
        folder / n
        for n in names
        if not n.startswith(".") and not n.endswith(".source") and n + ".source" not in names
    )


def prune(profile: ProfileParts, keep: int, *, dry_run: bool = False) -> dict[str, Any]:
    """Remove all but the newest ``keep`` backups of this profile (never one a deployment
    record names: the backup of each file's state before its last deploy). One ``prune`` audit
    event lists what was removed, each backup with its digest and its ``.source`` file's, and
    is written before anything is deleted. With ``dry_run``, nothing is locked or changed and
    ``removed`` says what would go."""
    keep = check_keep(keep)
    ws = profile.workspace
    out: dict[str, Any] = {
        "client": profile.client.id,
        "profile": profile.id,
        "keep": keep,
        "dry_run": dry_run,
        "removed": [],
        "kept": 0,
        "bytes_freed": 0,
    }
    if dry_run:
        return _choose(profile, keep, out)
    ws.audit.check_ready()
    with changing(ws):  # first finishes any journaled change, which may need its backup
        _choose(profile, keep, out)
        folder = backup_folder(profile)
        leftovers: list[dict[str, Any]] = [
            {"path": str(p), "bytes": _size(p)} for p in _leftovers(folder)
        ]
        if not out["removed"] and not leftovers:
            return out
        if leftovers:
            out["leftovers"] = leftovers
            out["bytes_freed"] += sum(int(x["bytes"]) for x in leftovers)
        # one event and no other step: nothing for a journal entry to finish or undo (a crash
        # before the append changed nothing), so it is appended as it is
        ws.audit.append(
            "prune",
            client=profile.client.id,
            profile=profile.id,
            actor=default_actor(),
            details={
                "keep": keep,
                "removed": [
                    {k: b[k] for k in ("backup", "digest", "meta_digest", "bytes")}
                    for b in out["removed"]
                ],
                "leftovers": leftovers,
                "bytes_freed": out["bytes_freed"],
            },
        )
        # the event is written: only now is anything deleted; the .source first, so a crash
        # in between leaves a copy nothing lists (removed as a leftover by the next prune)
        for b in out["removed"]:
            for path in (Path(b["backup"] + ".source"), Path(b["backup"])):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
        for x in leftovers:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(x["path"])
    return out


def _choose(profile: ProfileParts, keep: int, out: dict[str, Any]) -> dict[str, Any]:
    """Fill ``out`` with the backups beyond the newest ``keep`` that may go."""
    items = _sources(backup_folder(profile))  # only the backups that go are read
    named = {t.get("backup") for t in load_records(profile)["targets"].values()}
    removed = []
    for meta in items[keep:]:
        data = meta.with_suffix("")
        if str(data) in named:
            continue
        size = _size(data) + _size(meta)
        digests = {"digest": digest_of(data), "meta_digest": digest_of(meta)}
        removed.append({**_entry(meta), "bytes": size, **digests})
    out["removed"] = removed
    out["kept"] = len(items) - len(removed)
    out["bytes_freed"] = sum(b["bytes"] for b in removed)
    return out


def auto_prune(profile: ProfileParts, keep: int) -> dict[str, Any] | None:
    """After a committed deploy or restore: prune to the profile's ``keep_backups`` (``keep``;
    0 keeps every backup). Returns the prune's result, or None when there was nothing to do
    (counted without the lock: one directory listing) or pruning failed: the change it follows
    is already done, and the next deploy or an explicit prune tries again."""
    if keep == 0:
        return None
    if len(_sources(backup_folder(profile))) <= keep:
        return None
    try:
        return prune(profile, keep)
    except (MCPOrchError, OSError):
        return None

"""Backups of client files: taken before each deploy, listed, and restored.

>>> backups(profile)                  # newest first: backup, source, taken
>>> restore(profile)                  # the newest back to the file it came from
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from mcp_orch.core.clock import now_utc
from mcp_orch.core.errors import IntegrityError, NotFound
from mcp_orch.core.ids import canonical, sha256_id
from mcp_orch.services.release.audit import default_actor
from mcp_orch.services.release.context import ProfileParts
from mcp_orch.services.release.journal import Plan, changing, digest_of, run, target_lock
from mcp_orch.services.release.records import dump_records, load_records, records_path


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
    folder = profile.workspace.path / "backups" / profile.client.id / profile.id
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
    folder = profile.workspace.path / "backups" / profile.client.id / profile.id
    out = []
    if folder.is_dir():
        for p in sorted(folder.glob("*.source"), reverse=True):
            out.append(
                {
                    "backup": str(p.with_suffix("")),
                    "source": _read_meta(p)["source"],
                    "taken": p.name.split("-", 1)[0],
                }
            )
    return out


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

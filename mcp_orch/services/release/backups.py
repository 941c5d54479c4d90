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
from mcp_orch.core.errors import NotFound
from mcp_orch.core.fs import atomic_write
from mcp_orch.services.release.context import ProfileParts
from mcp_orch.services.release.records import load_records, save_records


def take_backup(profile: ProfileParts, target: Path, record: dict[str, Any] | None = None) -> Path:
    """Copy ``target`` to the workspace, with the deployment record that described it."""
    folder = profile.workspace.path / "backups" / profile.client.id / profile.id
    stamp = now_utc().strftime("%Y%m%dT%H%M%S%fZ")
    dest = folder / f"{stamp}-{target.name}"
    atomic_write(dest, target.read_bytes(), mode=0o600)
    meta = {"source": str(target), "record": record or {}}
    atomic_write(
        folder / f"{stamp}-{target.name}.source", json.dumps(meta), mode=0o600, fsync=False
    )
    return dest


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
    deployment record match it again (so the next deploy knows which entries it manages)."""
    items = backups(profile)
    if not items:
        raise NotFound(f"no backups for {profile.ref}", "backups are taken before each deploy")
    chosen = items[0]
    if backup is not None:
        chosen = next(
            (b for b in items if str(backup) in (b["backup"], Path(b["backup"]).name, b["taken"])),
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
    saved = _read_meta(Path(chosen["backup"] + ".source")).get("record") or {}
    records = load_records(profile)
    current = records["targets"].get(str(source), {})
    if source.exists() and source.read_bytes() != data:
        take_backup(profile, source, current)  # restoring is itself undoable
    atomic_write(source, data)
    if saved:
        records["targets"][str(source)] = saved
    else:  # the file predates any deploy: the entries of that deploy are no longer managed
        records["targets"].pop(str(source), None)
    save_records(profile, records)
    store = profile.workspace.store
    with store.lock(profile.client.id, profile.id):
        # `deployed` names the release the restored file came from (none if it predates them)
        store.set_ref(profile.client.id, profile.id, "deployed", saved.get("artifact_id"))
    profile.workspace.audit.append(
        "restore",
        client=profile.client.id,
        profile=profile.id,
        details={"path": str(source), "backup": chosen["backup"]},
    )
    return chosen

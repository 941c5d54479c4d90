"""Deploy: verify, render secrets, merge into the client's own file, back up, write atomically.

    >>> deployment = profile.latest().deploy()            # the client's file under the root
    >>> profile.latest().deploy(dry_run=True).diff_text   # what would change, nothing written
    >>> profile.drift()                                   # hand edits since the last deploy
    >>> profile.restore()                                 # put the previous file back

Only the entries this workspace manages for the profile change; every other entry, every other
top-level key, comments and formatting stay as they were. An existing file that does not parse
is refused and left untouched. The previous file is copied to ``backups/`` first.
"""

from __future__ import annotations

import difflib
import json
import os
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._util import (
    atomic_write,
    html_table,
    iso,
    locked,
    mask,
    now_utc,
    read_json,
    read_text_file,
    safe_html,
)
from .clients import ClientSpec, config_path, env_refs, substitute_refs
from .clients.dialects import apply_changes, read_config
from .errors import ConflictError, MCPOrchError, MissingSecret, NotFound, UsageError
from .models import Artifact, Deployment
from .signing import canonical, sha256_id
from .validation import server_map

if TYPE_CHECKING:
    from .workspace import Profile


def render_secrets(
    spec: ClientSpec, entries: dict[str, dict[str, Any]]
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Turn ``${env:NAME}`` into the client's placeholder, or into the value from the
    environment for clients that cannot expand variables. Returns (entries, resolved values).
    Every missing variable is reported at once, before anything is written."""
    if spec.placeholder is not None:
        return (
            {
                n: substitute_refs(e, lambda v: spec.placeholder_for(v) or v)
                for n, e in entries.items()
            },
            [],
        )
    entries = {n: pass_through(spec, e) for n, e in entries.items()}
    missing = sorted({v for e in entries.values() for v in env_refs(e) if v not in os.environ})
    if missing:
        raise MissingSecret(
            f"{spec.name} cannot expand variables, and {', '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not set; nothing was written",
            f"export {missing[0]}=... and deploy again",
        )
    resolved: list[str] = []

    def value(name: str) -> str:
        resolved.append(os.environ[name])
        return os.environ[name]

    return {n: substitute_refs(e, value) for n, e in entries.items()}, resolved


def pass_through(spec: ClientSpec, entry: dict[str, Any]) -> dict[str, Any]:
    """For clients that name variables instead of expanding them (Codex ``env_vars``,
    ``bearer_token_env_var``): move whole-value references into those fields, so the secret
    stays in the environment instead of being written into the file."""
    import re

    entry = dict(entry)
    if spec.env_passthrough and isinstance(entry.get(spec.stdio.env), dict):
        env = dict(entry[spec.stdio.env])
        names = list(entry.get(spec.env_passthrough) or [])
        for key, value in list(env.items()):
            if value == "${env:" + key + "}":
                del env[key]
                names.append(key)
        if names:
            entry[spec.env_passthrough] = list(dict.fromkeys(names))
        if env:
            entry[spec.stdio.env] = env
        else:
            entry.pop(spec.stdio.env)
    if spec.bearer_env_field:
        for shape in spec.remote.values():
            headers = entry.get(shape.headers)
            if not isinstance(headers, dict):
                continue
            m = re.fullmatch(
                r"Bearer \$\{env:([A-Za-z_][A-Za-z0-9_]*)\}", str(headers.get("Authorization", ""))
            )
            if m:
                headers = {k: v for k, v in headers.items() if k != "Authorization"}
                entry[spec.bearer_env_field] = m.group(1)
                if headers:
                    entry[shape.headers] = headers
                else:
                    entry.pop(shape.headers)
    return entry


def entry_digest(entry: Any) -> str:
    return sha256_id(canonical(entry))


def _records_path(profile: Profile) -> Path:
    return profile.workspace.path / "deployments" / profile.client.id / f"{profile.id}.json"


def load_records(profile: Profile) -> dict[str, Any]:
    path = _records_path(profile)
    if path.exists():
        data: dict[str, Any] = read_json(path)
        return data
    return {"targets": {}, "last": None}


def target_path(
    profile: Profile,
    path: str | os.PathLike[str] | None,
    scope: str = "user",
    project_dir: str | os.PathLike[str] | None = None,
) -> Path:
    if path is not None:
        return Path(path).expanduser().absolute()
    return Path(
        config_path(
            profile.client,
            root=profile.workspace.client_root,
            scope=scope,
            project_dir=project_dir,
        )
    )


def _mask_text(text: str, secrets: list[str]) -> str:
    for s in sorted(set(secrets), key=len, reverse=True):
        if s:
            text = text.replace(s, mask(s))
    return text


def deploy_artifact(
    profile: Profile,
    artifact: Artifact,
    *,
    path: str | os.PathLike[str] | None = None,
    dry_run: bool = False,
    adopt: bool = False,
    scope: str = "user",
    project_dir: str | os.PathLike[str] | None = None,
    record_event: bool = True,
) -> Deployment:
    """Deploy ``artifact`` for ``profile`` (see the module docstring)."""
    ws = profile.workspace
    spec = profile.client
    if (artifact.client, artifact.profile) != (spec.id, profile.id):
        raise UsageError(
            f"artifact {artifact.short_id} belongs to {artifact.client}/{artifact.profile}, "
            f"not {profile.ref}",
            "deploy it through its own profile",
        )
    artifact.bind(profile).verify()
    target = target_path(profile, path, scope, project_dir)
    unset_note = ""
    try:
        rendered, secrets = render_secrets(spec, artifact.servers)
    except MissingSecret as exc:
        if not dry_run:
            raise
        # a preview still shows where the values would go
        rendered = {
            n: substitute_refs(pass_through(spec, e), lambda v: f"<{v} is not set>")
            for n, e in artifact.servers.items()
        }
        secrets = []
        unset_note = (
            f"\n# note: {exc.message.replace('; nothing was written', '')}: deploy would stop\n"
        )

    with locked(ws.path / "locks" / ("deploy-" + sha256_id(str(target).encode())[7:23])):
        text = read_text_file(target, missing_ok=True)
        current = server_map(spec, read_config(spec, text, str(target)))
        records = load_records(profile)
        previous = records["targets"].get(str(target), {})
        managed_before = set(previous.get("managed", []))

        digests = previous.get("entry_digests", {})
        overwritten = sorted(
            n
            for n in managed_before
            if n in current and n in digests and entry_digest(current[n]) != digests[n]
        )
        changes: dict[str, dict[str, Any] | None] = {}
        conflicts = []
        for name, entry in rendered.items():
            if name in current and name not in managed_before and current[name] != entry:
                conflicts.append(name)
            if current.get(name) != entry:
                changes[name] = entry
        for name in managed_before - set(rendered):
            if name in current:
                changes[name] = None
        if conflicts and not adopt:
            raise ConflictError(
                f"{target} already has server(s) {', '.join(sorted(conflicts))} that mcp-orch "
                "does not manage, with different settings; nothing was written",
                "rename them in the draft (--name), or take them over with adopt=True "
                "(CLI: --adopt); the old file is backed up either way",
            )
        new_text = apply_changes(spec, text, changes, str(target)) if changes else text
        # the result must parse and hold exactly the rendered entries
        check = server_map(spec, read_config(spec, new_text, str(target)))
        for name, entry in rendered.items():
            if check.get(name) != entry:
                raise ConflictError(
                    f"internal check failed: {name} would not be written as intended",
                    "please report this; nothing was written",
                )
        diff_text = _mask_text(
            "".join(
                difflib.unified_diff(
                    text.splitlines(keepends=True),
                    new_text.splitlines(keepends=True),
                    f"{target} (current)",
                    f"{target} (after deploy)",
                )
            ),
            secrets,
        )
        now = iso(now_utc())
        deployment = Deployment(
            client=spec.id,
            profile=profile.id,
            artifact_id=artifact.artifact_id,
            path=str(target),
            deployed=now,
            managed=sorted(rendered),
            dry_run=dry_run,
            changed=new_text != text,
            diff_text=diff_text + unset_note,
            entry_digests={n: entry_digest(e) for n, e in rendered.items()},
            unmanaged=sorted(set(check) - set(rendered)),
            overwritten=overwritten,
        )
        if dry_run:
            return deployment
        backup = None
        if target.exists() and new_text != text:
            backup = _backup(profile, target, previous)
        if new_text != text or not target.exists():
            atomic_write(target, new_text)
        deployment.backup = str(backup) if backup else previous.get("backup")
        records["targets"][str(target)] = deployment.model_dump(exclude={"diff_text"})
        records["last"] = str(target)
        atomic_write(_records_path(profile), json.dumps(records, indent=2) + "\n")
        with ws.store.lock(spec.id, profile.id):  # type: ignore[attr-defined]
            ws.store.set_ref(spec.id, profile.id, "deployed", artifact.artifact_id)
        if record_event:
            ws.audit.append(
                "deploy",
                client=spec.id,
                profile=profile.id,
                artifact_id=artifact.artifact_id,
                changelog=artifact.changelog,
                details={
                    "path": str(target),
                    "backup": deployment.backup,
                    "changed": deployment.changed,
                    "overwritten": overwritten,
                },
            )
    return deployment


def _backup(profile: Profile, target: Path, record: dict[str, Any] | None = None) -> Path:
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


def backups(profile: Profile) -> list[dict[str, str]]:
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


def restore(profile: Profile, backup: str | os.PathLike[str] | None = None) -> dict[str, str]:
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
            raise NotFound(f"no backup {backup}", "run `mcp-orch restore --list`")
    source = Path(chosen["source"])
    data = Path(chosen["backup"]).read_bytes()
    saved = _read_meta(Path(chosen["backup"] + ".source")).get("record") or {}
    records = load_records(profile)
    current = records["targets"].get(str(source), {})
    if source.exists() and source.read_bytes() != data:
        _backup(profile, source, current)  # restoring is itself undoable
    atomic_write(source, data)
    if saved:
        records["targets"][str(source)] = saved
    else:  # the file predates any deploy: the entries of that deploy are no longer managed
        records["targets"].pop(str(source), None)
    atomic_write(_records_path(profile), json.dumps(records, indent=2) + "\n")
    store = profile.workspace.store
    with store.lock(profile.client.id, profile.id):  # type: ignore[attr-defined]
        # `deployed` names the release the restored file came from (none if it predates them)
        store.set_ref(profile.client.id, profile.id, "deployed", saved.get("artifact_id"))
    profile.workspace.audit.append(
        "restore",
        client=profile.client.id,
        profile=profile.id,
        details={"path": str(source), "backup": chosen["backup"]},
    )
    return chosen


@dataclass
class DriftReport:
    """Managed entries edited, removed or added by hand since the last deploy."""

    client: str
    profile: str
    path: str
    artifact_id: str | None
    edited: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)

    @property
    def drifted(self) -> bool:
        return bool(self.edited or self.removed or self.added)

    @property
    def status(self) -> str:
        return "drifted" if self.drifted else "clean"

    def to_dict(self) -> dict[str, Any]:
        return {
            "client": self.client,
            "profile": self.profile,
            "path": self.path,
            "artifact_id": self.artifact_id,
            "status": self.status,
            "edited": self.edited,
            "removed": self.removed,
            "added": self.added,
        }

    def __str__(self) -> str:
        lines = [f"{self.path}: {self.status}"]
        for name, changes in self.edited.items():
            lines.append(f"  edited   {name}: " + ", ".join(c["field"] for c in changes))
        lines += [f"  removed  {n}" for n in self.removed]
        lines += [f"  added    {n} (by hand, not managed)" for n in self.added]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<DriftReport {self.status}: {len(self.edited)} edited, {len(self.removed)} removed, {len(self.added)} added>"

    def _repr_html_(self) -> str:
        def render() -> str:
            rows = [
                (n, "edited", ", ".join(str(c.get("field", "?")) for c in ch))
                for n, ch in self.edited.items()
            ]
            rows += [(n, "removed", "") for n in self.removed]
            rows += [(n, "added by hand", "") for n in self.added]
            return (
                f"<div class='mco'><b>Drift</b> {escape(self.path)}: {escape(self.status)}</div>"
                + html_table(["server", "change", "fields"], rows)
            )

        return safe_html(render, self)


def drift(profile: Profile, path: str | os.PathLike[str] | None = None) -> DriftReport:
    from .diffs import field_changes

    records = load_records(profile)
    key = str(Path(path).expanduser().absolute()) if path is not None else records.get("last")
    if not key or key not in records["targets"]:
        raise NotFound(
            f"{profile.ref} has not been deployed{' to ' + str(path) if path else ''}",
            "deploy first: `mcp-orch deploy-config`",
        )
    record = records["targets"][key]
    spec = profile.client
    target = Path(key)
    text = read_text_file(target, missing_ok=True)
    current = server_map(spec, read_config(spec, text, key))
    report = DriftReport(spec.id, profile.id, key, record.get("artifact_id"))
    expected: dict[str, Any] = {}
    try:
        art = profile.workspace.store.get(record["artifact_id"])
        try:  # what deploy wrote: secrets as placeholders, or resolved where the client needs it
            expected, _ = render_secrets(spec, art.servers)
        except MissingSecret:
            expected = {
                n: substitute_refs(e, lambda v: spec.placeholder_for(v) or "${env:" + v + "}")
                for n, e in art.servers.items()
            }
    except MCPOrchError:  # drift still works from the recorded digests alone
        expected = {}
    for name in record.get("managed", []):
        if name not in current:
            report.removed.append(name)
        elif entry_digest(current[name]) != record["entry_digests"].get(name):
            changes = field_changes(expected.get(name, {}), current[name], secret_safe=True)
            report.edited[name] = changes or [{"field": "(value)", "old": None, "new": None}]
    known = set(record.get("managed", [])) | set(record.get("unmanaged", []))
    report.added = sorted(n for n in current if n not in known)
    return report

"""Drift: managed entries edited, removed or added by hand since the last deploy.

>>> report = drift(profile)           # the file deployed last, or drift(profile, path)
>>> report.status, report.edited      # 'drifted', {'github': [{'field': 'env.TOKEN', ...}]}
>>> profile.drift(tools=True).tool_changes   # live probe vs the deployed release's tool pins
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from mcp_orch.core.errors import MCPOrchError, MissingSecret, NotFound
from mcp_orch.core.fs import read_text_file
from mcp_orch.core.markup import badge, diff_block, diff_html, diff_line, page, safe_html
from mcp_orch.core.text import plural
from mcp_orch.domain.clients import server_map, substitute_refs
from mcp_orch.domain.clients.dialects import read_config
from mcp_orch.services.release.artifact import ArtifactRecord
from mcp_orch.services.release.context import ProfileParts
from mcp_orch.services.release.deploy import entry_digest, render_secrets, secrets_setting
from mcp_orch.services.release.diff import Diff, field_changes
from mcp_orch.services.release.records import load_records


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
    # with tools=True: each managed server probed live and compared with the manifest the
    # deployed release pinned (server -> the changes, as dicts; see services/probe/compare.py)
    tools_checked: bool = False
    tool_changes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    tool_errors: dict[str, str] = field(default_factory=dict)  # servers the probe could not run
    unpinned: list[str] = field(default_factory=list)  # managed servers without a tool pin
    tools_same: list[str] = field(default_factory=list)  # probed: the same as pinned

    @property
    def drifted(self) -> bool:
        return bool(self.edited or self.removed or self.added or self.tool_changes)

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
            "tools_checked": self.tools_checked,
            "tool_changes": self.tool_changes,
            "tool_errors": self.tool_errors,
            "unpinned": self.unpinned,
            "tools_same": self.tools_same,
        }

    def __str__(self) -> str:
        lines = [f"{self.path}: {self.status}"]
        for name, changes in self.edited.items():
            lines.append(f"  edited   {name}: " + ", ".join(c["field"] for c in changes))
        lines += [f"  removed  {n}" for n in self.removed]
        lines += [f"  added    {n} (by hand, not managed)" for n in self.added]
        for name, changes in self.tool_changes.items():
            lines.append(f"  tools    {name}: {plural(len(changes), 'change')} since the release")
            for c in changes:
                lines.append(f"    {c.get('kind')}: {c.get('message')}")
                lines += [f"      {d}" for d in str(c.get("diff") or "").splitlines()[:20]]
        lines += [f"  tools    {n}: not probed ({why})" for n, why in self.tool_errors.items()]
        if self.tools_same:
            lines.append(f"  tools    as pinned: {', '.join(self.tools_same)}")
        if self.tools_checked and self.unpinned:
            lines.append(
                f"  tools    not pinned in the release: {', '.join(self.unpinned)} "
                "(publish with --pin-tools)"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<DriftReport {self.status}: {len(self.edited)} edited, {len(self.removed)} removed, "
            f"{len(self.added)} added>"
        )

    def _repr_html_(self) -> str:
        def render() -> str:
            verdict = badge("warning" if self.drifted else "ok", self.status)
            head = f"<div><b>Drift</b> <code>{escape(self.path)}</code>: {verdict}</div>"
            lines = [
                diff_line(
                    f"~ {n}: edited " + ", ".join(str(c.get("field", "?")) for c in ch), "mod"
                )
                for n, ch in self.edited.items()
            ]
            lines += [diff_line(f"- {n}: removed by hand", "del") for n in self.removed]
            lines += [diff_line(f"+ {n}: added by hand (not managed)", "add") for n in self.added]
            lines += [
                diff_line(f"~ {n}: {plural(len(ch), 'tool change')} since the release", "mod")
                for n, ch in self.tool_changes.items()
            ]
            parts = [head, diff_block(lines) if lines else ""]
            for name, changes in self.tool_changes.items():
                for c in changes[:20]:
                    parts.append(
                        f"<div><b>{escape(name)}</b> {badge('warning', str(c.get('kind')))}: "
                        f"{escape(str(c.get('message')))}</div>"
                        + diff_html(str(c.get("diff") or ""), limit=60)
                    )
            parts += [
                f"<div>{badge('warning', f'{n}: tools not probed')} ({escape(why)})</div>"
                for n, why in self.tool_errors.items()
            ]
            if self.tools_same:
                parts.append(
                    f"<div>{badge('ok', 'tools as pinned')}: "
                    f"{escape(', '.join(self.tools_same))}</div>"
                )
            return page(*parts)

        return safe_html(render, self)


def drift(profile: ProfileParts, path: str | os.PathLike[str] | None = None) -> DriftReport:
    records = load_records(profile)
    key = str(Path(path).expanduser().absolute()) if path is not None else records.get("last")
    if not key or key not in records["targets"]:
        raise NotFound(
            f"{profile.ref} has not been deployed{' to ' + str(path) if path else ''}",
            "deploy the profile first",
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
            expected, _ = render_secrets(spec, art.servers, mode=secrets_setting(profile))
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


def file_diff(profile: ProfileParts, release: ArtifactRecord, file: Path, label: str) -> Diff:
    """The managed entries of ``file`` against ``release``: up-to-date, outdated (the file holds
    an older release) or diverged (edited by hand since the last deploy)."""
    spec = profile.client
    text = read_text_file(file, missing_ok=True)
    current = server_map(spec, read_config(spec, text, str(file)))
    records = load_records(profile).get("targets", {}).get(str(file), {})
    same_by_digest: set[str] = set()
    try:
        wanted, _ = render_secrets(spec, release.servers, mode=secrets_setting(profile))
    except MissingSecret:
        # the values are not in this shell: an entry is unchanged when the file still holds
        # exactly what the last deploy wrote and that deploy had the same entry
        wanted = release.servers
        try:
            deployed = profile.workspace.store.get(records["artifact_id"]).servers
        except (KeyError, MCPOrchError):
            deployed = {}
        digests = records.get("entry_digests", {})
        same_by_digest = {
            n
            for n in wanted
            if n in current
            and deployed.get(n) == wanted[n]
            and digests.get(n) == entry_digest(current[n])
        }
    managed = set(records.get("managed", [])) | set(wanted)
    d = Diff(a=str(file), b=label)
    for name, entry in wanted.items():
        if name not in current:
            d.added[name] = entry
        elif current[name] != entry and name not in same_by_digest:
            d.modified[name] = field_changes(current[name], entry, secret_safe=True)
    for name in managed - set(wanted):
        if name in current:
            d.removed[name] = current[name]
    if not d.changed:
        d.status, d.recommendation = "up-to-date", "nothing to do"
        return d
    hand_edited = False
    if records:
        try:
            hand_edited = drift(profile, file).drifted
        except MCPOrchError:
            hand_edited = False
    if hand_edited:
        d.status = "diverged"
        d.recommendation = (
            "the file was edited by hand since the last deploy: review the drift, "
            "then deploy (overwrites the managed entries) or publish the file's version"
        )
    else:
        d.status = "outdated"
        d.recommendation = f"deploy the latest release of {profile.ref}"
    return d

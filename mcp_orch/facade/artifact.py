"""The fluent artifact: a stored record bound to its profile, so it can verify, deploy and probe.

>>> artifact = draft.publish(changelog="add github")
>>> artifact.artifact_id          # 'sha256:…' — the SHA-256 of the canonical envelope
>>> artifact.verify()             # raises SignatureError on any changed byte
>>> artifact.deploy()             # -> Deployment
"""

from __future__ import annotations

import json
import os
from html import escape
from pathlib import Path
from typing import Any

from pydantic import PrivateAttr

from mcp_orch.core.errors import MCPOrchError, SignatureError, UsageError
from mcp_orch.core.markup import badge, html_table, safe_html
from mcp_orch.domain.secrets import mask_entries
from mcp_orch.services.policy.gates import deploy_under_policy
from mcp_orch.services.probe import ProbeReport, probe_set
from mcp_orch.services.release.artifact import ArtifactRecord, Deployment
from mcp_orch.services.release.backups import DEFAULT_KEEP, auto_prune
from mcp_orch.services.release.context import ProfileParts
from mcp_orch.services.release.store import Store
from mcp_orch.services.release.verify import verify_artifact


def keep_backups_setting(profile: ProfileParts) -> int | None:
    """The profile's ``keep_backups`` setting (a facade Profile has settings; any other
    ProfileParts keeps the default), or None when its draft cannot be read: then nothing is
    pruned (the setting may say to keep every backup)."""
    try:
        settings = getattr(profile, "settings", None)
    except MCPOrchError:
        return None
    if not isinstance(settings, dict):
        return DEFAULT_KEEP
    keep = settings.get("keep_backups", DEFAULT_KEEP)
    return keep if isinstance(keep, int) else None


class Artifact(ArtifactRecord):
    """A signed, content-addressed release of one profile's config."""

    _profile: ProfileParts | None = PrivateAttr(default=None)

    @classmethod
    def adopt(cls, record: ArtifactRecord, profile: ProfileParts) -> Artifact:
        """``record`` as a fluent artifact bound to ``profile``."""
        if isinstance(record, Artifact):
            art = record
        else:  # the record's id was checked when it was made or read: not hashed again
            art = cls.from_stored(record.stored(), artifact_id=record.artifact_id)
        return art.bind(profile)

    def bind(self, profile: ProfileParts) -> Artifact:
        self._profile = profile
        return self

    def _require_profile(self) -> ProfileParts:
        if self._profile is None:
            raise UsageError(
                "this artifact is not bound to a workspace, so its keys cannot be looked up",
                "load it through its profile (profile.latest(), profile.artifact(id))",
            )
        return self._profile

    def approvals(self) -> list[dict[str, str]]:
        """The co-signatures recorded beside this artifact (``key_id``, ``signature``,
        ``created``): claims until deploy counts the valid ones. Empty when unbound."""
        if self._profile is None:
            return []
        return self._profile.workspace.store.approvals(self.artifact_id)

    def to_dict(self) -> dict[str, Any]:
        """The record, and the key ids of its approvals (co-signers)."""
        return {**super().to_dict(), "approvals": [a["key_id"] for a in self.approvals()]}

    def verify(self) -> Artifact:
        """Check the id, the payload digest and the signature; ``SignatureError`` if any fails."""
        if self._profile is None:
            raise SignatureError(
                "artifact is not bound to a workspace, so its key cannot be looked up",
                "load it through its profile (profile.latest(), profile.artifact(id))",
            )
        verify_artifact(self, self._profile.workspace.keys)
        return self

    def deploy(self, path: str | os.PathLike[str] | None = None, **kw: Any) -> Deployment:
        """Deploy into the client's config file (default: its path under the client root);
        then prune the profile's backups to its ``keep_backups`` setting."""
        profile = self._require_profile()
        deployment = deploy_under_policy(profile, self, path=path, **kw)  # the policy gate first
        if not deployment.dry_run and deployment.changed:  # it took a backup
            keep = keep_backups_setting(profile)
            if keep is not None:
                auto_prune(profile, keep)
        return deployment

    def probe(self, **kw: Any) -> ProbeReport:
        """Start each server as the client would and run the MCP handshake."""
        return probe_set(self, **kw)

    def _repr_html_(self) -> str:
        def render() -> str:
            try:
                self.verify()
                status = str(badge("ok", "signature ok"))
            except MCPOrchError as exc:
                status = str(badge("error", str(exc)))
            head = (
                f"<div class='mco'><b>Artifact</b> <code>{escape(self.artifact_id)}</code><br>"
                f"{escape(self.client)}/{escape(self.profile)} · {escape(self.created)} · key "
                f"<code>{escape(self.key_id)}</code> · {status}<br>"
                f"changelog: {escape(self.changelog)} · parent: "
                f"<code>{escape(self.parent or '-')}</code></div>"
            )
            shown = mask_entries(self.servers)  # the signed payload keeps the real values
            rows = [(n, json.dumps(e, ensure_ascii=False)) for n, e in shown.items()]
            return head + html_table(["server", "entry"], rows) + self._pins_html()

        return safe_html(render, self)

    def _pins_html(self) -> str:
        """The lock and the tool pins, as tables (empty when the release has neither)."""
        out = ""
        if self.lock:
            rows = [
                (
                    name,
                    f"{row.get('registry')} {row.get('name')}",
                    row.get("version") or "-",
                    row.get("status"),
                    row.get("integrity") or row.get("reason") or "-",
                    row.get("published") or "-",
                )
                for name, row in self.lock.items()
            ]
            out += "<div class='mco'><b>Lock</b></div>" + html_table(
                ["server", "package", "version", "status", "integrity / reason", "published"], rows
            )
        if self.tools:
            pins = [
                (
                    name,
                    pin.get("digest") or pin.get("status") or "-",
                    len((pin.get("manifest") or {}).get("tools") or []),
                )
                for name, pin in self.tools.items()
            ]
            out += "<div class='mco'><b>Tool pins</b></div>" + html_table(
                ["server", "manifest digest", "tools"], pins
            )
        return out


def artifact_store(root: Path) -> Store[Artifact]:
    r"""The store under a workspace folder, loading its artifacts as fluent :class:`Artifact`\ s."""
    return Store(root, model=Artifact)

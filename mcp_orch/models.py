"""Pydantic models of the release side: artifacts, deployments.

    >>> artifact = draft.publish(changelog="add github")
    >>> artifact.artifact_id          # 'sha256:…' — the SHA-256 of the canonical envelope
    >>> artifact.verify()             # raises SignatureError on any changed byte
    >>> artifact.deploy()             # -> Deployment

The envelope (client, profile, payload, payload digest, parent, changelog, created, key id) is
serialised as RFC 8785 canonical JSON; the Ed25519 signature covers those exact bytes and the
artifact id is their SHA-256. Ids are written ``sha256:<hex>`` everywhere.
"""

from __future__ import annotations

import json
import os
from html import escape
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, PrivateAttr

from ._util import html_table, safe_html
from .signing import canonical, sha256_id

if TYPE_CHECKING:
    from .workspace import Profile

ENVELOPE_TYPE = "mcp-orch/artifact@1"


class Artifact(BaseModel):
    """A signed, content-addressed release of one profile's config."""

    model_config = ConfigDict(frozen=True)

    artifact_id: str
    payload_digest: str
    client: str
    profile: str
    payload: dict[str, Any]
    parent: str | None = None
    changelog: str = ""
    created: str
    key_id: str
    signature: str

    _profile: Any = PrivateAttr(default=None)

    # -- the signed bytes --------------------------------------------------------------------
    @staticmethod
    def make_envelope(
        *,
        client: str,
        profile: str,
        payload: dict[str, Any],
        parent: str | None,
        changelog: str,
        created: str,
        key_id: str,
    ) -> dict[str, Any]:
        return {
            "type": ENVELOPE_TYPE,
            "client": client,
            "profile": profile,
            "payload": payload,
            "payload_digest": sha256_id(canonical(payload)),
            "parent": parent,
            "changelog": changelog,
            "created": created,
            "key_id": key_id,
        }

    def envelope(self) -> dict[str, Any]:
        return {
            "type": ENVELOPE_TYPE,
            "client": self.client,
            "profile": self.profile,
            "payload": self.payload,
            "payload_digest": self.payload_digest,
            "parent": self.parent,
            "changelog": self.changelog,
            "created": self.created,
            "key_id": self.key_id,
        }

    def canonical_bytes(self) -> bytes:
        return canonical(self.envelope())

    def stored(self) -> dict[str, Any]:
        """The object as kept in the store."""
        return {"envelope": self.envelope(), "signature": self.signature}

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> Artifact:
        env = data["envelope"]
        return cls(
            artifact_id=sha256_id(canonical(env)),
            payload_digest=env["payload_digest"],
            client=env["client"],
            profile=env["profile"],
            payload=env["payload"],
            parent=env.get("parent"),
            changelog=env.get("changelog", ""),
            created=env["created"],
            key_id=env["key_id"],
            signature=data["signature"],
        )

    # -- behaviour ---------------------------------------------------------------------------
    def bind(self, profile: Profile) -> Artifact:
        self._profile = profile
        return self

    @property
    def short_id(self) -> str:
        return self.artifact_id.split(":", 1)[-1][:12]

    @property
    def servers(self) -> dict[str, dict[str, Any]]:
        from .clients import get_client
        from .validation import server_map

        return server_map(get_client(self.client), self.payload)

    def verify(self) -> Artifact:
        """Check the id, the payload digest and the signature; ``SignatureError`` if any fails."""
        from .errors import IntegrityError, SignatureError

        data = self.canonical_bytes()
        if sha256_id(data) != self.artifact_id:
            raise SignatureError(
                f"artifact {self.short_id}: id does not match its content",
                "the artifact was changed after signing; do not deploy it",
            )
        if sha256_id(canonical(self.payload)) != self.payload_digest:
            raise IntegrityError(
                f"artifact {self.short_id}: payload digest mismatch",
                "the payload was changed after signing; do not deploy it",
            )
        if self._profile is None:
            raise SignatureError(
                "artifact is not bound to a workspace, so its key cannot be looked up",
                "load it through a workspace: profile.latest() or ws.store.get(id)",
            )
        self._profile.workspace.keys.verify(self.key_id, data, self.signature)
        return self

    def deploy(self, path: str | os.PathLike[str] | None = None, **kw: Any) -> Deployment:
        """Deploy into the client's config file (default: its path under the client root)."""
        from .deploy import deploy_artifact

        return deploy_artifact(self._require_profile(), self, path=path, **kw)

    def probe(self, **kw: Any) -> Any:
        """Start each server as the client would and run the MCP handshake (see probe.py)."""
        from .probes import probe

        return probe(self, **kw)

    def _require_profile(self) -> Profile:
        if self._profile is None:
            from .errors import UsageError

            raise UsageError("artifact is not bound to a workspace", "use profile.latest()")
        profile: Profile = self._profile
        return profile

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump()

    def __eq__(self, other: object) -> bool:
        # the same signed content is the same artifact, wherever it was loaded from
        return isinstance(other, Artifact) and other.model_dump() == self.model_dump()

    def __hash__(self) -> int:
        return hash(self.artifact_id)

    def __str__(self) -> str:
        return self.__repr__()

    def __repr__(self) -> str:
        return (
            f"<Artifact {self.short_id} {self.client}/{self.profile} "
            f"{len(self.servers)} server(s) {self.created}>"
        )

    def _repr_html_(self) -> str:
        def render() -> str:
            try:
                self.verify()
                status = "<span class='add'>signature ok</span>"
            except Exception as exc:
                status = f"<span class='del'>{escape(str(exc))}</span>"
            head = (
                f"<div class='mco'><b>Artifact</b> <code>{escape(self.artifact_id)}</code><br>"
                f"{escape(self.client)}/{escape(self.profile)} · {escape(self.created)} · key "
                f"<code>{escape(self.key_id)}</code> · {status}<br>"
                f"changelog: {escape(self.changelog)} · parent: "
                f"<code>{escape(self.parent or '-')}</code></div>"
            )
            rows = [(n, json.dumps(e, ensure_ascii=False)) for n, e in self.servers.items()]
            return head + html_table(["server", "entry"], rows)

        return safe_html(render, self)


class Deployment(BaseModel):
    """What one deploy wrote (or, with ``dry_run``, would write)."""

    client: str
    profile: str
    artifact_id: str
    path: str
    deployed: str
    managed: list[str]
    backup: str | None = None
    dry_run: bool = False
    changed: bool = True
    diff_text: str = ""
    entry_digests: dict[str, str] = {}
    unmanaged: list[str] = []
    overwritten: list[str] = []  # managed entries edited by hand since the last deploy

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump()

    def __str__(self) -> str:
        return self.__repr__()

    def __repr__(self) -> str:
        verb = "would write" if self.dry_run else "wrote"
        return (
            f"<Deployment {self.artifact_id[:19]} {verb} {self.path} ({len(self.managed)} managed)>"
        )

    def _repr_html_(self) -> str:
        def render() -> str:
            verb = "dry run: would write" if self.dry_run else "wrote"
            names = ", ".join(self.managed[:50]) + (
                f" … {len(self.managed) - 50} more" if len(self.managed) > 50 else ""
            )
            diff = self.diff_text[:5000]
            if len(self.diff_text) > 5000:
                diff += f"\n… {len(self.diff_text) - 5000} more characters"
            return (
                f"<div class='mco'><b>Deployment</b> {escape(verb)} "
                f"<code>{escape(self.path)}</code><br>artifact "
                f"<code>{escape(self.artifact_id)}</code> · managed ({len(self.managed)}): "
                f"{escape(names)} · backup: {escape(self.backup or '-')}"
                f"<pre>{escape(diff)}</pre></div>"
            )

        return safe_html(render, self)

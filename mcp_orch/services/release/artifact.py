"""The release side's records: signed artifacts and deployments (data only).

    >>> record.artifact_id            # 'sha256:…' — the SHA-256 of the canonical envelope
    >>> record.envelope()             # exactly the signed fields
    >>> record.servers                # name -> client-native entry

The envelope (type, client, profile, payload, payload digest, parent, changelog, created, key id,
and, when the release has them, the package ``lock`` and the pinned ``tools``) is serialised as
RFC 8785 canonical JSON; the Ed25519 signature covers those exact bytes and the
artifact id is their SHA-256. :data:`ENVELOPE_FIELDS` is the one list of signed fields: building,
storing, loading and verifying an artifact all read it. Checking a record is
:func:`mcp_orch.services.release.verify.verify_artifact`; the fluent object with ``deploy()``,
``verify()`` and ``probe()`` is :class:`mcp_orch.facade.artifact.Artifact`.
"""

from __future__ import annotations

from html import escape
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, field_validator

from mcp_orch.core.ids import canonical, sha256_id, short_id
from mcp_orch.core.markup import badge, diff_html, page, safe_html, styled
from mcp_orch.core.text import plural
from mcp_orch.domain.clients import get_client, server_map
from mcp_orch.services.release.signing import bad_key_id, is_key_id

ENVELOPE_TYPE = "mcp-orch/artifact@1"
#: The signed fields, in the order they are written. ``type`` is the constant above.
ENVELOPE_FIELDS = (
    "type",
    "client",
    "profile",
    "payload",
    "payload_digest",
    "parent",
    "changelog",
    "created",
    "key_id",
)
#: Signed fields a release has only when publish recorded them (an envelope without them is
#: byte-identical to one written before they existed, so older artifacts keep their ids):
#: ``lock`` (server -> the package it runs, resolved against its registry: see
#: services/pinning) and ``tools`` (server -> {"digest", "manifest"}: what it offered when
#: published with ``--pin-tools``); ``policy`` (the digest of the workspace policy the release
#: was published under: services/policy) and ``registry_names`` (server -> its registry name,
#: recorded under a policy so deploy can check namespaces).
OPTIONAL_FIELDS = ("lock", "tools", "policy", "registry_names")


class ArtifactRecord(BaseModel):
    """A signed, content-addressed release of one profile's config, as stored."""

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
    lock: dict[str, Any] | None = None
    tools: dict[str, Any] | None = None
    policy: str | None = None
    registry_names: dict[str, str] | None = None

    @field_validator("key_id", mode="before")
    @classmethod
    def _key_id_form(cls, value: object) -> object:
        # a key id names a file of the keyring: never a path, never anything but the one form
        if not is_key_id(value):
            raise ValueError(bad_key_id(value))
        return value

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
        lock: dict[str, Any] | None = None,
        tools: dict[str, Any] | None = None,
        policy: str | None = None,
        registry_names: dict[str, str] | None = None,
        payload_digest: str | None = None,
    ) -> dict[str, Any]:
        """The signed fields; ``payload_digest`` when the caller has it already (publish)."""
        values = {
            "type": ENVELOPE_TYPE,
            "client": client,
            "profile": profile,
            "payload": payload,
            "payload_digest": payload_digest or sha256_id(canonical(payload)),
            "parent": parent,
            "changelog": changelog,
            "created": created,
            "key_id": key_id,
        }
        out = {k: values[k] for k in ENVELOPE_FIELDS}
        optional = {
            "lock": lock,
            "tools": tools,
            "policy": policy,
            "registry_names": registry_names,
        }
        for k in OPTIONAL_FIELDS:
            if optional[k] is not None:
                out[k] = optional[k]
        return out

    def envelope(self) -> dict[str, Any]:
        out = {k: ENVELOPE_TYPE if k == "type" else getattr(self, k) for k in ENVELOPE_FIELDS}
        for k in OPTIONAL_FIELDS:
            if getattr(self, k) is not None:
                out[k] = getattr(self, k)
        return out

    def canonical_bytes(self) -> bytes:
        return canonical(self.envelope())

    def stored(self) -> dict[str, Any]:
        """The object as kept in the store."""
        return {"envelope": self.envelope(), "signature": self.signature}

    @classmethod
    def from_stored(cls, data: dict[str, Any], *, artifact_id: str | None = None) -> Self:
        """The record of a stored object. ``artifact_id``: the digest of the canonical envelope,
        when the caller has just computed (or checked) it; otherwise it is computed here."""
        env = data["envelope"]
        fields = {k: env.get(k) for k in ENVELOPE_FIELDS if k != "type"}
        fields.update({k: env[k] for k in OPTIONAL_FIELDS if env.get(k) is not None})
        fields["changelog"] = fields.get("changelog") or ""
        if not is_key_id(fields["key_id"]):  # one plain sentence, not a pydantic report
            raise ValueError(f"its {bad_key_id(fields['key_id'])}")
        aid = artifact_id or sha256_id(canonical(env))
        return cls(artifact_id=aid, signature=data["signature"], **fields)

    # -- plain facts -------------------------------------------------------------------------
    @property
    def short_id(self) -> str:
        return short_id(self.artifact_id)

    @property
    def client_id(self) -> str:
        return self.client

    @property
    def label(self) -> str:
        return f"artifact {self.short_id}"

    @property
    def servers(self) -> dict[str, dict[str, Any]]:
        return server_map(get_client(self.client), self.payload)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump()

    def __eq__(self, other: object) -> bool:
        # the same signed content is the same artifact, wherever it was loaded from
        return isinstance(other, ArtifactRecord) and other.model_dump() == self.model_dump()

    def __hash__(self) -> int:
        return hash(self.artifact_id)

    def __str__(self) -> str:
        return self.__repr__()

    def __repr__(self) -> str:
        n = len(self.servers)
        return (
            f"<Artifact {self.short_id} {self.client}/{self.profile} "
            f"{n} server{'' if n == 1 else 's'} {self.created}>"
        )


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
            f"<Deployment {short_id(self.artifact_id)} {verb} {self.path} "
            f"({len(self.managed)} managed)>"
        )

    def _repr_html_(self) -> str:
        def render() -> str:
            verb = "dry run: would write" if self.dry_run else "wrote"
            names = ", ".join(self.managed[:50]) + (
                f" … {len(self.managed) - 50} more" if len(self.managed) > 50 else ""
            )
            head = (
                f"<div><b>Deployment</b> {escape(verb)} <code>{escape(self.path)}</code>"
                + ("" if self.changed else f" {badge('ok', 'unchanged')}")
                + f"<br>artifact <code>{escape(self.artifact_id)}</code> · "
                f"{escape(plural(len(self.managed), 'managed server'))}: {escape(names)} · "
                f"backup: {escape(self.backup or '-')}</div>"
            )
            notes = "".join(
                f"<div>{badge('warning', f'{n} had been edited by hand since the last deploy')}"
                "</div>"
                for n in self.overwritten
            )
            if self.unmanaged:
                left = ", ".join(self.unmanaged[:20]) + (" …" if len(self.unmanaged) > 20 else "")
                notes += (
                    f"<div>{styled('left as they are (not managed): ', 'muted')}"
                    f"{escape(left)}</div>"
                )
            return page(head, notes, diff_html(self.diff_text, limit=300))

        return safe_html(render, self)

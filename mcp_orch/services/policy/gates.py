"""The policy gates of publish and deploy, and co-signing (approvals).

    >>> record = publish_under_policy(profile, payload, lock=lock, registry_names=names)
    >>> deployment = deploy_under_policy(profile, record, dry_run=True)
    >>> approval = approve_artifact(ws, record)        # another key's signature on the envelope

With no ``policy.toml`` in the workspace there is no gate: publish and deploy run as before
and the envelope has no ``policy`` field. With one, publish evaluates it before signing (a
refusal writes nothing) and records its digest (and each server's registry name) in the
signed envelope; deploy verifies the release, counts the distinct valid signers among its
approvals, evaluates every rule and only then writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mcp_orch.core.clock import iso, now_utc
from mcp_orch.core.errors import UsageError
from mcp_orch.core.ids import short_id
from mcp_orch.domain.clients import server_map
from mcp_orch.services.policy.evaluate import PolicyReport, evaluate
from mcp_orch.services.policy.model import Policy, load_policy, workspace_policy_path
from mcp_orch.services.release.artifact import ArtifactRecord, Deployment
from mcp_orch.services.release.audit import default_actor
from mcp_orch.services.release.context import ProfileParts, WorkspaceParts
from mcp_orch.services.release.deploy import deploy_artifact
from mcp_orch.services.release.publish import publish_payload
from mcp_orch.services.release.verify import valid_signers, verify_artifact


def workspace_policy(ws: WorkspaceParts) -> Policy | None:
    """The workspace's policy (``<workspace>/policy.toml``), or None when it has none."""
    return load_policy(workspace_policy_path(ws.path))


def publish_under_policy(
    profile: ProfileParts,
    payload: dict[str, Any],
    *,
    registry_names: dict[str, str] | None = None,
    **kw: Any,
) -> ArtifactRecord:
    """:func:`publish_payload` behind the workspace policy (every rule but the signature
    count): refused with ``PolicyViolation`` before anything is signed or written."""
    policy = workspace_policy(profile.workspace)
    if policy is None:
        return publish_payload(profile, payload, **kw)
    servers = server_map(profile.client, payload)
    known = registry_names or {}
    names = {n: known[n] for n in servers if n in known}
    evaluate(
        policy,
        payload,
        client=profile.client,
        stage="publish",
        names=names,
        lock=kw.get("lock"),
        tools=kw.get("tools"),
        target=f"the release of {profile.ref}",
    ).raise_for_policy(f"the release of {profile.ref}", "nothing was published")
    return publish_payload(
        profile, payload, policy=policy.digest, registry_names=names or None, **kw
    )


def deploy_report(ws: WorkspaceParts, record: ArtifactRecord, policy: Policy) -> PolicyReport:
    """The deploy-stage report of ``record`` (its signature verified first: a forged release
    is a ``SignatureError``, not a finding)."""
    verify_artifact(record, ws.keys)
    signers: set[str] = set()
    problems: list[str] = []
    if policy.signatures_required:
        signers, problems = valid_signers(record, ws.store.approvals(record.artifact_id), ws.keys)
    return evaluate(policy, record, stage="deploy", signers=signers, signer_problems=problems)


def deploy_under_policy(profile: ProfileParts, record: ArtifactRecord, **kw: Any) -> Deployment:
    """:func:`deploy_artifact` behind the workspace policy, signature threshold included: a
    refusal (a dry run too) is ``PolicyViolation``, and nothing is written."""
    ws = profile.workspace
    policy = workspace_policy(ws)
    if policy is not None:
        deploy_report(ws, record, policy).raise_for_policy(
            f"deploying {record.label} ({record.client}/{record.profile})", "nothing was written"
        )
    return deploy_artifact(profile, record, **kw)


@dataclass
class Approval:
    """What one approve did: ``added`` False when this key had approved it already."""

    artifact_id: str
    client: str
    profile: str
    key_id: str
    added: bool
    publisher: str
    signers: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "artifact_id": self.artifact_id,
            "client": self.client,
            "profile": self.profile,
            "key_id": self.key_id,
            "added": self.added,
            "publisher": self.publisher,
            "signers": list(self.signers),
            "problems": list(self.problems),
        }

    def __repr__(self) -> str:
        verb = "approved" if self.added else "already approved"
        return (
            f"<Approval {short_id(self.artifact_id)} {verb} by {self.key_id} "
            f"({len(self.signers)} valid signers)>"
        )


def approve_artifact(
    ws: WorkspaceParts, record: ArtifactRecord, *, actor: str | None = None
) -> Approval:
    """Co-sign ``record`` with the workspace's current key: verify it first, refuse the key
    that published it, sign its canonical envelope bytes, record the approval beside the
    object and the event in the audit log. Approving twice with one key changes nothing."""
    keys = ws.keys
    verify_artifact(record, keys)
    ws.audit.check_ready()  # a damaged log stops the approval before anything is written
    if not keys.exists():
        keys.ensure()
    key_id = keys.signing_key_id()
    if key_id == record.key_id:
        raise UsageError(
            f"{record.label} was published with this workspace's key {key_id}: its approval "
            "would not be a second signature; nothing was recorded",
            "approve it from another workspace (another key) that trusts the publisher's key",
        )
    store = ws.store
    aid = record.artifact_id
    already = any(a["key_id"] == key_id for a in store.approvals(aid))
    added = False
    if not already:
        signed_by, signature = keys.sign(record.canonical_bytes())
        created = iso(now_utc())
        added = store.add_approval(aid, signed_by, signature, created)
        if added:  # the approval first: a crash before the event leaves a valid, unaudited one
            ws.audit.append(
                "approve",
                client=record.client,
                profile=record.profile,
                artifact_id=aid,
                actor=actor or default_actor(),
                details={"key_id": signed_by, "publisher": record.key_id, "created": created},
            )
    signers, problems = valid_signers(record, store.approvals(aid), keys)
    return Approval(
        artifact_id=aid,
        client=record.client,
        profile=record.profile,
        key_id=key_id,
        added=added,
        publisher=record.key_id,
        signers=sorted(signers),
        problems=problems,
    )


__all__ = [
    "Approval",
    "approve_artifact",
    "deploy_report",
    "deploy_under_policy",
    "publish_under_policy",
    "workspace_policy",
]

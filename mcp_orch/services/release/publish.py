"""Publish: sign a validated payload, store it, move ``latest``, record the event.

    >>> artifact = profile.draft.validate().publish(changelog="add github")
    >>> ws.publish_file("cursor", "default", "mcp.json", changelog="from file")

Under the workspace's release lock: read ``latest`` (the parent), build and sign the envelope,
then one journaled transaction (:mod:`.journal`) writes the object, appends it to the profile's
index, moves ``latest`` and appends the audit event; a crash in between is finished by the next
change or ``verify``. Publishing a payload identical to ``latest`` returns that artifact and
records nothing, unless the new release pins more: a lock that resolved where latest's did not
(or to another version or integrity), or tool manifests latest does not hold.
"""

from __future__ import annotations

from typing import Any

from mcp_orch.core.clock import iso, now_utc
from mcp_orch.core.errors import MCPOrchError
from mcp_orch.core.ids import canonical, is_plain, sha256_id
from mcp_orch.domain.clients import server_map
from mcp_orch.domain.secrets import refuse_secret_text
from mcp_orch.services.release.artifact import ArtifactRecord
from mcp_orch.services.release.audit import default_actor
from mcp_orch.services.release.context import ProfileParts
from mcp_orch.services.release.journal import Plan, changing, run
from mcp_orch.services.release.signing import Keyring
from mcp_orch.services.release.store import object_bytes
from mcp_orch.services.release.verify import verify_artifact


def _still_valid(artifact: ArtifactRecord, keys: Keyring) -> bool:
    """Whether ``latest`` still verifies: after its key was revoked, publishing the same
    payload signs it again with the current key instead of handing back the refused one."""
    try:
        verify_artifact(artifact, keys)
    except MCPOrchError:
        return False
    return True


def _resolved(lock: dict[str, Any] | None) -> dict[str, tuple[Any, Any]]:
    return {
        n: (row.get("version"), row.get("integrity"))
        for n, row in (lock or {}).items()
        if isinstance(row, dict) and row.get("status") == "resolved"
    }


def _pins_more(
    latest: ArtifactRecord, lock: dict[str, Any] | None, tools: dict[str, Any] | None
) -> bool:
    """Whether a new release of the same payload would pin something ``latest`` does not."""
    new, old = _resolved(lock), _resolved(latest.lock)
    if any(old.get(n) != v for n, v in new.items()):
        return True
    return tools is not None and tools != latest.tools


def _pin_details(lock: dict[str, Any] | None, tools: dict[str, Any] | None) -> dict[str, Any]:
    """What the audit event says about the pins (counts; the envelope has the rest)."""
    out: dict[str, Any] = {}
    if lock is not None:
        resolved = _resolved(lock)
        out["locked"] = len(resolved)
        out["unresolved"] = sorted(n for n in lock if n not in resolved)
    if tools is not None:
        out["pinned_tools"] = sorted(tools)
    return out


def publish_payload(
    profile: ProfileParts,
    payload: dict[str, Any],
    *,
    changelog: str = "",
    actor: str | None = None,
    details: dict[str, Any] | None = None,
    lock: dict[str, Any] | None = None,
    tools: dict[str, Any] | None = None,
    policy: str | None = None,
    registry_names: dict[str, str] | None = None,
) -> ArtifactRecord:
    """``policy``: the digest of the policy the caller evaluated the release against (it and
    ``registry_names`` are signed; services/policy's ``publish_under_policy`` passes them)."""
    ws = profile.workspace
    store = ws.store
    client, prof = profile.client.id, profile.id
    plain = payload if is_plain(payload) else None  # walked once, for both encodings
    digest = sha256_id(canonical(payload, plain_part=plain))
    keys = ws.keys
    # free text is signed and kept in the append-only log for ever: no token may get in
    refuse_secret_text(changelog, "changelog")
    for name in server_map(profile.client, payload):
        refuse_secret_text(name, "name")
    ws.audit.check_ready()  # a damaged log stops the publish before anything is written
    if not keys.exists():
        keys.ensure()  # records the key's creation in the audit log
    with changing(ws), store.lock(client, prof):
        parent = store.get_ref(client, prof, "latest")
        if parent is not None:
            latest = store.recall(parent)
            if (
                latest.payload_digest == digest
                and not _pins_more(latest, lock, tools)
                and (latest.policy, latest.registry_names) == (policy, registry_names)
                and _still_valid(latest, keys)
            ):
                return latest
        envelope = ArtifactRecord.make_envelope(
            client=client,
            profile=prof,
            payload=payload,
            parent=parent,
            changelog=changelog,
            created=iso(now_utc()),
            key_id=keys.signing_key_id(),
            lock=lock,
            tools=tools,
            policy=policy,
            registry_names=registry_names,
            payload_digest=digest,
        )
        data = canonical(envelope, plain_part=plain)  # once: signed and hashed into the id
        key_id, signature = keys.sign(data)
        stored = {"envelope": envelope, "signature": signature}
        artifact = store.model.from_stored(stored, artifact_id=sha256_id(data))
        assert artifact.key_id == key_id
        aid = artifact.artifact_id
        plan = Plan("publish", client, prof)
        plan.put_object(aid, stored, raw=object_bytes(stored))
        store.trust(aid, stored)
        plan.append_index(client, prof, aid)
        plan.set_ref(client, prof, "latest", aid)
        plan.event(
            "publish",
            client=client,
            profile=prof,
            artifact_id=aid,
            changelog=changelog,
            actor=actor or default_actor(),
            details={
                "parent": parent,
                "servers": len(artifact.servers),
                **_pin_details(lock, tools),
                **({"policy": policy} if policy else {}),
                **(details or {}),
            },
        )
        run(ws, plan)
        store.remember(artifact)
    return artifact

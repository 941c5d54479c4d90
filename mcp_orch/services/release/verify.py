"""Verification: one artifact (id, payload digest, signature), or a whole workspace's records.

>>> from mcp_orch.services.release.verify import verify_artifact, verify_store
>>> verify_artifact(record, keyring)           # raises SignatureError / IntegrityError
>>> report = verify_store(store, audit, keyring)
>>> report.ok, report.problems
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mcp_orch.core.errors import IntegrityError, MCPOrchError, SignatureError
from mcp_orch.core.ids import canonical, sha256_id, short_id
from mcp_orch.services.release.artifact import ArtifactRecord
from mcp_orch.services.release.audit import AuditLog
from mcp_orch.services.release.signing import Keyring
from mcp_orch.services.release.store import Store


def verify_artifact(record: ArtifactRecord, keyring: Keyring) -> None:
    """Check the id, the payload digest and the signature; raise if any of them fails."""
    data = record.canonical_bytes()
    if sha256_id(data) != record.artifact_id:
        raise SignatureError(
            f"artifact {record.short_id}: id does not match its content",
            "the artifact was changed after signing; do not deploy it",
        )
    if sha256_id(canonical(record.payload)) != record.payload_digest:
        raise IntegrityError(
            f"artifact {record.short_id}: payload digest mismatch",
            "the payload was changed after signing; do not deploy it",
        )
    keyring.verify(record.key_id, data, record.signature)


@dataclass
class VerifyReport:
    """What a verification of the whole store and audit log found."""

    artifacts: int = 0
    events: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "artifacts": self.artifacts,
            "events": self.events,
            "problems": list(self.problems),
        }

    def __getitem__(self, key: str) -> Any:  # the dict form, for code written against it
        return self.to_dict()[key]

    def __str__(self) -> str:
        head = (
            f"{'ok' if self.ok else 'PROBLEMS'}: {self.artifacts} artifact(s) verified, "
            f"{self.events} audit event(s) chained"
        )
        return "\n".join([head, *("  " + p for p in self.problems)])

    def __repr__(self) -> str:
        return f"<VerifyReport {'ok' if self.ok else 'PROBLEMS'}: {len(self.problems)} problem(s)>"


def verify_store(store: Store, audit: AuditLog, keyring: Keyring) -> VerifyReport:
    """Check every stored object, every signature, every ref and the audit chain."""
    report = VerifyReport(problems=list(store.verify_all()))
    for aid in store.all_ids():  # every object's signature, not only indexed ones
        try:
            verify_artifact(store.get(aid), keyring)
            report.artifacts += 1
        except MCPOrchError as exc:
            if not any(aid in p for p in report.problems):
                report.problems.append(f"{short_id(aid)}: {exc.message}")
    for client, prof in store.profiles():
        indexed = set(store.index(client, prof))
        for ref in ("latest", "deployed"):
            target = store.get_ref(client, prof, ref)
            if not target:
                continue
            if not store.has(target):
                report.problems.append(f"{client}/{prof}: ref {ref} points to a missing object")
            elif target not in indexed:
                report.problems.append(
                    f"{client}/{prof}: ref {ref} points to {short_id(target)}, which this "
                    "profile never published"
                )
    try:
        report.events = audit.verify()
    except MCPOrchError as exc:
        report.problems.append(f"audit: {exc.message}")
    return report

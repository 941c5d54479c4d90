"""Verification: one artifact (id, payload digest, signature), or a whole workspace's records.

>>> from mcp_orch.services.release.verify import verify_artifact, verify_store
>>> verify_artifact(record, keyring)           # raises SignatureError / IntegrityError
>>> report = verify_store(store, audit, keyring)
>>> report.ok, report.problems
"""

from __future__ import annotations

import functools
import hashlib
import os
import types
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from html import escape
from pathlib import Path
from typing import Any

from mcp_orch.core.errors import IntegrityError, MCPOrchError, SignatureError
from mcp_orch.core.fs import read_json
from mcp_orch.core.ids import canonical, sha256_id, short_id
from mcp_orch.core.markup import badge, page, safe_html, status
from mcp_orch.core.text import plural
from mcp_orch.services.release.artifact import ArtifactRecord
from mcp_orch.services.release.audit import AuditLog, ChainPoint, StaleCheckpoint
from mcp_orch.services.release.context import WorkspaceParts
from mcp_orch.services.release.journal import (
    changing,
    clean_workspace_temp_files,
    describe_pending,
    needs_repair,
)
from mcp_orch.services.release.signing import PASSPHRASE_ENV, Keyring
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


def valid_signers(
    record: ArtifactRecord, approvals: Iterable[Mapping[str, str]], keyring: Keyring
) -> tuple[set[str], list[str]]:
    """The distinct keys whose signature on ``record``'s envelope verifies against the
    workspace's trust set (own and trusted keys, none revoked): the publisher's and each
    approval's. Returns (signers, problems): an approval that does not verify is a problem
    (named), never a signer. The publisher's signature is checked too (raise-free here)."""
    data = record.canonical_bytes()
    signers: set[str] = set()
    problems: list[str] = []
    claims = [{"key_id": record.key_id, "signature": record.signature}, *approvals]
    for claim in claims:
        kid = claim.get("key_id", "")
        try:
            keyring.verify(kid, data, claim.get("signature", ""))
        except MCPOrchError as exc:
            problems.append(f"approval by {kid}: {exc.message}")
            continue
        signers.add(kid)
    return signers, problems


@dataclass(eq=False)
class VerifyReport(Mapping[str, Any]):
    """What a verification of the whole store and audit log found (and repaired). Also a
    read-only mapping with the keys of :meth:`to_dict` (``report["ok"]``, ``dict(report)``),
    for code written against the dict ``verify()`` used to return."""

    artifacts: int = 0
    events: int = 0
    problems: list[str] = field(default_factory=list)
    #: Half-done changes a crash left, finished or undone before checking; leftover temp files.
    repaired: list[str] = field(default_factory=list)
    #: Events whose chain an earlier verify checked (their bytes are unchanged): the check
    #: resumed after them. 0 when every event was checked now.
    verified_before: int = 0
    #: What the reader should know that is not a problem (why every event was checked again).
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "artifacts": self.artifacts,
            "events": self.events,
            "problems": list(self.problems),
            "repaired": list(self.repaired),
            "verified_before": self.verified_before,
            "notes": list(self.notes),
        }

    def __getitem__(self, key: str) -> Any:  # the dict form, for code written against it
        return self.to_dict()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.to_dict())

    def __len__(self) -> int:
        return len(self.to_dict())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return self.to_dict() == dict(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable, like the dict it stands for

    def __str__(self) -> str:
        head = f"{'ok' if self.ok else 'PROBLEMS'}: {self._counts()}"
        return "\n".join(
            [
                head,
                *("  " + p for p in self.problems),
                *("  repaired: " + r for r in self.repaired),
                *("  note: " + n for n in self.notes),
            ]
        )

    def _counts(self) -> str:
        counts = (
            f"{plural(self.artifacts, 'artifact')} verified, "
            f"{plural(self.events, 'audit event')} chained"
        )
        return f"{counts} ({self.incremental_text()})" if self.verified_before else counts

    def incremental_text(self) -> str:
        """How much of the chain was checked now: ``events 1..N verified earlier, N+1..M
        checked now`` (empty when every event was checked now)."""
        n, m = self.verified_before, self.events
        if not n:
            return ""
        now = f"{n + 1}..{m} checked now" if m > n + 1 else f"{m} checked now" if m > n else ""
        return f"events 1..{n} verified earlier" + (f", {now}" if now else ", none since")

    def __repr__(self) -> str:
        verdict = "ok" if self.ok else "PROBLEMS"
        return (
            f"<VerifyReport {verdict}: {self._counts()}, {plural(len(self.problems), 'problem')}>"
        )

    def _repr_html_(self) -> str:
        def render() -> str:
            head = (
                f"<div><b>Verify</b> {status(self.ok, 'ok' if self.ok else 'PROBLEMS')}: "
                f"{escape(self._counts())}</div>"
            )
            items = "".join(
                f"<li style='text-align:left'>{badge('error', p)}</li>" for p in self.problems[:200]
            )
            items += "".join(
                f"<li style='text-align:left'>{badge('info', 'repaired: ' + r)}</li>"
                for r in self.repaired[:200]
            )
            items += "".join(
                f"<li style='text-align:left'>{badge('info', 'note: ' + n)}</li>"
                for n in self.notes[:20]
            )
            more = len(self.problems) + len(self.repaired) - 400
            if more > 0:
                items += f"<li>… {more} more</li>"
            return page(head, f"<ul style='margin:2px 0'>{items}</ul>" if items else "")

        return safe_html(render, self)


#: Marks a ref whose expected value the log cannot tell (a restore recorded before 0.x).
UNKNOWN = object()


@dataclass
class _Replay:
    """What the audit log says each profile's files must hold."""

    index: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    refs: dict[tuple[str, str, str], Any] = field(default_factory=dict)
    records: dict[tuple[str, str, str], str | None] = field(default_factory=dict)
    backups: dict[str, str] = field(default_factory=dict)
    records_files: dict[tuple[str, str], str] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    #: artifact id -> the key ids whose approval (co-signature) the log records.
    approvals: dict[str, list[str]] = field(default_factory=dict)

    def dump(self) -> dict[str, Any]:
        """The state as JSON, for the verify checkpoint (every field, whatever its type)."""
        return {
            "code": _replay_code(),
            "fields": {f.name: _encode(getattr(self, f.name)) for f in fields(self)},
        }

    @classmethod
    def load(cls, data: Any) -> _Replay | None:
        """The state :meth:`dump` saved, or None when it is not one this code wrote."""
        try:
            if data["code"] != _replay_code() or set(data["fields"]) != {
                f.name for f in fields(cls)
            }:
                return None
            return cls(**{name: _decode(value) for name, value in data["fields"].items()})
        except (KeyError, TypeError, ValueError, AttributeError, RecursionError):
            return None

    def visit(self, e: dict[str, Any]) -> None:
        action, key = e.get("action"), (e.get("client", ""), e.get("profile", ""))
        details = e.get("details") or {}
        aid = e.get("artifact_id")
        if action == "key":
            self.events.append(e)
        elif action == "publish" and aid:
            self.index.setdefault(key, []).append(aid)
            self.refs[(*key, "latest")] = aid
        elif action == "pull":  # releases fetched from a remote (oldest first), approvals
            if aid:
                self.index.setdefault(key, []).extend(details.get("ids") or [])
                self.refs[(*key, "latest")] = aid
            for item in details.get("approved") or []:
                if isinstance(item, dict) and item.get("artifact_id") and item.get("key_id"):
                    self.approvals.setdefault(item["artifact_id"], []).append(item["key_id"])
        elif action == "revert":
            self.refs[(*key, "latest")] = aid
        elif action == "approve" and aid and details.get("key_id"):
            self.approvals.setdefault(aid, []).append(details["key_id"])
        elif action == "deploy":
            self.refs[(*key, "deployed")] = aid
        elif action == "restore":
            self.refs[(*key, "deployed")] = details.get("deployed", UNKNOWN)
        if action in ("deploy", "restore"):
            if "record_digest" in details and details.get("path"):
                self.records[(*key, details["path"])] = details["record_digest"]
            if details.get("records_digest"):
                self.records_files[key] = details["records_digest"]
            backup = details.get("backup") if action == "deploy" else details.get("backup_taken")
            if backup and details.get("backup_digest"):
                self.backups[backup] = details["backup_digest"]
            if backup and details.get("backup_meta_digest"):
                self.backups[backup + ".source"] = details["backup_meta_digest"]
        if action == "prune":  # the backups a prune removed are gone on purpose
            for removed in details.get("removed") or []:
                if isinstance(removed, dict) and isinstance(removed.get("backup"), str):
                    self.backups.pop(removed["backup"], None)
                    self.backups.pop(removed["backup"] + ".source", None)


def _encode(value: Any) -> Any:
    """Replay state as JSON: every container tagged with its type, so it comes back equal."""
    if value is UNKNOWN:
        return {"u": 1}
    if isinstance(value, dict):
        return {"d": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if isinstance(value, tuple):
        return {"t": [_encode(v) for v in value]}
    if isinstance(value, (set, frozenset)):
        return {"s": [_encode(v) for v in value]}
    if isinstance(value, list):
        return {"l": [_encode(v) for v in value]}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"replay state holds a {type(value).__name__}")


def _decode(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    ((tag, items),) = value.items()
    if tag == "u":
        return UNKNOWN
    if tag == "d":
        return {_decode(k): _decode(v) for k, v in items}
    if tag == "t":
        return tuple(_decode(v) for v in items)
    if tag == "s":
        return {_decode(v) for v in items}
    if tag == "l":
        return [_decode(v) for v in items]
    raise ValueError(f"unknown tag {tag!r}")


def _code_digest(code: types.CodeType, out: Any) -> None:
    out.update(code.co_code)
    out.update(repr(code.co_names).encode())
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            _code_digest(const, out)
        else:
            out.update(repr(const).encode())


@functools.cache
def _replay_code() -> str:
    """A digest of what the replay does (``_Replay.visit``'s code, the state's fields): a
    checkpoint saved by other code is not resumed from (its state may mean something else)."""
    out = hashlib.sha256(repr([f.name for f in fields(_Replay)]).encode())
    for name in ("visit", "dump", "load"):
        member = vars(_Replay)[name]
        _code_digest(getattr(member, "__func__", member).__code__, out)
    return out.hexdigest()


def verify_store(
    store: Store,
    audit: AuditLog,
    keyring: Keyring,
    workspace: WorkspaceParts | None = None,
    *,
    full: bool = False,
) -> VerifyReport:
    """Check every file the workspace relies on against its digest and against the audit log:
    objects and signatures, each profile's index and refs, deployment records and backups,
    the audit chain and its head, and the trusted keys. With the ``workspace``, half-done
    changes a crash left are first finished (or undone) and leftover temp files removed.

    The audit chain is checked from the point the last successful verify saved (the
    checkpoint ``audit/verified.json``: its position, the digest of the log's bytes before it
    and the replay state there), after checking that those bytes are unchanged; ``full``, or a
    checkpoint that is missing, damaged or no longer matches, checks every event."""
    report = VerifyReport()
    if workspace is not None and needs_repair(workspace):  # a read-only check otherwise
        try:
            with changing(workspace) as recovered:
                report.repaired += recovered
                removed = clean_workspace_temp_files(workspace, older_than=0)
        except MCPOrchError as exc:
            report.problems.append(f"journal: {exc.message}")
            report.repaired += describe_pending(workspace)
        else:
            if removed:
                report.repaired.append(f"removed {plural(len(removed), 'leftover temp file')}")
    report.problems += store.verify_all()
    replay = _replay_log(audit, report, full=full)
    objects = list(store.all_ids())
    published = {aid for ids in (replay.index.values() if replay else ()) for aid in ids}
    for aid in objects:  # every object's signature, not only indexed ones
        try:
            record = store.get(aid)
            verify_artifact(record, keyring)
            report.artifacts += 1
        except MCPOrchError as exc:
            if not any(short_id(aid) in p or aid in p for p in report.problems):
                report.problems.append(f"{short_id(aid)}: {exc.message}")
            continue
        if replay is not None and aid not in published:
            report.problems.append(
                f"{short_id(aid)} ({record.client}/{record.profile}) is in the store but the "
                "audit log has no publish of it"
            )
    if objects and replay is not None and report.events == 0:
        report.problems.append(
            f"the store holds {plural(len(objects), 'artifact')} but the audit log is empty or "
            "missing: the record of every change was removed"
        )
    if replay is None:
        return report
    try:
        report.problems += keyring.trust_problems(replay.events)
    except MCPOrchError as exc:
        report.problems.append(f"keys: {exc.message}")
    report.problems += _signing_key_problems(keyring)
    profiles = sorted(set(store.profiles()) | set(replay.index))
    for client, prof in profiles:
        _check_profile(store, replay, client, prof, report)
    _check_approvals(store, keyring, replay, report)
    if workspace is not None:
        _check_records(workspace, replay, report)
        _check_backups(replay, report, workspace)
    return report


def _check_approvals(store: Store, keyring: Keyring, replay: _Replay, report: VerifyReport) -> None:
    """Every approval the log records (an ``approve``, or one a ``pull`` added) is still beside
    its artifact, and still verifies while its key is trusted."""
    for aid, key_ids in replay.approvals.items():
        if not store.has(aid):
            continue  # a missing object is reported with the profile's index
        try:
            held = {a["key_id"]: a for a in store.approvals(aid)}
            record = store.get(aid)
        except MCPOrchError as exc:
            report.problems.append(f"{short_id(aid)}: {exc.message}")
            continue
        for kid in dict.fromkeys(key_ids):
            claim = held.get(kid)
            if claim is None:
                report.problems.append(
                    f"{short_id(aid)}: the approval by {kid} the audit log records was removed"
                )
                continue
            try:
                keyring.public_key(kid)
            except MCPOrchError:
                continue  # revoked (or no longer trusted) since: not counted, not tampering
            try:
                keyring.verify(kid, record.canonical_bytes(), claim["signature"])
            except MCPOrchError as exc:
                report.problems.append(f"{short_id(aid)}: the approval by {kid}: {exc.message}")


def _replay_log(audit: AuditLog, report: VerifyReport, *, full: bool) -> _Replay | None:
    """Check the audit chain (from the checkpoint when it holds) and replay it; None when the
    log is broken (a broken log explains nothing)."""
    saved: tuple[ChainPoint, _Replay] | None = None
    if not full:
        try:
            found = audit.read_checkpoint()
        except StaleCheckpoint as exc:
            report.notes.append(f"the verify checkpoint {audit.checkpoint_path} {exc}: {_ALL}")
            found = None
        if found is not None:
            state = _Replay.load(found[1])
            if state is None:
                report.notes.append(
                    f"the verify checkpoint {audit.checkpoint_path} was saved by another "
                    f"version: {_ALL}"
                )
            else:
                saved = (found[0], state)
    try:
        point = None
        if saved is not None:
            replay = saved[1]
            try:
                point = audit.check_chain(replay.visit, resume=saved[0])
                report.verified_before = saved[0].seq
            except StaleCheckpoint as exc:
                report.notes.append(f"since the last verify, {exc}: {_ALL}")
        if point is None:
            replay = _Replay()
            point = audit.check_chain(replay.visit)
    except MCPOrchError as exc:
        report.problems.append(f"audit: {exc.message}")
        report.verified_before = 0
        return None
    report.events = point.seq
    # only a log with events, and not past its head (a crash before the head's write); a
    # workspace that has none stays unwritten by a check
    if 0 < point.seq == audit.event_count():
        try:
            audit.write_checkpoint(point, replay.dump())
        except TypeError:  # state that JSON cannot hold: the next verify checks everything
            pass
    return replay


_ALL = "every event was checked"


def _signing_key_problems(keyring: Keyring) -> list[str]:
    """The private key must be the key ``current`` names (checked when it can be read: an
    encrypted key needs its passphrase, which verify does not ask for)."""
    if not keyring.exists():
        return []
    try:
        data = keyring.private_path.read_bytes()
    except OSError as exc:
        return [f"keys: {keyring.private_path} cannot be read ({exc.strerror})"]
    if b"ENCRYPTED" in data and not os.environ.get(PASSPHRASE_ENV):
        return []
    fresh = Keyring(keyring.path)  # no cached key: read the files as they are now
    try:
        actual, named = fresh.signing_key_id(), fresh.current_key_id()
    except MCPOrchError as exc:
        return [f"keys: {exc.message}"]
    if actual != named:
        return [
            f"keys: keys/current names {named!r} but keys/private.pem holds {actual}: one of "
            "them was changed"
        ]
    return []


def _check_profile(
    store: Store, replay: _Replay, client: str, prof: str, report: VerifyReport
) -> None:
    where = f"{client}/{prof}"
    expected = replay.index.get((client, prof), [])
    index_path = store.refs / client / prof / "index"
    want = "".join(a + "\n" for a in expected).encode()
    have = index_path.read_bytes() if index_path.exists() else b""
    if have != want:
        try:
            listed = store.index(client, prof)
        except MCPOrchError as exc:
            report.problems.append(f"{where}: {exc.message}")
        else:
            missing = [a for a in expected if a not in listed]
            extra = [a for a in listed if a not in expected]
            what = []
            if missing:
                what.append(f"misses {', '.join(short_id(a) for a in missing[:3])}")
            if extra:
                what.append(f"lists {', '.join(short_id(a) for a in extra[:3])}, never published")
            report.problems.append(
                f"{where}: the index does not match the audit log's publishes"
                + (f" ({'; '.join(what)})" if what else " (changed bytes or order)")
            )
    for aid in expected:
        if not store.has(aid):
            report.problems.append(f"{where}: published artifact {short_id(aid)} is missing")
    for ref in ("latest", "deployed"):
        try:
            target = store.get_ref(client, prof, ref)
        except MCPOrchError as exc:
            report.problems.append(f"{where}: {exc.message}")
            continue
        want_ref = replay.refs.get((client, prof, ref))
        if want_ref is UNKNOWN:
            continue
        if target is not None and not store.has(target):
            report.problems.append(f"{where}: ref {ref} points to a missing object")
            continue
        if target is not None:
            try:
                owner = store.get(target)
            except MCPOrchError:
                continue  # reported with the objects
            if (owner.client, owner.profile) != (client, prof):
                report.problems.append(
                    f"{where}: ref {ref} points to {short_id(target)}, an artifact of "
                    f"{owner.client}/{owner.profile}"
                )
                continue
        if target != want_ref:
            report.problems.append(
                f"{where}: ref {ref} points to {short_id(target) if target else 'nothing'}, but "
                f"the audit log puts {short_id(want_ref) if want_ref else 'nothing'} there "
                "(moved outside mcp-orch: a replayed or downgraded release)"
            )


def _check_records(ws: WorkspaceParts, replay: _Replay, report: VerifyReport) -> None:
    folder = ws.path / "deployments"
    for (client, prof), digest in replay.records_files.items():
        path = folder / client / f"{prof}.json"
        have = sha256_id(path.read_bytes()) if path.exists() else None
        if have != digest:
            report.problems.append(
                f"{client}/{prof}: the deployment record {path} is "
                f"{'missing' if have is None else 'not the one the last deploy or restore wrote'}"
                " (changed outside mcp-orch)"
            )
    seen: dict[tuple[str, str, str], str | None] = {}
    for path in sorted(folder.glob("*/*.json")) if folder.is_dir() else []:
        client, prof = path.parent.name, path.stem
        try:
            data = read_json(path)
            targets = data["targets"]
            for target, entry in targets.items():
                seen[(client, prof, target)] = sha256_id(canonical(entry))
        except (MCPOrchError, KeyError, TypeError, AttributeError) as exc:
            message = exc.message if isinstance(exc, MCPOrchError) else "not a deployment record"
            report.problems.append(f"deployment record {path}: {message}")
            seen.update({k: "damaged" for k in replay.records if k[:2] == (client, prof)})
    for key, expected in replay.records.items():
        have = seen.get(key)
        if expected is None:
            if have is not None:
                report.problems.append(
                    f"{key[0]}/{key[1]}: the deployment record of {key[2]} is not the one the "
                    "audit log last wrote (there should be none)"
                )
        elif have != expected:
            report.problems.append(
                f"{key[0]}/{key[1]}: the deployment record of {key[2]} was changed outside "
                "mcp-orch (its digest is not the one the audit log recorded)"
            )


def _check_backups(replay: _Replay, report: VerifyReport, ws: WorkspaceParts) -> None:
    # a backup the log names is there with its bytes, unless a prune event removed it; one
    # outside this workspace's folder (a workspace moved since) cannot be looked for
    here = os.path.realpath(ws.path / "backups") + os.sep
    for backup, digest in replay.backups.items():
        path = Path(backup)
        if not path.exists():
            if os.path.realpath(path).startswith(here):
                report.problems.append(
                    f"backup {path} is missing: it was removed outside mcp-orch (a prune "
                    "records what it removes in the audit log)"
                )
        elif sha256_id(path.read_bytes()) != digest:
            report.problems.append(f"backup {path} was changed since it was taken")

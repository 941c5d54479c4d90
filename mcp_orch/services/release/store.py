"""Content-addressed artifact objects and per-profile refs.

    >>> store = ws.store
    >>> store.put(artifact)                       # objects/sha256/ab/<hex>.json, immutable
    >>> store.get("sha256:ab12…") == artifact     # the digest is re-checked on every read
    >>> store.set_ref("cursor", "default", "latest", artifact.artifact_id)

Layout: ``objects/sha256/<2 hex>/<hex>.json`` (``{"envelope": ..., "signature": ...}`` on one
line: :func:`object_bytes`) and ``refs/<client>/<profile>/{latest,deployed}``
plus ``refs/<client>/<profile>/index`` (one artifact id per line, oldest first). Refs move by
atomic replace under the profile lock; objects are written once and never changed, so a crash at
any point leaves the store readable and consistent (at worst an object nothing points to).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator
from html import escape
from pathlib import Path
from typing import Any, Generic, TypeVar

from mcp_orch.core import signals
from mcp_orch.core.errors import (
    IntegrityError,
    MCPOrchError,
    NotFound,
    ParseError,
    StoreCorrupt,
    UsageError,
)
from mcp_orch.core.fs import atomic_write, locked, sync_or_collect
from mcp_orch.core.ids import canonical, normalise_id, sha256_id, short_id
from mcp_orch.core.markup import html_table, page, safe_html
from mcp_orch.core.text import plural
from mcp_orch.services.release.artifact import ArtifactRecord

A = TypeVar("A", bound=ArtifactRecord)

ARTIFACT_ID = re.compile(r"sha256:[0-9a-f]{64}")


def object_bytes(stored: dict[str, Any]) -> bytes:
    """A stored object's file: ``{"envelope": ..., "signature": "..."}`` on one line, by the C
    encoder, keys in the order they were built (a deploy writes the payload's entries in
    that order; indented objects written by earlier versions read the same)."""
    text = json.dumps(stored, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8") + b"\n"


class Store(Generic[A]):
    """Objects and refs under ``root``; loaded artifacts are built as ``model`` (the fluent
    :class:`~mcp_orch.facade.artifact.Artifact` in a workspace, the plain record otherwise)."""

    def __init__(self, root: Path, model: type[A] = ArtifactRecord) -> None:  # type: ignore[assignment]
        self.root = Path(root)
        self.model: type[A] = model
        self.objects = self.root / "objects" / "sha256"
        self.refs = self.root / "refs"
        self._trusted: tuple[str, dict[str, Any]] | None = None
        #: artifact id -> (the object file's stat when it was checked, its record)
        self._recalled: dict[str, tuple[tuple[int, int, int], A]] = {}

    def __repr__(self) -> str:
        try:
            count = plural(sum(1 for _ in self.all_ids()), "artifact")
        except OSError:  # a repr never raises
            count = "unreadable"
        return f"<Store {self.root}: {count}>"

    def _repr_html_(self) -> str:
        def render() -> str:
            def ref(client: str, prof: str, name: str) -> str:
                try:
                    aid = self.get_ref(client, prof, name)
                except MCPOrchError as exc:
                    return f"damaged: {exc.message}"
                return short_id(aid) if aid else "-"

            rows = []
            for client, prof in self.profiles():
                try:
                    releases: Any = len(self.index(client, prof))
                except MCPOrchError as exc:
                    releases = f"damaged: {exc.message}"
                rows.append(
                    (
                        f"{client}/{prof}",
                        releases,
                        ref(client, prof, "latest"),
                        ref(client, prof, "deployed"),
                    )
                )
            count = sum(1 for _ in self.all_ids())
            head = (
                f"<div><b>Store</b> <code>{escape(str(self.root))}</code>: "
                f"{escape(plural(count, 'artifact'))}, {escape(plural(len(rows), 'profile'))}</div>"
            )
            table = html_table(["profile", "releases", "latest", "deployed"], rows)
            return page(head, table if rows else "")

        return safe_html(render, self)

    # -- objects -----------------------------------------------------------------------------
    def object_path(self, artifact_id: str) -> Path:
        hexid = artifact_id.split(":", 1)[1]
        return self.objects / hexid[:2] / f"{hexid}.json"

    def put(self, artifact: ArtifactRecord, *, fsync: bool = True) -> Path:
        path = self.object_path(artifact.artifact_id)
        if not path.exists():
            data = object_bytes(artifact.stored())
            atomic_write(path, data, mode=0o444, fsync=fsync, checked=True)
        return path

    _object_path = object_path  # the older private name, kept for callers

    def trust(self, artifact_id: str, stored: dict[str, Any]) -> None:
        """Note that ``stored`` (this very object) hashes to ``artifact_id``: publish has just
        computed it from the bytes it signed, so :meth:`put_stored` need not hash it again.
        Held by reference, so the identity check cannot match another object."""
        self._trusted = (artifact_id, stored)

    def put_stored(
        self,
        artifact_id: str,
        stored: dict[str, Any],
        *,
        fsync: bool = True,
        raw: bytes | None = None,
    ) -> Path:
        """Write an object from its stored form (a journal replays publishes this way).
        ``raw``: the object's bytes when the caller has them (publish, see
        :func:`object_bytes`)."""
        trusted, self._trusted = self._trusted, None
        known = trusted is not None and trusted[0] == artifact_id and trusted[1] is stored
        path = self.object_path(artifact_id)
        if known and raw is not None:
            if not path.exists():
                atomic_write(path, raw, mode=0o444, fsync=fsync, checked=True)
            return path
        if sha256_id(canonical(stored["envelope"])) != artifact_id:
            raise IntegrityError(
                f"artifact {artifact_id} does not match its digest; nothing was written",
                "verify the workspace",
            )
        if not path.exists():
            atomic_write(
                path,
                object_bytes(stored),
                mode=0o444,
                fsync=fsync,
                checked=True,
            )
        return path

    def resolve(self, artifact_id: str) -> str:
        """The full id for a full id or a unique prefix."""
        full = normalise_id(artifact_id)
        hexid = full.split(":", 1)[1]
        if len(hexid) == 64:
            return full
        folder = self.objects / hexid[:2]
        matches = sorted(p.stem for p in folder.glob(f"{hexid}*.json")) if folder.is_dir() else []
        if len(matches) == 1:
            return "sha256:" + matches[0]
        if not matches:
            raise NotFound(
                f"no artifact {artifact_id}", "the profile's history lists its artifacts"
            )
        raise UsageError(f"artifact prefix {artifact_id} is ambiguous", "give more digits")

    def has(self, artifact_id: str) -> bool:
        """Whether the object of this full id is in the store."""
        return self.object_path(artifact_id).exists()

    def get(self, artifact_id: str) -> A:
        """Load an artifact, re-checking that its content still hashes to its id."""
        full = self.resolve(artifact_id)
        path = self.object_path(full)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise NotFound(
                f"no artifact {full}", "the profile's history lists its artifacts"
            ) from None
        try:
            data = json.loads(raw)
            envelope = data["envelope"]
        except (json.JSONDecodeError, KeyError, TypeError):
            raise IntegrityError(
                f"artifact {full} is damaged (not a stored artifact)",
                "verify the workspace, and restore the object from a backup",
            ) from None
        if sha256_id(canonical(envelope)) != full:
            raise IntegrityError(
                f"artifact {full} does not match its digest: its content was changed",
                "do not deploy it; verify the workspace and restore the object from a backup",
            )
        try:
            return self.model.from_stored(data, artifact_id=full)
        except Exception as exc:  # pydantic errors on damaged fields
            raise IntegrityError(
                f"artifact {full} is damaged: {exc}", "verify the workspace to see what else is"
            ) from None

    def _stamp(self, artifact_id: str) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.object_path(artifact_id))
        except OSError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def remember(self, record: A) -> None:
        """Note a record this process has just written or checked, for :meth:`recall`."""
        stamp = self._stamp(record.artifact_id)
        if stamp is not None:
            if len(self._recalled) >= 64:
                self._recalled.pop(next(iter(self._recalled)))
            self._recalled[record.artifact_id] = (stamp, record)

    def recall(self, artifact_id: str) -> A:
        """:meth:`get` of a full id, without parsing and hashing the object again when this
        process wrote or checked it and its file has not changed since (same inode, size and
        time). For publish's look at ``latest``; what deploys and verifies reads with
        :meth:`get`."""
        known = self._recalled.get(artifact_id)
        if known is not None and known[0] == self._stamp(artifact_id):
            return known[1]
        record = self.get(artifact_id)
        self.remember(record)
        return record

    # -- co-signatures (approvals) -------------------------------------------------------------
    def approvals_path(self, artifact_id: str) -> Path:
        """``objects/sha256/<2 hex>/<hex>.approvals``: the co-signatures of one artifact, one
        JSON line each (``key_id``, ``signature``, ``created``). Kept beside the object, not in
        it: an approval signs the same canonical envelope bytes, so the artifact id is unchanged."""
        hexid = artifact_id.split(":", 1)[1]
        return self.objects / hexid[:2] / f"{hexid}.approvals"

    def approvals(self, artifact_id: str) -> list[dict[str, str]]:
        """The co-signatures recorded for an artifact, oldest first (one per key). They are
        *claims* until checked: :func:`mcp_orch.services.release.verify.valid_signers` verifies
        each against the envelope and the workspace's trust set."""
        path = self.approvals_path(normalise_id(artifact_id))
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return []
        out: dict[str, dict[str, str]] = {}
        for number, line in enumerate(raw.splitlines(), 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                entry = {k: str(item[k]) for k in ("key_id", "signature", "created")}
            except (json.JSONDecodeError, KeyError, TypeError):
                raise StoreCorrupt(
                    f"{path} is damaged (line {number} is not an approval)",
                    "remove the file and pull or approve the artifact again",
                ) from None
            out.setdefault(entry["key_id"], entry)
        return list(out.values())

    def add_approval(self, artifact_id: str, key_id: str, signature: str, created: str) -> bool:
        """Record a co-signature (callers verified it). False when that key's approval is
        already there: approving twice changes nothing."""
        full = normalise_id(artifact_id)
        if any(a["key_id"] == key_id for a in self.approvals(full)):
            return False
        path = self.approvals_path(full)
        path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"key_id": key_id, "signature": signature, "created": created})
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, (line + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        return True

    def signatures(self, artifact_id: str) -> list[dict[str, str]]:
        """Every signature claimed for an artifact: the publisher's first, then the approvals."""
        record = self.get(artifact_id)
        primary = {
            "key_id": record.key_id,
            "signature": record.signature,
            "created": record.created,
        }
        return [
            primary,
            *(a for a in self.approvals(record.artifact_id) if a["key_id"] != record.key_id),
        ]

    def all_ids(self) -> Iterator[str]:
        if self.objects.is_dir():
            for path in sorted(self.objects.glob("*/*.json")):
                yield "sha256:" + path.stem

    # -- refs --------------------------------------------------------------------------------
    def _ref_dir(self, client: str, profile: str) -> Path:
        return self.refs / client / profile

    def lock(self, client: str, profile: str) -> contextlib.AbstractContextManager[None]:
        return locked(self._ref_dir(client, profile) / "profile")

    def get_ref(self, client: str, profile: str, name: str) -> str | None:
        path = self._ref_dir(client, profile) / name
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        if not raw:
            return None
        try:  # exactly what set_ref writes: the id and one newline
            value = raw.decode("ascii").removesuffix("\n")
        except UnicodeDecodeError:
            value = "\ufffd"
        if not ARTIFACT_ID.fullmatch(value):
            raise StoreCorrupt(
                f"{path} is damaged: a ref holds one artifact id (sha256: and 64 hex digits)",
                "verify the workspace: it says which release the audit log puts there",
            )
        return value

    def set_ref(self, client: str, profile: str, name: str, artifact_id: str | None) -> None:
        """Move a ref by atomic replace (callers hold the profile lock)."""
        path = self._ref_dir(client, profile) / name
        if artifact_id is None:
            if path.exists():
                os.unlink(path)
        else:
            atomic_write(path, artifact_id + "\n", checked=True)  # get_ref checks its form
        signals.emit(self.root, "refs", client, profile, ref=name, artifact_id=artifact_id)

    def append_index(self, client: str, profile: str, artifact_id: str) -> None:
        path = self._ref_dir(client, profile) / "index"
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, (artifact_id + "\n").encode())
            sync_or_collect(fd, path)
        finally:
            os.close(fd)

    def indexed(self, client: str, profile: str, artifact_id: str) -> bool:
        """Whether the profile's index lists ``artifact_id``: one search of the file's bytes,
        not a parse of every line (a journal asks it of every publish; :meth:`index` checks
        the file's form)."""
        path = self._ref_dir(client, profile) / "index"
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return False
        needle = artifact_id.encode("ascii") + b"\n"
        return raw.startswith(needle) or b"\n" + needle in raw

    def index(self, client: str, profile: str) -> list[str]:
        path = self._ref_dir(client, profile) / "index"
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return []
        try:
            lines = raw.decode("ascii").splitlines()
        except UnicodeDecodeError:
            lines = ["\ufffd"]
        bad = next((i for i, line in enumerate(lines, 1) if not ARTIFACT_ID.fullmatch(line)), None)
        if bad is not None:
            raise StoreCorrupt(
                f"{path} is damaged (line {bad} is not an artifact id)",
                "verify the workspace: the audit log says which releases belong in it",
            )
        return list(dict.fromkeys(lines))

    def profiles(self) -> list[tuple[str, str]]:
        out = []
        if self.refs.is_dir():
            for client_dir in sorted(p for p in self.refs.iterdir() if p.is_dir()):
                for prof in sorted(p for p in client_dir.iterdir() if p.is_dir()):
                    out.append((client_dir.name, prof.name))
        return out

    def verify_all(self) -> list[str]:
        """Problems found in every object (digest) — empty when the store is sound."""
        problems = []
        for aid in self.all_ids():
            try:
                self.get(aid)
            except (IntegrityError, ParseError) as exc:
                problems.append(exc.message)
        return problems

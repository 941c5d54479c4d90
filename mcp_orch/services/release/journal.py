"""Transactions: every change to the store, a client file and the record goes through a plan.

    >>> with changing(ws):                          # the workspace's release lock; finishes or
    ...     plan = Plan("publish", client, prof)    # undoes any change a crash left half-done
    ...     plan.put_object(record)
    ...     plan.set_ref(client, prof, "latest", record.artifact_id)
    ...     plan.event("publish", client=client, profile=prof, artifact_id=record.artifact_id)
    ...     run(ws, plan)                           # journal, apply step by step, forget

A plan is a list of small idempotent steps (write an object, append to an index, move a ref,
replace a file whose digest is known, copy a file, append the audit event). :func:`run` writes
the whole plan to ``journal/<txn>.json`` (fsync'd) before the first step and deletes it after the
last one, the audit event, once the fsyncs the steps collected (:func:`~mcp_orch.core.fs.
collecting_syncs`: folders, and the files whose readers check them) are done, together. So after
a crash at any point there is either no journal entry (and no change), or a journal entry and a
prefix of its steps done (after a power cut: any of them): :func:`recover` (run under the lock by
the next change and by ``verify``) finds the last step that is done, does again an earlier one
the disk lost, and replays the rest, which ends with the audit event, so refs, client files and
the audit log agree again. A step
that cannot be replayed because someone changed the file since (a client app saved its config)
undoes the change instead: the file is left as the user has it and nothing is recorded.

The release lock is per workspace; client files are also locked by their real path in a folder
every workspace of the user shares (:func:`target_lock`), so two workspaces, or a symlink and its
target, never interleave their read-merge-write of one file.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from mcp_orch.core import signals
from mcp_orch.core.clock import iso, now_utc
from mcp_orch.core.errors import (
    ConflictError,
    FileChanged,
    FileError,
    IntegrityError,
    NotFound,
    StoreCorrupt,
)
from mcp_orch.core.fs import atomic_write, collecting_syncs, file_lock, holding, locked
from mcp_orch.core.ids import canonical, sha256_id
from mcp_orch.services.release.context import WorkspaceParts

JOURNAL = "journal"
#: Temporary files older than this are leftovers of a crash (no write takes a minute).
STALE_TMP_SECONDS = 60.0


def digest_of(path: Path) -> str | None:
    """The sha256 id of a file's bytes, or None when it does not exist."""
    try:
        return sha256_id(Path(path).read_bytes())
    except FileNotFoundError:
        return None


def _file_lock(path: Path, timeout: float = 30.0) -> Any:
    """One lock object per lock file in this process (by its real path): re-entrant in a
    thread, exclusive between threads and processes."""
    return file_lock(Path(os.path.realpath(path)), timeout)


def release_lock(ws: WorkspaceParts) -> contextlib.AbstractContextManager[None]:
    return holding(_file_lock(ws.path / "locks" / "release.lock"), f"the workspace {ws.path}")


def shared_lock_dir() -> Path:
    """The per-user folder for locks on client files, the same for every workspace of the user:
    ``$XDG_RUNTIME_DIR/mcp-orch`` (private to the user), else ``<tmp>/mcp-orch-<uid>``, made
    with mode 0700 and refused when someone else owns it."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime):
        folder = Path(runtime) / "mcp-orch" / "locks"
    else:
        uid = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
        folder = Path(tempfile.gettempdir()) / f"mcp-orch-{uid}" / "locks"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    if hasattr(os, "getuid"):
        st = os.lstat(folder.parent)
        if st.st_uid != os.getuid() or os.path.islink(folder.parent):
            raise FileError(
                f"{folder.parent} belongs to another user, so mcp-orch cannot lock client files "
                "there; nothing was changed",
                "remove that folder, or set XDG_RUNTIME_DIR to a folder only you can write",
                path=str(folder.parent),
            )
    return folder


def target_lock(target: Path) -> contextlib.AbstractContextManager[None]:
    """The lock on one client file, by its real path (symlinks resolved)."""
    real = os.path.realpath(target)
    lock = _file_lock(shared_lock_dir() / (sha256_id(real.encode())[7:39] + ".lock"))
    return holding(lock, str(target))


@contextlib.contextmanager
def changing(ws: WorkspaceParts) -> Iterator[list[str]]:
    """Hold the workspace's release lock; first finish or undo what a crash left behind.
    Yields the messages of that recovery (usually none). The workspace's change signal hears
    of the changes once the lock is released (one batch: never a change half-done)."""
    with signals.batch(), release_lock(ws):
        yield recover(ws)


# ---- plans -----------------------------------------------------------------------------------


class Plan:
    """The steps of one change, in order; the last one is the audit event."""

    def __init__(self, action: str, client: str = "", profile: str = "") -> None:
        self.action, self.client, self.profile = action, client, profile
        self.steps: list[dict[str, Any]] = []
        #: The bytes of each write step, by the step's id(): what this process applies (the
        #: journal keeps them base64-encoded, for a recovery)
        self.raw: dict[int, bytes] = {}

    def put_object(
        self, artifact_id: str, stored: dict[str, Any], *, raw: bytes | None = None
    ) -> None:
        """``raw``: the object file's bytes when the caller has them (publish)."""
        step = {"op": "object", "id": artifact_id, "stored": stored}
        self.steps.append(step)
        if raw is not None:
            self.raw[id(step)] = raw

    def append_index(self, client: str, profile: str, artifact_id: str) -> None:
        self.steps.append({"op": "index", "client": client, "profile": profile, "id": artifact_id})

    def set_ref(self, client: str, profile: str, name: str, value: str | None) -> None:
        self.steps.append(
            {"op": "ref", "client": client, "profile": profile, "name": name, "value": value}
        )

    def write(self, path: Path, data: str | bytes, *, before: str | None, mode: int = 0) -> str:
        """Replace ``path`` (whose bytes must still hash to ``before``; None: must not exist)
        with ``data``; returns the digest of ``data``."""
        raw = data.encode("utf-8") if isinstance(data, str) else data
        after = sha256_id(raw)
        step = {
            "op": "write",
            "path": str(path),
            "data": base64.b64encode(raw).decode("ascii"),
            "before": before,
            "after": after,
            "mode": mode,
        }
        self.steps.append(step)
        self.raw[id(step)] = raw
        return after

    def copy(self, src: Path, dest: Path, *, digest: str, mode: int = 0) -> None:
        """Copy ``src`` (which must hash to ``digest``) to ``dest``."""
        self.steps.append(
            {"op": "copy", "src": str(src), "dest": str(dest), "digest": digest, "mode": mode}
        )

    def event(self, action: str, **fields: Any) -> None:
        self.steps.append({"op": "event", "action": action, "fields": fields})


def _intent(ws: WorkspaceParts, plan: Plan) -> dict[str, Any]:
    audit = ws.audit
    size = audit.path.stat().st_size if audit.path.exists() else 0
    body = {
        "txn": uuid.uuid4().hex,
        "action": plan.action,
        "client": plan.client,
        "profile": plan.profile,
        "started": iso(now_utc()),
        "audit_size": size,
        "steps": plan.steps,
    }
    return body  # its digest is added by run, once the steps already done are left out


def run(ws: WorkspaceParts, plan: Plan) -> dict[str, Any]:
    """Journal the plan, apply every step, forget the plan; returns the audit event.

    When a step fails in this process (the file changed under us, a full disk, Ctrl+C), the
    steps done so far are undone in reverse order from what the journal entry recorded, the
    entry is forgotten and the error is raised: a failed change changes nothing. Only a crash
    leaves the entry, and :func:`recover` then finishes the change."""
    if not plan.steps or plan.steps[-1]["op"] != "event":
        raise ValueError("a plan ends with its audit event")
    intent = _intent(ws, plan)
    # a step that is already true now (a ref that stays, a file that keeps its bytes) is left
    # out, so a done step in the journal always means this transaction did it
    steps = [s for s in intent["steps"] if s["op"] == "event" or not _done(ws, intent, s)]
    for step in steps:
        step["undo"] = _undo_info(ws, step, steps)
    intent["steps"] = steps
    body = _encode(intent)  # encoded once: hashed, and written with the digest appended
    intent["digest"] = sha256_id(body)
    path = ws.path / JOURNAL / f"{intent['txn']}.json"
    # durable before the first step: from here on a crash is finished by recover()
    atomic_write(path, body[:-1] + _digest_suffix(intent["digest"]), mode=0o600, now=True)
    event: dict[str, Any] = {}
    applied: list[dict[str, Any]] = []
    synced = True
    try:
        # the steps' fsyncs are collected and done together, in parallel, once all are
        # written (one wait instead of six); the journal entry is forgotten only after that
        with collecting_syncs() as later:
            try:
                for step in steps:
                    applied.append(step)  # undone too if it fails half-way
                    out = _apply(ws, intent, step, recovering=False, raw=plan.raw.get(id(step)))
                    if out is not None:
                        event = out
            except BaseException:
                if later:
                    with contextlib.suppress(OSError):
                        sync_all(later)
                raise
            if later:
                synced = False
                sync_all(later)
    except BaseException as exc:
        if _event_of(ws, intent) is not None:  # the event is written: the change is complete
            if synced:  # else kept: the disk may not have the steps, recover() redoes them
                _forget(path)
            raise
        try:
            for step in reversed(applied):
                _undo(ws, step)
        except Exception:
            raise FileError(
                f"the {plan.action} of {plan.client}/{plan.profile} failed half-way ({exc}) "
                "and could not be undone",
                "fix the cause (disk space, permissions); the change is kept in the journal "
                "and is finished by the next change or by verifying the workspace",
            ) from exc
        _forget(path)
        raise
    # every step is durable already (its fsyncs were done together above): should the
    # deletion be lost to a power cut, the entry comes back complete and recovery only says so
    _forget(path, durable=False)
    _tell_deploys(ws, plan, steps)
    return event


_POOL: tuple[int, ThreadPoolExecutor] | None = None


def _pool() -> ThreadPoolExecutor:
    """The threads that fsync together (made again in a forked child, where the parent's
    threads are gone)."""
    global _POOL
    if _POOL is None or _POOL[0] != os.getpid():
        _POOL = (os.getpid(), ThreadPoolExecutor(max_workers=8, thread_name_prefix="fsync"))
    return _POOL[1]


def sync_all(paths: dict[str, bool]) -> None:
    """fsync every file and folder of ``paths`` (``{path: is_folder}``, from
    :func:`~mcp_orch.core.fs.collecting_syncs`) at once: the calls wait on the disk in
    parallel, so the file system commits them together. A path gone since is skipped."""
    fds: list[int] = []
    try:
        for name, folder in paths.items():
            try:
                fds.append(os.open(name, os.O_RDONLY | (os.O_DIRECTORY if folder else 0)))
            except FileNotFoundError:
                continue
        if len(fds) == 1:
            os.fsync(fds[0])
        elif fds:
            for _ in _pool().map(os.fsync, fds):
                pass
    finally:
        for fd in fds:
            os.close(fd)


def _tell_deploys(ws: WorkspaceParts, plan: Plan, steps: list[dict[str, Any]]) -> None:
    """A write outside the workspace's deployment records and backups is a client's config
    file (deploy, restore): tell the workspace's change signal (refs and audit events tell it
    themselves, as they are written)."""
    if not any(step["op"] == "write" for step in steps):
        return
    own = tuple(os.path.realpath(ws.path / d) + os.sep for d in ("deployments", "backups"))
    for step in steps:
        if step["op"] == "write" and not os.path.realpath(step["path"]).startswith(own):
            signals.emit(
                ws.path, "deploy", plan.client, plan.profile, path=step["path"], action=plan.action
            )


def _undo_info(ws: WorkspaceParts, step: dict[str, Any], steps: list[dict[str, Any]]) -> Any:
    """What puts the world back as it was before ``step`` (recorded in the journal)."""
    op = step["op"]
    store = ws.store
    if op == "index":
        index = store.refs / step["client"] / step["profile"] / "index"
        return {"size": index.stat().st_size if index.exists() else 0}
    if op == "ref":
        return {"value": store.get_ref(step["client"], step["profile"], step["name"])}
    if op == "write":
        target = Path(step["path"])
        if step["before"] is None:
            return {"delete": True}
        backup = next(
            (s["dest"] for s in steps if s["op"] == "copy" and s["src"] == str(target)), None
        )
        if backup is not None:
            return {"from": backup, "digest": step["before"]}
        return {"data": base64.b64encode(target.read_bytes()).decode("ascii")}
    return None


def _undo(ws: WorkspaceParts, step: dict[str, Any]) -> None:
    op = step["op"]
    undo: dict[str, Any] = step.get("undo") or {}
    store = ws.store
    if op == "object":
        with contextlib.suppress(FileNotFoundError):
            path = store.object_path(step["id"])
            os.chmod(path, 0o644)
            os.unlink(path)
    elif op == "index":
        _truncate_index(ws, step)
    elif op == "ref":
        store.set_ref(step["client"], step["profile"], step["name"], undo["value"])
    elif op == "write":
        target = Path(step["path"])
        if digest_of(target) != step["after"]:
            return  # never replaced (or changed since by someone else): leave it
        if undo.get("delete"):
            os.unlink(target)
        elif "from" in undo:
            atomic_write(target, Path(undo["from"]).read_bytes())
        else:
            atomic_write(target, base64.b64decode(undo["data"]))
    elif op == "copy":
        with contextlib.suppress(FileNotFoundError):
            os.unlink(step["dest"])


def _truncate_index(ws: WorkspaceParts, step: dict[str, Any]) -> None:
    index = ws.store.refs / step["client"] / step["profile"] / "index"
    size = int((step.get("undo") or {}).get("size", 0))
    if index.exists():
        with open(index, "r+b") as fh:
            fh.truncate(size)
            os.fsync(fh.fileno())


def _forget(path: Path, *, durable: bool = True) -> None:
    os.unlink(path)
    if durable and hasattr(os, "O_DIRECTORY"):
        with contextlib.suppress(OSError):
            fd = os.open(path.parent, os.O_DIRECTORY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


# ---- steps -----------------------------------------------------------------------------------


def _replace_checked(path: Path, raw: bytes, before: str | None, mode: int) -> None:
    def unchanged(_tmp: Path) -> None:  # just before the rename: nobody saved in between
        now = digest_of(path)
        if now != before:
            raise FileChanged(
                f"{path} changed while mcp-orch was writing it (another program saved it); "
                "nothing was written",
                "run the command again: it merges into the file as it is now",
            )

    atomic_write(path, raw, mode=mode or None, before_replace=unchanged)


def _done(
    ws: WorkspaceParts, intent: dict[str, Any], step: dict[str, Any], *, thorough: bool = False
) -> bool:
    """Whether ``step`` holds now. ``thorough`` (recovery): an object must also hash to its id,
    and a ref or index that no longer reads (torn by a power cut before the step's collected
    fsync) is not done, rather than an error."""
    op = step["op"]
    store = ws.store
    if op == "object":
        if not thorough:
            return bool(store.has(step["id"]))
        try:
            store.get(step["id"])
        except (IntegrityError, StoreCorrupt, NotFound):
            return False
        return True
    if op == "index":
        if not thorough:
            return bool(store.indexed(step["client"], step["profile"], step["id"]))
        try:
            return step["id"] in store.index(step["client"], step["profile"])
        except StoreCorrupt:
            return False
    if op == "ref":
        try:
            return store.get_ref(step["client"], step["profile"], step["name"]) == step["value"]
        except StoreCorrupt:
            if thorough:
                return False
            raise
    if op == "write":
        return digest_of(Path(step["path"])) == step["after"]
    if op == "copy":
        return digest_of(Path(step["dest"])) == step["digest"]
    if op == "event":
        return _event_of(ws, intent) is not None
    raise StoreCorrupt(f"journal entry {intent['txn']} has an unknown step {op!r}")


def _apply(
    ws: WorkspaceParts,
    intent: dict[str, Any],
    step: dict[str, Any],
    *,
    recovering: bool,
    raw: bytes | None = None,
) -> dict[str, Any] | None:
    """Do one step. ``raw``: a write step's bytes when the caller has them (else they are
    decoded from the step)."""
    op = step["op"]
    store = ws.store
    if op == "object":
        if recovering:  # a file the rename kept but a power cut emptied is written again
            path = store.object_path(step["id"])
            if path.exists() and not _done(ws, intent, step, thorough=True):
                os.chmod(path, 0o644)
                os.unlink(path)
        store.put_stored(step["id"], step["stored"], raw=raw)
    elif op == "index":
        if recovering:
            try:
                listed = step["id"] in store.index(step["client"], step["profile"])
            except StoreCorrupt:  # a torn append: back to what it held before this change
                _truncate_index(ws, step)
                listed = False
            if not listed:
                store.append_index(step["client"], step["profile"], step["id"])
        else:
            store.append_index(step["client"], step["profile"], step["id"])
    elif op == "ref":
        store.set_ref(step["client"], step["profile"], step["name"], step["value"])
    elif op == "write":
        path = Path(step["path"])
        if not recovering or digest_of(path) != step["after"]:
            data = raw if raw is not None else base64.b64decode(step["data"])
            _replace_checked(path, data, step["before"], step["mode"])
    elif op == "copy":
        src, dest = Path(step["src"]), Path(step["dest"])
        raw = src.read_bytes() if src.exists() else b""
        if sha256_id(raw) != step["digest"]:
            raise FileChanged(
                f"{src} changed while mcp-orch was copying it; nothing was written",
                "run the command again",
            )
        atomic_write(dest, raw, mode=step["mode"] or None)
    elif op == "event":
        fields = dict(step["fields"])
        details = {**(fields.pop("details", None) or {}), "txn": intent["txn"]}
        if recovering:
            details["recovered"] = True
        return ws.audit.append(step["action"], details=details, **fields)
    return None


def _event_of(ws: WorkspaceParts, intent: dict[str, Any]) -> dict[str, Any] | None:
    """The audit event of this transaction, if it was written (it can only be after the size
    the log had when the transaction began)."""
    path = ws.audit.path
    try:
        with open(path, "rb") as fh:
            fh.seek(int(intent.get("audit_size", 0)))
            tail = fh.read()
    except FileNotFoundError:
        return None
    needle = f'"txn":"{intent["txn"]}"'.encode()
    if needle not in tail:
        return None
    for line in tail.splitlines():
        if needle in line:
            event: dict[str, Any] = json.loads(line)
            return event
    return None


# ---- recovery --------------------------------------------------------------------------------


def _names(folder: Path) -> list[str]:
    try:
        with os.scandir(folder) as entries:
            return [e.name for e in entries]
    except FileNotFoundError:
        return []


def pending(ws: WorkspaceParts) -> list[Path]:
    folder = ws.path / JOURNAL
    return sorted(folder / n for n in _names(folder) if n.endswith(".json"))


def _encode(intent: dict[str, Any]) -> bytes:
    """A journal entry's bytes (the C encoder, ASCII: the journal is never compared with
    anything but itself, so it need not be canonical)."""
    return json.dumps(intent, separators=(",", ":")).encode("ascii")


def _digest_suffix(digest: str) -> bytes:
    return b',"digest":"' + digest.encode("ascii") + b'"}'


def _load_intent(path: Path) -> dict[str, Any]:
    """A journal entry whose digest still matches: the sha256 of the bytes it was written
    with (the entry less its digest field, which is written last), or of its canonical form
    (entries written by earlier versions)."""
    try:
        raw = path.read_bytes()
        intent: dict[str, Any] = json.loads(raw)
        digest = str(intent.get("digest"))
        suffix = _digest_suffix(digest)
        ok = raw.endswith(suffix) and sha256_id(raw[: -len(suffix)] + b"}") == digest
        if not ok:
            body = {k: v for k, v in intent.items() if k != "digest"}
            ok = sha256_id(canonical(body)) == digest
    except (ValueError, TypeError, AttributeError):
        ok = False
    if not ok:
        raise IntegrityError(
            f"the journal entry {path} is damaged, so the change it describes cannot be finished",
            "verify the workspace; move the entry out of journal/ once you have checked the "
            "client file and refs it names",
        )
    return intent


def _target(step: dict[str, Any]) -> tuple[Any, ...]:
    op = step["op"]
    if op == "ref":
        return (op, step["client"], step["profile"], step["name"])
    if op == "write":
        return ("file", os.path.realpath(step["path"]))
    if op == "copy":
        return ("file", os.path.realpath(step["dest"]))
    return (op, step.get("client"), step.get("profile"), step.get("id"))


def _lost(ws: WorkspaceParts, step: dict[str, Any], later: list[dict[str, Any]]) -> bool:
    """Whether a step that no longer holds, though a later one of its change does, is to be
    done again: its target is not set by a later step, and a file still has the bytes it had
    before the step (a rename lost to a power cut), not someone else's."""
    if step["op"] == "event" or any(_target(s) == _target(step) for s in later):
        return False
    if step["op"] == "write":
        return digest_of(Path(step["path"])) == step["before"]
    if step["op"] == "copy":
        src = Path(step["src"])
        return src.exists() and sha256_id(src.read_bytes()) == step["digest"]
    return True


def recover(ws: WorkspaceParts) -> list[str]:
    """Finish (or undo) every journaled change a crash interrupted; the caller holds the
    release lock. Returns one message per change handled."""
    paths = pending(ws)
    if not paths:
        if any(n.endswith(".tmp") for n in _names(ws.path / JOURNAL)):  # a crash mid-begin
            clean_workspace_temp_files(ws, older_than=0)
        return []
    messages = []
    targets: set[Path] = set()
    for path in paths:
        intent = _load_intent(path)
        steps = intent["steps"]
        what = f"{intent['action']} of {intent['client']}/{intent['profile']}"
        for step in steps:
            if step["op"] == "write":
                targets.add(Path(step["path"]))
        last_done = -1
        for i in range(len(steps) - 1, -1, -1):
            if _done(ws, intent, steps[i], thorough=True):
                last_done = i
                break
        try:
            # a step before the last one done that does not hold lost its write to a power
            # cut (its fsync was collected with the others): done again, unless someone
            # changed its file since or a later step of the change sets the same thing
            for i, step in enumerate(steps[: max(last_done, 0)]):
                if not _done(ws, intent, step, thorough=True) and _lost(ws, step, steps[i + 1 :]):
                    _apply(ws, intent, step, recovering=True)
            for step in steps[last_done + 1 :]:
                _apply(ws, intent, step, recovering=True)
        except ConflictError as exc:
            messages.append(
                f"undid the interrupted {what} (txn {intent['txn'][:8]}): {exc.message}"
            )
        else:
            if last_done == len(steps) - 1:
                messages.append(f"the interrupted {what} had finished (txn {intent['txn'][:8]})")
            else:
                messages.append(f"finished the interrupted {what} (txn {intent['txn'][:8]})")
        _forget(path)
    for target in targets:
        with target_lock(target):
            clean_temp_files(target.parent, prefix=f".{target.name}.", older_than=0)
    clean_workspace_temp_files(ws, older_than=0)
    return messages


#: Workspace folders written only under the release lock: their temp files are leftovers.
LOCKED_FOLDERS = ("journal", "refs", "objects", "deployments", "backups")


def clean_temp_files(folder: Path, *, prefix: str = ".", older_than: float) -> list[Path]:
    """Remove ``.<name>.*.tmp`` files (atomic_write's) in ``folder`` older than the age."""
    removed: list[Path] = []
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return removed
    for e in entries:
        if e.name.startswith(prefix) and e.name.endswith(".tmp") and e.is_file():
            with contextlib.suppress(OSError):
                if now - e.stat().st_mtime >= older_than:
                    os.unlink(e.path)
                    removed.append(Path(e.path))
    return removed


def _writer_lock(root: Path, folder: Path, tmp_name: str) -> Any:
    """The lock a writer of this temp file's target holds, or None when unknown."""
    target = tmp_name[1:].removesuffix(".tmp").rsplit(".", 1)[0]
    rel = folder.relative_to(root).parts
    if rel and rel[0] == "audit":
        return locked(root / "audit" / "audit")
    if rel and rel[0] == "keys":
        return locked(root / "keys" / "keyring")
    if (folder / (target + ".lock")).exists():
        return locked(folder / target)
    return None


def clean_workspace_temp_files(ws: WorkspaceParts, *, older_than: float) -> list[Path]:
    """Remove leftover temp files of atomic writes that never finished. The caller holds the
    release lock, so those in the folders written only under it are leftovers; elsewhere each
    is removed under the lock its writer takes (a draft's, the audit log's, the keyring's), and
    with no known writer only when older than :data:`STALE_TMP_SECONDS`."""
    removed: list[Path] = []
    root = ws.path
    for dirpath, _dirs, files in os.walk(root):
        folder = Path(dirpath)
        rel = folder.relative_to(root).parts
        for name in files:
            if not (name.startswith(".") and name.endswith(".tmp")):
                continue
            if rel and rel[0] in LOCKED_FOLDERS:
                removed += clean_temp_files(folder, prefix=name, older_than=older_than)
                continue
            lock = _writer_lock(root, folder, name)
            if lock is None:
                removed += clean_temp_files(folder, prefix=name, older_than=STALE_TMP_SECONDS)
                continue
            with lock:
                removed += clean_temp_files(folder, prefix=name, older_than=older_than)
    return removed


def needs_repair(ws: WorkspaceParts) -> bool:
    """Whether a crash left something behind: a journal entry or a temp file (no lock taken,
    nothing written)."""
    if pending(ws):
        return True
    return any(
        n.startswith(".") and n.endswith(".tmp")
        for _d, _s, files in os.walk(ws.path)
        for n in files
    )


def describe_pending(ws: WorkspaceParts) -> list[str]:
    """One line per journaled change not yet finished (for reports; changes nothing)."""
    out = []
    for path in pending(ws):
        try:
            intent = _load_intent(path)
        except IntegrityError as exc:
            out.append(exc.message)
            continue
        out.append(
            f"{intent['action']} of {intent['client']}/{intent['profile']} "
            f"(txn {intent['txn'][:8]}, started {intent['started']}) was interrupted"
        )
    return out


__all__ = [
    "Plan",
    "changing",
    "clean_temp_files",
    "clean_workspace_temp_files",
    "describe_pending",
    "digest_of",
    "needs_repair",
    "pending",
    "recover",
    "release_lock",
    "run",
    "target_lock",
]

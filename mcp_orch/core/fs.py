"""Files: atomic writes, text and JSON reads, inter-process locks, the default workspace folder.

>>> from mcp_orch.core.fs import atomic_write, locked, read_text_file
>>> with locked(path):                       # a ``.lock`` file beside ``path``
...     atomic_write(path, "new text\n")      # temp file, fsync, rename; mode kept
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

from mcp_orch.core.errors import ConflictError, FileError, ParseError, StoreCorrupt

#: The environment variable that names the default workspace folder.
HOME_ENV = "MCP_ORCH_HOME"


def default_path() -> Path:
    """Where the default workspace lives: ``$MCP_ORCH_HOME``, else the platform's user data
    folder (``~/.local/share/mcp-orch`` on Linux)."""
    env = os.environ.get(HOME_ENV)
    if env:
        return Path(env).expanduser()
    import platformdirs  # only when no folder is given

    return Path(platformdirs.user_data_dir("mcp-orch", appauthor=False))


_TEMP_NUMBERS = itertools.count()


def _open_temp(path: Path) -> tuple[int, str]:
    """A new temp file beside ``path`` (``.<name>.<pid>-<n>.tmp``, mode 0600, created
    exclusively), the folder made when missing. Named by process and counter, not by
    ``tempfile``'s random names: a tenth of a small write went to drawing those."""
    folder = path.parent
    for attempt in range(3):
        tmp = os.path.join(folder, f".{path.name}.{os.getpid()}-{next(_TEMP_NUMBERS)}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _BINARY, 0o600), tmp
        except FileNotFoundError:
            if attempt:
                raise
            folder.mkdir(parents=True, exist_ok=True)
        except FileExistsError:  # a crashed process of the same pid left one: next number
            continue
    import tempfile  # stdlib; the fallback only

    return tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)


_BINARY = getattr(os, "O_BINARY", 0)


_BATCH = threading.local()


@contextlib.contextmanager
def collecting_syncs() -> Iterator[dict[str, bool] | None]:
    """Collect the fsyncs of the writes made inside (this thread's :func:`atomic_write` and
    :func:`sync_or_collect`) instead of doing each one at once: yields ``{path: is_folder}``,
    which the caller must fsync (all at once, see journal.run) before it relies on them. A
    write whose file a reader cannot check (``checked=False``) still has its data fsync'd before
    its rename; only its folder's fsync is collected. Nested: the outer one collects. Yields
    None (nothing is collected) where folders cannot be fsync'd (Windows)."""
    if not hasattr(os, "O_DIRECTORY") or getattr(_BATCH, "paths", None) is not None:
        yield None
        return
    paths: dict[str, bool] = {}
    _BATCH.paths = paths
    try:
        yield paths
    finally:
        _BATCH.paths = None


def sync_or_collect(fd: int, path: Path | str) -> None:
    """fsync ``fd`` (a file just appended to), or note ``path`` for the collecting caller."""
    paths: dict[str, bool] | None = getattr(_BATCH, "paths", None)
    if paths is None:
        os.fsync(fd)
    else:
        paths[os.fspath(path)] = False


def atomic_write(
    path: Path,
    data: str | bytes,
    *,
    mode: int | None = None,
    fsync: bool = True,
    before_replace: Callable[[Path], None] | None = None,
    checked: bool = False,
    now: bool = False,
) -> None:
    """Write ``data`` to ``path`` atomically: temp file in the same folder, fsync, rename.

    The original file's permission bits are kept (or ``mode`` is applied). If anything fails
    before the rename, the temp file is removed and ``path`` is untouched. ``checked``: every
    reader checks the content (a digest, a strict format) and a recovery writes a bad one
    again, so inside :func:`collecting_syncs` even its data fsync may wait. ``now``: fsync
    before returning even there (a journal entry is durable before its first step).
    """
    path = Path(path)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    if st is not None and stat.S_ISLNK(st.st_mode):  # write through the link (dotfiles)
        path = path.resolve()
        try:
            st = os.stat(path)
        except FileNotFoundError:
            st = None
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if mode is None and st is not None:
        mode = st.st_mode & 0o7777
    try:
        fd, tmp = _open_temp(path)
    except OSError as exc:
        raise type(exc)(exc.errno, f"cannot write {path}: {exc.strerror}", str(path)) from None
    later: dict[str, bool] | None = getattr(_BATCH, "paths", None) if fsync and not now else None
    try:
        try:
            view = memoryview(raw)
            while view:
                view = view[os.write(fd, view) :]
            if fsync and not (checked and later is not None):
                os.fsync(fd)
        finally:
            os.close(fd)
        if mode is not None and mode != 0o600:
            os.chmod(tmp, mode)
        if before_replace is not None:
            before_replace(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if later is not None:
        if checked:
            later[os.fspath(path)] = False
        later[os.fspath(path.parent)] = True
    elif fsync:
        sync_folder(path.parent)


def sync_folder(folder: Path) -> None:
    """fsync a folder, so a file just created or renamed in it stays after a power cut (a
    no-op where folders cannot be opened: Windows)."""
    if hasattr(os, "O_DIRECTORY"):
        with contextlib.suppress(OSError):
            dfd = os.open(folder, os.O_DIRECTORY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)


def read_text_file(path: Path, *, missing_ok: bool = False) -> str:
    """A config file's text (UTF-8, newlines as ``\\n``); ``ParseError`` naming the file when it
    is not text, ``FileError`` when it is not a regular file or is larger than
    :data:`MAX_READ_BYTES` (checked before anything is read into memory). With ``missing_ok`` a
    file that does not exist reads as empty."""
    try:
        raw = read_limited(Path(path), what="config file")
    except FileNotFoundError:
        if missing_ok:
            return ""
        raise
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError(
            f"{path} is not UTF-8 text (byte {exc.start}: {exc.reason})",
            "save the file as UTF-8; it was left untouched",
        ) from None
    if "\r" in text:  # universal newlines, as a text-mode read gives them
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


#: The byte order mark some editors (Notepad, Visual Studio) put at the start of UTF-8 files.
BOM = "\ufeff"


def decode_config(raw: bytes, path: Path | str) -> str:
    """A config file's bytes as text, exactly: newlines and a byte order mark are kept (so the
    text encodes back to the same bytes); ``ParseError`` naming the file when it is not UTF-8."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError(
            f"{path} is not UTF-8 text (byte {exc.start}: {exc.reason})",
            "save the file as UTF-8; it was left untouched",
        ) from None


def read_config_text(path: Path, *, missing_ok: bool = False) -> str:
    """Like :func:`read_text_file`, but the text is exactly the file's: CRLF newlines and a
    byte order mark stay (see :func:`split_form` to edit it and :func:`join_form` to put them
    back), so writing the text back gives the same bytes."""
    try:
        raw = read_limited(Path(path), what="config file")
    except FileNotFoundError:
        if missing_ok:
            return ""
        raise
    return decode_config(raw, path)


def split_form(text: str) -> tuple[str, str, str]:
    """``(body, newline, bom)`` of a file's exact text: ``body`` without the byte order mark,
    with ``\\n`` newlines when every line of the file ends in CRLF (``newline`` is then
    ``"\\r\\n"``, else ``"\\n"``; a file mixing both is left as it is). ``join_form`` is
    the inverse: ``join_form(*split_form(t)) == t``."""
    bom = BOM if text.startswith(BOM) else ""
    body = text[len(bom) :]
    if "\r\n" in body and body.count("\r\n") == body.count("\n"):
        return body.replace("\r\n", "\n"), "\r\n", bom
    return body, "\n", bom


def join_form(body: str, newline: str = "\n", bom: str = "") -> str:
    """``body`` (``\\n`` newlines) written with the file's ``newline`` and ``bom`` again."""
    if newline != "\n":
        body = body.replace("\n", newline)
    return bom + body


#: How deeply a document may nest (objects and arrays in JSON, tables and arrays in TOML,
#: mappings and sequences in YAML; the top-level value is level 1). Real config files nest a
#: handful of levels; the cap keeps every reader and walker far from Python's recursion limit.
MAX_DEPTH = 200


def nesting_depth(value: Any, limit: int = MAX_DEPTH) -> int:
    """How deeply ``value`` nests dicts and lists (a scalar is 0, ``{}`` is 1), counted without
    recursion; the count stops at ``limit + 1`` (so a cycle cannot make it run forever)."""
    deepest = 0
    seen: dict[int, int] = {}  # shared containers (YAML aliases) are walked once per depth
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list | tuple):
            children = node
        else:
            continue
        if seen.get(id(node), 0) >= depth:
            continue
        seen[id(node)] = depth
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


def too_deep(name: str, limit: int = MAX_DEPTH, where: str = "") -> ParseError:
    """The error for a document nested deeper than ``limit`` levels (``where``: a position)."""
    return ParseError(
        f"{name} is nested deeper than {limit} levels{where}",
        "config files nest a few levels; this one is damaged or was not meant for mcp-orch: "
        "fix it by hand (it was left untouched)",
    )


def write_json(path: Path, data: Any, **kw: Any) -> None:
    atomic_write(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n", **kw)


def json_files(folder: Path) -> list[Path]:
    """The ``*.json`` files directly in ``folder``, sorted by name (none when it is missing)."""
    try:
        with os.scandir(folder) as entries:
            names = sorted(e.name for e in entries if e.name.endswith(".json") and e.is_file())
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [folder / n for n in names]


def read_json(path: Path) -> Any:
    """A JSON file that mcp-orch wrote (a draft, a record, a catalog entry); ``StoreCorrupt``
    naming the file when it no longer parses."""
    try:  # the bytes straight to the decoder, no text wrapper: the catalog reads ~40 of these
        with open(path, "rb") as fh:
            return json.loads(fh.read().decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise StoreCorrupt(f"{path} is damaged and cannot be read ({exc})") from None
    except RecursionError:
        raise StoreCorrupt(f"{path} is damaged: it is nested far too deep") from None


_LOCKS: dict[tuple[int, str, float], Any] = {}
_LOCKS_GUARD = threading.Lock()


class LockTimeout(Exception):
    """A lock file stayed locked by someone else for the whole timeout."""


class FlockLock:
    """An exclusive lock on a lock file through ``flock(2)``: re-entrant in a thread, exclusive
    between threads (each takes it through its own descriptor) and between processes; after
    ``timeout`` seconds of waiting, :class:`LockTimeout`. ``filelock`` does the same (and on
    Windows, where it is used) for ~75 us a take and release, this for ~3 us: a publish takes
    three locks. A lock file removed while it was being taken is opened again."""

    def __init__(self, lock_file: str, timeout: float) -> None:
        self.lock_file = lock_file
        self.timeout = timeout
        self._held = threading.local()

    @property
    def is_locked(self) -> bool:
        return bool(getattr(self._held, "count", 0))

    def acquire(self) -> None:
        held = self._held
        count = getattr(held, "count", 0)
        if count:
            held.count = count + 1
            return
        deadline: float | None = None
        while True:
            try:
                fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o644)
            except FileNotFoundError:  # its folder was removed since: made again
                Path(self.lock_file).parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                now = time.monotonic()
                if deadline is None:
                    deadline = now + max(self.timeout, 0.0)
                if now >= deadline:
                    raise LockTimeout(self.lock_file) from None
                time.sleep(0.01)
                continue
            except BaseException:
                os.close(fd)
                raise
            if os.fstat(fd).st_nlink == 0:  # removed between the open and the lock
                os.close(fd)
                continue
            held.fd, held.count = fd, 1
            return

    def release(self) -> None:
        held = self._held
        held.count -= 1
        if held.count == 0:
            fd, held.fd = held.fd, None
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)


def file_lock(path: Path, timeout: float = 30.0) -> Any:
    """One lock per lock file (and timeout) in this process (:class:`FlockLock`; a
    ``filelock.FileLock`` where there is no ``flock``): re-entrant in a thread, exclusive
    between threads and processes, and built once."""
    key = (os.getpid(), os.path.abspath(path), timeout)  # a forked child makes its own
    lock = _LOCKS.get(key)
    if lock is None:
        with _LOCKS_GUARD:
            lock = _LOCKS.get(key)
            if lock is None:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                if fcntl is not None:
                    lock = FlockLock(str(path), timeout)
                else:  # pragma: no cover - Windows
                    from filelock import FileLock

                    lock = FileLock(str(path), timeout=timeout)
                _LOCKS[key] = lock
    return lock


def locked(path: Path, timeout: float = 30.0) -> contextlib.AbstractContextManager[None]:
    """An inter-process lock on ``path`` (a ``.lock`` file beside it)."""
    lock = file_lock(Path(str(path) + ".lock"), timeout)
    if fcntl is None and not os.path.isdir(os.path.dirname(lock.lock_file)):  # pragma: no cover
        Path(lock.lock_file).parent.mkdir(parents=True, exist_ok=True)  # removed since
    return holding(lock, str(path))


@contextlib.contextmanager
def holding(lock: Any, what: str) -> Iterator[None]:
    """Hold a lock of :func:`file_lock`; its timeout is a typed ``ConflictError`` naming
    ``what`` and the lock file, not the lock's own exception."""
    filelock = sys.modules.get("filelock")  # only where file_lock made a FileLock
    timeouts = (LockTimeout, filelock.Timeout) if filelock is not None else (LockTimeout,)
    try:
        lock.acquire()
    except timeouts:
        raise ConflictError(
            f"{what} is locked by another mcp-orch process (waited {lock.timeout:.0f} s); "
            "nothing was changed",
            f"wait for the other process to finish; if none is running, remove {lock.lock_file}",
        ) from None
    try:
        yield
    finally:
        lock.release()


#: The largest file mcp-orch reads as a document (a config file, an import, a record): 16 MiB.
MAX_READ_BYTES = 16 * 1024 * 1024


def read_limited(path: Path, *, max_bytes: int = MAX_READ_BYTES, what: str = "file") -> bytes:
    """The bytes of a regular file of at most ``max_bytes``; ``FileError`` otherwise.

    Opens without following into devices, FIFOs or folders (``O_NONBLOCK`` so a FIFO cannot
    hang the reader), checks the type and size on the open descriptor, and reads at most one
    byte past the cap. Error messages name the path, never the content.
    """

    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise FileError.from_os_error(exc) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = "a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file"
            raise FileError(
                f"{path} is {kind}, so it cannot be read as a {what}",
                "give the path of a regular file",
                path=str(path),
            )
        if st.st_size > max_bytes:
            raise FileError(
                f"{path} is {st.st_size:,} bytes; a {what} may have at most {max_bytes:,}",
                "mcp-orch reads no larger file; it was left untouched",
                path=str(path),
            )
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > max_bytes:  # grew while being read
                raise FileError(
                    f"{path} has more than {max_bytes:,} bytes; a {what} may have at most that",
                    "mcp-orch reads no larger file; it was left untouched",
                    path=str(path),
                )
        return b"".join(chunks)
    finally:
        os.close(fd)

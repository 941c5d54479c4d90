"""Small shared helpers: id checks, atomic writes, time, HTML tables for notebook displays."""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from .errors import InvalidId

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def check_id(value: str, what: str = "id") -> str:
    """A lowercase slug, or ``InvalidId`` (path-like values included)."""
    if not isinstance(value, str) or not SLUG.match(value):
        hint = "use lowercase letters, digits, '-' and '_' (max 64), starting with a letter/digit"
        if isinstance(value, str) and ("/" in value or "\\" in value or ".." in value):
            hint = f"a {what} is a name, not a path; " + hint
        raise InvalidId(f"invalid {what} {value!r}", hint)
    return value


def now_utc() -> datetime:
    return datetime.now(UTC)


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def atomic_write(
    path: Path,
    data: str | bytes,
    *,
    mode: int | None = None,
    fsync: bool = True,
    before_replace: Callable[[Path], None] | None = None,
) -> None:
    """Write ``data`` to ``path`` atomically: temp file in the same folder, fsync, rename.

    The original file's permission bits are kept (or ``mode`` is applied). If anything fails
    before the rename, the temp file is removed and ``path`` is untouched.
    """
    if path.is_symlink():  # write through the link (dotfiles), keep the link itself
        path = path.resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if mode is None and path.exists():
        mode = path.stat().st_mode & 0o7777
    import tempfile

    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise type(exc)(exc.errno, f"cannot write {path}: {exc.strerror}", str(path)) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            if fsync:
                os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        if before_replace is not None:
            before_replace(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if fsync and hasattr(os, "O_DIRECTORY"):
        with contextlib.suppress(OSError):
            dfd = os.open(path.parent, os.O_DIRECTORY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)


def read_text_file(path: Path, *, missing_ok: bool = False) -> str:
    """A config file's text (UTF-8); ``ParseError`` naming the file when it is not text.
    With ``missing_ok`` a file that does not exist reads as empty."""
    from .errors import ParseError

    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        if missing_ok:
            return ""
        raise
    except UnicodeDecodeError as exc:
        raise ParseError(
            f"{path} is not UTF-8 text (byte {exc.start}: {exc.reason})",
            "save the file as UTF-8; it was left untouched",
        ) from None


def write_json(path: Path, data: Any, **kw: Any) -> None:
    atomic_write(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n", **kw)


def read_json(path: Path) -> Any:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


@contextlib.contextmanager
def locked(path: Path, timeout: float = 30.0) -> Iterator[None]:
    """An inter-process lock on ``path`` (a ``.lock`` file beside it)."""
    from filelock import FileLock

    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock", timeout=timeout):
        yield


def mask(value: str) -> str:
    """A secret shown safely: its first 4 characters and its length."""
    if len(value) <= 8:
        return "****"
    return f"{value[:4]}…({len(value)} chars)"


# ---- HTML for notebooks --------------------------------------------------------------------------

STYLE = (
    "<style>.mco table{border-collapse:collapse;font-size:12px}"
    ".mco th,.mco td{border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top}"
    ".mco th{background:#f4f4f4}.mco .err{color:#c0392b}.mco .warn{color:#b9770e}"
    ".mco .sug{color:#2471a3}.mco .add{color:#1e8449}.mco .del{color:#c0392b}"
    ".mco .mod{color:#b9770e}.mco code{font-size:11px}</style>"
)


def html_table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], limit: int = 50, title: str = ""
) -> str:
    rows = list(rows)
    shown = rows[:limit]
    out = [STYLE, "<div class='mco'>"]
    if title:
        out.append(f"<b>{escape(title)}</b>")
    out.append("<table><tr>" + "".join(f"<th>{escape(h)}</th>" for h in headers) + "</tr>")
    for row in shown:
        out.append("<tr>" + "".join(f"<td>{escape(_cell(c))}</td>" for c in row) + "</tr>")
    out.append("</table>")
    if len(rows) > limit:
        out.append(f"<i>… {len(rows) - limit} more (showing {limit} of {len(rows)})</i>")
    out.append("</div>")
    return "".join(out)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def safe_html(render: Callable[[], str], obj: object) -> str:
    """Call a renderer; on any failure log it and fall back to an escaped repr (never raise)."""
    try:
        return render()
    except Exception:  # a display must never raise
        import logging

        logging.getLogger("mcp_orch").exception("HTML display of %s failed", type(obj).__name__)
        try:
            return f"<pre>{escape(repr(obj))}</pre>"
        except Exception:
            return "<pre>(unprintable)</pre>"

"""The audit log: append-only, hash-chained, queryable as polars frames.

    >>> ws.audit.query(client="cursor", action="deploy", since="7d")     # AuditView (list-like)
    >>> ws.audit.frame(since="30d")                                     # polars.DataFrame
    >>> ws.audit.verify()        # raises IntegrityError on an edited, removed, reordered event

One JSON line per event in ``audit/events.jsonl``. Each event holds the hash of the one before
it (``prev``) and its own ``hash`` (SHA-256 of its canonical JSON without ``hash``).
``audit/head.json`` records the last sequence number, hash and file size, so an append reads
only that small file: appending costs the same at one event or a million, and a truncated log
is caught because the head remembers how long it was.
"""

from __future__ import annotations

import hashlib
import io
import json
import mmap
import os
import re
import uuid
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcp_orch.core import charts, signals
from mcp_orch.core.clock import iso, now_utc, parse_since
from mcp_orch.core.errors import IntegrityError, StoreCorrupt, UsageError
from mcp_orch.core.fs import atomic_write, locked, sync_or_collect
from mcp_orch.core.ids import Digest, canonical, sha256_id
from mcp_orch.core.markup import html_table, page, safe_html
from mcp_orch.core.tables import Table
from mcp_orch.core.text import plural
from mcp_orch.services.release.audit_index import BlockIndex, raw_value

if TYPE_CHECKING:
    import polars as pl

ACTIONS = (
    "publish",
    "deploy",
    "revert",
    "restore",
    "prune",
    "key",
    "import",
    "register",
    "sync",
    "catalog-sync",
    "catalog-source",
    "push",
    "pull",
    "approve",
    "secret-set",
    "secret-rm",
)
GENESIS = "sha256:" + "0" * 64

#: The actor recorded in events: user@host by default; the MCP server sets a token's name.
current_actor: ContextVar[str | None] = ContextVar("mcp_orch_actor", default=None)


def default_actor() -> str:
    actor = current_actor.get()
    if actor:
        return actor
    import getpass  # stdlib; both only when an event is written (light commands stay fast)
    import socket

    try:
        user = getpass.getuser()
    except Exception:
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def _check_action(action: str | None) -> None:
    if action and action not in ACTIONS:
        raise UsageError(f"unknown audit action {action!r}", f"use one of: {', '.join(ACTIONS)}")


class StaleCheckpoint(Exception):
    """A verify checkpoint that cannot be resumed from (missing bytes, changed bytes, damaged)."""


@dataclass(frozen=True)
class ChainPoint:
    """A checked position in the log: event ``seq`` with ``hash`` ends at byte ``size``, line
    ``lines``; ``digest`` is the SHA-256 of the log's bytes before ``size``."""

    seq: int
    hash: str
    size: int
    lines: int
    digest: str


_CHECKPOINT_FORMAT = 1


def _hash_prefix(fh: Any, size: int, digest: Any) -> str:
    """Feed the first ``size`` bytes of ``fh`` to ``digest``, leaving ``fh`` just after them.
    Mapped, not read: no copy, and each window's pages are let go once hashed."""
    have = os.fstat(fh.fileno()).st_size
    if have < size:
        return ""  # the file is shorter: no digest of it matches
    if size:
        with mmap.mmap(fh.fileno(), size, access=mmap.ACCESS_READ) as mm:
            release = getattr(mm, "madvise", None) if hasattr(mmap, "MADV_DONTNEED") else None
            for at in range(0, size, _WINDOW):
                n = min(_WINDOW, size - at)
                with memoryview(mm)[at : at + n] as view:
                    digest.update(view)
                if release is not None and n == _WINDOW:
                    release(mmap.MADV_DONTNEED, at, n)
    fh.seek(size)
    return "sha256:" + digest.hexdigest()


def _event_hash(event: dict[str, Any]) -> str:
    return sha256_id(canonical({k: v for k, v in event.items() if k != "hash"}))


class AuditLog:
    """The workspace's audit log."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.path = self.root / "events.jsonl"
        self.head_path = self.root / "head.json"
        #: What the last successful verify checked, to resume from (see ``check_chain``).
        self.checkpoint_path = self.root / "verified.json"

    def event_count(self) -> int:
        """How many events the log holds, by its head (O(1); ``verify()`` checks them)."""
        return int(self._head()["seq"])

    def __repr__(self) -> str:
        try:
            count = plural(self.event_count(), "event")
        except Exception:  # a display never raises: a damaged head is shown as such
            count = "head damaged"
        return f"<AuditLog {self.path}: {count}>"

    def _last_events(self, n: int) -> list[dict[str, Any]]:
        """The last ``n`` events, read from the end of the file (a display: O(n))."""
        if not self.path.exists():
            return []
        with open(self.path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 64 * 1024))
            lines = fh.read().splitlines()[-n:]
        out = []
        for line in lines:
            try:
                event = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue  # the first, cut line of the window (or a damaged one: verify says)
            if isinstance(event, dict):
                out.append(event)
        return out

    def _repr_html_(self) -> str:
        def render() -> str:
            head = self._head()
            last = self._last_events(10)
            return page(
                f"<div><b>Audit log</b> <code>{escape(str(self.path))}</code>: "
                f"{escape(plural(int(head['seq']), 'event'))} · head "
                f"<code>{escape(str(head['hash'])[:19])}</code></div>",
                events_table(last, title=f"last {plural(len(last), 'event')}") if last else "",
            )

        return safe_html(render, self)

    def check_ready(self) -> None:
        """Raise ``StoreCorrupt`` now when the log could not take an event: callers that write
        something and then record it check first, so a damaged head stops them before they
        write anything."""
        self._head()

    def _head(self) -> dict[str, Any]:
        try:
            head: dict[str, Any] = json.loads(self.head_path.read_text())
        except FileNotFoundError:
            return {"seq": 0, "hash": GENESIS, "size": 0}
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise StoreCorrupt(f"{self.head_path} is damaged and cannot be read ({exc})") from None
        if (
            not isinstance(head, dict)
            or not isinstance(head.get("seq"), int)
            or not isinstance(head.get("size"), int)
            or not isinstance(head.get("hash"), str)
            or head["seq"] < 0
            or head["size"] < 0
        ):
            raise StoreCorrupt(f"{self.head_path} is damaged: it is not an audit head")
        return head

    def _recover_head(self, head: dict[str, Any], size: int) -> dict[str, Any]:
        """The file grew past the head (a crash after the append, before the head write)."""
        if size < head["size"]:
            raise IntegrityError(
                f"the audit log is shorter than recorded ({size} < {head['size']} bytes): "
                "events were removed",
                "restore audit/events.jsonl from a backup, then verify the workspace",
            )
        with open(self.path, "rb") as fh:
            fh.seek(head["size"])
            tail = fh.read()
        for line in tail.splitlines():
            if line.strip():
                try:
                    event = json.loads(line)
                except (json.JSONDecodeError, UnicodeDecodeError):
                    raise IntegrityError(
                        "the audit log's last event is damaged", "verify the workspace"
                    ) from None
                if (
                    not isinstance(event, dict)
                    or event.get("prev") != head["hash"]
                    or _event_hash(event) != event.get("hash")
                ):
                    raise IntegrityError(
                        "the audit log's last events do not chain",
                        "verify the workspace to see where",
                    )
                head = {"seq": event["seq"], "hash": event["hash"], "size": head["size"]}
        head["size"] = size
        return head

    def append(
        self,
        action: str,
        *,
        client: str = "",
        profile: str = "",
        artifact_id: str | None = None,
        changelog: str = "",
        actor: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Append one event; O(1) in the size of the log."""
        _check_action(action)
        self.root.mkdir(parents=True, exist_ok=True)
        with locked(self.root / "audit"):
            head = self._head()
            size = self.path.stat().st_size if self.path.exists() else 0
            if size != head["size"]:
                head = self._recover_head(head, size)
            event: dict[str, Any] = {
                "event_id": uuid.uuid4().hex,
                "seq": head["seq"] + 1,
                "time": iso(now_utc()),
                "action": action,
                "client": client,
                "profile": profile,
                "artifact_id": artifact_id,
                "changelog": changelog,
                "actor": actor or default_actor(),
                "details": details or {},
                "prev": head["hash"],
            }
            event["hash"] = _event_hash(event)
            line = (json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line)
                sync_or_collect(fd, self.path)
            finally:
                os.close(fd)
            new_head = {"seq": event["seq"], "hash": event["hash"], "size": size + len(line)}
            atomic_write(self.head_path, json.dumps(new_head), fsync=False)
        # the log lives in <workspace>/audit: that workspace's change signal hears of it
        signals.emit(self.root.parent, "audit", client, profile, action=action, seq=event["seq"])
        return event

    def events(self) -> Iterator[dict[str, Any]]:
        if not self.path.exists():
            return
        with open(self.path, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    yield json.loads(line)

    def verify(self, visit: Callable[[dict[str, Any]], None] | None = None) -> int:
        """Check the whole chain; return the number of events, or raise ``IntegrityError``.
        ``visit`` is called with each event in order (``verify_store`` replays them)."""
        return self.check_chain(visit).seq

    def check_chain(
        self,
        visit: Callable[[dict[str, Any]], None] | None = None,
        *,
        resume: ChainPoint | None = None,
    ) -> ChainPoint:
        """Check the chain and its head; return the point checked up to (the last event), or
        raise ``IntegrityError``. ``visit`` is called with each event checked, in order.

        With ``resume`` (a point an earlier check returned), the bytes before it are not
        decoded again but hashed, and must be the bytes that check saw (its ``digest``); the
        chain is then checked from there, so a changed byte anywhere is still caught. Raises
        ``StaleCheckpoint`` (before calling ``visit``) when they are not, or when the head
        records fewer events than the point: then check the whole chain."""
        head = self._head()
        at_head = GENESIS if head["seq"] == 0 else None  # the hash of event number head.seq
        at_size = 0 if head["seq"] == 0 else None  # the byte offset after event head.seq
        digest = hashlib.sha256()
        prev, seq, offset, lineno = GENESIS, 0, 0, 0
        if not self.path.exists():
            if resume is not None and resume.seq:
                raise StaleCheckpoint("the audit log was removed")
            lines: Any = iter(())
        else:
            lines = open(self.path, "rb")  # noqa: SIM115 - closed below
        try:
            if resume is not None:
                if head["seq"] < resume.seq:
                    raise StaleCheckpoint("the audit head records fewer events than the checkpoint")
                if os.fstat(lines.fileno()).st_size < resume.size:
                    raise StaleCheckpoint("the audit log became shorter than at the checkpoint")
                if _hash_prefix(lines, resume.size, digest) != resume.digest:
                    raise StaleCheckpoint("the audit log's bytes before the checkpoint changed")
                prev, seq, offset, lineno = resume.hash, resume.seq, resume.size, resume.lines
                if seq == head["seq"]:
                    at_head, at_size = prev, offset
            for raw in lines:
                lineno += 1
                offset += len(raw)
                digest.update(raw)
                if not raw.strip():
                    continue
                try:
                    event = json.loads(raw)
                except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                    raise IntegrityError(
                        f"audit event {lineno} is damaged: {exc}", "restore audit/ from a backup"
                    ) from None
                if not isinstance(event, dict):
                    raise IntegrityError(
                        f"audit event {lineno} is damaged: not an event",
                        "restore audit/ from a backup",
                    )
                if event.get("prev") != prev:
                    raise IntegrityError(
                        f"audit event {lineno} does not follow the one before it "
                        "(removed or reordered events)",
                        "restore audit/events.jsonl from a backup",
                    )
                if _event_hash(event) != event.get("hash"):
                    raise IntegrityError(
                        f"audit event {lineno} was edited (its hash does not match)",
                        "restore audit/events.jsonl from a backup",
                    )
                if event.get("seq") != seq + 1:
                    raise IntegrityError(
                        f"audit event {lineno} has sequence {event.get('seq')}, expected {seq + 1}",
                        "restore audit/events.jsonl from a backup",
                    )
                prev, seq = event["hash"], event["seq"]
                if seq == head["seq"]:
                    at_head, at_size = prev, offset
                if visit is not None:
                    visit(event)
        finally:
            if hasattr(lines, "close"):
                lines.close()
        count = seq
        if count and not self.head_path.exists():
            raise IntegrityError(
                "the audit log's head record (audit/head.json) is missing, so truncation "
                "cannot be ruled out",
                "restore audit/ from a backup",
            )
        # events past the head are a crash between append and head write: fine if they chain
        if seq < head["seq"] or at_head != head["hash"]:
            raise IntegrityError(
                f"the audit log ends at event {seq} but {head['seq']} were recorded "
                "(truncated or replaced)",
                "restore audit/events.jsonl from a backup",
            )
        if at_size != head["size"]:
            raise IntegrityError(
                f"the audit head (audit/head.json) records {head['size']} bytes up to event "
                f"{head['seq']}, but the log has {at_size}: the head or the log was changed",
                "restore audit/ from a backup; until then every change is refused",
            )
        return ChainPoint(seq, prev, offset, lineno, "sha256:" + digest.hexdigest())

    # -- the verify checkpoint ---------------------------------------------------------------
    def read_checkpoint(self) -> tuple[ChainPoint, Any] | None:
        """The point and the state the last successful verify saved (None: there is none).
        Raises ``StaleCheckpoint`` saying why when the file is damaged."""
        try:
            raw = self.checkpoint_path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StaleCheckpoint(f"cannot be read ({exc.strerror})") from None
        try:
            data = json.loads(raw)
            body = {k: v for k, v in data.items() if k != "checksum"}
            if data.get("format") != _CHECKPOINT_FORMAT or data.get("checksum") != sha256_id(
                canonical(body)
            ):
                raise ValueError
            point = ChainPoint(**data["point"])
            if not (
                isinstance(point.seq, int)
                and isinstance(point.size, int)
                and isinstance(point.lines, int)
                and isinstance(point.hash, str)
                and isinstance(point.digest, str)
                and 0 <= point.seq <= point.lines
                and point.size >= 0
            ):
                raise ValueError
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
            raise StaleCheckpoint("is damaged") from None
        return point, data.get("state")

    def write_checkpoint(self, point: ChainPoint, state: Any) -> None:
        """Save a verified point with ``state`` (JSON) for the next verify to resume from. A
        cache: a workspace that cannot be written keeps working (every verify checks all)."""
        body = {"format": _CHECKPOINT_FORMAT, "point": asdict(point), "state": state}
        body["checksum"] = sha256_id(canonical(body))
        try:
            atomic_write(self.checkpoint_path, json.dumps(body, separators=(",", ":")), fsync=False)
        except OSError:
            pass

    def _offset_of(self, start: datetime, slack: timedelta = timedelta(minutes=5)) -> int:
        """Byte offset of a line at or before the first event newer than ``start - slack``
        (binary search over the time-ordered file; the slack absorbs small clock steps)."""
        target = iso(start - slack)
        size = self.path.stat().st_size
        lo, hi = 0, size
        with open(self.path, "rb") as fh:
            while hi - lo > 4096:
                mid = (lo + hi) // 2
                fh.seek(mid)
                fh.readline()  # to the start of the next whole line
                line_start = fh.tell()
                line = fh.readline()
                if not line:
                    hi = mid
                    continue
                m = re.search(rb'"time":"([^"]+)"', line)
                if m is None or m.group(1).decode() >= target:
                    hi = mid
                else:
                    lo = line_start
        return lo

    # -- queries -----------------------------------------------------------------------------
    def query(
        self,
        *,
        client: str | None = None,
        profile: str | None = None,
        action: str | None = None,
        artifact: str | None = None,
        since: str | datetime | None = None,
        limit: int | None = None,
    ) -> AuditView:
        """Events matching every given filter, newest first (at most ``limit``).

        The file is read backwards in windows of at most 8 MiB, so the newest events cost the
        same at ten events or a million, and memory stays bounded: reading stops at ``limit``
        matches, or at the start of the ``since`` window (found by bisection, as in
        :meth:`frame`). A line is decoded only when it holds every filter's bytes as
        :meth:`append` writes them (``"client":"cursor"``); each decoded event is then checked
        exactly, so the byte test never drops a match."""
        _check_action(action)
        start = parse_since(since)
        if artifact:
            # the one id parser: any case, with or without sha256:, any prefix length
            artifact = str(Digest.parse(artifact, prefix_ok=True, min_digits=1))
        exact: list[tuple[str, str]] = [
            (key, value)
            for key, value in (("client", client), ("profile", profile), ("action", action))
            if value
        ]
        needles = [_field_bytes(key, value) for key, value in exact]
        if artifact:  # a prefix: the id's closing quote may come later
            needles.append(_field_bytes("artifact_id", artifact)[:-1])

        def matches(e: Any) -> bool:
            if not isinstance(e, dict) or any(e.get(k) != v for k, v in exact):
                return False
            if artifact and not str(e.get("artifact_id") or "").startswith(artifact):
                return False
            if start is not None:
                try:
                    when = datetime.fromisoformat(str(e.get("time")).replace("Z", "+00:00"))
                except ValueError:
                    return False
                return when >= start
            return True

        out: list[dict[str, Any]] = []
        if not self.path.exists():
            return AuditView(out)
        floor = self._offset_of(start) if start is not None else 0
        ranges: list[tuple[int, int | None]] = [(floor, None)]
        if needles:  # skip the blocks whose summary rules a filter out (audit_index)
            ranges = list(self._candidates(exact, artifact, floor))
        for low, high in ranges:
            for line in _lines_backwards(self.path, needles, low, high):
                try:
                    event = json.loads(line)
                except (json.JSONDecodeError, UnicodeDecodeError):
                    continue  # a damaged line: verify reports it
                if matches(event):
                    out.append(event)
                    if limit and len(out) >= limit:  # 0 or None: every match, as before
                        return AuditView(out)
        return AuditView(out)

    def _candidates(
        self, exact: list[tuple[str, str]], artifact: str | None, floor: int
    ) -> list[tuple[int, int]]:
        with open(self.path, "rb") as fh:
            return BlockIndex(self.root).candidates(
                fh,
                os.fstat(fh.fileno()).st_size,
                values={key: raw_value(value) for key, value in exact},
                artifact=artifact,
                floor=floor,
            )

    def frame(
        self,
        *,
        since: str | datetime | None = None,
        client: str | None = None,
        profile: str | None = None,
        action: str | None = None,
        artifact: str | None = None,
    ) -> pl.DataFrame:
        """The log as a typed polars DataFrame (time as a UTC datetime), filtered lazily."""
        import polars as pl

        _check_action(action)
        if not self.path.exists() or self.path.stat().st_size == 0:
            return AuditView([]).frame()
        start = parse_since(since)
        offset = self._offset_of(start) if start is not None else 0
        if offset > 0:  # events are appended in time order: parse only the window's tail
            with open(self.path, "rb") as fh:
                fh.seek(offset)
                tail = fh.read()
            if not tail.strip():
                return AuditView([]).frame()
            lf = pl.read_ndjson(io.BytesIO(tail), schema=_NDJSON_SCHEMA()).lazy()
        else:
            lf = pl.scan_ndjson(self.path, schema=_NDJSON_SCHEMA())
        lf = lf.with_columns(
            pl.col("time").str.to_datetime("%Y-%m-%dT%H:%M:%S%.fZ", time_zone="UTC")
        )
        if start is not None:
            lf = lf.filter(pl.col("time") >= start)
        for col, value in (("client", client), ("profile", profile), ("action", action)):
            if value:
                lf = lf.filter(pl.col(col) == value)
        if artifact:
            prefix = artifact if artifact.startswith("sha256:") else "sha256:" + artifact
            lf = lf.filter(pl.col("artifact_id").str.starts_with(prefix))
        return lf.select(_COLUMNS).sort("seq", descending=True).collect()

    def chart(
        self,
        by: str = "action",
        every: str = "1d",
        *,
        since: str | datetime | None = None,
        client: str | None = None,
        profile: str | None = None,
        action: str | None = None,
    ) -> Any:
        """Activity over time as an altair chart: stacked bars of events per ``every``
        (``30m``, ``1h``, ``1d``, ``1w``, ``1mo``), one colour per ``by`` (``action``,
        ``client``, ``profile``, ``actor``); the filters are those of :meth:`frame`.
        Needs altair (the notebook extra); see :mod:`mcp_orch.core.charts`.

            >>> ws.audit.chart(by="client", every="1h", since="2d")
        """
        frame = self.frame(since=since, client=client, profile=profile, action=action)
        return charts.activity(frame, by=by, every=every)

    def releases_chart(
        self,
        every: str = "1d",
        *,
        since: str | datetime | None = None,
        client: str | None = None,
        profile: str | None = None,
    ) -> Any:
        """Publishes, deploys and rollbacks per profile over time (every profile of the
        workspace, one row each), as an altair chart; see :func:`mcp_orch.core.charts.releases`.

            >>> ws.audit.releases_chart(every="1d", since="30d")
        """
        frame = self.frame(since=since, client=client, profile=profile)
        return charts.releases(frame, every=every)

    def table(
        self,
        *,
        since: str | datetime | None = None,
        client: str | None = None,
        profile: str | None = None,
        action: str | None = None,
        artifact: str | None = None,
        **options: Any,
    ) -> Table:
        """Every event matching the filters (those of :meth:`frame`) as a sortable, filterable,
        paged table (itables, offline; the static table without it). ``options`` go to itables.

            >>> ws.audit.table(since="7d", pageLength=50)
        """
        frame = self.frame(
            since=since, client=client, profile=profile, action=action, artifact=artifact
        )
        return Table(frame, title=f"audit: {plural(frame.height, 'event')}", **options)


#: Windows of the backward read: a small first one (the newest 50 events fit in it), doubling
#: up to the largest, whose pages are released once read (bounded memory at any log size).
_FIRST_WINDOW = 64 * 1024
_WINDOW = 8 * 1024 * 1024


def _field_bytes(key: str, value: str) -> bytes:
    """A top-level field as :meth:`AuditLog.append` writes it (``"client":"cursor"``)."""
    return f'"{key}":{json.dumps(value, ensure_ascii=False)}'.encode()


def _lines_backwards(
    path: Path, needles: list[bytes], floor: int = 0, ceiling: int | None = None
) -> Iterator[bytes]:
    """The lines of ``path`` that start at or after byte ``floor`` (and end by ``ceiling``, a
    line's end, when given) and hold every needle, last line first. Each window of the file
    is searched at C speed: a window without one of the needles is skipped whole; in the
    others, only the lines around the occurrences of the needle that occurs last-farthest from
    the window's end (likely the rarest) are looked at."""
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size <= floor:
            return
        top = size if ceiling is None else min(ceiling, size)
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            release = getattr(mm, "madvise", None) if hasattr(mmap, "MADV_DONTNEED") else None
            page = mmap.PAGESIZE
            kept = -(-size // page) * page  # mapped pages from here on were released
            end, window = top, _FIRST_WINDOW
            while end > floor:
                start = max(floor, end - window)
                if start > floor:
                    newline = mm.find(b"\n", start, end)
                    if newline < 0 or newline + 1 >= end:  # no whole line in the window
                        window *= 2
                        continue
                    start = newline + 1
                yield from _window_lines(mm, start, end, needles)
                end, window = start, min(window * 2, _WINDOW)
                if release is not None:
                    low = -(-end // page) * page
                    if kept - low >= _WINDOW:
                        release(mmap.MADV_DONTNEED, low, kept - low)
                        kept = low


def _window_lines(mm: mmap.mmap, start: int, end: int, needles: list[bytes]) -> Iterator[bytes]:
    """The lines in ``mm[start:end]`` (whole lines) holding every needle, last first."""
    if not needles:
        hi = end
        while hi > start:
            low = mm.rfind(b"\n", start, hi - 1) + 1 or start
            yield mm[low:hi]
            hi = low
        return
    last = [mm.rfind(n, start, end) for n in needles]
    if min(last) < 0:  # one filter's bytes are nowhere in the window: nothing here matches
        return
    pick = last.index(min(last))
    lead, others = needles[pick], needles[:pick] + needles[pick + 1 :]
    at, hi = last[pick], end
    while at >= 0:
        low = mm.rfind(b"\n", start, at) + 1 or start
        stop = mm.find(b"\n", at, end)
        line = mm[low : end if stop < 0 else stop + 1]
        if all(n in line for n in others):
            yield line
        hi = low
        at = mm.rfind(lead, start, hi) if hi > start else -1


_COLUMNS = [
    "seq",
    "time",
    "action",
    "client",
    "profile",
    "artifact_id",
    "changelog",
    "actor",
    "event_id",
    "hash",
]


def _NDJSON_SCHEMA() -> dict[str, Any]:  # noqa: N802 - a constant built lazily (polars import)
    import polars as pl

    return {
        "event_id": pl.String,
        "seq": pl.Int64,
        "time": pl.String,
        "action": pl.String,
        "client": pl.String,
        "profile": pl.String,
        "artifact_id": pl.String,
        "changelog": pl.String,
        "actor": pl.String,
        "prev": pl.String,
        "hash": pl.String,
    }


class AuditView(list[dict[str, Any]]):
    """Audit events (newest first) with a polars view and a notebook display."""

    def frame(self) -> pl.DataFrame:
        import polars as pl

        schema: dict[str, Any] = {
            "seq": pl.Int64,
            "time": pl.Datetime("us", "UTC"),
            "action": pl.String,
            "client": pl.String,
            "profile": pl.String,
            "artifact_id": pl.String,
            "changelog": pl.String,
            "actor": pl.String,
            "event_id": pl.String,
            "hash": pl.String,
        }
        rows = [
            {
                **{k: e.get(k) for k in schema},
                "time": datetime.fromisoformat(e["time"].replace("Z", "+00:00")),
            }
            for e in self
        ]
        return pl.DataFrame(rows, schema=schema)

    def chart(self, by: str = "action", every: str = "1d") -> Any:
        """These events over time as an altair chart (see :meth:`AuditLog.chart`)."""
        return charts.activity(self.frame(), by=by, every=every)

    def table(self, **options: Any) -> Table:
        """These events as a sortable, filterable, paged table (see :meth:`AuditLog.table`)."""
        return Table(self.frame(), title=f"audit: {plural(len(self), 'event')}", **options)

    def to_dict(self) -> list[dict[str, Any]]:
        return list(self)

    def __repr__(self) -> str:
        return f"<AuditView {plural(len(self), 'event')}>"

    def _repr_html_(self) -> str:
        return safe_html(
            lambda: events_table(self, title=f"audit: {plural(len(self), 'event')}"), self
        )


def event_target(event: dict[str, Any]) -> str:
    """What an event is about, for a display: ``client/profile``; for a key event what happened
    to which key (``key rotate ed25519:1a2b…``, ``token create ci``)."""
    if event.get("client") or event.get("profile"):
        return f"{event.get('client', '')}/{event.get('profile', '')}".strip("/")
    details = event.get("details") or {}
    if event.get("action") == "key" and isinstance(details, dict):
        what = str(details.get("event") or "change")
        if details.get("token"):
            return f"token {what.removeprefix('token-')} {details['token']}"
        return f"key {what} {details.get('key_id') or ''}".rstrip()
    return str(event.get("action") or "")


def events_table(events: list[dict[str, Any]], *, title: str = "", limit: int = 50) -> str:
    """Events as an HTML table, newest last as given."""
    return html_table(
        ["seq", "time", "action", "about", "artifact", "changelog", "actor"],
        [
            (
                e.get("seq"),
                e.get("time"),
                e.get("action"),
                event_target(e),
                (e.get("artifact_id") or "")[:19],
                e.get("changelog", ""),
                e.get("actor", ""),
            )
            for e in events
        ],
        limit=limit,
        title=title,
    )

"""One change signal per workspace: who wrote what, for whoever displays it.

    >>> import mcp_orch as mo
    >>> ws = mo.Workspace("./demo")
    >>> stop = ws.on_change(lambda change: print(change))      # or ws.changes.subscribe(fn)
    >>> ws.profile("cursor").draft.add(mo.Registry(workspace=ws).find("time"))
    Change(kind='drafts', client='cursor', profile='default', detail={})
    >>> stop()                                                  # no more calls

The library's writers emit here, whichever front end called them (the Python API in any cell,
an MCP tool served in-process, a widget, the CLI's code in-process): a draft write (``drafts``),
a ref move by publish, rollback or restore (``refs``), an audit event (``audit``), a write into a
client's config file by deploy or restore (``deploy``). Every :class:`Change` names its kind and,
where there is one, the client and profile, so a display refreshes only when it is concerned.

There is one :class:`ChangeSignal` per workspace folder, keyed by its resolved path: two
``Workspace`` objects on the same folder (or a symlink to it) share it. Changes made by another
process are not seen (nothing watches the files).

Delivery is synchronous, in the writer's thread, after the write (never while a draft lock is
held). Inside :func:`batch` (every release transaction runs in one) the changes are held and
delivered, each once and in order, when the outermost batch ends, so a subscriber never sees a
publish half-done. A subscriber's exception is logged (logger ``mcp_orch.signals``) and never
reaches the writer. Bound methods are held weakly (an object that is gone stops receiving); plain
functions are held until the returned ``unsubscribe`` is called. With no subscriber anywhere in
the process, emitting costs one dictionary check.
"""

from __future__ import annotations

import functools
import itertools
import logging
import os
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import MethodType
from typing import Any

__all__ = ["KINDS", "Change", "ChangeSignal", "batch", "emit", "signal_for"]

#: What a change can be about.
KINDS = ("drafts", "refs", "audit", "deploy")

log = logging.getLogger("mcp_orch.signals")

Callback = Callable[["Change"], Any]


@dataclass(frozen=True)
class Change:
    """One change to a workspace.

    ``kind`` is ``drafts`` (a draft's servers or settings), ``refs`` (``latest`` or ``deployed``
    moved: publish, rollback, deploy, restore), ``audit`` (an event was appended) or ``deploy``
    (a client's config file was written by deploy or restore). ``client`` and ``profile`` are
    ``""`` for a change that concerns no profile (a key event, a catalog registration).
    ``detail`` says more: the ref's name, the audit action, the file's path. ``batch`` numbers
    the delivery: changes delivered together share it (a publish moves a ref and appends an
    event), so a display can refresh once per batch."""

    kind: str
    client: str = ""
    profile: str = ""
    detail: dict[str, Any] = field(default_factory=dict, compare=False)
    batch: int = field(default=0, compare=False)

    def concerns(self, client: str, profile: str) -> bool:
        """Whether this change is about profile ``client/profile``."""
        return self.client == client and self.profile == profile

    def __repr__(self) -> str:
        return (
            f"Change(kind={self.kind!r}, client={self.client!r}, profile={self.profile!r}, "
            f"detail={self.detail!r})"
        )


class _Subscription:
    def __init__(
        self,
        callback: Callback,
        kinds: frozenset[str] | None,
        client: str | None,
        profile: str | None,
    ) -> None:
        # a bound method is held weakly: a widget that is gone must not be kept alive by this
        self.ref: Callable[[], Callback | None]
        if isinstance(callback, MethodType):
            self.ref = weakref.WeakMethod(callback)
        else:
            self.ref = lambda: callback
        self.kinds, self.client, self.profile = kinds, client, profile

    def wants(self, change: Change) -> bool:
        return (
            (self.kinds is None or change.kind in self.kinds)
            and (self.client is None or change.client == self.client)
            and (self.profile is None or change.profile == self.profile)
        )


class ChangeSignal:
    """The change signal of one workspace folder (get it as ``ws.changes``)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._subs: list[_Subscription] = []
        self._guard = threading.Lock()

    def __repr__(self) -> str:
        return f"<ChangeSignal {self.root}: {len(self)} subscriber{'' if len(self) == 1 else 's'}>"

    def __len__(self) -> int:
        with self._guard:
            return sum(1 for s in self._subs if s.ref() is not None)

    def subscribe(
        self,
        callback: Callback,
        *,
        kinds: Iterable[str] | None = None,
        client: str | None = None,
        profile: str | None = None,
    ) -> Callable[[], None]:
        """Call ``callback(change)`` after every change to this workspace (only those of
        ``kinds``, of ``client``, of ``profile`` when given). Returns ``unsubscribe()``;
        calling it twice is harmless. A bound method is held weakly."""
        wanted = None if kinds is None else frozenset(kinds)
        unknown = sorted((wanted or frozenset()) - set(KINDS))
        if unknown:
            raise ValueError(f"unknown change kind(s) {unknown}; the kinds are {list(KINDS)}")
        sub = _Subscription(callback, wanted, client, profile)
        with self._guard:
            self._subs.append(sub)

        def unsubscribe() -> None:
            self._drop(sub)

        return unsubscribe

    def _drop(self, sub: _Subscription) -> None:
        with self._guard:
            if sub in self._subs:
                self._subs.remove(sub)
            self._subs = [s for s in self._subs if s.ref() is not None]

    def deliver(self, change: Change) -> None:
        """Call every subscriber that wants ``change``; their exceptions are logged."""
        with self._guard:
            subs = list(self._subs)
        for sub in subs:
            callback = sub.ref()
            if callback is None:
                self._drop(sub)
                continue
            if not sub.wants(change):
                continue
            try:
                callback(change)
            except Exception:  # a display's bug must never fail the write that informed it
                log.exception("a change subscriber failed on %r", change)


_SIGNALS: dict[Path, ChangeSignal] = {}
_CREATE = threading.Lock()
_BATCHES = itertools.count(1)
_local = threading.local()


@functools.lru_cache(maxsize=1024)
def _resolved(root: str) -> Path:
    # realpath costs a system call per path component (~0.2 ms on a deep temporary folder);
    # a workspace folder does not move while a process writes to it
    return Path(os.path.realpath(root))


def _key(root: str | os.PathLike[str]) -> Path:
    return _resolved(os.fspath(root))


def signal_for(root: str | os.PathLike[str]) -> ChangeSignal:
    """The change signal of the workspace folder ``root`` (one per resolved path, kept for
    the life of the process: a few hundred bytes each)."""
    key = _key(root)
    with _CREATE:
        sig = _SIGNALS.get(key)
        if sig is None:
            sig = _SIGNALS[key] = ChangeSignal(key)
        return sig


def emit(
    root: str | os.PathLike[str],
    kind: str,
    client: str = "",
    profile: str = "",
    **detail: Any,
) -> None:
    """Tell the subscribers of workspace ``root`` that ``kind`` changed (held until the
    outermost :func:`batch` of this thread ends, if one is open). Never raises."""
    if not _SIGNALS:  # no signal was ever asked for in this process (the CLI): nothing to do
        return
    try:
        sig = _SIGNALS.get(_key(root))
        if sig is None or not sig._subs:
            return
        change = Change(kind, client, profile, dict(detail))
        pending: list[tuple[ChangeSignal, Change]] | None = getattr(_local, "pending", None)
        if pending is not None:
            if (sig, change) not in pending:  # once per batch (detail is not compared)
                pending.append((sig, change))
            return
        _deliver([(sig, change)])
    except Exception:  # the writer has written: telling the displays must not fail it
        log.exception("emitting a %s change failed", kind)


def _deliver(items: list[tuple[ChangeSignal, Change]]) -> None:
    number = next(_BATCHES)
    for sig, change in items:
        sig.deliver(Change(change.kind, change.client, change.profile, change.detail, batch=number))


@contextmanager
def batch() -> Iterator[None]:
    """Hold this thread's changes until the outermost batch ends, then deliver them (also when
    the body raises: what was written before the error was written)."""
    outer = getattr(_local, "pending", None) is None
    if outer:
        _local.pending = []
    try:
        yield
    finally:
        if outer:
            items, _local.pending = _local.pending, None
            if items:
                try:
                    _deliver(items)
                except Exception:
                    log.exception("delivering changes failed")

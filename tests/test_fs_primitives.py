"""core.fs under the journal: the flock lock, atomic writes' temp files, collected fsyncs."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from pathlib import Path

import pytest

import mcp_orch as mo
from mcp_orch.core import fs

pytestmark = pytest.mark.skipif(fs.fcntl is None, reason="flock: POSIX only")


def test_the_lock_is_reentrant_in_a_thread_and_exclusive_between_threads(tmp_path: Path) -> None:
    lock = fs.file_lock(tmp_path / "a.lock")
    assert fs.file_lock(tmp_path / "a.lock") is lock  # one per lock file in a process
    order: list[str] = []
    with fs.holding(lock, "a"), fs.holding(lock, "a"):  # taken twice by this thread
        other = threading.Thread(target=lambda: _take(lock, order))
        other.start()
        time.sleep(0.2)
        order.append("main done")
    other.join(5)
    assert order == ["main done", "thread has it"]
    assert not lock.is_locked


def _take(lock: fs.FlockLock, order: list[str]) -> None:
    with fs.holding(lock, "a"):
        order.append("thread has it")


def test_a_lock_whose_folder_was_removed_makes_it_again(tmp_path: Path) -> None:
    folder = tmp_path / "locks"
    lock = fs.file_lock(folder / "c.lock")
    folder.rmdir()
    with fs.holding(lock, "c"):
        assert (folder / "c.lock").exists()


def test_a_lock_held_by_another_process_is_a_conflict_after_its_timeout(tmp_path: Path) -> None:
    path = tmp_path / "b.lock"
    ctx = multiprocessing.get_context("fork")
    ready, done = ctx.Event(), ctx.Event()

    def hold() -> None:
        with fs.holding(fs.file_lock(path), "b"):
            ready.set()
            done.wait(10)

    child = ctx.Process(target=hold)
    child.start()
    try:
        assert ready.wait(10)
        lock = fs.file_lock(path, timeout=0.2)
        started = time.monotonic()
        with (
            pytest.raises(mo.ConflictError, match="locked by another mcp-orch process") as info,
            fs.holding(lock, "the thing"),
        ):
            pass
        assert time.monotonic() - started >= 0.2
        assert str(path) in (info.value.hint or "")
    finally:
        done.set()
        child.join(10)
    with fs.holding(fs.file_lock(path, timeout=0.2), "b"):  # free again once the child let go
        pass


def test_atomic_write_leaves_one_file_with_the_old_mode_and_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "f.json"
    fs.atomic_write(target, "one")  # the folder is made
    assert target.stat().st_mode & 0o777 == 0o600
    target.chmod(0o640)
    for i in range(5):
        fs.atomic_write(target, f"v{i}")
    assert target.read_text() == "v4"
    assert target.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in target.parent.iterdir()] == ["f.json"]


def test_a_temp_file_left_by_a_crashed_process_of_the_same_pid_does_not_stop_a_write(
    tmp_path: Path,
) -> None:
    target = tmp_path / "f"
    start = next(fs._TEMP_NUMBERS)
    for n in range(start, start + 10):  # every name this process would draw next
        (tmp_path / f".f.{os.getpid()}-{n}.tmp").write_text("left")
    fs.atomic_write(target, "new")
    assert target.read_text() == "new"
    assert len(list(tmp_path.glob(".f.*.tmp"))) == 10  # the leftovers, for recovery to clean


def test_collected_fsyncs_wait_for_the_caller_and_unchecked_files_reach_the_disk_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real(fd)))
    with fs.collecting_syncs() as later:
        assert later is not None
        fs.atomic_write(tmp_path / "client.json", "{}")  # a reader cannot check it
        assert len(synced) == 1  # its data, before the rename
        fs.atomic_write(tmp_path / "ref", "x", checked=True)
        fs.atomic_write(tmp_path / "journal.json", "{}", now=True)
        assert len(synced) == 3  # the journal entry: file and folder, now
    assert later == {str(tmp_path): True, str(tmp_path / "ref"): False}
    synced.clear()
    fs.atomic_write(tmp_path / "ref", "y", checked=True)  # outside: synced at once
    assert len(synced) == 2

"""The SQLite writer locks: request writers go first in a process; processes queue on a file lock."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from brandcrew.store.engine import make_engine, write_transaction
from brandcrew.store.write_lock import (
    FileWriteLock,
    WriterLock,
    background_writes_marked,
    mark_background_writes,
)


def _waiter(lock: WriterLock, urgent: bool, order: list[str], name: str) -> threading.Thread:
    def run() -> None:
        assert lock.acquire(timeout=10, urgent=urgent)
        order.append(name)
        lock.release()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _wait_until(check: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.001)


def test_urgent_writer_goes_before_background_writers_that_waited_longer() -> None:
    lock = WriterLock(patience_s=30)
    assert lock.acquire(timeout=1)
    order: list[str] = []
    background = [_waiter(lock, False, order, f"background-{i}") for i in range(3)]
    _wait_until(lambda: len(lock._background) == 3)
    urgent = _waiter(lock, True, order, "urgent")
    _wait_until(lambda: len(lock._urgent) == 1)
    lock.release()
    for thread in [urgent, *background]:
        thread.join(10)
    assert order[0] == "urgent"
    assert sorted(order[1:]) == ["background-0", "background-1", "background-2"]


def test_background_writer_is_not_starved_by_a_stream_of_urgent_ones() -> None:
    lock = WriterLock(patience_s=0.05)
    order: list[str] = []
    stop = threading.Event()

    def urgent_stream() -> None:
        while not stop.is_set():  # always one urgent writer holding or waiting
            assert lock.acquire(timeout=10)
            order.append("urgent")
            time.sleep(0.005)
            lock.release()

    streams = [threading.Thread(target=urgent_stream, daemon=True) for _ in range(2)]
    for thread in streams:
        thread.start()
    try:
        _wait_until(lambda: len(order) >= 4)
        assert lock.acquire(timeout=10, urgent=False), "a background writer must get in after its patience"
        lock.release()
    finally:
        stop.set()
        for thread in streams:
            thread.join(10)


def test_acquire_times_out_and_passes_the_turn_on() -> None:
    lock = WriterLock()
    assert lock.acquire(timeout=1)
    assert not lock.acquire(timeout=0.02)
    assert not lock.acquire(timeout=0.02, urgent=False)
    order: list[str] = []
    waiter = _waiter(lock, False, order, "background")
    lock.release()
    waiter.join(10)
    assert order == ["background"]


def test_background_mark_stays_in_its_task() -> None:
    import asyncio

    async def background_task() -> bool:
        mark_background_writes()
        return background_writes_marked()

    async def main() -> tuple[bool, bool]:
        marked = await asyncio.create_task(background_task())
        return marked, background_writes_marked()

    assert asyncio.run(main()) == (True, False)


_TRY_LOCK = """
import fcntl, sys
from brandcrew.store.write_lock import FileWriteLock
lock = FileWriteLock(sys.argv[1])
try:
    fcntl.flock(lock._file(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    print("free", flush=True)
except BlockingIOError:
    print("busy", flush=True)
lock.acquire()
print("got", flush=True)
lock.release()
"""


def test_file_lock_makes_another_process_wait_until_released(tmp_path: Path) -> None:
    lock = FileWriteLock(str(tmp_path / "db.sqlite.writer-lock"))
    lock.acquire()
    child = subprocess.Popen([sys.executable, "-c", _TRY_LOCK, lock.path], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "busy"
    lock.release()
    assert child.stdout.readline().strip() == "got"
    assert child.wait(10) == 0


def _forked_try(lock: FileWriteLock, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    import fcntl

    try:
        fcntl.flock(lock._file(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        out.put("free")
    except BlockingIOError:
        out.put("busy")


def test_forked_child_does_not_share_the_parents_file_lock(tmp_path: Path) -> None:
    lock = FileWriteLock(str(tmp_path / "db.sqlite.writer-lock"))
    lock.acquire()
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    child = context.Process(target=_forked_try, args=(lock, out))
    child.start()
    child.join(10)
    assert out.get(timeout=5) == "busy"
    lock.release()


def test_sqlite_engine_writers_take_the_file_lock(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with write_transaction(engine) as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    other = FileWriteLock(str(tmp_path / "db.sqlite.writer-lock"))
    inside: list[str] = []

    def write() -> None:
        with write_transaction(engine) as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))
            inside.append("wrote")

    # Another process's lock (a second open file of the same path excludes like one) holds writers back.
    other.acquire()
    writer = threading.Thread(target=write)
    writer.start()
    time.sleep(0.1)
    assert inside == []
    other.release()
    writer.join(10)
    assert inside == ["wrote"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 1
    engine.dispose()


@pytest.mark.parametrize("urgent", [True, False])
def test_engine_write_succeeds_either_priority(tmp_path: Path, urgent: bool) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")

    def write() -> None:
        if not urgent:
            mark_background_writes()
        with write_transaction(engine) as conn:
            conn.execute(text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))
            conn.execute(text("INSERT INTO t VALUES (1)"))

    import contextvars

    contextvars.copy_context().run(write)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 1
    engine.dispose()

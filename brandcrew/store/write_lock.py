"""The SQLite writer locks: one writer at a time in a process (request writers first), and across processes.

SQLite lets one writer in at a time and makes the others wait in its busy handler, which sleeps between
retries (1 ms growing to 100 ms): a waiter is woken late, and under load every writer gets a long tail.
These locks queue writers where a waiter is woken as soon as the writer before it is done: a Python
lock among the threads of a process, then a lock on a file beside the database among processes. They
only order writers; SQLite's own locking still guarantees correctness, also against programs that write
without them.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections import deque
from contextvars import ContextVar

_BACKGROUND: ContextVar[bool] = ContextVar("brandcrew_background_writes", default=False)


def mark_background_writes() -> None:
    """From here on, this task's (and its children's) SQLite writers yield to request writers."""
    _BACKGROUND.set(True)


def background_writes_marked() -> bool:
    """True when this context's writers were marked as background work."""
    return _BACKGROUND.get()


class _Waiter:
    """One thread waiting for the `WriterLock`: woken when the lock is handed to it."""

    __slots__ = ("event", "granted")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.granted = False


class WriterLock:
    """One holder at a time; waiting urgent acquirers go before waiting background ones.

    A release hands the lock straight to the first urgent waiter, so nobody can barge ahead of it.
    Background acquirers compete among themselves as with a plain lock (no hand-over: a thread that
    writes again at once keeps going instead of waiting for a sleeping one to wake). A background
    acquirer that has waited `patience_s` joins the urgent queue, so background work is never starved.
    """

    def __init__(self, *, patience_s: float = 0.5) -> None:
        self.patience_s = patience_s
        """How long a background acquirer yields before it queues with the urgent ones."""
        self._mutex = threading.Lock()
        self._held = False
        self._urgent: deque[_Waiter] = deque()
        self._background: deque[_Waiter] = deque()

    def acquire(self, *, timeout: float, urgent: bool = True) -> bool:
        """Take the lock within `timeout` seconds; False when it could not."""
        started = time.monotonic()
        deadline = started + timeout
        with self._mutex:
            if not self._held and not self._urgent:
                self._held = True
                return True
            waiter = _Waiter()
            queue = self._urgent if urgent else self._background
            queue.append(waiter)
        while True:
            limit = deadline if queue is self._urgent else min(deadline, started + self.patience_s)
            waiter.event.wait(max(0.0, limit - time.monotonic()))
            with self._mutex:
                if waiter.granted:
                    return True  # handed over by `release`
                if queue is self._background and not self._held and not self._urgent:
                    queue.remove(waiter)
                    self._held = True
                    return True
                waiter.event.clear()
                if time.monotonic() >= deadline:
                    queue.remove(waiter)
                    self._wake_background()
                    return False
                if queue is self._background and time.monotonic() - started >= self.patience_s:
                    queue.remove(waiter)  # waited long enough: queue with the urgent ones
                    queue = self._urgent
                    queue.append(waiter)

    def release(self) -> None:
        """Hand the lock to the first urgent waiter, or free it and wake the first background one."""
        with self._mutex:
            if self._urgent:
                waiter = self._urgent.popleft()
                waiter.granted = True  # the lock stays held: it is the waiter's now
                waiter.event.set()
                return
            self._held = False
            self._wake_background()

    def _wake_background(self) -> None:
        if not self._held and self._background:
            self._background[0].event.set()


class FileWriteLock:
    """An exclusive lock (`flock`) on a file, among every process that locks the same path.

    The kernel wakes a waiter the moment the holder lets go, and lets go for a holder that dies.
    Only one thread of a process takes it at a time (the `WriterLock` before it).
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd: int | None = None
        self._pid = 0

    def _file(self) -> int:
        pid = os.getpid()
        if self._fd is None or self._pid != pid:
            # A forked child shares the parent's open file, and with it the parent's lock: open its own.
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            self._pid = pid
        return self._fd

    def acquire(self) -> None:
        """Wait until this process holds the lock."""
        fcntl.flock(self._file(), fcntl.LOCK_EX)

    def release(self) -> None:
        """Let the next process in."""
        fcntl.flock(self._file(), fcntl.LOCK_UN)

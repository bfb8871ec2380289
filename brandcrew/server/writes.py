"""Short request writes: on the event loop when the SQLite write lock is free at once, else in a thread.

Under load the server's threads wait their turn for the GIL behind the runs executing in the same
process: handing a 2 ms transaction to the thread pool then cost 50-180 ms before it even started
(measured by `bench.server`: most of a run-creating request's first-event p99). When nobody holds
the write lock, the transaction runs on the loop at once and cannot block it on a lock; when someone
does, it goes to the thread pool and waits there, as before. PostgreSQL's transactions always go to
the thread pool: they wait on the network. What this does not fix: the executors keep the lock busy,
so under the bench's load a creation still often ends up in a thread (creation p90 185 ms), and
interleaved bench runs showed no clear first-event p99 gain.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from brandcrew.store.engine import WriteLockBusy, is_sqlite, session_scope

T = TypeVar("T")

_RETRY_PAUSES_S = (0.001, 0.002, 0.002, 0.004, 0.004, 0.008, 0.008, 0.016, 0.016, 0.032)
"""Pauses between tries on the loop (93 ms in all) before the transaction goes to a thread."""


async def write_now(engine: Engine, work: Callable[[Session], T]) -> T:
    """Run `work` in one read-modify-write transaction, committed on success, without a thread when it can."""
    if is_sqlite(engine):
        # Writers hold the lock for a few milliseconds: look again a few times before going to a thread.
        for pause in _RETRY_PAUSES_S:
            try:
                with session_scope(engine, wait=False) as session:
                    return work(session)
            except WriteLockBusy:
                pass  # nothing was written: the first statement found the lock taken
            await asyncio.sleep(pause)

    def in_thread() -> T:
        with session_scope(engine) as session:
            return work(session)

    return await run_in_threadpool(in_thread)

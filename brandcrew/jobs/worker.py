"""The publishing worker: a DBOS queue of publish workflows (one per outbox key) and a dispatcher.

The dispatcher polls the outbox for due rows and enqueues `publish_workflow` with the row's
idempotency key as the DBOS workflow id, partitioned by account so each account publishes one post
at a time. DBOS deduplicates by id and recovers a crashed worker's workflows on restart; the
publisher's own claim/reconcile rules keep every post single even when two workers race.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from dbos import DBOS, Queue, SetEnqueueOptions, SetWorkflowID
from sqlmodel import Session, col, func, select

from brandcrew.jobs.publisher import TERMINAL, Publisher
from brandcrew.store.tables import OutboxEntry, as_utc

log = logging.getLogger("brandcrew.worker")
QUEUE = "brandcrew-publish"
_publisher: Publisher | None = None
_max_sleep_s = 60.0


def _current() -> Publisher:
    if _publisher is None:
        raise RuntimeError("no publisher registered in this process; start a PublishWorker first")
    return _publisher


@DBOS.step(name="brandcrew.publish.process")
async def _process_step(key: str) -> str:
    return await _current().process(key)


@DBOS.workflow(name="brandcrew.publish")
async def publish_workflow(key: str) -> str:
    """Publish one outbox row; loops (with durable sleeps) until the row is published or failed."""
    while True:
        outcome = await _process_step(key)
        if outcome in ("published", "failed", "done", "absent"):
            return outcome
        await DBOS.sleep_async(_sleep_for(key))


def _sleep_for(key: str) -> float:
    publisher = _current()
    with Session(publisher.engine) as session:
        entry = session.get(OutboxEntry, key)
    if entry is None or entry.status in TERMINAL:
        return 0.0
    wake = as_utc(entry.next_attempt_at) or as_utc(entry.due_at) or publisher.clock()
    if entry.status == "publishing":
        wake = (as_utc(entry.claimed_at) or publisher.clock()) + timedelta(seconds=publisher.policy.lease_s)
    wait = (wake - publisher.clock()).total_seconds()
    return min(_max_sleep_s, max(0.05, wait))


@dataclass(kw_only=True)
class WorkerOptions:
    """Knobs of one worker process."""

    poll_s: float = 0.1
    """How often the dispatcher looks for due rows (bounds scheduling lateness)."""
    max_sleep_s: float = 60.0
    """Longest durable sleep of a waiting workflow (keep small when a simulated clock runs fast)."""
    concurrency: int = 32
    """Workflows this process runs at once (each account still publishes one at a time)."""


class PublishWorker:
    """Runs the dispatcher and executes publish workflows in this process."""

    def __init__(self, publisher: Publisher, options: WorkerOptions | None = None) -> None:
        self.publisher = publisher
        self.options = options or WorkerOptions()
        self._queue: Queue | None = None
        self._enqueued: dict[str, float] = {}

    async def start(self) -> None:
        """Register this publisher and the queue (DBOS must already be launched)."""
        global _publisher, _max_sleep_s
        _publisher = self.publisher
        _max_sleep_s = self.options.max_sleep_s
        self._queue = await DBOS.register_queue_async(
            QUEUE,
            partition_concurrency=1,
            worker_concurrency=self.options.concurrency,
            polling_interval_sec=min(self.options.poll_s, 1.0),
        )

    async def tick(self) -> int:
        """Enqueue every due row once; repair rows whose workflow can no longer move them. Returns count."""
        assert self._queue is not None, "call start() first"
        keys = await asyncio.to_thread(self.publisher.due_keys)
        now = time.monotonic()
        count = 0
        for key in keys:
            last = self._enqueued.get(key)
            if last is not None and now - last < max(5.0, self.publisher.policy.lease_s):
                continue
            self._enqueued[key] = now
            account_id = await asyncio.to_thread(self._account_of, key)
            with SetWorkflowID(key), SetEnqueueOptions(queue_partition_key=account_id or "-"):
                handle = await self._queue.enqueue_async(publish_workflow, key)
            status = await handle.get_status()
            if status is not None and status.status in (
                "SUCCESS",
                "ERROR",
                "CANCELLED",
                "MAX_RECOVERY_ATTEMPTS_EXCEEDED",
            ):
                # The key's workflow ended but the row still needs work (e.g. a dead worker's claim):
                # the publisher is safe to call directly.
                await self.publisher.process(key)
            count += 1
        return count

    def _account_of(self, key: str) -> str | None:
        with Session(self.publisher.engine) as session:
            entry = session.get(OutboxEntry, key)
            return entry.account_id if entry else None

    def open_count(self) -> int:
        """Rows not yet published, failed or cancelled."""
        with Session(self.publisher.engine) as session:
            return int(
                session.exec(
                    select(func.count())
                    .select_from(OutboxEntry)
                    .where(col(OutboxEntry.status).in_(["pending", "publishing", "unknown"]))
                ).one()
            )

    async def run(self, stop: asyncio.Event) -> None:
        """Dispatch until `stop` is set."""
        while not stop.is_set():
            try:
                await self.tick()
            except Exception:  # keep the worker alive; the outbox keeps the work
                log.exception("dispatcher tick failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.options.poll_s)

    async def drain(self, *, timeout_s: float = 60.0) -> int:
        """Dispatch until no due row is left open (simulations and tests); returns rows still open."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            await self.tick()
            if not self.publisher.due_keys() and not await asyncio.to_thread(self._in_flight):
                break
            await asyncio.sleep(self.options.poll_s)
        return self.open_count()

    def _in_flight(self) -> bool:
        with Session(self.publisher.engine) as session:
            return (
                session.exec(
                    select(OutboxEntry.key)
                    .where(col(OutboxEntry.status).in_(["publishing", "unknown"]))
                    .limit(1)
                ).first()
                is not None
            )

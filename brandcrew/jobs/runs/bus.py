"""The event log of runs: numbered events, persisted in batches, fanned out in-process and over Redis.

An executor writes a run's events through a `RunEventWriter`: each event gets the next number of the
run (the SSE `id`), reaches subscribers in this process at once (from memory), is published on Redis
when `REDIS_URL` is set (so a server process streams a run another process executes), and is written
to `run_events` in batches. A subscriber asks for the events after a number (`Last-Event-ID`): it
reads what it missed from memory or the database, then follows live, until the run's `end` event.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from brandcrew.services import runs as records

log = logging.getLogger("brandcrew.runs")

END = "end"
CONTROL_CHANNEL = "brandcrew:runs:control"


def events_channel(run_id: str) -> str:
    """The Redis channel of one run's events."""
    return f"brandcrew:runs:events:{run_id}"


@dataclass(frozen=True)
class StreamEvent:
    """One event of a run: its number, its SSE event name (`mode` or `mode|ns`) and JSON data."""

    seq: int
    event: str
    data: str

    def to_wire(self) -> str:
        """The event as a Redis message."""
        return json.dumps({"seq": self.seq, "event": self.event, "data": self.data})

    @classmethod
    def from_wire(cls, raw: str | bytes) -> StreamEvent:
        """The event a Redis message carries."""
        body = json.loads(raw)
        return cls(seq=int(body["seq"]), event=str(body["event"]), data=str(body["data"]))


@dataclass
class _LocalLog:
    """A run executing in this process: every event of this attempt, in memory."""

    start: int
    """The first number written by this attempt (earlier ones are in the database)."""
    events: list[StreamEvent] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    closed: bool = False

    def notify(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()


class RunEventBus:
    """Numbered run events: persisted, in-process fan-out, and Redis pub/sub across processes."""

    def __init__(
        self,
        engine: Engine,
        *,
        redis_url: str | None = None,
        flush_s: float = 0.05,
        batch: int = 64,
        poll_s: float = 0.2,
    ) -> None:
        self.engine = engine
        self.redis_url = redis_url
        self.flush_s = flush_s
        self.batch = batch
        self.poll_s = poll_s
        self.max_poll_s = max(poll_s, 1.0)
        self._local: dict[str, _LocalLog] = {}
        self._waiting: dict[str, set[asyncio.Event]] = {}
        self._redis: Any = None

    async def redis(self) -> Any:
        """The async Redis client (None without `REDIS_URL`)."""
        if self.redis_url and self._redis is None:
            import redis.asyncio as aioredis

            self._redis = aioredis.Redis.from_url(self.redis_url)
        return self._redis

    async def close(self) -> None:
        """Close the Redis client."""
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    async def publish_control(self, message: dict[str, Any]) -> bool:
        """Tell every executor (over Redis) to wake or cancel; False without Redis."""
        client = await self.redis()
        if client is None:
            return False
        try:
            await client.publish(CONTROL_CHANNEL, json.dumps(message))
        except Exception:  # Redis down: executors still poll the database
            log.warning("could not publish a run control message", exc_info=True)
            return False
        return True

    def writer(self, run_id: str, *, next_seq: int) -> RunEventWriter:
        """A writer for a run this process executes; its events start at `next_seq`."""
        local = _LocalLog(start=next_seq)
        self._local[run_id] = local
        for waiting in self._waiting.get(run_id, ()):
            waiting.set()  # its subscribers here follow it from memory at once
        return RunEventWriter(self, run_id, local, next_seq)

    def _release(self, run_id: str, local: _LocalLog) -> None:
        if self._local.get(run_id) is local:
            del self._local[run_id]

    async def write_end(self, run_id: str, data: str) -> None:
        """Close the log of a run nobody executes (cancelled while pending): its `end` event."""
        with Session(self.engine) as session:
            seq = records.last_seq(session, run_id=run_id) + 1
        event = StreamEvent(seq, END, data)
        await asyncio.to_thread(records.append_events, self.engine, run_id=run_id, events=[(seq, END, data)])
        await self._publish(run_id, [event])

    async def _publish(self, run_id: str, events: list[StreamEvent]) -> None:
        client = await self.redis()
        if client is None or not events:
            return
        try:
            async with client.pipeline(transaction=False) as pipe:
                for event in events:
                    pipe.publish(events_channel(run_id), event.to_wire())
                await pipe.execute()
        except Exception:  # subscribers elsewhere fall back to reading the database
            log.warning("could not publish run events on Redis", exc_info=True)

    async def subscribe(self, run_id: str, *, after: int = 0) -> AsyncIterator[StreamEvent]:
        """The run's events numbered above `after`, live, until its `end` event."""
        last = after
        pubsub = None
        queue: asyncio.Queue[StreamEvent] = asyncio.Queue()
        listener: asyncio.Task[None] | None = None
        started = asyncio.Event()
        self._waiting.setdefault(run_id, set()).add(started)
        wait = self.poll_s
        try:
            while True:
                local = self._local.get(run_id)
                if local is not None:
                    async for event in self._follow_local(run_id, local, last):
                        last = event.seq
                        yield event
                        if event.event == END:
                            return
                    continue  # the attempt ended without `end` (shutdown): the database has the rest
                if pubsub is None and self.redis_url:
                    pubsub, listener = await self._listen(run_id, queue)
                rows, closed = await asyncio.to_thread(self._read_or_closed, run_id, last)
                for row in rows:
                    last = row.seq
                    yield row
                    if row.event == END:
                        return
                if rows:
                    wait = self.poll_s
                    continue
                if closed:
                    return
                if pubsub is None:
                    # No Redis: poll the database for a run executed elsewhere, less often the longer
                    # nothing comes (a queued run), and wake at once when this process starts it.
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(started.wait(), wait)
                    started.clear()
                    wait = min(wait * 2, self.max_poll_s)
                    continue
                with contextlib.suppress(TimeoutError):
                    event = await asyncio.wait_for(queue.get(), 1.0)
                    while True:
                        if event.seq == last + 1:
                            last = event.seq
                            yield event
                            if event.event == END:
                                return
                        elif event.seq > last + 1:
                            break  # a gap: the database fills it on the next round
                        if queue.empty():
                            break
                        event = queue.get_nowait()
        finally:
            waiters = self._waiting.get(run_id)
            if waiters is not None:
                waiters.discard(started)
                if not waiters:
                    del self._waiting[run_id]
            if listener is not None:
                listener.cancel()
                with contextlib.suppress(BaseException):
                    await listener
            if pubsub is not None:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    def _read_or_closed(self, run_id: str, after: int) -> tuple[list[StreamEvent], bool]:
        """The stored events after `after`; when there are none, whether the stream has closed."""
        with Session(self.engine) as session:
            rows = records.read_events(session, run_id=run_id, after=after)
            closed = not rows and records.stream_closed(session, run_id=run_id, after=after)
        return [StreamEvent(r.seq, r.event, r.data) for r in rows], closed

    def _read(self, run_id: str, after: int) -> list[StreamEvent]:
        with Session(self.engine) as session:
            rows = records.read_events(session, run_id=run_id, after=after)
        return [StreamEvent(r.seq, r.event, r.data) for r in rows]

    async def _follow_local(self, run_id: str, local: _LocalLog, after: int) -> AsyncIterator[StreamEvent]:
        last = after
        if last < local.start - 1:  # events of an earlier attempt
            for event in await asyncio.to_thread(self._read, run_id, last):
                if event.seq >= local.start:
                    break
                last = event.seq
                yield event
        while True:
            index = last - local.start + 1
            if index < len(local.events):
                for event in local.events[max(index, 0) :]:
                    last = event.seq
                    yield event
                continue
            if local.closed:
                return
            await local.changed.wait()

    async def _listen(self, run_id: str, queue: asyncio.Queue[StreamEvent]) -> tuple[Any, asyncio.Task[None]]:
        client = await self.redis()
        pubsub = client.pubsub()
        await pubsub.subscribe(events_channel(run_id))

        async def pump() -> None:
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    queue.put_nowait(StreamEvent.from_wire(message["data"]))

        return pubsub, asyncio.create_task(pump())


class RunEventWriter:
    """Writes one run's events: numbered, visible in-process at once, published, persisted in batches."""

    def __init__(self, bus: RunEventBus, run_id: str, local: _LocalLog, next_seq: int) -> None:
        self.bus = bus
        self.run_id = run_id
        self.local = local
        self.next_seq = next_seq
        self._pending: list[StreamEvent] = []
        self._flusher: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def emit(self, event: str, data: str, *, persist: bool = True) -> StreamEvent:
        """Append an event (`data` is JSON text); `persist=False` only streams it (a deleted run's end)."""
        item = StreamEvent(self.next_seq, event, data)
        self.next_seq += 1
        self.local.events.append(item)
        self.local.notify()
        if persist:
            self._pending.append(item)
        await self.bus._publish(self.run_id, [item])
        if len(self._pending) >= self.bus.batch:
            await self.flush()
        elif self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_later())
        return item

    async def _flush_later(self) -> None:
        await asyncio.sleep(self.bus.flush_s)
        await self.flush()

    async def flush(self) -> None:
        """Write the pending events to the database."""
        async with self._lock:
            batch, self._pending = self._pending, []
            if batch:
                rows = [(e.seq, e.event, e.data) for e in batch]
                await asyncio.to_thread(
                    records.append_events, self.bus.engine, run_id=self.run_id, events=rows
                )

    async def close(self) -> None:
        """Flush everything and hand followers over to the database."""
        if self._flusher is not None and not self._flusher.done():
            # Never cancelled: a batch it took must be written before anything later (readers of
            # the database take the events after the last one they saw).
            await asyncio.shield(self._flusher)
        await self.flush()
        self.local.closed = True
        self.local.notify()
        self.bus._release(self.run_id, self.local)

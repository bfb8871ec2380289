"""The wire format of run streams: SSE events `metadata`, `<mode>[|ns]`..., `end`, each with an `id:`.

Events come from the run's event log, so a stream can start anywhere (`Last-Event-ID`), and a client
that goes away leaves the run running unless it asked otherwise (`on_disconnect="cancel"`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.responses import StreamingResponse

from brandcrew.jobs.runs import END, RunManager

ALWAYS = frozenset({"metadata", "end", "error"})
KEEPALIVE_S = 5.0


def mode_of(event: str) -> str:
    """The stream mode an event belongs to (`messages/partial|ns` -> `messages`; tuples -> `messages-tuple`)."""
    base = event.split("|", 1)[0]
    if base == "messages":
        return "messages-tuple"
    return base.split("/", 1)[0]


def wanted(event: str, modes: Iterable[str] | None) -> bool:
    """Whether a stream limited to `modes` sends `event`."""
    if modes is None:
        return True
    base = event.split("|", 1)[0]
    return base in ALWAYS or mode_of(event) in set(modes)


def parse_last_event_id(value: str | None) -> int | None:
    """The event number of a `Last-Event-ID` header (None when absent or not ours)."""
    if not value:
        return None
    try:
        return max(int(value), 0)
    except ValueError:
        return None


def run_event_stream(
    manager: RunManager,
    run_id: str,
    *,
    after: int,
    modes: Iterable[str] | None = None,
    headers: dict[str, str] | None = None,
    on_disconnect: Callable[[], Awaitable[None]] | None = None,
    first: tuple[str, str] | None = None,
) -> EventSourceResponse:
    """An SSE response with the run's events numbered above `after`, until `end`; `first` (event,
    data) is the run's event `after + 1`, already known, sent without reading it back."""
    mode_set = None if modes is None else list(modes)

    async def events() -> AsyncIterator[ServerSentEvent]:
        finished = False
        start = after
        try:
            if first is not None and wanted(first[0], mode_set):
                start += 1
                yield ServerSentEvent(data=first[1], event=first[0], id=str(start))
            async for event in manager.events(run_id, after=start):
                if event.event == END:
                    finished = True
                if wanted(event.event, mode_set):
                    yield ServerSentEvent(data=event.data, event=event.event, id=str(event.seq))
        finally:
            if not finished and on_disconnect is not None:
                # The client went away before the end: it asked for the run to stop with it.
                with contextlib.suppress(Exception):
                    await asyncio.shield(on_disconnect())

    return EventSourceResponse(events(), headers=headers or {}, ping=15, sep="\n")


def keepalive_json(
    result: Callable[[], Awaitable[Any]], *, headers: dict[str, str] | None = None
) -> StreamingResponse:
    """A JSON response sent after a long wait: headers (Location) at once, blank lines while waiting."""

    async def body() -> AsyncIterator[bytes]:
        task = asyncio.ensure_future(result())
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=KEEPALIVE_S)
                if done:
                    break
                yield b"\n"
            yield json.dumps(task.result(), ensure_ascii=False).encode()
        finally:
            if not task.done():
                task.cancel()

    return StreamingResponse(body(), media_type="application/json", headers=headers or {})

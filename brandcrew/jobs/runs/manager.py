"""What a server process holds for runs: the graphs, the event bus and (embedded) an executor.

`brandcrew serve` hosts an executor by default; with `embedded=False` runs are left to `brandcrew
worker` processes, reached through the database and Redis (wake-ups, cancels, events).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from langgraph.graph import StateGraph
from sqlalchemy import Engine
from sqlmodel import Session

from brandcrew.jobs.runs.bus import END, RunEventBus, StreamEvent
from brandcrew.jobs.runs.executor import ExecutorOptions, RunExecutor
from brandcrew.jobs.runs.graphs import GraphCatalog, GraphEntry, open_catalog
from brandcrew.jobs.runs.serde import dumps
from brandcrew.services import runs as records
from brandcrew.settings import Settings, get_settings
from brandcrew.store.engine import get_engine, session_scope
from brandcrew.store.tables import Run


class RunManager:
    """Graphs (opened on first use), events and (optionally) the executor of this process."""

    def __init__(self, settings: Settings, engine: Engine, bus: RunEventBus) -> None:
        self.settings = settings
        self.engine = engine
        self.bus = bus
        self.executor: RunExecutor | None = None
        self._catalog: GraphCatalog | None = None
        self._lock = asyncio.Lock()
        self._stack = contextlib.AsyncExitStack()
        self._extra: dict[str, tuple[Any, str]] = {}
        self.loop = asyncio.get_running_loop()
        """The event loop the graphs' connections belong to."""

    async def graphs(self) -> GraphCatalog:
        """The graphs, opened on first use (the team, its checkpointer and store)."""
        if self._catalog is None:
            async with self._lock:
                if self._catalog is None:
                    catalog = await self._stack.enter_async_context(
                        open_catalog(self.settings, engine=self.engine)
                    )
                    for graph_id, (builder, description) in self._extra.items():
                        catalog.entries[graph_id] = _compiled(catalog, graph_id, builder, description)
                    self._catalog = catalog
        return self._catalog

    def add_graph(self, graph_id: str, builder: StateGraph, description: str = "") -> None:
        """Serve another graph (a `StateGraph`, compiled on the team's checkpointer and store) as
        assistant `graph_id`."""
        self._extra[graph_id] = (builder, description)
        if self._catalog is not None:
            self._catalog.entries[graph_id] = _compiled(self._catalog, graph_id, builder, description)

    async def aclose(self) -> None:
        """Close the graphs (checkpointer, store) and the event bus."""
        await self._stack.aclose()
        await self.bus.close()

    async def created(self) -> None:
        """A run was created: wake an executor."""
        if self.executor is not None:
            self.executor.wake()
        else:
            await self.bus.publish_control({"type": "wake"})

    async def cancel(self, runs: Sequence[Run], action: str) -> list[Run]:
        """Cancel active runs: pending ones end now, running ones are stopped by their executor."""
        ids = [r.run_id for r in runs]

        def mark() -> list[Run]:
            with session_scope(self.engine) as session:
                rows = [session.get(Run, rid) for rid in ids]
                active = [r for r in rows if r is not None and r.status in records.ACTIVE]
                return records.request_cancel(session, runs=active, action=action)  # type: ignore[arg-type]

        marked = await asyncio.to_thread(mark)
        for run in marked:
            if run.status == "interrupted":  # it never started
                await self.bus.write_end(run.run_id, dumps({"run_id": run.run_id, "status": "interrupted"}))
                if action == "rollback":
                    await asyncio.to_thread(self._delete, run.run_id)
            elif self.executor is None or not self.executor.cancel(run.run_id, action):
                await self.bus.publish_control({"type": "cancel", "run_id": run.run_id, "action": action})
        return marked

    def _delete(self, run_id: str) -> None:
        with session_scope(self.engine) as session:
            row = session.get(Run, run_id)
            if row is not None:
                records.delete_run(
                    session, workspace_id=row.workspace_id, thread_id=row.thread_id, run_id=run_id
                )

    async def wait(self, run_id: str) -> None:
        """Return when the run has ended (or is gone)."""
        with Session(self.engine) as session:
            run = session.get(Run, run_id)
            if run is None or run.status not in records.ACTIVE:
                return
            after = records.last_seq(session, run_id=run_id)
        async for event in self.bus.subscribe(run_id, after=after):
            if event.event == END:
                return

    async def events(self, run_id: str, *, after: int) -> AsyncIterator[StreamEvent]:
        """The run's events numbered above `after`, until its end."""
        async for event in self.bus.subscribe(run_id, after=after):
            yield event

    def live_after(self, run_id: str) -> int:
        """Where a stream joined without Last-Event-ID starts: after the run's latest event (before
        its `end` when it has ended, so the client still learns that)."""
        local = self.bus._local.get(run_id)
        if local is not None and local.events:
            latest = local.events[-1]
            return latest.seq - 1 if latest.event == END else latest.seq
        with Session(self.engine) as session:
            last = records.last_seq(session, run_id=run_id)
            ended = records.stream_closed(session, run_id=run_id, after=last)
        return max(last - 1, 0) if ended and last else last

    async def drop_thread(self, thread_id: str) -> None:
        """Delete a thread's checkpoints (its records are the caller's)."""
        saver = (await self.graphs()).team.graph.checkpointer
        with contextlib.suppress(NotImplementedError):
            await saver.adelete_thread(thread_id)


def _compiled(catalog: GraphCatalog, graph_id: str, builder: StateGraph, description: str) -> GraphEntry:
    graph = builder.compile(
        checkpointer=catalog.team.graph.checkpointer, store=catalog.team.graph.store, name=graph_id
    )
    return GraphEntry(graph_id, graph, description or graph_id)


@asynccontextmanager
async def open_run_manager(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    embedded: bool = True,
    worker_id: str | None = None,
    options: ExecutorOptions | None = None,
) -> AsyncIterator[RunManager]:
    """The run manager; with `embedded`, a started executor too. Everything is closed on exit."""
    settings = settings or get_settings()
    engine = engine or get_engine(settings)
    manager = RunManager(settings, engine, RunEventBus(engine, redis_url=settings.redis_url))
    try:
        if embedded:
            manager.executor = RunExecutor(
                engine, manager.graphs, manager.bus, worker_id=worker_id, options=options
            )
            await manager.executor.start()
        yield manager
    finally:
        if manager.executor is not None:
            await manager.executor.stop()
        await manager.aclose()

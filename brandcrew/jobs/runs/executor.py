"""The run executor: claims pending runs and executes their graphs in the background.

A run is claimed atomically (`pending` -> `running`, one running run per thread), executed with
`astream(stream_mode=[...], subgraphs=...)` and its events written to the run's event log. Nothing
depends on the HTTP request that created it: a client that disconnects leaves it running. A cancel
(`interrupt` or `rollback`) stops the task; `rollback` also puts the thread back where it was and
deletes the run. The executor's heartbeat keeps its runs' leases; runs whose process died are handed
back to the queue and resumed from their last checkpoint by whichever executor claims them.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from langchain_core.messages import BaseMessage, BaseMessageChunk, message_chunk_to_message
from langgraph.types import Command, Send
from sqlalchemy import Engine
from sqlmodel import Session

from brandcrew.jobs.runs.bus import RunEventBus, RunEventWriter
from brandcrew.jobs.runs.graphs import GraphCatalog, GraphEntry, pending_interrupts
from brandcrew.jobs.runs.serde import dumps, to_jsonable
from brandcrew.llm.context import llm_context
from brandcrew.llm.ledger import CostFilter
from brandcrew.llm.runtime import get_runtime
from brandcrew.services import runs as records
from brandcrew.store.engine import session_scope
from brandcrew.store.tables import Run, RunThread, utcnow
from brandcrew.store.write_lock import mark_background_writes
from brandcrew.tools.context import ToolPolicy

log = logging.getLogger("brandcrew.runs")

GRAPH_MODES = {
    "values": "values",
    "updates": "updates",
    "custom": "custom",
    "messages": "messages",
    "messages-tuple": "messages",
    "debug": "debug",
    "tasks": "tasks",
    "checkpoints": "checkpoints",
}
"""The SDK's stream modes this server supports, and the LangGraph mode each one streams."""


@dataclass(kw_only=True)
class ExecutorOptions:
    """How many runs at once, and how often the executor looks for work and renews its leases."""

    concurrency: int = 4
    poll_s: float = 0.5
    heartbeat_s: float = 1.0
    stale_after_s: float = 30.0
    """A running run whose executor has not renewed its lease for this long is taken back."""
    temporary_ttl_s: float = 300.0
    """How long a stateless run's thread stays readable after the run ends."""


def default_worker_id() -> str:
    """A name for this executor: host, process and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def graph_input(kwargs: dict[str, Any]) -> Any:
    """The graph input of a run: its `input`, or a `Command` built from its `command`."""
    command = kwargs.get("command")
    if command:
        goto = command.get("goto")
        if isinstance(goto, dict):
            goto = Send(goto["node"], goto.get("input"))
        elif isinstance(goto, list):
            goto = [Send(g["node"], g.get("input")) if isinstance(g, dict) else g for g in goto]
        update = command.get("update")
        if isinstance(update, list):
            update = [tuple(u) for u in update]
        args: dict[str, Any] = {}
        if "resume" in command:
            args["resume"] = command["resume"]
        if update is not None:
            args["update"] = update
        if goto is not None:
            args["goto"] = goto
        return Command(**args)
    return kwargs.get("input")


def run_usage(run_id: str) -> dict[str, Any]:
    """The run's agents, models, tokens and USD cost from the cost ledger."""
    rows = get_runtime().ledger.totals(["agent", "model"], CostFilter(run_id=run_id))
    cost = sum((r.cost_usd for r in rows), start=Decimal(0))
    return {
        "agents": sorted({r.group["agent"] for r in rows if r.group.get("agent")}),
        "models": sorted({r.group["model"] for r in rows if r.group.get("model")}),
        "cost_usd": str(cost),
        "calls": sum(r.calls for r in rows),
        "input_tokens": sum(r.input_tokens for r in rows),
        "output_tokens": sum(r.output_tokens for r in rows),
        "unpriced_calls": sum(r.unpriced_calls for r in rows),
        "by_agent_model": [r.model_dump(mode="json") for r in rows],
    }


class _MessageStream:
    """Turns LangGraph `messages` chunks into the SDK's `messages/*` events."""

    def __init__(self) -> None:
        self.seen: dict[str, BaseMessage] = {}

    def convert(self, message: Any, metadata: Any, suffix: str) -> list[tuple[str, str]]:
        if not isinstance(message, BaseMessage):
            return []
        msg_id = message.id or ""
        out: list[tuple[str, str]] = []
        if msg_id not in self.seen:
            out.append(("messages/metadata" + suffix, dumps({msg_id: {"metadata": metadata}})))
        if isinstance(message, BaseMessageChunk):
            previous = self.seen.get(msg_id)
            merged = previous + message if isinstance(previous, BaseMessageChunk) else message
            self.seen[msg_id] = merged
            out.append(("messages/partial" + suffix, dumps([message_chunk_to_message(merged)])))
        else:
            self.seen[msg_id] = message
            out.append(("messages/complete" + suffix, dumps([message])))
        return out


class RunExecutor:
    """Executes pending runs in background tasks of this process."""

    def __init__(
        self,
        engine: Engine,
        graphs: Callable[[], Awaitable[GraphCatalog]],
        bus: RunEventBus,
        *,
        worker_id: str | None = None,
        options: ExecutorOptions | None = None,
    ) -> None:
        self.engine = engine
        self.graphs = graphs
        """Opens the graphs on first use (a process that never runs anything never loads them)."""
        self.bus = bus
        self.worker_id = worker_id or default_worker_id()
        self.options = options or ExecutorOptions()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._stops: dict[str, str] = {}
        self._wake = asyncio.Event()
        self._closing = False
        self._background: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Take back runs of dead processes, then start looking for work."""
        recovered = await asyncio.to_thread(
            records.recover_stale_runs, self.engine, stale_after_s=self.options.stale_after_s
        )
        if recovered:
            log.info("runs recovered from a dead process: %s", ", ".join(recovered))
        self._background = [
            asyncio.create_task(self._claim_loop(), name="runs-claim"),
            asyncio.create_task(self._lease_loop(), name="runs-lease"),
        ]
        if self.bus.redis_url:
            self._background.append(asyncio.create_task(self._control_loop(), name="runs-control"))

    async def stop(self) -> None:
        """Stop looking for work; runs still executing go back to the queue (resumed elsewhere or later)."""
        self._closing = True
        for task in self._background:
            task.cancel()
        for task in self._background:
            with contextlib.suppress(BaseException):
                await task
        for run_id in list(self._tasks):
            self._stop(run_id, "shutdown")
        if self._tasks:
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    def wake(self) -> None:
        """Look for pending runs now (a run was just created in this process)."""
        self._wake.set()

    def running(self) -> list[str]:
        """Ids of the runs this executor is executing."""
        return list(self._tasks)

    def cancel(self, run_id: str, action: str) -> bool:
        """Stop a run this executor executes; False when it does not execute it."""
        if run_id not in self._tasks:
            return False
        self._stop(run_id, action)
        return True

    def _stop(self, run_id: str, action: str) -> None:
        task = self._tasks.get(run_id)
        if task is None or run_id in self._stops:
            return
        self._stops[run_id] = action
        task.cancel()

    # -- loops ----------------------------------------------------------------------------------

    async def _claim_loop(self) -> None:
        mark_background_writes()  # runs started from here write after the requests of this process
        while not self._closing:
            try:
                await self._claim_some()
            except Exception:
                log.exception("run executor could not claim runs")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.options.poll_s)
            self._wake.clear()

    async def _claim_some(self) -> None:
        free = self.options.concurrency - len(self._tasks)
        if free <= 0:
            return
        candidates = await asyncio.to_thread(self._pending, free)
        for candidate in candidates:
            run = await asyncio.to_thread(
                records.claim_run, self.engine, run=candidate, worker_id=self.worker_id
            )
            if run is None:
                continue
            task = asyncio.create_task(self._run(run), name=f"run-{run.run_id}")
            self._tasks[run.run_id] = task
            task.add_done_callback(functools.partial(self._forget, run.run_id))

    def _forget(self, run_id: str, _task: object = None) -> None:
        self._tasks.pop(run_id, None)
        self._stops.pop(run_id, None)
        self._wake.set()  # a thread may have its next run waiting

    def _pending(self, limit: int) -> list[Run]:
        with Session(self.engine) as session:
            return records.pending_runs(session, limit=limit)

    async def _lease_loop(self) -> None:
        mark_background_writes()
        last_sweep = 0.0
        loop = asyncio.get_running_loop()
        while not self._closing:
            await asyncio.sleep(self.options.heartbeat_s)
            try:
                actions = await asyncio.to_thread(
                    records.heartbeat, self.engine, worker_id=self.worker_id, run_ids=list(self._tasks)
                )
                for run_id, action in actions.items():
                    self._stop(run_id, action)
                if loop.time() - last_sweep >= self.options.stale_after_s / 2:
                    last_sweep = loop.time()
                    if await asyncio.to_thread(
                        records.recover_stale_runs, self.engine, stale_after_s=self.options.stale_after_s
                    ):
                        self._wake.set()
                    await self._drop_temporary_threads()
            except Exception:
                log.exception("run executor lease renewal failed")

    async def _drop_temporary_threads(self) -> None:
        cutoff = utcnow() - timedelta(seconds=self.options.temporary_ttl_s)
        with Session(self.engine) as session:
            thread_ids = records.temporary_threads_to_drop(session, older_than=cutoff)
        for thread_id in thread_ids:
            await self.drop_thread(thread_id)

    async def drop_thread(self, thread_id: str) -> None:
        """Delete a thread's checkpoints and records."""
        saver = (await self.graphs()).team.graph.checkpointer
        with contextlib.suppress(NotImplementedError):
            await saver.adelete_thread(thread_id)
        with session_scope(self.engine) as session:
            thread = session.get(RunThread, thread_id)
            if thread is not None:
                records.delete_thread(session, workspace_id=thread.workspace_id, thread_id=thread_id)

    async def _control_loop(self) -> None:
        import json

        from brandcrew.jobs.runs.bus import CONTROL_CHANNEL

        while not self._closing:
            try:
                client = await self.bus.redis()
                pubsub = client.pubsub()
                await pubsub.subscribe(CONTROL_CHANNEL)
                try:
                    async for message in pubsub.listen():
                        if message.get("type") != "message":
                            continue
                        body = json.loads(message["data"])
                        if body.get("type") == "wake":
                            self._wake.set()
                        elif body.get("type") == "cancel":
                            self.cancel(str(body.get("run_id")), str(body.get("action") or "interrupt"))
                finally:
                    with contextlib.suppress(Exception):
                        await pubsub.aclose()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("run control channel lost; retrying", exc_info=True)
                await asyncio.sleep(1.0)

    # -- one run --------------------------------------------------------------------------------

    async def _run(self, run: Run) -> None:
        with Session(self.engine) as session:
            next_seq = records.last_seq(session, run_id=run.run_id) + 1
        writer = self.bus.writer(run.run_id, next_seq=next_seq)
        outcome: dict[str, Any] = {}
        try:
            if run.attempt > 1 or next_seq == 1:  # the first attempt's metadata was written with the run
                await writer.emit("metadata", dumps({"run_id": run.run_id, "attempt": run.attempt}))
            outcome = await self._execute(run, writer)
        except asyncio.CancelledError:
            action = self._stops.get(run.run_id, "shutdown")
            outcome = await self._stopped(run, writer, action)
            if action in ("shutdown", "lost"):  # the run goes on elsewhere (or later): no end here
                await writer.close()
                return
        except Exception as exc:  # the graph failed: the run ends in error, the server goes on
            log.exception("run %s failed", run.run_id)
            outcome = await self._failed(run, writer, exc)
        # From here on the run is finishing: a cancel arriving now must not cut its bookkeeping.
        self._stops.setdefault(run.run_id, "finishing")
        try:
            if outcome.get("event") is not None:
                await writer.emit(*outcome["event"])
            usage = await asyncio.to_thread(run_usage, run.run_id)
            if "custom" in run.params.get("stream_mode", []) and not outcome.get("deleted"):
                await writer.emit("custom", dumps({"type": "run_usage", "run_id": run.run_id, **usage}))
            if not outcome.get("deleted"):
                await asyncio.to_thread(
                    records.finish_run,
                    self.engine,
                    run_id=run.run_id,
                    worker_id=self.worker_id,
                    status=outcome.get("status", "error"),
                    error=outcome.get("error"),
                    usage=usage,
                    thread_status=outcome.get("thread_status"),
                    values=outcome.get("values"),
                    interrupts=outcome.get("interrupts"),
                )
            if outcome.get("deleted"):  # rolled back: the run and its events go before anyone hears `end`
                await writer.flush()
                await asyncio.to_thread(self._delete_run, run.run_id)
            await writer.emit(
                "end",
                dumps({"run_id": run.run_id, "status": outcome.get("status", "error")}),
                persist=not outcome.get("deleted"),
            )
        finally:
            await writer.close()

    def _delete_run(self, run_id: str) -> None:
        with session_scope(self.engine) as session:
            row = session.get(Run, run_id)
            if row is not None:
                row.status = "interrupted"  # rolled back: it goes, with its events
                records.delete_run(
                    session, workspace_id=row.workspace_id, thread_id=row.thread_id, run_id=run_id
                )

    def _config(self, catalog: GraphCatalog, run: Run, entry: GraphEntry) -> Any:
        kwargs = run.params
        policy = kwargs.get("policy") or {}
        tool_policy = ToolPolicy(
            allowed_scopes=frozenset(policy.get("allowed_scopes", ["read", "write"])),
            require_approval_for=frozenset(
                policy.get("require_approval_for", ["publish", "reply", "delete", "spend"])
            ),
        )
        base = dict(kwargs.get("config") or {})
        configurable = dict(base.get("configurable") or {})
        checkpoint = kwargs.get("checkpoint") or {}
        if kwargs.get("checkpoint_id"):
            checkpoint = {**checkpoint, "checkpoint_id": kwargs["checkpoint_id"]}
        for key in ("checkpoint_id", "checkpoint_ns", "checkpoint_map"):
            if checkpoint.get(key) is not None:
                configurable[key] = checkpoint[key]
        configurable.update(run_id=run.run_id, assistant_id=run.assistant_id, graph_id=run.graph_id)
        base["configurable"] = configurable
        base["metadata"] = {
            **dict(base.get("metadata") or {}),
            "run_id": run.run_id,
            "thread_id": run.thread_id,
            "assistant_id": run.assistant_id,
            "graph_id": run.graph_id,
            "run_attempt": run.attempt,
            "workspace_id": run.workspace_id,
        }
        return catalog.config(
            entry,
            workspace_id=run.workspace_id,
            thread_id=run.thread_id,
            run_id=run.run_id,
            policy=tool_policy,
            base=base,
        )

    async def _execute(self, run: Run, writer: RunEventWriter) -> dict[str, Any]:
        kwargs = run.params
        catalog = await self.graphs()
        entry = catalog.get(run.graph_id)
        graph = entry.graph
        config = self._config(catalog, run, entry)
        modes: list[str] = list(kwargs.get("stream_mode") or ["values"])
        subgraphs = bool(kwargs.get("stream_subgraphs"))
        before = await graph.aget_state(config)
        before_id = (before.config or {}).get("configurable", {}).get("checkpoint_id")
        payload = graph_input(kwargs)
        if run.attempt > 1 and kwargs.get("_before") != before_id:
            payload = None  # a retried run resumes from the checkpoint its first attempt reached
        elif run.attempt == 1:
            await asyncio.to_thread(self._remember_start, run.run_id, before_id)
        graph_modes = sorted({GRAPH_MODES[m] for m in modes if m in GRAPH_MODES})
        messages = _MessageStream()
        stream_kwargs: dict[str, Any] = {
            "stream_mode": graph_modes,
            "subgraphs": subgraphs,
            "interrupt_before": kwargs.get("interrupt_before"),
            "interrupt_after": kwargs.get("interrupt_after"),
        }
        if kwargs.get("durability"):
            stream_kwargs["durability"] = kwargs["durability"]
        if kwargs.get("context"):
            stream_kwargs["context"] = kwargs["context"]
        with llm_context(workspace_id=run.workspace_id, run_id=run.run_id):
            async for item in graph.astream(payload, config, **stream_kwargs):
                namespace, mode, chunk = item if subgraphs else ((), *item)
                for name, data in self._events(modes, namespace, mode, chunk, messages):
                    await writer.emit(name, data)
        snapshot = await graph.aget_state(config)
        interrupts = pending_interrupts(snapshot)
        values = to_jsonable(snapshot.values)
        return {
            "status": "interrupted" if interrupts else "success",
            "thread_status": "interrupted" if interrupts else "idle",
            "values": values,
            "interrupts": interrupts,
        }

    def _remember_start(self, run_id: str, checkpoint_id: str | None) -> None:
        with session_scope(self.engine) as session:
            row = session.get(Run, run_id)
            if row is not None:
                row.params = {**row.params, "_before": checkpoint_id}
                session.add(row)

    def _events(
        self, modes: list[str], namespace: Any, mode: str, chunk: Any, messages: _MessageStream
    ) -> list[tuple[str, str]]:
        suffix = "".join(f"|{part}" for part in namespace or ())
        if mode != "messages":
            return [(mode + suffix, dumps(chunk))] if mode in modes else []
        message, metadata = chunk
        out = []
        if "messages-tuple" in modes:
            out.append(("messages" + suffix, dumps([message, metadata])))
        if "messages" in modes:
            out.extend(messages.convert(message, metadata, suffix))
        return out

    async def _stopped(self, run: Run, writer: RunEventWriter, action: str) -> dict[str, Any]:
        """The run was cancelled (`interrupt`, `rollback`) or its process is shutting down."""
        if action == "shutdown":
            await asyncio.to_thread(self._requeue, run.run_id)
            return {}
        if action == "lost":  # another executor took it over after this one's lease lapsed
            log.warning("run %s was taken over by another executor; stopped here", run.run_id)
            return {}
        catalog = await self.graphs()
        entry = catalog.get(run.graph_id)
        config = self._config(catalog, run, entry)
        if action == "rollback":
            await self._rollback(run, entry, config)
            return {"status": "interrupted", "deleted": True}
        snapshot = await entry.graph.aget_state(config)
        interrupts = pending_interrupts(snapshot)
        return {
            "status": "interrupted",
            "thread_status": "interrupted" if interrupts else "idle",
            "values": to_jsonable(snapshot.values),
            "interrupts": interrupts,
        }

    async def _rollback(self, run: Run, entry: GraphEntry, config: Any) -> None:
        """Put the thread back to the checkpoint it had before the run."""
        with Session(self.engine) as session:
            row = session.get(Run, run.run_id)
            before_id = (row.params if row else run.params).get("_before")
        graph = entry.graph
        if before_id is None:
            with contextlib.suppress(NotImplementedError):
                await graph.checkpointer.adelete_thread(run.thread_id)
            values: dict[str, Any] = {}
            interrupts: dict[str, Any] = {}
        else:
            at = {**config, "configurable": {**config["configurable"], "checkpoint_id": before_id}}
            await graph.aupdate_state(at, None, as_node="__copy__")
            snapshot = await graph.aget_state(config)
            values, interrupts = to_jsonable(snapshot.values), pending_interrupts(snapshot)
        with session_scope(self.engine) as session:
            records.set_thread_state(
                session,
                thread_id=run.thread_id,
                values=values,
                interrupts=interrupts,
            )
            thread = session.get(RunThread, run.thread_id)
            if thread is not None:
                thread.status = "interrupted" if interrupts else "idle"
                session.add(thread)

    def _requeue(self, run_id: str) -> None:
        with session_scope(self.engine) as session:
            row = session.get(Run, run_id)
            if row is None or row.status != "running":
                return
            row.status, row.worker_id, row.updated_at = "pending", None, utcnow()
            session.add(row)
            thread = session.get(RunThread, row.thread_id)
            if thread is not None and thread.status == "busy":
                thread.status = "idle"
                session.add(thread)

    async def _failed(self, run: Run, writer: RunEventWriter, exc: BaseException) -> dict[str, Any]:
        values: Any = None
        interrupts: Any = None
        with contextlib.suppress(Exception):
            catalog = await self.graphs()
            entry = catalog.get(run.graph_id)
            snapshot = await entry.graph.aget_state(self._config(catalog, run, entry))
            values, interrupts = to_jsonable(snapshot.values), pending_interrupts(snapshot)
        return {
            "status": "error",
            "thread_status": "error",
            "error": f"{type(exc).__name__}: {exc}",
            "values": values,
            "interrupts": interrupts,
            "event": ("error", dumps({"error": type(exc).__name__, "message": str(exc)})),
        }

"""Records of the runs API: assistants, threads, runs and run events, every query inside one workspace.

Plain database code: the server's routes and the run executor (`brandcrew.jobs.runs`) both call it.
A run is created `pending`; an executor claims it atomically (one running run per thread), writes its
events, and finishes it. Runs of a dead process are handed back by `recover_stale_runs`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Engine, and_, delete, exists, func, or_, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from brandcrew.services._scoped import get_owned
from brandcrew.services.errors import Conflict, NotFound, ValidationFailed
from brandcrew.store.engine import session_scope, write_transaction
from brandcrew.store.tables import Run, RunAssistant, RunEvent, RunThread, as_utc, utcnow

ACTIVE = ("pending", "running")
"""Run statuses that still hold their thread."""
FINISHED = ("success", "error", "timeout", "interrupted")
THREAD_STATUSES = ("idle", "busy", "interrupted", "error")
MULTITASK = ("reject", "interrupt", "rollback", "enqueue")
CancelAction = Literal["interrupt", "rollback"]
_SCAN = 500


def new_uuid() -> str:
    """A new identifier in the form the SDK shows (UUID text)."""
    return str(uuid.uuid4())


def matches(document: Any, expected: Any) -> bool:
    """JSON containment: every key of `expected` is in `document` with a matching value."""
    if isinstance(expected, dict):
        return isinstance(document, dict) and all(
            k in document and matches(document[k], v) for k, v in expected.items()
        )
    return bool(document == expected)


# -- threads ------------------------------------------------------------------------------------


def create_thread(
    session: Session,
    *,
    workspace_id: str,
    thread_id: str | None = None,
    metadata: dict[str, Any] | None = None,
    if_exists: str = "raise",
    graph_id: str | None = None,
    temporary: bool = False,
) -> RunThread:
    """A new thread; an existing id is a conflict (`if_exists="raise"`) or returned (`do_nothing`)."""
    if thread_id:
        existing = session.get(RunThread, thread_id)
        if existing is not None:
            if existing.workspace_id != workspace_id:
                raise Conflict("a thread with this id already exists")
            if if_exists == "do_nothing":
                return existing
            raise Conflict(f"thread {thread_id} already exists")
    meta = dict(metadata or {})
    thread = RunThread(
        thread_id=thread_id or new_uuid(),
        workspace_id=workspace_id,
        meta=meta,
        graph_id=graph_id or meta.get("graph_id"),
        temporary=temporary,
    )
    session.add(thread)
    session.flush()
    return thread


def get_thread(session: Session, *, workspace_id: str, thread_id: str) -> RunThread:
    """The workspace's thread, or NotFound (another workspace's thread does not exist for the caller)."""
    return get_owned(session, RunThread, thread_id, workspace_id=workspace_id, label="thread")


def update_thread(
    session: Session, *, workspace_id: str, thread_id: str, metadata: dict[str, Any] | None
) -> RunThread:
    """Merge `metadata` into the thread's metadata."""
    thread = get_thread(session, workspace_id=workspace_id, thread_id=thread_id)
    if metadata:
        thread.meta = {**thread.meta, **metadata}
    thread.updated_at = utcnow()
    session.add(thread)
    session.flush()
    return thread


def delete_thread(session: Session, *, workspace_id: str, thread_id: str) -> RunThread:
    """Delete the thread with its runs and events (its checkpoints are the caller's to drop)."""
    thread = get_thread(session, workspace_id=workspace_id, thread_id=thread_id)
    run_ids = select(Run.run_id).where(Run.thread_id == thread_id)
    session.exec(delete(RunEvent).where(col(RunEvent.run_id).in_(run_ids)))
    session.exec(delete(Run).where(col(Run.thread_id) == thread_id))
    session.delete(thread)
    session.flush()
    return thread


def _thread_filters(workspace_id: str, ids: Sequence[str] | None, status: str | None) -> list[Any]:
    filters: list[Any] = [RunThread.workspace_id == workspace_id, col(RunThread.temporary).is_(False)]
    if ids:
        filters.append(col(RunThread.thread_id).in_(list(ids)))
    if status:
        filters.append(RunThread.status == status)
    return filters


def search_threads(
    session: Session,
    *,
    workspace_id: str,
    metadata: dict[str, Any] | None = None,
    values: dict[str, Any] | None = None,
    ids: Sequence[str] | None = None,
    status: str | None = None,
    limit: int = 10,
    offset: int = 0,
    sort_by: str = "created_at",
    sort_order: str = "desc",
) -> list[RunThread]:
    """The workspace's threads matching every filter (metadata and values by JSON containment)."""
    if sort_by not in ("thread_id", "status", "created_at", "updated_at"):
        raise ValidationFailed(f"cannot sort threads by {sort_by!r}")
    column = col(getattr(RunThread, sort_by))
    query = (
        select(RunThread)
        .where(*_thread_filters(workspace_id, ids, status))
        .order_by(column.asc() if sort_order == "asc" else column.desc(), col(RunThread.thread_id))
    )
    if not metadata and not values:
        return list(session.exec(query.offset(offset).limit(limit)))
    return _filtered(session, query, metadata, values, offset, limit)


def count_threads(
    session: Session,
    *,
    workspace_id: str,
    metadata: dict[str, Any] | None = None,
    values: dict[str, Any] | None = None,
    status: str | None = None,
) -> int:
    """How many of the workspace's threads match."""
    filters = _thread_filters(workspace_id, None, status)
    if not metadata and not values:
        return int(session.exec(select(func.count()).select_from(RunThread).where(*filters)).one())
    query = select(RunThread).where(*filters).order_by(col(RunThread.thread_id))
    return sum(1 for _ in _scan(session, query, metadata, values))


def _scan(
    session: Session, query: Any, metadata: dict[str, Any] | None, values: dict[str, Any] | None
) -> Iterator[RunThread]:
    start = 0
    while True:
        page = list(session.exec(query.offset(start).limit(_SCAN)))
        for thread in page:
            if matches(thread.meta, metadata or {}) and matches(thread.values, values or {}):
                yield thread
        if len(page) < _SCAN:
            return
        start += _SCAN


def _filtered(
    session: Session,
    query: Any,
    metadata: dict[str, Any] | None,
    values: dict[str, Any] | None,
    offset: int,
    limit: int,
) -> list[RunThread]:
    out: list[RunThread] = []
    for i, thread in enumerate(_scan(session, query, metadata, values)):
        if i >= offset:
            out.append(thread)
        if len(out) >= limit:
            break
    return out


def thread_busy(session: Session, *, thread_id: str) -> bool:
    """True while a run of the thread is pending or running."""
    query = select(Run.run_id).where(Run.thread_id == thread_id, col(Run.status).in_(ACTIVE)).limit(1)
    return session.exec(query).first() is not None


def temporary_threads_to_drop(session: Session, *, older_than: datetime) -> list[str]:
    """Threads made for stateless runs whose runs all ended before `older_than`."""
    busy = exists().where(and_(col(Run.thread_id) == col(RunThread.thread_id), col(Run.status).in_(ACTIVE)))
    query = select(RunThread.thread_id).where(
        col(RunThread.temporary).is_(True), col(RunThread.updated_at) < older_than, ~busy
    )
    return list(session.exec(query.limit(200)))


# -- runs ---------------------------------------------------------------------------------------


def create_run(
    session: Session,
    *,
    workspace_id: str,
    thread_id: str,
    assistant_id: str,
    graph_id: str,
    params: dict[str, Any],
    metadata: dict[str, Any] | None = None,
    multitask_strategy: str = "reject",
    after_seconds: float | None = None,
    run_id: str | None = None,
) -> tuple[Run, list[Run]]:
    """A pending run on the thread, and the runs it displaces (`interrupt`/`rollback`: the caller
    cancels them); `reject` refuses a busy thread with a Conflict, `enqueue` waits its turn."""
    if multitask_strategy not in MULTITASK:
        raise ValidationFailed(f"unknown multitask_strategy {multitask_strategy!r}")
    thread = get_thread(session, workspace_id=workspace_id, thread_id=thread_id)
    inflight = list(
        session.exec(select(Run).where(Run.thread_id == thread.thread_id, col(Run.status).in_(ACTIVE)))
    )
    if inflight and multitask_strategy == "reject":
        raise Conflict(
            "thread is busy with another run; use multitask_strategy enqueue, interrupt or rollback",
            details={"runIds": [r.run_id for r in inflight]},
        )
    now = utcnow()
    run = Run(
        run_id=run_id or new_uuid(),
        thread_id=thread.thread_id,
        workspace_id=workspace_id,
        assistant_id=assistant_id,
        graph_id=graph_id,
        params=params,
        meta=dict(metadata or {}),
        multitask_strategy=multitask_strategy,
        not_before=now + timedelta(seconds=after_seconds) if after_seconds else None,
        created_at=now,
        updated_at=now,
    )
    if thread.graph_id is None:
        thread.graph_id = graph_id
    thread.updated_at = now
    session.add(thread)
    session.add(run)
    session.flush()
    # The stream's first event exists as soon as the run does: a client learns the run id at once,
    # however long the run waits for an executor (the first attempt does not send it again).
    session.add(
        RunEvent(
            run_id=run.run_id,
            seq=1,
            event="metadata",
            data=first_event_data(run.run_id),
            created_at=now,
        )
    )
    displaced = inflight if multitask_strategy in ("interrupt", "rollback") else []
    return run, displaced


def first_event_data(run_id: str) -> str:
    """The data of a run's first event (`metadata`, number 1), written when the run is created."""
    return json.dumps({"run_id": run_id, "attempt": 1})


def get_run(session: Session, *, workspace_id: str, run_id: str, thread_id: str | None = None) -> Run:
    """The workspace's run (on `thread_id` when given), or NotFound."""
    run = session.get(Run, run_id)
    if run is None or run.workspace_id != workspace_id or (thread_id and run.thread_id != thread_id):
        raise NotFound(f"run {run_id} not found")
    return run


def list_runs(
    session: Session,
    *,
    workspace_id: str,
    thread_id: str,
    limit: int = 10,
    offset: int = 0,
    status: str | None = None,
) -> list[Run]:
    """The thread's runs, newest first."""
    get_thread(session, workspace_id=workspace_id, thread_id=thread_id)
    query = select(Run).where(Run.thread_id == thread_id, Run.workspace_id == workspace_id)
    if status:
        query = query.where(Run.status == status)
    query = query.order_by(col(Run.created_at).desc(), col(Run.run_id)).offset(offset).limit(limit)
    return list(session.exec(query))


def delete_run(session: Session, *, workspace_id: str, thread_id: str, run_id: str) -> None:
    """Delete a finished run and its events; an active run is a Conflict (cancel it first)."""
    run = get_run(session, workspace_id=workspace_id, run_id=run_id, thread_id=thread_id)
    if run.status in ACTIVE:
        raise Conflict(f"run {run_id} is {run.status}; cancel it before deleting it")
    session.exec(delete(RunEvent).where(col(RunEvent.run_id) == run_id))
    session.delete(run)
    session.flush()


def runs_to_cancel(
    session: Session,
    *,
    workspace_id: str,
    thread_id: str | None = None,
    run_ids: Sequence[str] | None = None,
    status: str | None = None,
) -> list[Run]:
    """The workspace's active runs picked by thread, ids or status (`pending`, `running`, `all`)."""
    query = select(Run).where(Run.workspace_id == workspace_id, col(Run.status).in_(ACTIVE))
    if thread_id:
        query = query.where(Run.thread_id == thread_id)
    if run_ids:
        query = query.where(col(Run.run_id).in_(list(run_ids)))
    if status and status != "all":
        query = query.where(Run.status == status)
    return list(session.exec(query))


def request_cancel(session: Session, *, runs: Iterable[Run], action: CancelAction) -> list[Run]:
    """Mark runs for cancellation; a run still pending ends at once (`interrupted`), a running one
    is stopped by its executor, which reads `cancel_action`."""
    if action not in ("interrupt", "rollback"):
        raise ValidationFailed(f"unknown cancel action {action!r}")
    now = utcnow()
    out = []
    for run in runs:
        run.cancel_action = action
        run.updated_at = now
        if run.status == "pending":
            run.status = "interrupted"
            run.ended_at = now
        session.add(run)
        out.append(run)
    session.flush()
    return out


def pending_runs(session: Session, *, limit: int = 20, now: datetime | None = None) -> list[Run]:
    """The oldest pending runs that may start now, one per thread, on threads with nothing running."""
    now = now or utcnow()
    other = aliased(Run)
    running = exists().where(and_(col(other.thread_id) == col(Run.thread_id), col(other.status) == "running"))
    query = (
        select(Run)
        .where(
            Run.status == "pending",
            or_(col(Run.not_before).is_(None), col(Run.not_before) <= now),
            ~running,
        )
        .order_by(col(Run.created_at), col(Run.run_id))
        .limit(limit * 4)
    )
    seen: set[str] = set()
    out = []
    for run in session.exec(query):
        if run.thread_id not in seen:
            seen.add(run.thread_id)
            out.append(run)
        if len(out) >= limit:
            break
    return out


def claim_run(engine: Engine, *, run: Run, worker_id: str) -> Run | None:
    """Take a pending run for `worker_id`, atomically: its thread turns busy, the run running.

    None when someone else took it first or its thread is busy. On PostgreSQL the thread row's lock
    orders concurrent claims; on SQLite the write lock does.
    """
    now = utcnow()
    with write_transaction(engine) as conn:
        thread = conn.execute(
            update(RunThread)
            .where(col(RunThread.thread_id) == run.thread_id, col(RunThread.status) != "busy")
            .values(status="busy", updated_at=now)
        )
        if thread.rowcount != 1:
            return None
        taken = conn.execute(
            update(Run)
            .where(col(Run.run_id) == run.run_id, col(Run.status) == "pending")
            .values(
                status="running",
                worker_id=worker_id,
                attempt=Run.attempt + 1,
                heartbeat_at=now,
                started_at=func.coalesce(Run.started_at, now),
                updated_at=now,
            )
        )
        if taken.rowcount != 1:
            conn.rollback()
            return None
    with Session(engine, expire_on_commit=False) as session:
        return session.get(Run, run.run_id)


def heartbeat(engine: Engine, *, worker_id: str, run_ids: Sequence[str]) -> dict[str, str]:
    """Renew the worker's leases; returns what must stop: the cancel action asked of a run, or `lost`
    for a run that is no longer this worker's (its lease expired and another executor took it)."""
    if not run_ids:
        return {}
    with write_transaction(engine) as conn:
        conn.execute(
            update(Run)
            .where(
                col(Run.run_id).in_(list(run_ids)),
                col(Run.worker_id) == worker_id,
                col(Run.status) == "running",
            )
            .values(heartbeat_at=utcnow())
        )
        rows = conn.execute(
            select(Run.run_id, Run.cancel_action, Run.worker_id, Run.status).where(
                col(Run.run_id).in_(list(run_ids))
            )
        ).all()
    out: dict[str, str] = {}
    for run_id, action, owner, status in rows:
        if owner != worker_id or status != "running":
            out[str(run_id)] = "lost" if action is None else str(action)
        elif action is not None:
            out[str(run_id)] = str(action)
    return out


def recover_stale_runs(engine: Engine, *, stale_after_s: float) -> list[str]:
    """Hand runs left `running` by a dead process (no heartbeat for `stale_after_s`) back to the queue."""
    cutoff = utcnow() - timedelta(seconds=stale_after_s)
    query = select(Run).where(
        Run.status == "running",
        or_(col(Run.heartbeat_at).is_(None), col(Run.heartbeat_at) < cutoff),
    )
    with Session(engine) as session:  # a plain read first: the write lock only when there is work
        if session.exec(query.limit(1)).first() is None:
            return []
    with session_scope(engine) as session:
        stale = list(session.exec(query))
        for run in stale:
            run.status = "pending"
            run.worker_id = None
            run.updated_at = utcnow()
            session.add(run)
            thread = session.get(RunThread, run.thread_id)
            if thread is not None and thread.status == "busy":
                thread.status = "idle"
                session.add(thread)
    return [r.run_id for r in stale]


def finish_run(
    engine: Engine,
    *,
    run_id: str,
    worker_id: str | None,
    status: str,
    error: str | None = None,
    usage: dict[str, Any] | None = None,
    thread_status: str | None = None,
    values: dict[str, Any] | None = None,
    interrupts: dict[str, Any] | None = None,
) -> Run | None:
    """End a run this worker holds: its status, error and usage; its thread's status and values."""
    now = utcnow()
    with session_scope(engine) as session:
        run = session.get(Run, run_id)
        if run is None or (worker_id is not None and run.worker_id != worker_id):
            return None
        run.status = status
        run.error = error
        run.ended_at = now
        run.updated_at = now
        if usage is not None:
            run.meta = {**run.meta, "usage": usage}
        session.add(run)
        thread = session.get(RunThread, run.thread_id)
        if thread is not None:
            thread.status = thread_status or ("error" if status == "error" else "idle")
            if values is not None:
                thread.values = values
            if interrupts is not None:
                thread.interrupts = interrupts
            thread.updated_at = now
            session.add(thread)
        return run


def set_thread_state(
    session: Session,
    *,
    thread_id: str,
    values: dict[str, Any],
    interrupts: dict[str, Any],
    status: str | None = None,
) -> None:
    """Cache the thread's latest values and interrupts (after a state update outside a run)."""
    thread = session.get(RunThread, thread_id)
    if thread is None:
        return
    thread.values = values
    thread.interrupts = interrupts
    if status and thread.status != "busy":
        thread.status = status
    thread.updated_at = utcnow()
    session.add(thread)
    session.flush()


# -- events -------------------------------------------------------------------------------------


def append_events(engine: Engine, *, run_id: str, events: Sequence[tuple[int, str, str]]) -> None:
    """Persist a batch of `(seq, event, json)` of one run."""
    if not events:
        return
    now = utcnow()
    with write_transaction(engine) as conn:
        conn.execute(
            RunEvent.__table__.insert(),  # type: ignore[attr-defined]
            [{"run_id": run_id, "seq": s, "event": e, "data": d, "created_at": now} for s, e, d in events],
        )


def read_events(session: Session, *, run_id: str, after: int = 0, limit: int = 1000) -> list[RunEvent]:
    """The run's events with `seq > after`, in order."""
    query = (
        select(RunEvent)
        .where(RunEvent.run_id == run_id, col(RunEvent.seq) > after)
        .order_by(col(RunEvent.seq))
        .limit(limit)
    )
    return list(session.exec(query))


def stream_closed(session: Session, *, run_id: str, after: int) -> bool:
    """True when nothing more will follow event `after`: the run is gone, or its `end` is at or
    before `after`."""
    if session.get(Run, run_id) is None:
        return True
    query = select(RunEvent.seq).where(
        RunEvent.run_id == run_id, RunEvent.event == "end", col(RunEvent.seq) <= after
    )
    return session.exec(query.limit(1)).first() is not None


def last_seq(session: Session, *, run_id: str) -> int:
    """The run's highest event number (0 when none)."""
    value = session.exec(select(func.max(RunEvent.seq)).where(RunEvent.run_id == run_id)).one()
    return int(value or 0)


# -- assistants ---------------------------------------------------------------------------------


def create_assistant(
    session: Session,
    *,
    workspace_id: str,
    graph_id: str,
    assistant_id: str | None = None,
    name: str | None = None,
    description: str | None = None,
    config: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    if_exists: str = "raise",
) -> RunAssistant:
    """A new assistant on a graph; an existing id is a conflict or returned (`do_nothing`)."""
    if assistant_id:
        existing = session.get(RunAssistant, assistant_id)
        if existing is not None:
            if existing.workspace_id == workspace_id and if_exists == "do_nothing":
                return existing
            raise Conflict(f"assistant {assistant_id} already exists")
    row = RunAssistant(
        assistant_id=assistant_id or new_uuid(),
        workspace_id=workspace_id,
        graph_id=graph_id,
        name=name or "Untitled",
        description=description,
        config=dict(config or {}),
        context=dict(context or {}),
        meta=dict(metadata or {}),
    )
    session.add(row)
    session.flush()
    return row


def get_assistant(session: Session, *, workspace_id: str, assistant_id: str) -> RunAssistant | None:
    """The workspace's assistant by id, or None."""
    row = session.get(RunAssistant, assistant_id)
    return row if row is not None and row.workspace_id == workspace_id else None


def update_assistant(
    session: Session, *, workspace_id: str, assistant_id: str, changes: dict[str, Any]
) -> RunAssistant:
    """Apply changes (graph_id, name, description, config, context, metadata); bumps the version."""
    row = get_assistant(session, workspace_id=workspace_id, assistant_id=assistant_id)
    if row is None:
        raise NotFound(f"assistant {assistant_id} not found")
    for key, value in changes.items():
        if value is None:
            continue
        setattr(row, "meta" if key == "metadata" else key, value)
    row.version += 1
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    return row


def delete_assistant(session: Session, *, workspace_id: str, assistant_id: str) -> None:
    """Delete the workspace's assistant."""
    row = get_assistant(session, workspace_id=workspace_id, assistant_id=assistant_id)
    if row is None:
        raise NotFound(f"assistant {assistant_id} not found")
    session.delete(row)
    session.flush()


def search_assistants(
    session: Session,
    *,
    workspace_id: str,
    graph_id: str | None = None,
    name: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> list[RunAssistant]:
    """The workspace's assistants matching the filters, oldest first."""
    query = select(RunAssistant).where(RunAssistant.workspace_id == workspace_id)
    if graph_id:
        query = query.where(RunAssistant.graph_id == graph_id)
    rows = list(session.exec(query.order_by(col(RunAssistant.created_at))))
    if name:
        rows = [r for r in rows if name.lower() in r.name.lower()]
    return [r for r in rows if matches(r.meta, metadata or {})]


def as_aware(value: datetime | None) -> datetime | None:
    """A timestamp read back from the database as aware UTC."""
    return as_utc(value)

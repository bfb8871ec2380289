"""Threads, as langgraph-sdk's `client.threads` calls them: records, state, history, state updates."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from brandcrew.jobs.runs.graphs import GraphCatalog, GraphEntry, pending_interrupts, state_json
from brandcrew.jobs.runs.serde import to_jsonable
from brandcrew.server.deps import Principal, SessionDep, require
from brandcrew.server.errors import ApiError
from brandcrew.server.runs_schemas import (
    HistoryQuery,
    StateAt,
    StateUpdate,
    ThreadCreate,
    ThreadOut,
    ThreadPatch,
    ThreadSearch,
)
from brandcrew.server.runs_support import run_manager, thread_out
from brandcrew.services import runs as records
from brandcrew.store.engine import session_scope
from brandcrew.store.tables import RunThread

router = APIRouter(prefix="/threads", tags=["threads"])
Reader = Annotated[Principal, require("runs:read")]
Creator = Annotated[Principal, require("runs:create")]


@router.post("", response_model=ThreadOut)
async def create_thread(body: ThreadCreate, request: Request, principal: Creator) -> ThreadOut:
    """Create a thread (optionally with its first supersteps of state)."""
    manager = run_manager(request)
    graph_id = body.graph_id or (body.metadata or {}).get("graph_id")

    def create() -> RunThread:
        with session_scope(manager.engine) as session:
            return records.create_thread(
                session,
                workspace_id=principal.workspace_id,
                thread_id=body.thread_id,
                metadata=body.metadata,
                if_exists=body.if_exists,
                graph_id=graph_id,
            )

    thread = await run_in_threadpool(create)
    if body.supersteps:
        catalog = await manager.graphs()
        entry = _entry(catalog, thread)
        config = _config(catalog, entry, principal, thread.thread_id)
        for step in body.supersteps:
            for update in step.get("updates") or []:
                config = await entry.graph.aupdate_state(
                    config, update.get("values"), as_node=update.get("as_node")
                )
        thread = await _refresh(manager.engine, catalog, entry, principal, thread.thread_id)
    return thread_out(thread)


@router.post("/search", response_model=list[ThreadOut])
def search_threads(body: ThreadSearch, session: SessionDep, principal: Reader) -> list[ThreadOut]:
    """The workspace's threads matching metadata, values, ids and status."""
    rows = records.search_threads(
        session,
        workspace_id=principal.workspace_id,
        metadata=body.metadata,
        values=body.values,
        ids=body.ids,
        status=body.status,
        limit=body.limit,
        offset=body.offset,
        sort_by=body.sort_by,
        sort_order=body.sort_order,
    )
    return [thread_out(r) for r in rows]


@router.post("/count")
def count_threads(body: ThreadSearch, session: SessionDep, principal: Reader) -> int:
    """How many of the workspace's threads match."""
    return records.count_threads(
        session,
        workspace_id=principal.workspace_id,
        metadata=body.metadata,
        values=body.values,
        status=body.status,
    )


@router.get("/{thread_id}", response_model=ThreadOut)
def get_thread(thread_id: str, session: SessionDep, principal: Reader) -> ThreadOut:
    """One thread (status, latest values, pending interrupts)."""
    return thread_out(records.get_thread(session, workspace_id=principal.workspace_id, thread_id=thread_id))


@router.patch("/{thread_id}", response_model=ThreadOut)
def update_thread(thread_id: str, body: ThreadPatch, session: SessionDep, principal: Creator) -> ThreadOut:
    """Merge metadata into the thread's."""
    thread = records.update_thread(
        session, workspace_id=principal.workspace_id, thread_id=thread_id, metadata=body.metadata
    )
    session.commit()
    return thread_out(thread)


@router.delete("/{thread_id}", status_code=204)
async def delete_thread(thread_id: str, request: Request, principal: Creator) -> Response:
    """Delete the thread: its active runs are cancelled, its runs, events and checkpoints deleted."""
    manager = run_manager(request)

    def active() -> list[Any]:
        with Session(manager.engine) as session:
            records.get_thread(session, workspace_id=principal.workspace_id, thread_id=thread_id)
            return records.runs_to_cancel(session, workspace_id=principal.workspace_id, thread_id=thread_id)

    runs = await run_in_threadpool(active)
    if runs:
        await manager.cancel(runs, "interrupt")
        for run in runs:
            await manager.wait(run.run_id)

    def drop() -> None:
        with session_scope(manager.engine) as session:
            records.delete_thread(session, workspace_id=principal.workspace_id, thread_id=thread_id)

    await run_in_threadpool(drop)
    await manager.drop_thread(thread_id)
    return Response(status_code=204)


@router.post("/{thread_id}/copy", response_model=ThreadOut)
async def copy_thread(thread_id: str, request: Request, principal: Creator) -> ThreadOut:
    """A new thread with a copy of this one's checkpoints and metadata."""
    manager = run_manager(request)
    catalog = await manager.graphs()
    source = await run_in_threadpool(_thread, manager.engine, principal, thread_id)

    def create() -> RunThread:
        with session_scope(manager.engine) as session:
            return records.create_thread(
                session, workspace_id=principal.workspace_id, metadata=source.meta, graph_id=source.graph_id
            )

    copy = await run_in_threadpool(create)
    entry = _entry(catalog, source)
    try:
        await entry.graph.checkpointer.acopy_thread(thread_id, copy.thread_id)
    except NotImplementedError:
        raise ApiError(501, "NOT_IMPLEMENTED", "this checkpointer cannot copy threads") from None
    return thread_out(await _refresh(manager.engine, catalog, entry, principal, copy.thread_id))


@router.get("/{thread_id}/state")
async def get_state(
    thread_id: str, request: Request, principal: Reader, subgraphs: bool = False
) -> dict[str, Any]:
    """The thread's current state (values, next, tasks with their interrupts, checkpoint)."""
    return await _state(request, principal, thread_id, {}, subgraphs)


@router.get("/{thread_id}/state/{checkpoint_id}")
async def get_state_at(
    thread_id: str, checkpoint_id: str, request: Request, principal: Reader, subgraphs: bool = False
) -> dict[str, Any]:
    """The thread's state at a checkpoint."""
    return await _state(request, principal, thread_id, {"checkpoint_id": checkpoint_id}, subgraphs)


@router.post("/{thread_id}/state/checkpoint")
async def post_state_at(thread_id: str, body: StateAt, request: Request, principal: Reader) -> dict[str, Any]:
    """The thread's state at a checkpoint (given as an object)."""
    return await _state(request, principal, thread_id, body.checkpoint, body.subgraphs)


@router.post("/{thread_id}/state")
async def update_state(
    thread_id: str, body: StateUpdate, request: Request, principal: Creator
) -> dict[str, Any]:
    """Write values into the thread's state as if `as_node` produced them; the new checkpoint."""
    manager = run_manager(request)
    catalog = await manager.graphs()
    thread = await run_in_threadpool(_thread, manager.engine, principal, thread_id)
    if thread.status == "busy":
        raise ApiError(409, "CONFLICT", "the thread is busy with a run")
    entry = _entry(catalog, thread)
    config = _config(catalog, entry, principal, thread_id, _checkpoint(body.checkpoint, body.checkpoint_id))
    try:
        new_config = await entry.graph.aupdate_state(config, body.values, as_node=body.as_node)
    except (ValueError, KeyError) as exc:
        raise ApiError(422, "VALIDATION_ERROR", f"cannot update the state: {exc}") from None
    except Exception as exc:
        if type(exc).__name__ == "InvalidUpdateError":
            raise ApiError(422, "VALIDATION_ERROR", f"cannot update the state: {exc}") from None
        raise
    await _refresh(manager.engine, catalog, entry, principal, thread_id)
    from brandcrew.jobs.runs.graphs import checkpoint_json

    return {"checkpoint": checkpoint_json(new_config)}


@router.post("/{thread_id}/history")
async def history(
    thread_id: str, body: HistoryQuery, request: Request, principal: Reader
) -> list[dict[str, Any]]:
    """The thread's past states, newest first."""
    return await _history(request, principal, thread_id, body)


@router.get("/{thread_id}/history")
async def history_get(
    thread_id: str,
    request: Request,
    principal: Reader,
    limit: Annotated[int, Query(ge=1, le=1000)] = 10,
    before: str | None = None,
) -> list[dict[str, Any]]:
    """The thread's past states, newest first (Agent Protocol's GET form)."""
    return await _history(request, principal, thread_id, HistoryQuery(limit=limit, before=before))


async def _history(
    request: Request, principal: Principal, thread_id: str, body: HistoryQuery
) -> list[dict[str, Any]]:
    manager = run_manager(request)
    catalog = await manager.graphs()
    thread = await run_in_threadpool(_thread, manager.engine, principal, thread_id)
    entry = _entry(catalog, thread)
    config = _config(catalog, entry, principal, thread_id, body.checkpoint or {})
    before = body.before
    before_config = None
    if before:
        ref = {"checkpoint_id": before} if isinstance(before, str) else before
        before_config = _config(catalog, entry, principal, thread_id, ref)
    out = []
    async for snapshot in entry.graph.aget_state_history(
        config, filter=body.metadata, before=before_config, limit=body.limit
    ):
        out.append(state_json(snapshot, thread_id=thread_id))
    return out


async def _state(
    request: Request, principal: Principal, thread_id: str, checkpoint: dict[str, Any], subgraphs: bool
) -> dict[str, Any]:
    manager = run_manager(request)
    catalog = await manager.graphs()
    thread = await run_in_threadpool(_thread, manager.engine, principal, thread_id)
    entry = _entry(catalog, thread)
    config = _config(catalog, entry, principal, thread_id, checkpoint)
    snapshot = await entry.graph.aget_state(config, subgraphs=subgraphs)
    return state_json(snapshot, thread_id=thread_id)


def _thread(engine: Any, principal: Principal, thread_id: str) -> RunThread:
    with Session(engine) as session:
        return records.get_thread(session, workspace_id=principal.workspace_id, thread_id=thread_id)


def _entry(catalog: GraphCatalog, thread: RunThread) -> GraphEntry:
    try:
        return catalog.get(thread.graph_id or "supervisor")
    except KeyError:
        raise ApiError(409, "CONFLICT", f"the thread's graph {thread.graph_id} is not available") from None


def _checkpoint(checkpoint: dict[str, Any] | None, checkpoint_id: str | None) -> dict[str, Any]:
    out = dict(checkpoint or {})
    if checkpoint_id:
        out["checkpoint_id"] = checkpoint_id
    return out


def _config(
    catalog: GraphCatalog,
    entry: GraphEntry,
    principal: Principal,
    thread_id: str,
    checkpoint: dict[str, Any] | None = None,
) -> Any:
    configurable = {
        k: v
        for k, v in (checkpoint or {}).items()
        if k in ("checkpoint_id", "checkpoint_ns", "checkpoint_map") and v is not None
    }
    return catalog.config(
        entry, workspace_id=principal.workspace_id, thread_id=thread_id, base={"configurable": configurable}
    )


async def _refresh(
    engine: Any, catalog: GraphCatalog, entry: GraphEntry, principal: Principal, thread_id: str
) -> RunThread:
    """Cache the thread's current values and interrupts on its record (after a state change)."""
    snapshot = await entry.graph.aget_state(_config(catalog, entry, principal, thread_id))
    interrupts = pending_interrupts(snapshot)

    def write() -> RunThread:
        with session_scope(engine) as session:
            records.set_thread_state(
                session,
                thread_id=thread_id,
                values=to_jsonable(snapshot.values),
                interrupts=interrupts,
                status="interrupted" if interrupts else "idle",
            )
            return records.get_thread(session, workspace_id=principal.workspace_id, thread_id=thread_id)

    return await run_in_threadpool(write)

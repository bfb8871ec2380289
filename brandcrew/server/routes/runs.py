"""Runs, as langgraph-sdk's `client.runs` calls them: create, stream, wait, join, cancel, list.

Every run executes in the background (the executor), never inside the request: streaming and waiting
read the run's event log, so a client can disconnect, reconnect with `Last-Event-ID`, or join later.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from brandcrew.jobs.runs import RunManager
from brandcrew.server.deps import Principal, SessionDep, require
from brandcrew.server.errors import ApiError
from brandcrew.server.runs_schemas import CancelMany, RunCreate, RunOut
from brandcrew.server.runs_support import run_location, run_manager, run_out, start_run
from brandcrew.server.sse import keepalive_json, parse_last_event_id, run_event_stream
from brandcrew.services import runs as records
from brandcrew.store.tables import Run, RunThread

router = APIRouter(tags=["runs"])
Reader = Annotated[Principal, require("runs:read")]
Creator = Annotated[Principal, require("runs:create")]


def _headers(run: Run) -> dict[str, str]:
    location = run_location(run)
    return {"Content-Location": location, "Location": f"{location}/stream"}


async def _final_values(manager: RunManager, run_id: str) -> Any:
    """What `wait`/`join` answer: the thread's values when the run ended (with `__interrupt__`), or
    `__error__` when it failed."""
    await manager.wait(run_id)

    def read() -> Any:
        with Session(manager.engine) as session:
            run = session.get(Run, run_id)
            thread = session.get(RunThread, run.thread_id) if run is not None else None
        if run is None or thread is None:
            return None
        if run.status == "error":
            name, _, message = (run.error or "Error").partition(": ")
            return {"__error__": {"error": name, "message": message}}
        values: Any = thread.values
        interrupts = [i for items in thread.interrupts.values() for i in items]
        if interrupts and isinstance(values, dict):
            values = {**values, "__interrupt__": interrupts}
        return values

    return await run_in_threadpool(read)


def _stream_response(request: Request, run: Run, body: RunCreate) -> Any:
    manager = run_manager(request)

    async def cancel() -> None:
        await _cancel_ids(manager, [run.run_id], "interrupt")

    return run_event_stream(
        manager,
        run.run_id,
        after=0,
        headers=_headers(run),
        on_disconnect=cancel if body.on_disconnect == "cancel" else None,
        first=("metadata", records.first_event_data(run.run_id)),  # the client learns the id at once
    )


async def _cancel_ids(manager: RunManager, run_ids: list[str], action: str) -> list[Run]:
    def load() -> list[Run]:
        with Session(manager.engine) as session:
            return [r for rid in run_ids if (r := session.get(Run, rid)) is not None]

    return await manager.cancel(await run_in_threadpool(load), action)


# -- on a thread -----------------------------------------------------------------------------


@router.post("/threads/{thread_id}/runs", response_model=RunOut)
async def create_thread_run(
    thread_id: str, body: RunCreate, request: Request, response: Response, principal: Creator
) -> RunOut:
    """Start a background run on the thread."""
    run = await start_run(request, principal, body, thread_id=thread_id, background=True)
    response.headers.update(_headers(run))
    return run_out(run)


@router.post("/threads/{thread_id}/runs/stream", response_class=Response)
async def stream_thread_run(thread_id: str, body: RunCreate, request: Request, principal: Creator) -> Any:
    """Start a run on the thread and stream its events (SSE)."""
    run = await start_run(request, principal, body, thread_id=thread_id, background=False)
    return _stream_response(request, run, body)


@router.post("/threads/{thread_id}/runs/wait")
async def wait_thread_run(thread_id: str, body: RunCreate, request: Request, principal: Creator) -> Any:
    """Start a run on the thread and answer its final values."""
    run = await start_run(request, principal, body, thread_id=thread_id, background=True)
    manager = run_manager(request)
    location = run_location(run)
    return keepalive_json(
        lambda: _final_values(manager, run.run_id),
        headers={"Content-Location": location, "Location": f"{location}/join"},
    )


@router.get("/threads/{thread_id}/runs", response_model=list[RunOut])
def list_thread_runs(
    thread_id: str,
    session: SessionDep,
    principal: Reader,
    limit: Annotated[int, Query(ge=1, le=1000)] = 10,
    offset: Annotated[int, Query(ge=0)] = 0,
    status: str | None = None,
) -> list[RunOut]:
    """The thread's runs, newest first."""
    rows = records.list_runs(
        session,
        workspace_id=principal.workspace_id,
        thread_id=thread_id,
        limit=limit,
        offset=offset,
        status=status,
    )
    return [run_out(r) for r in rows]


@router.get("/threads/{thread_id}/runs/{run_id}", response_model=RunOut)
def get_thread_run(thread_id: str, run_id: str, session: SessionDep, principal: Reader) -> RunOut:
    """One run (its `metadata.usage` has the agents, models and cost once it ended)."""
    return run_out(
        records.get_run(session, workspace_id=principal.workspace_id, run_id=run_id, thread_id=thread_id)
    )


@router.delete("/threads/{thread_id}/runs/{run_id}", status_code=204)
def delete_thread_run(thread_id: str, run_id: str, session: SessionDep, principal: Creator) -> Response:
    """Delete a finished run."""
    records.delete_run(session, workspace_id=principal.workspace_id, thread_id=thread_id, run_id=run_id)
    session.commit()
    return Response(status_code=204)


@router.get("/threads/{thread_id}/runs/{run_id}/join")
async def join_thread_run(thread_id: str, run_id: str, request: Request, principal: Reader) -> Any:
    """Wait for the run to end; its final values."""
    manager = run_manager(request)
    run = await run_in_threadpool(_owned, manager, principal, thread_id, run_id)
    location = run_location(run)
    return keepalive_json(
        lambda: _final_values(manager, run.run_id), headers={"Location": f"{location}/join"}
    )


@router.get("/threads/{thread_id}/runs/{run_id}/stream", response_class=Response)
async def join_thread_run_stream(
    thread_id: str,
    run_id: str,
    request: Request,
    principal: Reader,
    stream_mode: Annotated[list[str] | None, Query()] = None,
    cancel_on_disconnect: bool = False,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> Any:
    """Stream the run's events: those after `Last-Event-ID`, or from now on without it."""
    manager = run_manager(request)
    run = await run_in_threadpool(_owned, manager, principal, thread_id, run_id)
    after = parse_last_event_id(last_event_id)
    if after is None:
        after = await run_in_threadpool(manager.live_after, run_id)

    async def cancel() -> None:
        await _cancel_ids(manager, [run_id], "interrupt")

    return run_event_stream(
        manager,
        run_id,
        after=after,
        modes=[m for m in stream_mode or [] if m] or None,  # the SDK sends `stream_mode=` for none
        headers=_headers(run),
        on_disconnect=cancel if cancel_on_disconnect else None,
    )


@router.post("/threads/{thread_id}/runs/{run_id}/cancel")
async def cancel_thread_run(
    thread_id: str,
    run_id: str,
    request: Request,
    principal: Creator,
    wait: bool = False,
    action: Literal["interrupt", "rollback"] = "interrupt",
) -> Any:
    """Stop the run (`interrupt` keeps what it did, `rollback` undoes it and deletes the run)."""
    manager = run_manager(request)
    run = await run_in_threadpool(_owned, manager, principal, thread_id, run_id)
    if run.status not in records.ACTIVE:
        raise ApiError(409, "CONFLICT", f"run {run_id} already ended ({run.status})")
    await manager.cancel([run], action)
    if not wait:
        return Response(status_code=202)
    await manager.wait(run_id)
    return await run_in_threadpool(_run_json_or_none, manager, run_id)


def _run_json_or_none(manager: RunManager, run_id: str) -> Any:
    with Session(manager.engine) as session:
        row = session.get(Run, run_id)
        return None if row is None else run_out(row).model_dump(mode="json")


def _owned(manager: RunManager, principal: Principal, thread_id: str, run_id: str) -> Run:
    with Session(manager.engine) as session:
        return records.get_run(
            session, workspace_id=principal.workspace_id, run_id=run_id, thread_id=thread_id
        )


# -- stateless and many ----------------------------------------------------------------------


@router.post("/runs", response_model=RunOut)
async def create_stateless_run(
    body: RunCreate, request: Request, response: Response, principal: Creator
) -> RunOut:
    """Start a background run on a new thread (deleted a while after the run, unless `on_completion=keep`)."""
    run = await start_run(request, principal, body, thread_id=None, background=True)
    response.headers.update(_headers(run))
    return run_out(run)


@router.post("/runs/stream", response_class=Response)
async def stream_stateless_run(body: RunCreate, request: Request, principal: Creator) -> Any:
    """Start a run on a new thread and stream its events (SSE)."""
    run = await start_run(request, principal, body, thread_id=None, background=False)
    return _stream_response(request, run, body)


@router.post("/runs/wait")
async def wait_stateless_run(body: RunCreate, request: Request, principal: Creator) -> Any:
    """Start a run on a new thread and answer its final values."""
    run = await start_run(request, principal, body, thread_id=None, background=True)
    manager = run_manager(request)
    location = run_location(run)
    return keepalive_json(
        lambda: _final_values(manager, run.run_id),
        headers={"Content-Location": location, "Location": f"{location}/join"},
    )


@router.post("/runs/batch", response_model=list[RunOut])
async def create_runs(body: list[RunCreate], request: Request, principal: Creator) -> list[RunOut]:
    """Start several background runs (each on its `thread_id`, or stateless)."""
    if len(body) > 100:
        raise ApiError(422, "VALIDATION_ERROR", "at most 100 runs per batch")
    out = []
    for item in body:
        out.append(
            run_out(await start_run(request, principal, item, thread_id=item.thread_id, background=True))
        )
    return out


@router.post("/runs/cancel", status_code=204)
async def cancel_runs(
    body: CancelMany,
    request: Request,
    principal: Creator,
    action: Literal["interrupt", "rollback"] = "interrupt",
) -> Response:
    """Cancel the workspace's active runs picked by thread, ids or status."""
    if not (body.thread_id or body.run_ids or body.status):
        raise ApiError(422, "VALIDATION_ERROR", "give thread_id, run_ids or status")
    manager = run_manager(request)

    def pick() -> list[Run]:
        with Session(manager.engine) as session:
            return records.runs_to_cancel(
                session,
                workspace_id=principal.workspace_id,
                thread_id=body.thread_id,
                run_ids=body.run_ids,
                status=body.status,
            )

    await manager.cancel(await run_in_threadpool(pick), action)
    return Response(status_code=204)

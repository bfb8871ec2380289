"""Runs keep going without their client, stream again from any event, stop when cancelled, queue or
refuse on a busy thread, survive their process, and stay inside their workspace."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Annotated, Any, TypedDict

import httpx
import pytest
from langchain_core.messages import AIMessage, AnyMessage
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph_sdk import get_client
from langgraph_sdk.errors import ConflictError, NotFoundError
from sqlmodel import Session

from brandcrew.services import runs as records
from brandcrew.store.engine import session_scope
from brandcrew.store.tables import Run, utcnow
from tests.server.runs_helpers import user_message
from tests.utils.server import Account, serve_in_thread


@pytest.fixture(autouse=True)
def _no_rate_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    from brandcrew.settings import get_settings

    monkeypatch.setenv("BRANDCREW_RATE_LIMIT_SCALE", "0")
    get_settings.cache_clear()


class GateState(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], add_messages]


class Gate:
    """A graph whose second node waits until the test opens the gate: runs that are provably mid-way."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.started: list[str] = []
        self.passed: list[str] = []

    def builder(self) -> StateGraph:
        async def start(state: GateState) -> dict[str, Any]:
            self.started.append("start")
            get_stream_writer()({"progress": "started"})
            return {"messages": [AIMessage("started")]}

        async def wait(state: GateState) -> dict[str, Any]:
            await asyncio.to_thread(self.open.wait)  # a cancelled run stops waiting at once
            self.passed.append("wait")
            return {"messages": [AIMessage("passed the gate")]}

        graph = StateGraph(GateState)
        graph.add_node("start", start)
        graph.add_node("wait", wait)
        graph.add_edge(START, "start")
        graph.add_edge("start", "wait")
        graph.add_edge("wait", END)
        return graph


@pytest.fixture
def gate() -> Iterator[Gate]:
    g = Gate()
    yield g
    g.open.set()  # no waiting thread outlives the test


@pytest.fixture
def server(app: Any, gate: Gate) -> Any:
    with serve_in_thread(app) as url:
        app.state.runs.add_graph("gate", gate.builder(), "waits for the test")
        try:
            yield url
        finally:
            gate.open.set()  # threads of cancelled runs stop waiting before the server stops


async def _until(check: Callable[[], bool]) -> None:
    """Return once `check()` holds (polls; fails after many rounds, whatever the machine's speed)."""
    for _ in range(20000):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never held")


async def _status(client: Any, tid: str, rid: str, want: str) -> dict[str, Any]:
    """The run once it reached `want` (polls; fails after many rounds, whatever the machine's speed)."""
    for _ in range(2000):
        run = await client.runs.get(tid, rid)
        if run["status"] == want:
            return dict(run)
        await asyncio.sleep(0.01)
    raise AssertionError(f"run {rid} never became {want}: {run['status']}")


async def test_a_run_continues_after_its_client_disconnects(server: str, owner: Account, gate: Gate) -> None:
    client = get_client(url=server, api_key=owner.api_key)
    tid = (await client.threads.create())["thread_id"]
    seen = []
    async for part in client.runs.stream(
        tid, "gate", input=user_message("go"), stream_mode=["custom", "updates"]
    ):
        seen.append(part)
        if part.event == "custom":
            break  # the client goes away while the run waits at the gate
    run_id = seen[0].data["run_id"]
    assert (await client.runs.get(tid, run_id))["status"] == "running"
    gate.open.set()
    values = await client.runs.join(tid, run_id)
    assert [m["content"] for m in values["messages"]] == ["go", "started", "passed the gate"]
    assert (await client.runs.get(tid, run_id))["status"] == "success"


async def test_join_stream_with_last_event_id_replays_only_later_events(
    server: str, owner: Account, gate: Gate
) -> None:
    gate.open.set()
    client = get_client(url=server, api_key=owner.api_key)
    tid = (await client.threads.create())["thread_id"]
    run = await client.runs.create(
        tid, "gate", input=user_message("go"), stream_mode=["values", "updates", "custom"]
    )
    await client.runs.join(tid, run["run_id"])
    everything = [p async for p in client.runs.join_stream(tid, run["run_id"], last_event_id="0")]
    assert everything[0].event == "metadata" and everything[-1].event == "end"
    ids = [int(p.id) for p in everything]
    assert ids == list(range(1, len(ids) + 1))
    cut = ids[len(ids) // 2]
    later = [p async for p in client.runs.join_stream(tid, run["run_id"], last_event_id=str(cut))]
    assert [int(p.id) for p in later] == [i for i in ids if i > cut]
    assert [(p.event, p.data) for p in later] == [(p.event, p.data) for p in everything if int(p.id) > cut]
    only_updates = [
        p async for p in client.runs.join_stream(tid, run["run_id"], last_event_id="0", stream_mode="updates")
    ]
    assert {p.event for p in only_updates} == {"metadata", "updates", "end"}
    # Joined live without an id: the events from then on.
    live = [p async for p in client.runs.join_stream(tid, run["run_id"])]
    assert [p.event for p in live] == ["end"]


async def test_reconnecting_mid_run_with_last_event_id_misses_nothing(
    server: str, owner: Account, gate: Gate
) -> None:
    client = get_client(url=server, api_key=owner.api_key)
    tid = (await client.threads.create())["thread_id"]
    first = []
    async for part in client.runs.stream(
        tid, "gate", input=user_message("go"), stream_mode=["values", "custom"]
    ):
        first.append(part)
        if part.event == "custom":
            break
    run_id = first[0].data["run_id"]
    gate.open.set()
    rest = [p async for p in client.runs.join_stream(tid, run_id, last_event_id=first[-1].id)]
    ids = [int(p.id) for p in first + rest]
    assert ids == list(range(1, len(ids) + 1)), "no event lost or repeated across the reconnect"
    assert rest[-1].event == "end"
    last_values = [p for p in rest if p.event == "values"][-1]
    assert last_values.data["messages"][-1]["content"] == "passed the gate"


async def test_cancel_stops_a_running_run(server: str, owner: Account, gate: Gate) -> None:
    client = get_client(url=server, api_key=owner.api_key)
    tid = (await client.threads.create())["thread_id"]
    run = await client.runs.create(tid, "gate", input=user_message("go"))
    await _status(client, tid, run["run_id"], "running")
    await _until(lambda: bool(gate.started))
    cancelled = await client.runs.cancel(tid, run["run_id"], wait=True)
    assert cancelled["status"] == "interrupted" and cancelled["cancel_reason"] == "interrupt"
    gate.open.set()
    assert gate.passed == [], "the cancelled run never went past the gate"
    thread = await client.threads.get(tid)
    assert thread["status"] == "idle"
    # The thread takes the next run as usual.
    values = await client.runs.wait(tid, "gate", input=user_message("again"))
    assert values["messages"][-1]["content"] == "passed the gate"
    assert gate.passed == ["wait"]


async def test_rollback_cancel_undoes_the_run(server: str, owner: Account, gate: Gate) -> None:
    client = get_client(url=server, api_key=owner.api_key)
    tid = (await client.threads.create())["thread_id"]
    gate.open.set()
    await client.runs.wait(tid, "gate", input=user_message("first"))
    before = await client.threads.get_state(tid)
    gate.open.clear()
    run = await client.runs.create(tid, "gate", input=user_message("second"))
    await _until(lambda: len(gate.started) >= 2)
    await client.runs.cancel(tid, run["run_id"], wait=True, action="rollback")
    with pytest.raises(NotFoundError):
        await client.runs.get(tid, run["run_id"])
    after = await client.threads.get_state(tid)
    assert after["values"] == before["values"]
    assert (await client.threads.get(tid))["status"] == "idle"


async def test_busy_thread_rejects_or_queues_new_runs(server: str, owner: Account, gate: Gate) -> None:
    client = get_client(url=server, api_key=owner.api_key)
    tid = (await client.threads.create())["thread_id"]
    first = await client.runs.create(tid, "gate", input=user_message("one"))
    with pytest.raises(ConflictError):
        await client.runs.create(tid, "gate", input=user_message("two"), multitask_strategy="reject")
    second = await client.runs.create(tid, "gate", input=user_message("two"), multitask_strategy="enqueue")
    await _status(client, tid, first["run_id"], "running")
    assert (await client.runs.get(tid, second["run_id"]))["status"] == "pending"
    gate.open.set()
    values = await client.runs.join(tid, second["run_id"])
    assert [m["content"] for m in values["messages"]] == [
        "one",
        "started",
        "passed the gate",
        "two",
        "started",
        "passed the gate",
    ]


async def test_interrupt_strategy_stops_the_running_run_for_the_new_one(
    server: str, owner: Account, gate: Gate
) -> None:
    client = get_client(url=server, api_key=owner.api_key)
    tid = (await client.threads.create())["thread_id"]
    first = await client.runs.create(tid, "gate", input=user_message("one"))
    await _status(client, tid, first["run_id"], "running")
    second = await client.runs.create(tid, "gate", input=user_message("two"), multitask_strategy="interrupt")
    await _status(client, tid, first["run_id"], "interrupted")
    gate.open.set()
    await client.runs.join(tid, second["run_id"])
    assert (await client.runs.get(tid, second["run_id"]))["status"] == "success"


async def test_disconnect_cancels_when_asked(server: str, owner: Account, gate: Gate) -> None:
    client = get_client(url=server, api_key=owner.api_key)
    tid = (await client.threads.create())["thread_id"]
    run_id = None
    async for part in client.runs.stream(
        tid, "gate", input=user_message("go"), stream_mode="custom", on_disconnect="cancel"
    ):
        run_id = run_id or part.data["run_id"]
        if part.event == "custom":
            break
    assert run_id is not None
    await _status(client, tid, run_id, "interrupted")
    gate.open.set()
    assert gate.passed == []


async def test_another_workspace_sees_nothing(
    server: str, owner: Account, second_owner: Account, gate: Gate
) -> None:
    gate.open.set()
    mine = get_client(url=server, api_key=owner.api_key)
    theirs = get_client(url=server, api_key=second_owner.api_key)
    tid = (await mine.threads.create(metadata={"secret": True}))["thread_id"]
    run = await mine.runs.create(tid, "gate", input=user_message("go"))
    await mine.runs.join(tid, run["run_id"])
    for call in (
        theirs.threads.get(tid),
        theirs.threads.get_state(tid),
        theirs.threads.get_history(tid),
        theirs.runs.get(tid, run["run_id"]),
        theirs.runs.list(tid),
        theirs.runs.join(tid, run["run_id"]),
        theirs.runs.cancel(tid, run["run_id"]),
        theirs.runs.create(tid, "gate", input=user_message("hijack")),
        theirs.threads.delete(tid),
    ):
        with pytest.raises(httpx.HTTPStatusError) as refused:
            await call
        assert refused.value.response.status_code == 404
    with pytest.raises(NotFoundError):
        _ = [p async for p in theirs.runs.join_stream(tid, run["run_id"], last_event_id="0")]
    assert await theirs.threads.search(metadata={"secret": True}) == []
    with pytest.raises(ConflictError):  # taking its id is no way in either
        await theirs.threads.create(thread_id=tid)
    assert (await mine.threads.get(tid))["metadata"] == {"secret": True}


async def test_errors_use_the_seed_envelope_and_need_permissions(server: str, owner: Account) -> None:
    async with httpx.AsyncClient(base_url=server, timeout=120) as http:
        missing = await http.get(f"/threads/{uuid.uuid4()}", headers={"x-api-key": owner.api_key})
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "NOT_FOUND"
        anonymous = await http.post("/threads", json={})
        assert anonymous.status_code == 401
        bad_mode = await http.post(
            "/runs/stream",
            json={"assistant_id": "strategy", "input": {}, "stream_mode": ["events"]},
            headers={"x-api-key": owner.api_key},
        )
        assert bad_mode.status_code == 422 and "events" in bad_mode.json()["error"]["message"]
        unknown = await http.post(
            "/runs", json={"assistant_id": "nobody"}, headers={"x-api-key": owner.api_key}
        )
        assert unknown.status_code == 404


async def test_a_run_left_running_by_a_dead_process_resumes_from_its_checkpoint(
    app: Any, owner: Account, gate: Gate
) -> None:
    """The dead process had run `start` (checkpointed) and died at the gate; a new server resumes at
    the gate without running `start` again."""
    gate.open.set()
    with serve_in_thread(app) as url:
        manager = app.state.runs
        manager.add_graph("gate", gate.builder())
        client = get_client(url=url, api_key=owner.api_key)
        tid = (await client.threads.create(graph_id="gate"))["thread_id"]
        catalog = await _in_server_loop(app, manager.graphs())
        entry = catalog.get("gate")
        config = catalog.config(entry, workspace_id=owner.workspace_id, thread_id=tid)
        await _in_server_loop(
            app, entry.graph.aupdate_state(config, {"messages": [("user", "go")]}, as_node="__start__")
        )
        before = (await client.threads.get_state(tid))["checkpoint"]["checkpoint_id"]
        await _in_server_loop(
            app, entry.graph.aupdate_state(config, {"messages": [AIMessage("started")]}, as_node="start")
        )
    # That process is gone; it left its run `running`, with a lease long expired.
    if True:
        with session_scope(app.state.services.engine) as session:
            run, _ = records.create_run(
                session,
                workspace_id=owner.workspace_id,
                thread_id=tid,
                assistant_id="gate",
                graph_id="gate",
                params={"input": user_message("go"), "stream_mode": ["values"], "_before": before},
            )
            run.status, run.attempt, run.worker_id = "running", 1, "dead-host:1:abc"
            run.heartbeat_at = utcnow() - timedelta(hours=1)
            session.add(run)
        run_id = run.run_id
    # A new server process starts: its executor takes the run back and finishes it.
    with serve_in_thread(app) as url:
        app.state.runs.add_graph("gate", gate.builder())
        client = get_client(url=url, api_key=owner.api_key)
        values = await client.runs.join(tid, run_id)
        done = await client.runs.get(tid, run_id)
    assert done["status"] == "success" and done["attempt"] == 2
    assert [m["content"] for m in values["messages"]] == ["go", "started", "passed the gate"]
    assert gate.started == [], "the resumed run did not repeat the step its first attempt finished"
    with Session(app.state.services.engine) as session:
        events = records.read_events(session, run_id=run_id)
    metadata = [json.loads(e.data)["attempt"] for e in events if e.event == "metadata"]
    assert events[0].event == "metadata" and metadata == [1, 2], "created, then resumed by a second attempt"


async def _in_server_loop(app: Any, coro: Any) -> Any:
    """Await `coro` on the server's event loop (the graphs' connections belong to it)."""
    loop = app.state.runs.loop
    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, loop))


@pytest.mark.redis
async def test_a_server_streams_a_run_that_a_worker_process_executes(
    monkeypatch: pytest.MonkeyPatch, redis_client: Any, gate: Gate
) -> None:
    """`brandcrew serve --no-executor` + `brandcrew worker --runs`: the worker claims the run, the server
    streams it live (Redis pub/sub) and cancels through Redis."""
    from brandcrew.jobs.runs import open_run_manager
    from brandcrew.server.app import create_app
    from brandcrew.settings import get_settings
    from tests.conftest import REDIS_URL
    from tests.utils.server import register

    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    monkeypatch.setenv("BRANDCREW_RUNS_EXECUTOR", "false")
    get_settings.cache_clear()
    app = create_app()
    ready, stop = threading.Event(), threading.Event()
    worker_ids: list[str] = []

    async def worker() -> None:
        async with open_run_manager(get_settings(), worker_id="worker-process") as manager:
            manager.add_graph("gate", gate.builder())
            assert manager.executor is not None
            worker_ids.append(manager.executor.worker_id)
            ready.set()
            await asyncio.to_thread(stop.wait)

    thread = threading.Thread(target=lambda: asyncio.run(worker()), daemon=True)
    thread.start()
    try:
        with serve_in_thread(app) as url:
            assert app.state.runs.executor is None
            app.state.runs.add_graph("gate", gate.builder())
            from fastapi.testclient import TestClient

            account = register(TestClient(app), name="Ada", workspace="Remote Roasters")
            assert ready.wait(300)
            client = get_client(url=url, api_key=account.api_key)
            tid = (await client.threads.create())["thread_id"]
            parts = []
            async for part in client.runs.stream(
                tid, "gate", input=user_message("go"), stream_mode=["custom", "values"]
            ):
                parts.append(part)
                if part.event == "custom" and part.data.get("progress") == "started":
                    gate.open.set()  # seen live while the worker holds the run at the gate
            assert parts[0].event == "metadata" and parts[-1].event == "end"
            run_id = parts[0].data["run_id"]
            with Session(app.state.services.engine) as session:
                assert session.get(Run, run_id).worker_id == "worker-process"  # type: ignore[union-attr]
            values = [p for p in parts if p.event == "values"][-1].data
            assert values["messages"][-1]["content"] == "passed the gate"

            gate.open.clear()
            run = await client.runs.create(tid, "gate", input=user_message("again"))
            await _until(lambda: len(gate.started) >= 2)
            cancelled = await client.runs.cancel(tid, run["run_id"], wait=True)
            assert cancelled["status"] == "interrupted"
            assert gate.passed == ["wait"]
    finally:
        stop.set()
        gate.open.set()
        thread.join(timeout=60)
    assert worker_ids == ["worker-process"]

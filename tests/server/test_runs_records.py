"""Run records on SQLite and PostgreSQL: one claim wins, one running run per thread, stale runs return."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session

from brandcrew.services import runs as records
from brandcrew.services.errors import Conflict, NotFound
from brandcrew.store.engine import session_scope
from brandcrew.store.tables import Run, utcnow
from tests.utils.domain import make_workspace


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue("sqlite_engine" if request.param == "sqlite" else "postgres_engine")


def _runs(engine: Any, workspace: str, n: int, *, strategy: str = "enqueue") -> tuple[str, list[Run]]:
    with session_scope(engine) as session:
        thread = records.create_thread(session, workspace_id=workspace)
        out = [
            records.create_run(
                session,
                workspace_id=workspace,
                thread_id=thread.thread_id,
                assistant_id="a",
                graph_id="supervisor",
                params={},
                multitask_strategy=strategy,
            )[0]
            for _ in range(n)
        ]
    return thread.thread_id, out


def test_one_claim_wins_and_a_thread_runs_one_run_at_a_time(engine: Any) -> None:
    ws = make_workspace(engine).id
    _, (first, second) = _runs(engine, ws, 2)
    with ThreadPoolExecutor(8) as pool:
        claims = list(pool.map(lambda i: records.claim_run(engine, run=first, worker_id=f"w{i}"), range(8)))
    winners = [c for c in claims if c is not None]
    assert len(winners) == 1 and winners[0].status == "running" and winners[0].attempt == 1
    assert records.claim_run(engine, run=second, worker_id="w9") is None, "its thread is busy"
    with Session(engine) as session:
        assert [r.run_id for r in records.pending_runs(session)] == []
    records.finish_run(engine, run_id=first.run_id, worker_id=winners[0].worker_id, status="success")
    with Session(engine) as session:
        assert [r.run_id for r in records.pending_runs(session)] == [second.run_id]
    assert records.claim_run(engine, run=second, worker_id="w9") is not None


def test_reject_refuses_a_busy_thread_and_other_workspaces_see_nothing(engine: Any) -> None:
    ws, other = make_workspace(engine, "acme").id, make_workspace(engine, "rival").id
    tid, (run,) = _runs(engine, ws, 1)
    with session_scope(engine) as session, pytest.raises(Conflict):
        records.create_run(
            session,
            workspace_id=ws,
            thread_id=tid,
            assistant_id="a",
            graph_id="g",
            params={},
            multitask_strategy="reject",
        )
    with Session(engine) as session:
        for call in (
            lambda: records.get_thread(session, workspace_id=other, thread_id=tid),
            lambda: records.get_run(session, workspace_id=other, run_id=run.run_id),
            lambda: records.list_runs(session, workspace_id=other, thread_id=tid),
        ):
            with pytest.raises(NotFound):
                call()
        assert records.search_threads(session, workspace_id=other) == []


def test_stale_running_runs_go_back_to_the_queue(engine: Any) -> None:
    ws = make_workspace(engine).id
    _, (run,) = _runs(engine, ws, 1)
    assert records.claim_run(engine, run=run, worker_id="dead") is not None
    assert records.recover_stale_runs(engine, stale_after_s=60) == [], "its lease is fresh"
    with session_scope(engine) as session:
        row = session.get(Run, run.run_id)
        assert row is not None
        row.heartbeat_at = utcnow() - timedelta(minutes=5)
        session.add(row)
    assert records.recover_stale_runs(engine, stale_after_s=60) == [run.run_id]
    again = records.claim_run(engine, run=run, worker_id="alive")
    assert again is not None and again.attempt == 2 and again.worker_id == "alive"
    # The old executor, if it was only slow, learns at its next heartbeat that the run is not its own.
    assert records.heartbeat(engine, worker_id="dead", run_ids=[run.run_id]) == {run.run_id: "lost"}
    assert records.heartbeat(engine, worker_id="alive", run_ids=[run.run_id]) == {}


def test_events_append_in_batches_and_read_after_a_number(engine: Any) -> None:
    ws = make_workspace(engine).id
    _, (run,) = _runs(engine, ws, 1)
    with Session(engine) as session:  # a new run's stream already holds its metadata
        (first,) = records.read_events(session, run_id=run.run_id)
        assert (first.seq, first.event) == (1, "metadata") and run.run_id in first.data
    records.append_events(engine, run_id=run.run_id, events=[(2, "values", "{}")])
    records.append_events(engine, run_id=run.run_id, events=[(3, "end", "{}")])
    with Session(engine) as session:
        assert [e.seq for e in records.read_events(session, run_id=run.run_id, after=1)] == [2, 3]
        assert records.last_seq(session, run_id=run.run_id) == 3
        assert records.stream_closed(session, run_id=run.run_id, after=3)
        assert not records.stream_closed(session, run_id=run.run_id, after=2)

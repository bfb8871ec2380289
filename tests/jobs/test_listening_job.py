"""The listening job on DBOS: a cron schedule in the worker, one step per workspace, failures contained."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from dbos import DBOS
from sqlmodel import Session

from brandcrew.jobs import listening as job
from brandcrew.jobs._dbos import launch_dbos, shutdown_dbos
from brandcrew.jobs.listening import SCHEDULE, SCHEDULE_NAME, ListeningJob, workspaces_with_queries
from brandcrew.jobs.runner import run_worker
from brandcrew.settings import Settings
from brandcrew.store.tables import ListeningQuery, Mention, as_utc
from tests.utils.domain import TEST_CIPHER
from tests.utils.listening import make_listening_world


@pytest.fixture
def dbos(tmp_path: Path) -> Any:
    launch_dbos(settings=Settings(data_dir=tmp_path), executor_id="test")
    yield
    shutdown_dbos()


async def test_the_scheduled_workflow_polls_every_workspace_with_a_query(
    sqlite_engine: Any, dbos: Any
) -> None:
    lw = make_listening_world(sqlite_engine)
    assert workspaces_with_queries(sqlite_engine) == [lw.workspace_id]
    await ListeningJob(sqlite_engine, lw.pw.accounts, TEST_CIPHER, notifier=lw.notifier).start()
    schedule = await DBOS.get_schedule_async(SCHEDULE_NAME)
    assert schedule is not None and schedule["schedule"] == SCHEDULE == "*/5 * * * *"

    handle = await asyncio.to_thread(DBOS.trigger_schedule, SCHEDULE_NAME)
    await asyncio.to_thread(handle.get_result)
    with Session(sqlite_engine) as session:
        query = session.get(ListeningQuery, lw.query_id)
        assert query is not None and as_utc(query.last_polled_at) == lw.pw.world.now()
    assert lw.count(Mention) > 0
    steps = await DBOS.list_workflow_steps_async(handle.get_workflow_id())
    assert [s["function_name"] for s in steps] == [
        "brandcrew.listening.workspaces",
        "brandcrew.listening.poll_workspace",
    ]
    assert steps[1]["output"]["stored"] == lw.count(Mention)


async def test_one_brands_failure_does_not_stop_the_round(sqlite_engine: Any, monkeypatch: Any) -> None:
    lw = make_listening_world(sqlite_engine)

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("connector exploded")

    monkeypatch.setattr(job, "poll_listening", broken)
    result = await ListeningJob(sqlite_engine, lw.pw.accounts, TEST_CIPHER).poll(lw.workspace_id)
    assert result == {"workspace_id": lw.workspace_id, "failed": "RuntimeError: connector exploded"}


async def test_the_worker_registers_the_listening_schedule(sqlite_engine: Any) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(run_worker(executor_id="listening-test", poll_s=0.05, stop=stop))
    schedule = None
    for _ in range(200):
        await asyncio.sleep(0.05)
        try:
            schedule = await DBOS.get_schedule_async(SCHEDULE_NAME)
        except Exception:  # DBOS not launched yet
            continue
        if schedule is not None:
            break
    stop.set()
    await asyncio.wait_for(task, timeout=30)
    assert schedule is not None and schedule["workflow_name"] == "brandcrew.listening.poll"

"""Publishing through DBOS: one workflow per outbox key, deduplicated, each post exactly once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from brandcrew.jobs._dbos import launch_dbos, shutdown_dbos
from brandcrew.jobs.publisher import Publisher, PublisherPolicy
from brandcrew.jobs.worker import PublishWorker, WorkerOptions
from brandcrew.services import publishing
from brandcrew.services.publishing import PostContent, PostTarget
from brandcrew.settings import Settings
from brandcrew.store.tables import OutboxEntry
from tests.utils.domain import accounts_with, connect, make_workspace
from tests.utils.fakes import FakeConnector


@pytest.fixture
def dbos(tmp_path: Path) -> Any:
    launch_dbos(settings=Settings(data_dir=tmp_path), executor_id="test")
    yield
    shutdown_dbos()


async def test_worker_publishes_every_row_once_through_dbos(sqlite_engine: Any, dbos: Any) -> None:
    fakes = {f"acct{i}": FakeConnector(platform="x") for i in range(3)}
    fakes["acct0"].script = ["unknown_created", "retryable"]
    fakes["acct1"].script = ["unknown_not_created"]
    accounts = accounts_with(sqlite_engine, fakes)
    workspace = make_workspace(sqlite_engine)
    ids = [connect(sqlite_engine, accounts, workspace.id, platform="x", username=u).id for u in fakes]
    with Session(sqlite_engine) as session:
        for n in range(12):
            post = publishing.create_post(
                session,
                workspace_id=workspace.id,
                content=PostContent(text=f"post number {n}"),
                targets=[PostTarget(platform="x", account_id=ids[n % 3])],
            )
            publishing.publish_now(session, workspace_id=workspace.id, post_id=post.id)
        session.commit()
    publisher = Publisher(sqlite_engine, accounts, policy=PublisherPolicy(retry_base_s=0.05, lease_s=5))
    worker = PublishWorker(publisher, WorkerOptions(poll_s=0.05, max_sleep_s=0.2))
    await worker.start()
    assert await worker.drain(timeout_s=60) == 0
    with Session(sqlite_engine) as session:
        rows = session.exec(select(OutboxEntry)).all()
    assert {r.status for r in rows} == {"published"}
    texts = [p.text for f in fakes.values() for p in f.posts]
    assert sorted(texts) == sorted(f"post number {n}" for n in range(12)), "each post exactly once"
    # Enqueuing a finished key again is deduplicated by DBOS: nothing is published twice.
    worker._enqueued.clear()
    from dbos import SetWorkflowID

    from brandcrew.jobs.worker import publish_workflow

    with SetWorkflowID(rows[0].key):
        handle = await worker._queue.enqueue_async(publish_workflow, rows[0].key)  # type: ignore[union-attr]
    assert await handle.get_result() in ("published", "done")
    assert sum(len(f.posts) for f in fakes.values()) == 12


async def test_campaign_graphs_load_only_once_a_real_time_campaign_runs(tmp_path: Path) -> None:
    import asyncio

    from brandcrew.jobs.runner import _drive_campaigns
    from brandcrew.store.engine import get_engine
    from brandcrew.store.tables.autopilot import AutopilotRun

    settings = Settings(data_dir=tmp_path)
    engine = get_engine(settings)
    workspace = make_workspace(engine)
    loads: list[str] = []
    driven = asyncio.Event()

    async def drive(stop: asyncio.Event, *, settings: Settings, executor_id: str, every_s: float) -> None:
        assert executor_id == "w-lazy" and every_s == 0.05
        driven.set()
        await stop.wait()

    def load() -> Any:
        loads.append("autopilot")
        return drive

    stop = asyncio.Event()
    task = asyncio.create_task(_drive_campaigns(stop, settings, "w-lazy", every_s=0.05, load_driver=load))
    with Session(engine) as session:  # only simulated or finished campaigns: nothing to drive
        session.add(AutopilotRun(campaign_id="sim", workspace_id=workspace.id, simulated=True))
        session.add(
            AutopilotRun(campaign_id="done", workspace_id=workspace.id, simulated=False, status="completed")
        )
        session.commit()
    await asyncio.sleep(0.3)
    assert loads == [] and not driven.is_set()
    with Session(engine) as session:
        session.add(AutopilotRun(campaign_id="live", workspace_id=workspace.id, simulated=False))
        session.commit()
    await asyncio.wait_for(driven.wait(), timeout=10)
    stop.set()
    await asyncio.wait_for(task, timeout=10)
    assert loads == ["autopilot"]

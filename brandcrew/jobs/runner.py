"""Running a worker process: settings -> engine, accounts, publisher, DBOS, dispatcher loop, and the
listening schedule."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from brandcrew.jobs._dbos import launch_dbos, shutdown_dbos
from brandcrew.jobs.listening import SCHEDULE as LISTENING_SCHEDULE
from brandcrew.jobs.listening import ListeningJob
from brandcrew.jobs.publisher import Publisher, PublisherPolicy
from brandcrew.jobs.worker import PublishWorker, WorkerOptions
from brandcrew.services.accounts import default_accounts_service
from brandcrew.settings import Settings, get_settings
from brandcrew.store.crypto import load_cipher
from brandcrew.store.engine import get_engine

log = logging.getLogger("brandcrew.worker")


class CampaignDriver(Protocol):
    """`brandcrew.jobs.autopilot.drive_campaigns`: drives running real-time campaigns until `stop`."""

    def __call__(
        self, stop: asyncio.Event, *, settings: Settings, executor_id: str, every_s: float
    ) -> Awaitable[Any]: ...


async def run_worker(
    *,
    executor_id: str,
    poll_s: float = 0.1,
    concurrency: int = 32,
    policy: PublisherPolicy | None = None,
    max_sleep_s: float = 60.0,
    stop: asyncio.Event | None = None,
    campaigns: bool = True,
    listening_schedule: str | None = LISTENING_SCHEDULE,
    runs: bool = False,
) -> None:
    """Publish, poll listening queries on `listening_schedule` (None: not in this worker) and drive
    real-time autopilot campaigns (`campaigns`) and, with `runs`, execute runs of the runs API, until
    `stop` is set or the process gets SIGTERM/SIGINT."""
    settings = get_settings()
    engine = get_engine(settings)
    cipher = load_cipher(settings.data_dir)
    accounts = default_accounts_service(engine, cipher)
    publisher = Publisher(engine, accounts, policy=policy or PublisherPolicy(), worker_id=executor_id)
    launch_dbos(settings=settings, executor_id=executor_id)
    worker = PublishWorker(
        publisher, WorkerOptions(poll_s=poll_s, concurrency=concurrency, max_sleep_s=max_sleep_s)
    )
    await worker.start()
    if listening_schedule:
        await ListeningJob(engine, accounts, cipher, schedule=listening_schedule).start()
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread
            loop.add_signal_handler(sig, stop.set)
    log.info("worker %s publishing", executor_id)
    sweeper = asyncio.create_task(_sweep_reservations(engine, settings, stop))
    background = [sweeper]
    if campaigns:  # real-time autopilot campaigns; several workers share them through DBOS workflow ids
        background.append(asyncio.create_task(_drive_campaigns(stop, settings, executor_id)))
    if runs:  # the runs API's executor: claims runs any server process created
        background.append(asyncio.create_task(_execute_runs(settings, engine, executor_id, stop)))
    try:
        await worker.run(stop)
    finally:
        stop.set()
        await asyncio.gather(*background, return_exceptions=True)
        shutdown_dbos()


async def _drive_campaigns(
    stop: asyncio.Event,
    settings: Settings,
    executor_id: str,
    *,
    every_s: float = 60.0,
    load_driver: Callable[[], CampaignDriver] | None = None,
) -> None:
    """Drive real-time campaigns once one is running. The graphs are imported only then, off the event
    loop: the import costs seconds of CPU, which a worker that only publishes (or one restarted after a
    crash) would otherwise spend competing with its first posts."""
    engine = get_engine(settings)
    while not stop.is_set():
        try:
            running = await asyncio.to_thread(_campaign_running, engine)
        except Exception:  # the check must never take the worker down: look again next time
            log.exception("could not look for running campaigns")
            running = False
        if running:
            drive = await asyncio.to_thread(load_driver or _campaign_driver)
            await drive(stop, settings=settings, executor_id=executor_id, every_s=every_s)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every_s)


def _campaign_driver() -> CampaignDriver:
    driver: CampaignDriver = importlib.import_module("brandcrew.jobs.autopilot").drive_campaigns
    return driver


def _campaign_running(engine: Any) -> bool:
    """Whether any real-time autopilot campaign is running."""
    from sqlmodel import Session

    from brandcrew.services.autopilot.records import real_time_runs

    with Session(engine) as session:
        return bool(real_time_runs(session, limit=1))


async def _execute_runs(settings: Settings, engine: Any, executor_id: str, stop: asyncio.Event) -> None:
    """Host a run executor until `stop`; its runs go back to the queue when it stops."""
    from brandcrew.jobs.runs import open_run_manager

    async with open_run_manager(settings, engine=engine, worker_id=f"{executor_id}:runs"):
        await stop.wait()


async def _sweep_reservations(
    engine: Any, settings: Settings, stop: asyncio.Event, every_s: float = 60.0
) -> None:
    """Release budget reservations left by dead processes, so their money becomes spendable again."""
    from brandcrew.llm.budgets import BudgetStore, RedisBudgetStore, SqlBudgetStore

    store: BudgetStore
    if settings.redis_url:
        import redis

        store = RedisBudgetStore(redis.Redis.from_url(settings.redis_url))
    else:
        store = SqlBudgetStore(engine)
    while not stop.is_set():
        try:
            released = await asyncio.to_thread(store.release_expired)
            if released:
                log.warning("released %d budget reservations of dead processes", released)
        except Exception:  # the sweeper must never take the worker down
            log.exception("reservation sweep failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every_s)

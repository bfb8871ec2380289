"""Running a worker process: settings -> engine, accounts, publisher, DBOS, dispatcher loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from brandcrew.jobs._dbos import launch_dbos, shutdown_dbos
from brandcrew.jobs.publisher import Publisher, PublisherPolicy
from brandcrew.jobs.worker import PublishWorker, WorkerOptions
from brandcrew.services.accounts import default_accounts_service
from brandcrew.settings import get_settings
from brandcrew.store.crypto import load_cipher
from brandcrew.store.engine import get_engine

log = logging.getLogger("brandcrew.worker")


async def run_worker(
    *,
    executor_id: str,
    poll_s: float = 0.1,
    concurrency: int = 32,
    policy: PublisherPolicy | None = None,
    max_sleep_s: float = 60.0,
    stop: asyncio.Event | None = None,
) -> None:
    """Publish until `stop` is set or the process gets SIGTERM/SIGINT."""
    settings = get_settings()
    engine = get_engine(settings)
    accounts = default_accounts_service(engine, load_cipher(settings.data_dir))
    publisher = Publisher(engine, accounts, policy=policy or PublisherPolicy(), worker_id=executor_id)
    launch_dbos(settings=settings, executor_id=executor_id)
    worker = PublishWorker(
        publisher, WorkerOptions(poll_s=poll_s, concurrency=concurrency, max_sleep_s=max_sleep_s)
    )
    await worker.start()
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread
            loop.add_signal_handler(sig, stop.set)
    log.info("worker %s publishing", executor_id)
    try:
        await worker.run(stop)
    finally:
        shutdown_dbos()

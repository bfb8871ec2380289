"""`brandcrew worker` drives running real-time campaigns: a worker started after the campaign plans,
writes and schedules its current cycle without an `autopilot run` process."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, select

from brandcrew.connectors.sandbox import SandboxWorld
from brandcrew.jobs.autopilot import AutopilotOptions, drive_campaigns, run_autopilot
from brandcrew.services.accounts import default_accounts_service
from brandcrew.services.brand import load_brand_profile
from brandcrew.services.workspaces import connect_sandbox_world, ensure_workspace
from brandcrew.settings import get_settings
from brandcrew.store.crypto import load_cipher
from brandcrew.store.engine import get_engine, session_scope
from brandcrew.store.tables import OutboxEntry
from brandcrew.store.tables.autopilot import AutopilotCycle, AutopilotRun
from tests.utils.autopilot import campaign_file


async def test_a_worker_drives_a_real_time_campaign(tmp_path: Path) -> None:
    settings = get_settings()
    engine = get_engine(settings)
    # Real time: the brand's accounts are connected beforehand (here a sandbox network on wall time).
    world = SandboxWorld.create(
        engine,
        seed=3,
        brand="Northwind Coffee",
        platforms=("x", "instagram"),
        speed=1.0,
        token_ttl=timedelta(days=30),
    )
    brand = load_brand_profile(settings.configs_dir / "workspaces" / "demo.yaml")
    accounts = default_accounts_service(engine, load_cipher(settings.data_dir))
    with session_scope(engine) as session:
        ensure_workspace(session, brand)
        connect_sandbox_world(session, accounts, workspace_id=brand.workspace_id, world=world)
    today = datetime.now(UTC).date().isoformat()
    path = campaign_file(tmp_path, start=today, timezone="UTC", days=2, quiet_hours=None)
    # `autopilot run --real-time` registers the campaign; stop it before its first cycle.
    first = await run_autopilot(path, options=AutopilotOptions(simulate=False, stop_after_cycles=0))
    assert first.status == "running" and first.cycles_done == 0

    stop = asyncio.Event()
    worker = asyncio.create_task(drive_campaigns(stop, settings=settings, executor_id="w-test", every_s=0.2))
    for _ in range(600):
        with Session(engine) as session:
            cycle = session.get(AutopilotCycle, (first.campaign_id, 0))
        if cycle is not None:
            break
        await asyncio.sleep(0.1)
    stop.set()
    await worker
    assert cycle is not None and cycle.status == "scheduled"
    with Session(engine) as session:
        rows = session.exec(select(OutboxEntry)).all()
        run = session.get(AutopilotRun, first.campaign_id)
    assert len(rows) == 3 and all(r.status in ("pending", "published") for r in rows)  # 2 X + 1 Instagram
    assert run is not None and run.simulated is False and run.world_id is None

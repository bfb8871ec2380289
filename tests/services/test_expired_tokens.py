"""Platform calls outside publishing refresh an expired token once instead of failing."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlmodel import Session, select

from brandcrew.connectors.sandbox import SandboxWorld
from brandcrew.jobs.publisher import Publisher
from brandcrew.services import analytics
from brandcrew.services.accounts import default_accounts_service
from brandcrew.services.brand import BrandProfile
from brandcrew.services.container import Services
from brandcrew.services.workspaces import connect_sandbox_world, ensure_workspace
from brandcrew.settings import Settings
from brandcrew.store.tables import AuditLog, MetricPoint
from brandcrew.tools.builtin.listening import competitor_posts
from brandcrew.tools.context import ToolContext, with_tool_context
from tests.utils.domain import TEST_CIPHER
from tests.utils.sandbox import PublishingWorld, drain_with_clock, queue_posts


async def test_metrics_and_competitor_posts_refresh_expired_tokens(sqlite_engine: Any, tmp_path: Any) -> None:
    world = SandboxWorld.create(
        sqlite_engine,
        seed=11,
        brand="Northwind Coffee",
        platforms=("x", "linkedin"),
        token_ttl=timedelta(hours=2),
    )
    accounts = default_accounts_service(sqlite_engine, TEST_CIPHER)
    with Session(sqlite_engine) as session:
        ensure_workspace(session, BrandProfile(workspace_id="nw", name="Northwind Coffee"))
        ids = {
            a.platform: a.id for a in connect_sandbox_world(session, accounts, workspace_id="nw", world=world)
        }
        session.commit()
    pw = PublishingWorld(sqlite_engine, world, accounts, "nw", ids)
    queue_posts(pw, 2, at=world.now(), rotation=("x",))
    await drain_with_clock(
        Publisher(sqlite_engine, accounts, clock=world.now), world, step=timedelta(minutes=5)
    )
    world.advance(timedelta(hours=5))  # every token has expired

    with Session(sqlite_engine) as session:
        written = await analytics.collect_metrics(session, accounts, workspace_id="nw", now=world.now())
        session.commit()
    with Session(sqlite_engine) as session:
        refreshed = session.exec(select(AuditLog).where(AuditLog.action == "refresh_token")).all()
        impressions = session.exec(select(MetricPoint).where(MetricPoint.metric_type == "impressions")).all()
    assert written > 0 and len(impressions) == 2
    assert {r.resource_id for r in refreshed} == set(ids.values())  # both accounts refreshed once

    rival = world.competitors()[0]
    world.advance(timedelta(days=3))  # rivals post meanwhile; the refreshed tokens expire again
    services = Services.from_settings(
        Settings(data_dir=tmp_path), engine=sqlite_engine, accounts=accounts, clock=world.now
    )
    config = with_tool_context(ToolContext(services=services, workspace_id="nw"))
    on_both = _data(await competitor_posts.ainvoke({"username": rival.username, "days": 30}, config))
    only_x = _data(
        await competitor_posts.ainvoke({"username": rival.username, "days": 30, "platform": "x"}, config)
    )
    tracked_on = {c.platform for c in world.competitors() if c.username == rival.username}
    assert {p["platform"] for p in on_both} == tracked_on and len(tracked_on) == 2  # no platform collapses
    assert only_x and {p["platform"] for p in only_x} == {"x"}


def _data(marked: str) -> list[dict[str, Any]]:
    """The JSON inside an untrusted-data block (what the model sees)."""
    body = marked.split("<untrusted_data>", 1)[1].split("</untrusted_data>", 1)[0]
    return list(json.loads(body))

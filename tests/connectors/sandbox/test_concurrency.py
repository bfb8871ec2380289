"""Concurrent publishing from threads and processes: a post is created at most once per call."""

from __future__ import annotations

import asyncio
import multiprocessing
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from typing import Any

from sqlmodel import Session

from brandcrew.connectors.capabilities import Platform
from brandcrew.connectors.drafts import PostDraft
from brandcrew.connectors.errors import ConnectorError
from brandcrew.connectors.sandbox import FaultPlan, SandboxWorld
from brandcrew.store.tables.sandbox import SandboxAccountRow

from . import _workers
from .conftest import START, auth

LONG_TTL = timedelta(days=365)


async def _attempt(coro: Any) -> str:
    try:
        await coro
        return "ok"
    except ConnectorError as exc:
        return str(exc) if "duplicate" in str(exc) else exc.kind


async def test_concurrent_publishes_never_exceed_the_quota(engine: Any) -> None:
    world = SandboxWorld.create(
        engine, seed=1, brand="Acme", start=START, token_ttl=LONG_TTL, quotas={"x": 20}
    )
    connector, account = world.connector(), auth(world, "x")
    calls = [
        connector.publish(account, PostDraft(platform=Platform.X, text=f"post {i}"), f"k{i}")
        for i in range(40)
    ]
    outcomes = Counter(await asyncio.gather(*(_attempt(c) for c in calls)))
    assert outcomes == {"ok": 20, "rate_limited": 20}
    posts = world.posts()
    assert len(posts) == 20 and len({p.remote_id for p in posts}) == 20
    with Session(engine) as session:
        row = session.get(SandboxAccountRow, (world.id, account.platform_account_id))
        assert row is not None and row.post_seq == 20


async def test_concurrent_identical_posts_pass_the_duplicate_check_once(engine: Any) -> None:
    world = SandboxWorld.create(engine, seed=1, brand="Acme", start=START, token_ttl=LONG_TTL)
    connector, account = world.connector(), auth(world, "x")
    draft = PostDraft(platform=Platform.X, text="Only once, please")
    outcomes = await asyncio.gather(*(_attempt(connector.publish(account, draft, f"k{i}")) for i in range(8)))
    assert outcomes.count("ok") == 1
    assert sum("duplicate content" in o for o in outcomes) == 7
    assert len(world.posts()) == 1


def test_processes_publishing_together_create_each_post_at_most_once(engine: Any) -> None:
    plan = FaultPlan(server_error=0.15, timeout_before_create=0.1, timeout_after_create=0.2)
    world = SandboxWorld.create(
        engine, seed=2, brand="Acme", start=START, token_ttl=LONG_TTL, faults=plan, quotas={"x": 20}
    )
    url = engine.url.render_as_string(hide_password=False)
    account = auth(world, "x").model_dump(mode="json")
    with ProcessPoolExecutor(max_workers=3, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(_workers.publish_many, url, world.id, account, f"p{w}", 15) for w in range(3)]
        outcomes = Counter(o for f in futures for o in f.result())
    calls = world.calls("publish")
    assert len(calls) == 45 and outcomes.total() == 45
    created = [c for c in calls if c.outcome in ("ok", "timeout_after_create")]
    posts = world.posts()
    # Exactly one post per call that created one, none for the others, and never over the quota.
    assert sorted(p.remote_id for p in posts) == sorted(c.remote_id for c in created if c.remote_id)
    assert len(posts) == len(created) == 20
    assert sum(c.outcome == "quota_exceeded" for c in calls) > 0
    assert outcomes["ok"] == sum(c.outcome == "ok" for c in calls)
    assert outcomes["outcome_unknown"] == sum(c.outcome.startswith("timeout") for c in calls)

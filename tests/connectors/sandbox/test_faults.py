"""Fault knobs: each kind behaves as a real platform's failure would, reproducibly."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from brandcrew.connectors.capabilities import Platform
from brandcrew.connectors.drafts import PostDraft
from brandcrew.connectors.errors import (
    AuthExpired,
    ConnectorError,
    OutcomeUnknown,
    RateLimited,
    RetryableError,
)
from brandcrew.connectors.sandbox import FaultKind, FaultPlan, SandboxWorld
from brandcrew.connectors.sandbox.faults import decide_fault
from brandcrew.store.engine import make_engine
from brandcrew.store.migrate import upgrade

from .conftest import START, auth

LONG_TTL = timedelta(days=365)


def _draft(text: str) -> PostDraft:
    return PostDraft(platform=Platform.X, text=text)


def _scripted(make_world: Any, key: str, *faults: FaultKind | None, **kwargs: Any) -> SandboxWorld:
    world: SandboxWorld = make_world(token_ttl=LONG_TTL, **kwargs)
    world.set_faults(FaultPlan(script={key: faults}))
    return world


async def test_timeout_after_create_leaves_exactly_one_findable_post(engine: Any) -> None:
    world = SandboxWorld.create(engine, seed=4, brand="Acme", start=START, token_ttl=LONG_TTL)
    world.set_faults(FaultPlan(script={"k": (FaultKind.TIMEOUT_AFTER_CREATE,)}))
    connector, account = world.connector(), auth(world, "x")
    with pytest.raises(OutcomeUnknown):
        await connector.publish(account, _draft("Did it go out?"), "k")
    found = await connector.find_posts(account, START - timedelta(minutes=5), START + timedelta(minutes=5))
    assert [p.text for p in found] == ["Did it go out?"]
    # A blind retry is caught as a duplicate, as on X: reconciliation must look first.
    with pytest.raises(ConnectorError, match="duplicate"):
        await connector.publish(account, _draft("Did it go out?"), "k")
    assert len(await connector.find_posts(account, START, START + timedelta(minutes=5))) == 1
    assert [c.outcome for c in world.calls("publish")] == ["timeout_after_create", "rejected"]
    assert world.calls("publish")[0].remote_id == found[0].remote_id


async def test_timeout_before_create_leaves_nothing(make_world: Any) -> None:
    world = _scripted(make_world, "k", FaultKind.TIMEOUT_BEFORE_CREATE)
    connector, account = world.connector(), auth(world, "x")
    with pytest.raises(OutcomeUnknown):
        await connector.publish(account, _draft("Lost on the way"), "k")
    assert await connector.find_posts(account, START - timedelta(hours=1), START + timedelta(hours=1)) == []
    await connector.publish(account, _draft("Lost on the way"), "k")  # attempt 2 is not scripted
    assert len(world.posts()) == 1


async def test_server_error_is_retryable_and_creates_nothing(make_world: Any) -> None:
    world = _scripted(make_world, "k", FaultKind.SERVER_ERROR, FaultKind.SERVER_ERROR, None)
    connector, account = world.connector(), auth(world, "x")
    for _ in range(2):
        with pytest.raises(RetryableError) as info:
            await connector.publish(account, _draft("Third time lucky"), "k")
        assert info.value.retryable and info.value.status_code == 503
    assert world.posts() == []
    await connector.publish(account, _draft("Third time lucky"), "k")
    assert [c.attempt for c in world.calls("publish")] == [1, 2, 3]


async def test_rate_limit_holds_until_its_reset_time_on_the_sandbox_clock(make_world: Any) -> None:
    world = _scripted(make_world, "k", FaultKind.RATE_LIMITED)
    connector, account = world.connector(), auth(world, "x")
    with pytest.raises(RateLimited) as info:
        await connector.publish(account, _draft("Slow down"), "k")
    reset_at = info.value.reset_at
    assert reset_at is not None and START + timedelta(seconds=60) <= reset_at <= START + timedelta(
        seconds=600
    )
    world.clock.set(reset_at - timedelta(seconds=1))
    with pytest.raises(RateLimited) as again:
        await connector.publish(account, _draft("Another one"), "other")
    assert again.value.reset_at == reset_at
    world.clock.set(reset_at)
    await connector.publish(account, _draft("Slow down"), "k")
    assert len(world.posts()) == 1


async def test_auth_expired_fault_revokes_the_token_until_refreshed(make_world: Any) -> None:
    world = _scripted(make_world, "k", FaultKind.AUTH_EXPIRED)
    connector, account = world.connector(), auth(world, "x")
    with pytest.raises(AuthExpired):
        await connector.publish(account, _draft("Who am I"), "k")
    with pytest.raises(AuthExpired, match="revoked"):
        await connector.publish(account, _draft("Who am I"), "k")
    tokens = await connector.refresh_token(account)
    await connector.publish(
        account.model_copy(update={"access_token": tokens.access_token}), _draft("Who am I"), "k"
    )
    assert [c.outcome for c in world.calls("publish")] == ["auth_expired", "auth_expired", "ok"]


def test_fault_decisions_depend_only_on_seed_key_and_attempt() -> None:
    plan = FaultPlan(
        rate_limited=0.2,
        server_error=0.2,
        timeout_before_create=0.1,
        timeout_after_create=0.1,
        auth_expired=0.1,
    )
    draws = [
        decide_fault(plan, seed="s", operation="publish", key=f"k{i}", attempt=a)
        for i in range(300)
        for a in (1, 2)
    ]
    assert draws == [
        decide_fault(plan, seed="s", operation="publish", key=f"k{i}", attempt=a)
        for i in range(300)
        for a in (1, 2)
    ]
    assert draws != [
        decide_fault(plan, seed="t", operation="publish", key=f"k{i}", attempt=a)
        for i in range(300)
        for a in (1, 2)
    ]
    shares = {kind: draws.count(kind) / len(draws) for kind in FaultKind}
    assert 0.15 < shares[FaultKind.RATE_LIMITED] < 0.25
    assert 0.05 < shares[FaultKind.AUTH_EXPIRED] < 0.15
    assert 0.25 < draws.count(None) / len(draws) < 0.35
    # Reads are spared unless asked for.
    assert all(
        decide_fault(plan, seed="s", operation="fetch_mentions", key=f"k{i}", attempt=1) is None
        for i in range(50)
    )


async def test_probabilistic_faults_replay_identically_for_the_same_seed(tmp_path: Path) -> None:
    plan = FaultPlan(server_error=0.2, timeout_before_create=0.15, timeout_after_create=0.15)

    async def run(path: Path) -> list[str]:
        engine = make_engine(f"sqlite:///{path}")
        upgrade(engine)
        world = SandboxWorld.create(
            engine, seed=9, brand="Acme", start=START, token_ttl=LONG_TTL, faults=plan
        )
        connector, account = world.connector(), auth(world, "x")
        outcomes = []
        for i in range(40):
            try:
                await connector.publish(account, _draft(f"post {i}"), f"key-{i}")
                outcomes.append("ok")
            except ConnectorError as exc:
                outcomes.append(type(exc).__name__)
            world.advance(timedelta(minutes=30))
        created = {p.text for p in world.posts()}
        # A post exists exactly for the calls that succeeded or timed out after creating it.
        expected = {
            f"post {i}"
            for i, c in enumerate(world.calls("publish"))
            if c.outcome in ("ok", "timeout_after_create")
        }
        assert created == expected
        return outcomes

    first = await run(tmp_path / "a.db")
    assert first == await run(tmp_path / "b.db")
    assert {"ok", "RetryableError", "OutcomeUnknown"} <= set(first)


async def test_read_faults_are_opt_in_and_timeouts_there_are_plain_retries(make_world: Any) -> None:
    world = make_world(token_ttl=LONG_TTL, faults=FaultPlan(server_error=1.0, operations=frozenset({"read"})))
    connector, account = world.connector(), auth(world, "x")
    with pytest.raises(RetryableError):
        await connector.fetch_mentions(account, START)
    await connector.publish(account, _draft("writes are spared"), "k")
    world.set_faults(FaultPlan(timeout_after_create=1.0, operations=frozenset({"read"})))
    with pytest.raises(RetryableError) as info:
        await connector.find_posts(account, START, START)
    assert not isinstance(info.value, OutcomeUnknown)
    assert [c.outcome for c in world.calls("find_posts")] == ["timeout_after_create"]

"""Worlds: generated from the seed, persisted, with a controllable clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from brandcrew.connectors.sandbox import FaultPlan, SandboxBrand, SandboxClock, SandboxWorld
from brandcrew.store.engine import make_engine
from brandcrew.store.migrate import upgrade

from .conftest import START


def _fresh_engine(path: Path) -> Any:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    return engine


def _snapshot(world: SandboxWorld) -> list[tuple[Any, ...]]:
    return [
        (
            a.kind,
            a.platform,
            a.platform_account_id,
            a.username,
            a.audience,
            a.audience_profile,
            str(a.timezones),
        )
        for a in world.accounts()
    ]


def test_same_seed_builds_the_same_world_in_another_database(tmp_path: Path) -> None:
    a = SandboxWorld.create(_fresh_engine(tmp_path / "a.db"), seed=11, brand="Acme", start=START)
    b = SandboxWorld.create(_fresh_engine(tmp_path / "b.db"), seed=11, brand="Acme", start=START)
    c = SandboxWorld.create(_fresh_engine(tmp_path / "c.db"), seed=12, brand="Acme", start=START)
    assert a.id == b.id
    assert _snapshot(a) == _snapshot(b)
    assert _snapshot(a) != _snapshot(c)
    assert a.brand == b.brand
    assert [p.text for p in a.competitor_posts("x", START, START + timedelta(days=3))] == []  # clock at START
    a.advance(timedelta(days=3))
    b.advance(timedelta(days=3))
    assert a.competitor_posts("x", START) == b.competitor_posts("x", START)


def test_world_has_own_and_competitor_accounts_per_platform(make_world: Any) -> None:
    world = make_world(platforms=["x", "linkedin", "instagram", "tiktok"], competitors=2)
    own = world.own_accounts()
    assert [a.platform for a in own] == ["instagram", "linkedin", "tiktok", "x"]
    assert all(a.access_token and a.refresh_token and a.token_expiry for a in own)
    assert {a.username for a in own} == {"acme"}
    assert world.own_account("linkedin").audience_profile == "business"
    assert world.own_account("x").audience_profile == "consumer"
    rivals = world.competitors("x")
    assert len(rivals) == 2 and all(r.access_token is None for r in rivals)
    assert {r.display_name for r in rivals} == {r.display_name for r in world.competitors("tiktok")}
    assert own[0].extra == {"sandbox_world": world.id}


def test_brand_profile_dict_and_explicit_audience_are_used(make_world: Any) -> None:
    world = make_world(
        brand={
            "name": "Bean Co",
            "products": ["Bean Co Cold Brew"],
            "pillars": ["sustainability"],
            "audience": "baristas",
        },
        platforms=["x", "instagram"],
    )
    assert world.brand.products == ("Bean Co Cold Brew",)
    assert world.brand.topics == ("sustainability",)
    sized = make_world(seed=8, brand=SandboxBrand(name="Acme", followers={"x": 123_456}), platforms=["x"])
    assert sized.own_account("x").audience == 123_456


def test_create_is_idempotent_for_the_same_seed_and_refuses_another(make_world: Any) -> None:
    first = make_world(world_id="w1")
    again = make_world(world_id="w1")
    assert again.id == first.id == "w1"
    with pytest.raises(ValueError, match="another seed"):
        make_world(world_id="w1", seed=99)
    with pytest.raises(LookupError):
        SandboxWorld.load(first.engine, "nope")


def test_unknown_platform_is_refused(make_world: Any) -> None:
    with pytest.raises(ValueError, match="platforms"):
        make_world(platforms=["myspace"])


def test_manual_clock_moves_only_when_told_and_never_backwards(make_world: Any) -> None:
    world = make_world()
    assert world.now() == START
    assert world.advance(timedelta(days=14)) == START + timedelta(days=14)
    assert SandboxWorld.load(world.engine, world.id).now() == START + timedelta(days=14)
    with pytest.raises(ValueError):
        world.clock.set(START)
    with pytest.raises(ValueError):
        world.advance(timedelta(seconds=-1))
    assert world.clock.set(START, allow_backwards=True) == START


def test_running_clock_follows_wall_time_at_its_speed(make_world: Any) -> None:
    world = make_world()
    wall = [datetime(2030, 1, 1, tzinfo=UTC)]
    clock = SandboxClock(world.engine, world.id, wall=lambda: wall[0])
    clock.set_speed(60)
    wall[0] += timedelta(seconds=10)
    assert clock.now() == START + timedelta(minutes=10)
    clock.advance(timedelta(hours=1))
    wall[0] += timedelta(seconds=1)
    assert clock.now() == START + timedelta(minutes=71)
    clock.set_speed(0)
    wall[0] += timedelta(hours=5)
    assert clock.now() == START + timedelta(minutes=71)
    assert clock.speed == 0


def test_knobs_are_persisted(make_world: Any) -> None:
    world = make_world()
    plan = FaultPlan(server_error=0.5, script={"k": (None,)})
    world.set_faults(plan)
    world.set_quota("x", 3)
    reloaded = SandboxWorld.load(world.engine, world.id)
    assert reloaded.faults == plan
    crisis = world.schedule_crisis(
        START + timedelta(days=1), timedelta(hours=4), intensity=6, topic="the recall"
    )
    assert reloaded.crises() == [crisis]
    # Scheduling the same crisis again does not double it.
    world.schedule_crisis(START + timedelta(days=1), timedelta(hours=4), intensity=6, topic="the recall")
    assert len(reloaded.crises()) == 1


def test_fault_plan_refuses_probabilities_over_one() -> None:
    with pytest.raises(ValueError):
        FaultPlan(server_error=0.6, rate_limited=0.6)

"""Mentions, DMs, comments and crisis bursts: deterministic, stable across polls, computed lazily."""

from __future__ import annotations

import collections
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session

from brandcrew.connectors.capabilities import Platform
from brandcrew.connectors.drafts import PostDraft
from brandcrew.connectors.sandbox import SandboxWorld, streams
from brandcrew.connectors.sandbox._state import stream_account
from brandcrew.store.engine import make_engine
from brandcrew.store.migrate import upgrade
from brandcrew.store.tables.sandbox import SandboxAccountRow, SandboxWorldRow

from .conftest import START, auth

LONG_TTL = timedelta(days=365)


def _world(engine: Any, **kwargs: Any) -> SandboxWorld:
    kwargs.setdefault("brand", {"name": "Acme", "utc_offset": 0.0, "followers": 50_000})
    return SandboxWorld.create(engine, seed=kwargs.pop("seed", 13), start=START, token_ttl=LONG_TTL, **kwargs)


async def test_same_seed_gives_the_same_mention_stream(tmp_path: Path) -> None:
    async def run(path: Path, seed: int) -> list[Any]:
        engine = make_engine(f"sqlite:///{path}")
        upgrade(engine)
        world = _world(engine, seed=seed)
        world.advance(timedelta(days=3))
        connector, account = world.connector(), auth(world, "x")
        mentions = await connector.fetch_mentions(account, START)
        messages = await connector.fetch_messages(account, START)
        return [m.model_dump() for m in mentions] + [m.model_dump() for m in messages]

    first = await run(tmp_path / "a.db", 13)
    assert len(first) > 50
    assert first == await run(tmp_path / "b.db", 13)
    assert first != await run(tmp_path / "c.db", 14)


async def test_polling_a_window_again_returns_the_same_items(engine: Any) -> None:
    world = _world(engine)
    connector, account = world.connector(), auth(world, "x")
    world.advance(timedelta(hours=30))
    early = await connector.fetch_mentions(account, START)
    world.advance(timedelta(hours=5))
    later = await connector.fetch_mentions(account, START)
    assert later[: len(early)] == early
    assert len(later) > len(early)
    assert len({m.remote_id for m in later}) == len(later)
    # Polling from the previous poll's time picks up exactly the rest.
    rest = await connector.fetch_mentions(account, START + timedelta(hours=30))
    assert early + rest == later


async def test_mentions_carry_authors_languages_and_a_sentiment_mix(make_world: Any) -> None:
    world = _world(make_world().engine, world_id="mix")
    world.advance(timedelta(days=4))
    mentions = await world.connector().fetch_mentions(auth(world, "x"), START)
    assert len(mentions) > 100
    assert all("acme" in m.text.casefold() for m in mentions)
    assert {"en", "es"} <= {m.language for m in mentions}
    assert max(m.author_followers for m in mentions) >= 50_000  # some influencers
    assert all(START < m.created_at <= world.now() for m in mentions)


async def test_posting_raises_mention_volume(make_world: Any) -> None:
    quiet = _world(make_world().engine, world_id="quiet")
    busy = _world(quiet.engine, world_id="busy")
    for i in range(8):
        await busy.connector().publish(
            auth(busy, "x"), PostDraft(platform=Platform.X, text=f"News {i}"), f"k{i}"
        )
        busy.advance(timedelta(hours=3))
    quiet.clock.set(busy.now())
    n_quiet = len(await quiet.connector().fetch_mentions(auth(quiet, "x"), START))
    n_busy = len(await busy.connector().fetch_mentions(auth(busy, "x"), START))
    assert n_busy > 1.2 * n_quiet


async def test_crisis_burst_raises_negative_mentions_only_in_its_window(engine: Any) -> None:
    world = _world(engine)
    crisis_start, duration = START + timedelta(days=2, hours=10), timedelta(hours=6)
    crisis = world.schedule_crisis(crisis_start, duration, intensity=8.0, topic="the product recall")
    world.advance(timedelta(days=4))
    connector, account = world.connector(), auth(world, "x")
    mentions = await connector.fetch_mentions(account, START)
    inside = [m for m in mentions if crisis_start <= m.created_at < crisis_start + duration]
    same_hours_other_days = [
        m
        for m in mentions
        for day in (0, 1, 3)
        if START + timedelta(days=day, hours=10) <= m.created_at < START + timedelta(days=day, hours=16)
    ]
    assert len(inside) > 4 * len(same_hours_other_days) / 3
    about = [m for m in mentions if "recall" in m.text]
    assert len(about) > 20 and all(crisis_start <= m.created_at < crisis_start + duration for m in about)
    assert any(m.author_followers >= 50_000 for m in about)

    # The generator's own labels: the burst is overwhelmingly negative and confined to the window.
    with Session(engine) as session:
        world_row = session.get(SandboxWorldRow, world.id)
        acct = session.get(SandboxAccountRow, (world.id, account.platform_account_id))
        assert world_row is not None and acct is not None
        own = stream_account(world_row, acct)
    items = streams.brand_mentions(own, post_times=[], crises=[crisis], since=START, until=world.now())
    per_hour: collections.Counter[int] = collections.Counter()
    for item in items:
        if item.sentiment == "negative":
            per_hour[int((item.created_at - START).total_seconds() // 3600)] += 1
    burst_hours = range(58, 64)
    baseline = [per_hour[h] for h in range(96) if h not in burst_hours]
    assert min(per_hour[h] for h in burst_hours) > max(baseline)
    assert sum(per_hour[h] for h in burst_hours) / len(burst_hours) > 10 * sum(baseline) / len(baseline)
    assert all(
        i.crisis_id is None for i in items if not crisis_start <= i.created_at < crisis_start + duration
    )
    crisis_items = [i for i in items if i.crisis_id]
    assert sum(i.sentiment == "negative" for i in crisis_items) / len(crisis_items) > 0.7

    dms = await connector.fetch_messages(account, START)
    crisis_dms = [m for m in dms if "recall" in m.text]
    assert crisis_dms and all(m.kind == "dm" for m in crisis_dms)


async def test_crisis_on_other_platforms_does_not_leak(make_world: Any) -> None:
    world = _world(make_world().engine, world_id="pl", platforms=["x", "linkedin"])
    world.schedule_crisis(
        START + timedelta(hours=5), timedelta(hours=5), intensity=10, topic="the leak", platforms=["linkedin"]
    )
    world.advance(timedelta(days=1))
    x_mentions = await world.connector().fetch_mentions(auth(world, "x"), START)
    li_mentions = await world.connector().fetch_mentions(auth(world, "linkedin"), START)
    assert not any("leak" in m.text for m in x_mentions)
    assert any("leak" in m.text for m in li_mentions)


async def test_comments_on_own_posts_match_the_comment_counter(engine: Any) -> None:
    world = _world(engine)
    connector, account = world.connector(), auth(world, "x")
    world.advance(timedelta(hours=19))
    post = await connector.publish(
        account, PostDraft(platform=Platform.X, text="Which roast do you like best?"), "k"
    )
    seen: list[Any] = []
    since = world.now()
    for _ in range(6):
        world.advance(timedelta(hours=4))
        batch = [m for m in await connector.fetch_messages(account, since) if m.kind == "comment"]
        since = world.now()
        seen += batch
        metrics = (await connector.fetch_metrics(account, [post.remote_id]))[0]
        assert len(seen) == metrics.comments
    assert seen and all(c.in_reply_to == post.remote_id for c in seen)
    assert len({c.remote_id for c in seen}) == len(seen)
    assert [c.created_at for c in seen] == sorted(c.created_at for c in seen)


async def test_replies_draw_follow_ups_in_the_same_thread(make_world: Any) -> None:
    world = _world(make_world().engine, world_id="fu")
    connector, account = world.connector(), auth(world, "x")
    world.advance(timedelta(days=2))
    dms = [m for m in await connector.fetch_messages(account, START) if m.kind == "dm"]
    since = world.now()
    for i, dm in enumerate(dms[:10]):
        await connector.reply(account, dm.remote_id, "Thanks, we are looking into it.", f"r{i}")
    world.advance(timedelta(hours=4))
    answers = [m for m in await connector.fetch_messages(account, since) if m.in_reply_to and m.kind == "dm"]
    assert answers
    threads = {dm.thread_id for dm in dms[:10]}
    assert all(a.thread_id in threads for a in answers)


async def test_query_searches_competitors_too(make_world: Any) -> None:
    world = _world(make_world().engine, world_id="q")
    world.advance(timedelta(days=3))
    connector, account = world.connector(), auth(world, "x")
    rival = world.competitors("x")[0].display_name
    found = await connector.fetch_mentions(account, START, query=f"{rival} OR nonexistentword")
    assert found and all(rival.casefold() in m.text.casefold() for m in found)
    brand_only = await connector.fetch_mentions(account, START, query='Acme -"opening hours"')
    assert brand_only and not any("opening hours" in m.text for m in brand_only)


def test_query_syntax() -> None:
    assert streams.matches_query("acme delivery", "Acme had a bad delivery")
    assert not streams.matches_query("acme delivery", "Acme is great")
    assert streams.matches_query("refund OR recall", "The recall is bad")
    assert not streams.matches_query('acme -"so good"', "Acme so good")


async def test_two_weeks_of_streams_are_computed_in_well_under_a_second(make_world: Any) -> None:
    world = _world(make_world().engine, world_id="fast")
    for i in range(10):
        await world.connector().publish(
            auth(world, "x"), PostDraft(platform=Platform.X, text=f"Daily {i}"), f"k{i}"
        )
        world.advance(timedelta(days=1))
    world.advance(timedelta(days=4))
    started = time.perf_counter()
    messages = await world.connector().fetch_messages(auth(world, "x"), START)
    mentions = await world.connector().fetch_mentions(auth(world, "x"), START)
    assert time.perf_counter() - started < 1.5
    assert len(mentions) > 300 and len(messages) > 50

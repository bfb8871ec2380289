"""The sandbox connector: publishing under the real platforms' rules, lookups, metrics, replies."""

from __future__ import annotations

import statistics
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from brandcrew.connectors.capabilities import MediaType, Platform
from brandcrew.connectors.drafts import MediaItem, PostDraft
from brandcrew.connectors.errors import AuthExpired, RateLimited, Rejected
from brandcrew.connectors.sandbox import DraftRejected, SandboxConnector, SandboxWorld
from brandcrew.connectors.validation import ViolationCode
from brandcrew.store.engine import make_engine
from brandcrew.store.migrate import upgrade

from .conftest import START, auth

LONG_TTL = timedelta(days=365)
IMAGE = MediaItem(type=MediaType.IMAGE, mime="image/jpeg")


def _draft(text: str, platform: str = "x", **kwargs: Any) -> PostDraft:
    return PostDraft(platform=Platform(platform), text=text, **kwargs)


async def test_publish_stores_the_post_and_find_posts_returns_it(engine: Any) -> None:
    world = SandboxWorld.create(engine, seed=3, brand="Acme", start=START, token_ttl=LONG_TTL)
    connector, account = world.connector(), auth(world, "x")
    result = await connector.publish(account, _draft("Hello from the sandbox"), "key-1")
    assert result.published_at == START
    assert result.url and result.remote_id in result.url
    found = await connector.find_posts(account, START - timedelta(minutes=1), START + timedelta(minutes=1))
    assert [(p.remote_id, p.text) for p in found] == [(result.remote_id, "Hello from the sandbox")]
    status = await connector.check_status(account, result.remote_id)
    assert status is not None and status.created_at == START
    assert await connector.check_status(account, "404") is None
    assert world.calls("publish")[0].outcome == "ok"


async def test_thread_parts_are_published_as_replies(make_world: Any) -> None:
    world = make_world(token_ttl=LONG_TTL)
    result = await world.connector().publish(
        auth(world, "x"), _draft("1/3 first", thread=("2/3 two", "3/3 three")), "t"
    )
    assert len(result.thread_ids) == 2
    assert [p.text for p in world.posts()] == ["1/3 first", "2/3 two", "3/3 three"]
    found = await world.connector().find_posts(auth(world, "x"), START, START + timedelta(seconds=1))
    assert [p.remote_id for p in found] == [result.remote_id]


async def test_drafts_breaking_the_platform_rules_are_rejected_with_violations(make_world: Any) -> None:
    world = make_world(platforms=["x", "instagram", "threads", "linkedin"], token_ttl=LONG_TTL)
    connector = world.connector()
    cases = [
        ("x", _draft("x" * 281), ViolationCode.TOO_LONG),
        ("instagram", _draft("No picture", "instagram"), ViolationCode.MEDIA_REQUIRED),
        ("threads", _draft("Two tags #a #b", "threads"), ViolationCode.TOO_MANY_HASHTAGS),
        ("linkedin", _draft("Unescaped (parens)", "linkedin"), ViolationCode.UNESCAPED_RESERVED),
    ]
    for platform, draft, code in cases:
        with pytest.raises(DraftRejected) as info:
            await connector.publish(auth(world, platform), draft, f"bad-{platform}")
        assert code in {v.code for v in info.value.violations}, platform
        assert isinstance(info.value, Rejected) and info.value.status_code == 400
    assert world.posts() == []
    ok = await connector.publish(
        auth(world, "instagram"), _draft("With a picture", "instagram", media=(IMAGE,)), "ok"
    )
    assert ok.remote_id


async def test_a_draft_for_another_platform_is_rejected(make_world: Any) -> None:
    world = make_world(token_ttl=LONG_TTL)
    with pytest.raises(Rejected, match="draft is for linkedin"):
        await world.connector().publish(auth(world, "x"), _draft("hi", "linkedin"), "k")


async def test_pinned_connector_serves_only_its_platform(make_world: Any) -> None:
    world = make_world(token_ttl=LONG_TTL)
    pinned = SandboxConnector(world.engine, world.id, "linkedin")
    assert pinned.capabilities().name == "LinkedIn"
    with pytest.raises(Rejected, match="serves linkedin"):
        await pinned.publish(auth(world, "x"), _draft("hi"), "k")


async def test_daily_quota_is_enforced_per_rolling_24_hours(make_world: Any) -> None:
    world = make_world(platforms=["instagram"], token_ttl=LONG_TTL)
    connector, account = world.connector(), auth(world, "instagram")
    for i in range(50):  # Instagram: 50 API posts per 24 hours
        await connector.publish(account, _draft(f"post {i}", "instagram", media=(IMAGE,)), f"k{i}")
        world.advance(timedelta(minutes=10))
    with pytest.raises(RateLimited) as info:
        await connector.publish(account, _draft("one too many", "instagram", media=(IMAGE,)), "k50")
    assert info.value.reset_at == START + timedelta(days=1)
    assert world.calls("publish")[-1].outcome == "quota_exceeded"
    world.clock.set(START + timedelta(days=1, seconds=1))
    await connector.publish(account, _draft("one too many", "instagram", media=(IMAGE,)), "k50")


async def test_quota_override_applies(make_world: Any) -> None:
    world = make_world(token_ttl=LONG_TTL)
    world.set_quota("x", 2)
    connector, account = world.connector(), auth(world, "x")
    await connector.publish(account, _draft("a"), "a")
    await connector.publish(account, _draft("b"), "b")
    with pytest.raises(RateLimited):
        await connector.publish(account, _draft("c"), "c")


async def test_identical_text_within_24_hours_is_a_duplicate(make_world: Any) -> None:
    world = make_world(platforms=["x", "threads"], token_ttl=LONG_TTL)
    connector, account = world.connector(), auth(world, "x")
    first = await connector.publish(account, _draft("Same  words"), "a")
    world.advance(timedelta(hours=23))
    with pytest.raises(Rejected, match="duplicate content") as info:
        await connector.publish(account, _draft("Same words"), "b")
    assert info.value.status_code == 403
    # Another account may say the same; after deleting, or after 24 hours, so may this one.
    await connector.publish(auth(world, "threads"), _draft("Same words", "threads"), "c")
    await connector.delete(account, first.remote_id)
    await connector.publish(account, _draft("Same words"), "d")
    world.advance(timedelta(hours=25))
    await connector.publish(account, _draft("Same words"), "e")


async def test_delete_hides_the_post_and_is_idempotent(engine: Any) -> None:
    world = SandboxWorld.create(engine, seed=3, brand="Acme", start=START, token_ttl=LONG_TTL)
    connector, account = world.connector(), auth(world, "x")
    result = await connector.publish(account, _draft("Soon gone"), "k")
    await connector.delete(account, result.remote_id)
    await connector.delete(account, result.remote_id)
    assert await connector.check_status(account, result.remote_id) is None
    assert await connector.find_posts(account, START, START + timedelta(hours=1)) == []
    assert await connector.fetch_metrics(account, [result.remote_id]) == []
    with pytest.raises(Rejected):
        await connector.delete(account, "missing")


async def test_instagram_posts_cannot_be_deleted_through_the_api(make_world: Any) -> None:
    world = make_world(platforms=["instagram"], token_ttl=LONG_TTL)
    account = auth(world, "instagram")
    result = await world.connector().publish(account, _draft("pic", "instagram", media=(IMAGE,)), "k")
    with pytest.raises(Rejected, match="cannot delete") as info:
        await world.connector().delete(account, result.remote_id)
    assert info.value.status_code == 405


async def test_metrics_grow_with_the_clock_and_saturate(engine: Any) -> None:
    world = SandboxWorld.create(engine, seed=5, brand="Acme", start=START, token_ttl=LONG_TTL)
    connector, x, li = world.connector(), auth(world, "x"), auth(world, "linkedin")
    world.advance(timedelta(hours=12))
    post_x = await connector.publish(x, _draft("What do you brew on Mondays? #coffee"), "x")
    post_li = await connector.publish(li, _draft("Our team shares how we source beans.", "linkedin"), "li")
    series_x, series_li = [], []
    for hours in (0, 1, 3, 6, 12, 24, 48, 96, 168, 336):
        world.clock.set(START + timedelta(hours=12 + hours))
        series_x.append((await connector.fetch_metrics(x, [post_x.remote_id]))[0])
        series_li.append((await connector.fetch_metrics(li, [post_li.remote_id]))[0])
    impressions = [m.impressions for m in series_x]
    assert impressions[0] == 0 and impressions == sorted(impressions) and impressions[-1] > 0
    assert [m.likes for m in series_x] == sorted(m.likes for m in series_x)
    # Most of X's impressions arrive in the first day; LinkedIn's tail is longer.
    assert series_x[5].impressions >= 0.8 * series_x[-1].impressions
    assert series_li[5].impressions <= 0.75 * series_li[-1].impressions
    assert series_x[-2].impressions >= 0.99 * series_x[-1].impressions
    assert series_x[-1].collected_at == world.now()


async def test_account_followers_grow_organically_and_with_posts(make_world: Any) -> None:
    world = make_world(token_ttl=LONG_TTL)
    connector, account = world.connector(), auth(world, "x")
    base = world.own_account("x").audience
    start = await connector.fetch_account_metrics(account)
    assert start.followers == base and start.posts == 0
    world.advance(timedelta(days=7))
    organic = (await connector.fetch_account_metrics(account)).followers
    assert organic > base
    twin = make_world(seed=7, world_id="twin", token_ttl=LONG_TTL)
    for i in range(10):
        await twin.connector().publish(
            auth(twin, "x"), _draft(f"Tip number {i} for better coffee #coffee"), f"k{i}"
        )
        twin.advance(timedelta(hours=6))
    twin.clock.set(START + timedelta(days=7))
    posted = await twin.connector().fetch_account_metrics(auth(twin, "x"))
    assert posted.followers > organic and posted.posts == 10


async def test_peak_hour_posts_get_more_impressions_through_the_connector(make_world: Any) -> None:
    # What analytics learns "best time to post" from: 20:00 beats 03:00 for a consumer audience in UTC.
    world = make_world(token_ttl=LONG_TTL)
    connector, account = world.connector(), auth(world, "x")
    ids: dict[int, list[str]] = {20: [], 3: []}
    for day in range(20):
        for hour in (3, 20):
            world.clock.set(START + timedelta(days=day, hours=hour))
            ids[hour].append(
                (await connector.publish(account, _draft(f"Day {day} at {hour}h"), f"{day}-{hour}")).remote_id
            )
    world.advance(timedelta(days=7))
    mean = {
        h: statistics.fmean(m.impressions for m in await connector.fetch_metrics(account, v))
        for h, v in ids.items()
    }
    assert mean[20] > 1.8 * mean[3]


async def test_metrics_are_the_same_for_the_same_seed_and_actions(tmp_path: Path) -> None:
    async def run(path: Path) -> list[Any]:
        engine = make_engine(f"sqlite:///{path}")
        upgrade(engine)
        world = SandboxWorld.create(engine, seed=21, brand="Acme", start=START, token_ttl=LONG_TTL)
        ids = []
        for i in range(5):
            ids.append(
                (await world.connector().publish(auth(world, "x"), _draft(f"Post {i}"), f"k{i}")).remote_id
            )
            world.advance(timedelta(hours=5))
        world.advance(timedelta(days=2))
        metrics = await world.connector().fetch_metrics(auth(world, "x"), ids)
        followers = await world.connector().fetch_account_metrics(auth(world, "x"))
        return [ids, [m.model_dump() for m in metrics], followers.model_dump()]

    assert await run(tmp_path / "a.db") == await run(tmp_path / "b.db")


async def test_competitor_posts_and_profiles_are_public(make_world: Any) -> None:
    world = make_world(token_ttl=LONG_TTL)
    world.advance(timedelta(days=5))
    connector, account = world.connector(), auth(world, "x")
    rival = world.competitors("x")[0]
    posts = await connector.fetch_user_posts(account, rival.username, START)
    assert posts and all(START < p.created_at <= world.now() for p in posts)
    metrics = await connector.fetch_metrics(account, [p.remote_id for p in posts])
    assert len(metrics) == len(posts) and sum(m.impressions for m in metrics) > 0
    profile = await connector.fetch_user_metrics(account, "@" + rival.username)
    assert profile.followers >= rival.audience and profile.posts == len(posts)
    with pytest.raises(Rejected):
        await connector.fetch_user_posts(account, "nobody", START)


async def test_expired_token_is_refused_until_refreshed(engine: Any) -> None:
    world = SandboxWorld.create(engine, seed=3, brand="Acme", start=START)
    connector, account = world.connector(), auth(world, "x")
    assert account.token_expiry == START + timedelta(hours=2)  # X user tokens live 2 hours
    await connector.publish(account, _draft("fresh token"), "a")
    world.advance(timedelta(hours=2))
    with pytest.raises(AuthExpired):
        await connector.publish(account, _draft("stale token"), "b")
    with pytest.raises(AuthExpired):
        await connector.fetch_mentions(account, START)
    tokens = await connector.refresh_token(account)
    assert (
        tokens.expires_at == world.now() + timedelta(hours=2)
        and tokens.refresh_token == account.refresh_token
    )
    renewed = account.model_copy(update={"access_token": tokens.access_token})
    await connector.publish(renewed, _draft("stale token"), "b")
    with pytest.raises(AuthExpired, match="refresh token"):
        await connector.refresh_token(account.model_copy(update={"refresh_token": "wrong"}))
    assert world.own_account("x").access_token == tokens.access_token


async def test_competitor_accounts_cannot_be_acted_as(make_world: Any) -> None:
    world = make_world(token_ttl=LONG_TTL)
    with pytest.raises(AuthExpired):
        await world.connector().publish(world.competitors("x")[0].auth(), _draft("hi"), "k")


async def test_reply_is_stored_and_validated(make_world: Any) -> None:
    world = make_world(token_ttl=LONG_TTL)
    connector, account = world.connector(), auth(world, "x")
    world.advance(timedelta(days=2))
    dms = [m for m in await connector.fetch_messages(account, START) if m.kind == "dm"]
    assert dms
    result = await connector.reply(account, dms[0].remote_id, "Thanks for writing, we are on it!", "r1")
    assert result.published_at == world.now()
    with pytest.raises(Rejected, match="not found"):
        await connector.reply(account, "dm.1.2.u3.deadbeef", "Hi", "r2")
    with pytest.raises(DraftRejected):
        await connector.reply(account, dms[0].remote_id, "x" * 300, "r3")
    post = await connector.publish(account, _draft("A post to answer under"), "p")
    await connector.reply(account, post.remote_id, "Adding some context", "r4")
    assert [c.outcome for c in world.calls("reply")] == ["ok", "rejected", "invalid", "ok"]

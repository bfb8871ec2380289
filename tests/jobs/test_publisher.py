"""The publisher turns each outbox row into exactly one post, whatever fails and whenever it crashes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from brandcrew.connectors.errors import AuthExpired
from brandcrew.jobs.publisher import Publisher, PublisherPolicy
from brandcrew.services import publishing
from brandcrew.services.errors import Conflict, PublishingPaused, ValidationFailed
from brandcrew.services.publishing import PostContent, PostTarget
from brandcrew.store.tables import AuditLog, OutboxEntry, Post, PostVariant, Workspace
from tests.utils.domain import accounts_with, connect, make_workspace
from tests.utils.fakes import FakeConnector

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@pytest.fixture
def world(sqlite_engine: Any) -> Any:
    clock = Clock()
    fake = FakeConnector(platform="x", clock=clock)
    accounts = accounts_with(sqlite_engine, {"brand": fake})
    workspace = make_workspace(sqlite_engine)
    account = connect(sqlite_engine, accounts, workspace.id, platform="x", username="brand")
    publisher = Publisher(
        sqlite_engine, accounts, clock=clock, policy=PublisherPolicy(lease_s=60, retry_base_s=10)
    )

    class World:
        engine = sqlite_engine

        def schedule(self, text: str = "Fresh beans are in", at: datetime | None = None) -> str:
            with Session(sqlite_engine, expire_on_commit=False) as session:
                post = publishing.create_post(
                    session,
                    workspace_id=workspace.id,
                    content=PostContent(text=text),
                    targets=[PostTarget(platform="x", account_id=account.id)],
                )
                entries = publishing.schedule_post(
                    session, workspace_id=workspace.id, post_id=post.id, at=at or clock(), now=clock()
                )
                session.commit()
                return entries[0].key

        def entry(self, key: str) -> OutboxEntry:
            with Session(sqlite_engine) as session:
                row = session.get(OutboxEntry, key)
                assert row is not None
                return row

        async def drain(self, rounds: int = 10) -> None:
            for _ in range(rounds):
                for key in publisher.due_keys():
                    await publisher.process(key)

    w = World()
    w.clock, w.fake, w.publisher, w.workspace, w.account = clock, fake, publisher, workspace, account  # type: ignore[attr-defined]
    return w


async def test_happy_path_publishes_once_and_updates_post_and_variant(world: Any) -> None:
    key = world.schedule()
    assert await world.publisher.process(key) == "published"
    assert await world.publisher.process(key) == "done"
    entry = world.entry(key)
    assert entry.status == "published" and entry.remote_id == world.fake.posts[0].remote_id
    with Session(world.engine) as session:
        (post,) = session.exec(select(Post)).all()
        (variant,) = session.exec(select(PostVariant)).all()
        actions = [a.action for a in session.exec(select(AuditLog).where(AuditLog.resource == "post")).all()]
    assert (post.status, variant.publish_status, variant.platform_post_id) == (
        "published",
        "published",
        entry.remote_id,
    )
    assert actions == ["create", "schedule", "published"]


@pytest.mark.parametrize(
    ("script", "expected_calls"),
    [
        pytest.param(["unknown_created"], 1, id="timeout-after-create-is-found-not-republished"),
        pytest.param(["unknown_not_created"], 2, id="timeout-before-create-is-searched-then-retried"),
        pytest.param(["retryable", "retryable"], 3, id="transient-errors-back-off-and-retry"),
        pytest.param(["rate"], 2, id="rate-limit-waits-for-reset"),
        pytest.param(["auth"], 2, id="expired-token-is-refreshed"),
    ],
)
async def test_every_fault_ends_in_exactly_one_post(
    world: Any, script: list[str], expected_calls: int
) -> None:
    world.fake.script = list(script)
    key = world.schedule()
    for _ in range(6):
        await world.drain()
        world.clock.advance(minutes=20)
    assert world.entry(key).status == "published"
    assert len(world.fake.posts) == 1
    assert world.fake.publish_calls == expected_calls


async def test_a_token_refreshed_by_another_worker_mid_call_costs_no_attempt_and_no_refresh(
    world: Any,
) -> None:
    """Concurrent posts of one account: a refresh by one revokes the token the others are using. Their
    401s are not the posts' fault: retried at once with the new token, uncounted, without a refresh of
    their own (which would revoke the token again for everyone else)."""
    key = world.schedule()
    original = world.fake.publish

    async def refreshed_meanwhile(account: Any, draft: Any, idempotency_key: str) -> Any:
        if world.fake.publish_calls == 0:
            world.fake.publish_calls += 1
            await world.publisher.accounts.refresh(world.account.id, now=world.clock())  # "another worker"
            raise AuthExpired("401 access token revoked", platform="x", status_code=401)
        return await original(account, draft, idempotency_key)

    world.fake.publish = refreshed_meanwhile
    assert await world.publisher.process(key) == "retry"
    entry = world.entry(key)
    assert (entry.status, entry.attempts, entry.error_kind) == ("pending", 0, "auth_expired")
    assert world.fake.refreshes == 1, "only the other worker refreshed"
    assert await world.publisher.process(key) == "published"  # due at once, with the new token
    assert world.entry(key).attempts == 1 and len(world.fake.posts) == 1


async def test_a_token_revoked_by_a_refresh_still_in_flight_costs_no_attempt(world: Any) -> None:
    """Another worker's refresh has revoked the token on the platform but not yet stored the new one when
    this post's 401 arrives: the post waits for that refresh and retries uncounted, without its own."""
    key = world.schedule()
    original, refresh = world.fake.publish, world.fake.refresh_token
    platform_answered = asyncio.Event()

    async def slow_refresh(account: Any) -> Any:
        await platform_answered.wait()
        return await refresh(account)

    async def revoked_by_a_refresh_in_flight(account: Any, draft: Any, idempotency_key: str) -> Any:
        if world.fake.publish_calls == 0:
            world.fake.publish_calls += 1
            other = asyncio.create_task(world.publisher.accounts.refresh(world.account.id, now=world.clock()))
            await asyncio.sleep(
                0
            )  # the other worker holds the account's refresh lock, waiting on the platform
            asyncio.get_running_loop().call_soon(platform_answered.set)
            others.append(other)
            raise AuthExpired("401 access token revoked", platform="x", status_code=401)
        return await original(account, draft, idempotency_key)

    others: list[asyncio.Task[Any]] = []
    world.fake.publish, world.fake.refresh_token = revoked_by_a_refresh_in_flight, slow_refresh
    assert await world.publisher.process(key) == "retry"
    await asyncio.gather(*others)
    entry = world.entry(key)
    assert (entry.status, entry.attempts, entry.error_kind) == ("pending", 0, "auth_expired")
    assert world.fake.refreshes == 1, "only the other worker refreshed"
    assert await world.publisher.process(key) == "published"
    assert world.entry(key).attempts == 1 and len(world.fake.posts) == 1


async def test_a_401_on_the_current_token_still_refreshes_and_counts(world: Any) -> None:
    world.fake.script = ["auth"]
    key = world.schedule()
    assert await world.publisher.process(key) == "retry"
    assert world.fake.refreshes == 1 and world.entry(key).attempts == 1
    assert await world.publisher.process(key) == "published"
    assert world.entry(key).attempts == 2


async def test_rejected_content_fails_with_the_reason(world: Any) -> None:
    world.fake.script = ["reject"]
    key = world.schedule()
    await world.drain()
    entry = world.entry(key)
    assert (entry.status, entry.error_kind) == ("failed", "rejected") and "banned link" in (entry.error or "")
    with Session(world.engine) as session:
        assert session.exec(select(Post)).one().status == "failed"


async def test_persistent_failures_give_up_after_max_attempts(world: Any) -> None:
    world.fake.script = ["retryable"] * 10
    key = world.schedule()
    for _ in range(12):
        await world.drain()
        world.clock.advance(hours=1)
    entry = world.entry(key)
    assert entry.status == "failed" and entry.attempts == 5 and "gave up after 5" in (entry.error or "")
    assert world.fake.posts == []


async def test_worker_crash_after_platform_created_the_post_is_reconciled_not_duplicated(world: Any) -> None:
    key = world.schedule()
    # A worker claims, the platform creates the post, and the worker dies before recording it.
    assert world.publisher._claim(key, world.clock())
    await world.fake.publish(None, _draft(world, key), key)
    assert await world.publisher.process(key) == "in_flight", "a live claim is left alone"
    world.clock.advance(seconds=61)
    assert key in world.publisher.due_keys()
    assert await world.publisher.process(key) == "published"
    assert len(world.fake.posts) == 1 and world.entry(key).error_kind == "reconciled"


async def test_worker_crash_before_the_platform_call_is_retried_after_reconciliation(world: Any) -> None:
    key = world.schedule()
    assert world.publisher._claim(key, world.clock())
    world.clock.advance(seconds=61)
    await world.drain()
    assert world.entry(key).status == "published" and len(world.fake.posts) == 1


async def test_paused_brand_publishes_nothing_until_cleared(world: Any) -> None:
    key = world.schedule()
    with Session(world.engine) as session:
        ws = session.get(Workspace, world.workspace.id)
        ws.publishing_paused_reason = "crisis alert: late deliveries"
        session.add(ws)
        session.commit()
    assert await world.publisher.process(key) == "paused"
    with Session(world.engine) as session, pytest.raises(PublishingPaused):
        publishing.schedule_post(
            session,
            workspace_id=world.workspace.id,
            post_id=world.entry(key).post_id,
            at=world.clock(),
            now=world.clock(),
        )
    with Session(world.engine) as session:
        ws = session.get(Workspace, world.workspace.id)
        ws.publishing_paused_reason = None
        session.add(ws)
        session.commit()
    assert await world.publisher.process(key) == "published"


async def test_not_due_rows_wait(world: Any) -> None:
    key = world.schedule(at=T0 + timedelta(hours=2))
    assert world.publisher.due_keys() == [] and await world.publisher.process(key) == "not_due"
    assert world.publisher.next_wakeup() == T0 + timedelta(hours=2)
    world.clock.advance(hours=2)
    await world.drain()
    assert world.entry(key).status == "published"


def _draft(world: Any, key: str) -> Any:
    from brandcrew.connectors.drafts import PostDraft

    return PostDraft.model_validate(world.entry(key).payload)


def test_scheduling_validates_and_is_idempotent_per_version(world: Any) -> None:
    with Session(world.engine, expire_on_commit=False) as session:
        too_long = publishing.create_post(
            session,
            workspace_id=world.workspace.id,
            content=PostContent(text="word " * 80),
            targets=[PostTarget(platform="x", account_id=world.account.id)],
        )
        with pytest.raises(ValidationFailed) as info:
            publishing.schedule_post(
                session, workspace_id=world.workspace.id, post_id=too_long.id, at=T0, now=T0
            )
        (violations,) = info.value.details.values()
        assert violations[0]["field"] == "text" and violations[0]["code"] == "too_long"

        post = publishing.create_post(
            session,
            workspace_id=world.workspace.id,
            content=PostContent(text="ok"),
            targets=[PostTarget(platform="x", account_id=world.account.id)],
        )
        first = publishing.schedule_post(
            session, workspace_id=world.workspace.id, post_id=post.id, at=T0, now=T0
        )
        again = publishing.schedule_post(
            session, workspace_id=world.workspace.id, post_id=post.id, at=T0, now=T0
        )
        assert [e.key for e in first] == [e.key for e in again]
        edited = publishing.update_post(
            session, workspace_id=world.workspace.id, post_id=post.id, content=PostContent(text="ok, edited")
        )
        assert edited.version == 2 and edited.status == "draft"
        assert session.get(OutboxEntry, first[0].key).status == "cancelled"
        third = publishing.schedule_post(
            session, workspace_id=world.workspace.id, post_id=post.id, at=T0, now=T0
        )
        assert third[0].key != first[0].key
        with pytest.raises(ValidationFailed):
            publishing.schedule_post(
                session, workspace_id=world.workspace.id, post_id=post.id, at=T0 - timedelta(days=1), now=T0
            )
        session.commit()


async def test_published_posts_cannot_be_edited_or_deleted(world: Any) -> None:
    key = world.schedule()
    await world.drain()
    post_id = world.entry(key).post_id
    with Session(world.engine) as session:
        with pytest.raises(Conflict):
            publishing.update_post(
                session, workspace_id=world.workspace.id, post_id=post_id, content=PostContent(text="x")
            )
        with pytest.raises(Conflict):
            publishing.delete_post(session, workspace_id=world.workspace.id, post_id=post_id)


async def test_bulk_operations_succeed_or_fail_per_post_and_calendar_lists_them(world: Any) -> None:
    with Session(world.engine, expire_on_commit=False) as session:
        ids = [
            publishing.create_post(
                session,
                workspace_id=world.workspace.id,
                content=PostContent(text=text),
                targets=[PostTarget(platform="x", account_id=world.account.id)],
            ).id
            for text in ("first", "second", "x" * 400)
        ]
        result = publishing.bulk(
            session,
            workspace_id=world.workspace.id,
            operation="schedule",
            post_ids=[*ids, "nope"],
            at=T0 + timedelta(hours=1),
            now=T0,
        )
        session.commit()
    assert result.ok == ids[:2]
    assert "limits" in result.failed[ids[2]] and "not found" in result.failed["nope"]
    with Session(world.engine) as session:
        items = publishing.calendar(
            session, workspace_id=world.workspace.id, start=T0, end=T0 + timedelta(days=1)
        )
        assert [i.text for i in items] == ["first", "second"] and {i.status for i in items} == {"pending"}
        listed = publishing.list_posts(session, workspace_id=world.workspace.id, status="scheduled")
        assert {p.id for p in listed} == set(ids[:2])
        violations = publishing.validate_post(session, workspace_id=world.workspace.id, post_id=ids[2])
        assert next(iter(violations.values()))[0].code == "too_long"
    with Session(world.engine) as session:
        deleted = publishing.bulk(
            session, workspace_id=world.workspace.id, operation="delete", post_ids=ids[:1]
        )
        session.commit()
    assert deleted.ok == ids[:1]
    world.clock.advance(hours=2)
    await world.drain()
    assert [p.text for p in world.fake.posts] == ["second"], "the deleted post's outbox row was cancelled"

"""A sandbox world connected to a workspace, with many posts queued, for publishing tests and benches."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from brandcrew.connectors.sandbox import FaultPlan, SandboxWorld
from brandcrew.jobs.publisher import Publisher
from brandcrew.services import publishing
from brandcrew.services.accounts import AccountsService, default_accounts_service
from brandcrew.services.brand import BrandProfile
from brandcrew.services.publishing import PostContent, PostTarget
from brandcrew.services.workspaces import connect_sandbox_world, ensure_workspace
from brandcrew.store.crypto import FieldCipher
from brandcrew.store.tables import OutboxEntry, SocialAccount

FAULTS_30 = FaultPlan(
    rate_limited=0.06,
    server_error=0.06,
    timeout_before_create=0.06,
    timeout_after_create=0.06,
    auth_expired=0.06,
)


@dataclass
class PublishingWorld:
    engine: Engine
    world: SandboxWorld
    accounts: AccountsService
    workspace_id: str
    account_ids: dict[str, str]


def make_publishing_world(
    engine: Engine,
    cipher: FieldCipher,
    *,
    seed: int = 1,
    platforms: tuple[str, ...] = ("x", "threads", "facebook"),
    faults: FaultPlan | None = None,
    speed: float = 0.0,
    start: datetime | None = None,
    workspace_id: str = "northwind",
) -> PublishingWorld:
    """A brand workspace connected to a fresh sandbox world."""
    world = SandboxWorld.create(
        engine,
        seed=seed,
        brand="Northwind Coffee",
        platforms=platforms,
        faults=faults,
        speed=speed,
        start=start,
        token_ttl=timedelta(days=365),
    )
    accounts = default_accounts_service(engine, cipher)
    with Session(engine) as session:
        ensure_workspace(session, BrandProfile(workspace_id=workspace_id, name=f"Brand {workspace_id}"))
        connected = connect_sandbox_world(session, accounts, workspace_id=workspace_id, world=world)
        session.commit()
        ids = {a.platform: a.id for a in connected}
    return PublishingWorld(engine, world, accounts, workspace_id, ids)


def queue_posts(
    pw: PublishingWorld,
    n: int,
    *,
    at: datetime,
    spread_s: float = 0.0,
    tag: str = "",
    rotation: tuple[str, ...] = ("x", "facebook", "x", "facebook", "threads"),
) -> list[str]:
    """Create and schedule n distinct posts over the accounts (default 2:2:1 x/facebook/threads, inside
    Threads' 250-a-day quota for 1,000 posts); returns outbox keys."""
    platforms = [p for p in rotation if p in pw.account_ids] or list(pw.account_ids)
    keys = []
    with Session(pw.engine) as session:
        for i in range(n):
            platform = platforms[i % len(platforms)]
            post = publishing.create_post(
                session,
                workspace_id=pw.workspace_id,
                content=PostContent(text=f"Brew note {tag}{i}: single-origin beans, roasted this week."),
                targets=[PostTarget(platform=platform, account_id=pw.account_ids[platform])],
            )
            due = at + timedelta(seconds=spread_s * i / max(1, n - 1)) if spread_s else at
            entries = publishing.schedule_post(
                session, workspace_id=pw.workspace_id, post_id=post.id, at=due, now=at
            )
            keys.extend(e.key for e in entries)
            if i % 200 == 199:
                session.commit()
        session.commit()
    return keys


class Tally(BaseModel):
    """The exactly-once verdict over every outbox row."""

    rows: int
    published: int
    failed: int
    open: int
    duplicates: int
    """Platform posts beyond the first for any outbox row."""
    lost: int
    """Rows not finished, published without a platform post, or failed although the post exists."""
    failed_without_reason: int


def progress(pw: PublishingWorld) -> tuple[int, int]:
    """(published, still open) outbox rows: one aggregate query, cheap enough to poll every 50 ms while
    worker processes publish (a full `tally` reads every row and every platform post)."""
    with pw.engine.connect() as conn:
        published, still_open = conn.execute(
            text(
                "SELECT coalesce(sum(CASE WHEN status = 'published' THEN 1 ELSE 0 END), 0), "
                "coalesce(sum(CASE WHEN status IN ('pending', 'publishing', 'unknown') THEN 1 ELSE 0 END), 0) "
                "FROM publish_outbox WHERE workspace_id = :w"
            ),
            {"w": pw.workspace_id},
        ).one()
    return int(published), int(still_open)


def tally(pw: PublishingWorld) -> Tally:
    """Compare the outbox with what the sandbox platform actually holds."""
    with Session(pw.engine) as session:
        rows = session.exec(select(OutboxEntry).where(OutboxEntry.workspace_id == pw.workspace_id)).all()
        accounts = {a.id: a for a in session.exec(select(SocialAccount)).all()}
    on_platform: Counter[tuple[str, str]] = Counter()
    for account in {a.platform_account_id for a in accounts.values()}:
        for post in pw.world.posts(account):
            on_platform[(account, post.text)] += 1
    duplicates = lost = failed_no_reason = 0
    for row in rows:
        account = accounts[row.account_id]
        count = on_platform[(account.platform_account_id, str(row.payload["text"]))]
        duplicates += max(0, count - 1)
        if row.status == "published" and count == 0:
            lost += 1
        elif row.status == "failed":
            failed_no_reason += not row.error
            lost += count > 0  # published on the platform but recorded as failed
        elif row.status not in ("published", "failed", "cancelled"):
            lost += 1
    by_status = Counter(r.status for r in rows)
    return Tally(
        rows=len(rows),
        published=by_status["published"],
        failed=by_status["failed"],
        open=sum(by_status[s] for s in ("pending", "publishing", "unknown")),
        duplicates=duplicates,
        lost=lost,
        failed_without_reason=failed_no_reason,
    )


async def drain_with_clock(
    publisher: Publisher, world: SandboxWorld, *, step: timedelta, rounds: int = 400, concurrency: int = 16
) -> int:
    """Process due rows concurrently, advancing the sandbox clock between rounds; returns rounds used."""
    gate = asyncio.Semaphore(concurrency)

    async def one(key: str) -> Any:
        async with gate:
            return await publisher.process(key)

    for i in range(rounds):
        keys = publisher.due_keys(limit=2000)
        if keys:
            await asyncio.gather(*(one(k) for k in keys))
        with Session(publisher.engine) as session:
            still_open = session.exec(
                select(OutboxEntry.key).where(OutboxEntry.status.in_(["pending", "publishing", "unknown"]))  # type: ignore[attr-defined]
            ).first()
        if still_open is None:
            return i + 1
        world.advance(step)
    return rounds

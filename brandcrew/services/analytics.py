"""Analytics: collect metrics from the platforms into the time series, and answer questions about them.

Everything here reads the brand's own published posts (outbox rows) and the `metrics` table, so it
works the same on the sandbox and on real platforms.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from datetime import datetime, timedelta
from statistics import mean
from typing import Any

from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from brandcrew.connectors.base import AccountAuth, Connector
from brandcrew.services.accounts import AccountsService
from brandcrew.store.tables import MetricPoint, OutboxEntry, SocialAccount, as_utc

POST_METRICS = ("impressions", "likes", "comments", "shares", "saves", "clicks")


class PostPerformance(BaseModel):
    """Latest counters of one published post, and its engagement rate."""

    post_id: str
    platform: str
    account_id: str
    remote_id: str
    text: str
    published_at: datetime
    impressions: int = 0
    likes: int = 0
    comments: int = 0
    shares: int = 0
    saves: int = 0
    clicks: int = 0

    @property
    def engagements(self) -> int:
        """Likes, comments, shares and saves."""
        return self.likes + self.comments + self.shares + self.saves

    @property
    def engagement_rate(self) -> float:
        """Engagements per impression."""
        return self.engagements / self.impressions if self.impressions else 0.0


class AccountOverview(BaseModel):
    """An account's followers and the totals of its posts in a period."""

    account_id: str
    platform: str
    username: str
    followers: int | None
    followers_change: int | None
    posts: int
    impressions: int
    engagements: int
    engagement_rate: float


class PostingSlot(BaseModel):
    """How posts published in one hour of the week (account's local time) performed."""

    weekday: int = Field(ge=0, le=6)
    """0 = Monday."""
    hour: int = Field(ge=0, le=23)
    posts: int
    mean_impressions: float
    mean_engagement_rate: float


async def _post_metrics(connector: Connector, remote_ids: list[str], auth: AccountAuth) -> list[Any]:
    return list(await connector.fetch_metrics(auth, remote_ids))


async def collect_metrics(
    session: Session, accounts: AccountsService, *, workspace_id: str, now: datetime, max_age_days: int = 30
) -> int:
    """Fetch current counters of recent published posts and every account; append them to `metrics`.

    Every platform call happens before anything is written, so no write lock is held while waiting on
    a network (and an expired token can be refreshed, which writes in its own transaction). The
    caller's `session` only receives the new rows: pass one that holds no transaction yet.
    """
    since = now - timedelta(days=max_age_days)
    # Read in a session of our own, closed before any platform call: a refresh writes meanwhile, and a
    # SQLite read snapshot older than that write could not become a write transaction afterwards.
    with Session(session.get_bind(), expire_on_commit=False) as reader:
        account_rows = reader.exec(
            select(SocialAccount).where(
                SocialAccount.workspace_id == workspace_id, col(SocialAccount.is_active)
            )
        ).all()
        published = reader.exec(
            select(OutboxEntry).where(
                OutboxEntry.workspace_id == workspace_id,
                OutboxEntry.status == "published",
                col(OutboxEntry.published_at) >= since,
            )
        ).all()
    points: list[MetricPoint] = []
    for account in account_rows:
        connector = accounts.connector(account)
        by_remote = {e.remote_id: e for e in published if e.account_id == account.id and e.remote_id}
        if by_remote:
            try:
                metrics = await accounts.with_auth(
                    account, functools.partial(_post_metrics, connector, list(by_remote))
                )
            except NotImplementedError:
                metrics = []
            for m in metrics:
                entry = by_remote.get(m.remote_id)
                if entry is None:
                    continue
                points.extend(
                    MetricPoint(
                        workspace_id=workspace_id,
                        account_id=account.id,
                        platform=account.platform,
                        post_id=entry.post_id,
                        remote_id=m.remote_id,
                        metric_type=name,
                        value=float(getattr(m, name)),
                        timestamp=m.collected_at,
                    )
                    for name in POST_METRICS
                )
        try:
            overview = await accounts.with_auth(account, connector.fetch_account_metrics)
        except NotImplementedError:
            continue
        points.append(
            MetricPoint(
                workspace_id=workspace_id,
                account_id=account.id,
                platform=account.platform,
                metric_type="followers",
                value=float(overview.followers),
                timestamp=overview.collected_at,
            )
        )
    session.add_all(points)
    session.flush()
    return len(points)


def post_performance(
    session: Session,
    *,
    workspace_id: str,
    since: datetime | None = None,
    until: datetime | None = None,
    platform: str | None = None,
    campaign_post_ids: set[str] | None = None,
) -> list[PostPerformance]:
    """Every published post in a window with its latest collected counters."""
    stmt = select(OutboxEntry).where(
        OutboxEntry.workspace_id == workspace_id, OutboxEntry.status == "published"
    )
    if since is not None:
        stmt = stmt.where(col(OutboxEntry.published_at) >= since)
    if until is not None:
        stmt = stmt.where(col(OutboxEntry.published_at) < until)
    if platform is not None:
        stmt = stmt.where(OutboxEntry.platform == platform)
    entries = [
        e for e in session.exec(stmt).all() if campaign_post_ids is None or e.post_id in campaign_post_ids
    ]
    if not entries:
        return []
    remote_ids = [e.remote_id for e in entries if e.remote_id]
    latest: dict[tuple[str, str], tuple[datetime, float]] = {}
    points = session.exec(
        select(MetricPoint).where(
            MetricPoint.workspace_id == workspace_id, col(MetricPoint.remote_id).in_(remote_ids)
        )
    ).all()
    for p in points:
        key = (p.remote_id or "", p.metric_type)
        ts = as_utc(p.timestamp) or p.timestamp
        if key not in latest or ts >= latest[key][0]:
            latest[key] = (ts, p.value)
    out = []
    for e in entries:
        values = {m: int(latest.get((e.remote_id or "", m), (None, 0.0))[1]) for m in POST_METRICS}
        out.append(
            PostPerformance(
                post_id=e.post_id,
                platform=e.platform,
                account_id=e.account_id,
                remote_id=e.remote_id or "",
                text=str(e.payload.get("text", "")),
                published_at=as_utc(e.published_at) or e.due_at,
                **values,
            )
        )
    return out


def top_posts(
    session: Session,
    *,
    workspace_id: str,
    since: datetime | None = None,
    limit: int = 5,
    by: str = "engagement_rate",
    worst: bool = False,
    platform: str | None = None,
) -> list[PostPerformance]:
    """The best (or worst) posts by engagement rate, impressions or any counter."""
    posts = post_performance(session, workspace_id=workspace_id, since=since, platform=platform)
    posts = [p for p in posts if p.impressions > 0]

    def key(p: PostPerformance) -> float:
        return p.engagement_rate if by == "engagement_rate" else float(getattr(p, by))

    return sorted(posts, key=key, reverse=not worst)[:limit]


def followers_series(session: Session, account_id: str) -> list[tuple[datetime, float]]:
    """Every collected follower count of an account, oldest first."""
    points = session.exec(
        select(MetricPoint)
        .where(MetricPoint.account_id == account_id, MetricPoint.metric_type == "followers")
        .order_by(col(MetricPoint.timestamp))
    ).all()
    return [(as_utc(p.timestamp) or p.timestamp, p.value) for p in points]


def _followers(session: Session, account_id: str, since: datetime) -> tuple[int | None, int | None]:
    points = session.exec(
        select(MetricPoint)
        .where(MetricPoint.account_id == account_id, MetricPoint.metric_type == "followers")
        .order_by(col(MetricPoint.timestamp))
    ).all()
    if not points:
        return None, None
    current = int(points[-1].value)
    before = [p for p in points if (as_utc(p.timestamp) or p.timestamp) <= since]
    baseline = int(before[-1].value) if before else int(points[0].value)
    return current, current - baseline


def account_overview(session: Session, *, workspace_id: str, since: datetime) -> list[AccountOverview]:
    """Per account: followers and change since `since`, posts, impressions and engagement in the period."""
    posts = post_performance(session, workspace_id=workspace_id, since=since)
    by_account: dict[str, list[PostPerformance]] = defaultdict(list)
    for p in posts:
        by_account[p.account_id].append(p)
    out = []
    for account in session.exec(
        select(SocialAccount).where(SocialAccount.workspace_id == workspace_id)
    ).all():
        mine = by_account.get(account.id, [])
        impressions = sum(p.impressions for p in mine)
        engagements = sum(p.engagements for p in mine)
        followers, change = _followers(session, account.id, since)
        out.append(
            AccountOverview(
                account_id=account.id,
                platform=account.platform,
                username=account.username,
                followers=followers,
                followers_change=change,
                posts=len(mine),
                impressions=impressions,
                engagements=engagements,
                engagement_rate=engagements / impressions if impressions else 0.0,
            )
        )
    return out


def best_times(
    session: Session,
    *,
    workspace_id: str,
    account_id: str,
    utc_offset_hours: float = 0.0,
    min_posts: int = 2,
    since: datetime | None = None,
) -> list[PostingSlot]:
    """Hours of the week ranked by the account's own results (engagement rate, then impressions)."""
    posts = [
        p
        for p in post_performance(session, workspace_id=workspace_id, since=since)
        if p.account_id == account_id
    ]
    slots: dict[tuple[int, int], list[PostPerformance]] = defaultdict(list)
    for p in posts:
        local = p.published_at + timedelta(hours=utc_offset_hours)
        slots[(local.weekday(), local.hour)].append(p)
    ranked = [
        PostingSlot(
            weekday=wd,
            hour=hr,
            posts=len(ps),
            mean_impressions=mean(p.impressions for p in ps),
            mean_engagement_rate=mean(p.engagement_rate for p in ps),
        )
        for (wd, hr), ps in slots.items()
        if len(ps) >= min_posts
    ]
    return sorted(ranked, key=lambda s: s.mean_impressions * (1 + s.mean_engagement_rate), reverse=True)


def best_hours(
    session: Session,
    *,
    workspace_id: str,
    account_id: str,
    utc_offset_hours: float = 0.0,
    since: datetime | None = None,
) -> list[tuple[int, float]]:
    """Hours of the day (any weekday) ranked by mean impressions of the account's posts."""
    posts = [
        p
        for p in post_performance(session, workspace_id=workspace_id, since=since)
        if p.account_id == account_id
    ]
    by_hour: dict[int, list[int]] = defaultdict(list)
    for p in posts:
        by_hour[(p.published_at + timedelta(hours=utc_offset_hours)).hour].append(p.impressions)
    return sorted(((h, mean(v)) for h, v in by_hour.items()), key=lambda item: item[1], reverse=True)

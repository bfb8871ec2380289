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
from sqlmodel import Session, col, func, select

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
    # Only the newest point of each (post, counter), picked by the database: every collection adds a
    # point per post and counter, so loading them all made each call grow with posts x collections
    # (a 20-day autopilot campaign spent half its time here).
    ranked = (
        select(
            col(MetricPoint.remote_id).label("remote_id"),
            col(MetricPoint.metric_type).label("metric_type"),
            col(MetricPoint.value).label("value"),
            func.row_number()
            .over(
                partition_by=(col(MetricPoint.remote_id), col(MetricPoint.metric_type)),
                order_by=(col(MetricPoint.timestamp).desc(), col(MetricPoint.created_at).desc()),
            )
            .label("rank"),
        )
        .where(
            MetricPoint.workspace_id == workspace_id,
            col(MetricPoint.remote_id).in_(remote_ids),
            col(MetricPoint.metric_type).in_(POST_METRICS),
        )
        .subquery()
    )
    latest = {
        (remote_id or "", metric): value
        for remote_id, metric, value in session.exec(
            select(ranked.c.remote_id, ranked.c.metric_type, ranked.c.value).where(ranked.c.rank == 1)
        ).all()
    }
    out = []
    for e in entries:
        values = {m: int(latest.get((e.remote_id or "", m), 0.0)) for m in POST_METRICS}
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


# -- dashboards ------------------------------------------------------------------------------------
class MetricChange(BaseModel):
    """A figure in a window, and how it moved against the comparison window."""

    current: float
    previous: float
    change: float
    change_percent: float | None
    """None when the comparison window had nothing (a change from zero has no percentage)."""


class SeriesPoint(BaseModel):
    """One day of a chart."""

    date: str
    """YYYY-MM-DD (UTC)."""
    value: float


class PlatformSlice(BaseModel):
    """One platform's share of a window."""

    platform: str
    posts: int
    impressions: int
    engagements: int
    engagement_rate: float
    followers: int | None


class Overview(BaseModel):
    """The analytics dashboard of a window: headline metrics, charts and the best posts."""

    start: datetime
    end: datetime
    compare_start: datetime
    compare_end: datetime
    followers: MetricChange
    engagement: MetricChange
    reach: MetricChange
    """Impressions of the window's posts (the platforms' reach where they report only impressions)."""
    posts: MetricChange
    engagement_series: list[SeriesPoint]
    follower_series: list[SeriesPoint]
    platform_breakdown: list[PlatformSlice]
    top_posts: list[PostPerformance]


def _change(current: float, previous: float) -> MetricChange:
    delta = current - previous
    percent = round(delta / previous * 100, 2) if previous else (0.0 if not current else None)
    return MetricChange(current=current, previous=previous, change=delta, change_percent=percent)


def _followers_at(
    points: list[MetricPoint], at: datetime, accounts: set[str] | None = None
) -> tuple[float, dict[str, float]]:
    """Sum over accounts of each one's last follower count at or before `at`, and the per-account values."""
    last: dict[str, tuple[datetime, float]] = {}
    for p in points:
        ts = as_utc(p.timestamp) or p.timestamp
        if ts > at or (accounts is not None and p.account_id not in accounts):
            continue
        if p.account_id not in last or ts >= last[p.account_id][0]:
            last[p.account_id] = (ts, p.value)
    values = {a: v for a, (_, v) in last.items()}
    return sum(values.values()), values


def _days(start: datetime, end: datetime) -> list[str]:
    day, out = start.date(), []
    while day <= (end - timedelta(microseconds=1)).date():
        out.append(day.isoformat())
        day += timedelta(days=1)
    return out


def overview(
    session: Session,
    *,
    workspace_id: str,
    start: datetime,
    end: datetime,
    account_ids: list[str] | None = None,
    compare_start: datetime | None = None,
    compare_end: datetime | None = None,
    top: int = 5,
) -> Overview:
    """Followers, engagement, reach and posts of a window against a comparison window (by default the
    window of the same length just before), daily charts, a per-platform breakdown and the top posts."""
    start, end = as_utc(start) or start, as_utc(end) or end
    compare_end = as_utc(compare_end) or start
    compare_start = as_utc(compare_start) or compare_end - (end - start)
    wanted = set(account_ids) if account_ids else None
    own = session.exec(select(SocialAccount).where(SocialAccount.workspace_id == workspace_id)).all()
    platform_of = {a.id: a.platform for a in own if wanted is None or a.id in wanted}
    accounts = set(platform_of)

    def window(lo: datetime, hi: datetime) -> list[PostPerformance]:
        posts = post_performance(session, workspace_id=workspace_id, since=lo, until=hi)
        return [p for p in posts if p.account_id in accounts]

    now_posts, before_posts = window(start, end), window(compare_start, compare_end)
    follower_points = list(
        session.exec(
            select(MetricPoint).where(
                MetricPoint.workspace_id == workspace_id,
                MetricPoint.metric_type == "followers",
                col(MetricPoint.account_id).in_(accounts),
            )
        ).all()
    )
    followers_now, by_account = _followers_at(follower_points, end)
    followers_before, _ = _followers_at(follower_points, compare_end)

    engagement_by_day: dict[str, float] = defaultdict(float)
    for p in now_posts:
        engagement_by_day[p.published_at.date().isoformat()] += p.engagements
    days = _days(start, end)
    follower_series = []
    for day in days:
        day_end = datetime.fromisoformat(day).replace(tzinfo=start.tzinfo) + timedelta(days=1)
        total, seen = _followers_at(follower_points, min(day_end, end))
        if seen:
            follower_series.append(SeriesPoint(date=day, value=total))

    breakdown = []
    for platform in sorted(set(platform_of.values())):
        mine = [p for p in now_posts if p.platform == platform]
        impressions = sum(p.impressions for p in mine)
        engagements = sum(p.engagements for p in mine)
        counts = [int(v) for a, v in by_account.items() if platform_of.get(a) == platform]
        breakdown.append(
            PlatformSlice(
                platform=platform,
                posts=len(mine),
                impressions=impressions,
                engagements=engagements,
                engagement_rate=engagements / impressions if impressions else 0.0,
                followers=sum(counts) if counts else None,
            )
        )
    ranked = sorted(
        (p for p in now_posts if p.impressions > 0), key=lambda p: p.engagement_rate, reverse=True
    )
    return Overview(
        start=start,
        end=end,
        compare_start=compare_start,
        compare_end=compare_end,
        followers=_change(followers_now, followers_before),
        engagement=_change(sum(p.engagements for p in now_posts), sum(p.engagements for p in before_posts)),
        reach=_change(sum(p.impressions for p in now_posts), sum(p.impressions for p in before_posts)),
        posts=_change(len(now_posts), len(before_posts)),
        engagement_series=[SeriesPoint(date=d, value=engagement_by_day.get(d, 0.0)) for d in days],
        follower_series=follower_series,
        platform_breakdown=breakdown,
        top_posts=ranked[:top],
    )


class PostAnalytics(BaseModel):
    """One post's latest counters in total and per platform account, and how they grew."""

    post_id: str
    totals: dict[str, int]
    """impressions, reach, engagement, likes, comments, shares, saves, clicks."""
    platforms: list[PostPerformance]
    timeline: list[dict[str, Any]]
    """[{timestamp, impressions, engagement}] summed over the post's platforms at each collection."""


def post_analytics(session: Session, *, workspace_id: str, post_id: str) -> PostAnalytics:
    """The analytics of one of the workspace's posts (zeros before its first collection)."""
    from brandcrew.services.publishing import get_post

    post = get_post(session, workspace_id=workspace_id, post_id=post_id)
    platforms = [p for p in post_performance(session, workspace_id=workspace_id) if p.post_id == post.id]
    totals = {m: sum(int(getattr(p, m)) for p in platforms) for m in POST_METRICS}
    totals["reach"] = totals["impressions"]
    totals["engagement"] = sum(p.engagements for p in platforms)
    points = session.exec(
        select(MetricPoint)
        .where(MetricPoint.workspace_id == workspace_id, MetricPoint.post_id == post.id)
        .order_by(col(MetricPoint.timestamp))
    ).all()
    # Each collection writes every counter of every platform with the platform's timestamp; sum the
    # latest value of each (platform post, counter) as of every collection time.
    latest: dict[tuple[str, str], float] = {}
    timeline: list[dict[str, Any]] = []
    for ts, group in _grouped_by_time(points):
        for p in group:
            latest[(p.remote_id or "", p.metric_type)] = p.value
        engagement = sum(v for (_, m), v in latest.items() if m in ("likes", "comments", "shares", "saves"))
        impressions = sum(v for (_, m), v in latest.items() if m == "impressions")
        timeline.append({"timestamp": ts, "impressions": int(impressions), "engagement": int(engagement)})
    return PostAnalytics(post_id=post.id, totals=totals, platforms=platforms, timeline=timeline)


def _grouped_by_time(points: Any) -> list[tuple[datetime, list[MetricPoint]]]:
    groups: dict[datetime, list[MetricPoint]] = defaultdict(list)
    for p in points:
        groups[as_utc(p.timestamp) or p.timestamp].append(p)
    return sorted(groups.items())

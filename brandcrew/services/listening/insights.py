"""What the stored mentions say: pages of a query's mentions, sentiment over time and by topic, trends.

Read-only views over `mentions` (and `listening_matches`, which link a mention to every query it
matched), scoped to one workspace. Sentiment scores are the ones stored when the mention was polled.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func, select

from brandcrew.services.errors import ValidationFailed
from brandcrew.services.listening.queries import get_query
from brandcrew.services.listening.sentiment import label_for_score
from brandcrew.services.listening.trends import TrendConfig, extract_topics, find_trends
from brandcrew.store.tables import ListeningMatch, ListeningQuery, Mention, as_utc

__all__ = (
    "MentionPage",
    "SentimentReport",
    "TrendView",
    "mention_page",
    "sentiment_report",
    "trends_now",
)

Granularity = Literal["hour", "day", "week"]
_STEP = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1)}
MAX_BUCKETS = 2000
"""Most timeline points one sentiment report may span (a year by day; 83 days by hour)."""


class MentionPage(BaseModel):
    """One page of mentions, how many match in all, and their sentiment counts."""

    mentions: list[Mention]
    total: int
    breakdown: dict[str, int]
    """positive / neutral / negative counts of the matches, whatever the sentiment filter."""


def _mention_filter(
    session: Session,
    *,
    workspace_id: str,
    query_id: str | None,
    since: datetime | None,
    until: datetime | None,
    min_reach: int | None,
    platform: str | None,
    location: str | None = None,
) -> list[Any]:
    where: list[Any] = [Mention.workspace_id == workspace_id]
    if query_id is not None:
        get_query(session, workspace_id=workspace_id, query_id=query_id)
        matched = select(ListeningMatch.mention_id).where(
            ListeningMatch.query_id == query_id, ListeningMatch.workspace_id == workspace_id
        )
        where.append(col(Mention.id).in_(matched))
    if since is not None and until is not None and since >= until:
        raise ValidationFailed("startDate must be before endDate", details={"field": "startDate"})
    if since is not None:
        where.append(col(Mention.created_at) >= since)
    if until is not None:
        where.append(col(Mention.created_at) < until)
    if min_reach is not None:
        where.append(col(Mention.reach) >= min_reach)
    if platform is not None:
        where.append(Mention.platform == platform)
    if location is not None:
        where.append(func.lower(Mention.location) == location.lower())
    return where


def mention_page(
    session: Session,
    *,
    workspace_id: str,
    query_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    sentiment: str | None = None,
    min_reach: int | None = None,
    platform: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> MentionPage:
    """Mentions newest first (a query's matches when `query_id` is given), paged, with counts."""
    where = _mention_filter(
        session,
        workspace_id=workspace_id,
        query_id=query_id,
        since=since,
        until=until,
        min_reach=min_reach,
        platform=platform,
    )
    counts = dict(
        session.exec(
            select(Mention.sentiment, func.count()).where(*where).group_by(col(Mention.sentiment))
        ).all()
    )
    breakdown = {label: int(counts.get(label, 0)) for label in ("positive", "neutral", "negative")}
    if sentiment is not None:
        where.append(Mention.sentiment == sentiment)
        total = breakdown.get(sentiment, 0)
    else:
        total = int(sum(counts.values()))
    rows = session.exec(
        select(Mention)
        .where(*where)
        .order_by(col(Mention.created_at).desc(), col(Mention.id))
        .offset(offset)
        .limit(limit)
    ).all()
    return MentionPage(mentions=list(rows), total=total, breakdown=breakdown)


class SentimentPoint(BaseModel):
    """Mean sentiment and volume of one time bucket."""

    timestamp: datetime
    score: float
    volume: int


class TopicSentiment(BaseModel):
    """Mean sentiment and volume of the mentions naming one topic."""

    topic: str
    sentiment: float
    volume: int


class SentimentReport(BaseModel):
    """Overall sentiment of a query's mentions in a window, over time and by topic."""

    score: float
    label: str
    volume: int
    timeline: list[SentimentPoint]
    topics: list[TopicSentiment]


def _floor(at: datetime, granularity: Granularity) -> datetime:
    at = at.replace(minute=0, second=0, microsecond=0)
    if granularity == "hour":
        return at
    at = at.replace(hour=0)
    if granularity == "day":
        return at
    return at - timedelta(days=at.weekday())  # weeks start on Monday (ISO 8601)


def sentiment_report(
    session: Session,
    *,
    workspace_id: str,
    query_id: str,
    since: datetime,
    until: datetime,
    granularity: Granularity = "day",
    max_topics: int = 10,
) -> SentimentReport:
    """Sentiment of a query's scored mentions in [since, until): overall, per bucket and per topic."""
    if since >= until:
        raise ValidationFailed("startDate must be before endDate", details={"field": "startDate"})
    if (until - since) / _STEP[granularity] > MAX_BUCKETS:
        raise ValidationFailed(
            f"the window spans more than {MAX_BUCKETS} {granularity}s; use a coarser granularity",
            details={"field": "granularity"},
        )
    query = get_query(session, workspace_id=workspace_id, query_id=query_id)
    where = _mention_filter(
        session,
        workspace_id=workspace_id,
        query_id=query_id,
        since=since,
        until=until,
        min_reach=None,
        platform=None,
    )
    rows = session.exec(
        select(Mention.created_at, Mention.sentiment_score, Mention.content)
        .where(*where, col(Mention.sentiment_score).is_not(None))
        .order_by(col(Mention.created_at))
    ).all()
    buckets: dict[datetime, list[float]] = defaultdict(list)
    topic_scores: dict[str, list[float]] = defaultdict(list)
    own = _own_terms(query)
    for at, score, text in rows:
        assert score is not None
        buckets[_floor(as_utc(at) or at, granularity)].append(score)
        for topic in extract_topics(text):
            if topic.lstrip("#") not in own:
                topic_scores[topic].append(score)
    scores = [s for _, s, _ in rows if s is not None]
    overall = sum(scores) / len(scores) if scores else 0.0
    ranked = sorted(topic_scores.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    return SentimentReport(
        score=round(overall, 4),
        label=label_for_score(overall),
        volume=len(scores),
        timeline=[
            SentimentPoint(timestamp=at, score=round(sum(v) / len(v), 4), volume=len(v))
            for at, v in sorted(buckets.items())
        ],
        topics=[
            TopicSentiment(topic=topic, sentiment=round(sum(v) / len(v), 4), volume=len(v))
            for topic, v in ranked[:max_topics]
            if len(v) >= 2
        ],
    )


def _own_terms(query: ListeningQuery) -> set[str]:
    """The words the query itself looks for: every match names them, so they are not topics."""
    words: set[str] = set()
    for text in [query.query, *(query.keywords or [])]:
        words |= {t.lstrip("#") for t in extract_topics(text.replace('"', " "))}
    return words


class TrendView(BaseModel):
    """A topic growing against its own baseline, with its sentiment and where it is discussed."""

    id: str
    topic: str
    hashtag: str | None
    volume: int
    growth_rate: float
    sentiment: float
    related_topics: list[str]
    platforms: list[str]
    reason: str


def trends_now(
    session: Session,
    *,
    workspace_id: str,
    now: datetime,
    window: timedelta = timedelta(hours=24),
    baseline: timedelta = timedelta(days=7),
    platform: str | None = None,
    kinds: Sequence[Literal["hashtag", "term"]] = ("hashtag", "term"),
    location: str | None = None,
    limit: int = 20,
) -> list[TrendView]:
    """Topics of the workspace's mentions trending in the window ending at `now`, strongest first."""
    where = _mention_filter(
        session,
        workspace_id=workspace_id,
        query_id=None,
        since=now - window - baseline,
        until=now,
        min_reach=None,
        platform=platform,
        location=location,
    )
    rows = session.execute(
        sa_select(
            col(Mention.created_at),
            col(Mention.author_username),
            col(Mention.content),
            col(Mention.platform),
            col(Mention.sentiment_score),
        )
        .where(*where)
        .order_by(col(Mention.created_at))
    ).all()
    config = TrendConfig(window=window, baseline=baseline, kinds=frozenset(kinds))
    found = find_trends(
        ((as_utc(at) or at, author, text) for at, author, text, _, _ in rows), now=now, config=config
    )
    current = [r for r in rows if (as_utc(r[0]) or r[0]) >= now - window]
    out = []
    for trend in found[:limit]:
        scores: list[float] = []
        platforms: Counter[str] = Counter()
        for _at, _author, text, where_from, score in current:
            if trend.topic in extract_topics(text, terms=trend.kind == "term"):
                platforms[where_from] += 1
                if score is not None:
                    scores.append(score)
        digest = hashlib.sha256(f"{workspace_id}|{trend.topic}".encode()).hexdigest()[:16]
        out.append(
            TrendView(
                id=f"tr_{digest}",
                topic=trend.topic.lstrip("#"),
                hashtag=trend.topic if trend.kind == "hashtag" else None,
                volume=trend.count,
                growth_rate=round(trend.growth, 3),
                sentiment=round(sum(scores) / len(scores), 4) if scores else 0.0,
                related_topics=trend.related,
                platforms=[p for p, _ in platforms.most_common()],
                reason=trend.reason,
            )
        )
    return out

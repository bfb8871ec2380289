"""Mentions: pulled from the connectors, deduplicated, stored with sentiment, searched and summarised."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, func, select

from brandcrew.connectors.base import RemoteMention
from brandcrew.store.tables import Mention, new_id, utcnow

Scorer = Callable[[Sequence[str]], Sequence[tuple[float, str]]]
"""Scores texts in a batch: (score in -1..1, label positive|neutral|negative) each."""

INFLUENCER_FOLLOWERS = 10_000


def store_mentions(
    session: Session,
    *,
    workspace_id: str,
    platform: str,
    mentions: Sequence[RemoteMention],
    scorer: Scorer | None = None,
    query_id: str | None = None,
    fetched_at: datetime | None = None,
) -> int:
    """Insert new mentions (already-seen remote ids are skipped); returns how many were new."""
    if not mentions:
        return 0
    scores = list(scorer([m.text for m in mentions])) if scorer else [(None, None)] * len(mentions)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    new = 0
    now = fetched_at or utcnow()
    for mention, (score, label) in zip(mentions, scores, strict=True):
        stmt = insert(Mention.__table__).values(  # type: ignore[attr-defined]
            id=new_id(),
            workspace_id=workspace_id,
            query_id=query_id,
            platform=platform,
            platform_mention_id=mention.remote_id,
            author_id=mention.author_id,
            author_username=mention.author_username,
            author_name=mention.author_name,
            author_followers=mention.author_followers,
            content=mention.text,
            url=mention.url,
            sentiment=label,
            sentiment_score=score,
            reach=mention.author_followers,
            engagement=mention.likes + mention.replies + mention.shares,
            language=mention.language,
            is_influencer=mention.author_followers >= INFLUENCER_FOLLOWERS,
            tags=[],
            created_at=mention.created_at,
            fetched_at=now,
        )
        result = session.execute(
            stmt.on_conflict_do_nothing(index_elements=["workspace_id", "platform", "platform_mention_id"])
        )
        new += int(getattr(result, "rowcount", 0) or 0)
    return new


def search_mentions(
    session: Session,
    *,
    workspace_id: str,
    text: str | None = None,
    sentiment: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    platform: str | None = None,
    limit: int = 50,
) -> list[Mention]:
    """Mentions of a workspace, newest first, by substring, sentiment, platform and time."""
    stmt = select(Mention).where(Mention.workspace_id == workspace_id)
    if text:
        stmt = stmt.where(func.lower(Mention.content).contains(text.lower()))
    if sentiment:
        stmt = stmt.where(Mention.sentiment == sentiment)
    if platform:
        stmt = stmt.where(Mention.platform == platform)
    if since is not None:
        stmt = stmt.where(col(Mention.created_at) >= since)
    if until is not None:
        stmt = stmt.where(col(Mention.created_at) < until)
    return list(session.exec(stmt.order_by(col(Mention.created_at).desc()).limit(limit)).all())


class SentimentSummary(BaseModel):
    """Shares of positive, neutral and negative mentions in a window."""

    total: int
    positive: int
    neutral: int
    negative: int
    unscored: int
    negative_share: float
    mean_score: float | None
    influential_negative: int
    """Negative mentions by authors with at least 10,000 followers."""


def sentiment_summary(
    session: Session, *, workspace_id: str, since: datetime | None = None, until: datetime | None = None
) -> SentimentSummary:
    """Counts by sentiment label over a window."""
    rows = search_mentions(session, workspace_id=workspace_id, since=since, until=until, limit=1_000_000)
    labels = Counter(r.sentiment or "unscored" for r in rows)
    scored = [r.sentiment_score for r in rows if r.sentiment_score is not None]
    labelled = labels["positive"] + labels["neutral"] + labels["negative"]
    return SentimentSummary(
        total=len(rows),
        positive=labels["positive"],
        neutral=labels["neutral"],
        negative=labels["negative"],
        unscored=labels["unscored"],
        negative_share=labels["negative"] / labelled if labelled else 0.0,
        mean_score=sum(scored) / len(scored) if scored else None,
        influential_negative=sum(1 for r in rows if r.sentiment == "negative" and r.is_influencer),
    )

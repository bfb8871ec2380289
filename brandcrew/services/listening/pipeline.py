"""One listening query end to end: match mentions, score their sentiment in batches, watch for crises."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from brandcrew.services.listening.crisis import CrisisAlert, CrisisDetector, MentionBucketer
from brandcrew.services.listening.query import QueryFilter
from brandcrew.services.listening.sentiment import SentimentAnalyzer, SentimentResult

__all__ = ["ListeningPipeline", "MentionLike", "PipelineResult", "ScoredMention"]


class MentionLike(Protocol):
    """What the pipeline reads from a mention (a connector's `RemoteMention` fits)."""

    @property
    def text(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def author_username(self) -> str: ...
    @property
    def author_followers(self) -> int: ...
    @property
    def language(self) -> str | None: ...


@dataclass(frozen=True, kw_only=True)
class ScoredMention:
    """A mention that matched the query, with its sentiment."""

    mention: MentionLike
    sentiment: SentimentResult


@dataclass(kw_only=True)
class PipelineResult:
    """The matched mentions of a batch and the alerts they raised."""

    matched: list[ScoredMention] = field(default_factory=list)
    alerts: list[CrisisAlert] = field(default_factory=list)


class ListeningPipeline:
    """Query filter, then batched sentiment, then 5-minute buckets into the crisis detector."""

    def __init__(
        self,
        query: QueryFilter,
        analyzer: SentimentAnalyzer,
        *,
        detector: CrisisDetector | None = None,
        platform: str | None = None,
    ) -> None:
        """`platform` is the network the mentions come from (for the query's platform filter)."""
        self.query = query
        self.analyzer = analyzer
        self.detector = detector or CrisisDetector()
        self.platform = platform
        cfg = self.detector.config
        self._bucketer = MentionBucketer(
            bucket_minutes=cfg.bucket_minutes, influencer_followers=cfg.influencer_followers
        )

    def process(self, mentions: Sequence[MentionLike]) -> PipelineResult:
        """Process a time-ordered batch; buckets still open stay open until a later batch or `flush`."""
        candidates = [
            m for m in mentions if self.query.prefilter(m.text, platform=self.platform, language=m.language)
        ]
        sentiments = self.analyzer.analyze_batch([m.text for m in candidates]) if candidates else []
        result = PipelineResult()
        for mention, sentiment in zip(candidates, sentiments, strict=True):
            closed = self._bucketer.add(
                at=mention.created_at,
                author=mention.author_username,
                negative=sentiment.label == "negative",
                sentiment_score=sentiment.score,
                followers=mention.author_followers,
                text=mention.text,
            )
            for bucket in closed:
                result.alerts.extend(self.detector.observe(bucket))
            # The detector sees every match; the sentiment filter only narrows what is returned.
            if self.query.accepts_sentiment(sentiment.label):
                result.matched.append(ScoredMention(mention=mention, sentiment=sentiment))
        return result

    def flush(self) -> list[CrisisAlert]:
        """Close the open bucket and return its alerts."""
        alerts: list[CrisisAlert] = []
        for bucket in self._bucketer.flush():
            alerts.extend(self.detector.observe(bucket))
        return alerts

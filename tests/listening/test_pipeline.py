"""A listening query end to end: match, score, filter by sentiment, feed the crisis detector."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from brandcrew.services.listening.crisis import CrisisConfig, CrisisDetector
from brandcrew.services.listening.pipeline import ListeningPipeline
from brandcrew.services.listening.query import QueryFilter
from brandcrew.services.listening.sentiment import LexiconAnalyzer

T0 = datetime(2026, 3, 1, tzinfo=UTC)


@dataclass(frozen=True)
class M:
    text: str
    created_at: datetime
    author_username: str = "someone"
    author_followers: int = 10
    language: str | None = "en"


def test_pipeline_filters_scores_and_alerts_on_an_influencer() -> None:
    query = QueryFilter(query="acme -giveaway", platforms=["x"], sentiment="negative")
    pipeline = ListeningPipeline(
        query,
        LexiconAnalyzer(),
        detector=CrisisDetector(CrisisConfig(influencer_followers=1000)),
        platform="x",
    )
    mentions = [
        M("I love acme", T0),
        M("acme is terrible and broken", T0 + timedelta(minutes=1)),
        M("acme giveaway, awful prizes", T0 + timedelta(minutes=2)),
        M("nothing to see", T0 + timedelta(minutes=3)),
        M("acme ruined my week, worst service ever", T0 + timedelta(minutes=4), "star", 50_000),
        M("acme again", T0 + timedelta(minutes=6)),
    ]
    result = pipeline.process(mentions)
    assert [m.mention.text for m in result.matched] == [
        "acme is terrible and broken",
        "acme ruined my week, worst service ever",
    ]
    assert all(m.sentiment.label == "negative" for m in result.matched)
    assert [a.kind for a in result.alerts] == ["influencer"]  # the first bucket closed at minute 6
    assert result.alerts[0].details["author"] == "star"
    assert pipeline.flush() == []


def test_pipeline_on_another_platform_matches_nothing() -> None:
    pipeline = ListeningPipeline(
        QueryFilter(query="acme", platforms=["x"]), LexiconAnalyzer(), platform="threads"
    )
    assert pipeline.process([M("acme", T0)]).matched == []

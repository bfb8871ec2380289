"""The online crisis detector: volume spikes, sentiment drops, influencers, cooldowns."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from brandcrew.services.listening.crisis import (
    AuthorSignal,
    BucketStats,
    CrisisConfig,
    CrisisDetector,
    CrisisMonitor,
    MentionBucketer,
)

T0 = datetime(2026, 3, 1, tzinfo=UTC)
STEP = timedelta(minutes=5)


def daily_noise(n: int, *, seed: int = 1, level: float = 40.0) -> list[int]:
    """Poisson-like counts with a day/night cycle, like a brand's mention volume."""
    import math

    rng = random.Random(seed)
    out = []
    for i in range(n):
        hour = (i * 5 / 60) % 24
        mean = level * (0.6 + 0.4 * math.sin((hour - 6) / 24 * 2 * math.pi))
        out.append(max(0, round(rng.gauss(mean, math.sqrt(mean) + 2))))
    return out


def run(counts: list[int], config: CrisisConfig | None = None, negative: list[int] | None = None) -> list:
    detector = CrisisDetector(config, query_id="q1")
    alerts = []
    for i, c in enumerate(counts):
        neg = negative[i] if negative else c // 10
        alerts.extend(detector.observe(BucketStats(start=T0 + i * STEP, mentions=c, negative=neg)))
    return alerts


DAYS = 288  # buckets per day


def test_quiet_on_noise_with_a_daily_cycle() -> None:
    assert run(daily_noise(10 * DAYS)) == []


def test_fires_on_a_spike_and_says_why() -> None:
    counts = daily_noise(9 * DAYS)
    spike_at = 8 * DAYS + 100
    for k in range(6):
        counts[spike_at + k] = 400
    alerts = run(counts)
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert.kind == "volume_spike"
    assert alert.query_id == "q1"
    assert spike_at * STEP <= alert.at - T0 <= (spike_at + 2) * STEP
    assert "volume spike" in alert.reason and "robust sigmas" in alert.reason and "threshold" in alert.reason
    assert alert.details["basis"] == "seasonal"
    assert alert.details["z"] >= 5


def test_trailing_baseline_fires_before_a_week_of_history() -> None:
    counts = daily_noise(DAYS)
    counts[200] = counts[201] = counts[202] = 500
    alerts = run(counts)
    assert [a.kind for a in alerts] == ["volume_spike"]
    assert alerts[0].details["basis"] == "trailing"


def test_small_absolute_increase_on_a_quiet_series_does_not_fire() -> None:
    counts = [0] * (3 * DAYS)
    counts[2 * DAYS] = 6  # huge in sigmas, tiny in mentions
    assert run(counts) == []
    counts[2 * DAYS + 50 : 2 * DAYS + 53] = [60, 60, 60]
    assert [a.kind for a in run(counts)] == ["volume_spike"]


def test_cooldown_suppresses_repeat_alerts_and_then_expires() -> None:
    counts = daily_noise(5 * DAYS)
    first, second, third = 4 * DAYS, 4 * DAYS + 24, 4 * DAYS + 150  # +2 h, then +12.5 h
    for start in (first, second, third):
        counts[start : start + 3] = [600, 600, 600]
    cfg = CrisisConfig(cooldown_minutes=360)
    alerts = run(counts, cfg)
    assert [round((a.at - T0) / STEP) for a in alerts] == [first, third]
    alerts_short = run(counts, CrisisConfig(cooldown_minutes=60))
    assert len(alerts_short) == 3


def test_alert_is_edge_triggered_while_a_spike_lasts() -> None:
    counts = daily_noise(5 * DAYS)
    counts[4 * DAYS : 4 * DAYS + 120] = [500] * 120  # 10 hours elevated
    assert len(run(counts, CrisisConfig(cooldown_minutes=30))) == 1


def test_sentiment_drop_fires_on_negative_share_not_on_volume() -> None:
    n = 2 * DAYS
    counts = [50] * n
    negative = [5] * n  # 10% negative
    for i in range(n - 24, n):
        negative[i] = 30  # 60% negative, same volume
    alerts = run(counts, negative=negative)
    assert [a.kind for a in alerts] == ["sentiment_drop"]
    assert "negative" in alerts[0].reason and "baseline" in alerts[0].reason
    assert alerts[0].details["negative_share"] >= alerts[0].details["baseline_negative_share"] + 0.15


def test_sentiment_drop_needs_minimum_volume() -> None:
    counts = [1] * (2 * DAYS)
    negative = [0] * (2 * DAYS)
    negative[-12:] = [1] * 12  # 100% negative but only 12 mentions in the hour
    assert run(counts, negative=negative) == []


def test_spike_with_negative_turn_is_one_crisis_alert() -> None:
    n = 2 * DAYS
    counts = [50] * n
    negative = [5] * n
    counts[n - 6 :] = [600] * 6
    negative[n - 6 :] = [400] * 6
    alerts = run(counts, negative=negative)
    assert [a.kind for a in alerts] == ["crisis"]
    assert alerts[0].severity == "high"
    assert "volume spike" in alerts[0].reason and "sentiment drop" in alerts[0].reason


def test_negative_mention_by_an_influential_author_alerts_once_per_cooldown() -> None:
    detector = CrisisDetector(CrisisConfig(influencer_followers=100_000))
    big = AuthorSignal(
        author="megastar", followers=2_000_000, sentiment_score=-0.8, text="acme ruined my day"
    )
    friendly = AuthorSignal(author="fan", followers=500_000, sentiment_score=0.9)
    small = AuthorSignal(author="nobody", followers=50, sentiment_score=-0.9)
    alerts = detector.observe(BucketStats(start=T0, mentions=3, influencers=[big, friendly, small]))
    assert [(a.kind, a.details["author"], a.severity) for a in alerts] == [("influencer", "megastar", "high")]
    assert "2,000,000 followers" in alerts[0].reason
    again = detector.observe(BucketStats(start=T0 + STEP, mentions=1, influencers=[big]))
    assert again == []


def test_influential_authors_are_one_alert_per_query_per_cooldown() -> None:
    cfg = CrisisConfig(influencer_followers=100_000, cooldown_minutes=60)
    detector = CrisisDetector(cfg)

    def angry(author: str, followers: int, score: float = -0.5) -> AuthorSignal:
        return AuthorSignal(author=author, followers=followers, sentiment_score=score, text=f"{author}: no")

    first = [angry("b", 300_000), angry("a", 150_000), angry("b", 300_000, -0.9), angry("c", 300_000)]
    (alert,) = detector.observe(BucketStats(start=T0, mentions=4, influencers=first))
    assert (alert.kind, alert.severity) == ("influencer", "medium")
    # Most followed first, ties by mention count then name; counts per author.
    assert alert.reason.startswith(
        "3 influential authors posted 4 negative mentions: @b (300,000 followers, 2"
    )
    assert alert.reason.index("@b") < alert.reason.index("@c") < alert.reason.index("@a")
    assert alert.details["authors"] == "@b x2, @c x1, @a x1"
    assert (alert.details["author"], alert.details["sentiment_score"], alert.details["text"]) == (
        "b",
        -0.9,
        "b: no",
    )
    assert (alert.details["influential_authors"], alert.details["influential_mentions"]) == (3, 4)
    # Other authors within the cooldown raise nothing; after it, the next one does.
    for k in range(1, 12):
        assert (
            detector.observe(
                BucketStats(start=T0 + k * STEP, mentions=1, influencers=[angry(f"n{k}", 10**6)])
            )
            == []
        )
    (later,) = detector.observe(
        BucketStats(start=T0 + 12 * STEP, mentions=1, influencers=[angry("z", 10**6)])
    )
    assert later.severity == "high" and later.details["author"] == "z"
    assert later.reason.startswith("influential author @z (1,000,000 followers")


def test_influencer_alert_text_lists_the_first_authors_and_counts_the_rest() -> None:
    from brandcrew.services.listening.crisis import influencer_alert_text, influential_authors

    cfg = CrisisConfig()
    signals = [AuthorSignal(author=f"u{i}", followers=200_000 + i, sentiment_score=-0.6) for i in range(8)]
    signals.append(AuthorSignal(author="u7", followers=200_007, sentiment_score=-0.4))
    authors = influential_authors(signals, cfg)
    assert [a.author for a in authors][:3] == ["u7", "u6", "u5"] and authors[0].mentions == 2
    _, reason, details = influencer_alert_text(authors, cfg)
    assert reason.startswith(
        "8 influential authors posted 9 negative mentions: @u7 (200,007 followers, 2 mentions)"
    )
    assert " and 3 more (thresholds" in reason and details["authors"].endswith(" and 3 more")  # type: ignore[union-attr]
    (alone,) = influential_authors(signals[-1:] + signals[-2:-1], cfg)
    assert "posted 2 negative mentions (lowest score -0.60" in influencer_alert_text([alone], cfg)[1]


def test_rules_can_be_disabled_and_configured_per_query() -> None:
    cfg = CrisisConfig.from_mapping({"spike_sigmas": 8, "enabled": ["volume_spike"], "unknown": 1})
    assert cfg.spike_sigmas == 8 and cfg.enabled == frozenset({"volume_spike"})
    monitor = CrisisMonitor({"strict": cfg})
    assert monitor.detector("strict").config.spike_sigmas == 8
    assert monitor.detector("other").config.spike_sigmas == CrisisConfig().spike_sigmas
    signal = AuthorSignal(author="x", followers=10**7, sentiment_score=-1.0)
    assert monitor.observe("strict", BucketStats(start=T0, mentions=1, influencers=[signal])) == []
    monitor.configure("strict", CrisisConfig())
    assert monitor.detector("strict").buckets_seen == 0


def test_gaps_count_as_empty_buckets_and_order_is_enforced() -> None:
    detector = CrisisDetector()
    detector.observe(BucketStats(start=T0, mentions=3))
    detector.observe(BucketStats(start=T0 + 4 * STEP, mentions=3))
    assert detector.buckets_seen == 5
    with pytest.raises(ValueError, match="in order"):
        detector.observe(BucketStats(start=T0, mentions=1))


def test_bucketer_groups_mentions_into_five_minute_buckets() -> None:
    bucketer = MentionBucketer(bucket_minutes=5, influencer_followers=1000)
    closed = []
    for minute, author, neg, followers in [
        (0, "a", True, 10),
        (1, "a", False, 5000),
        (4, "b", True, 10),
        (6, "c", False, 1),
    ]:
        closed += bucketer.add(
            at=T0 + timedelta(minutes=minute), author=author, negative=neg, followers=followers
        )
    assert len(closed) == 1
    first = closed[0]
    assert (first.start, first.mentions, first.negative, first.unique_authors) == (T0, 3, 2, 2)
    assert [s.author for s in first.influencers] == ["a"]
    (last,) = bucketer.flush()
    assert last.start == T0 + STEP and last.mentions == 1
    assert bucketer.flush() == []

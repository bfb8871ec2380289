"""The engagement model: explicit multipliers, plausible rates, saturation, the time-of-day curve."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta

import pytest

from brandcrew.connectors.capabilities import MediaType, Platform
from brandcrew.connectors.drafts import MediaItem, PostDraft
from brandcrew.connectors.sandbox import engagement as eng
from brandcrew.connectors.sandbox.engagement import PostFeatures

MONDAY = datetime(2026, 3, 2, tzinfo=UTC)
UTC_AUDIENCE = [{"utc_offset": 0.0, "share": 1.0}]


def _forecast(
    features: PostFeatures, *, platform: str = "x", at: datetime = MONDAY, rid: str = "p1"
) -> eng.PostForecast:
    return eng.forecast(
        seed="s",
        remote_id=rid,
        platform=platform,
        features=features,
        audience=10_000,
        created_at=at,
        timezones=UTC_AUDIENCE,
        profile="business" if platform == "linkedin" else "consumer",
    )


def test_activity_curve_has_weekly_mean_one_and_consumer_peaks() -> None:
    hours = [MONDAY + timedelta(minutes=15 * i) for i in range(7 * 96)]
    for profile in ("consumer", "business"):
        assert statistics.fmean(eng.activity(profile, h) for h in hours) == pytest.approx(1.0, abs=1e-6)
    consumer = {h: eng.activity("consumer", MONDAY.replace(hour=h)) for h in range(24)}
    assert max(consumer, key=lambda h: consumer[h]) in (19, 20, 21)
    for peak in (8, 12, 20):
        assert consumer[peak] > 1.5 > 0.5 > consumer[3]


def test_business_audience_is_quiet_at_weekends_and_nights() -> None:
    weekday_9 = eng.activity("business", MONDAY.replace(hour=9))
    sunday_9 = eng.activity("business", MONDAY.replace(hour=9) + timedelta(days=6))
    assert weekday_9 > 3 * sunday_9
    assert weekday_9 > 5 * eng.activity("business", MONDAY.replace(hour=22))


def test_audience_activity_follows_the_timezone_mix() -> None:
    new_york = [{"utc_offset": -5.0, "share": 1.0}]
    # 20:00 in New York is 01:00 UTC the next day.
    at = datetime(2026, 3, 3, 1, 0, tzinfo=UTC)
    assert eng.audience_activity("consumer", new_york, at) == pytest.approx(
        eng.activity("consumer", datetime(2026, 3, 2, 20, 0))
    )
    assert eng.audience_activity("consumer", new_york, at) > 3 * eng.audience_activity(
        "consumer", UTC_AUDIENCE, at
    )


def test_time_multiplier_is_one_plus_sensitivity_times_activity_excess() -> None:
    at = MONDAY.replace(hour=20)
    a = statistics.fmean(
        eng.audience_activity("consumer", UTC_AUDIENCE, at + timedelta(minutes=m)) for m in (0, 30, 60)
    )
    assert eng.time_multiplier("x", "consumer", UTC_AUDIENCE, at) == pytest.approx(1 + 0.6 * (a - 1))
    assert eng.time_multiplier("youtube", "consumer", UTC_AUDIENCE, at) < eng.time_multiplier(
        "x", "consumer", UTC_AUDIENCE, at
    )


def test_content_factors_reward_media_sweet_spot_hashtags_and_punish_links() -> None:
    plain = eng.content_factors("x", PostFeatures(length=100))
    assert plain == {
        "media": 1.0,
        "hashtags": 1.0,
        "length": pytest.approx(1.15),
        "link": 1.0,
        "question": 1.0,
        "emoji": 1.0,
        "thread": 1.0,
    }
    rich = eng.content_factors(
        "x",
        PostFeatures(length=100, media_kind="video", hashtags=2, has_link=True, has_question=True, emoji=1),
    )
    assert rich["media"] == 1.5
    assert rich["hashtags"] == eng.HASHTAG_BONUS
    assert rich["link"] == 0.7
    assert rich["question"] == eng.QUESTION_REACH
    assert rich["emoji"] == 1.03
    too_many = eng.content_factors("x", PostFeatures(length=100, hashtags=8))
    assert too_many["hashtags"] == pytest.approx(max(eng.HASHTAG_FLOOR, 1 - 0.06 * 6))
    assert eng.content_factors("linkedin", PostFeatures(length=1200, has_link=True))["link"] == 0.6
    assert eng.content_factors("linkedin", PostFeatures(length=40))["length"] < plain["length"]


def test_extract_features_reads_the_draft() -> None:
    draft = PostDraft(
        platform=Platform.X,
        text="New beans are here! Which roast? ☕🔥 #coffee #morning https://acme.example/beans",
        media=(MediaItem(type=MediaType.IMAGE), MediaItem(type=MediaType.IMAGE)),
    )
    f = eng.extract_features(draft)
    assert (f.media_kind, f.media_count, f.hashtags, f.emoji, f.has_link, f.has_question) == (
        "carousel",
        2,
        2,
        2,
        True,
        True,
    )
    linkedin = eng.extract_features(PostDraft(platform=Platform.LINKEDIN, text=r"Hello \(world\)"))
    assert linkedin.length == len("Hello (world)")


def test_forecast_is_the_product_of_its_factors_and_deterministic() -> None:
    f = PostFeatures(length=100, media_kind="image", hashtags=1)
    a, b = _forecast(f), _forecast(f)
    assert a == b
    prod = 1.0
    for value in a.factors.values():
        prod *= value
    assert a.impressions == pytest.approx(10_000 * prod)
    assert _forecast(f, rid="p2").factors["noise"] != a.factors["noise"]


@pytest.mark.parametrize(
    ("platform", "low", "high"),
    [("x", 0.01, 0.03), ("instagram", 0.02, 0.05), ("linkedin", 0.02, 0.04), ("threads", 0.02, 0.045)],
)
def test_engagement_rates_are_plausible_per_platform(platform: str, low: float, high: float) -> None:
    kind = "image" if platform == "instagram" else "none"
    rates = []
    for i in range(400):
        o = _forecast(PostFeatures(length=150, media_kind=kind), platform=platform, rid=f"r{i}")
        rates.append((o.likes + o.comments + o.shares) / o.impressions)
    assert low <= statistics.median(rates) <= high


def test_question_draws_comments() -> None:
    plain = [_forecast(PostFeatures(length=100), rid=f"q{i}") for i in range(300)]
    asks = [_forecast(PostFeatures(length=100, has_question=True), rid=f"q{i}") for i in range(300)]
    rate = statistics.fmean(o.comments / o.impressions for o in plain)
    asked = statistics.fmean(o.comments / o.impressions for o in asks)
    assert asked == pytest.approx(rate * eng.QUESTION_COMMENTS, rel=0.01)


def test_saturation_rises_to_one_with_a_longer_tail_on_linkedin() -> None:
    day = timedelta(days=1)
    assert eng.saturation("x", timedelta(0)) == 0
    assert eng.saturation("x", day) > 0.8
    assert eng.saturation("linkedin", day) < 0.7
    assert eng.saturation("x", timedelta(days=14)) == pytest.approx(1.0, abs=1e-6)
    values = [eng.saturation("linkedin", timedelta(hours=h)) for h in range(0, 400, 7)]
    assert values == sorted(values)
    for fraction in (0.1, 0.5, 0.9):
        assert eng.saturation("tiktok", eng.age_for_fraction("tiktok", fraction)) == pytest.approx(
            fraction, abs=1e-6
        )


def test_counts_never_decrease_with_age() -> None:
    o = _forecast(PostFeatures(length=100, media_kind="video", has_question=True))
    counts = [eng.counts_at(o, timedelta(minutes=m)) for m in range(0, 3 * 24 * 60, 37)]
    for field in ("impressions", "likes", "comments", "shares", "saves", "clicks", "follows"):
        series = [getattr(c, field) for c in counts]
        assert series == sorted(series), field
    assert counts[-1].impressions == pytest.approx(o.impressions, rel=0.01)


def test_peak_hours_earn_more_impressions_than_night_on_average() -> None:
    f = PostFeatures(length=100)
    evening = [_forecast(f, at=MONDAY.replace(hour=20), rid=f"e{i}").impressions for i in range(200)]
    night = [_forecast(f, at=MONDAY.replace(hour=3), rid=f"n{i}").impressions for i in range(200)]
    assert statistics.fmean(evening) > 2 * statistics.fmean(night)

"""Trends rank growth against a topic's own baseline, with count and author floors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from brandcrew.services.listening.trends import TrendConfig, TrendTracker, extract_topics, find_trends

NOW = datetime(2026, 3, 8, 12, tzinfo=UTC)


def test_growing_hashtag_outranks_a_merely_large_one() -> None:
    mentions = []
    # #bigbrand: 100 an hour for a week and still 100 now. #launch: nothing before, 30 now.
    for h in range(1, 24 * 7):
        for k in range(100):
            mentions.append((NOW - timedelta(hours=h, minutes=k % 60), f"u{k}", "#bigbrand as usual"))
    for k in range(100):
        mentions.append((NOW - timedelta(minutes=1 + k % 59), f"u{k}", "#bigbrand as usual"))
    for k in range(30):
        mentions.append((NOW - timedelta(minutes=1 + k), f"fan{k}", "wow the #launch of #acmephone"))
    trends = find_trends(mentions, now=NOW, config=TrendConfig(kinds=frozenset({"hashtag"})))
    topics = [t.topic for t in trends]
    assert topics[0] in ("#launch", "#acmephone")
    assert "#bigbrand" not in topics  # large, but not growing
    launch = next(t for t in trends if t.topic == "#launch")
    assert launch.count == 30 and launch.expected == 0 and launch.growth > 5
    assert launch.related == ["#acmephone"]
    assert "30 mentions by 30 authors" in launch.reason


def test_minimum_count_and_unique_author_floors() -> None:
    spam = [(NOW - timedelta(minutes=m), "spammer", "#buynow cheap") for m in range(1, 40)]
    few = [(NOW - timedelta(minutes=m), f"u{m}", "#tiny thing") for m in range(1, 4)]
    trends = find_trends(spam + few, now=NOW)
    assert all(t.topic not in ("#buynow", "#tiny") for t in trends)


def test_terms_trend_too_and_stopwords_do_not() -> None:
    tracker = TrendTracker(TrendConfig(min_count=5, min_unique_authors=5))
    for k in range(12):
        tracker.add(
            at=NOW - timedelta(minutes=k + 1),
            author=f"u{k}",
            text=f"the recall is here https://x.co/{k} @acme",
        )
    tracker.add(at=NOW - timedelta(days=30), author="old", text="ancient recall")
    tracker.prune(NOW)
    topics = {t.topic: t for t in tracker.trends(now=NOW)}
    assert "recall" in topics and topics["recall"].kind == "term"
    assert "the" not in topics and "acme" not in topics and "https" not in topics


def test_extract_topics() -> None:
    assert extract_topics("Love the #NewPhone from @acme! https://t.co/x", terms=False) == {"#newphone"}
    assert extract_topics("Love the #NewPhone from @acme!") == {"#newphone", "love"}

"""Polling listening queries through the sandbox: matched, deduplicated, scored, stored, linked."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from brandcrew.connectors.sandbox import FaultPlan
from brandcrew.services.listening import QueryFilter
from brandcrew.services.listening.crisis import CrisisConfig
from brandcrew.services.listening.polling import (
    ListeningOptions,
    alert_topic,
    query_filter,
    search_string,
    workspace_now,
)
from brandcrew.store.tables import ListeningMatch, ListeningQuery, Mention
from tests.utils.listening import make_listening_world


async def test_polling_twice_stores_nothing_twice(sqlite_engine: Any) -> None:
    lw = make_listening_world(sqlite_engine)
    first = await lw.round()
    stored = first.poll.stored
    assert stored > 5, "a day of brand mentions is backfilled on the first poll"
    assert lw.count(Mention) == lw.count(ListeningMatch) == stored

    second = await lw.round()
    assert second.poll.stored == 0 and second.poll.queries[0].matched == 0
    # A poll re-reads the last minutes (overlap): what it sees again is dropped, not re-stored.
    lw.pw.world.advance(timedelta(hours=6))
    third = await lw.round()
    assert third.poll.queries[0].matched >= third.poll.stored
    assert lw.count(Mention) == lw.count(ListeningMatch) == stored + third.poll.stored
    with Session(sqlite_engine) as session:
        keys = session.exec(select(Mention.platform, Mention.platform_mention_id)).all()
    assert len(keys) == len(set(keys))


async def test_mentions_are_stored_with_author_reach_engagement_language_and_sentiment(
    sqlite_engine: Any,
) -> None:
    lw = make_listening_world(sqlite_engine)
    await lw.round()
    with Session(sqlite_engine) as session:
        rows = session.exec(select(Mention)).all()
        query = session.get(ListeningQuery, lw.query_id)
    assert query is not None and query.last_polled_at is not None
    matcher = QueryFilter(query=query.query)
    for row in rows:
        assert matcher.matches_text(row.content)
        assert row.author_username and row.platform == "x" and row.query_id == lw.query_id
        assert row.reach == row.author_followers and row.engagement >= 0
        assert row.language and row.sentiment in ("positive", "neutral", "negative")
        assert row.sentiment_score is not None and -1 <= row.sentiment_score <= 1
    assert {r.sentiment for r in rows} >= {"positive", "negative"}


async def test_a_mention_matched_by_two_queries_is_stored_once_and_linked_to_both(sqlite_engine: Any) -> None:
    lw = make_listening_world(sqlite_engine, extra_queries={"Handle only": "@northwindcoffee"})
    result = await lw.round()
    brand, handle = result.poll.queries
    assert 0 < handle.matched <= brand.matched
    assert lw.count(Mention) == brand.matched, "the handle query's matches were already stored"
    assert lw.count(ListeningMatch) == brand.matched + handle.matched


async def test_boolean_query_exclusions_and_platforms_decide_what_is_stored(sqlite_engine: Any) -> None:
    lw = make_listening_world(
        sqlite_engine,
        query="@northwindcoffee AND NOT (app OR delivery)",
        platforms=("x", "linkedin"),
    )
    with Session(sqlite_engine) as session:
        query = session.get(ListeningQuery, lw.query_id)
        assert query is not None
        query.platforms = ["x"]
        session.add(query)
        session.commit()
    await lw.round()
    with Session(sqlite_engine) as session:
        rows = session.exec(select(Mention)).all()
    assert rows and {r.platform for r in rows} == {"x"}
    for row in rows:
        lowered = row.content.lower()
        assert "@northwindcoffee" in lowered and "app" not in lowered.split() and "delivery" not in lowered


async def test_a_failed_fetch_keeps_the_watermark_so_the_next_poll_catches_up(sqlite_engine: Any) -> None:
    lw = make_listening_world(sqlite_engine)
    await lw.round()
    with Session(sqlite_engine) as session:
        mark = session.get(ListeningQuery, lw.query_id).last_polled_at  # type: ignore[union-attr]
    lw.pw.world.set_faults(FaultPlan(server_error=1.0, operations=frozenset({"read"})))
    lw.pw.world.advance(timedelta(hours=12))
    failed = await lw.round()
    assert failed.poll.queries[0].errors and failed.poll.stored == 0
    with Session(sqlite_engine) as session:
        assert session.get(ListeningQuery, lw.query_id).last_polled_at == mark  # type: ignore[union-attr]
    lw.pw.world.set_faults(FaultPlan())
    caught_up = await lw.round()
    assert caught_up.poll.stored > 0 and not caught_up.poll.queries[0].errors


async def test_an_invalid_saved_query_is_reported_not_fatal(sqlite_engine: Any) -> None:
    lw = make_listening_world(sqlite_engine, extra_queries={"Broken": "(northwind OR"})
    result = await lw.round()
    good, broken = result.poll.queries
    assert good.stored > 0 and not good.errors
    assert broken.errors and "invalid" in broken.errors[0]


def test_workspace_clock_is_the_sandbox_world_clock(sqlite_engine: Any) -> None:
    lw = make_listening_world(sqlite_engine)
    with Session(sqlite_engine) as session:
        assert workspace_now(session, lw.workspace_id) == lw.pw.world.now()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param(
            'acme OR "acme coffee" OR #acmebrew', 'acme OR "acme coffee" OR #acmebrew', id="or-of-terms"
        ),
        pytest.param("acme AND (refund OR broken)", "acme", id="and-narrows-to-shortest"),
        pytest.param("(late OR cold) AND (acme OR @acme)", "late OR cold", id="and-of-ors"),
        pytest.param("sneak* -boots", "sneak", id="prefix-and-exclusion"),
        pytest.param("NOT acme", None, id="pure-negation-reads-all-mentions"),
        pytest.param("acme OR NOT refund", None, id="or-with-negation-reads-all"),
    ],
)
def test_search_string_finds_a_superset_of_the_query(query: str, expected: str | None) -> None:
    assert search_string(ListeningQuery(workspace_id="w", name="q", query=query)) == expected


def test_search_string_gives_up_when_too_long() -> None:
    long_query = " OR ".join(f"term{i}" for i in range(200))
    assert search_string(ListeningQuery(workspace_id="w", name="q", query=long_query)) is None


def test_query_filter_carries_languages_and_sentiment() -> None:
    row = ListeningQuery(
        workspace_id="w", name="q", query="acme", languages=["es"], sentiment_filter="negative"
    )
    matcher = query_filter(row)
    assert matcher.needs_sentiment and matcher.detect_language is not None
    assert matcher.prefilter("Muy decepcionado con acme, el producto no funciona nada bien", language=None)
    assert not matcher.prefilter("Really disappointed with acme, the product does not work", language=None)


def test_listening_options_history_defaults_to_the_detectors_needs() -> None:
    options = ListeningOptions.from_mapping({"pause_on": ["crisis", "influencer"], "spike_sigmas": 4})
    assert options.pause_on == frozenset({"crisis", "influencer"})
    assert options.history(CrisisConfig()) == timedelta(hours=168 + 7 * 24)
    assert options.history(CrisisConfig(baseline="trailing", baseline_hours=24)) == timedelta(hours=24)
    assert ListeningOptions(history_hours=3).history(CrisisConfig()) == timedelta(hours=3)


def test_alert_topic_is_the_shared_phrase_without_the_brand() -> None:
    texts = [
        "Is it true what people are saying about Northwind Coffee and the data leak? Unacceptable.",
        "Done with Northwind Coffee. The data leak situation is a disgrace.",
        "Cancelled my order. Northwind Coffee and the data leak? No thanks. #boycott",
        "@northwindcoffee you owe your customers an explanation about the data leak.",
    ]
    assert alert_topic(texts, exclude=["Northwind Coffee"]) == "data leak"
    assert alert_topic(["refund refund", "refund please"], exclude=[]) == "refund"
    assert alert_topic(["one", "two"], exclude=[]) is None


def _python_buckets(session: Session, query_id: str, config: CrisisConfig, start: Any, end: Any) -> list[Any]:
    from brandcrew.services.listening.crisis import MentionBucketer
    from brandcrew.services.listening.polling import _history_rows

    bucketer = MentionBucketer(
        bucket_minutes=config.bucket_minutes, influencer_followers=config.influencer_followers
    )
    out = []
    for at, author, label, score, followers, text in _history_rows(session, query_id, start, end):
        out += bucketer.add(
            at=at,
            author=author,
            negative=label == "negative",
            sentiment_score=score or 0.0,
            followers=followers,
            text=text,
        )
    return out + bucketer.flush()


@pytest.mark.parametrize(
    "engine_fixture", ["sqlite_engine", pytest.param("postgres_engine", marks=pytest.mark.postgres)]
)
async def test_buckets_counted_in_the_database_match_the_streaming_bucketer(
    engine_fixture: str, request: pytest.FixtureRequest
) -> None:
    from brandcrew.services.listening.polling import _bucket_history

    engine = request.getfixturevalue(engine_fixture)
    lw = make_listening_world(engine, history=timedelta(hours=6))
    lw.pw.world.schedule_crisis(lw.pw.world.now() - timedelta(hours=2), timedelta(hours=1), intensity=60)
    await lw.round()
    config = CrisisConfig(influencer_followers=10_000)
    end, start = lw.pw.world.now(), lw.pw.world.now() - timedelta(hours=6)
    with Session(engine) as session:
        counted = _bucket_history(session, lw.query_id, config, start, end)
        streamed = _python_buckets(session, lw.query_id, config, start, end)
    assert len(counted) > 10 and any(b.influencers for b in counted)
    assert counted == streamed

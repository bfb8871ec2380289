"""Incremental polls: a detector snapshot continued between polls raises exactly what a rebuild does."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, select

from brandcrew.llm.runtime import LlmRuntime
from brandcrew.services.alerts import AlertNotifier
from brandcrew.services.listening import polling
from brandcrew.services.listening.crisis import CrisisConfig
from brandcrew.services.listening.polling import ListeningOptions, detector_cache, history_window
from brandcrew.store.engine import make_engine
from brandcrew.store.migrate import upgrade
from brandcrew.store.tables import ListeningMatch, ListeningQuery
from tests.utils.domain import TEST_CIPHER
from tests.utils.listening import FAST, ListeningWorld, make_listening_world

HALF_HOUR = timedelta(minutes=30)
POLLS = 72


@pytest.fixture
def other_engine(tmp_path: Path) -> Any:
    """A second migrated SQLite database, for the same world polled another way."""
    engine = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


def _alerts(lw: ListeningWorld) -> list[tuple[Any, ...]]:
    """Everything about the raised alerts but their ids (which name the query)."""
    return [
        (a.kind, a.rule_key, a.severity, a.window_start, a.window_end, a.reason, a.details, a.created_at)
        for a in lw.alerts()
    ]


def _checked_against_rebuilds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make every cached poll also rebuild its detector and assert both give the same recent alerts."""
    real = polling._detector_alerts
    compared = [0]

    def both(
        session: Session, query: ListeningQuery, config: CrisisConfig, options: ListeningOptions, now: Any
    ) -> Any:
        cached = real(session, query, config, options, now)
        _, rebuilt = polling.rebuild_detector(
            session, query, config, now=now, history=options.history(config)
        )
        oldest = now - timedelta(minutes=options.max_alert_age_minutes)
        assert [a for a in cached if a.at >= oldest] == [a for a in rebuilt if a.at >= oldest], now
        compared[0] += 1
        return cached

    monkeypatch.setattr(polling, "_detector_alerts", both)
    return compared


async def _crisis_campaign(
    engine: Engine, *, alert_config: dict[str, Any] | None = None, restart_after: int = 0
) -> ListeningWorld:
    """A day of history, then 36 hours polled every 30 minutes with an 8-hour crisis from hour 12;
    with `restart_after`, the process "restarts" (empty cache, new services) after that many polls."""
    lw = make_listening_world(engine, alert_config=alert_config)
    await lw.round()
    lw.pw.world.schedule_crisis(
        lw.pw.world.now() + timedelta(hours=12), timedelta(hours=8), intensity=100, topic="the data leak"
    )
    if restart_after:
        await lw.run(HALF_HOUR * restart_after, every=HALF_HOUR)
        # A new process: no snapshots, new services around the same world; it polls the same moment.
        detector_cache.clear()
        restarted = _restarted(lw)
        again = await restarted.round()
        assert again.poll.alerts == [] and detector_cache.rebuilds >= 1
        await restarted.run(HALF_HOUR * (POLLS - restart_after), every=HALF_HOUR)
        restarted.rounds[:0] = lw.rounds
        return restarted
    await lw.run(HALF_HOUR * POLLS, every=HALF_HOUR)
    return lw


def _restarted(lw: ListeningWorld) -> ListeningWorld:
    """The same brand and world seen by a new process (fresh runtime and notifier, no snapshots)."""
    return ListeningWorld(
        pw=lw.pw,
        query_id=lw.query_id,
        runtime=LlmRuntime.from_settings(engine=lw.engine),
        notifier=AlertNotifier(lw.engine, TEST_CIPHER, retry=FAST, backoff=timedelta(minutes=1)),
    )


@pytest.mark.parametrize(
    ("alert_config", "max_rebuilds", "check_each_poll"),
    [
        # Two weeks of history: the window's start moves once a day, before any stored mention.
        pytest.param({}, 2, False, id="default-two-week-window"),
        # A short window whose start slides past stored mentions every ~2 hours (a rebuild each time);
        # every poll's detector is also compared with a rebuild's.
        pytest.param({"history_hours": 26, "cooldown_minutes": 120}, 24, True, id="short-sliding-window"),
    ],
)
async def test_incremental_polls_raise_the_same_alerts_as_full_rebuilds(
    sqlite_engine: Any,
    other_engine: Any,
    monkeypatch: pytest.MonkeyPatch,
    alert_config: dict[str, Any],
    max_rebuilds: int,
    check_each_poll: bool,
) -> None:
    detector_cache.clear()
    rebuilds, increments = detector_cache.rebuilds, detector_cache.increments
    compared = _checked_against_rebuilds(monkeypatch) if check_each_poll else None
    cached = await _crisis_campaign(sqlite_engine, alert_config=alert_config)
    rebuilds, increments = detector_cache.rebuilds - rebuilds, detector_cache.increments - increments
    assert rebuilds + increments == len(cached.rounds) == 1 + POLLS
    assert 1 <= rebuilds <= max_rebuilds, (rebuilds, increments)
    assert compared is None or compared[0] == len(cached.rounds)

    monkeypatch.undo()
    monkeypatch.setattr(detector_cache, "enabled", False)
    before = detector_cache.rebuilds
    rebuilt = await _crisis_campaign(other_engine, alert_config=alert_config)
    assert detector_cache.rebuilds - before == len(rebuilt.rounds), "no snapshot is kept when disabled"

    raised = _alerts(cached)
    assert {a[0] for a in raised} >= {"crisis", "influencer"}
    assert raised == _alerts(rebuilt)


async def test_a_restart_mid_crisis_raises_nothing_twice(sqlite_engine: Any, other_engine: Any) -> None:
    detector_cache.clear()
    # 32 polls: 16 hours after the first poll, four hours into the crisis.
    restarted = await _crisis_campaign(sqlite_engine, restart_after=32)
    raised = [a for r in restarted.rounds for a in r.poll.alerts]
    assert len(raised) == len(set(raised)) == len(restarted.alerts())
    assert any(r.poll.alerts for r in restarted.rounds[:33]), "the crisis had raised alerts before"
    detector_cache.clear()
    uninterrupted = await _crisis_campaign(other_engine)
    assert _alerts(restarted) == _alerts(uninterrupted)


async def test_a_snapshot_is_dropped_when_its_history_config_or_clock_changes(sqlite_engine: Any) -> None:
    lw = make_listening_world(sqlite_engine, history=timedelta(hours=30))
    detector_cache.clear()
    await lw.round()
    await lw.run(timedelta(hours=2), every=HALF_HOUR)

    def polled() -> tuple[int, int]:
        before = (detector_cache.rebuilds, detector_cache.increments)
        with Session(sqlite_engine) as session:
            query = session.get(ListeningQuery, lw.query_id)
            assert query is not None
            config = CrisisConfig.from_mapping(query.alert_config)
            options = ListeningOptions.from_mapping(query.alert_config)
            cached = polling._detector_alerts(session, query, config, options, lw.pw.world.now())
            _, rebuilt = polling.rebuild_detector(
                session, query, config, now=lw.pw.world.now(), history=options.history(config)
            )
        oldest = lw.pw.world.now() - timedelta(minutes=options.max_alert_age_minutes)
        assert [a for a in cached if a.at >= oldest] == [a for a in rebuilt if a.at >= oldest]
        return detector_cache.rebuilds - before[0], detector_cache.increments - before[1]

    assert polled() == (0, 1), "an unchanged history continues the snapshot"

    # A mention stored late, before the snapshot's safe point (e.g. a fetch that failed caught up).
    with Session(sqlite_engine) as session:
        query = session.get(ListeningQuery, lw.query_id)
        assert query is not None
        match = session.exec(
            select(ListeningMatch).where(ListeningMatch.query_id == lw.query_id).limit(1)
        ).one()
        session.execute(
            update(ListeningMatch)
            .where(ListeningMatch.query_id == lw.query_id, ListeningMatch.mention_id == match.mention_id)  # type: ignore[arg-type]
            .values(created_at=lw.pw.world.now() - timedelta(hours=3))
        )
        session.commit()
    assert polled() == (1, 0), "a changed history rebuilds"
    assert polled() == (0, 1)

    with Session(sqlite_engine) as session:
        query = session.get(ListeningQuery, lw.query_id)
        assert query is not None
        query.alert_config = {"spike_sigmas": 4}
        session.add(query)
        session.commit()
    assert polled() == (1, 0), "a changed config rebuilds"

    lw.pw.world.advance(timedelta(hours=1))
    assert polled() == (0, 1)
    with Session(sqlite_engine) as session:
        query = session.get(ListeningQuery, lw.query_id)
        assert query is not None
        config, options = CrisisConfig(spike_sigmas=4), ListeningOptions()
        before = detector_cache.rebuilds
        polling._detector_alerts(session, query, config, options, lw.pw.world.now() - timedelta(hours=2))
    assert detector_cache.rebuilds == before + 1, "a poll before the snapshot's safe point rebuilds"


def test_the_history_window_start_moves_in_steps() -> None:
    config = CrisisConfig()
    history = timedelta(hours=336)
    now = polling.datetime(2026, 11, 10, 13, 7, tzinfo=polling.UTC)
    start, end = history_window(now, config, history)
    assert end == now.replace(minute=5) and start == polling.datetime(2026, 10, 27, tzinfo=polling.UTC)
    assert history_window(now + timedelta(hours=10), config, history)[0] == start
    assert history_window(now + timedelta(hours=11), config, history)[0] == start + timedelta(days=1)
    short, _ = history_window(now, config, timedelta(hours=3))
    assert now - timedelta(hours=3, minutes=15) < short <= now - timedelta(hours=3)

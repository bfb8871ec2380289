"""A sandbox mention spike: one alert, publishing paused, a holding statement waiting for approval;
nothing raised twice after a restart; a person's ack or resolve lifts the pause and posts go out."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, col, select

from brandcrew.jobs.publisher import Publisher
from brandcrew.llm.runtime import LlmRuntime
from brandcrew.services import alerts
from brandcrew.services.alerts import AlertNotifier
from brandcrew.services.errors import Conflict, NotFound
from brandcrew.services.listening.polling import detector_cache
from brandcrew.services.workspaces import set_publishing_pause
from brandcrew.store.tables import Alert, Approval, AuditLog, ListeningMatch, Mention, Workspace
from tests.utils.domain import TEST_CIPHER
from tests.utils.listening import FAST, ListeningWorld, make_listening_world
from tests.utils.sandbox import queue_posts

CRISIS_ONLY = {"enabled": ["crisis"]}


async def _spike(lw: ListeningWorld, *, minutes: int = 60, intensity: float = 100.0) -> list[str]:
    """A day of quiet (backfilled), then a scripted crisis polled every 5 minutes."""
    await lw.round()
    lw.pw.world.schedule_crisis(
        lw.pw.world.now() + timedelta(minutes=10),
        timedelta(hours=2),
        intensity=intensity,
        topic="the data leak",
    )
    return await lw.run(timedelta(minutes=minutes))


def _pause(lw: ListeningWorld) -> str | None:
    with Session(lw.engine) as session:
        workspace = session.get(Workspace, lw.workspace_id)
        assert workspace is not None
        return workspace.publishing_paused_reason


def _statements(lw: ListeningWorld) -> list[Approval]:
    with Session(lw.engine) as session:
        return list(session.exec(select(Approval).where(Approval.resource == "statement")).all())


async def test_a_mention_spike_raises_one_alert_pauses_publishing_and_drafts_a_statement(
    sqlite_engine: Any,
) -> None:
    lw = make_listening_world(sqlite_engine, alert_config=CRISIS_ONLY)
    key = queue_posts(lw.pw, 1, at=lw.pw.world.now() + timedelta(minutes=45), rotation=("x",))[0]
    raised = await _spike(lw)

    (alert,) = lw.alerts()
    assert raised == [alert.id]
    assert (alert.kind, alert.severity, alert.status, alert.query_id) == (
        "crisis",
        "high",
        "open",
        lw.query_id,
    )
    assert "volume spike" in alert.reason and "sentiment drop" in alert.reason
    assert alert.window_start is not None and alert.window_end == alert.window_start + timedelta(minutes=5)
    assert alert.details["topic"] == "data leak" and alert.details["query_name"] == "Brand mentions"
    assert alert.paused_publishing

    reason = _pause(lw)
    assert reason is not None and reason.startswith(f"crisis alert {alert.id}")

    (approval,) = _statements(lw)
    assert (approval.status, approval.resource_id, approval.requested_by) == (
        "pending",
        alert.id,
        "crisis_management",
    )
    statement = approval.comments[0]["text"]
    assert "data leak" in statement and len(statement) > 80, statement

    # The post scheduled during the crisis is held, not published.
    publisher = Publisher(sqlite_engine, lw.pw.accounts, clock=lw.pw.world.now)
    assert await publisher.process(key) == "paused"
    assert lw.pw.world.posts() == []


async def test_a_restarted_process_raises_no_alert_twice(sqlite_engine: Any) -> None:
    lw = make_listening_world(sqlite_engine, alert_config=CRISIS_ONLY)
    await _spike(lw)
    assert len(lw.alerts()) == 1
    # A new process: no detector snapshots, fresh services; it polls the same moment and the next ones.
    # (The same world: making it again would load it and move its clock on by its history.)
    detector_cache.clear()
    restarted = ListeningWorld(
        pw=lw.pw,
        query_id=lw.query_id,
        runtime=LlmRuntime.from_settings(engine=sqlite_engine),
        notifier=AlertNotifier(sqlite_engine, TEST_CIPHER, retry=FAST),
    )
    assert restarted.pw.world.now() == lw.rounds[-1].poll.now
    again = await restarted.round()
    assert again.poll.alerts == [] and again.statements == []
    assert await restarted.run(timedelta(minutes=30)) == []
    assert len(lw.alerts()) == 1 and len(_statements(lw)) == 1


async def test_acknowledging_lifts_the_pause_and_the_held_post_publishes(sqlite_engine: Any) -> None:
    lw = make_listening_world(sqlite_engine, alert_config=CRISIS_ONLY)
    key = queue_posts(lw.pw, 1, at=lw.pw.world.now() + timedelta(minutes=45), rotation=("x",))[0]
    await _spike(lw)
    (alert,) = lw.alerts()
    publisher = Publisher(sqlite_engine, lw.pw.accounts, clock=lw.pw.world.now)
    assert await publisher.process(key) == "paused"

    with Session(sqlite_engine, expire_on_commit=False) as session:
        acked = alerts.acknowledge_alert(session, alert_id=alert.id, user_id="ana")
        session.commit()
    assert (acked.status, acked.acknowledged_by) == ("acknowledged", "ana")
    assert _pause(lw) is None
    assert await publisher.process(key) == "published"
    assert len(lw.pw.world.posts()) == 1
    # The statement still waits for its own approval: acknowledging the alert does not publish it.
    assert [a.status for a in _statements(lw)] == ["pending"]

    with Session(sqlite_engine, expire_on_commit=False) as session:
        resolved = alerts.resolve_alert(session, alert_id=alert.id, user_id="ana", note="handled")
        session.commit()
        actions = [a.action for a in session.exec(select(AuditLog).where(AuditLog.resource_id == alert.id))]
    assert resolved.status == "resolved" and resolved.details["resolution"] == "handled"
    assert actions == ["raise_alert", "acknowledge_alert", "resolve_alert"]
    # The incident is over but the rule's cooldown holds: the rest of the crisis raises nothing new.
    assert await lw.run(timedelta(minutes=30)) == []


async def test_only_pausing_alerts_get_statements_and_the_rest_just_notify(sqlite_engine: Any) -> None:
    lw = make_listening_world(sqlite_engine)  # default rules: spikes, drops, influencers, crises
    await _spike(lw, minutes=40)
    raised = lw.alerts()
    kinds = {a.kind for a in raised}
    assert "crisis" in kinds and len(kinds) > 1
    assert [a.kind for a in raised if a.paused_publishing] == ["crisis"]
    assert [s.resource_id for s in _statements(lw)] == [a.id for a in raised if a.kind == "crisis"]
    assert all(a.reason for a in raised)


async def test_influential_authors_of_a_crisis_are_one_alert_that_grows(sqlite_engine: Any) -> None:
    lw = make_listening_world(sqlite_engine, alert_config={"enabled": ["influencer"]})
    raised = await _spike(lw, minutes=180)
    (alert,) = lw.alerts()  # one per query per 6-hour cooldown, not one per author
    assert raised == [alert.id] and (alert.kind, alert.rule_key) == ("influencer", "influencer")
    extended = [r.poll.queries[0].extended for r in lw.rounds]
    assert sum(1 for ids in extended if ids == [alert.id]) >= 3, "later authors joined the open alert"

    details = alert.details
    top = details["top_authors"]
    assert details["influential_authors"] >= 10 and details["influential_mentions"] >= len(top) == 10
    assert [a["followers"] for a in top] == sorted((a["followers"] for a in top), reverse=True)
    assert top[0]["author"] == details["author"] and f"@{top[0]['author']} (" in alert.reason
    assert alert.reason.startswith(f"{details['influential_authors']} influential authors posted")
    assert details["topic"] == "data leak" and details["query_name"] == "Brand mentions"
    # The counts are the stored negative influential mentions of the alert's window so far.
    with Session(lw.engine) as session:
        rows = session.exec(
            select(Mention.author_username)
            .join(ListeningMatch, col(ListeningMatch.mention_id) == col(Mention.id))
            .where(
                col(ListeningMatch.created_at) >= alert.window_start,
                col(ListeningMatch.created_at) < datetime.fromisoformat(details["counted_until"]),
                col(Mention.author_followers) >= 100_000,
                col(Mention.sentiment_score) <= -0.3,
            )
        ).all()
    assert (len(set(rows)), len(rows)) == (details["influential_authors"], details["influential_mentions"])


def _record(
    session: Session, workspace_id: str, at: Any, *, kind: str = "crisis", pause: bool = True
) -> Alert | None:
    return alerts.record_alert(
        session,
        workspace_id=workspace_id,
        query_id="q1",
        query_name="Brand",
        kind=kind,
        rule_key=kind,
        severity="high",
        reason=f"{kind} at {at}",
        details={},
        window_start=at,
        window_end=at + timedelta(minutes=5),
        cooldown=timedelta(hours=6),
        pause=pause,
    )


def test_the_same_rule_within_its_cooldown_is_not_recorded_again(sqlite_engine: Any) -> None:
    lw = make_listening_world(sqlite_engine)
    at = lw.pw.world.now()
    with Session(sqlite_engine, expire_on_commit=False) as session:
        first = _record(session, lw.workspace_id, at)
        assert first is not None
        assert _record(session, lw.workspace_id, at) is None, "same bucket: same id"
        assert _record(session, lw.workspace_id, at - timedelta(minutes=20)) is None, "an earlier edge"
        assert _record(session, lw.workspace_id, at + timedelta(hours=5)) is None
        assert _record(session, lw.workspace_id, at + timedelta(hours=6)) is not None
        assert _record(session, lw.workspace_id, at, kind="volume_spike", pause=False) is not None
        session.commit()


def test_pause_passes_to_the_next_open_alert_and_a_persons_pause_is_kept(sqlite_engine: Any) -> None:
    lw = make_listening_world(sqlite_engine)
    at = lw.pw.world.now()
    with Session(sqlite_engine, expire_on_commit=False) as session:
        first = _record(session, lw.workspace_id, at)
        second = _record(session, lw.workspace_id, at + timedelta(hours=7))
        session.commit()
        assert first is not None and second is not None
        assert _pause(lw).startswith(f"crisis alert {first.id}")  # type: ignore[union-attr]
        alerts.resolve_alert(session, alert_id=first.id)
        session.commit()
        assert _pause(lw).startswith(f"crisis alert {second.id}")  # type: ignore[union-attr]
        alerts.acknowledge_alert(session, alert_id=second.id, keep_paused=True)
        session.commit()
        assert _pause(lw).startswith(f"crisis alert {second.id}")  # type: ignore[union-attr]
        alerts.acknowledge_alert(session, alert_id=second.id)
        session.commit()
        assert _pause(lw) is None

        set_publishing_pause(session, workspace_id=lw.workspace_id, reason="product launch freeze")
        third = _record(session, lw.workspace_id, at + timedelta(hours=14))
        session.commit()
        assert third is not None and third.paused_publishing
        assert _pause(lw) == "product launch freeze", "an alert never overwrites a person's pause"
        alerts.resolve_alert(session, alert_id=third.id)
        session.commit()
        assert _pause(lw) == "product launch freeze", "nor lifts it"

        with pytest.raises(Conflict):
            alerts.acknowledge_alert(session, alert_id=third.id)
        with pytest.raises(NotFound):
            alerts.get_alert(session, third.id, workspace_id="another")
        resolved = alerts.list_alerts(session, workspace_id=lw.workspace_id, status="resolved")
        assert {a.id for a in resolved} == {first.id, third.id}
        assert [a.id for a in alerts.list_alerts(session, status=["acknowledged"])] == [second.id]


async def test_draft_failures_are_retried_on_the_next_round(sqlite_engine: Any, monkeypatch: Any) -> None:
    from brandcrew.errors import NoModelAvailable
    from brandcrew.jobs import listening as job

    lw = make_listening_world(sqlite_engine, alert_config=CRISIS_ONLY)
    real = job.draft_statement

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise NoModelAvailable("every provider is down")

    monkeypatch.setattr(job, "draft_statement", broken)
    await _spike(lw)
    assert len(lw.alerts()) == 1 and _statements(lw) == []
    monkeypatch.setattr(job, "draft_statement", real)
    later = await lw.round()
    assert len(later.statements) == 1 and len(_statements(lw)) == 1


async def test_an_alert_recorded_by_a_concurrent_poller_is_not_an_error(
    sqlite_engine: Any, monkeypatch: Any
) -> None:
    from sqlalchemy.exc import IntegrityError

    from brandcrew.services.listening import polling

    def raced(*args: Any, **kwargs: Any) -> Any:
        raise IntegrityError("INSERT INTO alerts", {}, Exception("UNIQUE constraint failed: alerts.id"))

    lw = make_listening_world(sqlite_engine, alert_config=CRISIS_ONLY)
    monkeypatch.setattr(polling, "record_alert", raced)
    assert await _spike(lw) == []
    assert lw.alerts() == [] and _statements(lw) == []


@pytest.mark.postgres
async def test_on_postgres_a_spike_raises_one_alert_once_and_ack_lifts_the_pause(
    postgres_engine: Any,
) -> None:
    lw = make_listening_world(postgres_engine, alert_config=CRISIS_ONLY)
    await _spike(lw)
    again = await lw.round()
    assert lw.count(Mention) == lw.count(ListeningMatch) and again.poll.stored == 0
    (alert,) = lw.alerts()
    assert alert.kind == "crisis" and _pause(lw) is not None and len(_statements(lw)) == 1
    with Session(postgres_engine, expire_on_commit=False) as session:
        alerts.acknowledge_alert(session, alert_id=alert.id)
        session.commit()
    assert _pause(lw) is None

"""Alerts reach every configured channel of the workspace; failures are kept and retried, never lost."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from sqlmodel import Session, select

from brandcrew.notify import RetryPolicy, verify_signature
from brandcrew.services import alerts
from brandcrew.services.alerts import AlertNotifier
from brandcrew.services.errors import NotFound, ValidationFailed
from brandcrew.store.tables import AlertChannel, AlertDelivery, AuditLog
from tests.notify.conftest import Inbox
from tests.utils.domain import TEST_CIPHER
from tests.utils.listening import make_listening_world


class _Hooks(BaseHTTPRequestHandler):
    received: ClassVar[dict[str, list[tuple[dict[str, str], bytes]]]] = {}
    failures: ClassVar[dict[str, int]] = {}

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.failures.get(self.path, 0) > 0:
            self.failures[self.path] -= 1
            self.send_response(503)
            self.end_headers()
            return
        self.received.setdefault(self.path, []).append(
            ({k.lower(): v for k, v in self.headers.items()}, body)
        )
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def hooks() -> Iterator[tuple[str, type[_Hooks]]]:
    class Handler(_Hooks):
        received: ClassVar[dict[str, list[tuple[dict[str, str], bytes]]]] = {}
        failures: ClassVar[dict[str, int]] = {}

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", Handler
    finally:
        server.shutdown()
        server.server_close()


def _add(engine: Any, workspace_id: str, kind: str, settings: dict[str, Any], **kw: Any) -> str:
    with Session(engine, expire_on_commit=False) as session:
        channel = alerts.add_channel(
            session, TEST_CIPHER, workspace_id=workspace_id, name=kind, kind=kind, settings=settings, **kw
        )
        session.commit()
        return channel.id


async def test_a_crisis_reaches_webhook_slack_and_email(
    sqlite_engine: Any, hooks: Any, smtp_server: Inbox
) -> None:
    base, handler = hooks
    lw = make_listening_world(sqlite_engine, alert_config={"enabled": ["crisis"]})
    _add(sqlite_engine, lw.workspace_id, "webhook", {"url": f"{base}/hook", "secret": "whsec_1"})
    _add(sqlite_engine, lw.workspace_id, "slack", {"webhook_url": f"{base}/slack"})
    _add(
        sqlite_engine,
        lw.workspace_id,
        "email",
        {
            "host": smtp_server.host,
            "port": smtp_server.port,
            "sender": "alerts@nw.example",
            "to": ["ana@nw.example"],
        },
        min_severity="high",
    )
    _add(sqlite_engine, lw.workspace_id, "webhook", {"url": f"{base}/spikes-only"}, kinds=["volume_spike"])

    await lw.round()
    lw.pw.world.schedule_crisis(lw.pw.world.now() + timedelta(minutes=10), timedelta(hours=2), intensity=100)
    await lw.run(timedelta(minutes=40))
    (alert,) = lw.alerts()
    assert sum(len(r.deliveries.sent) for r in lw.rounds) == 3

    ((headers, body),) = handler.received["/hook"]
    payload = json.loads(body)
    assert (
        payload["id"] == alert.id
        and payload["kind"] == "crisis"
        and "Publishing is paused" in payload["text"]
    )
    assert verify_signature(
        body,
        "whsec_1",
        timestamp=headers["x-brandcrew-timestamp"],
        signature=headers["x-brandcrew-signature"],
        tolerance_s=10**9,
    )
    ((_, slack_body),) = handler.received["/slack"]
    slack = json.loads(slack_body)
    assert slack["text"].endswith("Crisis: mention spike with a sentiment drop") and slack["blocks"]
    assert "/spikes-only" not in handler.received
    (message,) = smtp_server.messages()
    assert alert.id in message.get_content()  # type: ignore[attr-defined]
    assert message["X-Brandcrew-Alert"] == alert.id


def _alert(lw: Any) -> str:
    with Session(lw.engine, expire_on_commit=False) as session:
        row = alerts.record_alert(
            session,
            workspace_id=lw.workspace_id,
            query_id=lw.query_id,
            query_name="Brand mentions",
            kind="volume_spike",
            rule_key="volume_spike",
            severity="medium",
            reason="volume spike: 40 mentions per 5 min vs 2",
            details={"topic": "data leak"},
            window_start=lw.pw.world.now(),
            window_end=lw.pw.world.now() + timedelta(minutes=5),
            cooldown=timedelta(hours=6),
            pause=False,
            now=lw.pw.world.now(),
        )
        session.commit()
        assert row is not None
        return row.id


async def test_a_failing_receiver_is_retried_with_backoff_and_the_alert_is_kept(
    sqlite_engine: Any, hooks: Any
) -> None:
    base, handler = hooks
    lw = make_listening_world(sqlite_engine)
    channel_id = _add(sqlite_engine, lw.workspace_id, "webhook", {"url": f"{base}/hook"})
    handler.failures["/hook"] = 2 * 2  # two rounds of two quick tries each
    alert_id = _alert(lw)
    notifier = AlertNotifier(
        sqlite_engine, TEST_CIPHER, retry=RetryPolicy(attempts=2, base_s=0), backoff=timedelta(minutes=1)
    )
    now = lw.pw.world.now()

    first = await notifier.deliver_due(now=now)
    assert first.retrying and not first.sent
    with Session(sqlite_engine) as session:
        (delivery,) = session.exec(select(AlertDelivery)).all()
    assert (delivery.status, delivery.attempts, delivery.channel_id) == ("pending", 1, channel_id)
    assert "HTTP 503" in (delivery.last_error or "")
    assert (await notifier.deliver_due(now=now + timedelta(seconds=30))).retrying == [], "backing off"

    second = await notifier.deliver_due(now=now + timedelta(minutes=1))
    assert second.retrying == [delivery.id]
    third = await notifier.deliver_due(now=now + timedelta(minutes=3))
    assert third.sent == [delivery.id]
    with Session(sqlite_engine) as session:
        done = session.get(AlertDelivery, delivery.id)
        outcomes = [
            a.action
            for a in session.exec(select(AuditLog).where(AuditLog.resource == "alert_delivery")).all()
        ]
    assert done is not None and (done.status, done.attempts, done.response) == ("sent", 3, "HTTP 200")
    assert outcomes == ["alert_delivery_retrying", "alert_delivery_retrying", "alert_delivery_sent"]
    assert json.loads(handler.received["/hook"][0][1])["id"] == alert_id


async def test_delivery_gives_up_after_the_last_attempt(sqlite_engine: Any, hooks: Any) -> None:
    base, handler = hooks
    lw = make_listening_world(sqlite_engine)
    _add(sqlite_engine, lw.workspace_id, "webhook", {"url": f"{base}/gone"})
    handler.failures["/gone"] = 100
    _alert(lw)
    notifier = AlertNotifier(
        sqlite_engine,
        TEST_CIPHER,
        retry=RetryPolicy(attempts=1, base_s=0),
        max_attempts=2,
        backoff=timedelta(0),
    )
    now = lw.pw.world.now()
    assert (await notifier.deliver_due(now=now)).retrying
    assert (await notifier.deliver_due(now=now)).failed
    assert not (await notifier.deliver_due(now=now + timedelta(days=1))).failed, (
        "a failed delivery stays failed"
    )
    with Session(sqlite_engine) as session:
        (delivery,) = session.exec(select(AlertDelivery)).all()
    assert delivery.status == "failed" and delivery.last_error and delivery.next_attempt_at is None
    assert len(lw.alerts()) == 1, "the alert itself is never lost"


async def test_an_undecryptable_or_removed_channel_is_recorded_as_a_failure(
    sqlite_engine: Any, hooks: Any
) -> None:
    base, _ = hooks
    lw = make_listening_world(sqlite_engine)
    broken = _add(sqlite_engine, lw.workspace_id, "webhook", {"url": f"{base}/x", "secret": "s"})
    removed = _add(sqlite_engine, lw.workspace_id, "slack", {"webhook_url": f"{base}/y"})
    with Session(sqlite_engine) as session:
        row = session.get(AlertChannel, broken)
        assert row is not None
        row.secret = "v1:unknown-key:AAAA"
        session.add(row)
        session.commit()
    _alert(lw)
    with Session(sqlite_engine) as session:
        alerts.remove_channel(session, workspace_id=lw.workspace_id, channel_id=removed)
        session.commit()
    report = await AlertNotifier(sqlite_engine, TEST_CIPHER).deliver_due(now=lw.pw.world.now())
    assert len(report.retrying) == 2 and not report.sent
    with Session(sqlite_engine) as session:
        errors = sorted(d.last_error or "" for d in session.exec(select(AlertDelivery)).all())
    assert "no longer exists" in errors[0] and "unknown encryption key" in errors[1]


def test_channel_secrets_are_encrypted_at_rest(sqlite_engine: Any) -> None:
    lw = make_listening_world(sqlite_engine)
    settings = {"account_sid": "AC1", "auth_token": "tok-secret", "sender": "+15550000", "to": ["+15551111"]}
    channel_id = _add(sqlite_engine, lw.workspace_id, "sms", settings, min_severity="high")
    with Session(sqlite_engine) as session:
        (channel,) = alerts.list_channels(session, lw.workspace_id)
        assert channel.id == channel_id and "auth_token" not in channel.config
        assert channel.secret and "tok-secret" not in channel.secret
        assert alerts.channel_settings(TEST_CIPHER, channel) == settings
        with pytest.raises(ValidationFailed, match="auth_token"):
            alerts.add_channel(
                session,
                TEST_CIPHER,
                workspace_id=lw.workspace_id,
                name="x",
                kind="sms",
                settings={**settings, "auth_token": ""},
            )
        with pytest.raises(ValidationFailed, match="min_severity"):
            alerts.add_channel(
                session,
                TEST_CIPHER,
                workspace_id=lw.workspace_id,
                name="x",
                kind="slack",
                settings={"webhook_url": "https://hooks.slack.com/x"},
                min_severity="urgent",
            )
        with pytest.raises(NotFound):
            alerts.remove_channel(session, workspace_id="other", channel_id=channel_id)
        alerts.remove_channel(session, workspace_id=lw.workspace_id, channel_id=channel_id)
        session.commit()
        assert alerts.list_channels(session, lw.workspace_id) == []
        assert len(alerts.list_channels(session, lw.workspace_id, include_inactive=True)) == 1

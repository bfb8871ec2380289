"""Alert channels of a workspace (secrets encrypted at rest) and delivering alerts to them.

Raising an alert queues one delivery row per matching channel in the same transaction, so an alert
is never lost to a failing receiver. `AlertNotifier.deliver_due` sends what is due: each row is
claimed first (so two pollers never send it twice at once), sent with the channel's quick retries,
then marked sent, or rescheduled with exponential back-off and the error kept, until the last
attempt marks it failed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine, or_, update
from sqlmodel import Session, col, select

from brandcrew.errors import BrandcrewError, ConfigError
from brandcrew.notify import SECRET_KEYS, Channel, DeliveryError, Notification, RetryPolicy, build_channel
from brandcrew.services import audit
from brandcrew.services.errors import NotFound, ValidationFailed
from brandcrew.services.workspaces import get_workspace
from brandcrew.store.crypto import FieldCipher
from brandcrew.store.engine import session_scope
from brandcrew.store.tables import Alert, AlertChannel, AlertDelivery, as_utc, utcnow

__all__ = (
    "AlertNotifier",
    "DeliveryReport",
    "add_channel",
    "channel_settings",
    "list_channels",
    "notification_for",
    "remove_channel",
)

log = logging.getLogger("brandcrew.alerts")

_TITLES = {
    "crisis": "Crisis: mention spike with a sentiment drop",
    "volume_spike": "Mention volume spike",
    "sentiment_drop": "Negative sentiment rising",
    "influencer": "Negative mention by an influential author",
    "sla_breach": "Inbox conversation past its response SLA",
    "approval_requested": "Approval needed",
    "approval_decided": "Approval decided",
}


def _context(channel: AlertChannel) -> str:
    return f"alert_channel:{channel.workspace_id}:{channel.id}"


def add_channel(
    session: Session,
    cipher: FieldCipher,
    *,
    workspace_id: str,
    name: str,
    kind: str,
    settings: Mapping[str, Any],
    min_severity: str = "low",
    kinds: Sequence[str] = (),
    user_id: str | None = None,
    query_id: str | None = None,
) -> AlertChannel:
    """Add a channel (for one query's alerts when `query_id` is given); its secret settings (signing
    key, Slack URL, SMTP password, auth token) are encrypted."""
    try:
        build_channel(kind, settings)
    except (ConfigError, ValueError) as exc:
        raise ValidationFailed(str(exc)) from exc
    if min_severity not in ("low", "medium", "high"):
        raise ValidationFailed(f"min_severity must be low, medium or high, not {min_severity!r}")
    get_workspace(session, workspace_id)
    secret_keys = SECRET_KEYS.get(kind, frozenset())
    channel = AlertChannel(
        workspace_id=workspace_id,
        name=name,
        kind=kind,
        config={k: v for k, v in settings.items() if k not in secret_keys},
        min_severity=min_severity,
        kinds=list(kinds),
        query_id=query_id,
    )
    secrets = {k: v for k, v in settings.items() if k in secret_keys and v}
    if secrets:
        channel.secret = cipher.encrypt(json.dumps(secrets), context=_context(channel))
    session.add(channel)
    session.flush()
    audit.record(
        session,
        workspace_id=workspace_id,
        user_id=user_id,
        action="create",
        resource="alert_channel",
        resource_id=channel.id,
        changes={
            "name": name,
            "kind": kind,
            "config": channel.config,
            "secrets": sorted(secrets),
            "query_id": query_id,
        },
    )
    return channel


def channel_settings(cipher: FieldCipher, channel: AlertChannel) -> dict[str, Any]:
    """A channel's plain and decrypted secret settings, merged."""
    secrets = json.loads(cipher.decrypt(channel.secret, context=_context(channel))) if channel.secret else {}
    return {**channel.config, **secrets}


def list_channels(
    session: Session, workspace_id: str, *, include_inactive: bool = False
) -> list[AlertChannel]:
    """The workspace's channels, oldest first."""
    stmt = select(AlertChannel).where(AlertChannel.workspace_id == workspace_id)
    if not include_inactive:
        stmt = stmt.where(col(AlertChannel.is_active).is_(True))
    return list(session.exec(stmt.order_by(col(AlertChannel.created_at))).all())


def remove_channel(
    session: Session, *, workspace_id: str, channel_id: str, user_id: str | None = None
) -> AlertChannel:
    """Stop delivering to a channel (kept, inactive, with its delivery history)."""
    channel = session.get(AlertChannel, channel_id)
    if channel is None or channel.workspace_id != workspace_id:
        raise NotFound(f"alert channel {channel_id} not found")
    channel.is_active = False
    session.add(channel)
    audit.record(
        session,
        workspace_id=workspace_id,
        user_id=user_id,
        action="delete",
        resource="alert_channel",
        resource_id=channel_id,
    )
    return channel


def notification_for(alert: Alert, *, brand_name: str) -> Notification:
    """How an alert reads in every channel."""
    details = alert.details or {}
    query = str(details.get("query_name") or alert.query_id or "-")
    start, end = as_utc(alert.window_start), as_utc(alert.window_end)
    lines = [alert.reason]
    if details.get("topic"):
        lines.append(f"People are talking about: {details['topic']}.")
    if alert.paused_publishing:
        lines.append(
            f"Publishing is paused for {brand_name} until someone acknowledges or resolves this alert "
            f"(brandcrew alerts ack {alert.id}). The crisis agent drafts a holding statement for approval."
        )
    facts = {"Query": query, "Severity": alert.severity, "Status": alert.status}
    people: list[dict[str, str]] = []
    if start and end:
        facts["Window"] = f"{start:%Y-%m-%d %H:%M}-{end:%H:%M} UTC"
    if details.get("topic"):
        facts["Topic"] = str(details["topic"])
    if details.get("approval_id"):  # approval notices: what, for whom, and the text itself
        facts = {"Approval": str(details["approval_id"]), "Resource": str(details.get("resource", "-"))}
        people = list(details.get("approvers") or details.get("requested_by") or [])
        if people:
            facts["For"] = ", ".join(f"{p['name']} <{p['email']}>" for p in people)
        if details.get("text"):
            lines.append(f"\n{details['text']}")
    return Notification(
        id=alert.id,
        title=f"{brand_name}: {_TITLES.get(alert.kind, alert.kind)}",
        text="\n".join(lines),
        severity=alert.severity if alert.severity in ("low", "medium", "high") else "medium",  # type: ignore[arg-type]
        kind=alert.kind,
        workspace_id=alert.workspace_id,
        created_at=as_utc(alert.created_at),
        facts=facts,
        people=tuple(str(p["email"]) for p in people if p.get("email")),
    )


@dataclass(kw_only=True)
class DeliveryReport:
    """What one delivery round did, by delivery id."""

    sent: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    """Gave up after the last attempt (the alert itself stays, with the error recorded)."""


ChannelBuilder = Callable[..., Channel]


class AlertNotifier:
    """Sends due deliveries; failures are recorded and retried with back-off."""

    def __init__(
        self,
        engine: Engine,
        cipher: FieldCipher,
        *,
        retry: RetryPolicy | None = None,
        client: httpx.AsyncClient | None = None,
        max_attempts: int = 8,
        backoff: timedelta = timedelta(minutes=1),
        max_backoff: timedelta = timedelta(hours=1),
        lease: timedelta = timedelta(minutes=2),
        build: ChannelBuilder = build_channel,
    ) -> None:
        self.engine = engine
        self.cipher = cipher
        self.retry = retry or RetryPolicy()
        self.client = client
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.lease = lease
        self.build = build

    def due(self, *, now: datetime, workspace_id: str | None = None, limit: int = 100) -> list[AlertDelivery]:
        """Pending deliveries whose time has come, oldest first."""
        with Session(self.engine) as session:
            stmt = select(AlertDelivery).where(
                AlertDelivery.status == "pending",
                or_(col(AlertDelivery.next_attempt_at).is_(None), col(AlertDelivery.next_attempt_at) <= now),
            )
            if workspace_id is not None:
                stmt = stmt.where(AlertDelivery.workspace_id == workspace_id)
            return list(session.exec(stmt.order_by(col(AlertDelivery.created_at)).limit(limit)).all())

    async def deliver_due(
        self, *, now: datetime | None = None, workspace_id: str | None = None, limit: int = 100
    ) -> DeliveryReport:
        """Send every due delivery once (each with the channel's quick retries)."""
        now = now or utcnow()
        report = DeliveryReport()
        for delivery in self.due(now=now, workspace_id=workspace_id, limit=limit):
            if not self._claim(delivery, now):
                continue
            outcome = await self._send(delivery.id, now)
            getattr(report, outcome).append(delivery.id)
        return report

    def _claim(self, delivery: AlertDelivery, now: datetime) -> bool:
        with session_scope(self.engine) as session:
            result = session.execute(
                update(AlertDelivery)
                .where(
                    col(AlertDelivery.id) == delivery.id,
                    col(AlertDelivery.status) == "pending",
                    col(AlertDelivery.attempts) == delivery.attempts,
                )
                .values(attempts=delivery.attempts + 1, next_attempt_at=now + self.lease)
            )
            return bool(getattr(result, "rowcount", 0))

    async def _send(self, delivery_id: str, now: datetime) -> str:
        with Session(self.engine) as session:
            delivery = session.get(AlertDelivery, delivery_id)
            assert delivery is not None
            alert = session.get(Alert, delivery.alert_id)
            channel = session.get(AlertChannel, delivery.channel_id)
            brand = get_workspace(session, delivery.workspace_id).name
        error: str | None = None
        receipt = ""
        if alert is None or channel is None or not channel.is_active:
            error = "channel or alert no longer exists"
        else:
            try:
                sender = self.build(
                    channel.kind, channel_settings(self.cipher, channel), client=self.client, retry=self.retry
                )
                receipt = await sender.send(notification_for(alert, brand_name=brand))
            except DeliveryError as exc:
                error = str(exc)
            except (BrandcrewError, ValueError) as exc:  # bad stored settings, undecryptable secret
                error = f"{channel.kind}: {type(exc).__name__}: {exc}"
        return self._finish(delivery_id, now=now, error=error, receipt=receipt)

    def _finish(self, delivery_id: str, *, now: datetime, error: str | None, receipt: str) -> str:
        with session_scope(self.engine) as session:
            delivery = session.get(AlertDelivery, delivery_id)
            assert delivery is not None
            if error is None:
                delivery.status, delivery.sent_at, delivery.response = "sent", now, receipt[:500]
                delivery.next_attempt_at = None
                outcome = "sent"
            elif delivery.attempts >= self.max_attempts:
                delivery.status, delivery.last_error, delivery.next_attempt_at = "failed", error, None
                outcome = "failed"
            else:
                wait = min(self.backoff * 2 ** max(0, delivery.attempts - 1), self.max_backoff)
                delivery.last_error, delivery.next_attempt_at = error, now + wait
                outcome = "retrying"
            session.add(delivery)
            if error is not None:
                log.warning(
                    "alert delivery %s (attempt %d) failed: %s", delivery_id, delivery.attempts, error
                )
            audit.record(
                session,
                workspace_id=delivery.workspace_id,
                actor="system",
                action=f"alert_delivery_{outcome}",
                resource="alert_delivery",
                resource_id=delivery.id,
                changes={"alert_id": delivery.alert_id, "attempt": delivery.attempts, "error": error},
            )
            return outcome

"""Alert rules: which detector rules watch a listening query, with what thresholds, and who hears them.

A rule is stored where the poller reads it: the query's `alert_config` (the crisis detector's
`enabled` kinds and thresholds, plus the rule's own name and summary under `rule`), and one alert
channel per notification target, limited to that query's alerts of the rule's kinds. A query has
one rule; setting it again replaces it (the old channels are deactivated, their history kept).

Condition types map onto the detector: `volume_spike` (threshold: multiple of the usual volume,
`min_ratio`), `sentiment_drop` (threshold: rise of the negative share, 0..1), `influencer_mention`
(threshold: followers) and brandcrew's `crisis` (a spike with a sentiment drop; it pauses the
brand's publishing). `keyword_match` is refused: the detector has no such rule, and a query with
those keywords already collects every mention that names them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from brandcrew.services import audit
from brandcrew.services.alerts.delivery import add_channel, remove_channel
from brandcrew.services.alerts.lifecycle import NOTICE_KINDS
from brandcrew.services.errors import ValidationFailed
from brandcrew.services.listening.queries import get_query
from brandcrew.store.crypto import FieldCipher
from brandcrew.store.tables import AlertChannel, ListeningQuery, utcnow

__all__ = (
    "ALERT_KINDS",
    "AlertCondition",
    "AlertRule",
    "EmailServer",
    "Notifications",
    "SmsGateway",
    "add_workspace_channels",
    "alert_rules",
    "rule_of",
    "set_alert_rule",
)

ConditionType = Literal["volume_spike", "sentiment_drop", "keyword_match", "influencer_mention", "crisis"]
_KIND = {
    "volume_spike": "volume_spike",
    "sentiment_drop": "sentiment_drop",
    "influencer_mention": "influencer",
    "crisis": "crisis",
}


class AlertCondition(BaseModel):
    """One condition of a rule."""

    type: ConditionType
    threshold: float | None = None
    keywords: list[str] = Field(default_factory=list)


class EmailServer(BaseModel):
    """The SMTP server that sends a rule's emails."""

    host: str
    port: int = 587
    sender: str
    username: str | None = None
    password: str | None = None
    starttls: bool = True
    use_tls: bool = False


class SmsGateway(BaseModel):
    """The Twilio-style HTTP API that sends a rule's text messages."""

    account_sid: str
    auth_token: str
    sender: str
    base_url: str | None = None


class Notifications(BaseModel):
    """Who hears a rule's alerts."""

    email: list[str] = Field(default_factory=list)
    sms: list[str] = Field(default_factory=list)
    slack: str | None = None
    webhook: str | None = None
    webhook_secret: str | None = None
    email_server: EmailServer | None = None
    email_people: bool = False
    """Also email the people a notice is for (a step's approvers, the requester of a decision)."""
    sms_gateway: SmsGateway | None = None


class AlertRule(BaseModel):
    """A query's alert rule as stored (secrets left out)."""

    id: str
    query_id: str
    name: str
    conditions: list[AlertCondition]
    notifications: dict[str, Any]
    is_active: bool
    channel_ids: list[str]
    created_at: datetime
    updated_at: datetime


def _detector_settings(conditions: list[AlertCondition]) -> dict[str, Any]:
    """The crisis detector's `enabled` kinds and thresholds for the conditions."""
    if not conditions:
        raise ValidationFailed("a rule needs at least one condition", details={"field": "conditions"})
    values: dict[str, Any] = {}
    enabled: list[str] = []
    for i, cond in enumerate(conditions):
        field = f"conditions.{i}.threshold"
        if cond.type == "keyword_match":
            raise ValidationFailed(
                "keyword_match conditions are not supported: add the keywords to a listening query "
                "and alert on its volume_spike",
                details={"field": f"conditions.{i}.type"},
            )
        if cond.keywords:
            raise ValidationFailed(
                "keywords belong to keyword_match conditions only",
                details={"field": f"conditions.{i}.keywords"},
            )
        if cond.threshold is not None:
            if cond.type == "volume_spike":
                if not 1.0 < cond.threshold <= 1000:
                    raise ValidationFailed(
                        "a volume_spike threshold is a multiple of the usual volume, > 1",
                        details={"field": field},
                    )
                values["min_ratio"] = cond.threshold
            elif cond.type == "sentiment_drop":
                if not 0.0 < cond.threshold < 1.0:
                    raise ValidationFailed(
                        "a sentiment_drop threshold is a rise of the negative share, 0..1",
                        details={"field": field},
                    )
                values["negative_share_rise"] = cond.threshold
            elif cond.type == "influencer_mention":
                if not 1 <= cond.threshold <= 1e10 or cond.threshold != int(cond.threshold):
                    raise ValidationFailed(
                        "an influencer_mention threshold is a follower count", details={"field": field}
                    )
                values["influencer_followers"] = int(cond.threshold)
            else:
                raise ValidationFailed("crisis conditions take no threshold", details={"field": field})
        enabled.append(_KIND[cond.type])
    values["enabled"] = sorted(set(enabled))
    return values


def _channels(notifications: Notifications, name: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(name, kind, settings) of each channel the notifications need."""
    out: list[tuple[str, str, dict[str, Any]]] = []
    if notifications.webhook:
        settings: dict[str, Any] = {"url": notifications.webhook}
        if notifications.webhook_secret:
            settings["secret"] = notifications.webhook_secret
        out.append((f"{name}: webhook", "webhook", settings))
    if notifications.slack:
        out.append((f"{name}: Slack", "slack", {"webhook_url": notifications.slack}))
    if notifications.email:
        if notifications.email_server is None:
            raise ValidationFailed(
                "email notifications need emailServer (host, port, sender)",
                details={"field": "notifications.emailServer"},
            )
        out.append(
            (
                f"{name}: email",
                "email",
                {
                    **notifications.email_server.model_dump(),
                    "to": notifications.email,
                    "to_people": notifications.email_people,
                },
            )
        )
    if notifications.sms:
        if notifications.sms_gateway is None:
            raise ValidationFailed(
                "sms notifications need smsGateway (accountSid, authToken, sender)",
                details={"field": "notifications.smsGateway"},
            )
        gateway = notifications.sms_gateway.model_dump(exclude_none=True)
        out.append((f"{name}: SMS", "sms", {**gateway, "to": notifications.sms}))
    return out


ALERT_KINDS = ("crisis", "volume_spike", "sentiment_drop", "influencer", "sla_breach", *NOTICE_KINDS)
"""What a workspace channel may subscribe to: listening alerts, inbox SLA breaches, approval notices."""


def add_workspace_channels(
    session: Session,
    cipher: FieldCipher,
    *,
    workspace_id: str,
    name: str,
    kinds: list[str],
    notifications: Notifications,
    user_id: str | None = None,
) -> list[AlertChannel]:
    """Channels for every query's alerts and notices of `kinds` (e.g. the approval notices, which a
    channel hears only when it names them), one per notification target."""
    name = " ".join(name.split())
    if not name:
        raise ValidationFailed("channels need a name", details={"field": "name"})
    unknown = sorted(set(kinds) - set(ALERT_KINDS))
    if not kinds or unknown:
        raise ValidationFailed(
            f"kinds are one or more of {', '.join(ALERT_KINDS)}",
            details={"field": "kinds", "unknown": unknown},
        )
    targets = _channels(notifications, name)
    if not targets:
        raise ValidationFailed(
            "name at least one target: webhook, slack, email or sms", details={"field": "notifications"}
        )
    return _add_channels(
        session, cipher, targets, workspace_id=workspace_id, kinds=list(dict.fromkeys(kinds)), user_id=user_id
    )


def _add_channels(
    session: Session,
    cipher: FieldCipher,
    targets: list[tuple[str, str, dict[str, Any]]],
    *,
    workspace_id: str,
    kinds: list[str],
    user_id: str | None,
    query_id: str | None = None,
) -> list[AlertChannel]:
    return [
        add_channel(
            session,
            cipher,
            workspace_id=workspace_id,
            name=channel_name[:255],
            kind=kind,
            settings=settings,
            kinds=kinds,
            user_id=user_id,
            query_id=query_id,
        )
        for channel_name, kind, settings in targets
    ]


def rule_of(query: ListeningQuery) -> AlertRule | None:
    """The query's alert rule, if it has one."""
    rule = (query.alert_config or {}).get("rule")
    if not rule:
        return None
    return AlertRule.model_validate({**rule, "id": query.id, "query_id": query.id})


def alert_rules(session: Session, *, workspace_id: str) -> list[AlertRule]:
    """The alert rules of a workspace's queries, oldest query first."""
    rows = session.exec(
        select(ListeningQuery)
        .where(ListeningQuery.workspace_id == workspace_id)
        .order_by(col(ListeningQuery.created_at), col(ListeningQuery.id))
    ).all()
    return [rule for rule in (rule_of(q) for q in rows) if rule is not None]


def set_alert_rule(
    session: Session,
    cipher: FieldCipher,
    *,
    workspace_id: str,
    query_id: str,
    name: str,
    conditions: list[AlertCondition],
    notifications: Notifications,
    is_active: bool = True,
    user_id: str | None = None,
) -> AlertRule:
    """Create or replace a query's alert rule and its notification channels."""
    query = get_query(session, workspace_id=workspace_id, query_id=query_id)
    name = " ".join(name.split())
    if not name:
        raise ValidationFailed("a rule needs a name", details={"field": "name"})
    detector = _detector_settings(conditions)
    previous = rule_of(query)
    for channel_id in previous.channel_ids if previous else []:
        remove_channel(session, workspace_id=workspace_id, channel_id=channel_id, user_id=user_id)
    channels = _add_channels(
        session,
        cipher,
        _channels(notifications, name),
        workspace_id=workspace_id,
        kinds=detector["enabled"],
        user_id=user_id,
        query_id=query.id,
    )
    for channel in channels:
        channel.is_active = is_active
        session.add(channel)
    channel_ids = [c.id for c in channels]
    now = utcnow()
    rule = {
        "name": name,
        "conditions": [c.model_dump() for c in conditions],
        "notifications": {
            "email": notifications.email,
            "email_people": notifications.email_people,
            "sms": notifications.sms,
            "slack": "configured" if notifications.slack else None,
            "webhook": notifications.webhook,
        },
        "is_active": is_active,
        "channel_ids": channel_ids,
        "created_at": (previous.created_at if previous else now).isoformat(),
        "updated_at": now.isoformat(),
    }
    config = {
        k: v
        for k, v in (query.alert_config or {}).items()
        if k not in ("rule", "enabled", "min_ratio", "negative_share_rise", "influencer_followers")
    }
    # An inactive rule keeps its settings but enables no detector rule: nothing is raised.
    config.update({**detector, "enabled": detector["enabled"] if is_active else [], "rule": rule})
    query.alert_config = config
    session.add(query)
    session.flush()
    audit.record(
        session,
        workspace_id=workspace_id,
        user_id=user_id,
        action="update" if previous else "create",
        resource="alert_rule",
        resource_id=query.id,
        changes={
            "name": name,
            "enabled": detector["enabled"],
            "is_active": is_active,
            "channels": channel_ids,
        },
    )
    result = rule_of(query)
    assert result is not None
    return result

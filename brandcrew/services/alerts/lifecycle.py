"""Alerts from raise to resolve: persisted once, pause the brand's publishing, wait for a person.

A detector alert's id is derived from (workspace, query, rule, bucket), and a rule that fired for a
query stays quiet for its cooldown however often the detector is rebuilt, so the alerts table is the
source of truth: a restarted process raises nothing twice. An alert whose kind is in the query's
`pause_on` pauses the brand's publishing (the workspace-level pause the publisher and the autopilot
respect) until a person acknowledges or resolves it; the crisis agent's holding statement waits as a
pending approval and is never published without one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from brandcrew.services import approvals, audit
from brandcrew.services.errors import Conflict, NotFound
from brandcrew.services.workspaces import get_workspace, set_publishing_pause
from brandcrew.store.tables import Alert, AlertChannel, AlertDelivery, Approval, as_utc, utcnow

__all__ = (
    "NOTICE_KINDS",
    "PAUSE_PREFIX",
    "SEVERITIES",
    "STATUSES",
    "acknowledge_alert",
    "alert_id_for",
    "get_alert",
    "list_alerts",
    "pause_reason",
    "propose_statement",
    "record_alert",
    "record_notice",
    "resolve_alert",
    "statement_for",
)

PAUSE_PREFIX = "crisis alert "
"""Start of a publishing pause reason set by an alert: `crisis alert <id>: ...`."""
STATUSES = ("open", "acknowledged", "resolved")
NOTICE_KINDS = ("approval_requested", "approval_decided")
"""Notices, not alerts: they ride the alert delivery queue to the channels that name them in their
`kinds` (a channel with no kinds hears alerts only), and alert lists leave them out."""
SEVERITIES = {"low": 0, "medium": 1, "high": 2}


def alert_id_for(*, workspace_id: str, query_id: str | None, rule_key: str, at: datetime) -> str:
    """The id of the alert a rule raises for a query at a bucket (the same on every rebuild)."""
    raw = f"{workspace_id}|{query_id or '-'}|{rule_key}|{as_utc(at).isoformat()}"  # type: ignore[union-attr]
    return "al_" + hashlib.sha256(raw.encode()).hexdigest()[:29]


def pause_reason(alert: Alert, query_name: str | None = None) -> str:
    """The workspace pause reason naming `alert` (at most 500 characters, the column's width)."""
    at = as_utc(alert.window_start) or as_utc(alert.created_at)
    where = f" on '{query_name}'" if query_name else ""
    text = (
        f"{PAUSE_PREFIX}{alert.id}: {alert.kind.replace('_', ' ')}{where} at {at:%Y-%m-%d %H:%M} UTC; "
        f"acknowledge or resolve it to resume (brandcrew alerts ack {alert.id})"
    )
    return text[:500]


def record_alert(
    session: Session,
    *,
    workspace_id: str,
    query_id: str | None,
    query_name: str | None,
    kind: str,
    rule_key: str,
    severity: str,
    reason: str,
    details: dict[str, Any],
    window_start: datetime,
    window_end: datetime,
    cooldown: timedelta,
    pause: bool,
    now: datetime | None = None,
) -> Alert | None:
    """Persist an alert unless it (or the same rule within its cooldown) already was; None then.

    Pausing keeps an existing pause (a person's, or an earlier alert's) as it is; the alert still
    counts as pausing, so clearing the earlier one leaves publishing paused for this one.
    """
    alert_id = alert_id_for(workspace_id=workspace_id, query_id=query_id, rule_key=rule_key, at=window_start)
    if session.get(Alert, alert_id) is not None:
        return None
    recent = session.exec(
        select(Alert.id).where(
            Alert.workspace_id == workspace_id,
            Alert.query_id == query_id,
            Alert.rule_key == rule_key,
            col(Alert.window_start) > window_start - cooldown,
            col(Alert.window_start) < window_start + cooldown,
        )
    ).first()
    if recent is not None:
        return None
    alert = Alert(
        id=alert_id,
        workspace_id=workspace_id,
        query_id=query_id,
        kind=kind,
        rule_key=rule_key,
        severity=severity,
        reason=reason,
        details={**details, **({"query_name": query_name} if query_name else {})},
        window_start=window_start,
        window_end=window_end,
        paused_publishing=pause,
        created_at=now or utcnow(),
    )
    session.add(alert)
    session.flush()
    audit.record(
        session,
        workspace_id=workspace_id,
        actor="system",
        action="raise_alert",
        resource="alert",
        resource_id=alert.id,
        changes={"kind": kind, "severity": severity, "reason": reason, "paused_publishing": pause},
    )
    if pause and not get_workspace(session, workspace_id).publishing_paused_reason:
        set_publishing_pause(
            session, workspace_id=workspace_id, reason=pause_reason(alert, query_name), actor="system"
        )
    _queue_deliveries(session, alert, now=now or utcnow())
    return alert


def record_notice(
    session: Session,
    *,
    workspace_id: str,
    kind: str,
    key: str,
    reason: str,
    details: dict[str, Any],
    now: datetime | None = None,
) -> Alert:
    """Queue a notice (one of NOTICE_KINDS) for the channels that subscribe to its kind: no
    cooldown, no pause, no lifecycle; `key` makes it once per occasion."""
    at = now or utcnow()
    rule_key = f"{kind}:{key}"
    alert_id = alert_id_for(workspace_id=workspace_id, query_id=None, rule_key=rule_key, at=at)
    existing = session.get(Alert, alert_id)
    if existing is not None:
        return existing
    notice = Alert(
        id=alert_id,
        workspace_id=workspace_id,
        kind=kind,
        rule_key=rule_key,
        severity="low",
        reason=reason,
        details=details,
        window_start=at,
        window_end=at,
        created_at=at,
    )
    session.add(notice)
    session.flush()
    _queue_deliveries(session, notice, now=at)
    return notice


def _queue_deliveries(session: Session, alert: Alert, *, now: datetime) -> None:
    channels = session.exec(
        select(AlertChannel).where(
            AlertChannel.workspace_id == alert.workspace_id, col(AlertChannel.is_active).is_(True)
        )
    ).all()
    for channel in channels:
        if SEVERITIES.get(alert.severity, 1) < SEVERITIES.get(channel.min_severity, 0):
            continue
        if (channel.kinds or alert.kind in NOTICE_KINDS) and alert.kind not in channel.kinds:
            continue
        if channel.query_id is not None and channel.query_id != alert.query_id:
            continue  # an alert rule's channel hears only its own query
        session.add(
            AlertDelivery(
                workspace_id=alert.workspace_id,
                alert_id=alert.id,
                channel_id=channel.id,
                next_attempt_at=now,
            )
        )
    session.flush()


def get_alert(session: Session, alert_id: str, *, workspace_id: str | None = None) -> Alert:
    """One alert (of the workspace, when given), or NotFound."""
    alert = session.get(Alert, alert_id)
    if alert is None or (workspace_id is not None and alert.workspace_id != workspace_id):
        raise NotFound(f"alert {alert_id} not found")
    return alert


def list_alerts(
    session: Session,
    *,
    workspace_id: str | None = None,
    status: str | Sequence[str] | None = None,
    limit: int = 50,
    kinds: Sequence[str] | None = None,
) -> list[Alert]:
    """Alerts, newest first, optionally of one workspace, with given statuses and of given kinds
    (by default every kind but the approval notices)."""
    stmt = select(Alert)
    if kinds:
        stmt = stmt.where(col(Alert.kind).in_(list(kinds)))
    else:
        stmt = stmt.where(col(Alert.kind).not_in(NOTICE_KINDS))
    if workspace_id is not None:
        stmt = stmt.where(Alert.workspace_id == workspace_id)
    if status:
        statuses = [status] if isinstance(status, str) else list(status)
        stmt = stmt.where(col(Alert.status).in_(statuses))
    stmt = stmt.order_by(col(Alert.created_at).desc(), col(Alert.window_start).desc()).limit(limit)
    return list(session.exec(stmt).all())


def acknowledge_alert(
    session: Session,
    *,
    alert_id: str,
    workspace_id: str | None = None,
    user_id: str | None = None,
    keep_paused: bool = False,
    now: datetime | None = None,
) -> Alert:
    """A person has seen the alert; publishing resumes unless `keep_paused` (or another alert holds it)."""
    alert = get_alert(session, alert_id, workspace_id=workspace_id)
    if alert.status == "resolved":
        raise Conflict(f"alert {alert_id} is already resolved")
    if alert.status == "open":
        alert.status = "acknowledged"
        alert.acknowledged_by = user_id or "user"
        alert.acknowledged_at = now or utcnow()
        session.add(alert)
        audit.record(
            session,
            workspace_id=alert.workspace_id,
            user_id=user_id,
            action="acknowledge_alert",
            resource="alert",
            resource_id=alert.id,
        )
    if not keep_paused:
        _release_pause(session, alert, user_id=user_id)
    session.flush()
    return alert


def resolve_alert(
    session: Session,
    *,
    alert_id: str,
    workspace_id: str | None = None,
    user_id: str | None = None,
    note: str | None = None,
    now: datetime | None = None,
) -> Alert:
    """The situation is over: the alert is closed and the pause it set is lifted."""
    alert = get_alert(session, alert_id, workspace_id=workspace_id)
    if alert.status != "resolved":
        when = now or utcnow()
        if alert.status == "open":
            alert.acknowledged_by, alert.acknowledged_at = user_id or "user", when
        alert.status = "resolved"
        alert.resolved_by = user_id or "user"
        alert.resolved_at = when
        if note:
            alert.details = {**alert.details, "resolution": note}
        session.add(alert)
        audit.record(
            session,
            workspace_id=alert.workspace_id,
            user_id=user_id,
            action="resolve_alert",
            resource="alert",
            resource_id=alert.id,
            changes={"note": note} if note else None,
        )
    _release_pause(session, alert, user_id=user_id)
    session.flush()
    return alert


def _release_pause(session: Session, alert: Alert, *, user_id: str | None) -> None:
    """Lift the workspace pause when this alert set it; hand it to another open pausing alert if any."""
    workspace = get_workspace(session, alert.workspace_id)
    reason = workspace.publishing_paused_reason or ""
    if not reason.startswith(f"{PAUSE_PREFIX}{alert.id}"):
        return  # paused by a person or by another alert: not ours to lift
    session.flush()
    other = session.exec(
        select(Alert)
        .where(
            Alert.workspace_id == alert.workspace_id,
            Alert.status == "open",
            col(Alert.paused_publishing).is_(True),
            Alert.id != alert.id,
        )
        .order_by(col(Alert.created_at))
    ).first()
    if other is not None:
        set_publishing_pause(
            session,
            workspace_id=alert.workspace_id,
            reason=pause_reason(other, str(other.details.get("query_name") or "") or None),
            user_id=user_id,
            actor="system",
        )
        return
    set_publishing_pause(session, workspace_id=alert.workspace_id, reason=None, user_id=user_id)


def propose_statement(
    session: Session,
    *,
    workspace_id: str,
    statement: str,
    alert_id: str | None = None,
    requested_by: str | None = "crisis_management",
    actor: str = "agent",
    thread_id: str | None = None,
    model: str | None = None,
) -> Approval:
    """Save a holding statement as a pending approval: it is never published until a person approves."""
    approval = approvals.open_approval(
        session,
        Approval(
            workspace_id=workspace_id,
            resource="statement",
            resource_id=alert_id or "none",
            requested_by=requested_by,
            comments=[
                {"author": requested_by or "agent", "text": statement, **({"model": model} if model else {})}
            ],
            thread_id=thread_id,
        ),
    )
    audit.record(
        session,
        workspace_id=workspace_id,
        actor=actor,
        action="propose_statement",
        resource="approval",
        resource_id=approval.id,
        changes={"statement": statement, "alert_id": alert_id},
    )
    return approval


def statement_for(session: Session, alert_id: str) -> Approval | None:
    """The holding statement drafted for an alert, if any."""
    return session.exec(
        select(Approval)
        .where(Approval.resource == "statement", Approval.resource_id == alert_id)
        .order_by(col(Approval.created_at))
    ).first()

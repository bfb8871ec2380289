"""Routing, SLAs, auto-replies and platform webhooks of the unified inbox.

Every new inbound message, whether pulled by a sync or pushed by a webhook, goes through
`route_message` while it is stored (`inbox.store_messages` calls it):

1. its intent is classified by a small **keyword-based** classifier (`classify_intent`; deterministic,
   no model): question, complaint, praise, order_issue, refund, spam or other;
2. the workspace's active rules are tried in `position` order. A rule matches when every condition it
   gives holds (intents, sentiments, keywords — any one of them in the text —, platforms, types, VIP
   author). A matching rule's actions apply (assign, add tags, set priority, set an SLA). A rule with
   `stop` (the default) ends the routing: **first match wins**; a rule without `stop` applies and lets
   later rules match too, so a workspace can mix first-match and all-match routing;
3. the conversation's SLA deadline is set from its priority (workspace defaults: urgent 1 h, high 4 h,
   medium 24 h, low 72 h) or the matching rule's `sla_minutes`, counted from the message; a deadline
   already running is only ever brought forward. A reply that reaches the platform clears it.

`check_sla_breaches` marks open conversations past their deadline and raises one `sla_breach` alert
per conversation through the alerts machinery (whose channels deliver it). `auto_reply` answers new
messages whose intent the workspace allows with that intent's saved reply, through `inbox.send_reply`
(so a reply workflow holds it for approval); other intents are never answered automatically.

Webhooks (Meta: Instagram, Facebook, Threads) are checked against the workspace's app secret
(`X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`) before anything is read, and the
subscription handshake against its verify token; both are stored encrypted in the workspace settings.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from brandcrew.connectors.base import RemoteMessage
from brandcrew.services import audit
from brandcrew.services._scoped import get_owned
from brandcrew.services.accounts import AccountsService
from brandcrew.services.errors import Forbidden, NotFound, ServiceError, ValidationFailed
from brandcrew.store.crypto import FieldCipher
from brandcrew.store.engine import session_scope
from brandcrew.store.tables import (
    Conversation,
    InboxRule,
    Mention,
    SavedReply,
    SocialAccount,
    User,
    Workspace,
    as_utc,
    utcnow,
)

log = logging.getLogger("brandcrew.inbox")

Intent = Literal["question", "complaint", "praise", "order_issue", "refund", "spam", "other"]
INTENTS: tuple[Intent, ...] = ("question", "complaint", "praise", "order_issue", "refund", "spam", "other")
Priority = Literal["low", "medium", "high", "urgent"]
PRIORITY_RANK = {"low": 0, "medium": 1, "high": 2, "urgent": 3}
DEFAULT_SLA_MINUTES: dict[str, int] = {"urgent": 60, "high": 240, "medium": 1440, "low": 4320}
META_PLATFORMS = ("instagram", "facebook", "threads")

# -- intent ----------------------------------------------------------------------------------------

# Tried in this order; the first intent with a matching pattern wins (spam before everything, since
# spam often imitates questions; money matters before generic complaints).
_INTENT_PATTERNS: tuple[tuple[Intent, re.Pattern[str]], ...] = (
    (
        "spam",
        re.compile(
            r"\b(follow\s+(me|back)|check\s+(out\s+)?my\s+(profile|page|bio)|dm\s+me\s+for|"
            r"free\s+followers|crypto|giveaway\s+winner|click\s+(the\s+)?link|promo\s+code\s+in\s+bio|"
            r"earn\s+\$?\d+|make\s+money)\b",
            re.I,
        ),
    ),
    ("refund", re.compile(r"\b(refund(ed|s)?|money\s+back|reimburs\w*|chargeback|return\s+it)\b", re.I)),
    (
        "order_issue",
        re.compile(
            r"\b(order|orders|package|parcel|delivery|shipping|shipment|tracking|arrived|never\s+came|"
            r"didn'?t\s+arrive|hasn'?t\s+arrived|wrong\s+item|missing\s+item)\b",
            re.I,
        ),
    ),
    (
        "complaint",
        re.compile(
            r"\b(terrible|awful|worst|disappoint\w*|unacceptable|broken|rude|disgusting|complain\w*|"
            r"angry|furious|horrible|bad\s+service|not\s+happy|never\s+again|scam|burnt|cold\s+coffee)\b",
            re.I,
        ),
    ),
    (
        "question",
        re.compile(
            r"\?|\b(how|what|when|where|which|why|who|do\s+you|does|can\s+i|could\s+you|is\s+there|"
            r"are\s+you|any\s+chance)\b",
            re.I,
        ),
    ),
    (
        "praise",
        re.compile(
            r"\b(love|loved|amazing|awesome|great|best|thank\s*you|thanks|delicious|fantastic|perfect|"
            r"wonderful|excellent|favou?rite)\b",
            re.I,
        ),
    ),
)


def classify_intent(text: str) -> Intent:
    """The intent of a message by keyword patterns (deterministic; no model): the first that matches."""
    for intent, pattern in _INTENT_PATTERNS:
        if pattern.search(text or ""):
            return intent
    return "other"


# -- settings ----------------------------------------------------------------------------------------


class InboxSettings(BaseModel):
    """A workspace's inbox settings (kept in `workspaces.settings["inbox"]`)."""

    sla_minutes: dict[Priority, int] = Field(default_factory=lambda: dict(DEFAULT_SLA_MINUTES))  # type: ignore[arg-type]
    """Time to first answer by priority."""
    vip_authors: list[str] = Field(default_factory=list)
    """Author ids or usernames (without @) treated as VIPs by rules with `vip: true`."""
    vip_min_followers: int | None = None
    """Authors with at least this many followers are VIPs too (the message's count, else the most
    the author was seen with in the workspace's listening mentions)."""
    auto_replies: dict[Intent, str] = Field(default_factory=dict)
    """Intent -> saved reply id: only these intents are answered automatically."""
    webhook_configured: bool = False
    """The Meta app secret and verify token are set (they are never shown)."""


def _settings_of(workspace: Workspace) -> dict[str, Any]:
    return dict((workspace.settings or {}).get("inbox") or {})


def _workspace(session: Session, workspace_id: str) -> Workspace:
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        raise NotFound(f"workspace {workspace_id} not found")
    return workspace


def inbox_settings(session: Session, workspace_id: str) -> InboxSettings:
    """The workspace's inbox settings, defaults filled in (all defaults for an unknown workspace)."""
    workspace = session.get(Workspace, workspace_id)
    raw = _settings_of(workspace) if workspace is not None else {}
    sla = {**DEFAULT_SLA_MINUTES, **(raw.get("sla_minutes") or {})}
    return InboxSettings(
        sla_minutes=sla,
        vip_authors=list(raw.get("vip_authors") or []),
        vip_min_followers=raw.get("vip_min_followers") or None,
        auto_replies=dict(raw.get("auto_replies") or {}),
        webhook_configured=bool(raw.get("webhook_secret")),
    )


def update_inbox_settings(
    session: Session,
    *,
    workspace_id: str,
    sla_minutes: dict[str, int] | None = None,
    vip_authors: Sequence[str] | None = None,
    vip_min_followers: int | None = None,
    auto_replies: dict[str, str] | None = None,
    user_id: str | None = None,
) -> InboxSettings:
    """Change the SLA defaults, the VIPs (a list, a follower count) or the auto-replied intents (each
    saved reply checked)."""
    workspace = _workspace(session, workspace_id)
    raw = _settings_of(workspace)
    changes: dict[str, Any] = {}
    if sla_minutes is not None:
        bad = [k for k, v in sla_minutes.items() if k not in PRIORITY_RANK or not 1 <= v <= 43_200]
        if bad:
            raise ValidationFailed(
                "slaMinutes maps low|medium|high|urgent to 1..43200 minutes", details={"field": "slaMinutes"}
            )
        raw["sla_minutes"] = {**(raw.get("sla_minutes") or {}), **sla_minutes}
        changes["sla_minutes"] = raw["sla_minutes"]
    if vip_authors is not None:
        raw["vip_authors"] = sorted({a.strip().lstrip("@").lower() for a in vip_authors if a.strip()})
        changes["vip_authors"] = raw["vip_authors"]
    if vip_min_followers is not None:
        raw["vip_min_followers"] = changes["vip_min_followers"] = vip_min_followers or None
    if auto_replies is not None:
        for intent, reply_id in auto_replies.items():
            if intent not in INTENTS:
                raise ValidationFailed(f"unknown intent {intent!r}", details={"field": "autoReplies"})
            reply = session.get(SavedReply, reply_id)
            if reply is None or reply.workspace_id != workspace_id:
                raise ValidationFailed(
                    f"saved reply {reply_id} not found in this workspace", details={"field": "autoReplies"}
                )
        raw["auto_replies"] = dict(auto_replies)
        changes["auto_replies"] = raw["auto_replies"]
    _save_settings(session, workspace, raw)
    if changes:
        audit.record(
            session,
            workspace_id=workspace_id,
            user_id=user_id,
            action="update",
            resource="inbox_settings",
            resource_id=workspace_id,
            changes=changes,
        )
    session.flush()
    return inbox_settings(session, workspace_id)


def _save_settings(session: Session, workspace: Workspace, raw: dict[str, Any]) -> None:
    # A new dict, so SQLAlchemy sees the JSON column change.
    workspace.settings = {**(workspace.settings or {}), "inbox": raw}
    workspace.updated_at = utcnow()
    session.add(workspace)


def _secret_context(workspace_id: str) -> str:
    return f"inbox_webhook:{workspace_id}"


def set_webhook_secrets(
    session: Session,
    cipher: FieldCipher,
    *,
    workspace_id: str,
    app_secret: str,
    verify_token: str,
    user_id: str | None = None,
) -> None:
    """Store the workspace's Meta app secret and webhook verify token, encrypted."""
    workspace = _workspace(session, workspace_id)
    raw = _settings_of(workspace)
    raw["webhook_secret"] = cipher.encrypt(
        json.dumps({"app_secret": app_secret, "verify_token": verify_token}),
        context=_secret_context(workspace_id),
    )
    _save_settings(session, workspace, raw)
    audit.record(
        session,
        workspace_id=workspace_id,
        user_id=user_id,
        action="update",
        resource="inbox_webhook",
        resource_id=workspace_id,
        changes={"secrets": ["app_secret", "verify_token"]},
    )
    session.flush()


def _webhook_secrets(session: Session, cipher: FieldCipher, workspace_id: str) -> dict[str, str] | None:
    workspace = session.get(Workspace, workspace_id)
    token = _settings_of(workspace).get("webhook_secret") if workspace is not None else None
    if not token:
        return None
    try:
        return dict(json.loads(cipher.decrypt(token, context=_secret_context(workspace_id))))
    except (ValueError, KeyError):
        log.warning("inbox webhook secret of workspace %s cannot be decrypted", workspace_id)
        return None


# -- rules -------------------------------------------------------------------------------------------


class RuleConditions(BaseModel):
    """What a new message must be for the rule to match (every condition given must hold)."""

    intents: list[Intent] = Field(default_factory=list, max_length=7)
    sentiments: list[Literal["positive", "neutral", "negative"]] = Field(default_factory=list, max_length=3)
    keywords: list[str] = Field(default_factory=list, max_length=50)
    """Any one of them in the text (case-insensitive)."""
    platforms: list[str] = Field(default_factory=list, max_length=12)
    types: list[Literal["dm", "comment", "mention", "review"]] = Field(default_factory=list, max_length=4)
    vip: bool | None = None
    """True: only VIP authors; False: only others; None: anyone."""


class RuleActions(BaseModel):
    """What a matching rule does to the conversation."""

    assign_to: str | None = None
    add_tags: list[str] = Field(default_factory=list, max_length=20)
    priority: Priority | None = None
    sla_minutes: int | None = Field(default=None, ge=1, le=43_200)


def _check_rule(
    session: Session, workspace_id: str, conditions: RuleConditions, actions: RuleActions
) -> None:
    if actions.assign_to is not None:
        member = session.get(User, actions.assign_to)
        if member is None or member.workspace_id != workspace_id or not member.is_active:
            raise ValidationFailed(
                f"{actions.assign_to} is not an active member of this workspace",
                details={"field": "actions.assignTo"},
            )
    if not (actions.assign_to or actions.add_tags or actions.priority or actions.sla_minutes):
        raise ValidationFailed("a rule needs at least one action", details={"field": "actions"})


def list_rules(session: Session, *, workspace_id: str) -> list[InboxRule]:
    """The workspace's routing rules in the order they are tried."""
    return list(
        session.exec(
            select(InboxRule)
            .where(InboxRule.workspace_id == workspace_id)
            .order_by(col(InboxRule.position), col(InboxRule.created_at), col(InboxRule.id))
        ).all()
    )


def get_rule(session: Session, *, workspace_id: str, rule_id: str) -> InboxRule:
    """One rule of the workspace, or NotFound."""
    return get_owned(session, InboxRule, rule_id, workspace_id=workspace_id, label="inbox rule")


def create_rule(
    session: Session,
    *,
    workspace_id: str,
    name: str,
    conditions: RuleConditions,
    actions: RuleActions,
    position: int | None = None,
    stop: bool = True,
    is_active: bool = True,
    user_id: str | None = None,
) -> InboxRule:
    """Add a routing rule (last, unless a position is given)."""
    _check_rule(session, workspace_id, conditions, actions)
    if position is None:
        rules = list_rules(session, workspace_id=workspace_id)
        position = (max(r.position for r in rules) + 1) if rules else 0
    rule = InboxRule(
        workspace_id=workspace_id,
        name=name,
        position=position,
        stop=stop,
        is_active=is_active,
        conditions=conditions.model_dump(mode="json", exclude_defaults=True),
        actions=actions.model_dump(mode="json", exclude_defaults=True),
        created_by=user_id,
    )
    session.add(rule)
    session.flush()
    audit.record(
        session,
        workspace_id=workspace_id,
        user_id=user_id,
        action="create",
        resource="inbox_rule",
        resource_id=rule.id,
        changes={"name": name, "conditions": rule.conditions, "actions": rule.actions},
    )
    return rule


def update_rule(
    session: Session,
    *,
    workspace_id: str,
    rule_id: str,
    name: str | None = None,
    conditions: RuleConditions | None = None,
    actions: RuleActions | None = None,
    position: int | None = None,
    stop: bool | None = None,
    is_active: bool | None = None,
    user_id: str | None = None,
) -> InboxRule:
    """Change a rule; what is not given stays."""
    rule = get_rule(session, workspace_id=workspace_id, rule_id=rule_id)
    new_conditions = conditions or RuleConditions.model_validate(rule.conditions)
    new_actions = actions or RuleActions.model_validate(rule.actions)
    _check_rule(session, workspace_id, new_conditions, new_actions)
    before = {"name": rule.name, "conditions": rule.conditions, "actions": rule.actions}
    rule.name = name if name is not None else rule.name
    rule.conditions = new_conditions.model_dump(mode="json", exclude_defaults=True)
    rule.actions = new_actions.model_dump(mode="json", exclude_defaults=True)
    rule.position = position if position is not None else rule.position
    rule.stop = stop if stop is not None else rule.stop
    rule.is_active = is_active if is_active is not None else rule.is_active
    rule.updated_at = utcnow()
    session.add(rule)
    session.flush()
    audit.record(
        session,
        workspace_id=workspace_id,
        user_id=user_id,
        action="update",
        resource="inbox_rule",
        resource_id=rule.id,
        changes={"before": before, "after": {"name": rule.name, "conditions": rule.conditions}},
    )
    return rule


def delete_rule(session: Session, *, workspace_id: str, rule_id: str, user_id: str | None = None) -> None:
    """Remove a rule."""
    rule = get_rule(session, workspace_id=workspace_id, rule_id=rule_id)
    session.delete(rule)
    audit.record(
        session,
        workspace_id=workspace_id,
        user_id=user_id,
        action="delete",
        resource="inbox_rule",
        resource_id=rule_id,
        changes={"name": rule.name},
    )
    session.flush()


# -- routing -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Routed:
    """A new inbound message after routing: its conversation, intent and the rules that matched."""

    workspace_id: str
    conversation_id: str
    intent: str
    rules: tuple[str, ...]


def _matches(
    conditions: RuleConditions, *, conversation: Conversation, text: str, intent: str, vip: bool
) -> bool:
    lowered = text.lower()
    return (
        (not conditions.intents or intent in conditions.intents)
        and (not conditions.sentiments or conversation.sentiment in conditions.sentiments)
        and (not conditions.keywords or any(k.lower() in lowered for k in conditions.keywords))
        and (not conditions.platforms or conversation.platform in conditions.platforms)
        and (not conditions.types or conversation.type in conditions.types)
        and (conditions.vip is None or conditions.vip == vip)
    )


def _followers_reach(
    session: Session, conversation: Conversation, remote: RemoteMessage, threshold: int | None
) -> bool:
    """True when the author has at least `threshold` followers, by the message or by listening."""
    if not threshold:
        return False
    followers = remote.author_followers
    if followers is None:
        handle = (remote.author_name or "").lstrip("@")
        seen = session.exec(
            select(func.max(Mention.author_followers)).where(
                Mention.workspace_id == conversation.workspace_id,
                Mention.platform == conversation.platform,
                (col(Mention.author_id) == remote.author_id)
                | (func.lower(Mention.author_username) == handle.lower()),
            )
        ).one()
        followers = int(seen or 0)
    return followers >= threshold


def route_message(
    session: Session,
    *,
    conversation: Conversation,
    remote: RemoteMessage,
    settings: InboxSettings | None = None,
) -> Routed:
    """Classify a new inbound message and apply the workspace's rules and SLA to its conversation."""
    settings = settings or inbox_settings(session, conversation.workspace_id)
    intent = classify_intent(remote.text)
    vip = bool(
        {remote.author_id.lower(), (remote.author_name or "").lstrip("@").lower()} & set(settings.vip_authors)
    ) or _followers_reach(session, conversation, remote, settings.vip_min_followers)
    conversation.intent = intent
    sla_override: int | None = None
    matched: list[str] = []
    for rule in list_rules(session, workspace_id=conversation.workspace_id):
        if not rule.is_active:
            continue
        try:
            conditions = RuleConditions.model_validate(rule.conditions)
            actions = RuleActions.model_validate(rule.actions)
        except ValidationError:
            log.warning("inbox rule %s is malformed; skipped", rule.id)
            continue
        if not _matches(conditions, conversation=conversation, text=remote.text, intent=intent, vip=vip):
            continue
        matched.append(rule.id)
        if actions.assign_to is not None:
            member = session.get(User, actions.assign_to)
            # A member removed since the rule was written is skipped, not assigned.
            if member is not None and member.workspace_id == conversation.workspace_id and member.is_active:
                conversation.assigned_to = actions.assign_to
        if actions.add_tags:
            conversation.tags = sorted({*(conversation.tags or []), *actions.add_tags})
        if actions.priority is not None:
            conversation.priority = actions.priority
        if actions.sla_minutes is not None:
            sla_override = actions.sla_minutes
        if rule.stop:
            break
    minutes = sla_override or settings.sla_minutes.get(conversation.priority, DEFAULT_SLA_MINUTES["medium"])  # type: ignore[call-overload]
    received = as_utc(remote.created_at) or utcnow()
    due = received + timedelta(minutes=minutes)
    current = as_utc(conversation.sla_deadline)
    if current is None or due < current:
        conversation.sla_deadline = due
    session.add(conversation)
    if matched:
        audit.record(
            session,
            workspace_id=conversation.workspace_id,
            actor="system",
            action="route",
            resource="conversation",
            resource_id=conversation.id,
            changes={"intent": intent, "rules": matched, "priority": conversation.priority},
        )
    return Routed(
        workspace_id=conversation.workspace_id,
        conversation_id=conversation.id,
        intent=intent,
        rules=tuple(matched),
    )


# -- SLA -----------------------------------------------------------------------------------------------


def check_sla_breaches(engine: Engine, now: datetime, *, workspace_id: str | None = None) -> list[str]:
    """Mark open or pending conversations past their SLA deadline as breached and raise one `sla_breach`
    alert for each (never twice); returns the ids of the conversations newly breached."""
    from brandcrew.services.alerts import record_alert

    now = as_utc(now) or utcnow()
    breached: list[str] = []
    with session_scope(engine) as session:
        stmt = select(Conversation).where(
            col(Conversation.status).in_(("open", "pending")),
            col(Conversation.sla_deadline).is_not(None),
            col(Conversation.sla_deadline) <= now,
            col(Conversation.sla_breached_at).is_(None),
        )
        if workspace_id is not None:
            stmt = stmt.where(Conversation.workspace_id == workspace_id)
        for conversation in session.exec(stmt).all():
            deadline = as_utc(conversation.sla_deadline)
            assert deadline is not None
            conversation.sla_breached_at = now
            session.add(conversation)
            late = int((now - deadline).total_seconds() // 60)
            record_alert(
                session,
                workspace_id=conversation.workspace_id,
                query_id=None,
                query_name=None,
                kind="sla_breach",
                rule_key=f"sla_breach:{conversation.id}",
                severity="high" if conversation.priority in ("high", "urgent") else "medium",
                reason=(
                    f"{conversation.priority} {conversation.type} from {conversation.participant_name} on "
                    f"{conversation.platform} is unanswered {late} min past its SLA"
                ),
                details={
                    "conversation_id": conversation.id,
                    "priority": conversation.priority,
                    "assigned_to": conversation.assigned_to,
                    "sla_deadline": deadline.isoformat(),
                },
                window_start=deadline,
                window_end=now,
                cooldown=timedelta(0),
                pause=False,
                now=now,
            )
            breached.append(conversation.id)
    return breached


def clear_sla(conversation: Conversation) -> None:
    """An answered conversation has no running SLA (the next inbound message starts a new one)."""
    conversation.sla_deadline = None
    conversation.sla_breached_at = None


# -- auto-replies -------------------------------------------------------------------------------------


class AutoReply(BaseModel):
    """An automatic answer: sent, or waiting for approval under the reply workflow."""

    conversation_id: str
    intent: str
    message_id: str
    approval_id: str | None = None


async def auto_reply(engine: Engine, accounts: AccountsService, routed: Sequence[Routed]) -> list[AutoReply]:
    """Answer routed messages whose intent the workspace auto-replies to, with that intent's saved reply
    (once per conversation: the latest message decides); nothing is sent for other intents."""
    from brandcrew.services.inbox import send_reply

    latest: dict[str, Routed] = {}
    for item in routed:
        latest[item.conversation_id] = item
    out: list[AutoReply] = []
    settings_by_ws: dict[str, InboxSettings] = {}
    for item in latest.values():
        if item.workspace_id not in settings_by_ws:
            with Session(engine) as session:
                settings_by_ws[item.workspace_id] = inbox_settings(session, item.workspace_id)
        template = settings_by_ws[item.workspace_id].auto_replies.get(item.intent)  # type: ignore[call-overload]
        if template is None:
            continue
        try:
            outcome = await send_reply(
                engine,
                accounts,
                workspace_id=item.workspace_id,
                conversation_id=item.conversation_id,
                template_id=template,
            )
        except ServiceError as exc:
            # One conversation's failed answer never stops the others (the inbox still shows it).
            log.warning("auto-reply to %s failed: %s", item.conversation_id, exc)
            continue
        out.append(
            AutoReply(
                conversation_id=item.conversation_id,
                intent=item.intent,
                message_id=outcome.message.id,
                approval_id=outcome.approval_id,
            )
        )
    return out


# -- webhooks -----------------------------------------------------------------------------------------


class WebhookRejected(ServiceError):
    """A webhook call that does not prove it comes from the platform (bad or missing signature)."""

    code = "UNAUTHORIZED"
    status_code = 401


def verify_subscription(
    session: Session,
    cipher: FieldCipher,
    *,
    workspace_id: str,
    mode: str | None,
    verify_token: str | None,
    challenge: str | None,
) -> str:
    """Meta's subscription handshake: the challenge back when the mode and verify token are right."""
    secrets = _webhook_secrets(session, cipher, workspace_id)
    if (
        secrets is None
        or mode != "subscribe"
        or challenge is None
        or not hmac.compare_digest((verify_token or "").encode(), secrets["verify_token"].encode())
    ):
        raise Forbidden("the verify token does not match")
    return challenge


def signature_of(body: bytes, app_secret: str) -> str:
    """The `X-Hub-Signature-256` value Meta sends for `body`."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def _time(value: Any) -> datetime:
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            seconds = value / 1000 if value > 100_000_000_000 else value  # messaging sends milliseconds
            return datetime.fromtimestamp(seconds, UTC)
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("+0000", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        pass
    return utcnow()


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any, limit: int = 200) -> str:
    """A scalar of the payload as text, cut to what the columns hold (anything else is empty)."""
    return str(value)[:limit] if isinstance(value, str | int) and not isinstance(value, bool) else ""


def parse_meta_events(payload: dict[str, Any]) -> list[tuple[str, RemoteMessage]]:
    """(recipient account id, message) for each DM or comment in a Meta webhook payload; other events
    (echoes of the page's own messages, reactions, reads, edits) are skipped."""
    out: list[tuple[str, RemoteMessage]] = []
    for entry in map(_obj, _list(payload.get("entry"))):
        owner = _text(entry.get("id"))
        for event in map(_obj, _list(entry.get("messaging"))):
            message = _obj(event.get("message"))
            sender = _text(_obj(event.get("sender")).get("id"))
            mid = _text(message.get("mid"))
            if message.get("is_echo") or not mid or not sender:
                continue
            out.append(
                (
                    owner or _text(_obj(event.get("recipient")).get("id")),
                    RemoteMessage(
                        remote_id=mid,
                        thread_id=f"dm:{sender}",
                        kind="dm",
                        author_id=sender,
                        text=_text(message.get("text"), 10_000),
                        created_at=_time(event.get("timestamp")),
                    ),
                )
            )
        for change in map(_obj, _list(entry.get("changes"))):
            value = _obj(change.get("value"))
            field = change.get("field")
            if field == "feed" and (value.get("item") != "comment" or value.get("verb") != "add"):
                continue
            if field not in ("comments", "feed", "replies", "mentions"):
                continue
            remote_id = _text(value.get("comment_id")) or _text(value.get("id"))
            author = _obj(value.get("from"))
            author_id = _text(author.get("id")) or _text(value.get("username"))
            if not remote_id or not author_id:
                continue
            out.append(
                (
                    owner,
                    RemoteMessage(
                        remote_id=remote_id,
                        thread_id=f"comment:{remote_id}",
                        kind="mention" if field == "mentions" else "comment",
                        author_id=author_id,
                        author_name=_text(author.get("username"))
                        or _text(author.get("name"))
                        or _text(value.get("username")),
                        text=_text(value.get("text"), 10_000) or _text(value.get("message"), 10_000),
                        created_at=_time(
                            value.get("created_time") or value.get("timestamp") or entry.get("time")
                        ),
                        in_reply_to=_text(_obj(value.get("media")).get("id"))
                        or _text(value.get("post_id"))
                        or None,
                    ),
                )
            )
    return out


class WebhookReport(BaseModel):
    """What one webhook call did."""

    received: int = 0
    stored: int = 0
    ignored: int = 0
    """Events for no connected account of the workspace on that platform."""
    auto_replies: int = 0


async def receive_webhook(
    engine: Engine,
    accounts: AccountsService,
    *,
    workspace_id: str,
    platform: str,
    body: bytes,
    signature: str | None,
) -> WebhookReport:
    """Check a Meta webhook's signature, then store its DMs and comments like a sync does (routing
    applies; a message already stored is skipped, so a replayed call stores nothing twice)."""
    from brandcrew.services.inbox import _lexicon_scorer, store_messages

    if platform not in META_PLATFORMS:
        raise NotFound(f"no webhook for {platform}")
    with Session(engine) as session:
        secrets = _webhook_secrets(session, accounts.cipher, workspace_id)
    if (
        secrets is None
        or not signature
        or not hmac.compare_digest(
            signature.strip().encode(), signature_of(body, secrets["app_secret"]).encode()
        )
    ):
        raise WebhookRejected("the X-Hub-Signature-256 signature does not match")
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise ValidationFailed("the webhook body is not JSON") from exc
    events = parse_meta_events(payload if isinstance(payload, dict) else {})
    report = WebhookReport(received=len(events))
    matched = 0
    routed: list[Routed] = []
    with session_scope(engine) as session:
        connected = session.exec(
            select(SocialAccount).where(
                SocialAccount.workspace_id == workspace_id,
                SocialAccount.platform == platform,
                col(SocialAccount.is_active).is_(True),
            )
        ).all()
        for account in connected:
            ids = {
                account.platform_account_id,
                *(str(v) for v in (account.extra or {}).values() if isinstance(v, str | int)),
            }
            mine = [m for owner, m in events if owner in ids]
            report.stored += store_messages(
                session, account=account, messages=mine, scorer=_lexicon_scorer(), routed=routed
            )
            matched += len(mine)
    report.ignored = report.received - matched
    report.auto_replies = len(await auto_reply(engine, accounts, routed))
    return report

"""The unified inbox: conversations and messages pulled from the connectors, read, assigned, answered.

Replies are sent through the account's connector with an idempotency key (the outbound message's
id), outside any database transaction: the message row is written first (`outbound_sending`), the
platform is called, then the row becomes `outbound` with the platform's id (or `outbound_failed`).
When the workspace has an active approval workflow for replies, a person's reply is stored as a
draft (`outbound_draft`) with a pending approval instead, and sent when it is approved.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Engine, and_, or_, update
from sqlmodel import Session, col, func, select

from brandcrew.connectors.base import RemoteMessage
from brandcrew.connectors.errors import ConnectorError, RateLimited, Rejected
from brandcrew.services import approvals, audit, inbox_rules, workflows
from brandcrew.services._scoped import get_owned
from brandcrew.services.accounts import AccountsService
from brandcrew.services.errors import (
    Conflict,
    NotFound,
    PlatformFailed,
    PlatformRateLimited,
    ValidationFailed,
)
from brandcrew.services.listening.polling import workspace_now
from brandcrew.services.mentions import Scorer
from brandcrew.services.saved_replies import render_for
from brandcrew.store.engine import session_scope
from brandcrew.store.tables import (
    Approval,
    Conversation,
    Message,
    SocialAccount,
    User,
    as_utc,
    new_id,
    utcnow,
)


def store_messages(
    session: Session,
    *,
    account: SocialAccount,
    messages: Sequence[RemoteMessage],
    scorer: Scorer | None = None,
    routed: list[inbox_rules.Routed] | None = None,
) -> int:
    """File new messages into their conversations (one per remote thread); returns how many were new.

    With a `scorer`, each new message gets its sentiment score and its conversation the label of its
    latest message (a negative one raises the conversation's priority to high). Every new message is
    then routed (`inbox_rules.route_message`: intent, rules, SLA); the results go to `routed`.
    """
    new = 0
    settings = inbox_rules.inbox_settings(session, account.workspace_id) if messages else None
    for remote in sorted(messages, key=lambda m: m.created_at):
        conversation = session.exec(
            select(Conversation).where(
                Conversation.account_id == account.id, Conversation.external_thread_id == remote.thread_id
            )
        ).first()
        if conversation is None:
            conversation = Conversation(
                workspace_id=account.workspace_id,
                platform=account.platform,
                account_id=account.id,
                external_thread_id=remote.thread_id,
                type=remote.kind,
                participant_id=remote.author_id,
                participant_name=remote.author_name or remote.author_id,
            )
            session.add(conversation)
            session.flush()
        seen = session.exec(
            select(Message.id).where(
                Message.conversation_id == conversation.id, Message.platform_message_id == remote.remote_id
            )
        ).first()
        if seen is not None:
            continue
        score, label = scorer([remote.text])[0] if scorer is not None else (None, None)
        session.add(
            Message(
                workspace_id=account.workspace_id,
                conversation_id=conversation.id,
                direction="inbound",
                content=remote.text,
                platform_message_id=remote.remote_id,
                sentiment=score,
                created_at=remote.created_at,
            )
        )
        if label is not None:
            conversation.sentiment = label
            if label == "negative" and conversation.priority in ("low", "medium"):
                conversation.priority = "high"
        conversation.last_message_at = remote.created_at
        conversation.status = "open" if conversation.status == "resolved" else conversation.status
        conversation.updated_at = utcnow()
        session.add(conversation)
        result = inbox_rules.route_message(
            session, conversation=conversation, remote=remote, settings=settings
        )
        if routed is not None:
            routed.append(result)
        new += 1
    session.flush()
    return new


class ThreadView(BaseModel):
    """A conversation with its recent messages, as an agent reads it."""

    conversation_id: str
    platform: str
    type: str
    participant: str
    status: str
    priority: str
    last_message_at: datetime | None
    messages: list[dict[str, str]]


def list_threads(
    session: Session,
    *,
    workspace_id: str,
    status: str | None = "open",
    limit: int = 20,
    last_messages: int = 5,
) -> list[ThreadView]:
    """Conversations, most recent first, each with its last few messages."""
    stmt = select(Conversation).where(Conversation.workspace_id == workspace_id)
    if status:
        stmt = stmt.where(Conversation.status == status)
    out = []
    for c in session.exec(stmt.order_by(col(Conversation.last_message_at).desc()).limit(limit)).all():
        msgs = session.exec(
            select(Message).where(Message.conversation_id == c.id).order_by(col(Message.created_at).desc())
        ).all()[:last_messages]
        out.append(
            ThreadView(
                conversation_id=c.id,
                platform=c.platform,
                type=c.type,
                participant=c.participant_name,
                status=c.status,
                priority=c.priority,
                last_message_at=c.last_message_at,
                messages=[{"direction": m.direction, "text": m.content} for m in reversed(msgs)],
            )
        )
    return out


def save_reply_draft(
    session: Session, *, workspace_id: str, conversation_id: str, text: str, actor: str = "agent"
) -> Message:
    """Store a drafted outbound reply (not sent) with a pending approval: a person approves it, which
    sends it (`jobs.approvals.decide`), or rejects it."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None or conversation.workspace_id != workspace_id:
        raise NotFound(f"conversation {conversation_id} not found")
    draft = Message(
        workspace_id=workspace_id,
        conversation_id=conversation_id,
        direction="outbound_draft",
        content=text,
        platform_message_id=f"draft:{utcnow().timestamp()}",
        ai_generated=actor == "agent",
    )
    session.add(draft)
    session.flush()
    approval = approvals.open_approval(
        session,
        Approval(workspace_id=workspace_id, resource="reply", resource_id=draft.id, requested_by=actor),
    )
    audit.record(
        session,
        workspace_id=workspace_id,
        actor=actor,
        action="draft_reply",
        resource="conversation",
        resource_id=conversation_id,
        changes={"text": text, "approval_id": approval.id},
    )
    return draft


# -- reading, assigning, status ----------------------------------------------------------------------

STATUSES = ("open", "pending", "resolved", "archived")
PRIORITIES = ("low", "medium", "high", "urgent")


def _unread() -> Any:
    """Conversations with an inbound message newer than the last time a person read or answered."""
    return and_(
        col(Conversation.last_message_at).is_not(None),
        or_(
            col(Conversation.last_read_at).is_(None),
            col(Conversation.last_message_at) > col(Conversation.last_read_at),
        ),
    )


class ConversationPage(BaseModel):
    """A page of conversations, how many match, and how many of the workspace's are unread."""

    conversations: list[Conversation]
    total: int
    unread_count: int


def list_conversations(
    session: Session,
    *,
    workspace_id: str,
    status: str | None = None,
    priority: str | None = None,
    sentiment: str | None = None,
    assigned_to: str | None = None,
    platform: str | None = None,
    unread_only: bool = False,
    sla_breached: bool | None = None,
    offset: int = 0,
    limit: int = 50,
) -> ConversationPage:
    """Conversations, most recent message first, filtered and paged."""
    base = [Conversation.workspace_id == workspace_id]
    where: list[Any] = list(base)
    for column, value in (
        (Conversation.status, status),
        (Conversation.priority, priority),
        (Conversation.sentiment, sentiment),
        (Conversation.assigned_to, assigned_to),
        (Conversation.platform, platform),
    ):
        if value is not None:
            where.append(column == value)
    if unread_only:
        where.append(_unread())
    if sla_breached is not None:
        breached = col(Conversation.sla_breached_at)
        where.append(breached.is_not(None) if sla_breached else breached.is_(None))
    total = int(session.exec(select(func.count()).select_from(Conversation).where(*where)).one())
    unread = int(session.exec(select(func.count()).select_from(Conversation).where(*base, _unread())).one())
    rows = session.exec(
        select(Conversation)
        .where(*where)
        .order_by(col(Conversation.last_message_at).desc(), col(Conversation.id))
        .offset(offset)
        .limit(limit)
    ).all()
    return ConversationPage(conversations=list(rows), total=total, unread_count=unread)


def get_conversation(session: Session, *, workspace_id: str, conversation_id: str) -> Conversation:
    """One conversation of the workspace, or NotFound."""
    return get_owned(session, Conversation, conversation_id, workspace_id=workspace_id, label="conversation")


class Participant(BaseModel):
    """The outside person of a conversation."""

    id: str
    name: str
    avatar: str | None
    platform: str
    followers: int | None = None
    previous_interactions: int
    """Messages they sent the brand in other conversations of the workspace."""


class ConversationView(BaseModel):
    """A conversation with its messages (oldest first) and who it is with."""

    conversation: Conversation
    messages: list[Message]
    participant: Participant


def open_conversation(session: Session, *, workspace_id: str, conversation_id: str) -> ConversationView:
    """A conversation in full; opening it marks its messages read."""
    # The write comes first, so on SQLite the transaction never has to upgrade a read to a write.
    session.execute(
        update(Conversation)
        .where(col(Conversation.id) == conversation_id, col(Conversation.workspace_id) == workspace_id)
        .values(last_read_at=Conversation.last_message_at)
    )
    conversation = get_conversation(session, workspace_id=workspace_id, conversation_id=conversation_id)
    session.refresh(conversation)
    messages = session.exec(
        select(Message)
        .where(Message.conversation_id == conversation.id)
        .order_by(col(Message.created_at), col(Message.id))
    ).all()
    others = select(Conversation.id).where(
        Conversation.workspace_id == workspace_id,
        Conversation.platform == conversation.platform,
        Conversation.participant_id == conversation.participant_id,
        Conversation.id != conversation.id,
    )
    previous = session.exec(
        select(func.count())
        .select_from(Message)
        .where(col(Message.conversation_id).in_(others), Message.direction == "inbound")
    ).one()
    return ConversationView(
        conversation=conversation,
        messages=list(messages),
        participant=Participant(
            id=conversation.participant_id,
            name=conversation.participant_name,
            avatar=conversation.participant_avatar,
            platform=conversation.platform,
            previous_interactions=int(previous),
        ),
    )


def assign_conversation(
    session: Session,
    *,
    workspace_id: str,
    conversation_id: str,
    assigned_to: str | None,
    note: str | None = None,
    user_id: str | None = None,
) -> Conversation:
    """Give a conversation to a teammate of the same workspace (None takes it back)."""
    conversation = get_conversation(session, workspace_id=workspace_id, conversation_id=conversation_id)
    if assigned_to is not None:
        member = session.get(User, assigned_to)
        if member is None or member.workspace_id != workspace_id or not member.is_active:
            raise ValidationFailed(
                f"{assigned_to} is not an active member of this workspace", details={"field": "assignedTo"}
            )
    before = conversation.assigned_to
    conversation.assigned_to = assigned_to
    conversation.updated_at = utcnow()
    session.add(conversation)
    audit.record(
        session,
        workspace_id=workspace_id,
        user_id=user_id,
        action="assign",
        resource="conversation",
        resource_id=conversation.id,
        changes={"from": before, "to": assigned_to, "note": note},
    )
    session.flush()
    return conversation


def set_conversation_status(
    session: Session,
    *,
    workspace_id: str,
    conversation_id: str,
    status: str | None = None,
    priority: str | None = None,
    user_id: str | None = None,
) -> Conversation:
    """Change a conversation's status (open, pending, resolved, archived) and/or priority."""
    if status is None and priority is None:
        raise ValidationFailed("give a status or a priority", details={"field": "status"})
    if status is not None and status not in STATUSES:
        raise ValidationFailed(f"status is one of {', '.join(STATUSES)}", details={"field": "status"})
    if priority is not None and priority not in PRIORITIES:
        raise ValidationFailed(f"priority is one of {', '.join(PRIORITIES)}", details={"field": "priority"})
    conversation = get_conversation(session, workspace_id=workspace_id, conversation_id=conversation_id)
    changes = {}
    if status is not None and status != conversation.status:
        changes["status"] = [conversation.status, status]
        conversation.status = status
    if priority is not None and priority != conversation.priority:
        changes["priority"] = [conversation.priority, priority]
        conversation.priority = priority
    conversation.updated_at = utcnow()
    session.add(conversation)
    if changes:
        audit.record(
            session,
            workspace_id=workspace_id,
            user_id=user_id,
            action="update",
            resource="conversation",
            resource_id=conversation.id,
            changes=changes,
        )
    session.flush()
    return conversation


# -- replies -----------------------------------------------------------------------------------------


class ReplyOutcome(BaseModel):
    """A reply sent (or held for approval), and its conversation afterwards."""

    message: Message
    conversation: Conversation
    approval_id: str | None = None
    """Set when the reply waits for approval instead of being sent."""


def _reply_target(session: Session, conversation: Conversation) -> str:
    """What the platform reply answers: the latest inbound message (the thread itself when none)."""
    latest = session.exec(
        select(Message.platform_message_id)
        .where(Message.conversation_id == conversation.id, Message.direction == "inbound")
        .order_by(col(Message.created_at).desc())
    ).first()
    return latest or conversation.external_thread_id


def _check_reply(conversation: Conversation, text: str, is_private: bool) -> str:
    text = text.strip()
    if not text:
        raise ValidationFailed("a reply needs text", details={"field": "content"})
    if is_private and conversation.type != "dm":
        raise ValidationFailed(
            f"private replies to a {conversation.type} are not supported on {conversation.platform}; "
            "reply publicly or start a DM",
            details={"field": "isPrivate"},
        )
    if conversation.status == "archived":
        raise Conflict(f"conversation {conversation.id} is archived; reopen it to reply")
    return text


async def send_reply(
    engine: Engine,
    accounts: AccountsService,
    *,
    workspace_id: str,
    conversation_id: str,
    text: str | None = None,
    template_id: str | None = None,
    variables: dict[str, str] | None = None,
    is_private: bool = False,
    user_id: str | None = None,
) -> ReplyOutcome:
    """Answer a conversation as its account: sent now, or held as a draft when replies need approval.

    The text is `text`, or the saved reply `template_id` filled in for the conversation.
    """
    with session_scope(engine) as session:
        conversation = get_conversation(session, workspace_id=workspace_id, conversation_id=conversation_id)
        if template_id is not None:
            text = render_for(
                session,
                workspace_id=workspace_id,
                reply_id=template_id,
                conversation=conversation,
                values=variables,
            )
        text = _check_reply(conversation, text or "", is_private)
        workflow = workflows.active_workflow(session, workspace_id, "reply")
        if workflow is not None:
            draft = Message(
                workspace_id=workspace_id,
                conversation_id=conversation.id,
                direction="outbound_draft",
                content=text,
                author_id=user_id,
                platform_message_id=f"draft:{new_id()}",
            )
            session.add(draft)
            session.flush()
            approval = approvals.open_approval(
                session,
                Approval(
                    workspace_id=workspace_id,
                    workflow_id=workflow.id,
                    resource="reply",
                    resource_id=draft.id,
                    requested_by=user_id,
                ),
            )
            audit.record(
                session,
                workspace_id=workspace_id,
                user_id=user_id,
                action="request_approval",
                resource="approval",
                resource_id=approval.id,
                changes={"reply": text, "conversation_id": conversation.id, "workflow_id": workflow.id},
            )
            return ReplyOutcome(message=draft, conversation=conversation, approval_id=approval.id)
        message = Message(
            workspace_id=workspace_id,
            conversation_id=conversation.id,
            direction="outbound_sending",
            content=text,
            author_id=user_id,
            platform_message_id=f"sending:{new_id()}",
        )
        session.add(message)
        session.flush()
        message_id = message.id
    return await deliver_reply(
        engine, accounts, workspace_id=workspace_id, message_id=message_id, user_id=user_id
    )


async def deliver_reply(
    engine: Engine,
    accounts: AccountsService,
    *,
    workspace_id: str,
    message_id: str,
    text: str | None = None,
    user_id: str | None = None,
) -> ReplyOutcome:
    """Send a stored outbound message (a new reply, or an approved draft with its final `text`)."""
    with session_scope(engine) as session:
        message = session.get(Message, message_id)
        if message is None or message.workspace_id != workspace_id:
            raise NotFound(f"message {message_id} not found")
        if message.direction == "outbound":
            conversation = get_conversation(
                session, workspace_id=workspace_id, conversation_id=message.conversation_id
            )
            return ReplyOutcome(message=message, conversation=conversation)  # sent already
        conversation = get_conversation(
            session, workspace_id=workspace_id, conversation_id=message.conversation_id
        )
        if text is not None:
            message.content = text.strip() or message.content
        message.direction = "outbound_sending"
        session.add(message)
        account = session.get(SocialAccount, conversation.account_id)
        if account is None or not account.is_active:
            message.direction = "outbound_failed"
        target = _reply_target(session, conversation)
        content = message.content
    if account is None or not account.is_active:
        raise Conflict(f"the {conversation.platform} account of this conversation is not connected")
    connector = accounts.connector(account)
    try:
        # The key is the message's id: retrying this message never posts a second reply.
        result = await accounts.with_auth(
            account, lambda auth: connector.reply(auth, target, content, f"reply:{message_id}")
        )
    except (ConnectorError, NotImplementedError) as exc:
        with session_scope(engine) as session:
            failed = session.get(Message, message_id)
            assert failed is not None
            failed.direction = "outbound_failed"
            session.add(failed)
        if isinstance(exc, RateLimited):
            reset = exc.reset_at.isoformat() if exc.reset_at else None
            raise PlatformRateLimited(
                f"{conversation.platform} rate-limited the reply: {exc}", details={"resetAt": reset}
            ) from exc
        if isinstance(exc, Rejected):
            raise ValidationFailed(
                f"{conversation.platform} refused the reply: {exc}", details={"field": "content"}
            ) from exc
        raise PlatformFailed(f"{conversation.platform} did not take the reply: {exc}") from exc
    with session_scope(engine) as session:
        sent = session.get(Message, message_id)
        assert sent is not None
        conversation = get_conversation(
            session, workspace_id=workspace_id, conversation_id=sent.conversation_id
        )
        sent.direction = "outbound"
        sent.platform_message_id = result.remote_id
        sent.created_at = result.published_at
        session.add(sent)
        last = as_utc(conversation.last_message_at)
        conversation.last_message_at = max(last, result.published_at) if last else result.published_at
        conversation.last_read_at = conversation.last_message_at
        inbox_rules.clear_sla(conversation)
        conversation.updated_at = utcnow()
        session.add(conversation)
        audit.record(
            session,
            workspace_id=workspace_id,
            user_id=user_id,
            action="reply",
            resource="conversation",
            resource_id=conversation.id,
            changes={"message_id": sent.id, "remote_id": result.remote_id, "text": sent.content},
        )
        session.flush()
        return ReplyOutcome(message=sent, conversation=conversation)


def discard_reply_draft(session: Session, *, workspace_id: str, message_id: str) -> Message:
    """A rejected reply draft: kept for the record, never sent."""
    message = session.get(Message, message_id)
    if message is None or message.workspace_id != workspace_id:
        raise NotFound(f"message {message_id} not found")
    if message.direction == "outbound_draft":
        message.direction = "outbound_rejected"
        session.add(message)
    return message


# -- pulling messages in -----------------------------------------------------------------------------

SYNC_OVERLAP = timedelta(minutes=10)
"""Each sync re-reads this much before the newest stored message (duplicates are skipped)."""
FIRST_SYNC = timedelta(days=7)


@lru_cache(maxsize=1)
def _lexicon_scorer() -> Scorer:
    from brandcrew.services.listening.sentiment import LexiconAnalyzer

    analyzer = LexiconAnalyzer()
    return lambda texts: [(r.score, r.label) for r in analyzer.analyze_batch(texts)]


class SyncReport(BaseModel):
    """What one inbox sync did."""

    accounts: int = 0
    fetched: int = 0
    stored: int = 0
    auto_replies: int = 0
    """New messages answered automatically (sent, or held for approval)."""
    errors: list[str] = Field(default_factory=list)


async def sync_inbox(
    engine: Engine,
    accounts: AccountsService,
    *,
    workspace_id: str,
    now: datetime | None = None,
    scorer: Scorer | None = None,
) -> SyncReport:
    """Fetch every connected account's DMs and comments since the last sync into the inbox, up to
    `now` (default: the workspace's clock, its sandbox world's when it has one)."""
    scorer = scorer or _lexicon_scorer()
    with Session(engine, expire_on_commit=False) as session:
        now = now or workspace_now(session, workspace_id)
        connected = list(
            session.exec(
                select(SocialAccount).where(
                    SocialAccount.workspace_id == workspace_id, col(SocialAccount.is_active).is_(True)
                )
            ).all()
        )
        latest = dict(
            session.exec(
                select(Conversation.account_id, func.max(Message.created_at))
                .join(Message, col(Message.conversation_id) == col(Conversation.id))
                .where(Conversation.workspace_id == workspace_id, Message.direction == "inbound")
                .group_by(col(Conversation.account_id))
            ).all()
        )
    report = SyncReport()
    routed: list[inbox_rules.Routed] = []
    for account in connected:
        last = as_utc(latest.get(account.id))
        since = last - SYNC_OVERLAP if last is not None else now - FIRST_SYNC
        connector = accounts.connector(account)
        try:
            remote = await accounts.with_auth(
                account,
                lambda auth, c=connector, s=since: c.fetch_messages(auth, s),  # type: ignore[misc]
            )
        except NotImplementedError:
            continue
        except ConnectorError as exc:
            report.errors.append(f"{account.platform} @{account.username}: {exc}")
            continue
        report.accounts += 1
        due = [m for m in remote if (as_utc(m.created_at) or now) <= now]
        report.fetched += len(due)
        with session_scope(engine) as session:
            row = session.get(SocialAccount, account.id)
            assert row is not None
            report.stored += store_messages(session, account=row, messages=due, scorer=scorer, routed=routed)
    report.auto_replies = len(await inbox_rules.auto_reply(engine, accounts, routed))
    return report

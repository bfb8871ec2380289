"""The unified inbox (first slice): conversations and messages pulled from connectors; reply drafts.

Routing rules, SLAs, saved replies and approvals of replies grow here (issue: unified inbox).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel
from sqlmodel import Session, col, select

from brandcrew.connectors.base import RemoteMessage
from brandcrew.services import audit
from brandcrew.services.errors import NotFound
from brandcrew.store.tables import Conversation, Message, SocialAccount, utcnow


def store_messages(session: Session, *, account: SocialAccount, messages: Sequence[RemoteMessage]) -> int:
    """File new messages into their conversations (one per remote thread); returns how many were new."""
    new = 0
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
        session.add(
            Message(
                workspace_id=account.workspace_id,
                conversation_id=conversation.id,
                direction="inbound",
                content=remote.text,
                platform_message_id=remote.remote_id,
                created_at=remote.created_at,
            )
        )
        conversation.last_message_at = remote.created_at
        conversation.status = "open" if conversation.status == "resolved" else conversation.status
        conversation.updated_at = utcnow()
        session.add(conversation)
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
    """Store a drafted outbound reply (not sent: a person or policy approves it first)."""
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
    audit.record(
        session,
        workspace_id=workspace_id,
        actor=actor,
        action="draft_reply",
        resource="conversation",
        resource_id=conversation_id,
        changes={"text": text},
    )
    return draft

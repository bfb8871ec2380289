"""The unified inbox: conversations, their messages, and saved replies."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from brandcrew.store.tables._base import json_column, new_id, ts_column, utcnow


class Conversation(SQLModel, table=True):
    """A thread with one outside person on one account: DM, comments, mention or review."""

    __tablename__ = "conversations"
    __table_args__ = (
        Index("idx_conversations_workspace", "workspace_id"),
        Index("idx_conversations_status", "status"),
        Index("idx_conversations_assigned", "assigned_to"),
        Index("idx_conversations_platform", "platform"),
        UniqueConstraint("account_id", "external_thread_id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    workspace_id: str = Field(foreign_key="workspaces.id", max_length=64, ondelete="CASCADE")
    platform: str = Field(max_length=50)
    account_id: str = Field(max_length=64)
    external_thread_id: str = Field(max_length=255)
    type: str = Field(max_length=32)
    """comment | dm | mention | review"""
    participant_id: str = Field(max_length=255)
    participant_name: str = Field(max_length=255)
    participant_avatar: str | None = None
    status: str = Field(default="open", max_length=32)
    priority: str = Field(default="medium", max_length=32)
    sentiment: str | None = Field(default=None, max_length=32)
    assigned_to: str | None = Field(default=None, max_length=64)
    tags: list[str] = Field(default_factory=list, sa_column=json_column())
    sla_deadline: datetime | None = Field(default=None, sa_column=ts_column())
    sla_breached_at: datetime | None = Field(default=None, sa_column=ts_column())
    """When the SLA monitor found the deadline passed with the conversation still open (alerted once)."""
    intent: str | None = Field(default=None, max_length=32)
    """The keyword classifier's intent of the latest inbound message."""
    last_message_at: datetime | None = Field(default=None, sa_column=ts_column())
    last_read_at: datetime | None = Field(default=None, sa_column=ts_column())
    """When a person last opened or answered the conversation (inbound messages after it are unread)."""
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class Message(SQLModel, table=True):
    """One message in a conversation, inbound or outbound."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("idx_messages_conversation", "conversation_id"),
        Index("idx_messages_created", "created_at"),
        UniqueConstraint("conversation_id", "platform_message_id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    workspace_id: str = Field(max_length=64)
    conversation_id: str = Field(foreign_key="conversations.id", max_length=64, ondelete="CASCADE")
    direction: str = Field(max_length=16)
    """inbound | outbound"""
    content: str = Field(sa_column=Column(Text, nullable=False))
    media: list[str] | None = Field(default=None, sa_column=json_column(nullable=True))
    author_id: str | None = Field(default=None, max_length=64)
    platform_message_id: str = Field(max_length=255)
    sentiment: float | None = None
    ai_generated: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class SavedReply(SQLModel, table=True):
    """A reply template of a workspace, with `{{variables}}` filled in when it is used."""

    __tablename__ = "saved_replies"
    __table_args__ = (
        Index("idx_saved_replies_workspace", "workspace_id"),
        UniqueConstraint("workspace_id", "name"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    workspace_id: str = Field(foreign_key="workspaces.id", max_length=64, ondelete="CASCADE")
    name: str = Field(max_length=255)
    content: str = Field(sa_column=Column(Text, nullable=False))
    category: str | None = Field(default=None, max_length=100)
    variables: list[str] = Field(default_factory=list, sa_column=json_column())
    """The `{{names}}` the content uses."""
    created_by: str | None = Field(default=None, max_length=64)
    usage_count: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())

"""The unified inbox: conversations and their messages."""

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
    last_message_at: datetime | None = Field(default=None, sa_column=ts_column())
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

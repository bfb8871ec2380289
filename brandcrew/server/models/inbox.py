"""Wire models of the inbox API: conversations, messages, replies, assignment, saved replies, sync."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, model_validator

from brandcrew.server.schemas import ApiModel

Status = Literal["open", "pending", "resolved", "archived"]
Priority = Literal["low", "medium", "high", "urgent"]


class ConversationPublic(ApiModel):
    """A conversation as the seed shows it (without its messages)."""

    id: str
    platform: str
    account_id: str
    type: str
    participant_id: str
    participant_name: str
    participant_avatar: str | None
    status: str
    priority: str
    sentiment: str | None
    assigned_to: str | None
    tags: list[str]
    sla_deadline: datetime | None
    sla_breached_at: datetime | None
    intent: str | None
    """question | complaint | praise | order_issue | refund | spam | other (keyword-based)."""
    last_message_at: datetime | None
    last_read_at: datetime | None
    created_at: datetime
    updated_at: datetime


class MessagePublic(ApiModel):
    """One message; `direction` is inbound, outbound, or an outbound reply not sent (yet):
    outbound_draft (waiting for approval), outbound_sending, outbound_failed, outbound_rejected."""

    id: str
    conversation_id: str
    direction: str
    content: str
    author_id: str | None
    platform_message_id: str
    sentiment: float | None
    ai_generated: bool
    created_at: datetime


class ConversationsOut(ApiModel):
    """A page of conversations, how many match, and how many of the workspace's are unread."""

    conversations: list[ConversationPublic]
    total: int
    unread_count: int
    page: int
    limit: int


class ParticipantOut(ApiModel):
    """The outside person of a conversation."""

    id: str
    name: str
    avatar: str | None
    platform: str
    followers: int | None = None
    previous_interactions: int


class ConversationDetail(ApiModel):
    """A conversation, its messages (oldest first) and its participant."""

    conversation: ConversationPublic
    messages: list[MessagePublic]
    participant: ParticipantOut


class ReplyIn(ApiModel):
    """A reply: text, or a saved reply (`templateId`) filled in with `variables`."""

    content: str | None = Field(default=None, min_length=1, max_length=10_000)
    template_id: str | None = Field(default=None, min_length=1, max_length=64)
    variables: dict[Annotated[str, Field(max_length=64)], Annotated[str, Field(max_length=1000)]] = Field(
        default_factory=dict, max_length=30
    )
    media: list[str] = Field(default_factory=list, max_length=0)
    """Not supported yet: replies are text (must be empty)."""
    is_private: bool = False

    @model_validator(mode="after")
    def _one_source(self) -> ReplyIn:
        if (self.content is None) == (self.template_id is None):
            raise ValueError("give either content or templateId")
        return self


class ReplyOut(ApiModel):
    """The reply (sent, or held for approval) and the conversation afterwards."""

    message: MessagePublic
    conversation: ConversationPublic
    approval_id: str | None = None
    """Set when the workspace's reply workflow holds the reply for approval."""


class AssignIn(ApiModel):
    """Who takes the conversation (a member's id; null takes it back)."""

    assigned_to: str | None = Field(max_length=64)
    note: str | None = Field(default=None, max_length=2000)


class StatusIn(ApiModel):
    """A new status and/or priority."""

    status: Status | None = None
    priority: Priority | None = None

    @model_validator(mode="after")
    def _something(self) -> StatusIn:
        if self.status is None and self.priority is None:
            raise ValueError("give a status or a priority")
        return self


class ConversationOut(ApiModel):
    """`{conversation}` as the seed answers."""

    conversation: ConversationPublic


class TemplateIn(ApiModel):
    """A saved reply to create."""

    name: str = Field(min_length=1, max_length=255)
    content: str = Field(min_length=1, max_length=10_000)
    category: str | None = Field(default=None, max_length=100)
    variables: list[Annotated[str, Field(min_length=1, max_length=68)]] | None = Field(
        default=None, max_length=30
    )


class TemplatePublic(ApiModel):
    """A saved reply."""

    id: str
    name: str
    content: str
    category: str | None
    variables: list[str]
    usage_count: int
    created_by: str | None
    created_at: datetime


class TemplateOut(ApiModel):
    """`{template}` as the seed answers."""

    template: TemplatePublic


class TemplatesOut(ApiModel):
    """A page of saved replies."""

    templates: list[TemplatePublic]
    total: int
    page: int
    limit: int


class SyncOut(ApiModel):
    """What an inbox sync did."""

    accounts: int
    fetched: int
    stored: int
    auto_replies: int = 0
    errors: list[str]

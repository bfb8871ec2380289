"""Wire models of the inbox's routing rules, inbox settings (SLA, VIPs, auto-replies) and webhooks."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, model_validator

from brandcrew.server.models.inbox import Priority
from brandcrew.server.models.listening import Platform
from brandcrew.server.schemas import ApiModel

Intent = Literal["question", "complaint", "praise", "order_issue", "refund", "spam", "other"]
Id = Annotated[str, Field(min_length=1, max_length=64)]
Tag = Annotated[str, Field(min_length=1, max_length=50)]
Minutes = Annotated[int, Field(ge=1, le=43_200)]


class RuleConditionsIn(ApiModel):
    """What a new message must be for the rule to match; every condition given must hold."""

    intents: list[Intent] = Field(default_factory=list, max_length=7)
    """The keyword classifier's intent of the message."""
    sentiments: list[Literal["positive", "neutral", "negative"]] = Field(default_factory=list, max_length=3)
    keywords: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=50
    )
    """Any one of them in the text (case-insensitive)."""
    platforms: list[Platform] = Field(default_factory=list, max_length=11)
    """`twitter` is stored as `x`."""
    types: list[Literal["dm", "comment", "mention", "review"]] = Field(default_factory=list, max_length=4)
    vip: bool | None = None
    """True: only the workspace's VIP authors; false: only others; absent: anyone."""


class RuleActionsIn(ApiModel):
    """What a matching rule does to the conversation (at least one)."""

    assign_to: Id | None = None
    add_tags: list[Tag] = Field(default_factory=list, max_length=20)
    priority: Priority | None = None
    sla_minutes: Minutes | None = None
    """Overrides the priority's SLA for this conversation."""


class RuleIn(ApiModel):
    """A new routing rule."""

    name: Annotated[str, Field(min_length=1, max_length=255)]
    conditions: RuleConditionsIn = Field(default_factory=RuleConditionsIn)
    actions: RuleActionsIn
    position: Annotated[int, Field(ge=0, le=10_000)] | None = None
    """Where it is tried (lowest first); last when absent."""
    stop: bool = True
    """First match: when it matches, later rules are not tried. False: later rules may match too."""
    is_active: bool = True


class RulePatch(ApiModel):
    """Changes to a rule; what is absent stays."""

    name: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    conditions: RuleConditionsIn | None = None
    actions: RuleActionsIn | None = None
    position: Annotated[int, Field(ge=0, le=10_000)] | None = None
    stop: bool | None = None
    is_active: bool | None = None


class RulePublic(ApiModel):
    """A routing rule."""

    id: str
    name: str
    position: int
    stop: bool
    is_active: bool
    conditions: RuleConditionsIn
    actions: RuleActionsIn
    created_by: str | None
    created_at: datetime
    updated_at: datetime


class RuleOut(ApiModel):
    """One rule."""

    rule: RulePublic


class RulesOut(ApiModel):
    """The workspace's rules in the order they are tried."""

    rules: list[RulePublic]
    total: int


class InboxSettingsOut(ApiModel):
    """SLA minutes by priority, VIP authors, auto-replied intents (intent -> saved reply id)."""

    sla_minutes: dict[Priority, int]
    vip_authors: list[str]
    vip_min_followers: int | None
    auto_replies: dict[Intent, str]
    webhook_configured: bool


class InboxSettingsIn(ApiModel):
    """Changes to the inbox settings; what is absent stays. The webhook secrets are write-only."""

    sla_minutes: dict[Priority, Minutes] | None = None
    vip_authors: list[Annotated[str, Field(min_length=1, max_length=255)]] | None = Field(
        default=None, max_length=1000
    )
    """Author ids or usernames."""
    vip_min_followers: int | None = Field(default=None, ge=0, le=1_000_000_000)
    """Authors with at least this many followers are VIPs too; 0 turns it off."""
    auto_replies: dict[Intent, Id] | None = None
    """Only these intents are answered automatically, each with its saved reply; {} turns it off."""
    webhook_app_secret: Annotated[str, Field(min_length=8, max_length=512)] | None = None
    webhook_verify_token: Annotated[str, Field(min_length=8, max_length=512)] | None = None

    @model_validator(mode="after")
    def _both_secrets(self) -> InboxSettingsIn:
        if (self.webhook_app_secret is None) != (self.webhook_verify_token is None):
            raise ValueError("give webhookAppSecret and webhookVerifyToken together")
        return self


class WebhookOut(ApiModel):
    """What a webhook call did."""

    received: int
    stored: int
    ignored: int
    auto_replies: int

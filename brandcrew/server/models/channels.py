"""Wire models of the workspace's notification channels."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from brandcrew.server.models.listening import NotificationsIn
from brandcrew.server.schemas import ApiModel


class ChannelsIn(ApiModel):
    """Where the workspace hears alerts and notices of some kinds (approval notices included)."""

    name: str = Field(min_length=1, max_length=200)
    kinds: list[str] = Field(min_length=1, max_length=10)
    notifications: NotificationsIn


class ChannelPublic(ApiModel):
    """A channel without its secrets (signing key, Slack URL, passwords are stored encrypted)."""

    id: str
    name: str
    kind: str
    kinds: list[str]
    query_id: str | None
    min_severity: str
    is_active: bool
    config: dict[str, Any]
    created_at: datetime


class ChannelsOut(ApiModel):
    """`{channels}`."""

    channels: list[ChannelPublic]

"""Wire models of social accounts and the workspace's brand and publishing state."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from brandcrew.server.models.common import Utc
from brandcrew.server.schemas import ApiModel

SandboxPlatform = Literal[
    "x", "linkedin", "instagram", "facebook", "threads", "tiktok", "youtube", "pinterest", "reddit"
]

_DEFAULT_PLATFORMS: tuple[SandboxPlatform, ...] = ("x", "linkedin", "instagram")


class SocialAccountPublic(ApiModel):
    """A connected account (its tokens never leave the server)."""

    id: str
    platform: str
    platform_account_id: str
    username: str
    display_name: str | None = None
    avatar: str | None = None
    is_active: bool
    status: str
    token_expiry: Utc | None = None
    last_sync_at: Utc | None = None
    created_at: Utc


class AccountList(ApiModel):
    """The workspace's accounts."""

    accounts: list[SocialAccountPublic]


class SandboxIn(ApiModel):
    """Which platforms the sandbox world should have (the world is the workspace's own)."""

    platforms: list[SandboxPlatform] = Field(
        default_factory=lambda: list(_DEFAULT_PLATFORMS), min_length=1, max_length=9
    )


class BrandVoiceIn(ApiModel):
    """How the brand sounds."""

    tone: str = Field(default="friendly and clear", max_length=500)
    do: list[str] = Field(default_factory=list, max_length=50)
    dont: list[str] = Field(default_factory=list, max_length=50)


class BrandIn(ApiModel):
    """The brand profile agents write for: voice, audience, vocabulary, products, pillars."""

    name: str = Field(min_length=1, max_length=255)
    industry: str = Field(default="", max_length=255)
    audience: str = Field(default="", max_length=2000)
    voice: BrandVoiceIn = Field(default_factory=BrandVoiceIn)
    banned_words: list[str] = Field(default_factory=list, max_length=200)
    hashtags: list[str] = Field(default_factory=list, max_length=100)
    emoji: bool = False
    call_to_action: str = Field(default="", max_length=500)
    products: list[str] = Field(default_factory=list, max_length=200)
    pillars: list[str] = Field(default_factory=list, max_length=50)
    platforms: list[str] = Field(default_factory=list, max_length=20)


class BrandOut(BrandIn):
    """The workspace's brand profile."""

    workspace_id: str


class PauseIn(ApiModel):
    """Why publishing is paused."""

    reason: str = Field(default="paused by a person", min_length=1, max_length=500)


class PublishingStateOut(ApiModel):
    """Whether the workspace publishes, and why not when paused."""

    paused: bool
    reason: str | None = None

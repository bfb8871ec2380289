"""The sandbox social platform's own state: worlds, their accounts, tokens, posts, replies, crises, calls.

Everything the simulation derives from a seed (engagement, mentions, DMs, comments, competitor posts)
is computed on demand and never stored; only what callers did (publish, reply, delete, refresh) and
what the world was configured with (clock, faults, crises) lives here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from brandcrew.store.tables._base import json_column, new_id, ts_column, utcnow


class SandboxWorldRow(SQLModel, table=True):
    """One simulated network: its seed, brand, clock and fault plan."""

    __tablename__ = "sandbox_worlds"

    id: str = Field(primary_key=True, max_length=64)
    seed: str = Field(max_length=128)
    brand: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    """The brand the world revolves around: name, handle, products, topics, languages."""
    clock_base: datetime = Field(sa_column=ts_column(nullable=False))
    """Sandbox time at the moment `clock_anchor` (wall time) was recorded."""
    clock_anchor: datetime = Field(sa_column=ts_column(nullable=False))
    clock_speed: float = 0.0
    """Sandbox seconds per wall second: 0 = manual (frozen until advanced), 1 = real time."""
    started_at: datetime = Field(sa_column=ts_column(nullable=False))
    """Sandbox time when the world was created: organic follower growth counts from here."""
    faults: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    quotas: dict[str, int] = Field(default_factory=dict, sa_column=json_column())
    """Daily publish quotas that override the platforms' documented ones, by platform."""
    token_ttl_s: int | None = None
    """Access-token lifetime for every platform; None uses each platform's usual lifetime."""
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class SandboxAccountRow(SQLModel, table=True):
    """An account in a world: the brand's own (one per platform) or a competitor's."""

    __tablename__ = "sandbox_accounts"
    __table_args__ = (
        UniqueConstraint("world_id", "platform", "username"),
        Index("idx_sandbox_accounts_world_kind", "world_id", "kind", "platform"),
    )

    world_id: str = Field(primary_key=True, max_length=64)
    account_id: str = Field(primary_key=True, max_length=64)
    """The platform_account_id callers use."""
    platform: str = Field(max_length=50)
    kind: str = Field(max_length=16)
    """own | competitor"""
    username: str = Field(max_length=255)
    display_name: str = Field(max_length=255)
    audience: int
    """Followers when the world was created."""
    daily_growth: float
    """Organic follower growth per day (compounded)."""
    following: int = 0
    audience_profile: str = Field(max_length=16)
    """consumer | business: which audience activity curve applies."""
    timezones: list[dict[str, float]] = Field(default_factory=list, sa_column=json_column())
    """The audience's timezone mix: [{"utc_offset": -5.0, "share": 0.6}, ...]."""
    quality: float = 1.0
    """Account-level reach multiplier (how well its content usually lands)."""
    cadence_per_day: float = 0.0
    """Competitors: mean public posts per day."""
    profile: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    """Competitors: brand name and products they talk about."""
    refresh_token: str = Field(max_length=128)
    post_seq: int = 0
    """Posts and replies ever created on the account (numbers the next remote id)."""
    token_seq: int = 0
    limited_until: datetime | None = Field(default=None, sa_column=ts_column())
    """Set by a rate-limit fault: writes before this sandbox time are refused with 429."""
    created_at: datetime = Field(sa_column=ts_column(nullable=False))


class SandboxTokenRow(SQLModel, table=True):
    """An access token issued to an account; valid until it expires on the sandbox clock or is revoked."""

    __tablename__ = "sandbox_tokens"
    __table_args__ = (Index("idx_sandbox_tokens_account", "world_id", "account_id"),)

    token: str = Field(primary_key=True, max_length=128)
    world_id: str = Field(max_length=64)
    account_id: str = Field(max_length=64)
    expires_at: datetime = Field(sa_column=ts_column(nullable=False))
    revoked: bool = False
    created_at: datetime = Field(sa_column=ts_column(nullable=False))


class SandboxPostRow(SQLModel, table=True):
    """A post published on a sandbox account (a thread's later parts are rows of their own)."""

    __tablename__ = "sandbox_posts"
    __table_args__ = (
        Index("idx_sandbox_posts_account_created", "world_id", "account_id", "created_at"),
        Index("idx_sandbox_posts_account_hash", "world_id", "account_id", "text_hash"),
    )

    world_id: str = Field(primary_key=True, max_length=64)
    remote_id: str = Field(primary_key=True, max_length=128)
    account_id: str = Field(max_length=64)
    platform: str = Field(max_length=50)
    kind: str = Field(default="post", max_length=16)
    """post | thread_part"""
    parent_id: str | None = Field(default=None, max_length=128)
    text: str = Field(sa_column=Column(Text, nullable=False))
    title: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    link: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    media: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column())
    features: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    """The content features the engagement model reads (see sandbox/engagement.py)."""
    audience: int = 0
    """Followers when the post went out (its potential reach)."""
    text_hash: str = Field(max_length=64)
    idempotency_key: str | None = Field(default=None, max_length=255)
    url: str | None = None
    created_at: datetime = Field(sa_column=ts_column(nullable=False))
    deleted_at: datetime | None = Field(default=None, sa_column=ts_column())


class SandboxReplyRow(SQLModel, table=True):
    """A reply an account sent to a DM, comment, mention or post."""

    __tablename__ = "sandbox_replies"
    __table_args__ = (Index("idx_sandbox_replies_account_created", "world_id", "account_id", "created_at"),)

    world_id: str = Field(primary_key=True, max_length=64)
    remote_id: str = Field(primary_key=True, max_length=128)
    account_id: str = Field(max_length=64)
    in_reply_to: str = Field(max_length=255)
    text: str = Field(sa_column=Column(Text, nullable=False))
    idempotency_key: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(sa_column=ts_column(nullable=False))


class SandboxCrisisRow(SQLModel, table=True):
    """A scripted crisis: a burst of negative mentions about a topic in a time window."""

    __tablename__ = "sandbox_crises"
    __table_args__ = (Index("idx_sandbox_crises_world", "world_id", "starts_at"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    world_id: str = Field(max_length=64)
    starts_at: datetime = Field(sa_column=ts_column(nullable=False))
    ends_at: datetime = Field(sa_column=ts_column(nullable=False))
    intensity: float
    topic: str = Field(sa_column=Column(Text, nullable=False))
    platforms: list[str] = Field(default_factory=list, sa_column=json_column())
    """Platforms the crisis plays out on; empty means all of the world's platforms."""
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class SandboxCallRow(SQLModel, table=True):
    """One call of a write (or a faulted read): numbers attempts per idempotency key and logs faults."""

    __tablename__ = "sandbox_calls"
    __table_args__ = (Index("idx_sandbox_calls_world_at", "world_id", "at"),)

    world_id: str = Field(primary_key=True, max_length=64)
    operation: str = Field(primary_key=True, max_length=32)
    call_key: str = Field(primary_key=True, max_length=255)
    attempt: int = Field(primary_key=True)
    account_id: str = Field(max_length=64)
    outcome: str = Field(max_length=32)
    """ok | rejected | rate_limited | server_error | timeout_before_create | timeout_after_create | ..."""
    remote_id: str | None = Field(default=None, max_length=128)
    at: datetime = Field(sa_column=ts_column(nullable=False))

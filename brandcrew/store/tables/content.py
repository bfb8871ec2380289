"""Posts with per-platform variants and versions, campaigns, and media assets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from brandcrew.store.tables._base import json_column, new_id, ts_column, utcnow


class Campaign(SQLModel, table=True):
    """A campaign: dates, goals, budget, UTM parameters."""

    __tablename__ = "campaigns"
    __table_args__ = (Index("idx_campaigns_workspace", "workspace_id"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    workspace_id: str = Field(foreign_key="workspaces.id", max_length=64, ondelete="CASCADE")
    name: str = Field(max_length=255)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    start_date: datetime | None = Field(default=None, sa_column=ts_column())
    end_date: datetime | None = Field(default=None, sa_column=ts_column())
    goals: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column())
    """[{metric, target, current}]"""
    budget_usd: str | None = Field(default=None, max_length=32)
    tags: list[str] = Field(default_factory=list, sa_column=json_column())
    utm_params: dict[str, str] = Field(default_factory=dict, sa_column=json_column())
    status: str = Field(default="draft", max_length=32)
    """draft | active | paused | completed"""
    paused_reason: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class Post(SQLModel, table=True):
    """A piece of content for one or more platforms; `content` is the shared base."""

    __tablename__ = "posts"
    __table_args__ = (
        Index("idx_posts_workspace", "workspace_id"),
        Index("idx_posts_status", "status"),
        Index("idx_posts_scheduled", "scheduled_at"),
        Index("idx_posts_campaign", "campaign_id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    workspace_id: str = Field(foreign_key="workspaces.id", max_length=64, ondelete="CASCADE")
    author_id: str | None = Field(default=None, max_length=64)
    content: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    """{text, media: [asset ids], hashtags, mentions, link, first_comment, title}"""
    status: str = Field(default="draft", max_length=32)
    """draft | pending_approval | approved | scheduled | publishing | published | partially_published | failed"""
    scheduled_at: datetime | None = Field(default=None, sa_column=ts_column())
    published_at: datetime | None = Field(default=None, sa_column=ts_column())
    campaign_id: str | None = Field(default=None, max_length=64)
    tags: list[str] = Field(default_factory=list, sa_column=json_column())
    ai_generated: bool = False
    ai_metadata: dict[str, Any] | None = Field(default=None, sa_column=json_column(nullable=True))
    approval_status: str | None = Field(default=None, max_length=32)
    approval_workflow_id: str | None = Field(default=None, max_length=64)
    version: int = 1
    """Bumped on every content edit; part of the publishing idempotency key."""
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class PostVariant(SQLModel, table=True):
    """A post on one platform account: custom content and publish state there."""

    __tablename__ = "post_variants"
    __table_args__ = (
        UniqueConstraint("post_id", "platform", "account_id"),
        Index("idx_post_variants_workspace", "workspace_id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    workspace_id: str = Field(max_length=64)
    post_id: str = Field(foreign_key="posts.id", max_length=64, ondelete="CASCADE")
    platform: str = Field(max_length=50)
    account_id: str = Field(max_length=64)
    custom_content: dict[str, Any] | None = Field(default=None, sa_column=json_column(nullable=True))
    """Overrides of the base content for this platform (text, title, media, hashtags)."""
    platform_post_id: str | None = Field(default=None, max_length=255)
    url: str | None = None
    publish_status: str = Field(default="pending", max_length=32)
    """pending | publishing | published | failed | unknown"""
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    published_at: datetime | None = Field(default=None, sa_column=ts_column())


class PostVersion(SQLModel, table=True):
    """A snapshot of a post's content at each version, for history and audit."""

    __tablename__ = "post_versions"
    __table_args__ = (UniqueConstraint("post_id", "version"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    workspace_id: str = Field(max_length=64)
    post_id: str = Field(foreign_key="posts.id", max_length=64, ondelete="CASCADE")
    version: int
    content: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    variants: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column())
    author_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class MediaAsset(SQLModel, table=True):
    """An image, video or GIF in the workspace's media library (local files by default)."""

    __tablename__ = "media_assets"
    __table_args__ = (Index("idx_media_workspace", "workspace_id"), Index("idx_media_folder", "folder"))

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    workspace_id: str = Field(foreign_key="workspaces.id", max_length=64, ondelete="CASCADE")
    type: str = Field(max_length=16)
    """image | video | gif"""
    url: str
    thumbnail_url: str | None = None
    filename: str = Field(max_length=255)
    mime_type: str = Field(default="application/octet-stream", max_length=100)
    size: int = 0
    sha256: str = Field(default="", max_length=64)
    width: int | None = None
    height: int | None = None
    duration_s: float | None = None
    extra: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    tags: list[str] = Field(default_factory=list, sa_column=json_column())
    folder: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())

"""Influencers: the workspace's saved creators, influencer campaigns and collaborations.

Money is kept in integer minor units (cents) so sums and cost-per-engagement never drift.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from brandcrew.store.tables._base import json_column, new_id, ts_column, utcnow


class Influencer(SQLModel, table=True):
    """A creator saved to the workspace's list, with the discovery snapshot it was saved from."""

    __tablename__ = "influencers"
    __table_args__ = (
        UniqueConstraint("workspace_id", "platform", "username"),
        Index("idx_influencers_workspace", "workspace_id", "created_at"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    workspace_id: str = Field(foreign_key="workspaces.id", max_length=64, ondelete="CASCADE")
    platform: str = Field(max_length=50)
    username: str = Field(max_length=255)
    platform_user_id: str = Field(default="", max_length=255)
    display_name: str = Field(default="", max_length=255)
    followers: int = 0
    tier: str = Field(default="nano", max_length=16)
    """nano | micro | mid | macro | mega (by followers)"""
    score: float | None = None
    """Discovery score (0-100) when it was saved or last re-scored."""
    analysis: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    """The discovery result it was saved from: components, signals, evidence counts."""
    notes: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    tags: list[str] = Field(default_factory=list, sa_column=json_column())
    created_by: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class InfluencerCampaign(SQLModel, table=True):
    """An influencer campaign: brief, budget, dates and goals."""

    __tablename__ = "influencer_campaigns"
    __table_args__ = (Index("idx_influencer_campaigns_workspace", "workspace_id", "created_at"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    workspace_id: str = Field(foreign_key="workspaces.id", max_length=64, ondelete="CASCADE")
    name: str = Field(max_length=255)
    brief: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    budget_cents: int | None = None
    currency: str = Field(default="USD", max_length=3)
    start_date: datetime | None = Field(default=None, sa_column=ts_column())
    end_date: datetime | None = Field(default=None, sa_column=ts_column())
    goals: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column())
    """[{metric: reach|engagements|clicks|posts, target}]"""
    status: str = Field(default="draft", max_length=16)
    """draft | active | paused | completed"""
    created_by: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class Collaboration(SQLModel, table=True):
    """One influencer in one campaign: where the deal stands, what is owed, what it achieved."""

    __tablename__ = "collaborations"
    __table_args__ = (
        UniqueConstraint("campaign_id", "influencer_id"),
        Index("idx_collaborations_workspace", "workspace_id"),
        Index("idx_collaborations_influencer", "influencer_id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    workspace_id: str = Field(foreign_key="workspaces.id", max_length=64, ondelete="CASCADE")
    campaign_id: str = Field(foreign_key="influencer_campaigns.id", max_length=64, ondelete="CASCADE")
    influencer_id: str = Field(foreign_key="influencers.id", max_length=64, ondelete="CASCADE")
    status: str = Field(default="prospect", max_length=16)
    """prospect -> contacted -> negotiating -> agreed -> live -> completed | declined"""
    status_history: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column())
    """[{from, to, at, by}]"""
    fee_cents: int | None = None
    currency: str = Field(default="USD", max_length=3)
    deliverables: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column())
    """[{id, kind, description, dueAt, done, doneAt}]"""
    posts: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column())
    """[{url, platformPostId, platform}]"""
    reach: int = 0
    engagements: int = 0
    clicks: int = 0
    notes: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())

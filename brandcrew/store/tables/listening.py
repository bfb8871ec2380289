"""Social listening: saved queries, the mentions they match, and alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from brandcrew.store.tables._base import json_column, new_id, ts_column, utcnow


class ListeningQuery(SQLModel, table=True):
    """A saved search: boolean query, platforms, languages, exclusions, alert thresholds."""

    __tablename__ = "listening_queries"
    __table_args__ = (Index("idx_listening_queries_workspace", "workspace_id"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    workspace_id: str = Field(foreign_key="workspaces.id", max_length=64, ondelete="CASCADE")
    name: str = Field(max_length=255)
    query: str = Field(sa_column=Column(Text, nullable=False))
    platforms: list[str] = Field(default_factory=list, sa_column=json_column())
    languages: list[str] = Field(default_factory=list, sa_column=json_column())
    excluded_terms: list[str] = Field(default_factory=list, sa_column=json_column())
    sentiment_filter: str | None = Field(default=None, max_length=16)
    alert_config: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    is_active: bool = True
    last_polled_at: datetime | None = Field(default=None, sa_column=ts_column())
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class Mention(SQLModel, table=True):
    """A public post that matched a query, with author, reach and sentiment."""

    __tablename__ = "mentions"
    __table_args__ = (
        Index("idx_mentions_ws_query_created", "workspace_id", "query_id", "created_at"),
        Index("idx_mentions_sentiment_created", "sentiment", "created_at"),
        Index("idx_mentions_author", "author_username"),
        UniqueConstraint("workspace_id", "platform", "platform_mention_id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    workspace_id: str = Field(foreign_key="workspaces.id", max_length=64, ondelete="CASCADE")
    query_id: str | None = Field(default=None, max_length=64)
    platform: str = Field(max_length=50)
    platform_mention_id: str = Field(max_length=255)
    author_id: str = Field(default="", max_length=255)
    author_username: str = Field(default="", max_length=255)
    author_name: str = Field(default="", max_length=255)
    author_followers: int = 0
    content: str = Field(sa_column=Column(Text, nullable=False))
    url: str | None = None
    sentiment: str | None = Field(default=None, max_length=16)
    sentiment_score: float | None = None
    reach: int = 0
    engagement: int = 0
    language: str | None = Field(default=None, max_length=16)
    location: str | None = Field(default=None, max_length=255)
    is_influencer: bool = False
    tags: list[str] = Field(default_factory=list, sa_column=json_column())
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    fetched_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class Alert(SQLModel, table=True):
    """An alert that fired (crisis, spike, sentiment drop), why, and who cleared it."""

    __tablename__ = "alerts"
    __table_args__ = (Index("idx_alerts_workspace_created", "workspace_id", "created_at"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    workspace_id: str = Field(foreign_key="workspaces.id", max_length=64, ondelete="CASCADE")
    query_id: str | None = Field(default=None, max_length=64)
    kind: str = Field(max_length=32)
    """volume_spike | sentiment_drop | influencer | crisis"""
    severity: str = Field(default="medium", max_length=16)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    details: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    status: str = Field(default="open", max_length=16)
    """open | acknowledged | cleared"""
    cleared_by: str | None = Field(default=None, max_length=64)
    cleared_at: datetime | None = Field(default=None, sa_column=ts_column())
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())

"""Social listening: saved queries, the mentions they match, alerts and where alerts are delivered."""

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
    keywords: list[str] = Field(default_factory=list, sa_column=json_column())
    """At least one must appear besides the boolean query (multi-word keywords are phrases)."""
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


class ListeningMatch(SQLModel, table=True):
    """A stored mention that a query matched (a mention may match several queries)."""

    __tablename__ = "listening_matches"
    __table_args__ = (Index("idx_listening_matches_query_created", "query_id", "created_at"),)

    query_id: str = Field(
        foreign_key="listening_queries.id", primary_key=True, max_length=64, ondelete="CASCADE"
    )
    mention_id: str = Field(foreign_key="mentions.id", primary_key=True, max_length=64, ondelete="CASCADE")
    workspace_id: str = Field(foreign_key="workspaces.id", max_length=64, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    """When the mention was posted (copied here so a query's history is one index range)."""


class Alert(SQLModel, table=True):
    """An alert that fired (crisis, spike, sentiment drop, influencer), why, and who handled it."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index("idx_alerts_workspace_created", "workspace_id", "created_at"),
        Index("idx_alerts_query_kind_at", "query_id", "kind", "window_start"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    """Derived from (workspace, query, rule, bucket) for detector alerts, so raising one is idempotent."""
    workspace_id: str = Field(foreign_key="workspaces.id", max_length=64, ondelete="CASCADE")
    query_id: str | None = Field(default=None, max_length=64)
    kind: str = Field(max_length=32)
    """volume_spike | sentiment_drop | influencer | crisis | sla_breach (an inbox conversation unanswered)"""
    rule_key: str = Field(default="", max_length=300)
    """What the cooldown is kept by: the kind, or `influencer:<author>`."""
    severity: str = Field(default="medium", max_length=16)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    details: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    window_start: datetime | None = Field(default=None, sa_column=ts_column())
    """Start of the bucket that raised the alert."""
    window_end: datetime | None = Field(default=None, sa_column=ts_column())
    """End of the detector's window that measured it (the bucket's end)."""
    status: str = Field(default="open", max_length=16)
    """open | acknowledged | resolved"""
    paused_publishing: bool = False
    """The alert paused the brand's publishing (until a person acknowledges or resolves it)."""
    acknowledged_by: str | None = Field(default=None, max_length=64)
    acknowledged_at: datetime | None = Field(default=None, sa_column=ts_column())
    resolved_by: str | None = Field(default=None, max_length=64)
    resolved_at: datetime | None = Field(default=None, sa_column=ts_column())
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class AlertChannel(SQLModel, table=True):
    """Where a workspace's alerts go: a webhook, a Slack incoming webhook, an email or an SMS number."""

    __tablename__ = "alert_channels"
    __table_args__ = (Index("idx_alert_channels_workspace", "workspace_id"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    workspace_id: str = Field(foreign_key="workspaces.id", max_length=64, ondelete="CASCADE")
    name: str = Field(max_length=255)
    kind: str = Field(max_length=16)
    """webhook | slack | email | sms"""
    config: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    """Settings that are not secret (URL, SMTP host, addresses, account SID)."""
    secret: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    """Encrypted JSON of the secret settings (signing key, webhook URL, SMTP password, auth token)."""
    min_severity: str = Field(default="low", max_length=16)
    kinds: list[str] = Field(default_factory=list, sa_column=json_column())
    """Alert kinds this channel receives; empty means all."""
    query_id: str | None = Field(default=None, max_length=64)
    """Only alerts of this listening query (an alert rule's channel); None means every query."""
    is_active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class AlertDelivery(SQLModel, table=True):
    """One alert sent (or still to send) to one channel; failures are kept and retried."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (
        UniqueConstraint("alert_id", "channel_id"),
        Index("idx_alert_deliveries_status_next", "status", "next_attempt_at"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    workspace_id: str = Field(foreign_key="workspaces.id", max_length=64, ondelete="CASCADE")
    alert_id: str = Field(foreign_key="alerts.id", max_length=64, ondelete="CASCADE")
    channel_id: str = Field(foreign_key="alert_channels.id", max_length=64, ondelete="CASCADE")
    status: str = Field(default="pending", max_length=16)
    """pending | sent | failed (gave up after the last attempt)"""
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    next_attempt_at: datetime | None = Field(default=None, sa_column=ts_column())
    sent_at: datetime | None = Field(default=None, sa_column=ts_column())
    response: str | None = Field(default=None, max_length=500)
    """What the channel answered (message id, status code)."""
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())

"""Metrics as a time series: one row per (account or post, metric, time)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from brandcrew.store.tables._base import json_column, new_id, ts_column, utcnow


class MetricPoint(SQLModel, table=True):
    """A metric value observed at a time, for an account or one of its posts."""

    __tablename__ = "metrics"
    __table_args__ = (
        Index("idx_metrics_ws_account_ts", "workspace_id", "account_id", "timestamp"),
        Index("idx_metrics_type_ts", "metric_type", "timestamp"),
        Index("idx_metrics_post", "post_id", "metric_type", "timestamp"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    workspace_id: str = Field(max_length=64)
    account_id: str = Field(max_length=64)
    platform: str = Field(max_length=50)
    post_id: str | None = Field(default=None, max_length=64)
    """Our post id for post metrics; None for account metrics (followers)."""
    remote_id: str | None = Field(default=None, max_length=255)
    metric_type: str = Field(max_length=50)
    """impressions | likes | comments | shares | saves | clicks | followers | engagement_rate"""
    value: float
    extra: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    timestamp: datetime = Field(sa_column=ts_column(nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())

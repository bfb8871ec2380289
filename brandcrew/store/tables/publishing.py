"""The publishing outbox: one row per (post, platform, account, content version), published once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from brandcrew.store.tables._base import json_column, ts_column, utcnow


class OutboxEntry(SQLModel, table=True):
    """A publish that must happen exactly once; its id is the deterministic idempotency key."""

    __tablename__ = "publish_outbox"
    __table_args__ = (
        Index("idx_outbox_due", "status", "due_at"),
        Index("idx_outbox_account", "account_id", "status"),
        Index("idx_outbox_post", "post_id"),
    )

    key: str = Field(primary_key=True, max_length=64)
    """sha256(workspace, post, platform, account, content version) - also the DBOS workflow id."""
    workspace_id: str = Field(max_length=64)
    post_id: str = Field(max_length=64)
    variant_id: str = Field(max_length=64)
    platform: str = Field(max_length=50)
    account_id: str = Field(max_length=64)
    content_version: int
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    """The draft exactly as it will be published (text, title, media, link)."""
    text_hash: str = Field(max_length=64)
    """Hash of the normalised text: how an outcome-unknown publish is found on the platform."""
    status: str = Field(default="pending", max_length=16)
    """pending -> publishing -> published | failed | unknown (-> published | failed on reconcile)"""
    due_at: datetime = Field(sa_column=ts_column(nullable=False))
    attempts: int = 0
    claimed_by: str | None = Field(default=None, max_length=128)
    claimed_at: datetime | None = Field(default=None, sa_column=ts_column())
    remote_id: str | None = Field(default=None, max_length=255)
    remote_url: str | None = None
    published_at: datetime | None = Field(default=None, sa_column=ts_column())
    next_attempt_at: datetime | None = Field(default=None, sa_column=ts_column())
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    error_kind: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())

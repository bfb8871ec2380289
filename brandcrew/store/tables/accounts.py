"""Connected social accounts, with OAuth tokens encrypted at rest."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from brandcrew.store.tables._base import json_column, new_id, ts_column, utcnow


class SocialAccount(SQLModel, table=True):
    """One account on one platform, connected to a workspace."""

    __tablename__ = "social_accounts"
    __table_args__ = (
        UniqueConstraint("workspace_id", "platform", "platform_account_id"),
        Index("idx_social_accounts_workspace", "workspace_id"),
        Index("idx_social_accounts_platform", "platform"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    workspace_id: str = Field(foreign_key="workspaces.id", max_length=64, ondelete="CASCADE")
    platform: str = Field(max_length=50)
    platform_account_id: str = Field(max_length=255)
    username: str = Field(max_length=255)
    display_name: str | None = Field(default=None, max_length=255)
    avatar: str | None = None
    access_token: str = Field(sa_column=Column(Text, nullable=False))
    """AES-256-GCM ciphertext with a key-id prefix (see store/crypto.py); never plaintext."""
    refresh_token: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    token_expiry: datetime | None = Field(default=None, sa_column=ts_column())
    is_active: bool = True
    status: str = Field(default="connected", max_length=32)
    """connected | auth_expired | disconnected"""
    extra: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    """Platform specifics (page id, instagram business id, scopes granted)."""
    last_sync_at: datetime | None = Field(default=None, sa_column=ts_column())
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())

"""Credentials beside users: refresh-token sessions and API keys for automation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from brandcrew.store.tables._base import new_id, ts_column, utcnow


class AuthSession(SQLModel, table=True):
    """One login: the refresh token currently valid for it (rotated on every refresh)."""

    __tablename__ = "auth_sessions"
    __table_args__ = (Index("idx_auth_sessions_user", "user_id"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    user_id: str = Field(foreign_key="users.id", max_length=64, ondelete="CASCADE")
    workspace_id: str = Field(foreign_key="workspaces.id", max_length=64, ondelete="CASCADE")
    refresh_jti: str = Field(max_length=64)
    """The id of the one refresh token that may still be used; an older one means theft."""
    expires_at: datetime = Field(sa_column=ts_column(nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=ts_column())
    revoked_reason: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    last_used_at: datetime | None = Field(default=None, sa_column=ts_column())


class ApiKey(SQLModel, table=True):
    """A long-lived key for automation, acting as its creator with at most the creator's role."""

    __tablename__ = "api_keys"
    __table_args__ = (Index("idx_api_keys_workspace", "workspace_id"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    workspace_id: str = Field(foreign_key="workspaces.id", max_length=64, ondelete="CASCADE")
    user_id: str = Field(foreign_key="users.id", max_length=64, ondelete="CASCADE")
    name: str = Field(max_length=255)
    prefix: str = Field(max_length=32, unique=True, index=True)
    """The public part shown in lists and used to find the key (`bc_<prefix>_<secret>`)."""
    secret_hash: str = Field(max_length=128)
    """sha256 of the whole key: keys are random, so a slow hash adds nothing."""
    role: str = Field(default="editor", max_length=50)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    last_used_at: datetime | None = Field(default=None, sa_column=ts_column())
    expires_at: datetime | None = Field(default=None, sa_column=ts_column())
    revoked_at: datetime | None = Field(default=None, sa_column=ts_column())

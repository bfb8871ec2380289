"""Workspaces (tenants) and their users."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from brandcrew.store.tables._base import json_column, new_id, ts_column, utcnow


class Workspace(SQLModel, table=True):
    """A tenant: one brand or client, owning every other row through `workspace_id`."""

    __tablename__ = "workspaces"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    name: str = Field(max_length=255)
    slug: str = Field(max_length=255, unique=True, index=True)
    plan: str = Field(default="free", max_length=50)
    settings: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    branding: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    """The brand profile (voice, audience, hashtags, products, pillars)."""
    limits: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    is_active: bool = True
    publishing_paused_reason: str | None = Field(default=None, max_length=500)
    """Set when a crisis or a person paused publishing for this brand."""
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class User(SQLModel, table=True):
    """A team member of one workspace."""

    __tablename__ = "users"
    __table_args__ = (Index("idx_users_workspace", "workspace_id"), UniqueConstraint("email"))

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    workspace_id: str = Field(foreign_key="workspaces.id", max_length=64, ondelete="CASCADE")
    email: str = Field(max_length=255, index=True)
    password_hash: str = Field(default="", max_length=255)
    name: str = Field(max_length=255)
    avatar: str | None = None
    role: str = Field(default="editor", max_length=50)
    """owner | admin | manager | editor | viewer"""
    permissions: list[str] = Field(default_factory=list, sa_column=json_column())
    preferences: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    is_active: bool = True
    last_login_at: datetime | None = Field(default=None, sa_column=ts_column())
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())

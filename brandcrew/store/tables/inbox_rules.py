"""Routing rules of the unified inbox: conditions on a new message, actions on its conversation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from brandcrew.store.tables._base import json_column, new_id, ts_column, utcnow


class InboxRule(SQLModel, table=True):
    """One routing rule of a workspace, applied in `position` order to every new inbound message."""

    __tablename__ = "inbox_rules"
    __table_args__ = (Index("idx_inbox_rules_workspace", "workspace_id", "position"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    workspace_id: str = Field(foreign_key="workspaces.id", max_length=64, ondelete="CASCADE")
    name: str = Field(max_length=255)
    position: int = 0
    is_active: bool = True
    stop: bool = True
    """When it matches, later rules are not tried (first match); False lets later rules add to it."""
    conditions: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    """intents, sentiments, keywords, platforms, types, vip (all given ones must hold)."""
    actions: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    """assign_to, add_tags, priority, sla_minutes."""
    created_by: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())

"""The audit log: every write, who made it, and what changed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from brandcrew.store.tables._base import json_column, new_id, ts_column, utcnow


class AuditLog(SQLModel, table=True):
    """One write to one resource."""

    __tablename__ = "audit_logs"
    __table_args__ = (
        Index("idx_audit_ws_ts", "workspace_id", "timestamp"),
        Index("idx_audit_user_ts", "user_id", "timestamp"),
        Index("idx_audit_resource", "resource", "resource_id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    workspace_id: str = Field(max_length=64)
    user_id: str | None = Field(default=None, max_length=64)
    actor: str = Field(default="user", max_length=32)
    """user | agent | system | autopilot"""
    action: str = Field(max_length=64)
    resource: str = Field(max_length=64)
    resource_id: str = Field(max_length=64)
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    ip_address: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=255)
    timestamp: datetime = Field(default_factory=utcnow, sa_column=ts_column())

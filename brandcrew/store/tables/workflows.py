"""Approval workflows: definitions, running instances, and each approval step's decision."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from brandcrew.store.tables._base import json_column, new_id, ts_column, utcnow


class WorkflowDefinition(SQLModel, table=True):
    """An approval flow: ordered steps, each naming who may approve."""

    __tablename__ = "workflows"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    workspace_id: str = Field(foreign_key="workspaces.id", max_length=64, ondelete="CASCADE")
    name: str = Field(max_length=255)
    description: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    resources: list[str] = Field(default_factory=list, sa_column=json_column())
    """What the flow approves: post | reply | statement."""
    steps: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column())
    """[{name, approvers: [user ids] | roles: [...], min_approvals}]"""
    is_active: bool = True
    created_by: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class Approval(SQLModel, table=True):
    """An item waiting for (or given) approval: a post, a reply, a holding statement."""

    __tablename__ = "approvals"
    __table_args__ = (Index("idx_approvals_ws_status", "workspace_id", "status"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    workspace_id: str = Field(foreign_key="workspaces.id", max_length=64, ondelete="CASCADE")
    workflow_id: str | None = Field(default=None, max_length=64)
    resource: str = Field(max_length=32)
    """post | reply | statement"""
    resource_id: str = Field(max_length=64)
    step: int = 0
    status: str = Field(default="pending", max_length=16)
    """pending | approved | rejected | changes_requested"""
    requested_by: str | None = Field(default=None, max_length=64)
    decided_by: str | None = Field(default=None, max_length=64)
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    comments: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column())
    thread_id: str | None = Field(default=None, max_length=128)
    """The LangGraph thread waiting on this approval (an `interrupt`), if any."""
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    decided_at: datetime | None = Field(default=None, sa_column=ts_column())

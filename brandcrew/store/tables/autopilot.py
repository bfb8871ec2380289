"""Autopilot runs and their cycles: what a campaign left alone has done, durable across restarts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from brandcrew.store.tables._base import json_column, ts_column, utcnow


class AutopilotRun(SQLModel, table=True):
    """One campaign on autopilot: its validated file, where it is, and why it stopped if it did."""

    __tablename__ = "autopilot_runs"

    campaign_id: str = Field(primary_key=True, max_length=64)
    workspace_id: str = Field(foreign_key="workspaces.id", max_length=64, ondelete="CASCADE")
    spec: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    """The campaign file as validated (the run keeps going from this even if the file changes)."""
    source: str = Field(default="", max_length=1000)
    status: str = Field(default="running", max_length=32)
    """running | paused | completed"""
    paused_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    next_cycle: int = 0
    cycles: int = 0
    simulated: bool = True
    world_id: str | None = Field(default=None, max_length=64)
    report_path: str | None = Field(default=None, max_length=1000)
    started_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class AutopilotCycle(SQLModel, table=True):
    """One cycle (a day by default): the plan, what was written and checked, and what changed why."""

    __tablename__ = "autopilot_cycles"

    campaign_id: str = Field(primary_key=True, max_length=64)
    cycle: int = Field(primary_key=True)
    workspace_id: str = Field(max_length=64)
    window_start: datetime = Field(sa_column=ts_column(nullable=False))
    window_end: datetime = Field(sa_column=ts_column(nullable=False))
    status: str = Field(default="planned", max_length=32)
    """planned | waiting_approval | scheduled | done | paused"""
    plan: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    drafts: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column())
    adjustments: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column())
    results: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())

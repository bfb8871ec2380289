"""The runs API's records: assistants, threads, runs and each run's event log, all per workspace."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from brandcrew.store.tables._base import json_column, ts_column, utcnow


class RunAssistant(SQLModel, table=True):
    """A configured graph (the built-in graphs are assistants too, without a row)."""

    __tablename__ = "run_assistants"
    __table_args__ = (Index("idx_run_assistants_workspace_graph", "workspace_id", "graph_id"),)

    assistant_id: str = Field(primary_key=True, max_length=64)
    workspace_id: str = Field(foreign_key="workspaces.id", max_length=64, ondelete="CASCADE")
    graph_id: str = Field(max_length=128)
    name: str = Field(default="", max_length=255)
    description: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    config: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    context: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    meta: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class RunThread(SQLModel, table=True):
    """A conversation: its checkpoints live in the graph checkpointer under the same id."""

    __tablename__ = "run_threads"
    __table_args__ = (Index("idx_run_threads_workspace_updated", "workspace_id", "updated_at"),)

    thread_id: str = Field(primary_key=True, max_length=64)
    workspace_id: str = Field(foreign_key="workspaces.id", max_length=64, ondelete="CASCADE")
    status: str = Field(default="idle", max_length=16)
    """idle | busy | interrupted | error"""
    meta: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    values: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    """The latest state values as JSON, written when a run ends (for reads without the graph)."""
    interrupts: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    """Pending interrupts by task id, as the SDK's Thread shows them."""
    graph_id: str | None = Field(default=None, max_length=128)
    temporary: bool = False
    """Made for a stateless run; deleted when the run ends unless it asked to keep it."""
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class Run(SQLModel, table=True):
    """One invocation of an assistant on a thread, executed by a background worker."""

    __tablename__ = "runs"
    __table_args__ = (
        Index("idx_runs_status_created", "status", "created_at"),
        Index("idx_runs_thread_created", "thread_id", "created_at"),
        Index("idx_runs_workspace", "workspace_id"),
    )

    run_id: str = Field(primary_key=True, max_length=64)
    thread_id: str = Field(foreign_key="run_threads.thread_id", max_length=64, ondelete="CASCADE")
    workspace_id: str = Field(foreign_key="workspaces.id", max_length=64, ondelete="CASCADE")
    assistant_id: str = Field(max_length=64)
    graph_id: str = Field(max_length=128)
    status: str = Field(default="pending", max_length=16)
    """pending | running | success | error | timeout | interrupted"""
    multitask_strategy: str = Field(default="reject", max_length=16)
    params: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    """What the run does: input or command, config, context, stream modes, policy, who asked."""
    meta: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    attempt: int = 0
    worker_id: str | None = Field(default=None, max_length=128)
    heartbeat_at: datetime | None = Field(default=None, sa_column=ts_column())
    cancel_action: str | None = Field(default=None, max_length=16)
    """Set when someone asked to stop it: interrupt | rollback."""
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    not_before: datetime | None = Field(default=None, sa_column=ts_column())
    started_at: datetime | None = Field(default=None, sa_column=ts_column())
    ended_at: datetime | None = Field(default=None, sa_column=ts_column())
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class RunEvent(SQLModel, table=True):
    """One streamed event of a run, kept so that a client can reconnect or join later."""

    __tablename__ = "run_events"

    run_id: str = Field(foreign_key="runs.run_id", primary_key=True, max_length=64, ondelete="CASCADE")
    seq: int = Field(primary_key=True)
    """Increases by one per event of the run; the SSE `id`."""
    event: str = Field(max_length=255)
    data: str = Field(sa_column=Column(Text, nullable=False))
    """The event's JSON, as sent."""
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())

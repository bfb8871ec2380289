"""Shapes of the runs API, named as langgraph-sdk sends and reads them (snake_case)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

StreamModeName = Literal[
    "values",
    "updates",
    "messages",
    "messages-tuple",
    "custom",
    "debug",
    "tasks",
    "checkpoints",
    "events",
    "tools",
    "lifecycle",
]
MultitaskStrategy = Literal["reject", "interrupt", "rollback", "enqueue"]


class SdkModel(BaseModel):
    """A request body of the SDK: unknown fields are ignored (newer clients send more)."""

    model_config = ConfigDict(extra="ignore")


class CommandIn(SdkModel):
    """`Command(resume=..., update=..., goto=...)` for the graph."""

    resume: Any = None
    update: Any = None
    goto: Any = None


class RunCreate(SdkModel):
    """A run to start: the SDK's `RunCreate` plus the streaming options of `runs.stream`."""

    assistant_id: str = Field(min_length=1, max_length=128)
    input: Any = None
    command: CommandIn | None = None
    config: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    stream_mode: StreamModeName | list[StreamModeName] | None = None
    stream_subgraphs: bool = False
    stream_resumable: bool = False
    checkpoint: dict[str, Any] | None = None
    checkpoint_id: str | None = None
    interrupt_before: Literal["*"] | list[str] | None = None
    interrupt_after: Literal["*"] | list[str] | None = None
    multitask_strategy: MultitaskStrategy = "enqueue"
    if_not_exists: Literal["create", "reject"] = "reject"
    on_disconnect: Literal["cancel", "continue"] = "continue"
    on_completion: Literal["delete", "keep"] = "delete"
    after_seconds: float | None = Field(default=None, ge=0, le=7 * 24 * 3600)
    durability: Literal["sync", "async", "exit"] | None = None
    webhook: str | None = None
    thread_id: str | None = None
    """Only in `POST /runs/batch` items: the thread of that run (none: stateless)."""


class ThreadCreate(SdkModel):
    """A thread to create."""

    thread_id: str | None = Field(default=None, max_length=64)
    metadata: dict[str, Any] | None = None
    if_exists: Literal["raise", "do_nothing"] = "raise"
    graph_id: str | None = None
    supersteps: list[dict[str, Any]] | None = None


class ThreadPatch(SdkModel):
    """Metadata to merge into a thread's."""

    metadata: dict[str, Any] | None = None


class ThreadSearch(SdkModel):
    """Filters of `POST /threads/search` and `/threads/count`."""

    metadata: dict[str, Any] | None = None
    values: dict[str, Any] | None = None
    ids: list[str] | None = None
    status: Literal["idle", "busy", "interrupted", "error"] | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)
    sort_by: Literal["thread_id", "status", "created_at", "updated_at"] = "created_at"
    sort_order: Literal["asc", "desc"] = "desc"
    select: list[str] | None = None


class StateUpdate(SdkModel):
    """`POST /threads/{id}/state`: values written as if `as_node` produced them."""

    values: Any = None
    as_node: str | None = None
    checkpoint: dict[str, Any] | None = None
    checkpoint_id: str | None = None


class StateAt(SdkModel):
    """`POST /threads/{id}/state/checkpoint`."""

    checkpoint: dict[str, Any]
    subgraphs: bool = False


class HistoryQuery(SdkModel):
    """`POST /threads/{id}/history`."""

    limit: int = Field(default=10, ge=1, le=1000)
    before: str | dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    checkpoint: dict[str, Any] | None = None


class CancelMany(SdkModel):
    """`POST /runs/cancel`: which runs."""

    thread_id: str | None = None
    run_ids: list[str] | None = None
    status: Literal["pending", "running", "all"] | None = None


class AssistantCreate(SdkModel):
    """An assistant to create on a graph."""

    graph_id: str = Field(min_length=1, max_length=128)
    assistant_id: str | None = Field(default=None, max_length=64)
    config: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    if_exists: Literal["raise", "do_nothing"] = "raise"
    name: str | None = Field(default=None, max_length=255)
    description: str | None = None


class AssistantPatch(SdkModel):
    """Changes to an assistant."""

    graph_id: str | None = None
    config: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    name: str | None = Field(default=None, max_length=255)
    description: str | None = None


class AssistantSearch(SdkModel):
    """Filters of `POST /assistants/search` and `/assistants/count`."""

    metadata: dict[str, Any] | None = None
    graph_id: str | None = None
    name: str | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)
    sort_by: Literal["assistant_id", "graph_id", "name", "created_at", "updated_at"] | None = None
    sort_order: Literal["asc", "desc"] | None = None


class AssistantOut(BaseModel):
    """An assistant as the SDK reads it."""

    assistant_id: str
    graph_id: str
    config: dict[str, Any]
    context: dict[str, Any]
    metadata: dict[str, Any]
    version: int
    name: str
    description: str | None
    created_at: datetime
    updated_at: datetime


class ThreadOut(BaseModel):
    """A thread as the SDK reads it."""

    thread_id: str
    created_at: datetime
    updated_at: datetime
    metadata: dict[str, Any]
    status: str
    values: Any
    interrupts: dict[str, Any]


class RunOut(BaseModel):
    """A run as the SDK reads it; `metadata.usage` holds its agents, models and cost once it ended."""

    run_id: str
    thread_id: str
    assistant_id: str
    created_at: datetime
    updated_at: datetime
    status: str
    metadata: dict[str, Any]
    multitask_strategy: str
    cancel_reason: str | None = None
    error: str | None = None
    attempt: int = 0

"""Tables of the LLM runtime: the cost ledger, budget counters and reservations, the response cache."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, DateTime, Index, Text
from sqlmodel import Field, SQLModel

from brandcrew.store.tables._base import new_id, utcnow


class LlmCall(SQLModel, table=True):
    """One model call (or cache hit): who asked, which model answered, tokens by kind, and USD."""

    __tablename__ = "llm_calls"
    __table_args__ = (
        Index("ix_llm_calls_workspace_created", "workspace_id", "created_at"),
        Index("ix_llm_calls_campaign", "campaign_id"),
        Index("ix_llm_calls_run", "run_id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True)))
    workspace_id: str = Field(max_length=64)
    campaign_id: str | None = Field(default=None, max_length=64)
    run_id: str | None = Field(default=None, max_length=64)
    agent: str | None = Field(default=None, max_length=64)
    step: str | None = Field(default=None, max_length=32)
    model: str = Field(max_length=128)
    provider: str = Field(max_length=64)
    input_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    price_input: str | None = Field(default=None, max_length=32)
    """Unit prices used, USD per million tokens, fixed at the time of the call."""
    price_output: str | None = Field(default=None, max_length=32)
    price_cache_read: str | None = Field(default=None, max_length=32)
    price_cache_write: str | None = Field(default=None, max_length=32)
    cost_nanousd: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    """USD x 1e9; None means the call could not be priced (never a fake zero)."""
    saved_nanousd: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    """What a cache hit saved: the original call's cost."""
    cache_hit: bool = False
    offline: bool = False
    latency_ms: float = 0.0
    status: str = Field(default="ok", max_length=16)
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    route_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    reservation_id: str | None = Field(default=None, max_length=36)


class BudgetLimit(SQLModel, table=True):
    """A configured spending cap: per workspace per day or month, per campaign, per run."""

    __tablename__ = "budget_limits"

    scope: str = Field(primary_key=True, max_length=32)
    """One of workspace_day, workspace_month, campaign, run."""
    scope_id: str = Field(primary_key=True, max_length=64)
    limit_nanousd: int = Field(sa_column=Column(BigInteger, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True)))


class BudgetCounter(SQLModel, table=True):
    """Spent and reserved money against one budget key (e.g. `workspace:w1:day:2026-11-25`)."""

    __tablename__ = "budget_counters"

    key: str = Field(primary_key=True, max_length=160)
    limit_nanousd: int = Field(sa_column=Column(BigInteger, nullable=False))
    spent_nanousd: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    reserved_nanousd: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))


class BudgetReservation(SQLModel, table=True):
    """Money held against budget keys while a call is in flight."""

    __tablename__ = "budget_reservations"
    __table_args__ = (Index("ix_budget_reservations_open", "status", "expires_at"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    keys: str = Field(sa_column=Column(Text, nullable=False))
    """JSON list of the budget keys held."""
    amount_nanousd: int = Field(sa_column=Column(BigInteger, nullable=False))
    actual_nanousd: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    status: str = Field(default="reserved", max_length=16)
    """reserved -> settled | released."""
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True)))
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class LlmCacheEntry(SQLModel, table=True):
    """A cached model response, keyed by sha256(workspace, model, messages, params)."""

    __tablename__ = "llm_cache"
    __table_args__ = (Index("ix_llm_cache_expires", "expires_at"),)

    key: str = Field(primary_key=True, max_length=64)
    workspace_id: str = Field(max_length=64)
    model: str = Field(max_length=128)
    response: str = Field(sa_column=Column(Text, nullable=False))
    cost_nanousd: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True)))
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))

"""The cost ledger: one row per model call or cache hit, and the queries over it.

Rows may reach the table write-behind (budget leases settle in batches, see `brandcrew.llm.leases`):
every read here first flushes what this process has pending (`flush_pending`), so a process always
reads its own calls; readers that query `llm_calls` directly call `flush_pending` first.
"""

from __future__ import annotations

import weakref
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, Protocol

from pydantic import BaseModel
from sqlalchemy import Engine, case, func
from sqlmodel import Session, col, select

from brandcrew.llm._cost import from_nanos
from brandcrew.store.tables import LlmCall

_LLM_CALLS: Any = LlmCall.__table__  # type: ignore[attr-defined]


class _Pending(Protocol):
    def flush(self) -> None: ...


_pending: weakref.WeakSet[Any] = weakref.WeakSet()


def register_pending(writer: _Pending) -> None:
    """Make `flush_pending` flush this write-behind writer too."""
    _pending.add(writer)


def flush_pending() -> None:
    """Commit every ledger row and settlement this process still holds in memory (blocking)."""
    for writer in list(_pending):
        writer.flush()


def ledger_values(call: LlmCall | dict[str, Any]) -> dict[str, Any]:
    """The column values of a ledger row given as a table model or as a dict of every column."""
    return call if isinstance(call, dict) else call.model_dump()


GroupBy = Literal["workspace", "campaign", "run", "agent", "model", "provider", "step", "day"]
GROUP_BY: tuple[GroupBy, ...] = ("workspace", "campaign", "run", "agent", "model", "provider", "step", "day")


class CostRow(BaseModel):
    """Spend and tokens of one group of ledger rows."""

    group: dict[str, str | None]
    calls: int
    cache_hits: int
    input_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    output_tokens: int
    reasoning_tokens: int
    cost_usd: Decimal
    saved_usd: Decimal
    unpriced_calls: int
    """Calls that could not be priced; their cost is unknown, not zero."""


class CostFilter(BaseModel):
    """Which ledger rows to include."""

    workspace_id: str | None = None
    campaign_id: str | None = None
    run_id: str | None = None
    agent: str | None = None
    model: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _column(group: GroupBy):  # type: ignore[no-untyped-def]
    if group == "day":
        return func.date(LlmCall.created_at).label("day")
    name = {"workspace": "workspace_id", "campaign": "campaign_id", "run": "run_id"}.get(group, group)
    return col(getattr(LlmCall, name)).label(group)


class CostLedger:
    """Writes and reads the `llm_calls` table."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, call: LlmCall | dict[str, Any]) -> LlmCall | dict[str, Any]:
        """Append one row (a table model, or a dict of every column as the runtime builds it)."""
        with self.engine.begin() as conn:  # a Core insert: the ORM's unit of work costs more than the row
            conn.execute(_LLM_CALLS.insert(), ledger_values(call))
        return call

    def rows(self, flt: CostFilter | None = None, *, limit: int = 1000) -> list[LlmCall]:
        """The newest rows matching a filter."""
        flush_pending()
        stmt = self._where(select(LlmCall), flt or CostFilter()).order_by(col(LlmCall.created_at).desc())
        with Session(self.engine) as session:
            return list(session.exec(stmt.limit(limit)).all())

    @staticmethod
    def _where(stmt, flt: CostFilter):  # type: ignore[no-untyped-def]
        for field in ("workspace_id", "campaign_id", "run_id", "agent", "model"):
            value = getattr(flt, field)
            if value is not None:
                stmt = stmt.where(getattr(LlmCall, field) == value)
        if flt.since is not None:
            stmt = stmt.where(col(LlmCall.created_at) >= flt.since)
        if flt.until is not None:
            stmt = stmt.where(col(LlmCall.created_at) < flt.until)
        return stmt

    def totals(self, by: list[GroupBy] | None = None, flt: CostFilter | None = None) -> list[CostRow]:
        """Spend and tokens grouped by any of workspace/campaign/run/agent/model/provider/step/day."""
        flush_pending()
        groups = [_column(g) for g in (by or [])]
        aggregates = [
            func.count().label("calls"),
            func.sum(case((col(LlmCall.cache_hit), 1), else_=0)).label("cache_hits"),
            func.coalesce(func.sum(LlmCall.input_tokens), 0),
            func.coalesce(func.sum(LlmCall.cache_read_tokens), 0),
            func.coalesce(func.sum(LlmCall.cache_write_tokens), 0),
            func.coalesce(func.sum(LlmCall.output_tokens), 0),
            func.coalesce(func.sum(LlmCall.reasoning_tokens), 0),
            func.coalesce(func.sum(LlmCall.cost_nanousd), 0),
            func.coalesce(func.sum(LlmCall.saved_nanousd), 0),
            func.count() - func.count(col(LlmCall.cost_nanousd)),
        ]
        stmt = self._where(select(*groups, *aggregates), flt or CostFilter())
        if groups:
            stmt = stmt.group_by(*groups).order_by(*groups)
        out = []
        with Session(self.engine) as session:
            for row in session.exec(stmt).all():
                values = tuple(row)
                keys = values[: len(groups)]
                calls, hits, inp, cr, cw, outp, reas, cost, saved, unpriced = values[len(groups) :]
                out.append(
                    CostRow(
                        group={
                            g: (None if k is None else str(k)) for g, k in zip(by or [], keys, strict=True)
                        },
                        calls=int(calls),
                        cache_hits=int(hits or 0),
                        input_tokens=int(inp),
                        cache_read_tokens=int(cr),
                        cache_write_tokens=int(cw),
                        output_tokens=int(outp),
                        reasoning_tokens=int(reas),
                        cost_usd=from_nanos(int(cost)),
                        saved_usd=from_nanos(int(saved)),
                        unpriced_calls=int(unpriced),
                    )
                )
        return out

"""Which caps apply to a call: workspace per day and per month, campaign, run."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

from sqlalchemy import Engine
from sqlmodel import Session, select

from brandcrew.llm._cost import from_nanos, to_nanos
from brandcrew.llm.budgets import BudgetScope
from brandcrew.llm.context import LlmContext
from brandcrew.store.engine import session_scope
from brandcrew.store.tables import BudgetLimit, utcnow

BudgetKind = Literal["workspace_day", "workspace_month", "campaign", "run"]
BUDGET_KINDS: tuple[BudgetKind, ...] = ("workspace_day", "workspace_month", "campaign", "run")


def budget_key(kind: BudgetKind, scope_id: str, at: datetime) -> str:
    """The counter key of a cap; day and month caps get a fresh key each period."""
    if kind == "workspace_day":
        return f"workspace:{scope_id}:day:{at:%Y-%m-%d}"
    if kind == "workspace_month":
        return f"workspace:{scope_id}:month:{at:%Y-%m}"
    return f"{kind}:{scope_id}"


class BudgetLimits:
    """Configured caps, stored in `budget_limits`, read through a short in-process cache."""

    def __init__(self, engine: Engine, *, cache_s: float = 2.0) -> None:
        self.engine = engine
        self._cache_s = cache_s
        self._cache: dict[tuple[str, str], tuple[float, int | None]] = {}
        self._lock = threading.Lock()

    def set(self, kind: BudgetKind, scope_id: str, usd: Decimal | float | str | None) -> None:
        """Set (or with None, remove) a cap in USD."""
        with session_scope(self.engine) as session:
            row = session.get(BudgetLimit, (kind, scope_id))
            if usd is None:
                if row is not None:
                    session.delete(row)
            elif row is None:
                session.add(
                    BudgetLimit(scope=kind, scope_id=scope_id, limit_nanousd=to_nanos(Decimal(str(usd))))
                )
            else:
                row.limit_nanousd = to_nanos(Decimal(str(usd)))
                row.updated_at = utcnow()
                session.add(row)
        with self._lock:
            self._cache.pop((kind, scope_id), None)

    def get(self, kind: BudgetKind, scope_id: str) -> Decimal | None:
        """The cap in USD, or None when there is none."""
        nanos = self._get_nanos(kind, scope_id)
        return None if nanos is None else from_nanos(nanos)

    def _get_nanos(self, kind: BudgetKind, scope_id: str) -> int | None:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get((kind, scope_id))
            if hit is not None and now - hit[0] < self._cache_s:
                return hit[1]
        with Session(self.engine) as session:
            row = session.exec(
                select(BudgetLimit).where(BudgetLimit.scope == kind, BudgetLimit.scope_id == scope_id)
            ).first()
        value = None if row is None else row.limit_nanousd
        with self._lock:
            self._cache[(kind, scope_id)] = (now, value)
        return value

    def cached_scopes_for(self, ctx: LlmContext) -> list[BudgetScope] | None:
        """`scopes_for` from the in-process cache alone: None when a cap must be read from the database."""
        now = time.monotonic()
        at = datetime.now(UTC)
        scopes = []
        with self._lock:
            for kind, scope_id in (
                ("workspace_day", ctx.workspace_id),
                ("workspace_month", ctx.workspace_id),
                ("campaign", ctx.campaign_id),
                ("run", ctx.run_id),
            ):
                if scope_id is None:
                    continue
                hit = self._cache.get((kind, scope_id))
                if hit is None or now - hit[0] >= self._cache_s:
                    return None
                if hit[1] is not None:
                    key = budget_key(kind, scope_id, at)  # type: ignore[arg-type]
                    scopes.append(BudgetScope(key=key, limit_nanos=hit[1]))
        return scopes

    def scopes_for(self, ctx: LlmContext, *, at: datetime | None = None) -> list[BudgetScope]:
        """The caps a call in `ctx` must fit under (none when nothing is capped)."""
        at = at or datetime.now(UTC)
        wanted: list[tuple[BudgetKind, str | None]] = [
            ("workspace_day", ctx.workspace_id),
            ("workspace_month", ctx.workspace_id),
            ("campaign", ctx.campaign_id),
            ("run", ctx.run_id),
        ]
        scopes = []
        for kind, scope_id in wanted:
            if scope_id is None:
                continue
            limit = self._get_nanos(kind, scope_id)
            if limit is not None:
                scopes.append(BudgetScope(key=budget_key(kind, scope_id, at), limit_nanos=limit))
        return scopes

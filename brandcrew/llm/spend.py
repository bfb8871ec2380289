"""A workspace's AI spend at a glance: today, this month, and what its caps leave."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel

from brandcrew.llm._cost import from_nanos
from brandcrew.llm.budgets import BudgetStore
from brandcrew.llm.ledger import CostFilter, CostLedger
from brandcrew.llm.limits import BudgetKind, BudgetLimits, budget_key


class BudgetState(BaseModel):
    """One cap and where it stands now (`limit_usd` None: no cap)."""

    kind: BudgetKind
    scope_id: str
    limit_usd: Decimal | None
    spent_usd: Decimal
    reserved_usd: Decimal
    remaining_usd: Decimal | None


class SpendSummary(BaseModel):
    """Spend today and this month (UTC) and the workspace's day and month caps."""

    today_usd: Decimal
    today_calls: int
    month_usd: Decimal
    month_calls: int
    unpriced_calls: int
    """Calls this month whose cost is unknown (not counted as zero in the sums)."""
    budgets: list[BudgetState]


def budget_state(
    limits: BudgetLimits, budgets: BudgetStore, kind: BudgetKind, scope_id: str, now: datetime
) -> BudgetState:
    """A cap's limit and the current period's spent and reserved money."""
    limit = limits.get(kind, scope_id)
    key = budget_key(kind, scope_id, now)
    status = {s.key: s for s in budgets.status([key])}.get(key)
    spent = from_nanos(status.spent_nanos) if status else Decimal(0)
    reserved = from_nanos(status.reserved_nanos) if status else Decimal(0)
    remaining = None if limit is None else max(Decimal(0), limit - spent - reserved)
    return BudgetState(
        kind=kind,
        scope_id=scope_id,
        limit_usd=limit,
        spent_usd=spent,
        reserved_usd=reserved,
        remaining_usd=remaining,
    )


def workspace_summary(
    ledger: CostLedger, limits: BudgetLimits, budgets: BudgetStore, workspace_id: str, now: datetime
) -> SpendSummary:
    """The workspace's spend today and this month, with its day and month caps."""
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    month_start = day_start.replace(day=1)
    today = ledger.totals([], CostFilter(workspace_id=workspace_id, since=day_start))
    month = ledger.totals([], CostFilter(workspace_id=workspace_id, since=month_start))
    return SpendSummary(
        today_usd=sum((r.cost_usd for r in today), start=Decimal(0)),
        today_calls=sum(r.calls for r in today),
        month_usd=sum((r.cost_usd for r in month), start=Decimal(0)),
        month_calls=sum(r.calls for r in month),
        unpriced_calls=sum(r.unpriced_calls for r in month),
        budgets=[
            budget_state(limits, budgets, kind, workspace_id, now)
            for kind in ("workspace_day", "workspace_month")
        ],
    )

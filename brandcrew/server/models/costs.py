"""Wire models of the AI costs API (`/api/costs`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field, model_validator

from brandcrew.server.models.common import IdStr
from brandcrew.server.schemas import ApiModel


class CostRowOut(ApiModel):
    """Spend and tokens of one group of model calls."""

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
    """Calls whose cost is unknown: not counted as zero in `costUsd`."""


class CostsOut(ApiModel):
    """Spend grouped as asked, and the total."""

    group_by: list[str]
    rows: list[CostRowOut]
    total_usd: Decimal
    calls: int


class BudgetOut(ApiModel):
    """One cap and where it stands (`limitUsd` null: no cap)."""

    kind: str
    scope_id: str
    limit_usd: Decimal | None = None
    spent_usd: Decimal
    reserved_usd: Decimal
    remaining_usd: Decimal | None = None


class SummaryOut(ApiModel):
    """Spend today and this month (UTC), and the workspace's caps."""

    today_usd: Decimal
    today_calls: int
    month_usd: Decimal
    month_calls: int
    unpriced_calls: int
    budgets: list[BudgetOut]


class RunCostsOut(ApiModel):
    """What one run (a chat turn, an AI call, an autopilot cycle) cost, by agent and by model."""

    run_id: str
    agents: list[CostRowOut]
    models: list[CostRowOut]
    cost_usd: Decimal
    calls: int
    tokens: int


class BudgetIn(ApiModel):
    """A cap to set (`limitUsd` null removes it): the workspace's day or month, or one campaign's."""

    kind: Literal["workspace_day", "workspace_month", "campaign"]
    campaign_id: IdStr | None = None
    limit_usd: Decimal | None = Field(ge=0, le=1_000_000_000, decimal_places=9)

    @model_validator(mode="after")
    def _campaign(self) -> BudgetIn:
        if (self.kind == "campaign") != (self.campaign_id is not None):
            raise ValueError("campaignId is required for kind 'campaign' and only for it")
        return self

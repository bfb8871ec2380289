"""AI spend of the caller's workspace from the cost ledger, its budgets, and one run's costs."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, cast

from fastapi import APIRouter, Path, Query

from brandcrew.llm.ledger import GROUP_BY, CostFilter, CostRow, GroupBy
from brandcrew.llm.runtime import get_runtime
from brandcrew.llm.spend import budget_state, workspace_summary
from brandcrew.server.deps import PrincipalDep, ServicesDep, SessionDep, require
from brandcrew.server.errors import ApiError
from brandcrew.server.models.common import ERRORS, IdStr, Instant
from brandcrew.server.models.costs import BudgetIn, BudgetOut, CostRowOut, CostsOut, RunCostsOut, SummaryOut
from brandcrew.server.permissions import Permission
from brandcrew.server.routes.posts import audit_actor
from brandcrew.services import audit, campaigns

router = APIRouter(prefix="/api/costs", tags=["costs"], responses=ERRORS)
_GROUPS = tuple(g for g in GROUP_BY if g != "workspace")


def _rows(rows: list[CostRow]) -> list[CostRowOut]:
    return [CostRowOut.model_validate(r.model_dump()) for r in rows]


def _group_by(raw: str) -> list[GroupBy]:
    names = [g.strip() for g in raw.split(",") if g.strip()]
    unknown = [g for g in names if g not in _GROUPS]
    if unknown or len(set(names)) != len(names):
        raise ApiError(
            422,
            "VALIDATION_ERROR",
            f"groupBy takes distinct names from {', '.join(_GROUPS)}",
            {"field": "groupBy", "unknown": unknown},
        )
    return cast(list[GroupBy], names)


@router.get("", response_model=CostsOut, dependencies=[require(Permission.ANALYTICS_VIEW)])
def costs(
    principal: PrincipalDep,
    group_by: Annotated[str, Query(alias="groupBy", max_length=200)] = "agent,model",
    since: Instant | None = None,
    until: Instant | None = None,
    campaign_id: Annotated[IdStr | None, Query(alias="campaignId")] = None,
    run_id: Annotated[str | None, Query(alias="runId", min_length=1, max_length=128)] = None,
) -> CostsOut:
    """The workspace's model spend and tokens, grouped by any of campaign, run, agent, model, provider,
    step and day, optionally for one campaign or run and a time window."""
    by = _group_by(group_by)
    flt = CostFilter(
        workspace_id=principal.workspace_id, campaign_id=campaign_id, run_id=run_id, since=since, until=until
    )
    rows = get_runtime().ledger.totals(by, flt)
    return CostsOut(
        group_by=list(by),
        rows=_rows(rows),
        total_usd=sum((r.cost_usd for r in rows), start=Decimal(0)),
        calls=sum(r.calls for r in rows),
    )


@router.get("/summary", response_model=SummaryOut, dependencies=[require(Permission.ANALYTICS_VIEW)])
def summary(principal: PrincipalDep, services: ServicesDep) -> SummaryOut:
    """Spend today and this month, and what the workspace's day and month caps leave."""
    runtime = get_runtime()
    result = workspace_summary(
        runtime.ledger, runtime.limits, runtime.budgets, principal.workspace_id, services.clock()
    )
    return SummaryOut.model_validate(result.model_dump())


@router.get("/runs/{run_id}", response_model=RunCostsOut, dependencies=[require(Permission.ANALYTICS_VIEW)])
def run_costs(
    run_id: Annotated[str, Path(min_length=1, max_length=200)], principal: PrincipalDep
) -> RunCostsOut:
    """One run's spend by agent and by model (404 when the workspace has no call in that run)."""
    ledger = get_runtime().ledger
    flt = CostFilter(workspace_id=principal.workspace_id, run_id=run_id)
    agents = ledger.totals(["agent"], flt)
    if not agents:
        raise ApiError(404, "NOT_FOUND", f"no model calls in run {run_id}")
    return RunCostsOut(
        run_id=run_id,
        agents=_rows(agents),
        models=_rows(ledger.totals(["model"], flt)),
        cost_usd=sum((r.cost_usd for r in agents), start=Decimal(0)),
        calls=sum(r.calls for r in agents),
        tokens=sum(
            r.input_tokens + r.cache_read_tokens + r.cache_write_tokens + r.output_tokens + r.reasoning_tokens
            for r in agents
        ),
    )


@router.put("/budget", response_model=BudgetOut, dependencies=[require(Permission.BILLING_MANAGE)])
def set_budget(
    body: BudgetIn, principal: PrincipalDep, session: SessionDep, services: ServicesDep
) -> BudgetOut:
    """Set or remove a hard cap on the workspace's day or month spend, or on one of its campaigns."""
    scope_id = principal.workspace_id
    if body.kind == "campaign":
        scope_id = campaigns.get_campaign(
            session, workspace_id=principal.workspace_id, campaign_id=body.campaign_id or ""
        ).id
        session.commit()  # the limits write in a transaction of their own: hold no lock meanwhile
    runtime = get_runtime()
    runtime.limits.set(body.kind, scope_id, body.limit_usd)
    audit.record(
        session,
        workspace_id=principal.workspace_id,
        user_id=principal.user_id,
        actor=audit_actor(principal),
        action="set_budget",
        resource="budget",
        resource_id=f"{body.kind}:{scope_id}",
        changes={"limit_usd": None if body.limit_usd is None else str(body.limit_usd)},
    )
    session.commit()
    state = budget_state(runtime.limits, runtime.budgets, body.kind, scope_id, services.clock())
    return BudgetOut.model_validate(state.model_dump())

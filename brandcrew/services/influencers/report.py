"""An influencer campaign's report: spend against budget, results, cost per engagement, goals.

Money is summed in cents and divided once, so totals are exact; cost ratios are rounded to 4 places.
The campaign's cost per engagement is the fees of collaborations that have results (live or
completed) divided by their engagements: a fee whose posts have not run yet is not spread over
someone else's engagements.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel
from sqlmodel import Session, col, select

from brandcrew.services.influencers._signals import WIRE
from brandcrew.services.influencers.campaigns import (
    COMMITTED,
    TRANSITIONS,
    WITH_RESULTS,
    get_campaign,
    list_collaborations,
)
from brandcrew.store.tables import Collaboration, Influencer, InfluencerCampaign, as_utc, utcnow


class CollaborationLine(BaseModel):
    """One collaboration's row of the report."""

    model_config = WIRE

    collaboration_id: str
    influencer_id: str
    username: str
    platform: str
    status: str
    fee: float | None
    reach: int
    engagements: int
    clicks: int
    posts: int
    deliverables_done: int
    deliverables_total: int
    deliverables_overdue: int
    cost_per_engagement: float | None
    cost_per_click: float | None
    cpm: float | None
    """Cost per thousand reached."""
    engagement_rate: float | None
    """Engagements / reach."""


class GoalProgress(BaseModel):
    """A goal, where it stands and the share reached."""

    model_config = WIRE

    metric: str
    target: float
    current: float
    progress: float


class CampaignTotals(BaseModel):
    """Totals over the campaign's collaborations."""

    model_config = WIRE

    collaborations: int
    by_status: dict[str, int]
    committed: float
    """Fees of agreed, live and completed collaborations."""
    paid_out: float
    """Fees of completed collaborations."""
    budget: float | None
    budget_remaining: float | None
    budget_used: float | None
    """Committed / budget."""
    reach: int
    engagements: int
    clicks: int
    posts: int
    fees_with_results: float
    """Fees of live and completed collaborations (the spend the results below were bought with)."""
    cost_per_engagement: float | None
    cost_per_click: float | None
    cpm: float | None
    engagement_rate: float | None
    deliverables_done: int
    deliverables_total: int
    deliverables_overdue: int


class CampaignReport(BaseModel):
    """Totals, one line per collaboration and goal progress."""

    model_config = WIRE

    campaign_id: str
    name: str
    status: str
    currency: str
    generated_at: datetime
    totals: CampaignTotals
    collaborations: list[CollaborationLine]
    goals: list[GoalProgress]


def _ratio(numerator_cents: int, denominator: int, scale: int = 1) -> float | None:
    if denominator <= 0:
        return None
    value = Decimal(numerator_cents) * scale / 100 / Decimal(denominator)
    return float(round(value, 4))


def _money(cents: int) -> float:
    return float(Decimal(cents) / 100)


def _deliverable_counts(c: Collaboration, now: datetime) -> tuple[int, int, int]:
    done = sum(1 for d in c.deliverables if d.get("done"))
    overdue = 0
    for d in c.deliverables:
        due = d.get("dueAt")
        if due and not d.get("done") and (as_utc(datetime.fromisoformat(due)) or now) < now:
            overdue += 1
    return done, len(c.deliverables), overdue


def campaign_report(
    session: Session, *, workspace_id: str, campaign_id: str, now: datetime | None = None
) -> CampaignReport:
    """The report of one of the workspace's influencer campaigns."""
    campaign: InfluencerCampaign = get_campaign(session, workspace_id=workspace_id, campaign_id=campaign_id)
    at = now or utcnow()
    collabs = list_collaborations(session, workspace_id=workspace_id, campaign_id=campaign.id)
    ids = [c.influencer_id for c in collabs]
    people = {
        i.id: i
        for i in session.exec(
            select(Influencer).where(Influencer.workspace_id == workspace_id, col(Influencer.id).in_(ids))
        ).all()
    }
    lines = []
    for c in collabs:
        person = people.get(c.influencer_id)
        fee = c.fee_cents or 0
        done, total, overdue = _deliverable_counts(c, at)
        measured = c.status in WITH_RESULTS and c.fee_cents is not None
        lines.append(
            CollaborationLine(
                collaboration_id=c.id,
                influencer_id=c.influencer_id,
                username=person.username if person else "",
                platform=person.platform if person else "",
                status=c.status,
                fee=_money(c.fee_cents) if c.fee_cents is not None else None,
                reach=c.reach,
                engagements=c.engagements,
                clicks=c.clicks,
                posts=len(c.posts),
                deliverables_done=done,
                deliverables_total=total,
                deliverables_overdue=overdue,
                cost_per_engagement=_ratio(fee, c.engagements) if measured else None,
                cost_per_click=_ratio(fee, c.clicks) if measured else None,
                cpm=_ratio(fee, c.reach, 1000) if measured else None,
                engagement_rate=round(c.engagements / c.reach, 6) if c.reach else None,
            )
        )
    committed = sum(c.fee_cents or 0 for c in collabs if c.status in COMMITTED)
    paid = sum(c.fee_cents or 0 for c in collabs if c.status == "completed")
    with_results = [c for c in collabs if c.status in WITH_RESULTS]
    fees_measured = sum(c.fee_cents or 0 for c in with_results)
    reach = sum(c.reach for c in collabs)
    engagements = sum(c.engagements for c in collabs)
    clicks = sum(c.clicks for c in collabs)
    posts = sum(len(c.posts) for c in collabs)
    eng_measured = sum(c.engagements for c in with_results)
    clicks_measured = sum(c.clicks for c in with_results)
    reach_measured = sum(c.reach for c in with_results)
    budget = campaign.budget_cents
    statuses = Counter(c.status for c in collabs)
    totals = CampaignTotals(
        collaborations=len(collabs),
        by_status={s: statuses.get(s, 0) for s in TRANSITIONS},
        committed=_money(committed),
        paid_out=_money(paid),
        budget=_money(budget) if budget is not None else None,
        budget_remaining=_money(budget - committed) if budget is not None else None,
        budget_used=round(committed / budget, 4) if budget else None,
        reach=reach,
        engagements=engagements,
        clicks=clicks,
        posts=posts,
        fees_with_results=_money(fees_measured),
        cost_per_engagement=_ratio(fees_measured, eng_measured),
        cost_per_click=_ratio(fees_measured, clicks_measured),
        cpm=_ratio(fees_measured, reach_measured, 1000),
        engagement_rate=round(engagements / reach, 6) if reach else None,
        deliverables_done=sum(line.deliverables_done for line in lines),
        deliverables_total=sum(line.deliverables_total for line in lines),
        deliverables_overdue=sum(line.deliverables_overdue for line in lines),
    )
    current = {
        "reach": float(reach),
        "engagements": float(engagements),
        "clicks": float(clicks),
        "posts": float(posts),
        "collaborations": float(sum(1 for c in collabs if c.status in COMMITTED)),
    }
    goals = [
        GoalProgress(
            metric=g["metric"],
            target=float(g["target"]),
            current=current.get(g["metric"], 0.0),
            progress=round(current.get(g["metric"], 0.0) / float(g["target"]), 4),
        )
        for g in campaign.goals
        if float(g.get("target") or 0) > 0
    ]
    return CampaignReport(
        campaign_id=campaign.id,
        name=campaign.name,
        status=campaign.status,
        currency=campaign.currency,
        generated_at=at,
        totals=totals,
        collaborations=lines,
        goals=goals,
    )

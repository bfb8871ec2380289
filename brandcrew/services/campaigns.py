"""Campaigns: dates, goals with progress, budget, UTM parameters, status changes."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator
from sqlmodel import Session, col, select

from brandcrew.services import audit
from brandcrew.services._scoped import get_owned
from brandcrew.services.errors import Conflict, ValidationFailed
from brandcrew.store.tables import Campaign, Post, as_utc, utcnow

CampaignStatus = Literal["draft", "active", "paused", "completed"]
_TRANSITIONS: dict[str, set[str]] = {
    "draft": {"active", "completed"},
    "active": {"paused", "completed"},
    "paused": {"active", "completed"},
    "completed": set(),
}


class CampaignGoal(BaseModel):
    """A metric target, e.g. {metric: "engagement_rate", target: 0.04}."""

    metric: str
    target: float
    current: float = 0.0


class CampaignIn(BaseModel):
    """What a campaign is created or updated with."""

    name: str = Field(min_length=1, max_length=255)
    description: str = ""
    start_date: datetime | None = None
    end_date: datetime | None = None
    goals: list[CampaignGoal] = Field(default_factory=list)
    budget_usd: Decimal | None = Field(default=None, ge=0)
    tags: list[str] = Field(default_factory=list)
    utm_params: dict[str, str] = Field(default_factory=dict)

    @field_validator("utm_params")
    @classmethod
    def _utm_keys(cls, value: dict[str, str]) -> dict[str, str]:
        allowed = {"utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"}
        unknown = set(value) - allowed
        if unknown:
            raise ValueError(f"unknown UTM parameters {sorted(unknown)}; use {sorted(allowed)}")
        return value


def _check_dates(data: CampaignIn) -> None:
    start, end = as_utc(data.start_date), as_utc(data.end_date)
    if start and end and end <= start:
        raise ValidationFailed("end_date must be after start_date", details={"field": "end_date"})


def create_campaign(
    session: Session, *, workspace_id: str, data: CampaignIn, user_id: str | None = None
) -> Campaign:
    """Create a draft campaign."""
    _check_dates(data)
    campaign = Campaign(
        workspace_id=workspace_id,
        name=data.name,
        description=data.description,
        start_date=data.start_date,
        end_date=data.end_date,
        goals=[g.model_dump() for g in data.goals],
        budget_usd=None if data.budget_usd is None else str(data.budget_usd),
        tags=data.tags,
        utm_params=data.utm_params,
    )
    session.add(campaign)
    session.flush()
    audit.record(
        session,
        workspace_id=workspace_id,
        user_id=user_id,
        action="create",
        resource="campaign",
        resource_id=campaign.id,
        changes=data.model_dump(mode="json"),
    )
    return campaign


def get_campaign(session: Session, *, workspace_id: str, campaign_id: str) -> Campaign:
    """One campaign of the workspace, or NotFound."""
    return get_owned(session, Campaign, campaign_id, workspace_id=workspace_id, label="campaign")


def list_campaigns(session: Session, *, workspace_id: str, status: str | None = None) -> list[Campaign]:
    """The workspace's campaigns, newest first."""
    stmt = select(Campaign).where(Campaign.workspace_id == workspace_id)
    if status is not None:
        stmt = stmt.where(Campaign.status == status)
    return list(session.exec(stmt.order_by(col(Campaign.created_at).desc())).all())


def update_campaign(
    session: Session, *, workspace_id: str, campaign_id: str, data: CampaignIn, user_id: str | None = None
) -> Campaign:
    """Replace a campaign's editable fields."""
    campaign = get_campaign(session, workspace_id=workspace_id, campaign_id=campaign_id)
    if campaign.status == "completed":
        raise Conflict("a completed campaign cannot be edited")
    _check_dates(data)
    before: dict[str, Any] = campaign.model_dump(mode="json")
    campaign.name, campaign.description = data.name, data.description
    campaign.start_date, campaign.end_date = data.start_date, data.end_date
    campaign.goals = [g.model_dump() for g in data.goals]
    campaign.budget_usd = None if data.budget_usd is None else str(data.budget_usd)
    campaign.tags, campaign.utm_params, campaign.updated_at = data.tags, data.utm_params, utcnow()
    session.add(campaign)
    audit.record(
        session,
        workspace_id=workspace_id,
        user_id=user_id,
        action="update",
        resource="campaign",
        resource_id=campaign.id,
        changes={"from": before, "to": data.model_dump(mode="json")},
    )
    return campaign


def set_status(
    session: Session,
    *,
    workspace_id: str,
    campaign_id: str,
    status: CampaignStatus,
    reason: str | None = None,
    user_id: str | None = None,
    actor: str = "user",
) -> Campaign:
    """Move a campaign through draft -> active <-> paused -> completed, with a reason for pauses."""
    campaign = get_campaign(session, workspace_id=workspace_id, campaign_id=campaign_id)
    if status != campaign.status and status not in _TRANSITIONS[campaign.status]:
        raise Conflict(f"a {campaign.status} campaign cannot become {status}")
    previous = campaign.status
    campaign.status = status
    campaign.paused_reason = reason if status == "paused" else None
    campaign.updated_at = utcnow()
    session.add(campaign)
    audit.record(
        session,
        workspace_id=workspace_id,
        user_id=user_id,
        actor=actor,
        action=f"status:{status}",
        resource="campaign",
        resource_id=campaign.id,
        changes={"from": previous, "reason": reason},
    )
    return campaign


def update_goal_progress(session: Session, *, campaign: Campaign, metric: str, current: float) -> Campaign:
    """Record a goal's current value (the analytics job calls this after each measurement)."""
    goals = [dict(g) for g in campaign.goals]
    for goal in goals:
        if goal["metric"] == metric:
            goal["current"] = current
    campaign.goals = goals
    campaign.updated_at = utcnow()
    session.add(campaign)
    return campaign


def campaign_posts(session: Session, *, workspace_id: str, campaign_id: str) -> list[Post]:
    """The posts of a campaign."""
    get_campaign(session, workspace_id=workspace_id, campaign_id=campaign_id)
    return list(
        session.exec(
            select(Post)
            .where(Post.workspace_id == workspace_id, Post.campaign_id == campaign_id)
            .order_by(col(Post.created_at).desc())
        ).all()
    )


def utm_link(url: str, campaign: Campaign, *, content: str | None = None) -> str:
    """`url` with the campaign's UTM parameters appended (existing query kept)."""
    from urllib.parse import urlencode, urlsplit, urlunsplit

    params = dict(campaign.utm_params)
    params.setdefault("utm_campaign", campaign.name.lower().replace(" ", "-"))
    if content:
        params["utm_content"] = content
    parts = urlsplit(url)
    query = "&".join(filter(None, [parts.query, urlencode(params)]))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))

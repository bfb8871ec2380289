"""Wire models of the campaigns API (`/api/campaigns`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import Field

from brandcrew.server.models.common import Instant, Tag, Utc
from brandcrew.server.models.posts import PostPublic
from brandcrew.server.schemas import ApiModel
from brandcrew.services.campaigns import CampaignGoal, CampaignIn

UtmKey = Literal["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"]


class GoalIn(ApiModel):
    """A metric target, e.g. `{metric: "engagement_rate", target: 0.04}`."""

    metric: str = Field(min_length=1, max_length=100)
    target: float = Field(ge=0, le=1e12, allow_inf_nan=False)


class CampaignWrite(ApiModel):
    """A campaign to create, or the full new state of one to update."""

    name: str = Field(min_length=1, max_length=255)
    description: str = Field(default="", max_length=10_000)
    start_date: Instant | None = None
    end_date: Instant | None = None
    goals: list[GoalIn] = Field(default_factory=list, max_length=20)
    budget_usd: Decimal | None = Field(default=None, ge=0, le=1_000_000_000, decimal_places=6)
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    utm_params: dict[UtmKey, str] = Field(default_factory=dict)

    def to_service(self) -> CampaignIn:
        """The service's input."""
        return CampaignIn(
            name=self.name,
            description=self.description,
            start_date=self.start_date,
            end_date=self.end_date,
            goals=[CampaignGoal(metric=g.metric, target=g.target) for g in self.goals],
            budget_usd=self.budget_usd,
            tags=self.tags,
            utm_params={str(k): v[:500] for k, v in self.utm_params.items()},
        )


class CampaignPublic(ApiModel):
    """A campaign as the API shows it."""

    id: str
    workspace_id: str
    name: str
    description: str
    start_date: Utc | None = None
    end_date: Utc | None = None
    goals: list[dict[str, Any]]
    budget_usd: str | None = None
    tags: list[str]
    utm_params: dict[str, str]
    status: str
    paused_reason: str | None = None
    created_at: Utc
    updated_at: Utc


class CampaignOut(ApiModel):
    """`{campaign}`."""

    campaign: CampaignPublic


class CampaignList(ApiModel):
    """The workspace's campaigns."""

    campaigns: list[CampaignPublic]
    total: int


class StatusIn(ApiModel):
    """A status change: start (active), pause (with a reason), resume (active) or complete."""

    status: Literal["active", "paused", "completed"]
    reason: str | None = Field(default=None, max_length=500)


class CampaignPosts(ApiModel):
    """The posts of a campaign."""

    posts: list[PostPublic]
    total: int


class AutopilotRunPublic(ApiModel):
    """A campaign on autopilot: where it is, what it published and what it spent."""

    campaign_id: str
    name: str
    status: str
    paused_reason: str | None = None
    next_cycle: int
    cycles: int
    simulated: bool
    posts: int
    posts_published: int
    spend_usd: Decimal
    budget_usd: str | None = None
    started_at: Utc
    updated_at: Utc


class AutopilotRuns(ApiModel):
    """The workspace's autopilot runs."""

    runs: list[AutopilotRunPublic]

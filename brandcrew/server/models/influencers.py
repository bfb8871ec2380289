"""Wire shapes of the influencer API: saved influencers, campaigns, collaborations.

Inputs and computed results (discovery candidates, the campaign report) are the service's own
models (camelCase on the wire); these are the stored rows as the API shows them (money in major
units, not cents).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from brandcrew.server.schemas import ApiModel
from brandcrew.services.influencers import TRANSITIONS, Deliverable, Goal, InfluencerCandidate
from brandcrew.services.influencers.campaigns import from_cents
from brandcrew.store.tables import Collaboration, Influencer, InfluencerCampaign


class DiscoverOut(ApiModel):
    """Ranked candidates and what they were computed from."""

    candidates: list[InfluencerCandidate]
    mentions_considered: str
    """Where the candidates came from."""


class InfluencerPublic(ApiModel):
    """A saved influencer."""

    id: str
    platform: str
    username: str
    platform_user_id: str
    display_name: str
    followers: int
    tier: str
    score: float | None
    analysis: dict[str, Any]
    """The discovery result it was saved from (components, signals)."""
    notes: str
    tags: list[str]
    created_at: datetime
    updated_at: datetime


class InfluencerPage(ApiModel):
    """A page of saved influencers."""

    items: list[InfluencerPublic]
    total: int
    page: int
    limit: int


class CampaignPublic(ApiModel):
    """An influencer campaign."""

    id: str
    name: str
    brief: str
    budget: float | None
    currency: str
    start_date: datetime | None
    end_date: datetime | None
    goals: list[Goal]
    status: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: InfluencerCampaign) -> CampaignPublic:
        """The wire shape of a stored campaign."""
        return cls(
            id=row.id,
            name=row.name,
            brief=row.brief,
            budget=from_cents(row.budget_cents),
            currency=row.currency,
            start_date=row.start_date,
            end_date=row.end_date,
            goals=[Goal.model_validate(g) for g in row.goals],
            status=row.status,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class CampaignPage(ApiModel):
    """A page of influencer campaigns."""

    items: list[CampaignPublic]
    total: int
    page: int
    limit: int


class LinkedPostOut(ApiModel):
    """A post of the collaboration."""

    url: str | None
    platform_post_id: str | None
    platform: str | None


class CollaborationResults(ApiModel):
    """What the collaboration achieved and what each engagement cost."""

    reach: int
    engagements: int
    clicks: int
    cost_per_engagement: float | None


class CollaborationPublic(ApiModel):
    """An influencer in a campaign."""

    id: str
    campaign_id: str
    influencer_id: str
    username: str
    platform: str
    status: str
    allowed_transitions: list[str]
    status_history: list[dict[str, Any]]
    """[{from, to, at, by}]"""
    fee: float | None
    currency: str
    deliverables: list[Deliverable]
    posts: list[LinkedPostOut]
    results: CollaborationResults
    notes: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Collaboration, influencer: Influencer | None) -> CollaborationPublic:
        """The wire shape of a stored collaboration."""
        cpe = (
            round(row.fee_cents / 100 / row.engagements, 4)
            if row.fee_cents is not None and row.engagements > 0
            else None
        )
        return cls(
            id=row.id,
            campaign_id=row.campaign_id,
            influencer_id=row.influencer_id,
            username=influencer.username if influencer else "",
            platform=influencer.platform if influencer else "",
            status=row.status,
            allowed_transitions=list(TRANSITIONS.get(row.status, ())),
            status_history=row.status_history,
            fee=from_cents(row.fee_cents),
            currency=row.currency,
            deliverables=[Deliverable.model_validate(d) for d in row.deliverables],
            posts=[LinkedPostOut.model_validate(p) for p in row.posts],
            results=CollaborationResults(
                reach=row.reach, engagements=row.engagements, clicks=row.clicks, cost_per_engagement=cpe
            ),
            notes=row.notes,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class CampaignDetail(CampaignPublic):
    """A campaign with its collaborations."""

    collaborations: list[CollaborationPublic]

"""Campaigns: dates, goals, budget and UTM parameters, status changes, their posts, and the
read-only view of campaigns running on autopilot."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from brandcrew.server.deps import PrincipalDep, SessionDep, require
from brandcrew.server.models.campaigns import (
    AutopilotRunPublic,
    AutopilotRuns,
    CampaignList,
    CampaignOut,
    CampaignPosts,
    CampaignPublic,
    CampaignWrite,
    StatusIn,
)
from brandcrew.server.models.common import ERRORS, PathId
from brandcrew.server.permissions import Permission
from brandcrew.server.routes.posts import audit_actor, post_public
from brandcrew.services import campaigns, publishing
from brandcrew.services.autopilot.records import list_runs

router = APIRouter(prefix="/api/campaigns", tags=["campaigns"], responses=ERRORS)


@router.get("", response_model=CampaignList, dependencies=[require(Permission.CAMPAIGN_READ)])
def list_campaigns(
    principal: PrincipalDep,
    session: SessionDep,
    status: Annotated[Literal["draft", "active", "paused", "completed"] | None, Query()] = None,
) -> CampaignList:
    """The workspace's campaigns, newest first."""
    rows = campaigns.list_campaigns(session, workspace_id=principal.workspace_id, status=status)
    return CampaignList(campaigns=[CampaignPublic.model_validate(c) for c in rows], total=len(rows))


@router.post(
    "", response_model=CampaignOut, status_code=201, dependencies=[require(Permission.CAMPAIGN_MANAGE)]
)
def create_campaign(body: CampaignWrite, principal: PrincipalDep, session: SessionDep) -> CampaignOut:
    """Create a draft campaign."""
    campaign = campaigns.create_campaign(
        session, workspace_id=principal.workspace_id, data=body.to_service(), user_id=principal.user_id
    )
    session.commit()
    return CampaignOut(campaign=CampaignPublic.model_validate(campaign))


@router.get("/autopilot", response_model=AutopilotRuns, dependencies=[require(Permission.CAMPAIGN_READ)])
def autopilot_runs(principal: PrincipalDep, session: SessionDep) -> AutopilotRuns:
    """Campaigns on autopilot with their status, posts published and spend (read-only)."""
    runs = list_runs(session, principal.workspace_id)
    return AutopilotRuns(runs=[AutopilotRunPublic.model_validate(r.model_dump()) for r in runs])


@router.get("/{campaign_id}", response_model=CampaignOut, dependencies=[require(Permission.CAMPAIGN_READ)])
def get_campaign(campaign_id: PathId, principal: PrincipalDep, session: SessionDep) -> CampaignOut:
    """One campaign."""
    campaign = campaigns.get_campaign(session, workspace_id=principal.workspace_id, campaign_id=campaign_id)
    return CampaignOut(campaign=CampaignPublic.model_validate(campaign))


@router.put("/{campaign_id}", response_model=CampaignOut, dependencies=[require(Permission.CAMPAIGN_MANAGE)])
def update_campaign(
    campaign_id: PathId, body: CampaignWrite, principal: PrincipalDep, session: SessionDep
) -> CampaignOut:
    """Replace a campaign's editable fields (not once it is completed)."""
    campaign = campaigns.update_campaign(
        session,
        workspace_id=principal.workspace_id,
        campaign_id=campaign_id,
        data=body.to_service(),
        user_id=principal.user_id,
    )
    session.commit()
    return CampaignOut(campaign=CampaignPublic.model_validate(campaign))


@router.post(
    "/{campaign_id}/status",
    response_model=CampaignOut,
    dependencies=[require(Permission.CAMPAIGN_MANAGE)],
)
def set_status(
    campaign_id: PathId, body: StatusIn, principal: PrincipalDep, session: SessionDep
) -> CampaignOut:
    """Start, pause (with a reason), resume or complete a campaign; 409 for a move its state forbids."""
    campaign = campaigns.set_status(
        session,
        workspace_id=principal.workspace_id,
        campaign_id=campaign_id,
        status=body.status,
        reason=body.reason,
        user_id=principal.user_id,
        actor=audit_actor(principal),
    )
    session.commit()
    return CampaignOut(campaign=CampaignPublic.model_validate(campaign))


@router.get(
    "/{campaign_id}/posts",
    response_model=CampaignPosts,
    dependencies=[require(Permission.CAMPAIGN_READ), require(Permission.POST_READ)],
)
def campaign_posts(campaign_id: PathId, principal: PrincipalDep, session: SessionDep) -> CampaignPosts:
    """The campaign's posts, newest first."""
    posts = campaigns.campaign_posts(session, workspace_id=principal.workspace_id, campaign_id=campaign_id)
    variants = publishing.variants_by_post(session, [p.id for p in posts])
    return CampaignPosts(posts=[post_public(p, variants.get(p.id, [])) for p in posts], total=len(posts))

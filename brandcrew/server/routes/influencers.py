"""Influencers: discovery from the brand's mentions, the saved list, campaigns, collaborations, report."""

from __future__ import annotations

import functools
from typing import Annotated

import anyio
from fastapi import APIRouter, Path, Query
from sqlmodel import Session, col, select

from brandcrew.memory.embedders import Embedder
from brandcrew.server.deps import PrincipalDep, ServicesDep, SessionDep, require
from brandcrew.server.errors import ApiError
from brandcrew.server.models.influencers import (
    CampaignDetail,
    CampaignPage,
    CampaignPublic,
    CollaborationPublic,
    DiscoverOut,
    InfluencerPage,
    InfluencerPublic,
)
from brandcrew.server.permissions import Permission
from brandcrew.services import influencers as svc
from brandcrew.services.influencers import (
    CampaignChanges,
    CampaignInput,
    CampaignReport,
    CollaborationChanges,
    CollaborationInput,
    InfluencerChanges,
    InfluencerSave,
)
from brandcrew.services.influencers.discovery import MAX_MENTIONS
from brandcrew.store.tables import Collaboration, Influencer

router = APIRouter(prefix="/api/influencers", tags=["influencers"])

VIEW = [require(Permission.INFLUENCER_VIEW)]
MANAGE = [require(Permission.INFLUENCER_MANAGE)]
Id = Annotated[str, Path(min_length=1, max_length=64)]
Page = Annotated[int, Query(ge=1, le=100_000)]
Limit = Annotated[int, Query(ge=1, le=100)]
PlatformQ = Annotated[str | None, Query(min_length=1, max_length=50, pattern=r"^[a-z0-9_]+$")]


def _embedder(services: ServicesDep) -> Embedder | None:
    # Tests and deployments may pin one (a hashing embedder keeps requests light); MiniLM otherwise.
    found = services.extras.get("embedder")
    return found if found is not None and hasattr(found, "embed") else None


@router.get("/discover", response_model=DiscoverOut, dependencies=VIEW)
def discover(
    principal: PrincipalDep,
    session: SessionDep,
    services: ServicesDep,
    platform: PlatformQ = None,
    min_followers: Annotated[int, Query(alias="minFollowers", ge=0, le=10_000_000_000)] = 0,
    max_followers: Annotated[int | None, Query(alias="maxFollowers", ge=0, le=10_000_000_000)] = None,
    limit: Limit = 20,
    topic: Annotated[str | None, Query(max_length=200)] = None,
    enrich: Annotated[bool, Query()] = False,
) -> DiscoverOut:
    """Authors of the workspace's mentions ranked by relevance, engagement, reach, sentiment and
    authenticity, each score with its components and signals; `enrich` re-scores the best with their
    public profiles (followers now, recent posts with likes and comments) where the platform has them."""
    if max_followers is not None and max_followers < min_followers:
        raise ApiError(
            422,
            "VALIDATION_ERROR",
            "maxFollowers is below minFollowers",
            [{"field": "maxFollowers", "message": "must be at least minFollowers", "type": "value_error"}],
        )
    if enrich:
        # Sync route (in a worker thread): the connector calls run on the server's event loop.
        found = anyio.from_thread.run(
            functools.partial(
                svc.discover_with_profiles,
                session,
                services.accounts,
                workspace_id=principal.workspace_id,
                now=services.clock(),
                platform=platform,
                min_followers=min_followers,
                max_followers=max_followers,
                limit=limit,
                topic=topic,
                embedder=_embedder(services),
            )
        )
    else:
        found = svc.discover(
            session,
            workspace_id=principal.workspace_id,
            platform=platform,
            min_followers=min_followers,
            max_followers=max_followers,
            limit=limit,
            topic=topic,
            embedder=_embedder(services),
        )
    return DiscoverOut(
        candidates=found,
        mentions_considered=f"the workspace's {MAX_MENTIONS:,} most recent stored mentions at most"
        + (f" on {platform}" if platform else ""),
    )


# --- campaigns (declared before /{influencer_id} so "campaigns" is never taken for an id) ----------


def _collaborations(session: Session, workspace_id: str, campaign_id: str) -> list[CollaborationPublic]:
    rows = svc.list_collaborations(session, workspace_id=workspace_id, campaign_id=campaign_id)
    people = _people(session, workspace_id, [r.influencer_id for r in rows])
    return [CollaborationPublic.of(r, people.get(r.influencer_id)) for r in rows]


def _people(session: Session, workspace_id: str, ids: list[str]) -> dict[str, Influencer]:
    if not ids:
        return {}
    rows = session.exec(
        select(Influencer).where(Influencer.workspace_id == workspace_id, col(Influencer.id).in_(ids))
    ).all()
    return {r.id: r for r in rows}


def _detail(session: Session, workspace_id: str, campaign_id: str) -> CampaignDetail:
    row = svc.get_campaign(session, workspace_id=workspace_id, campaign_id=campaign_id)
    base = CampaignPublic.of(row)
    return CampaignDetail(
        **base.model_dump(), collaborations=_collaborations(session, workspace_id, campaign_id)
    )


@router.post("/campaigns", response_model=CampaignPublic, status_code=201, dependencies=MANAGE)
def create_campaign(body: CampaignInput, principal: PrincipalDep, session: SessionDep) -> CampaignPublic:
    """Create an influencer campaign (name, brief, budget, dates, goals)."""
    row = svc.create_campaign(
        session, workspace_id=principal.workspace_id, data=body, user_id=principal.user_id
    )
    session.commit()
    return CampaignPublic.of(row)


@router.get("/campaigns", response_model=CampaignPage, dependencies=VIEW)
def list_campaigns(
    principal: PrincipalDep,
    session: SessionDep,
    status: Annotated[str | None, Query(pattern=r"^(draft|active|paused|completed)$")] = None,
    page: Page = 1,
    limit: Limit = 50,
) -> CampaignPage:
    """The workspace's influencer campaigns, newest first."""
    rows, total = svc.list_campaigns(
        session, workspace_id=principal.workspace_id, status=status, limit=limit, offset=(page - 1) * limit
    )
    return CampaignPage(items=[CampaignPublic.of(r) for r in rows], total=total, page=page, limit=limit)


@router.get("/campaigns/{campaign_id}", response_model=CampaignDetail, dependencies=VIEW)
def get_campaign(campaign_id: Id, principal: PrincipalDep, session: SessionDep) -> CampaignDetail:
    """A campaign with its collaborations."""
    return _detail(session, principal.workspace_id, campaign_id)


@router.put("/campaigns/{campaign_id}", response_model=CampaignDetail, dependencies=MANAGE)
def update_campaign(
    campaign_id: Id, body: CampaignChanges, principal: PrincipalDep, session: SessionDep
) -> CampaignDetail:
    """Change a campaign's name, brief, budget, currency, dates, goals or status."""
    svc.update_campaign(
        session,
        workspace_id=principal.workspace_id,
        campaign_id=campaign_id,
        changes=body,
        user_id=principal.user_id,
    )
    session.commit()
    return _detail(session, principal.workspace_id, campaign_id)


@router.get("/campaigns/{campaign_id}/report", response_model=CampaignReport, dependencies=VIEW)
def campaign_report(
    campaign_id: Id, principal: PrincipalDep, session: SessionDep, services: ServicesDep
) -> CampaignReport:
    """Spend against budget, reach, engagements, clicks, cost per engagement and goal progress."""
    return svc.campaign_report(
        session, workspace_id=principal.workspace_id, campaign_id=campaign_id, now=services.clock()
    )


@router.post(
    "/campaigns/{campaign_id}/collaborations",
    response_model=CollaborationPublic,
    status_code=201,
    dependencies=MANAGE,
)
def add_collaboration(
    campaign_id: Id,
    body: CollaborationInput,
    principal: PrincipalDep,
    session: SessionDep,
    services: ServicesDep,
) -> CollaborationPublic:
    """Add a saved influencer to a campaign, as a prospect (or already contacted)."""
    row = svc.add_collaboration(
        session,
        workspace_id=principal.workspace_id,
        campaign_id=campaign_id,
        data=body,
        user_id=principal.user_id,
        now=services.clock(),
    )
    session.commit()
    return _collaboration_out(session, principal.workspace_id, row)


def _collaboration_out(session: Session, workspace_id: str, row: Collaboration) -> CollaborationPublic:
    return CollaborationPublic.of(
        row, _people(session, workspace_id, [row.influencer_id]).get(row.influencer_id)
    )


@router.put("/collaborations/{collaboration_id}", response_model=CollaborationPublic, dependencies=MANAGE)
def update_collaboration(
    collaboration_id: Id,
    body: CollaborationChanges,
    principal: PrincipalDep,
    session: SessionDep,
    services: ServicesDep,
) -> CollaborationPublic:
    """Move a collaboration along its pipeline (illegal jumps answer 409 with the allowed steps) and
    record fee, deliverables, linked posts and results."""
    row = svc.update_collaboration(
        session,
        workspace_id=principal.workspace_id,
        collaboration_id=collaboration_id,
        changes=body,
        user_id=principal.user_id,
        now=services.clock(),
    )
    session.commit()
    return _collaboration_out(session, principal.workspace_id, row)


# --- the saved list ----------------------------------------------------------------------------


@router.post("", response_model=InfluencerPublic, status_code=201, dependencies=MANAGE)
def save_influencer(
    body: InfluencerSave, principal: PrincipalDep, session: SessionDep, services: ServicesDep
) -> Influencer:
    """Save an author to the workspace's list, with their discovery analysis, notes and tags."""
    row = svc.save_influencer(
        session,
        workspace_id=principal.workspace_id,
        data=body,
        user_id=principal.user_id,
        embedder=_embedder(services),
    )
    session.commit()
    return row


@router.get("", response_model=InfluencerPage, dependencies=VIEW)
def list_influencers(
    principal: PrincipalDep,
    session: SessionDep,
    platform: PlatformQ = None,
    tag: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    tier: Annotated[str | None, Query(pattern=r"^(nano|micro|mid|macro|mega)$")] = None,
    search: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    page: Page = 1,
    limit: Limit = 50,
) -> InfluencerPage:
    """The workspace's saved influencers, best score first."""
    rows, total = svc.list_influencers(
        session,
        workspace_id=principal.workspace_id,
        platform=platform,
        tag=tag,
        tier=tier,
        search=search,
        limit=limit,
        offset=(page - 1) * limit,
    )
    return InfluencerPage(
        items=[InfluencerPublic.model_validate(r) for r in rows], total=total, page=page, limit=limit
    )


@router.get("/{influencer_id}", response_model=InfluencerPublic, dependencies=VIEW)
def get_influencer(influencer_id: Id, principal: PrincipalDep, session: SessionDep) -> Influencer:
    """A saved influencer."""
    return svc.get_influencer(session, workspace_id=principal.workspace_id, influencer_id=influencer_id)


@router.post("/{influencer_id}/analyze", response_model=InfluencerPublic, dependencies=MANAGE)
def analyze_influencer(
    influencer_id: Id, principal: PrincipalDep, session: SessionDep, services: ServicesDep
) -> Influencer:
    """Re-score a saved influencer from the workspace's current mentions (the seed's analyze)."""
    row = svc.analyze_influencer(
        session,
        workspace_id=principal.workspace_id,
        influencer_id=influencer_id,
        user_id=principal.user_id,
        embedder=_embedder(services),
    )
    session.commit()
    return row


@router.put("/{influencer_id}", response_model=InfluencerPublic, dependencies=MANAGE)
def update_influencer(
    influencer_id: Id, body: InfluencerChanges, principal: PrincipalDep, session: SessionDep
) -> Influencer:
    """Change a saved influencer's notes, tags or display name."""
    row = svc.update_influencer(
        session,
        workspace_id=principal.workspace_id,
        influencer_id=influencer_id,
        changes=body,
        user_id=principal.user_id,
    )
    session.commit()
    return row


@router.delete("/{influencer_id}", status_code=204, dependencies=MANAGE)
def delete_influencer(influencer_id: Id, principal: PrincipalDep, session: SessionDep) -> None:
    """Remove an influencer from the list (409 while a collaboration went past the prospect stage)."""
    svc.delete_influencer(
        session, workspace_id=principal.workspace_id, influencer_id=influencer_id, user_id=principal.user_id
    )
    session.commit()

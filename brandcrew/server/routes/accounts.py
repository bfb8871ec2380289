"""Social accounts (list, connect a sandbox world, disconnect), the workspace's brand profile, and
pausing or resuming all of its publishing."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from brandcrew.server.deps import PrincipalDep, ServicesDep, SessionDep, require
from brandcrew.server.models.accounts import (
    AccountList,
    BrandIn,
    BrandOut,
    PauseIn,
    PublishingStateOut,
    SandboxIn,
    SocialAccountPublic,
)
from brandcrew.server.models.common import ERRORS, PathId
from brandcrew.server.permissions import Permission
from brandcrew.server.routes.posts import audit_actor
from brandcrew.services import workspaces
from brandcrew.services.brand import BrandProfile

router = APIRouter(prefix="/api/accounts", tags=["accounts"], responses=ERRORS)
workspace_router = APIRouter(prefix="/api/workspace", tags=["workspace"], responses=ERRORS)


@router.get("", response_model=AccountList, dependencies=[require(Permission.POST_READ)])
def list_accounts(principal: PrincipalDep, session: SessionDep, services: ServicesDep) -> AccountList:
    """The workspace's social accounts (without their tokens)."""
    rows = services.accounts.list(session, principal.workspace_id)
    return AccountList(accounts=[SocialAccountPublic.model_validate(a) for a in rows])


@router.post(
    "/sandbox",
    response_model=AccountList,
    status_code=201,
    dependencies=[require(Permission.SETTINGS_UPDATE)],
)
async def connect_sandbox(body: SandboxIn, principal: PrincipalDep, services: ServicesDep) -> AccountList:
    """Connect the workspace's own sandbox world (a simulated network), so every flow works without
    credentials; calling it again returns the same accounts."""
    rows = await run_in_threadpool(
        workspaces.connect_sandbox,
        services.engine,
        services.accounts,
        workspace_id=principal.workspace_id,
        platforms=list(dict.fromkeys(body.platforms)),
    )
    return AccountList(accounts=[SocialAccountPublic.model_validate(a) for a in rows])


@router.delete("/{account_id}", status_code=204, dependencies=[require(Permission.SETTINGS_UPDATE)])
def disconnect(
    account_id: PathId, principal: PrincipalDep, session: SessionDep, services: ServicesDep
) -> None:
    """Disconnect an account and forget its tokens (its posts and metrics stay)."""
    services.accounts.disconnect(session, principal.workspace_id, account_id, user_id=principal.user_id)
    session.commit()


def _brand_out(profile: BrandProfile) -> BrandOut:
    return BrandOut.model_validate(profile.model_dump())


@workspace_router.get("/brand", response_model=BrandOut, dependencies=[require(Permission.POST_READ)])
def get_brand(principal: PrincipalDep, session: SessionDep) -> BrandOut:
    """The brand profile the agents write for."""
    return _brand_out(workspaces.brand_of(session, principal.workspace_id))


@workspace_router.put("/brand", response_model=BrandOut, dependencies=[require(Permission.SETTINGS_UPDATE)])
def put_brand(body: BrandIn, principal: PrincipalDep, session: SessionDep) -> BrandOut:
    """Replace the brand profile."""
    profile = BrandProfile.model_validate(
        {**body.model_dump(by_alias=False), "workspace_id": principal.workspace_id}
    )
    workspaces.update_brand(
        session, workspace_id=principal.workspace_id, profile=profile, user_id=principal.user_id
    )
    session.commit()
    return _brand_out(workspaces.brand_of(session, principal.workspace_id))


@workspace_router.post(
    "/publishing/pause", response_model=PublishingStateOut, dependencies=[require(Permission.POST_PUBLISH)]
)
def pause_publishing(body: PauseIn, principal: PrincipalDep, session: SessionDep) -> PublishingStateOut:
    """Stop every publish of the workspace (queued posts wait) until someone resumes."""
    workspace = workspaces.set_publishing_pause(
        session,
        workspace_id=principal.workspace_id,
        reason=body.reason,
        user_id=principal.user_id,
        actor=audit_actor(principal),
    )
    session.commit()
    return PublishingStateOut(paused=True, reason=workspace.publishing_paused_reason)


@workspace_router.post(
    "/publishing/resume", response_model=PublishingStateOut, dependencies=[require(Permission.POST_PUBLISH)]
)
def resume_publishing(principal: PrincipalDep, session: SessionDep) -> PublishingStateOut:
    """Publish again; queued posts that fell due meanwhile go out."""
    workspaces.set_publishing_pause(
        session,
        workspace_id=principal.workspace_id,
        reason=None,
        user_id=principal.user_id,
        actor=audit_actor(principal),
    )
    session.commit()
    return PublishingStateOut(paused=False, reason=None)

"""Publishing: posts with per-platform content, scheduling, publishing through the outbox, bulk
actions, the content calendar and platform validation (the seed's "Publishing APIs")."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from sqlmodel import Session

from brandcrew.connectors.capabilities import Platform
from brandcrew.server.deps import Principal, PrincipalDep, ServicesDep, SessionDep, require
from brandcrew.server.errors import ApiError
from brandcrew.server.models.common import ERRORS, IdStr, Instant, PathId
from brandcrew.server.models.posts import (
    BulkError,
    BulkIn,
    BulkOut,
    CalendarEntry,
    CalendarOut,
    PlatformPostPublic,
    PlatformTargetIn,
    PlatformValidation,
    PostContentIn,
    PostContentOut,
    PostCreate,
    PostList,
    PostOut,
    PostPublic,
    PostStatus,
    PostUpdate,
    PublishOut,
    PublishResult,
    ScheduleIn,
    ValidateOut,
    ViolationOut,
)
from brandcrew.server.permissions import Permission
from brandcrew.services import publishing
from brandcrew.services.publishing import PostContent, PostTarget
from brandcrew.store.tables import Post, PostVariant

router = APIRouter(prefix="/api/posts", tags=["posts"], responses=ERRORS)


def audit_actor(principal: Principal) -> str:
    """The audit trail's actor kind of a caller (its user id is recorded beside it)."""
    return "api_key" if principal.api_key_id else "user"


def post_public(post: Post, variants: list[PostVariant]) -> PostPublic:
    """A post and its variants as the API shows them."""
    return PostPublic(
        id=post.id,
        workspace_id=post.workspace_id,
        author_id=post.author_id,
        content=PostContentOut.model_validate(post.content),
        platforms=[PlatformPostPublic.model_validate(v) for v in variants],
        status=post.status,
        scheduled_at=post.scheduled_at,
        published_at=post.published_at,
        campaign=post.campaign_id,
        tags=post.tags,
        ai_generated=post.ai_generated,
        approval_status=post.approval_status,
        version=post.version,
        created_at=post.created_at,
        updated_at=post.updated_at,
    )


def _read(session: Session, workspace_id: str, post_id: str) -> PostPublic:
    post = publishing.get_post(session, workspace_id=workspace_id, post_id=post_id)
    return post_public(post, publishing.variants_of(session, post.id))


def _targets(platforms: list[PlatformTargetIn]) -> list[PostTarget]:
    return [
        PostTarget(
            platform=p.platform.value,
            account_id=p.account_id,
            custom=p.custom_content.changes() if p.custom_content else None,
        )
        for p in platforms
    ]


def _content(content: PostContentIn) -> PostContent:
    return PostContent.model_validate(content.model_dump(by_alias=False))


@router.post("", response_model=PostOut, status_code=201, dependencies=[require(Permission.POST_CREATE)])
def create_post(
    body: PostCreate, principal: PrincipalDep, session: SessionDep, services: ServicesDep
) -> PostOut:
    """Create a post for one or more platform accounts; with `scheduledAt` it is scheduled too."""
    post = publishing.create_post(
        session,
        workspace_id=principal.workspace_id,
        content=_content(body.content),
        targets=_targets(body.platforms),
        author_id=principal.user_id,
        campaign_id=body.campaign,
        tags=body.tags,
        actor=audit_actor(principal),
    )
    if body.scheduled_at is not None:
        if not principal.can(Permission.POST_PUBLISH):
            raise ApiError(403, "FORBIDDEN", "scheduling needs the permission 'post:publish'")
        publishing.schedule_post(
            session,
            workspace_id=principal.workspace_id,
            post_id=post.id,
            at=body.scheduled_at,
            now=services.clock(),
            user_id=principal.user_id,
            actor=audit_actor(principal),
        )
    session.commit()
    return PostOut(post=_read(session, principal.workspace_id, post.id))


@router.get("", response_model=PostList, dependencies=[require(Permission.POST_READ)])
def list_posts(
    principal: PrincipalDep,
    session: SessionDep,
    status: PostStatus | None = None,
    platform: Platform | None = None,
    start_date: Annotated[Instant | None, Query(alias="startDate")] = None,
    end_date: Annotated[Instant | None, Query(alias="endDate")] = None,
    campaign: Annotated[IdStr | None, Query()] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> PostList:
    """The workspace's posts, newest first; dates filter on the scheduled time."""
    on = platform.value if platform else None
    posts = publishing.list_posts(
        session,
        workspace_id=principal.workspace_id,
        status=status,
        campaign_id=campaign,
        platform=on,
        since=start_date,
        until=end_date,
        limit=limit,
        offset=(page - 1) * limit,
    )
    total = publishing.count_posts(
        session,
        workspace_id=principal.workspace_id,
        status=status,
        campaign_id=campaign,
        platform=on,
        since=start_date,
        until=end_date,
    )
    variants = publishing.variants_by_post(session, [p.id for p in posts])
    return PostList(
        posts=[post_public(p, variants.get(p.id, [])) for p in posts], total=total, page=page, limit=limit
    )


@router.get("/calendar", response_model=CalendarOut, dependencies=[require(Permission.POST_READ)])
def calendar(
    principal: PrincipalDep,
    session: SessionDep,
    start: Instant,
    end: Instant,
) -> CalendarOut:
    """Every publish due or done between `start` and `end` (at most 92 days), in time order."""
    if end <= start:
        raise ApiError(422, "VALIDATION_ERROR", "end must be after start", {"field": "end"})
    if end - start > timedelta(days=92):
        raise ApiError(422, "VALIDATION_ERROR", "the window is at most 92 days", {"field": "end"})
    items = publishing.calendar(session, workspace_id=principal.workspace_id, start=start, end=end)
    return CalendarOut(items=[CalendarEntry.model_validate(i.model_dump()) for i in items])


@router.post("/bulk", response_model=BulkOut, dependencies=[require(Permission.POST_READ)])
def bulk(body: BulkIn, principal: PrincipalDep, session: SessionDep, services: ServicesDep) -> BulkOut:
    """One action on many posts; each post succeeds or fails on its own."""
    needed = {
        "schedule": Permission.POST_PUBLISH,
        "publish": Permission.POST_PUBLISH,
        "delete": Permission.POST_DELETE,
        "update": Permission.POST_UPDATE,
    }[body.action]
    if not principal.can(needed):
        raise ApiError(403, "FORBIDDEN", f"this action needs the permission {needed.value!r}")
    data = body.data
    result = publishing.bulk(
        session,
        workspace_id=principal.workspace_id,
        operation=body.action,
        post_ids=list(dict.fromkeys(body.post_ids)),
        at=data.scheduled_at if data else None,
        content_patch=data.content.changes() if data and data.content else None,
        tags=data.tags if data else None,
        now=services.clock(),
        user_id=principal.user_id,
    )
    session.commit()
    return BulkOut(
        success=len(result.ok),
        failed=len(result.failed),
        errors=[BulkError(post_id=k, error=v) for k, v in result.failed.items()],
    )


@router.get("/{post_id}", response_model=PostOut, dependencies=[require(Permission.POST_READ)])
def get_post(post_id: PathId, principal: PrincipalDep, session: SessionDep) -> PostOut:
    """One post with its platform variants."""
    return PostOut(post=_read(session, principal.workspace_id, post_id))


@router.put("/{post_id}", response_model=PostOut, dependencies=[require(Permission.POST_UPDATE)])
def update_post(
    post_id: PathId, body: PostUpdate, principal: PrincipalDep, session: SessionDep, services: ServicesDep
) -> PostOut:
    """Edit a post not yet published; a content change needs scheduling again (or send `scheduledAt`)."""
    post = publishing.get_post(session, workspace_id=principal.workspace_id, post_id=post_id)
    publishing.update_post(
        session,
        workspace_id=principal.workspace_id,
        post_id=post.id,
        content=publishing.merged_content(post, body.content.changes()) if body.content else None,
        targets=_targets(body.platforms) if body.platforms is not None else None,
        tags=body.tags,
        user_id=principal.user_id,
        actor=audit_actor(principal),
    )
    if body.scheduled_at is not None:
        if not principal.can(Permission.POST_PUBLISH):
            raise ApiError(403, "FORBIDDEN", "scheduling needs the permission 'post:publish'")
        publishing.schedule_post(
            session,
            workspace_id=principal.workspace_id,
            post_id=post.id,
            at=body.scheduled_at,
            now=services.clock(),
            user_id=principal.user_id,
            actor=audit_actor(principal),
        )
    session.commit()
    return PostOut(post=_read(session, principal.workspace_id, post.id))


@router.delete("/{post_id}", status_code=204, dependencies=[require(Permission.POST_DELETE)])
def delete_post(post_id: PathId, principal: PrincipalDep, session: SessionDep) -> None:
    """Delete a post that has not started publishing (its queued publishes are cancelled)."""
    publishing.delete_post(
        session, workspace_id=principal.workspace_id, post_id=post_id, user_id=principal.user_id
    )
    session.commit()


@router.post("/{post_id}/schedule", response_model=PostOut, dependencies=[require(Permission.POST_PUBLISH)])
def schedule_post(
    post_id: PathId, body: ScheduleIn, principal: PrincipalDep, session: SessionDep, services: ServicesDep
) -> PostOut:
    """Validate the post on every platform and queue it for `scheduledAt`."""
    publishing.schedule_post(
        session,
        workspace_id=principal.workspace_id,
        post_id=post_id,
        at=body.scheduled_at,
        now=services.clock(),
        user_id=principal.user_id,
        actor=audit_actor(principal),
    )
    session.commit()
    return PostOut(post=_read(session, principal.workspace_id, post_id))


@router.post("/{post_id}/publish", response_model=PublishOut, dependencies=[require(Permission.POST_PUBLISH)])
def publish_post(
    post_id: PathId, principal: PrincipalDep, session: SessionDep, services: ServicesDep
) -> PublishOut:
    """Queue the post for publishing now; the worker publishes each platform exactly once. The results
    say where each platform's publish stands (GET the post later to follow it)."""
    entries = publishing.publish_now(
        session,
        workspace_id=principal.workspace_id,
        post_id=post_id,
        now=services.clock(),
        user_id=principal.user_id,
    )
    session.commit()
    return PublishOut(
        post=_read(session, principal.workspace_id, post_id),
        results=[
            PublishResult(
                platform=e.platform,
                account_id=e.account_id,
                success=e.status != "failed",
                status=e.status,
                platform_post_id=e.remote_id,
                url=e.remote_url,
                error=e.error,
            )
            for e in entries
        ],
    )


@router.post("/{post_id}/validate", response_model=ValidateOut, dependencies=[require(Permission.POST_READ)])
def validate_post(post_id: PathId, principal: PrincipalDep, session: SessionDep) -> ValidateOut:
    """Every platform rule the post breaks, per platform account."""
    found = publishing.validate_post(session, workspace_id=principal.workspace_id, post_id=post_id)
    platforms = []
    for key, violations in found.items():
        platform, _, account_id = key.partition(":")
        platforms.append(
            PlatformValidation(
                platform=platform,
                account_id=account_id,
                valid=not violations,
                violations=[ViolationOut.model_validate(v.model_dump(mode="json")) for v in violations],
            )
        )
    return ValidateOut(valid=all(p.valid for p in platforms), platforms=platforms)

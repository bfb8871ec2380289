"""Analytics: the dashboard overview, one post's performance, best posting times, and collecting
fresh metrics from the platforms."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from brandcrew.server.deps import PrincipalDep, ServicesDep, SessionDep, require
from brandcrew.server.errors import ApiError
from brandcrew.server.models.analytics import (
    BestTimesOut,
    CollectOut,
    MetricChangeOut,
    OverviewCharts,
    OverviewMetrics,
    OverviewOut,
    PlatformData,
    PlatformMetrics,
    PostAnalyticsOut,
    PostMetrics,
    PostPerformanceOut,
    SlotOut,
    TimelinePoint,
    TimeSeriesPoint,
)
from brandcrew.server.models.common import ERRORS, IdStr, Instant, PathId
from brandcrew.server.permissions import Permission
from brandcrew.server.routes.posts import post_public
from brandcrew.services import analytics, publishing
from brandcrew.services.analytics import MetricChange, PostPerformance

router = APIRouter(prefix="/api/analytics", tags=["analytics"], responses=ERRORS)
_MAX_WINDOW = timedelta(days=366)


def _change(m: MetricChange) -> MetricChangeOut:
    return MetricChangeOut.model_validate(m.model_dump())


def _performance(p: PostPerformance) -> PostPerformanceOut:
    return PostPerformanceOut.model_validate(
        {**p.model_dump(), "engagements": p.engagements, "engagement_rate": p.engagement_rate}
    )


@router.get("/overview", response_model=OverviewOut, dependencies=[require(Permission.ANALYTICS_VIEW)])
def overview(
    principal: PrincipalDep,
    session: SessionDep,
    start_date: Annotated[Instant, Query(alias="startDate")],
    end_date: Annotated[Instant, Query(alias="endDate")],
    accounts: Annotated[list[IdStr] | None, Query(max_length=50)] = None,
    compare_start_date: Annotated[Instant | None, Query(alias="compareStartDate")] = None,
    compare_end_date: Annotated[Instant | None, Query(alias="compareEndDate")] = None,
) -> OverviewOut:
    """Followers, engagement, reach and posts of a window against a comparison window (by default the
    window of the same length just before), with daily charts and the top posts."""
    if end_date <= start_date or end_date - start_date > _MAX_WINDOW:
        raise ApiError(422, "VALIDATION_ERROR", "endDate must be after startDate, at most 366 days on")
    if (compare_start_date is None) != (compare_end_date is None):
        raise ApiError(422, "VALIDATION_ERROR", "give both compareStartDate and compareEndDate, or neither")
    if (
        compare_start_date
        and compare_end_date
        and not timedelta(0) < compare_end_date - compare_start_date <= _MAX_WINDOW
    ):
        raise ApiError(
            422, "VALIDATION_ERROR", "compareEndDate must be after compareStartDate, at most 366 days on"
        )
    result = analytics.overview(
        session,
        workspace_id=principal.workspace_id,
        start=start_date,
        end=end_date,
        account_ids=accounts,
        compare_start=compare_start_date,
        compare_end=compare_end_date,
    )
    return OverviewOut(
        start_date=result.start,
        end_date=result.end,
        compare_start_date=result.compare_start,
        compare_end_date=result.compare_end,
        metrics=OverviewMetrics(
            followers=_change(result.followers),
            engagement=_change(result.engagement),
            reach=_change(result.reach),
            posts=_change(result.posts),
        ),
        charts=OverviewCharts(
            engagement=[TimeSeriesPoint.model_validate(p.model_dump()) for p in result.engagement_series],
            follower_growth=[TimeSeriesPoint.model_validate(p.model_dump()) for p in result.follower_series],
            platform_breakdown=[
                PlatformData.model_validate(p.model_dump()) for p in result.platform_breakdown
            ],
        ),
        top_posts=[_performance(p) for p in result.top_posts],
    )


@router.get(
    "/posts/{post_id}",
    response_model=PostAnalyticsOut,
    dependencies=[require(Permission.ANALYTICS_VIEW), require(Permission.POST_READ)],
)
def post_analytics(post_id: PathId, principal: PrincipalDep, session: SessionDep) -> PostAnalyticsOut:
    """A post's counters in total and per platform, and how they grew at each collection."""
    result = analytics.post_analytics(session, workspace_id=principal.workspace_id, post_id=post_id)
    post = publishing.get_post(session, workspace_id=principal.workspace_id, post_id=post_id)
    return PostAnalyticsOut(
        post=post_public(post, publishing.variants_of(session, post.id)),
        metrics=PostMetrics.model_validate(result.totals),
        platform_metrics=[
            PlatformMetrics(
                platform=p.platform,
                account_id=p.account_id,
                metrics={
                    **{m: float(getattr(p, m)) for m in analytics.POST_METRICS},
                    "engagements": float(p.engagements),
                    "engagement_rate": p.engagement_rate,
                },
            )
            for p in result.platforms
        ],
        timeline=[TimelinePoint.model_validate(t) for t in result.timeline],
    )


@router.get("/best-times", response_model=BestTimesOut, dependencies=[require(Permission.ANALYTICS_VIEW)])
def best_times(
    principal: PrincipalDep,
    session: SessionDep,
    services: ServicesDep,
    account_id: Annotated[IdStr, Query(alias="accountId")],
    utc_offset_hours: Annotated[float, Query(alias="utcOffsetHours", ge=-14, le=14)] = 0.0,
    min_posts: Annotated[int, Query(alias="minPosts", ge=1, le=100)] = 1,
) -> BestTimesOut:
    """Hours of the week ranked by the account's own published posts."""
    account = services.accounts.get(session, principal.workspace_id, account_id)
    slots = analytics.best_times(
        session,
        workspace_id=principal.workspace_id,
        account_id=account.id,
        utc_offset_hours=utc_offset_hours,
        min_posts=min_posts,
    )
    return BestTimesOut(
        account_id=account.id,
        utc_offset_hours=utc_offset_hours,
        slots=[SlotOut.model_validate(s.model_dump()) for s in slots],
    )


@router.post("/collect", response_model=CollectOut, dependencies=[require(Permission.ANALYTICS_VIEW)])
async def collect(principal: PrincipalDep, session: SessionDep, services: ServicesDep) -> CollectOut:
    """Fetch the current counters of recent published posts and every account from the platforms."""
    points = await analytics.collect_metrics(
        session, services.accounts, workspace_id=principal.workspace_id, now=services.clock()
    )
    session.commit()
    return CollectOut(points=points)

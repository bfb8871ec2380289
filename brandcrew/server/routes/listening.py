"""Listening: saved queries, their mentions, sentiment and trends; alert rules; raised alerts."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from brandcrew.server.deps import PrincipalDep, ServicesDep, SessionDep, require
from brandcrew.server.models.listening import (
    AcknowledgeIn,
    AlertActionOut,
    AlertPublic,
    AlertRuleIn,
    AlertRuleOut,
    AlertRulePublic,
    AlertRulesOut,
    AlertsOut,
    MentionAuthor,
    MentionPublic,
    MentionsOut,
    Platform,
    QueryIn,
    QueryList,
    QueryOut,
    QueryPublic,
    QueryUpdate,
    ResolveIn,
    Sentiment,
    SentimentBreakdown,
    SentimentOut,
    SentimentOverall,
    SentimentPointOut,
    TopicSentimentOut,
    TrendOut,
    TrendsOut,
    UtcDatetime,
    platform_name,
)
from brandcrew.server.permissions import Permission
from brandcrew.services import alerts
from brandcrew.services.alerts.rules import AlertCondition, Notifications, alert_rules, set_alert_rule
from brandcrew.services.listening import insights, queries
from brandcrew.services.listening.polling import workspace_now
from brandcrew.services.workspaces import get_workspace
from brandcrew.store.tables import Alert, ListeningQuery, Mention

router = APIRouter(prefix="/api/listening", tags=["listening"])
View = [require(Permission.LISTENING_VIEW)]
Manage = [require(Permission.LISTENING_MANAGE)]
Page = Annotated[int, Query(ge=1, le=10_000)]
Limit = Annotated[int, Query(ge=1, le=100)]
Id = Annotated[str, Query(min_length=1, max_length=64)]


def _query(row: ListeningQuery) -> QueryPublic:
    return QueryPublic(
        id=row.id,
        name=row.name,
        keywords=row.keywords or [],
        boolean_query=row.query,
        platforms=row.platforms,
        languages=row.languages,
        exclude_keywords=row.excluded_terms,
        sentiment_filter=row.sentiment_filter,
        is_active=row.is_active,
        last_polled_at=row.last_polled_at,
        created_at=row.created_at,
    )


def _mention(row: Mention) -> MentionPublic:
    return MentionPublic(
        id=row.id,
        query_id=row.query_id,
        platform=row.platform,
        author=MentionAuthor(
            id=row.author_id,
            username=row.author_username,
            name=row.author_name,
            followers=row.author_followers,
        ),
        content=row.content,
        url=row.url,
        sentiment=row.sentiment,
        sentiment_score=row.sentiment_score,
        reach=row.reach,
        engagement=row.engagement,
        language=row.language,
        location=row.location,
        is_influencer=row.is_influencer,
        tags=row.tags,
        created_at=row.created_at,
        fetched_at=row.fetched_at,
    )


@router.post("/queries", response_model=QueryOut, status_code=201, dependencies=Manage)
def create_query(body: QueryIn, principal: PrincipalDep, session: SessionDep) -> QueryOut:
    """Save a listening query; it is polled from the next listening round on."""
    row = queries.create_query(
        session,
        workspace_id=principal.workspace_id,
        name=body.name,
        query=body.boolean_query or "",
        keywords=body.keywords,
        platforms=[p for p in (platform_name(p) for p in body.platforms) if p],
        languages=body.languages,
        excluded_terms=body.exclude_keywords,
        sentiment_filter=body.sentiment_filter,
        is_active=body.is_active,
        user_id=principal.user_id,
    )
    session.commit()
    return QueryOut(query=_query(row))


@router.get("/queries", response_model=QueryList, dependencies=View)
def list_queries(
    principal: PrincipalDep, session: SessionDep, page: Page = 1, limit: Limit = 50
) -> QueryList:
    """The workspace's saved queries."""
    rows, total = queries.list_queries(
        session, workspace_id=principal.workspace_id, offset=(page - 1) * limit, limit=limit
    )
    return QueryList(queries=[_query(r) for r in rows], total=total, page=page, limit=limit)


@router.get("/queries/{query_id}", response_model=QueryOut, dependencies=View)
def get_query(query_id: str, principal: PrincipalDep, session: SessionDep) -> QueryOut:
    """One saved query."""
    return QueryOut(
        query=_query(queries.get_query(session, workspace_id=principal.workspace_id, query_id=query_id))
    )


@router.put("/queries/{query_id}", response_model=QueryOut, dependencies=Manage)
def update_query(query_id: str, body: QueryUpdate, principal: PrincipalDep, session: SessionDep) -> QueryOut:
    """Change a saved query (fields left out stay as they are)."""
    given = body.model_dump(exclude_unset=True)
    names = {
        "boolean_query": "query",
        "exclude_keywords": "excluded_terms",
    }
    changes = {names.get(k, k): v for k, v in given.items() if v is not None or k == "sentiment_filter"}
    if "platforms" in changes:
        changes["platforms"] = [platform_name(p) for p in changes["platforms"]]
    row = queries.update_query(
        session,
        workspace_id=principal.workspace_id,
        query_id=query_id,
        changes=changes,
        user_id=principal.user_id,
    )
    session.commit()
    return QueryOut(query=_query(row))


@router.delete("/queries/{query_id}", status_code=204, dependencies=Manage)
def delete_query(query_id: str, principal: PrincipalDep, session: SessionDep) -> Response:
    """Delete a saved query (its mentions and alerts are kept)."""
    queries.delete_query(
        session, workspace_id=principal.workspace_id, query_id=query_id, user_id=principal.user_id
    )
    session.commit()
    return Response(status_code=204)


@router.get("/mentions", response_model=MentionsOut, dependencies=View)
def list_mentions(
    principal: PrincipalDep,
    session: SessionDep,
    query_id: Annotated[str | None, Query(alias="queryId", min_length=1, max_length=64)] = None,
    start_date: Annotated[UtcDatetime | None, Query(alias="startDate")] = None,
    end_date: Annotated[UtcDatetime | None, Query(alias="endDate")] = None,
    sentiment: Sentiment | None = None,
    min_reach: Annotated[int | None, Query(alias="minReach", ge=0, le=10**12)] = None,
    platform: Platform | None = None,
    page: Page = 1,
    limit: Limit = 50,
) -> MentionsOut:
    """Mentions newest first (a query's when `queryId` is given), with their sentiment counts."""
    result = insights.mention_page(
        session,
        workspace_id=principal.workspace_id,
        query_id=query_id,
        since=start_date,
        until=end_date,
        sentiment=sentiment,
        min_reach=min_reach,
        platform=platform_name(platform),
        offset=(page - 1) * limit,
        limit=limit,
    )
    return MentionsOut(
        mentions=[_mention(m) for m in result.mentions],
        total=result.total,
        page=page,
        limit=limit,
        sentiment_breakdown=SentimentBreakdown(**result.breakdown),
    )


@router.get("/sentiment", response_model=SentimentOut, dependencies=View)
def sentiment(
    principal: PrincipalDep,
    session: SessionDep,
    query_id: Annotated[str, Query(alias="queryId", min_length=1, max_length=64)],
    start_date: Annotated[UtcDatetime, Query(alias="startDate")],
    end_date: Annotated[UtcDatetime, Query(alias="endDate")],
    granularity: Literal["hour", "day", "week"] = "day",
) -> SentimentOut:
    """A query's sentiment in [startDate, endDate): overall, per hour/day/week, and by topic."""
    report = insights.sentiment_report(
        session,
        workspace_id=principal.workspace_id,
        query_id=query_id,
        since=start_date,
        until=end_date,
        granularity=granularity,
    )
    return SentimentOut(
        overall=SentimentOverall(score=report.score, sentiment=report.label, volume=report.volume),
        timeline=[SentimentPointOut.model_validate(p, from_attributes=True) for p in report.timeline],
        topics=[TopicSentimentOut.model_validate(t, from_attributes=True) for t in report.topics],
    )


@router.get("/trends", response_model=TrendsOut, dependencies=View)
def trends(
    principal: PrincipalDep,
    session: SessionDep,
    platform: Platform | None = None,
    category: Literal["hashtag", "term"] | None = None,
    location: Annotated[str | None, Query(min_length=1, max_length=255)] = None,
    window_hours: Annotated[int, Query(alias="windowHours", ge=1, le=168)] = 24,
) -> TrendsOut:
    """Topics of the workspace's mentions growing against their own 7-day baseline, strongest first."""
    now = workspace_now(session, principal.workspace_id)
    found = insights.trends_now(
        session,
        workspace_id=principal.workspace_id,
        now=now,
        window=timedelta(hours=window_hours),
        platform=platform_name(platform),
        kinds=(category,) if category else ("hashtag", "term"),
        location=location,
    )
    return TrendsOut(
        trends=[TrendOut.model_validate(t, from_attributes=True) for t in found],
        window_hours=window_hours,
        as_of=now,
    )


def _rule(rule: object) -> AlertRulePublic:
    return AlertRulePublic.model_validate(rule, from_attributes=True)


@router.post("/alerts", response_model=AlertRuleOut, status_code=201, dependencies=Manage)
def create_alert_rule(
    body: AlertRuleIn, principal: PrincipalDep, services: ServicesDep, session: SessionDep
) -> AlertRuleOut:
    """Set a query's alert rule: the detector rules it runs, their thresholds, and who is notified."""
    notifications = body.notifications.model_dump(mode="json")
    rule = set_alert_rule(
        session,
        services.accounts.cipher,
        workspace_id=principal.workspace_id,
        query_id=body.query_id,
        name=body.name,
        conditions=[AlertCondition.model_validate(c.model_dump()) for c in body.conditions],
        notifications=Notifications.model_validate(notifications),
        is_active=body.is_active,
        user_id=principal.user_id,
    )
    session.commit()
    return AlertRuleOut(alert=_rule(rule))


@router.get("/alert-rules", response_model=AlertRulesOut, dependencies=View)
def list_alert_rules(principal: PrincipalDep, session: SessionDep) -> AlertRulesOut:
    """The alert rules of the workspace's queries."""
    return AlertRulesOut(rules=[_rule(r) for r in alert_rules(session, workspace_id=principal.workspace_id)])


@router.get("/alerts", response_model=AlertsOut, dependencies=View)
def list_alerts(
    principal: PrincipalDep,
    session: SessionDep,
    status: Annotated[list[Literal["open", "acknowledged", "resolved"]] | None, Query(max_length=3)] = None,
    limit: Limit = 50,
) -> AlertsOut:
    """Alerts that fired, newest first (open and acknowledged ones unless `status` says otherwise)."""
    rows = alerts.list_alerts(
        session,
        workspace_id=principal.workspace_id,
        status=list(status) if status else ["open", "acknowledged"],
        limit=limit,
    )
    return AlertsOut(alerts=[AlertPublic.model_validate(a) for a in rows])


def _action(session: SessionDep, alert: Alert) -> AlertActionOut:
    workspace = get_workspace(session, alert.workspace_id)
    return AlertActionOut(
        alert=AlertPublic.model_validate(alert), publishing_paused_reason=workspace.publishing_paused_reason
    )


@router.post("/alerts/{alert_id}/acknowledge", response_model=AlertActionOut, dependencies=Manage)
def acknowledge_alert(
    alert_id: str, principal: PrincipalDep, session: SessionDep, body: AcknowledgeIn | None = None
) -> AlertActionOut:
    """Acknowledge an alert; the publishing pause it set is lifted unless `keepPaused`."""
    alert = alerts.acknowledge_alert(
        session,
        alert_id=alert_id,
        workspace_id=principal.workspace_id,
        user_id=principal.user_id or principal.actor,
        keep_paused=bool(body and body.keep_paused),
    )
    out = _action(session, alert)
    session.commit()
    return out


@router.post("/alerts/{alert_id}/resolve", response_model=AlertActionOut, dependencies=Manage)
def resolve_alert(
    alert_id: str, principal: PrincipalDep, session: SessionDep, body: ResolveIn | None = None
) -> AlertActionOut:
    """Close an alert; the publishing pause it set is lifted."""
    alert = alerts.resolve_alert(
        session,
        alert_id=alert_id,
        workspace_id=principal.workspace_id,
        user_id=principal.user_id or principal.actor,
        note=body.note if body else None,
    )
    out = _action(session, alert)
    session.commit()
    return out


__all__ = ["router"]

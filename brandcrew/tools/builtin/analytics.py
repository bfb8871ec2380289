"""Tools over the brand's own metrics."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import select

from brandcrew.services import analytics, campaigns
from brandcrew.store.tables import SocialAccount
from brandcrew.tools.builtin._session import session_for
from brandcrew.tools.context import ToolContext
from brandcrew.tools.decorator import tool

_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


@tool
def account_overview(ctx: ToolContext, days: int = 7) -> list[dict[str, Any]]:
    """Per connected account: followers and change, posts, impressions and engagement rate over `days` days."""
    with session_for(ctx) as session:
        rows = analytics.account_overview(
            session, workspace_id=ctx.workspace_id, since=ctx.now() - timedelta(days=days)
        )
    return [r.model_dump() | {"engagement_rate": round(r.engagement_rate, 4)} for r in rows]


@tool
def post_metrics(ctx: ToolContext, days: int = 7, platform: str | None = None) -> list[dict[str, Any]]:
    """Latest counters of each post published in the last `days` days."""
    with session_for(ctx) as session:
        posts = analytics.post_performance(
            session, workspace_id=ctx.workspace_id, since=ctx.now() - timedelta(days=days), platform=platform
        )
    return [p.model_dump(mode="json") | {"engagement_rate": round(p.engagement_rate, 4)} for p in posts]


@tool
def top_posts(ctx: ToolContext, days: int = 30, limit: int = 5, worst: bool = False) -> list[dict[str, Any]]:
    """The best (or worst) posts by engagement rate in the last `days` days."""
    with session_for(ctx) as session:
        posts = analytics.top_posts(
            session,
            workspace_id=ctx.workspace_id,
            since=ctx.now() - timedelta(days=days),
            limit=limit,
            worst=worst,
        )
    return [
        {
            "platform": p.platform,
            "text": p.text[:200],
            "impressions": p.impressions,
            "engagement_rate": round(p.engagement_rate, 4),
            "published_at": p.published_at.isoformat(),
        }
        for p in posts
    ]


@tool
def best_time_to_post(ctx: ToolContext, platform: str, utc_offset_hours: float = 0.0) -> dict[str, Any]:
    """Hours (account's local time) when the brand's own posts on a platform did best, from its analytics."""
    with session_for(ctx) as session:
        account = session.exec(
            select(SocialAccount).where(
                SocialAccount.workspace_id == ctx.workspace_id, SocialAccount.platform == platform
            )
        ).first()
        if account is None:
            return {"platform": platform, "hours": [], "note": f"no connected {platform} account"}
        hours = analytics.best_hours(
            session, workspace_id=ctx.workspace_id, account_id=account.id, utc_offset_hours=utc_offset_hours
        )
        slots = analytics.best_times(
            session, workspace_id=ctx.workspace_id, account_id=account.id, utc_offset_hours=utc_offset_hours
        )
        measured = sum(
            p.account_id == account.id
            for p in analytics.post_performance(session, workspace_id=ctx.workspace_id)
        )
    return {
        "platform": platform,
        "best_hours": [{"hour": h, "mean_impressions": round(v, 1)} for h, v in hours[:5]],
        "best_slots": [f"{_DAYS[s.weekday]} {s.hour:02d}:00 ({s.posts} posts)" for s in slots[:5]],
        "posts_measured": measured,
        "hours_measured": len(hours),
    }


@tool
def campaign_overview(ctx: ToolContext, campaign_id: str | None = None) -> list[dict[str, Any]]:
    """Campaigns with status, dates, budget and goal progress (one campaign when `campaign_id` is given)."""
    with session_for(ctx) as session:
        rows = (
            [campaigns.get_campaign(session, workspace_id=ctx.workspace_id, campaign_id=campaign_id)]
            if campaign_id
            else campaigns.list_campaigns(session, workspace_id=ctx.workspace_id)
        )
    return [
        {
            "id": c.id,
            "name": c.name,
            "status": c.status,
            "start": c.start_date,
            "end": c.end_date,
            "goals": c.goals,
            "budget_usd": c.budget_usd,
        }
        for c in rows
    ]

"""Tools about the brand itself: its profile and its past posts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from brandcrew.services import analytics
from brandcrew.services.workspaces import brand_of
from brandcrew.tools.builtin._session import session_for
from brandcrew.tools.context import ToolContext
from brandcrew.tools.decorator import tool


@tool
def brand_profile(ctx: ToolContext) -> dict[str, Any]:
    """The brand's profile: name, voice (do and don't), audience, banned words, hashtags, products, pillars."""
    with session_for(ctx) as session:
        return brand_of(session, ctx.workspace_id).model_dump(exclude={"workspace_id"})


@tool
def past_posts(
    ctx: ToolContext, days: int = 30, platform: str | None = None, limit: int = 10
) -> list[dict[str, Any]]:
    """The brand's recently published posts with their results, newest first."""
    with session_for(ctx) as session:
        posts = analytics.post_performance(
            session, workspace_id=ctx.workspace_id, since=ctx.now() - timedelta(days=days), platform=platform
        )
    posts.sort(key=lambda p: p.published_at, reverse=True)
    return [
        {
            "platform": p.platform,
            "published_at": p.published_at.isoformat(),
            "text": p.text,
            "impressions": p.impressions,
            "engagement_rate": round(p.engagement_rate, 4),
        }
        for p in posts[:limit]
    ]

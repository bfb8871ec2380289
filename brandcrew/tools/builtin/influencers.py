"""Tools about creators: who talks about the brand, and which of them are worth a partnership."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from brandcrew.services.influencers import discover
from brandcrew.tools.builtin._session import session_for
from brandcrew.tools.context import ToolContext
from brandcrew.tools.decorator import tool


@tool(untrusted_output=True)
def find_influencers(
    ctx: ToolContext,
    topic: Annotated[str | None, Field(max_length=200)] = None,
    min_followers: Annotated[int, Field(ge=0, le=1_000_000_000)] = 1_000,
    limit: Annotated[int, Field(ge=1, le=25)] = 10,
) -> list[dict[str, Any]]:
    """Creators who mention the brand, ranked for a partnership: relevance to `topic` (or the brand's
    pillars), engagement for their size, reach, sentiment toward the brand, with authenticity warnings
    (bought followers, engagement pods) that lowered their score. Use before proposing influencers."""
    embedder = ctx.services.extras.get("embedder")
    with session_for(ctx) as session:
        found = discover(
            session,
            workspace_id=ctx.workspace_id,
            topic=topic,
            min_followers=min_followers,
            limit=limit,
            embedder=embedder if hasattr(embedder, "embed") else None,
        )
    return [
        {
            "platform": c.platform,
            "username": c.username,
            "followers": c.followers,
            "tier": c.tier,
            "score": c.score,
            "relevance": c.relevance,
            "engagement_rate": c.engagement_rate,
            "expected_engagement_rate": c.expected_engagement_rate,
            "sentiment_toward_brand": c.sentiment,
            "mentions_of_brand": c.mentions,
            "warnings": [
                {"signal": s.name, "value": s.value, "threshold": s.threshold, "detail": s.detail}
                for s in c.signals
                if s.flagged
            ],
            "score_parts": {p.name: round(p.contribution * 100, 1) for p in c.components},
            "authenticity_factor": c.authenticity,
            "already_saved": c.saved_influencer_id is not None,
            "recent_text": c.sample_texts[0][:200] if c.sample_texts else "",
        }
        for c in found
    ]

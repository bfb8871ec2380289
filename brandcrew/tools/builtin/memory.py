"""Semantic search over what the brand remembers: past posts with results, mentions, messages, documents."""

from __future__ import annotations

from typing import Any

from brandcrew.tools.context import ToolContext
from brandcrew.tools.decorator import tool


@tool(untrusted_output=True)
async def search_memory(
    ctx: ToolContext, query: str, kind: str | None = None, limit: int = 5
) -> list[dict[str, Any]]:
    """Find remembered items similar in meaning to `query` (kind: post, mention, message or document)."""
    memory = ctx.services.extras.get("memory")
    if memory is None:
        return [{"note": "long-term memory is not configured for this run"}]
    filters = {"kind": {"$eq": kind}} if kind else None
    matches = await memory.search(ctx.workspace_id, query, top_k=limit, filters=filters)
    return [{"score": round(m.score, 3), "text": m.text, **m.metadata} for m in matches]

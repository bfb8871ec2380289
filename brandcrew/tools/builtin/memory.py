"""Semantic search over what the brand remembers: past posts with results, mentions, messages, documents."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from brandcrew.tools.context import ToolContext
from brandcrew.tools.decorator import tool


@tool(untrusted_output=True)
async def search_memory(
    ctx: ToolContext,
    query: str,
    kind: Literal["post", "mention", "message", "document", "guideline"] | None = None,
    limit: int = 5,
) -> list[dict[str, Any]]:
    """Find remembered posts (with their results), mentions, messages or brand documents similar to `query`."""
    from brandcrew.memory.embedders import default_embedder
    from brandcrew.memory.remember import search_memory as search

    memory = ctx.services.extras.get("memory")
    if memory is None:
        from brandcrew.memory.defaults import open_memory

        memory = ctx.services.extras.setdefault("memory", open_memory(ctx.services.settings))
    hits = await asyncio.to_thread(
        search,
        memory,
        ctx.workspace_id,
        query,
        embedder=default_embedder(),
        kinds=[kind] if kind else None,
        top_k=limit,
    )
    return [
        {"kind": h.kind, "score": round(h.score, 3), "text": h.text, "platform": h.platform} for h in hits
    ]

"""Tools about the brand's shop: its product catalog."""

from __future__ import annotations

from typing import Any

from brandcrew.services.commerce import catalog
from brandcrew.tools.builtin._session import session_for
from brandcrew.tools.context import ToolContext
from brandcrew.tools.decorator import tool

_DESCRIPTION_CHARS = 400


@tool(untrusted_output=True)
def product_catalog(ctx: ToolContext, query: str, limit: int = 5) -> list[dict[str, Any]]:
    """Look up products in the brand's store catalog by name, SKU or tag: price, stock, product page
    link, variants and description."""
    limit = max(1, min(limit, 20))
    with session_for(ctx) as session:
        rows, _ = catalog.search_products(
            session, workspace_id=ctx.workspace_id, query=query, status="active", limit=limit
        )
    # Descriptions and titles come from the store (outside text): the decorator marks the result so
    # the model reads it as data.
    return [
        {
            "id": p.id,
            "title": p.title,
            "price": p.price,
            "compare_at_price": p.compare_at_price,
            "currency": p.currency,
            "in_stock": None if p.inventory_qty is None else p.inventory_qty > 0,
            "url": p.url,
            "tags": p.tags,
            "variants": [
                {
                    "title": v.get("title") or "default",
                    "price": v.get("price"),
                    "stock": v.get("inventory_qty"),
                }
                for v in p.variants[:10]
            ],
            "description": p.description[:_DESCRIPTION_CHARS],
        }
        for p in rows
    ]

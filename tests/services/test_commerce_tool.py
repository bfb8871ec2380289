"""The content agent's `product_catalog` tool: finds active products of its own workspace only, and
hands the store's text to the model marked as untrusted data."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from brandcrew.services.commerce.catalog import import_csv
from brandcrew.services.container import Services
from brandcrew.tools.builtin.commerce import product_catalog
from brandcrew.tools.context import ToolContext, with_tool_context
from brandcrew.tools.decorator import UNTRUSTED_CLOSE, UNTRUSTED_OPEN
from tests.utils.commerce import SHOPIFY_CSV, WOO_CSV
from tests.utils.domain import accounts_with, make_workspace


async def test_product_catalog_finds_active_products_of_its_workspace_as_untrusted_data(
    sqlite_engine: Any,
) -> None:
    ws, other = make_workspace(sqlite_engine, "northwind").id, make_workspace(sqlite_engine, "southwind").id
    with Session(sqlite_engine) as session:
        import_csv(
            session, workspace_id=ws, data=SHOPIFY_CSV.read_bytes(), store_url="https://northwind.coffee"
        )
        import_csv(session, workspace_id=other, data=WOO_CSV.read_bytes())
        session.commit()
    from brandcrew.services.media import MediaStore
    from brandcrew.settings import get_settings

    settings = get_settings()
    services = Services(
        engine=sqlite_engine,
        accounts=accounts_with(sqlite_engine, {}),
        media=MediaStore(settings.data_dir / "media"),
        settings=settings,
    )
    config = with_tool_context(ToolContext(services=services, workspace_id=ws, agent="content_creator"))
    text = await product_catalog.ainvoke({"query": "yirgacheffe"}, config)
    assert text.startswith(UNTRUSTED_OPEN) and UNTRUSTED_CLOSE in text
    assert "Ethiopia Yirgacheffe" in text and "https://northwind.coffee/products/ethiopia-yirgacheffe" in text
    assert '"in_stock":true' in text.replace(" ", "")
    assert "Holiday Blend" not in await product_catalog.ainvoke({"query": "holiday"}, config)  # a draft
    assert "Chai" not in await product_catalog.ainvoke({"query": "chai"}, config)  # another workspace's
    assert product_catalog.untrusted_output

"""Catalog import from Shopify and WooCommerce product exports: variants, images, prices, safe text,
idempotent re-import, bad rows reported without losing good ones, search, tenancy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from brandcrew.services.commerce import catalog
from brandcrew.services.commerce.catalog import import_csv, search_products
from brandcrew.services.errors import NotFound, ValidationFailed
from brandcrew.store.tables import Product
from tests.utils.domain import make_workspace

DATA = Path(__file__).resolve().parents[1] / "data" / "commerce"
SHOPIFY = (DATA / "shopify_products.csv").read_bytes()
WOO = (DATA / "woocommerce_products.csv").read_bytes()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Any:
    """Each test on SQLite and on the machine's PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_engine")


@pytest.fixture
def ws(engine: Any) -> str:
    return make_workspace(engine, "northwind").id


def _import(engine: Any, ws: str, data: bytes | str, **kw: Any) -> catalog.ImportReport:
    with Session(engine, expire_on_commit=False) as session:
        report = import_csv(session, workspace_id=ws, data=data, **kw)
        session.commit()
        return report


def _products(engine: Any, ws: str) -> dict[str, Product]:
    with Session(engine) as session:
        return {
            p.external_id: p for p in session.exec(select(Product).where(Product.workspace_id == ws)).all()
        }


def test_shopify_export_groups_rows_by_handle_into_products_with_variants_and_images(
    engine: Any, ws: str
) -> None:
    report = _import(engine, ws, SHOPIFY, store_url="https://northwind.coffee")
    assert report.format == "shopify"
    assert (report.created, report.updated, report.skipped) == (3, 0, 3)
    products = _products(engine, ws)
    assert set(products) == {"ethiopia-yirgacheffe", "ceramic-pour-over", "holiday-blend"}
    beans = products["ethiopia-yirgacheffe"]
    assert beans.title == "Ethiopia Yirgacheffe" and beans.vendor == "Northwind Coffee"
    assert [v["sku"] for v in beans.variants] == ["NW-YIR-250-WB", "NW-YIR-1K-WB", "NW-YIR-250-ES"]
    assert beans.variants[1]["options"] == {"Size": "1kg", "Grind": "Whole bean"}
    assert beans.variants[1]["price"] == "48.00" and beans.variants[0]["compare_at_price"] == "16.00"
    assert (beans.price, beans.compare_at_price, beans.inventory_qty) == ("14.50", "16.00", 60)
    assert beans.images == [
        "https://cdn.example.com/yirgacheffe-1.jpg",
        "https://cdn.example.com/yirgacheffe-2.jpg",
        "https://cdn.example.com/yirgacheffe-3.jpg",
    ]
    assert beans.tags == ["single origin", "light roast"]
    assert beans.url == "https://northwind.coffee/products/ethiopia-yirgacheffe"
    # HTML stripped: tags gone, entities decoded, script content dropped, list items kept as lines.
    assert beans.description.startswith("Floral and bright, with notes of jasmine & lemon.")
    assert "alert" not in beans.description and "<" not in beans.description
    assert "- Washed" in beans.description and "- Heirloom" in beans.description
    dripper = products["ceramic-pour-over"]
    assert (
        dripper.price == "1299.00"
        and dripper.variants[0]["options"] == {}
        and dripper.variants[0]["title"] == ""
    )
    assert products["holiday-blend"].status == "draft" and products["holiday-blend"].inventory_qty == 0


def test_shopify_bad_rows_are_reported_with_their_line_and_reason(engine: Any, ws: str) -> None:
    report = _import(engine, ws, SHOPIFY)
    problems = {(p.line, p.external_id): p.reason for p in report.problems}
    assert problems == {
        (8, "broken-price"): "no valid variant: Variant Price 'twelve' is not a price",
        (9, None): "the row has no Handle",
        (10, "no-title"): "no row of this product has a Title",
    }


def test_woocommerce_export_attaches_variations_to_their_parent_by_id_or_sku(engine: Any, ws: str) -> None:
    report = _import(engine, ws, WOO, currency="eur", store_url="https://tea.example.com")
    assert report.format == "woocommerce"
    assert (report.created, report.skipped) == (3, 3)
    products = _products(engine, ws)
    assert set(products) == {"101", "102", "105"}
    chai = products["102"]
    assert [(v["sku"], v["options"], v["price"], v["compare_at_price"]) for v in chai.variants] == [
        ("TEA-CHAI-100", {"Size": "100g"}, "9.50", None),
        ("TEA-CHAI-250", {"Size": "250g"}, "19.00", "21.00"),
    ]
    assert (chai.price, chai.inventory_qty, chai.currency) == ("9.50", 27, "EUR")
    assert chai.images == ["https://cdn.example.com/chai-1.jpg", "https://cdn.example.com/chai-2.jpg"]
    assert chai.description == "Black tea with cardamom and ginger."
    sencha = products["101"]
    assert sencha.description == "Steamed Japanese green tea.\n\nBrew at 70°C."
    assert sencha.category == "Tea > Green" and sencha.extra["categories"] == ["Tea > Green", "Tea"]
    assert sencha.url == "https://tea.example.com/?p=101"
    assert products["105"].status == "draft"
    reasons = sorted(p.reason for p in report.problems)
    assert reasons == [
        "Stock 'lots' is not a number",
        "parent id:999 is neither in the file nor in the catalog",
        "the row has no Name",
    ]


def test_reimport_updates_prices_and_stock_and_never_duplicates(engine: Any, ws: str) -> None:
    first = _import(engine, ws, SHOPIFY)
    again = _import(engine, ws, SHOPIFY)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert sorted(again.product_ids) == sorted(first.product_ids)
    changed = SHOPIFY.decode().replace(
        "NW-YIR-1K-WB,1000,shopify,12,deny,manual,48.00", "NW-YIR-1K-WB,1000,shopify,3,deny,manual,45.00"
    )
    third = _import(engine, ws, changed)
    assert (third.created, third.updated, third.unchanged) == (0, 1, 2)
    beans = _products(engine, ws)["ethiopia-yirgacheffe"]
    assert beans.variants[1]["price"] == "45.00" and beans.inventory_qty == 51
    assert len(_products(engine, ws)) == 3


def test_woocommerce_variations_alone_update_a_product_imported_earlier(engine: Any, ws: str) -> None:
    _import(engine, ws, WOO)
    header = WOO.decode().splitlines()[0]
    restock = (
        header
        + "\n"
        + "104,variation,TEA-CHAI-250,Masala Chai - 250g,1,0,visible,,,,,taxable,parent,1,40,,0,0,0.25,,,,0,,,21.00,,,,,,,TEA-CHAI,,,,,,2,Size,250g,,1\n"
    )
    report = _import(engine, ws, restock, format="woocommerce")
    assert (report.created, report.updated, report.skipped) == (0, 1, 0)
    chai = _products(engine, ws)["102"]
    assert [v["inventory_qty"] for v in chai.variants] == [20, 40] and chai.inventory_qty == 60
    assert len(chai.variants) == 2


def test_unknown_csv_and_empty_file_are_refused_clearly(engine: Any, ws: str) -> None:
    with pytest.raises(ValidationFailed, match="neither a Shopify nor a WooCommerce"):
        _import(engine, ws, b"name,price\nmug,3\n")
    with pytest.raises(ValidationFailed, match="empty"):
        _import(engine, ws, b"")
    assert _products(engine, ws) == {}


def test_search_is_per_workspace_and_matches_title_sku_and_tags(engine: Any, ws: str) -> None:
    other = make_workspace(engine, "southwind").id
    _import(engine, ws, SHOPIFY)
    _import(engine, other, WOO)
    with Session(engine) as session:
        rows, total = search_products(session, workspace_id=ws, query="yirga")
        assert [p.external_id for p in rows] == ["ethiopia-yirgacheffe"] and total == 1
        assert [p.external_id for p in search_products(session, workspace_id=ws, query="NW-DRIP")[0]] == [
            "ceramic-pour-over"
        ]
        assert [p.external_id for p in search_products(session, workspace_id=ws, query="light roast")[0]] == [
            "ethiopia-yirgacheffe"
        ]
        assert search_products(session, workspace_id=ws, query="chai") == ([], 0)
        assert search_products(session, workspace_id=ws, query="100%") == ([], 0)
        page, total = search_products(session, workspace_id=ws, offset=1, limit=1)
        assert total == 3 and [p.title for p in page] == ["Ethiopia Yirgacheffe"]
        chai = search_products(session, workspace_id=other, query="chai")[0][0]
        with pytest.raises(NotFound):
            catalog.get_product(session, workspace_id=ws, product_id=chai.id)

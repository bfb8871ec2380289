"""Catalog sync from the Shopify Admin REST and WooCommerce REST APIs (hand-written cassettes following
the documented wire formats), with pagination, variants, encrypted credentials and idempotent re-sync."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlmodel import Session, select

from brandcrew.services.commerce import stores
from brandcrew.services.commerce.stores import StoreAuthFailed, StoreCredentials, fetch_catalog
from brandcrew.services.errors import ValidationFailed
from brandcrew.store.tables import CommerceStore, Product
from tests.utils.commerce import COMMERCE_VCR
from tests.utils.domain import TEST_CIPHER, make_workspace

SHOPIFY = StoreCredentials(platform="shopify", store_url="northwind-coffee", api_key="shpat_test_token")
WOO = StoreCredentials(
    platform="woocommerce", store_url="https://tea.example.com/", api_key="ck_test", api_secret="cs_test"
)


def _recording_client() -> tuple[httpx.AsyncClient, list[httpx.Request]]:
    sent: list[httpx.Request] = []

    async def remember(request: httpx.Request) -> None:
        sent.append(request)

    return httpx.AsyncClient(event_hooks={"request": [remember]}), sent


async def test_shopify_sync_follows_the_link_header_to_the_last_page() -> None:
    client, sent = _recording_client()
    with COMMERCE_VCR.use_cassette("shopify_products.yaml") as cassette:
        records = await fetch_catalog(SHOPIFY, client=client)
    assert cassette.all_played
    # Filtered in the file, sent on the wire.
    assert [r.headers.get("X-Shopify-Access-Token") for r in sent] == ["shpat_test_token"] * 3
    assert "page_info=" in str(sent[2].url)
    assert [r.external_id for r in records] == ["ethiopia-yirgacheffe", "ceramic-pour-over", "kenya-aa"]
    beans = records[0]
    assert beans.currency == "CAD" and beans.extra == {"shopify_id": 8120001}
    assert [(v.sku, v.options, str(v.price), v.inventory_qty) for v in beans.variants] == [
        ("NW-YIR-250-WB", {"Size": "250g", "Grind": "Whole bean"}, "15.00", 38),
        ("NW-YIR-1K-WB", {"Size": "1kg", "Grind": "Whole bean"}, "48.00", 12),
    ]
    assert beans.tags == ["light roast", "single origin"]
    assert beans.url == "https://northwind-coffee.myshopify.com/products/ethiopia-yirgacheffe"
    assert records[1].variants[0].options == {} and records[2].status == "draft"


async def test_woocommerce_sync_reads_every_page_and_the_variations() -> None:
    client, sent = _recording_client()
    with COMMERCE_VCR.use_cassette("woocommerce_products.yaml") as cassette:
        records = await fetch_catalog(WOO, client=client)
    assert cassette.all_played
    assert {r.headers.get("Authorization") for r in sent} == {"Basic Y2tfdGVzdDpjc190ZXN0"}  # ck_test:cs_test
    assert [r.external_id for r in records] == ["101", "102", "105"]
    chai = records[1]
    assert [(v.sku, v.options, str(v.price), v.compare_at_price) for v in chai.variants] == [
        ("TEA-CHAI-100", {"Size": "100g"}, "9.50", None),
        ("TEA-CHAI-250", {"Size": "250g"}, "19.00", Decimal("21.00")),
    ]
    assert chai.inventory_qty == 27 and chai.currency == "EUR"
    gift = records[2]
    assert (str(gift.price), str(gift.compare_at_price), gift.status) == ("30.00", "35.00", "draft")


async def test_a_refused_token_is_a_clear_auth_error() -> None:
    with COMMERCE_VCR.use_cassette("shopify_unauthorized.yaml"), pytest.raises(StoreAuthFailed) as info:
        await fetch_catalog(SHOPIFY)
    assert info.value.code == "PLATFORM_AUTH_FAILED"


@pytest.mark.parametrize(
    ("platform", "url"),
    [
        ("shopify", "https://evil.example.com"),
        ("woocommerce", "http://tea.example.com"),
        ("woocommerce", "https://127.0.0.1"),
        ("woocommerce", "https://10.0.0.8/shop"),
        ("woocommerce", "https://localhost:8080"),
        ("woocommerce", "https://user:pw@tea.example.com"),
        ("woocommerce", "https://0"),
        ("woocommerce", "https://[::1"),
    ],
)
def test_store_urls_brandcrew_must_not_call_are_refused(platform: Any, url: str) -> None:
    with pytest.raises(ValidationFailed):
        stores.normalize_store_url(platform, url)


def test_store_urls_are_normalised() -> None:
    assert (
        stores.normalize_store_url("shopify", "Northwind-Coffee") == "https://northwind-coffee.myshopify.com"
    )
    assert (
        stores.normalize_store_url("woocommerce", "tea.example.com/shop/") == "https://tea.example.com/shop"
    )


async def test_sync_stores_encrypted_credentials_and_resync_updates_without_duplicates(
    sqlite_engine: Any,
) -> None:
    ws = make_workspace(sqlite_engine).id
    with COMMERCE_VCR.use_cassette("woocommerce_products.yaml"):
        records = await fetch_catalog(WOO)
    with Session(sqlite_engine, expire_on_commit=False) as session:
        store = stores.save_store(session, workspace_id=ws, cipher=TEST_CIPHER, creds=WOO)
        report = stores.record_sync(session, workspace_id=ws, store=store, records=records)
        session.commit()
    assert (report.created, report.updated) == (3, 0)
    with Session(sqlite_engine) as session:
        row = session.exec(select(CommerceStore)).one()
        assert "cs_test" not in row.api_secret and "ck_test" not in row.api_key  # type: ignore[operator]
        assert row.store_url == "https://tea.example.com" and row.last_sync_result["created"] == 3
        assert stores.credentials_of(row, TEST_CIPHER).api_secret == "cs_test"
    with COMMERCE_VCR.use_cassette("woocommerce_products.yaml"):
        again = await stores.sync_saved_store(sqlite_engine, TEST_CIPHER, workspace_id=ws, store_id=row.id)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    with Session(sqlite_engine) as session:
        products = session.exec(select(Product)).all()
        assert len(products) == 3 and {p.store_id for p in products} == {row.id}


async def test_a_store_name_resolving_to_a_private_address_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import asyncio

    async def resolve(self: Any, host: str, *args: Any, **kw: Any) -> list[Any]:
        return [(2, 1, 6, "", ("192.168.1.20", 443))]

    monkeypatch.setattr(asyncio.BaseEventLoop, "getaddrinfo", resolve)
    with pytest.raises(ValidationFailed, match="public address"):
        await fetch_catalog(WOO)

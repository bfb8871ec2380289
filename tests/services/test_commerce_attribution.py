"""Shoppable posts (product tags, UTM links put where each platform takes them) and conversion tracking:
last-click attribution in a 7-day window, idempotent orders, signatures, revenue by post, platform,
campaign and product, and workspaces kept apart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import Session, select

from brandcrew.services import campaigns, publishing
from brandcrew.services.campaigns import CampaignIn
from brandcrew.services.commerce import conversions, shoppable
from brandcrew.services.commerce.analytics import commerce_report
from brandcrew.services.commerce.catalog import import_csv
from brandcrew.services.commerce.conversions import ConversionIn, record_event
from brandcrew.services.commerce.shoppable import ProductTag, tag_products
from brandcrew.services.errors import NotFound, ValidationFailed
from brandcrew.services.publishing import PostContent, PostTarget
from brandcrew.store.tables import Product
from tests.utils.commerce import SHOPIFY_CSV
from tests.utils.domain import TEST_CIPHER, accounts_with, connect, make_workspace
from tests.utils.fakes import FakeConnector

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Any:
    """Each test on SQLite and on the machine's PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_engine")


class Shop:
    """A workspace with X, Threads and Instagram accounts, a campaign, a catalog and one post."""

    def __init__(self, engine: Any, slug: str = "northwind") -> None:
        self.engine = engine
        fakes = {f"{slug}-{p}": FakeConnector(platform=p) for p in ("x", "threads", "instagram")}
        accounts = accounts_with(engine, fakes)
        self.ws = make_workspace(engine, slug).id
        self.accounts = {
            p: connect(engine, accounts, self.ws, platform=p, username=f"{slug}-{p}").id
            for p in ("x", "threads", "instagram")
        }
        with Session(engine, expire_on_commit=False) as session:
            import_csv(
                session,
                workspace_id=self.ws,
                data=SHOPIFY_CSV.read_bytes(),
                store_url="https://northwind.coffee",
            )
            self.campaign = campaigns.create_campaign(
                session, workspace_id=self.ws, data=CampaignIn(name="Spring Beans")
            )
            self.products = {
                p.handle: p.id for p in session.exec(select(Product).where(Product.workspace_id == self.ws))
            }
            self.post = publishing.create_post(
                session,
                workspace_id=self.ws,
                content=PostContent(text="Our spring single origin is here"),
                targets=[PostTarget(platform=p, account_id=a) for p, a in self.accounts.items()],
                campaign_id=self.campaign.id,
            ).id
            session.commit()

    def tag(self, *handles: str, apply_links: bool = True) -> list[shoppable.ShoppableLink]:
        with Session(self.engine, expire_on_commit=False) as session:
            _, links = tag_products(
                session,
                workspace_id=self.ws,
                post_id=self.post,
                tags=[ProductTag(product_id=self.products[h], x=0.4, y=0.6) for h in handles],
                apply_links=apply_links,
            )
            session.commit()
            return links

    def event(self, **fields: Any) -> tuple[Any, bool]:
        now = fields.pop("now", T0 + timedelta(days=1))
        with Session(self.engine, expire_on_commit=False) as session:
            row, created = record_event(
                session, workspace_id=self.ws, event=ConversionIn.model_validate(fields), now=now
            )
            session.commit()
            return row, created

    def report(self, **kw: Any) -> Any:
        with Session(self.engine) as session:
            return commerce_report(
                session,
                workspace_id=self.ws,
                start=T0 - timedelta(days=30),
                end=T0 + timedelta(days=30),
                **kw,
            )


@pytest.fixture
def shop(engine: Any) -> Shop:
    return Shop(engine)


def test_tagging_builds_utm_links_per_platform_and_puts_them_where_each_platform_takes_them(
    shop: Shop,
) -> None:
    links = shop.tag("ethiopia-yirgacheffe", "ceramic-pour-over")
    by = {(link.platform, link.product_id): link for link in links}
    beans = shop.products["ethiopia-yirgacheffe"]
    threads = by[("threads", beans)]
    query = parse_qs(urlsplit(threads.url).query)
    assert threads.url.startswith("https://northwind.coffee/products/ethiopia-yirgacheffe?")
    assert query == {
        "utm_source": ["threads"],
        "utm_medium": ["social"],
        "utm_campaign": ["spring-beans"],
        "utm_content": [shop.post],
    }
    # The first product goes on the post: link field on Threads, in the text on X, nowhere on Instagram.
    assert [(link.platform, link.applied) for link in links if link.product_id == beans] == [
        ("instagram", False),
        ("threads", True),
        ("x", True),
    ]
    assert not any(link.applied for link in links if link.product_id != beans)
    with Session(shop.engine) as session:
        post = publishing.get_post(session, workspace_id=shop.ws, post_id=shop.post)
        variants = {v.platform: v for v in publishing.variants_of(session, post.id)}
        assert variants["threads"].custom_content["link"] == threads.url  # type: ignore[index]
        assert variants["x"].custom_content["text"].endswith(by[("x", beans)].url)  # type: ignore[index]
        assert not (variants["instagram"].custom_content or {}).get("link")
        assert post.version == 2
        tagged = shoppable.tagged_products(session, workspace_id=shop.ws, post_id=post.id)
        assert [(t.position_x, t.position_y, p.handle) for t, p in tagged] == [
            (0.4, 0.6, "ethiopia-yirgacheffe"),
            (0.4, 0.6, "ceramic-pour-over"),
        ]


def test_retagging_replaces_the_link_instead_of_stacking_it(shop: Shop) -> None:
    shop.tag("ethiopia-yirgacheffe")
    shop.tag("ethiopia-yirgacheffe")  # same tags again: nothing changes
    links = shop.tag("ceramic-pour-over")
    with Session(shop.engine) as session:
        post = publishing.get_post(session, workspace_id=shop.ws, post_id=shop.post)
        x = next(v for v in publishing.variants_of(session, post.id) if v.platform == "x")
        text = x.custom_content["text"]  # type: ignore[index]
        assert text.count("https://") == 1 and "ceramic-pour-over" in text
        assert post.version == 3
        assert len(shoppable.tagged_products(session, workspace_id=shop.ws, post_id=post.id)) == 1
    assert {link.product_id for link in links} == {shop.products["ceramic-pour-over"]}


def test_tagging_refuses_another_workspaces_post_or_product(shop: Shop, engine: Any) -> None:
    other = Shop(engine, "southwind")
    with Session(engine) as session:
        with pytest.raises(NotFound):
            tag_products(session, workspace_id=other.ws, post_id=shop.post, tags=[])
        with pytest.raises(NotFound):
            tag_products(
                session,
                workspace_id=other.ws,
                post_id=other.post,
                tags=[ProductTag(product_id=shop.products["ceramic-pour-over"])],
            )


def test_a_purchase_is_credited_to_the_visitors_last_click_within_seven_days(shop: Shop) -> None:
    links = shop.tag("ethiopia-yirgacheffe")
    threads_url = next(link.url for link in links if link.platform == "threads")
    click, _ = shop.event(type="click", visitorId="v1", landingUrl=threads_url, now=T0)
    assert (click.post_id, click.platform, click.campaign_id, click.attributed_via) == (
        shop.post,
        "threads",
        shop.campaign.id,
        "utm",
    )
    assert click.product_ids == [shop.products["ethiopia-yirgacheffe"]]  # the post's tagged product
    purchase, created = shop.event(
        type="purchase",
        orderId="1001",
        visitorId="v1",
        currency="USD",
        items=[{"productId": "NW-YIR-250-WB", "quantity": 2, "price": "14.50"}],
        occurredAt=(T0 + timedelta(days=2)).isoformat(),
        now=T0 + timedelta(days=2),
    )
    assert created and purchase.revenue_minor == 2900
    assert (purchase.post_id, purchase.platform, purchase.attributed_via) == (shop.post, "threads", "click")
    late, _ = shop.event(
        type="purchase", orderId="1002", visitorId="v1", revenue="10", now=T0 + timedelta(days=8)
    )
    assert late.post_id is None and late.attributed_via is None  # the click is 8 days old


def test_a_replayed_order_is_counted_once(shop: Shop) -> None:
    first, created = shop.event(
        type="purchase", orderId="A-1", revenue="25.00", utmContent=shop.post, utmSource="x"
    )
    again, created_again = shop.event(type="purchase", orderId="A-1", revenue="99.00")
    assert created and not created_again and again.id == first.id and again.revenue_minor == 2500
    by_event, _ = shop.event(type="click", eventId="evt-1")
    replay, created_replay = shop.event(type="click", eventId="evt-1")
    assert replay.id == by_event.id and not created_replay
    report = shop.report()
    assert (report.metrics.purchases, report.metrics.revenue, report.metrics.clicks) == (1, 25.0, 1)


def test_bad_events_are_refused(shop: Shop) -> None:
    with pytest.raises(ValidationFailed, match="orderId"):
        shop.event(type="purchase", revenue="5")
    with pytest.raises(ValidationFailed, match="revenue"):
        shop.event(type="purchase", orderId="x")
    with pytest.raises(ValidationFailed, match="future"):
        shop.event(type="click", occurredAt="2031-01-01T00:00:00Z", now=T0)


def test_report_breaks_revenue_down_by_post_platform_campaign_and_product(shop: Shop) -> None:
    links = shop.tag("ethiopia-yirgacheffe", "ceramic-pour-over")
    x_url = next(link.url for link in links if link.platform == "x")
    shop.event(type="click", visitorId="a", landingUrl=x_url)
    shop.event(type="click", visitorId="b", landingUrl=x_url.replace("utm_source=x", "utm_source=threads"))
    shop.event(type="click", visitorId="c")  # not from a post
    shop.event(type="add_to_cart", visitorId="a", productIds=["ethiopia-yirgacheffe"])
    shop.event(
        type="purchase",
        orderId="o1",
        visitorId="a",
        revenue="43.50",
        items=[
            {"productId": "ethiopia-yirgacheffe", "quantity": 2, "price": "14.50"},
            {"productId": "NW-YIR-250-ES", "quantity": 1, "price": "14.50"},
        ],
    )
    shop.event(
        type="purchase", orderId="o2", visitorId="b", revenue="1299.00", productIds=["ceramic-pour-over"]
    )
    shop.event(type="purchase", orderId="o3", revenue="7.00")  # unattributed
    shop.event(type="purchase", orderId="o4", revenue="500", currency="JPY", utmContent=shop.post)
    report = shop.report()
    assert report.currency == "USD"
    m = report.metrics
    assert (m.clicks, m.add_to_carts, m.purchases) == (3, 1, 3)
    assert (m.revenue, m.attributed_revenue, m.conversion_rate) == (1349.5, 1342.5, 1.0)
    assert [(p.platform, p.revenue, p.conversions, p.clicks) for p in report.platform_breakdown] == [
        ("threads", 1299.0, 1, 1),
        ("x", 43.5, 1, 1),
    ]
    assert [(p.post_id, p.revenue, p.purchases, p.platforms) for p in report.posts] == [
        (shop.post, 1342.5, 2, ["threads", "x"])
    ]
    assert [(c.name, c.revenue) for c in report.campaigns] == [("Spring Beans", 1342.5)]
    assert [(t.product.handle, t.revenue) for t in report.top_products] == [
        ("ceramic-pour-over", 1299.0),
        ("ethiopia-yirgacheffe", 43.5),
    ]
    assert [(c.currency, c.purchases, c.revenue) for c in report.other_currencies] == [("JPY", 1, 500.0)]
    only_beans = shop.report(product_id=shop.products["ethiopia-yirgacheffe"])
    assert (only_beans.metrics.purchases, only_beans.metrics.revenue) == (1, 43.5)
    assert shop.report(currency="JPY").metrics.revenue == 500.0


def test_another_workspace_never_sees_or_claims_the_events(shop: Shop, engine: Any) -> None:
    other = Shop(engine, "southwind")
    # A foreign post id in utm_content is not a post of this workspace: no credit.
    row, _ = other.event(type="purchase", orderId="x1", revenue="9", utmContent=shop.post)
    assert row.post_id is None
    shop.event(type="purchase", orderId="x1", revenue="5", utmContent=shop.post)  # same order id, other shop
    assert shop.report().metrics.revenue == 5.0 and other.report().metrics.revenue == 9.0
    assert other.report().posts == []


def test_webhook_signatures_are_checked_against_the_workspace_secret(shop: Shop) -> None:
    body = b'{"type":"click"}'
    with Session(shop.engine) as session:
        assert not conversions.verify_signature(
            session, workspace_id=shop.ws, cipher=TEST_CIPHER, body=body, signature="x"
        )
        secret = conversions.rotate_webhook_secret(session, workspace_id=shop.ws, cipher=TEST_CIPHER)
        good = conversions.sign(secret, body)
        assert conversions.verify_signature(
            session, workspace_id=shop.ws, cipher=TEST_CIPHER, body=body, signature=good
        )
        assert not conversions.verify_signature(
            session, workspace_id=shop.ws, cipher=TEST_CIPHER, body=body + b" ", signature=good
        )
        assert not conversions.verify_signature(
            session, workspace_id="another", cipher=TEST_CIPHER, body=body, signature=good
        )
        rotated = conversions.rotate_webhook_secret(session, workspace_id=shop.ws, cipher=TEST_CIPHER)
        assert rotated != secret
        assert not conversions.verify_signature(
            session, workspace_id=shop.ws, cipher=TEST_CIPHER, body=body, signature=good
        )


def test_money_is_exact_in_minor_units(shop: Shop) -> None:
    row, _ = shop.event(
        type="purchase", orderId="m1", revenue=str(Decimal("0.1") + Decimal("0.2")), currency="usd"
    )
    assert (row.revenue_minor, row.currency) == (30, "USD")
    yen, _ = shop.event(type="purchase", orderId="m2", revenue="1500", currency="JPY")
    assert yen.revenue_minor == 1500


def test_event_times_are_stored_in_utc_and_absurd_dates_refused(shop: Shop) -> None:
    row, _ = shop.event(type="click", occurredAt="2026-11-21T14:00:00+05:00", now=T0 + timedelta(days=2))
    assert row.occurred_at.replace(tzinfo=UTC) == datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    with pytest.raises(ValidationFailed, match="before 2000"):
        shop.event(type="click", occurredAt="0001-01-01T00:00:00Z")

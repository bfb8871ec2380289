"""Commerce metrics: clicks, add-to-carts, purchases, revenue and conversion rate over a period, with
top products and revenue by platform, post and campaign (credit as `conversions` attributes it).

Revenue is reported in one currency (the one asked for, else the one most purchases used); purchases
in other currencies are listed apart, never converted at a made-up rate. A product's revenue is its
line items' revenue when the store sent items, else the order's revenue split evenly between the
products it names.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from brandcrew.services.commerce._money import from_minor
from brandcrew.store.tables import Campaign, ConversionEvent, Post, Product

TOP_PRODUCTS = 10


class Metrics(BaseModel):
    """Totals of the period (revenue in the report's currency)."""

    clicks: int = 0
    add_to_carts: int = 0
    purchases: int = 0
    revenue: float = 0.0
    conversion_rate: float = 0.0
    """Purchases per click (0 when there were no clicks)."""
    attributed_revenue: float = 0.0
    """The part of `revenue` credited to a post."""
    average_order_value: float = 0.0


class ProductStats(BaseModel):
    """A product's clicks, purchases and revenue."""

    product: Product
    clicks: int = 0
    purchases: int = 0
    revenue: float = 0.0


class PlatformStats(BaseModel):
    """Revenue credited to posts on one platform."""

    platform: str
    clicks: int = 0
    conversions: int = 0
    revenue: float = 0.0


class PostStats(BaseModel):
    """Revenue credited to one post."""

    post_id: str
    campaign_id: str | None = None
    platforms: list[str] = Field(default_factory=list)
    clicks: int = 0
    add_to_carts: int = 0
    purchases: int = 0
    revenue: float = 0.0


class CampaignStats(BaseModel):
    """Revenue credited to one campaign."""

    campaign_id: str
    name: str
    clicks: int = 0
    purchases: int = 0
    revenue: float = 0.0


class CurrencyTotal(BaseModel):
    """Purchases in a currency other than the report's."""

    currency: str
    purchases: int
    revenue: float


class CommerceReport(BaseModel):
    """Everything `GET /api/commerce/analytics` answers."""

    start: datetime
    end: datetime
    currency: str
    metrics: Metrics
    top_products: list[ProductStats]
    platform_breakdown: list[PlatformStats]
    posts: list[PostStats]
    campaigns: list[CampaignStats]
    other_currencies: list[CurrencyTotal]


@dataclass
class _Tally:
    clicks: int = 0
    add_to_carts: int = 0
    purchases: int = 0
    revenue_minor: int = 0
    platforms: set[str] = field(default_factory=set)

    def add(self, event: ConversionEvent, revenue_minor: int) -> None:
        if event.type == "click":
            self.clicks += 1
        elif event.type == "add_to_cart":
            self.add_to_carts += 1
        else:
            self.purchases += 1
            self.revenue_minor += revenue_minor
        if event.platform:
            self.platforms.add(event.platform)


def money_of(minor: int, currency: str) -> float:
    """An amount in minor units as the API's number in the currency's main unit."""
    return round(from_minor(minor, currency), 6)


def _product_shares(event: ConversionEvent) -> dict[str, int]:
    if event.type != "purchase":
        return dict.fromkeys(event.product_ids, 0)
    if event.items:
        shares: dict[str, int] = defaultdict(int)
        for item in event.items:
            shares[str(item["product_id"])] += int(item["revenue_minor"])
        return dict(shares)
    if not event.product_ids:
        return {}
    each, rest = divmod(event.revenue_minor, len(event.product_ids))
    return {pid: each + (1 if i < rest else 0) for i, pid in enumerate(event.product_ids)}


def commerce_report(
    session: Session,
    *,
    workspace_id: str,
    start: datetime,
    end: datetime,
    product_id: str | None = None,
    currency: str | None = None,
) -> CommerceReport:
    """The workspace's commerce metrics for events in [start, end), optionally about one product."""
    stmt = select(ConversionEvent).where(
        ConversionEvent.workspace_id == workspace_id,
        col(ConversionEvent.occurred_at) >= start,
        col(ConversionEvent.occurred_at) < end,
    )
    events = [
        e
        for e in session.exec(stmt.execution_options(yield_per=1000))
        if product_id is None or product_id in e.product_ids
    ]
    purchases_by_currency = Counter(e.currency for e in events if e.type == "purchase")
    chosen = (
        currency or (purchases_by_currency.most_common(1)[0][0] if purchases_by_currency else "USD")
    ).upper()

    total = _Tally()
    attributed_minor = 0
    by_platform: dict[str, _Tally] = defaultdict(_Tally)
    by_post: dict[str, _Tally] = defaultdict(_Tally)
    post_campaign: dict[str, str | None] = {}
    by_campaign: dict[str, _Tally] = defaultdict(_Tally)
    by_product: dict[str, _Tally] = defaultdict(_Tally)
    other: dict[str, _Tally] = defaultdict(_Tally)
    for event in events:
        if event.type == "purchase" and event.currency != chosen:
            other[event.currency].add(event, event.revenue_minor)
            continue
        shares = _product_shares(event)
        revenue = shares.get(product_id, 0) if product_id else event.revenue_minor
        total.add(event, revenue)
        for pid, share in shares.items():
            if product_id is None or pid == product_id:
                by_product[pid].add(event, share)
        if event.post_id:
            attributed_minor += revenue if event.type == "purchase" else 0
            by_post[event.post_id].add(event, revenue)
            post_campaign.setdefault(event.post_id, event.campaign_id)
        if event.platform and event.post_id:
            by_platform[event.platform].add(event, revenue)
        if event.campaign_id:
            by_campaign[event.campaign_id].add(event, revenue)

    def money(minor: int) -> float:
        return round(from_minor(minor, chosen), 6)

    products = {
        p.id: p
        for p in session.exec(
            select(Product).where(Product.workspace_id == workspace_id, col(Product.id).in_(list(by_product)))
        ).all()
    }
    ranked = sorted(by_product.items(), key=lambda kv: (-kv[1].revenue_minor, -kv[1].clicks, kv[0]))
    top = [
        ProductStats(
            product=products[pid], clicks=t.clicks, purchases=t.purchases, revenue=money(t.revenue_minor)
        )
        for pid, t in ranked
        if pid in products
    ][:TOP_PRODUCTS]
    names = {
        c.id: c.name
        for c in session.exec(
            select(Campaign).where(
                Campaign.workspace_id == workspace_id, col(Campaign.id).in_(list(by_campaign))
            )
        ).all()
    }
    live_posts = set(
        session.exec(
            select(Post.id).where(Post.workspace_id == workspace_id, col(Post.id).in_(list(by_post)))
        ).all()
    )
    return CommerceReport(
        start=start,
        end=end,
        currency=chosen,
        metrics=Metrics(
            clicks=total.clicks,
            add_to_carts=total.add_to_carts,
            purchases=total.purchases,
            revenue=money(total.revenue_minor),
            conversion_rate=round(total.purchases / total.clicks, 4) if total.clicks else 0.0,
            attributed_revenue=money(attributed_minor),
            average_order_value=money(total.revenue_minor // total.purchases) if total.purchases else 0.0,
        ),
        top_products=top,
        platform_breakdown=sorted(
            (
                PlatformStats(
                    platform=p, clicks=t.clicks, conversions=t.purchases, revenue=money(t.revenue_minor)
                )
                for p, t in by_platform.items()
            ),
            key=lambda s: (-s.revenue, s.platform),
        ),
        posts=sorted(
            (
                PostStats(
                    post_id=pid,
                    campaign_id=post_campaign.get(pid),
                    platforms=sorted(t.platforms),
                    clicks=t.clicks,
                    add_to_carts=t.add_to_carts,
                    purchases=t.purchases,
                    revenue=money(t.revenue_minor),
                )
                for pid, t in by_post.items()
                if pid in live_posts
            ),
            key=lambda s: (-s.revenue, -s.clicks, s.post_id),
        ),
        campaigns=sorted(
            (
                CampaignStats(
                    campaign_id=cid,
                    name=names[cid],
                    clicks=t.clicks,
                    purchases=t.purchases,
                    revenue=money(t.revenue_minor),
                )
                for cid, t in by_campaign.items()
                if cid in names
            ),
            key=lambda s: (-s.revenue, s.name),
        ),
        other_currencies=sorted(
            (
                CurrencyTotal(
                    currency=c, purchases=t.purchases, revenue=round(from_minor(t.revenue_minor, c), 6)
                )
                for c, t in other.items()
            ),
            key=lambda s: s.currency,
        ),
    )

"""Commerce on the wire: products, store sync and CSV import results, product tags and shoppable links,
conversion events and the commerce analytics of the seed (`/api/commerce/*`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from brandcrew.server.schemas import ApiModel
from brandcrew.services.commerce.analytics import money_of
from brandcrew.store.tables import ConversionEvent, Post, PostVariant, Product


def _number(value: str | None) -> float | None:
    return float(value) if value not in (None, "") else None


class VariantPublic(ApiModel):
    """One variant of a product."""

    external_id: str | None = None
    sku: str | None = None
    title: str = ""
    options: dict[str, str] = Field(default_factory=dict)
    price: float | None = None
    compare_at_price: float | None = None
    inventory_qty: int | None = None
    image_url: str | None = None


class ProductPublic(ApiModel):
    """A catalog product (description is plain text from the store's HTML)."""

    id: str
    source: str
    external_id: str
    store_id: str | None = None
    handle: str | None = None
    sku: str | None = None
    title: str
    description: str
    vendor: str | None = None
    product_type: str | None = None
    category: str | None = None
    tags: list[str]
    status: str
    price: float | None = None
    compare_at_price: float | None = None
    currency: str
    inventory_qty: int | None = None
    in_stock: bool | None = None
    url: str | None = None
    image_url: str | None = None
    images: list[str]
    variants: list[VariantPublic]
    synced_at: datetime | None = None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, product: Product) -> ProductPublic:
        """The wire shape of a stored product."""
        return cls(
            id=product.id,
            source=product.source,
            external_id=product.external_id,
            store_id=product.store_id,
            handle=product.handle,
            sku=product.sku,
            title=product.title,
            description=product.description,
            vendor=product.vendor,
            product_type=product.product_type,
            category=product.category,
            tags=list(product.tags),
            status=product.status,
            price=_number(product.price),
            compare_at_price=_number(product.compare_at_price),
            currency=product.currency,
            inventory_qty=product.inventory_qty,
            in_stock=None if product.inventory_qty is None else product.inventory_qty > 0,
            url=product.url,
            image_url=product.image_url,
            images=list(product.images),
            variants=[
                VariantPublic(
                    external_id=v.get("external_id"),
                    sku=v.get("sku"),
                    title=v.get("title") or "",
                    options=dict(v.get("options") or {}),
                    price=_number(v.get("price")),
                    compare_at_price=_number(v.get("compare_at_price")),
                    inventory_qty=v.get("inventory_qty"),
                    image_url=v.get("image_url"),
                )
                for v in product.variants
            ],
            synced_at=product.synced_at,
            created_at=product.created_at,
            updated_at=product.updated_at,
        )


class ProductList(ApiModel):
    """A page of products."""

    products: list[ProductPublic]
    total: int
    page: int
    limit: int


class SyncIn(ApiModel):
    """A store to sync the catalog from (the seed's request, plus WooCommerce's consumer secret)."""

    platform: Literal["shopify", "woocommerce"]
    store_url: str = Field(min_length=1, max_length=255)
    api_key: str = Field(min_length=1, max_length=1024)
    """Shopify: Admin API access token. WooCommerce: consumer key."""
    api_secret: str | None = Field(default=None, min_length=1, max_length=1024)
    """WooCommerce: consumer secret."""
    currency: str | None = Field(default=None, pattern=r"^[A-Za-z]{3}$")
    """Overrides the store's currency."""


class ProblemOut(ApiModel):
    """A skipped row or product and why."""

    line: int | None = None
    external_id: str | None = None
    reason: str


class ImportOut(ApiModel):
    """What an import or sync did (the seed's `syncStatus` and `productsImported`, with the details)."""

    sync_status: Literal["completed", "processing"] = "completed"
    products_imported: int
    format: str
    store_id: str | None = None
    created: int
    updated: int
    unchanged: int
    skipped: int
    problems: list[ProblemOut]


class TagPosition(ApiModel):
    """Where a product sits on the image, 0..1 from the top left."""

    x: float = Field(ge=0, le=1)
    y: float = Field(ge=0, le=1)


class TagProductIn(ApiModel):
    """A product to tag."""

    product_id: str = Field(min_length=1, max_length=64)
    position: TagPosition | None = None


class TagIn(ApiModel):
    """The products of a post (replacing the previous set; empty untags all)."""

    products: list[TagProductIn] = Field(max_length=50)
    apply_links: bool = True
    """Put the first product's tracked link on each platform's version of the post while it is editable."""


class PlatformPostOut(ApiModel):
    """A post on one platform account."""

    platform: str
    account_id: str
    publish_status: str
    custom_content: dict[str, Any] | None = None


class TaggedProductOut(ApiModel):
    """A product tagged on a post."""

    product_id: str
    position: TagPosition | None = None


class CommercePostOut(ApiModel):
    """A post with its platforms and tagged products."""

    id: str
    status: str
    version: int
    campaign_id: str | None = None
    content: dict[str, Any]
    platforms: list[PlatformPostOut]
    products: list[TaggedProductOut]
    updated_at: datetime

    @classmethod
    def of(cls, post: Post, variants: list[PostVariant], tags: list[TaggedProductOut]) -> CommercePostOut:
        """The wire shape of a post."""
        return cls(
            id=post.id,
            status=post.status,
            version=post.version,
            campaign_id=post.campaign_id,
            content=dict(post.content),
            platforms=[
                PlatformPostOut(
                    platform=v.platform,
                    account_id=v.account_id,
                    publish_status=v.publish_status,
                    custom_content=v.custom_content,
                )
                for v in variants
            ],
            products=tags,
            updated_at=post.updated_at,
        )


class ShoppableLinkOut(ApiModel):
    """A product's tracked link on one platform."""

    platform: str
    product_id: str
    url: str
    applied: bool


class TagOut(ApiModel):
    """The seed's response: the post and its shoppable links."""

    post: CommercePostOut
    shoppable_links: list[ShoppableLinkOut]


class ConversionOut(ApiModel):
    """A stored conversion event with its attribution."""

    id: str
    type: str
    occurred_at: datetime
    order_id: str | None = None
    event_id: str | None = None
    revenue: float
    currency: str
    product_ids: list[str]
    visitor_id: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_content: str | None = None
    post_id: str | None = None
    platform: str | None = None
    campaign_id: str | None = None
    attributed_via: str | None = None
    source: str

    @classmethod
    def of(cls, event: ConversionEvent) -> ConversionOut:
        """The wire shape of a stored event."""
        return cls.model_validate(
            {
                **event.model_dump(exclude={"revenue_minor", "items", "workspace_id"}),
                "revenue": money_of(event.revenue_minor, event.currency),
            }
        )


class EventOut(ApiModel):
    """The stored event; `duplicate` when it was a replay (same order id or event id)."""

    event: ConversionOut
    duplicate: bool


class ConversionList(ApiModel):
    """A page of conversion events."""

    conversions: list[ConversionOut]
    total: int
    page: int
    limit: int


class WebhookSecretOut(ApiModel):
    """A new webhook secret (shown once) and how to sign with it."""

    workspace_id: str
    secret: str
    signature_header: str
    workspace_header: str
    algorithm: str = "base64(HMAC-SHA256(secret, raw request body))"


class MetricsOut(ApiModel):
    """The seed's metrics, plus attributed revenue and average order value."""

    clicks: int
    add_to_carts: int
    purchases: int
    revenue: float
    conversion_rate: float
    attributed_revenue: float
    average_order_value: float


class TopProductOut(ApiModel):
    """A product's clicks and revenue."""

    product: ProductPublic
    clicks: int
    purchases: int
    revenue: float


class PlatformRevenueOut(ApiModel):
    """Revenue credited to posts on a platform."""

    platform: str
    revenue: float
    conversions: int
    clicks: int


class PostRevenueOut(ApiModel):
    """Revenue credited to a post."""

    post_id: str
    campaign_id: str | None = None
    platforms: list[str]
    clicks: int
    add_to_carts: int
    purchases: int
    revenue: float


class CampaignRevenueOut(ApiModel):
    """Revenue credited to a campaign."""

    campaign_id: str
    name: str
    clicks: int
    purchases: int
    revenue: float


class CurrencyTotalOut(ApiModel):
    """Purchases in another currency than the report's (not converted)."""

    currency: str
    purchases: int
    revenue: float


class AnalyticsOut(ApiModel):
    """The seed's commerce analytics, with revenue per post and per campaign."""

    start_date: datetime
    end_date: datetime
    currency: str
    attribution: str = "last-click on utm_content = post id, 7-day window"
    metrics: MetricsOut
    top_products: list[TopProductOut]
    platform_breakdown: list[PlatformRevenueOut]
    posts: list[PostRevenueOut]
    campaigns: list[CampaignRevenueOut]
    other_currencies: list[CurrencyTotalOut]

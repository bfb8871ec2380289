"""Commerce: connected stores, the product catalog, products tagged on posts, conversion events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from brandcrew.store.tables._base import json_column, new_id, ts_column, utcnow


class CommerceStore(SQLModel, table=True):
    """A Shopify or WooCommerce store the catalog syncs from; its API credentials encrypted at rest."""

    __tablename__ = "commerce_stores"
    __table_args__ = (
        UniqueConstraint("workspace_id", "platform", "store_url"),
        Index("idx_commerce_stores_workspace", "workspace_id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    workspace_id: str = Field(foreign_key="workspaces.id", max_length=64, ondelete="CASCADE")
    platform: str = Field(max_length=32)
    """shopify | woocommerce"""
    store_url: str = Field(max_length=255)
    """The normalised base URL (`https://shop.myshopify.com`, `https://example.com`)."""
    api_key: str = Field(sa_column=Column(Text, nullable=False))
    """AES-256-GCM ciphertext (store/crypto.py): Shopify access token or WooCommerce consumer key."""
    api_secret: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    """AES-256-GCM ciphertext of the WooCommerce consumer secret."""
    last_sync_at: datetime | None = Field(default=None, sa_column=ts_column())
    last_sync_result: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class Product(SQLModel, table=True):
    """One product of the workspace's catalog, with its variants; prices are decimal strings."""

    __tablename__ = "products"
    __table_args__ = (
        UniqueConstraint("workspace_id", "source", "external_id"),
        Index("idx_products_workspace", "workspace_id"),
        Index("idx_products_sku", "workspace_id", "sku"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    workspace_id: str = Field(foreign_key="workspaces.id", max_length=64, ondelete="CASCADE")
    source: str = Field(max_length=32)
    """shopify | woocommerce"""
    external_id: str = Field(max_length=255)
    """The store's identity of the product: Shopify handle, WooCommerce product id (or `sku:<SKU>`)."""
    store_id: str | None = Field(default=None, max_length=64)
    handle: str | None = Field(default=None, max_length=255)
    sku: str | None = Field(default=None, max_length=255)
    title: str = Field(max_length=500)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    """Plain text: the store's HTML with tags removed and entities decoded."""
    vendor: str | None = Field(default=None, max_length=255)
    product_type: str | None = Field(default=None, max_length=255)
    category: str | None = Field(default=None, max_length=500)
    tags: list[str] = Field(default_factory=list, sa_column=json_column())
    status: str = Field(default="active", max_length=32)
    """active | draft | archived"""
    price: str | None = Field(default=None, max_length=32)
    """The lowest variant price, as a decimal string in `currency`."""
    compare_at_price: str | None = Field(default=None, max_length=32)
    currency: str = Field(default="USD", max_length=3)
    inventory_qty: int | None = None
    """Stock summed over variants; None when the store does not track it."""
    url: str | None = None
    image_url: str | None = None
    images: list[str] = Field(default_factory=list, sa_column=json_column())
    variants: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column())
    """[{external_id, sku, title, options: {name: value}, price, compare_at_price, inventory_qty, image_url}]"""
    extra: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    synced_at: datetime | None = Field(default=None, sa_column=ts_column())
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class PostProduct(SQLModel, table=True):
    """A product tagged on a post, with its position on the image (0..1 from the top left)."""

    __tablename__ = "post_products"
    __table_args__ = (
        UniqueConstraint("post_id", "product_id"),
        Index("idx_post_products_workspace", "workspace_id"),
        Index("idx_post_products_product", "product_id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    workspace_id: str = Field(foreign_key="workspaces.id", max_length=64, ondelete="CASCADE")
    post_id: str = Field(foreign_key="posts.id", max_length=64, ondelete="CASCADE")
    product_id: str = Field(foreign_key="products.id", max_length=64, ondelete="CASCADE")
    position_x: float | None = None
    position_y: float | None = None
    sort_order: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class ConversionEvent(SQLModel, table=True):
    """A click, add-to-cart or purchase from the store, with the post, platform and campaign it is
    attributed to (NULL when nothing in the window claims it). Revenue is in minor units."""

    __tablename__ = "conversions"
    __table_args__ = (
        UniqueConstraint("workspace_id", "type", "order_id"),
        UniqueConstraint("workspace_id", "event_id"),
        Index("idx_conversions_workspace_time", "workspace_id", "occurred_at"),
        Index("idx_conversions_visitor", "workspace_id", "visitor_id"),
        Index("idx_conversions_post", "post_id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    workspace_id: str = Field(foreign_key="workspaces.id", max_length=64, ondelete="CASCADE")
    type: str = Field(max_length=32)
    """click | add_to_cart | purchase"""
    occurred_at: datetime = Field(sa_column=ts_column(nullable=False))
    received_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    order_id: str | None = Field(default=None, max_length=255)
    event_id: str | None = Field(default=None, max_length=255)
    """The sender's idempotency key: a resent event with the same id is stored once."""
    revenue_minor: int = 0
    """Order revenue in the currency's minor unit (cents for USD, yen for JPY)."""
    currency: str = Field(default="USD", max_length=3)
    product_ids: list[str] = Field(default_factory=list, sa_column=json_column())
    """Catalog product ids (resolved from the store's ids or SKUs)."""
    items: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column())
    """[{product_id, quantity, revenue_minor}] when the sender gave line items."""
    visitor_id: str | None = Field(default=None, max_length=255)
    utm_source: str | None = Field(default=None, max_length=255)
    utm_medium: str | None = Field(default=None, max_length=255)
    utm_campaign: str | None = Field(default=None, max_length=255)
    utm_content: str | None = Field(default=None, max_length=255)
    utm_term: str | None = Field(default=None, max_length=255)
    landing_url: str | None = None
    post_id: str | None = Field(default=None, max_length=64)
    platform: str | None = Field(default=None, max_length=50)
    campaign_id: str | None = Field(default=None, max_length=64)
    attributed_via: str | None = Field(default=None, max_length=32)
    """utm (the event carried the post's UTM) | click (the visitor's last click in the window) | NULL"""
    source: str = Field(default="api", max_length=16)
    """api (a signed-in caller) | webhook (signed with the workspace's secret)"""


class CommerceWebhookSecret(SQLModel, table=True):
    """The secret a store signs conversion webhooks with (HMAC-SHA256), encrypted at rest."""

    __tablename__ = "commerce_webhook_secrets"

    workspace_id: str = Field(
        foreign_key="workspaces.id", primary_key=True, max_length=64, ondelete="CASCADE"
    )
    secret: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    rotated_at: datetime | None = Field(default=None, sa_column=ts_column())

"""Conversion events from stores (clicks, add-to-carts, purchases) and their attribution to posts.

**Attribution model: last click, 7 days by default.** A conversion is credited to one post, the post's
platform and the post's campaign:

1. when the event itself carries `utm_content` naming a post of the workspace (as the UTM fields or in
   its landing URL), that post is the last click (the visit that converted landed through it);
2. otherwise, when the event names a visitor, the latest click of that visitor on a post within the
   window before the event (`occurred_at - window .. occurred_at`) gets the credit;
3. otherwise the conversion stays unattributed (it still counts in the totals).

The platform is the post's variant matching `utm_source` (the post's only platform when there is one);
the campaign is the post's campaign, or the workspace campaign whose UTM slug is `utm_campaign`. The
credit is decided when the event arrives and stored on it; a click arriving after its purchase does not
move it.

Events arrive from a signed-in caller or as store webhooks signed like Shopify's
(`base64(HMAC-SHA256(secret, raw body))` in `X-Brandcrew-Hmac-Sha256`, the workspace in
`X-Brandcrew-Workspace`), with a per-workspace secret. A purchase is stored once per order id, and any
event once per `eventId`: webhooks are retried by stores, and a replay must not count twice.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Literal
from urllib.parse import parse_qsl, urlsplit

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from brandcrew.services.commerce._money import to_minor
from brandcrew.services.commerce.catalog import products_by_refs
from brandcrew.services.commerce.shoppable import campaign_slug, tagged_products
from brandcrew.services.errors import ValidationFailed
from brandcrew.store.crypto import FieldCipher
from brandcrew.store.tables import (
    Campaign,
    CommerceWebhookSecret,
    ConversionEvent,
    Post,
    PostVariant,
    as_utc,
    utcnow,
)

EventType = Literal["click", "add_to_cart", "purchase"]
DEFAULT_WINDOW = timedelta(days=7)
SIGNATURE_HEADER = "X-Brandcrew-Hmac-Sha256"
WORKSPACE_HEADER = "X-Brandcrew-Workspace"
_CLOCK_SKEW = timedelta(minutes=5)
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_PLATFORM_ALIASES = {"twitter": "x", "ig": "instagram", "fb": "facebook", "li": "linkedin", "yt": "youtube"}
_UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class LineItem(_Model):
    """One line of an order: a product (catalog id, store id or SKU), quantity and unit price."""

    product_id: str = Field(min_length=1, max_length=255)
    quantity: int = Field(default=1, ge=1, le=1_000_000)
    price: Decimal = Field(ge=0, le=Decimal("1e9"), max_digits=20, decimal_places=6)


class ConversionIn(_Model):
    """A conversion event as a store or its tag sends it."""

    type: EventType
    occurred_at: datetime | None = None
    """When it happened (default: when it arrived); ISO 8601."""
    order_id: str | None = Field(default=None, min_length=1, max_length=255)
    event_id: str | None = Field(default=None, min_length=1, max_length=255)
    revenue: Decimal | None = Field(default=None, ge=0, le=Decimal("1e12"), max_digits=24, decimal_places=6)
    currency: str = Field(default="USD", pattern=r"^[A-Za-z]{3}$")
    product_ids: list[str] = Field(default_factory=list, max_length=200)
    items: list[LineItem] = Field(default_factory=list, max_length=1000)
    visitor_id: str | None = Field(default=None, min_length=1, max_length=255)
    utm_source: str | None = Field(default=None, max_length=255)
    utm_medium: str | None = Field(default=None, max_length=255)
    utm_campaign: str | None = Field(default=None, max_length=255)
    utm_content: str | None = Field(default=None, max_length=255)
    utm_term: str | None = Field(default=None, max_length=255)
    landing_url: str | None = Field(default=None, max_length=4096)


@dataclass(frozen=True)
class Attribution:
    """Which post, platform and campaign a conversion is credited to, and how."""

    post_id: str | None = None
    platform: str | None = None
    campaign_id: str | None = None
    via: str | None = None


# -- webhook signatures ------------------------------------------------------------------------------
def sign(secret: str, body: bytes) -> str:
    """The signature header value of `body`: base64 of its HMAC-SHA256 under `secret` (as Shopify's)."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def rotate_webhook_secret(
    session: Session, *, workspace_id: str, cipher: FieldCipher, now: datetime | None = None
) -> str:
    """A new webhook secret for the workspace (the old one stops working); shown once."""
    secret = "whsec_" + secrets.token_urlsafe(32)
    row = session.get(CommerceWebhookSecret, workspace_id)
    sealed = cipher.encrypt(secret, context=f"commerce-webhook:{workspace_id}")
    if row is None:
        row = CommerceWebhookSecret(workspace_id=workspace_id, secret=sealed)
    else:
        row.secret, row.rotated_at = sealed, now or utcnow()
    session.add(row)
    session.flush()
    return secret


def verify_signature(
    session: Session, *, workspace_id: str, cipher: FieldCipher, body: bytes, signature: str
) -> bool:
    """Whether `signature` is the workspace secret's HMAC of `body` (False when it has no secret)."""
    row = session.get(CommerceWebhookSecret, workspace_id)
    if row is None or not signature:
        return False
    try:
        secret = cipher.decrypt(row.secret, context=f"commerce-webhook:{workspace_id}")
    except Exception:
        return False
    return hmac.compare_digest(sign(secret, body).encode(), signature.strip().encode())


# -- attribution -----------------------------------------------------------------------------------
def _utm(event: ConversionIn) -> dict[str, str]:
    found = {k: v for k in _UTM_KEYS if (v := getattr(event, k))}
    if event.landing_url:
        try:
            query = dict(parse_qsl(urlsplit(event.landing_url).query))
        except ValueError:  # an unparseable landing URL carries no UTM
            query = {}
        for key in _UTM_KEYS:
            if key not in found and query.get(key):
                found[key] = query[key][:255]
    return found


def _platform_for(session: Session, post: Post, utm_source: str | None) -> str | None:
    platforms = list(
        dict.fromkeys(session.exec(select(PostVariant.platform).where(PostVariant.post_id == post.id)).all())
    )
    source = (utm_source or "").strip().lower()
    source = _PLATFORM_ALIASES.get(source, source)
    if source in platforms:
        return source
    return platforms[0] if len(platforms) == 1 else None


def _campaign_for(
    session: Session, workspace_id: str, post: Post | None, utm_campaign: str | None
) -> str | None:
    if post is not None and post.campaign_id:
        return post.campaign_id
    if not utm_campaign:
        return None
    for campaign in session.exec(select(Campaign).where(Campaign.workspace_id == workspace_id)).all():
        if campaign_slug(campaign) == utm_campaign:
            return campaign.id
    return None


def attribute(
    session: Session,
    *,
    workspace_id: str,
    utm: dict[str, str],
    visitor_id: str | None,
    occurred_at: datetime,
    window: timedelta = DEFAULT_WINDOW,
) -> Attribution:
    """The post, platform and campaign a conversion is credited to (see the module's model)."""
    content = utm.get("utm_content")
    if content:
        post = session.get(Post, content)
        if post is not None and post.workspace_id == workspace_id:
            return Attribution(
                post_id=post.id,
                platform=_platform_for(session, post, utm.get("utm_source")),
                campaign_id=_campaign_for(session, workspace_id, post, utm.get("utm_campaign")),
                via="utm",
            )
    if visitor_id:
        click = session.exec(
            select(ConversionEvent)
            .where(
                ConversionEvent.workspace_id == workspace_id,
                ConversionEvent.visitor_id == visitor_id,
                ConversionEvent.type == "click",
                col(ConversionEvent.post_id).is_not(None),
                col(ConversionEvent.occurred_at) >= occurred_at - window,
                col(ConversionEvent.occurred_at) <= occurred_at,
            )
            .order_by(col(ConversionEvent.occurred_at).desc())
        ).first()
        if click is not None:
            return Attribution(
                post_id=click.post_id, platform=click.platform, campaign_id=click.campaign_id, via="click"
            )
    campaign_id = _campaign_for(session, workspace_id, None, utm.get("utm_campaign"))
    return Attribution(campaign_id=campaign_id, via="utm" if campaign_id else None)


# -- recording ---------------------------------------------------------------------------------------
def _duplicate(session: Session, workspace_id: str, event: ConversionIn) -> ConversionEvent | None:
    if event.event_id:
        found = session.exec(
            select(ConversionEvent).where(
                ConversionEvent.workspace_id == workspace_id, ConversionEvent.event_id == event.event_id
            )
        ).first()
        if found is not None:
            return found
    if event.order_id:
        return session.exec(
            select(ConversionEvent).where(
                ConversionEvent.workspace_id == workspace_id,
                ConversionEvent.type == event.type,
                ConversionEvent.order_id == event.order_id,
            )
        ).first()
    return None


def record_event(
    session: Session,
    *,
    workspace_id: str,
    event: ConversionIn,
    source: Literal["api", "webhook"] = "api",
    now: datetime | None = None,
    window: timedelta = DEFAULT_WINDOW,
) -> tuple[ConversionEvent, bool]:
    """Store a conversion with its attribution; returns (event, created). A replayed order id or event
    id returns the stored event and changes nothing."""
    now = now or utcnow()
    occurred = (as_utc(event.occurred_at) or now).astimezone(UTC)
    if occurred < _EARLIEST:
        raise ValidationFailed("occurredAt is before 2000", details={"field": "occurredAt"})
    if occurred > now + _CLOCK_SKEW:
        raise ValidationFailed("occurredAt is in the future", details={"field": "occurredAt"})
    if event.type == "purchase" and not event.order_id:
        raise ValidationFailed("a purchase needs its orderId", details={"field": "orderId"})
    currency = event.currency.upper()
    if event.revenue is not None:
        revenue = event.revenue
    else:
        revenue = sum((i.price * i.quantity for i in event.items), Decimal(0))
    if event.type == "purchase" and event.revenue is None and not event.items:
        raise ValidationFailed("a purchase needs its revenue or its items", details={"field": "revenue"})
    duplicate = _duplicate(session, workspace_id, event)
    if duplicate is not None:
        return duplicate, False
    utm = _utm(event)
    found = products_by_refs(
        session, workspace_id=workspace_id, refs=[*event.product_ids, *(i.product_id for i in event.items)]
    )
    product_ids = list(
        dict.fromkeys(
            found[r].id for r in [*event.product_ids, *(i.product_id for i in event.items)] if r in found
        )
    )
    credit = attribute(
        session,
        workspace_id=workspace_id,
        utm=utm,
        visitor_id=event.visitor_id,
        occurred_at=occurred,
        window=window,
    )
    if not product_ids and event.type == "click" and credit.post_id:
        # A click on a shoppable post is a click on the products tagged on it.
        product_ids = [
            p.id for _, p in tagged_products(session, workspace_id=workspace_id, post_id=credit.post_id)
        ]
    row = ConversionEvent(
        workspace_id=workspace_id,
        type=event.type,
        occurred_at=occurred,
        received_at=now,
        order_id=event.order_id,
        event_id=event.event_id,
        revenue_minor=to_minor(revenue, currency) if event.type == "purchase" else 0,
        currency=currency,
        product_ids=product_ids,
        items=[
            {
                "product_id": found[i.product_id].id,
                "quantity": i.quantity,
                "revenue_minor": to_minor(i.price * i.quantity, currency),
            }
            for i in event.items
            if i.product_id in found
        ],
        visitor_id=event.visitor_id,
        landing_url=event.landing_url,
        post_id=credit.post_id,
        platform=credit.platform,
        campaign_id=credit.campaign_id,
        attributed_via=credit.via,
        source=source,
        **utm,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:  # the same order arrived concurrently: the first one stands
        existing = _duplicate(session, workspace_id, event)
        if existing is None:
            raise
        return existing, False
    return row, True


def list_conversions(
    session: Session,
    *,
    workspace_id: str,
    start: datetime | None = None,
    end: datetime | None = None,
    type: EventType | None = None,
    post_id: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[ConversionEvent], int]:
    """The workspace's conversion events, newest first, with the total count."""
    stmt = select(ConversionEvent).where(ConversionEvent.workspace_id == workspace_id)
    if start is not None:
        stmt = stmt.where(col(ConversionEvent.occurred_at) >= start)
    if end is not None:
        stmt = stmt.where(col(ConversionEvent.occurred_at) < end)
    if type is not None:
        stmt = stmt.where(ConversionEvent.type == type)
    if post_id is not None:
        stmt = stmt.where(ConversionEvent.post_id == post_id)
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    rows = session.exec(
        stmt.order_by(col(ConversionEvent.occurred_at).desc(), col(ConversionEvent.id))
        .offset(offset)
        .limit(limit)
    ).all()
    return list(rows), int(total)

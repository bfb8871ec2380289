"""Shoppable posts: products tagged on a post (with their place on the image) and UTM-tagged product
links per platform, put on the post where the platform takes them.

A link is `product URL ? utm_source=<platform> & utm_medium=social & utm_campaign=<campaign slug> &
utm_content=<post id>` (`campaigns.utm_link`), so a click names the post, its platform and its campaign
and the conversion tracker can attribute the sale. On platforms with a separate link (LinkedIn,
Facebook, Threads, Pinterest, Reddit) the first product's link becomes the post's link; where links in
the text are clickable (X) it is appended to the text; where they are not (Instagram, TikTok) the post
is left alone and the link is only returned (for the bio link or the platform's own product tags).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from brandcrew.connectors.capabilities import get_capabilities
from brandcrew.services import audit, publishing
from brandcrew.services.campaigns import utm_link
from brandcrew.services.commerce.catalog import get_product
from brandcrew.services.errors import ValidationFailed
from brandcrew.services.publishing import PostTarget
from brandcrew.store.tables import Campaign, Post, PostProduct, Product

UTM_MEDIUM = "social"
NO_CAMPAIGN = "organic"
"""`utm_campaign` of posts outside any campaign."""


class ProductTag(BaseModel):
    """A product to tag on a post; `x`/`y` place it on the image (0..1 from the top left)."""

    product_id: str = Field(min_length=1, max_length=64)
    x: float | None = Field(default=None, ge=0, le=1)
    y: float | None = Field(default=None, ge=0, le=1)


class ShoppableLink(BaseModel):
    """A product's tracked link for one platform of the post."""

    platform: str
    product_id: str
    url: str
    applied: bool = False
    """Whether this link was put on the post (its link field or its text)."""


def campaign_slug(campaign: Campaign | None) -> str:
    """The `utm_campaign` value of a campaign (its own UTM setting, else its name as a slug)."""
    if campaign is None:
        return NO_CAMPAIGN
    return campaign.utm_params.get("utm_campaign") or campaign.name.lower().replace(" ", "-")


def _without_utm(url: str) -> str:
    parts = urlsplit(url)
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not k.startswith("utm_")]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(kept), parts.fragment))


def _is_link(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def shoppable_url(url: str, *, platform: str, post_id: str, campaign: Campaign | None) -> str:
    """`url` with the post's UTM parameters for `platform` (any UTM already on it replaced)."""
    base = campaign.utm_params if campaign is not None else {}
    # A transient campaign carrying this platform's parameters; never added to the session.
    utm = Campaign(
        workspace_id=campaign.workspace_id if campaign else "",
        name=campaign.name if campaign else NO_CAMPAIGN,
        utm_params={
            **{k: v for k, v in base.items() if k in ("utm_term",)},
            "utm_source": platform,
            "utm_medium": base.get("utm_medium") or UTM_MEDIUM,
            "utm_campaign": campaign_slug(campaign),
        },
    )
    return utm_link(_without_utm(url), utm, content=post_id)


def tagged_products(
    session: Session, *, workspace_id: str, post_id: str
) -> list[tuple[PostProduct, Product]]:
    """The products tagged on a post, in tag order."""
    rows = session.exec(
        select(PostProduct, Product)
        .join(Product, col(Product.id) == col(PostProduct.product_id))
        .where(PostProduct.workspace_id == workspace_id, PostProduct.post_id == post_id)
        .order_by(col(PostProduct.sort_order))
    ).all()
    return [(tag, product) for tag, product in rows]


def _campaign_of(session: Session, post: Post) -> Campaign | None:
    if not post.campaign_id:
        return None
    campaign = session.get(Campaign, post.campaign_id)
    return campaign if campaign is not None and campaign.workspace_id == post.workspace_id else None


def shoppable_links(session: Session, *, post: Post) -> list[ShoppableLink]:
    """The tracked link of every tagged product (with a URL) for every platform of the post."""
    campaign = _campaign_of(session, post)
    links = []
    platforms = sorted({v.platform for v in publishing.variants_of(session, post.id)})
    for _, product in tagged_products(session, workspace_id=post.workspace_id, post_id=post.id):
        if not product.url or not _is_link(product.url):
            continue
        for platform in platforms:
            links.append(
                ShoppableLink(
                    platform=platform,
                    product_id=product.id,
                    url=shoppable_url(product.url, platform=platform, post_id=post.id, campaign=campaign),
                )
            )
    return links


def _with_link(
    platform: str, merged_text: str, custom: dict[str, Any], link: str | None
) -> dict[str, Any] | None:
    """The variant's custom content carrying `link`, or None when the platform cannot show it."""
    caps = get_capabilities(platform)
    custom = dict(custom)
    previous = custom.pop("shoppable_link", None)
    text = merged_text
    if previous and previous in text:
        text = text.replace(previous, "").rstrip()
        custom["text"] = text
    if previous and custom.get("link") == previous:
        custom.pop("link")
    if link is None:
        return custom
    if caps.link_attachment:
        custom["link"] = link
    elif caps.links_clickable:
        custom["text"] = f"{text}\n\n{link}" if text else link
    else:
        return None
    custom["shoppable_link"] = link
    return custom


def tag_products(
    session: Session,
    *,
    workspace_id: str,
    post_id: str,
    tags: list[ProductTag],
    apply_links: bool = True,
    user_id: str | None = None,
) -> tuple[Post, list[ShoppableLink]]:
    """Set the products tagged on a post (replacing the previous set) and return its shoppable links;
    with `apply_links`, the first product's link goes on each variant while the post is editable."""
    post = publishing.get_post(session, workspace_id=workspace_id, post_id=post_id)
    ids = [t.product_id for t in tags]
    if len(set(ids)) != len(ids):
        raise ValidationFailed("a product is tagged twice", details={"field": "products"})
    products = [get_product(session, workspace_id=workspace_id, product_id=pid) for pid in ids]
    existing = {
        t.product_id: t for t in session.exec(select(PostProduct).where(PostProduct.post_id == post.id)).all()
    }
    for product_id, row in existing.items():
        if product_id not in ids:
            session.delete(row)
    for order, (tag, product) in enumerate(zip(tags, products, strict=True)):
        row = existing.get(product.id) or PostProduct(
            workspace_id=workspace_id, post_id=post.id, product_id=product.id
        )
        row.position_x, row.position_y, row.sort_order = tag.x, tag.y, order
        session.add(row)
    session.flush()
    links = shoppable_links(session, post=post)
    if apply_links and post.status in publishing.EDITABLE:
        post = _apply(session, post, links, user_id=user_id)
    audit.record(
        session,
        workspace_id=workspace_id,
        user_id=user_id,
        action="tag_products",
        resource="post",
        resource_id=post.id,
        changes={"products": [t.model_dump() for t in tags]},
    )
    session.flush()
    return post, links


def _apply(session: Session, post: Post, links: list[ShoppableLink], *, user_id: str | None) -> Post:
    first: dict[str, ShoppableLink] = {}
    for link in links:
        first.setdefault(link.platform, link)
    variants = publishing.variants_of(session, post.id)
    targets, changed = [], False
    for variant in variants:
        custom = dict(variant.custom_content or {})
        merged_text = str({**post.content, **custom}.get("text", ""))
        chosen = first.get(variant.platform)
        updated = _with_link(variant.platform, merged_text, custom, chosen.url if chosen else None)
        if updated is not None and chosen is not None:
            chosen.applied = True
        new_custom = updated if updated is not None else custom
        changed = changed or new_custom != custom
        targets.append(
            PostTarget(platform=variant.platform, account_id=variant.account_id, custom=new_custom or None)
        )
    if not changed:
        return post
    return publishing.update_post(
        session, workspace_id=post.workspace_id, post_id=post.id, targets=targets, user_id=user_id
    )

"""Commerce: catalog sync and CSV import, products, product tags on posts, conversion events (also as
signed store webhooks), conversion list and commerce analytics. Thin: every rule lives in
`brandcrew.services.commerce`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Header, Query, Request, Response, UploadFile
from sqlmodel import Session

from brandcrew.server.deps import (
    Principal,
    PrincipalDep,
    ServicesDep,
    SessionDep,
    _enforce,
    authenticate,
    require,
)
from brandcrew.server.errors import ApiError
from brandcrew.server.models.commerce import (
    AnalyticsOut,
    CampaignRevenueOut,
    CommercePostOut,
    ConversionList,
    ConversionOut,
    CurrencyTotalOut,
    EventOut,
    ImportOut,
    MetricsOut,
    PlatformRevenueOut,
    PostRevenueOut,
    ProblemOut,
    ProductList,
    ProductPublic,
    ShoppableLinkOut,
    SyncIn,
    TaggedProductOut,
    TagIn,
    TagOut,
    TagPosition,
    TopProductOut,
    WebhookSecretOut,
)
from brandcrew.server.permissions import Permission
from brandcrew.server.ratelimit import RateLimiter
from brandcrew.services import commerce, publishing
from brandcrew.services.commerce import catalog, shoppable
from brandcrew.services.commerce.stores import normalize_store_url
from brandcrew.services.errors import ValidationFailed
from brandcrew.store.tables import Post, as_utc

router = APIRouter(prefix="/api/commerce", tags=["commerce"])

MAX_UPLOAD_BYTES = 25 * 1024 * 1024
DEFAULT_PERIOD = timedelta(days=30)


def _import_out(report: commerce.ImportReport, store_id: str | None = None) -> ImportOut:
    return ImportOut(
        products_imported=report.imported,
        format=report.format,
        store_id=store_id,
        created=report.created,
        updated=report.updated,
        unchanged=report.unchanged,
        skipped=report.skipped,
        problems=[ProblemOut.model_validate(p.model_dump()) for p in report.problems],
    )


@router.post("/products/sync", response_model=ImportOut, dependencies=[require(Permission.COMMERCE_MANAGE)])
async def sync_products(
    body: SyncIn, principal: PrincipalDep, session: SessionDep, services: ServicesDep
) -> ImportOut:
    """Read every product from the store's API and upsert the catalog; the credentials are kept
    encrypted for later syncs and never returned."""
    creds = commerce.StoreCredentials(
        platform=body.platform,
        store_url=body.store_url,
        api_key=body.api_key,
        api_secret=body.api_secret,
        currency=body.currency.upper() if body.currency else None,
    )
    normalize_store_url(creds.platform, creds.store_url)  # refuse a bad URL before calling anyone
    # The store is called before the transaction starts, so no write lock is held across the network.
    records = await commerce.fetch_catalog(creds)
    cipher = services.accounts.cipher
    store = commerce.save_store(session, workspace_id=principal.workspace_id, cipher=cipher, creds=creds)
    report = commerce.record_sync(session, workspace_id=principal.workspace_id, store=store, records=records)
    session.commit()
    return _import_out(report, store.id)


@router.post("/products/import", response_model=ImportOut, dependencies=[require(Permission.COMMERCE_MANAGE)])
async def import_products(
    principal: PrincipalDep,
    session: SessionDep,
    file: Annotated[UploadFile, File(description="A Shopify or WooCommerce product export (CSV)")],
    format: Annotated[Literal["shopify", "woocommerce"] | None, Form()] = None,
    currency: Annotated[str, Form(pattern=r"^[A-Za-z]{3}$")] = "USD",
    store_url: Annotated[str | None, Form(alias="storeUrl", max_length=255)] = None,
) -> ImportOut:
    """Import a product CSV export (format detected from its header unless given); bad rows are
    reported and skipped, good rows are kept."""
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ApiError(413, "INVALID_INPUT", f"the file is over {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
    base = normalize_store_url("woocommerce", store_url) if store_url else None
    report = catalog.import_csv(
        session,
        workspace_id=principal.workspace_id,
        data=data,
        format=format,
        currency=currency.upper(),
        store_url=base,
    )
    session.commit()
    return _import_out(report)


@router.get("/products", response_model=ProductList, dependencies=[require(Permission.COMMERCE_VIEW)])
def list_products(
    principal: PrincipalDep,
    session: SessionDep,
    search: Annotated[str | None, Query(max_length=200)] = None,
    status: Literal["active", "draft", "archived"] | None = None,
    in_stock: Annotated[bool | None, Query(alias="inStock")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ProductList:
    """Products of the catalog, searched by title, SKU, handle, vendor, type or tag; `inStock=false`
    lists what sold out."""
    rows, total = catalog.search_products(
        session,
        workspace_id=principal.workspace_id,
        query=search,
        status=status,
        in_stock=in_stock,
        offset=(page - 1) * limit,
        limit=limit,
    )
    return ProductList(products=[ProductPublic.of(p) for p in rows], total=total, page=page, limit=limit)


@router.get(
    "/products/{product_id}", response_model=ProductPublic, dependencies=[require(Permission.COMMERCE_VIEW)]
)
def get_product(product_id: str, principal: PrincipalDep, session: SessionDep) -> ProductPublic:
    """One product."""
    return ProductPublic.of(
        catalog.get_product(session, workspace_id=principal.workspace_id, product_id=product_id)
    )


def _post_out(session: Session, post: Post) -> CommercePostOut:
    tags = [
        TaggedProductOut(
            product_id=tag.product_id,
            position=TagPosition(x=tag.position_x, y=tag.position_y)
            if tag.position_x is not None and tag.position_y is not None
            else None,
        )
        for tag, _ in shoppable.tagged_products(session, workspace_id=post.workspace_id, post_id=post.id)
    ]
    return CommercePostOut.of(post, publishing.variants_of(session, post.id), tags)


@router.post(
    "/posts/{post_id}/tag",
    response_model=TagOut,
    dependencies=[require(Permission.POST_UPDATE), require(Permission.COMMERCE_VIEW)],
)
def tag_post(post_id: str, body: TagIn, principal: PrincipalDep, session: SessionDep) -> TagOut:
    """Set the products tagged on a post and answer its UTM-tracked shoppable links per platform."""
    post, links = shoppable.tag_products(
        session,
        workspace_id=principal.workspace_id,
        post_id=post_id,
        tags=[
            shoppable.ProductTag(
                product_id=t.product_id,
                x=t.position.x if t.position else None,
                y=t.position.y if t.position else None,
            )
            for t in body.products
        ],
        apply_links=body.apply_links,
        user_id=principal.user_id,
    )
    out = TagOut(
        post=_post_out(session, post),
        shoppable_links=[ShoppableLinkOut.model_validate(link.model_dump()) for link in links],
    )
    session.commit()
    return out


async def _caller_or_signature(request: Request) -> Principal | None:
    """The signed-in caller when the request carries a token or key; None for a store webhook."""
    if request.headers.get("authorization") or request.headers.get("x-api-key"):
        return await authenticate(request)
    return None


@router.post(
    "/events",
    response_model=EventOut,
    status_code=201,
    responses={
        200: {"model": EventOut, "description": "A replay of a stored event (same order or event id)"}
    },
)
async def track_event(
    body: commerce.ConversionIn,
    request: Request,
    response: Response,
    session: SessionDep,
    services: ServicesDep,
    caller: Annotated[Principal | None, Depends(_caller_or_signature)],
    x_brandcrew_workspace: Annotated[str | None, Header(max_length=64)] = None,
    x_brandcrew_hmac_sha256: Annotated[str | None, Header(max_length=256)] = None,
) -> EventOut:
    """Record a click, add-to-cart or purchase, attributed to the post whose link brought it (last click,
    7 days). Callers authenticate as usual (`commerce:manage`), or a store signs the raw body with the
    workspace's webhook secret: `X-Brandcrew-Hmac-Sha256: base64(HMAC-SHA256(secret, body))` and
    `X-Brandcrew-Workspace: <workspace id>`. A replayed order id or event id is stored once."""
    source: Literal["api", "webhook"] = "api" if caller is not None else "webhook"
    if caller is not None:
        if not caller.can(Permission.COMMERCE_MANAGE):
            raise ApiError(
                403, "FORBIDDEN", "this action needs the permission 'commerce:manage'", {"role": caller.role}
            )
        workspace_id = caller.workspace_id
    else:
        if not x_brandcrew_workspace or not x_brandcrew_hmac_sha256:
            raise ApiError(
                401,
                "UNAUTHORIZED",
                "authenticate, or sign the event with the workspace's webhook secret",
                headers={"WWW-Authenticate": "Bearer"},
            )
        # Store webhooks carry no user: they are rate-limited per sending address instead.
        limiter: RateLimiter = request.app.state.limiter
        sender = request.client.host if request.client else "unknown"
        _enforce(limiter.check(path=request.url.path, user_key=f"webhook:{sender}", workspace_id=None))
        raw = await request.body()
        if not commerce.verify_signature(
            session,
            workspace_id=x_brandcrew_workspace,
            cipher=services.accounts.cipher,
            body=raw,
            signature=x_brandcrew_hmac_sha256,
        ):
            raise ApiError(401, "UNAUTHORIZED", "the webhook signature does not match")
        workspace_id = x_brandcrew_workspace
    event, created = commerce.record_event(
        session, workspace_id=workspace_id, event=body, source=source, now=services.clock()
    )
    out = EventOut(event=ConversionOut.of(event), duplicate=not created)
    session.commit()
    if not created:
        response.status_code = 200
    return out


@router.post(
    "/webhook-secret",
    response_model=WebhookSecretOut,
    status_code=201,
    dependencies=[require(Permission.COMMERCE_MANAGE)],
)
def rotate_webhook_secret(
    principal: PrincipalDep, session: SessionDep, services: ServicesDep
) -> WebhookSecretOut:
    """A new secret for signing conversion webhooks (the previous one stops working); shown once."""
    secret = commerce.rotate_webhook_secret(
        session, workspace_id=principal.workspace_id, cipher=services.accounts.cipher
    )
    session.commit()
    return WebhookSecretOut(
        workspace_id=principal.workspace_id,
        secret=secret,
        signature_header=commerce.SIGNATURE_HEADER,
        workspace_header=commerce.WORKSPACE_HEADER,
    )


def _period(start: datetime | None, end: datetime | None, now: datetime) -> tuple[datetime, datetime]:
    try:
        end_at = (as_utc(end) or now).astimezone(UTC)
        start_at = (as_utc(start) or end_at - DEFAULT_PERIOD).astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValidationFailed("startDate/endDate are out of range", details={"field": "startDate"}) from None
    if start_at >= end_at:
        raise ValidationFailed("startDate must be before endDate", details={"field": "startDate"})
    return start_at, end_at


@router.get("/conversions", response_model=ConversionList, dependencies=[require(Permission.COMMERCE_VIEW)])
def list_conversions(
    principal: PrincipalDep,
    session: SessionDep,
    services: ServicesDep,
    start_date: Annotated[datetime | None, Query(alias="startDate")] = None,
    end_date: Annotated[datetime | None, Query(alias="endDate")] = None,
    type: Literal["click", "add_to_cart", "purchase"] | None = None,
    post_id: Annotated[str | None, Query(alias="postId", max_length=64)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> ConversionList:
    """Conversion events with their attribution, newest first."""
    start, end = _period(start_date, end_date, services.clock())
    rows, total = commerce.list_conversions(
        session,
        workspace_id=principal.workspace_id,
        start=start,
        end=end,
        type=type,
        post_id=post_id,
        offset=(page - 1) * limit,
        limit=limit,
    )
    return ConversionList(
        conversions=[ConversionOut.of(r) for r in rows], total=total, page=page, limit=limit
    )


@router.get("/analytics", response_model=AnalyticsOut, dependencies=[require(Permission.COMMERCE_VIEW)])
def commerce_analytics(
    principal: PrincipalDep,
    session: SessionDep,
    services: ServicesDep,
    start_date: Annotated[datetime | None, Query(alias="startDate")] = None,
    end_date: Annotated[datetime | None, Query(alias="endDate")] = None,
    product_id: Annotated[str | None, Query(alias="productId", max_length=64)] = None,
    currency: Annotated[str | None, Query(pattern=r"^[A-Za-z]{3}$")] = None,
) -> AnalyticsOut:
    """Clicks, add-to-carts, purchases, revenue and conversion rate of the period (default: the last
    30 days), top products, and revenue by platform, post and campaign."""
    start, end = _period(start_date, end_date, services.clock())
    report = commerce.commerce_report(
        session,
        workspace_id=principal.workspace_id,
        start=start,
        end=end,
        product_id=product_id,
        currency=currency,
    )
    return AnalyticsOut(
        start_date=report.start,
        end_date=report.end,
        currency=report.currency,
        metrics=MetricsOut.model_validate(report.metrics.model_dump()),
        top_products=[
            TopProductOut(
                product=ProductPublic.of(t.product), clicks=t.clicks, purchases=t.purchases, revenue=t.revenue
            )
            for t in report.top_products
        ],
        platform_breakdown=[
            PlatformRevenueOut.model_validate(p.model_dump()) for p in report.platform_breakdown
        ],
        posts=[PostRevenueOut.model_validate(p.model_dump()) for p in report.posts],
        campaigns=[CampaignRevenueOut.model_validate(c.model_dump()) for c in report.campaigns],
        other_currencies=[CurrencyTotalOut.model_validate(c.model_dump()) for c in report.other_currencies],
    )

"""Connected stores: catalog sync from the Shopify Admin REST API and the WooCommerce REST API, with
the store's credentials encrypted at rest.

Wire formats followed:

* Shopify Admin REST `GET /admin/api/2024-10/products.json?limit=250`, header
  `X-Shopify-Access-Token`; the next page is the URL in the `Link` header whose `rel="next"` (it carries
  an opaque `page_info`; no link, no more pages). The shop's currency comes from `GET shop.json`.
  https://shopify.dev/docs/api/admin-rest/usage/pagination
* WooCommerce REST `GET /wp-json/wc/v3/products?per_page=100&page=N` with HTTP Basic auth (consumer
  key / secret, over HTTPS); the page count is in `X-WP-TotalPages`. A variable product's variations
  come from `GET /wp-json/wc/v3/products/<id>/variations`; the store currency from
  `GET /wp-json/wc/v3/data/currencies/current`. https://woocommerce.github.io/woocommerce-rest-api-docs/
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, Field
from sqlalchemy import Engine
from sqlmodel import Session, select

from brandcrew.services.commerce._money import parse_price
from brandcrew.services.commerce.catalog import (
    ImportReport,
    ProductRecord,
    VariantRecord,
    upsert_products,
)
from brandcrew.services.errors import NotFound, ServiceError, ValidationFailed
from brandcrew.store.crypto import FieldCipher
from brandcrew.store.engine import session_scope
from brandcrew.store.tables import CommerceStore, utcnow

StorePlatform = Literal["shopify", "woocommerce"]
SHOPIFY_API_VERSION = "2024-10"
MAX_PAGES = 500
"""A store that keeps answering "next page" past this is refused (a loop, not a catalog)."""
_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
_SHOP_HOST = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")
_LINK_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


class StoreApiError(ServiceError):
    """The store's API failed or answered something unreadable."""

    code = "PLATFORM_API_ERROR"
    status_code = 424
    """Failed Dependency: the store, not brandcrew, failed (a 5xx would blame the server)."""


class StoreAuthFailed(ServiceError):
    """The store refused the credentials."""

    code = "PLATFORM_AUTH_FAILED"
    status_code = 422


class StoreCredentials(BaseModel):
    """How to reach a store's API (never stored in the clear)."""

    platform: StorePlatform
    store_url: str
    api_key: str = Field(min_length=1)
    """Shopify: the Admin API access token. WooCommerce: the consumer key."""
    api_secret: str | None = None
    """WooCommerce: the consumer secret."""
    currency: str | None = None
    """Overrides the store's own currency."""


def normalize_store_url(platform: StorePlatform, raw: str) -> str:
    """The store's HTTPS base URL; refuses hosts brandcrew must not call (loopback, private networks)."""
    value = raw.strip().rstrip("/")
    if platform == "shopify" and "." not in value and "/" not in value:
        value = f"{value}.myshopify.com"  # the shop's name alone
    if "://" not in value:
        value = f"https://{value}"
    try:
        parts = urlsplit(value)
        host = (parts.hostname or "").lower()
        port_number = parts.port
    except ValueError:  # "[::1", "host:99999": not a URL at all
        raise ValidationFailed("storeUrl is not a valid URL", details={"field": "storeUrl"}) from None
    if parts.scheme != "https" or not host or parts.username or parts.password:
        raise ValidationFailed("storeUrl must be an https:// URL of the store", details={"field": "storeUrl"})
    if platform == "shopify" and not _SHOP_HOST.match(host):
        raise ValidationFailed(
            "storeUrl must be the shop's myshopify.com address (the Admin API lives there)",
            details={"field": "storeUrl"},
        )
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if (
        "." not in host
        or host == "localhost"
        or host.endswith((".localhost", ".local", ".internal"))
        or (address is not None and not address.is_global)
    ):
        raise ValidationFailed("storeUrl must be a public address", details={"field": "storeUrl"})
    port = f":{port_number}" if port_number and port_number != 443 else ""
    path = parts.path.rstrip("/") if platform == "woocommerce" else ""
    return f"https://{host}{port}{path}"


def _same_origin(url: str, base: str) -> bool:
    try:
        a, b = urlsplit(url), urlsplit(base)
    except ValueError:
        return False
    return (a.scheme, a.netloc) == (b.scheme, b.netloc)


async def _get(client: httpx.AsyncClient, url: str, **kwargs: Any) -> httpx.Response:
    try:
        response = await client.get(url, **kwargs)
    except httpx.HTTPError as exc:
        raise StoreApiError(f"the store could not be reached: {type(exc).__name__}") from None
    if response.status_code in (401, 403):
        raise StoreAuthFailed(f"the store refused the credentials (HTTP {response.status_code})")
    if response.status_code == 429:
        raise StoreApiError(
            "the store's API rate limit is exhausted; try again later",
            details={"retryAfter": response.headers.get("retry-after")},
        )
    if response.status_code >= 400:
        raise StoreApiError(f"the store answered HTTP {response.status_code}")
    return response


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise StoreApiError("the store answered something that is not JSON") from None


def _opt_str(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _price_or_none(value: Any) -> Any:
    try:
        return parse_price(value)
    except ValueError:
        return None


# -- Shopify -------------------------------------------------------------------------------------
def shopify_record(product: dict[str, Any], *, base: str, currency: str) -> ProductRecord:
    """A product of the Admin REST API (`products.json`) as a catalog record (keyed by handle, as the
    CSV export is, so both imports update the same product)."""
    option_names = [str(o.get("name", "")) for o in product.get("options") or []]
    variants = []
    for v in product.get("variants") or []:
        options = {
            (option_names[i - 1] if i <= len(option_names) else f"Option{i}"): str(v[f"option{i}"])
            for i in (1, 2, 3)
            if v.get(f"option{i}") not in (None, "", "Default Title")
        }
        variants.append(
            VariantRecord(
                external_id=_opt_str(v.get("id")),
                sku=_opt_str(v.get("sku")),
                title="" if v.get("title") == "Default Title" else str(v.get("title") or ""),
                options=options,
                price=_price_or_none(v.get("price")),
                compare_at_price=_price_or_none(v.get("compare_at_price")),
                inventory_qty=v.get("inventory_quantity")
                if isinstance(v.get("inventory_quantity"), int)
                else None,
            )
        )
    images = [
        str(i["src"])
        for i in sorted(product.get("images") or [], key=lambda i: i.get("position") or 0)
        if i.get("src")
    ]
    tags = product.get("tags") or ""
    status = str(product.get("status") or "active")
    handle = str(product.get("handle") or product["id"])
    return ProductRecord(
        source="shopify",
        external_id=handle[:255],
        handle=handle[:255],
        title=str(product.get("title") or handle)[:500],
        description_html=str(product.get("body_html") or ""),
        vendor=_opt_str(product.get("vendor")),
        product_type=_opt_str(product.get("product_type")),
        tags=[t.strip() for t in (tags.split(",") if isinstance(tags, str) else tags) if str(t).strip()],
        status=status if status in ("active", "draft", "archived") else "active",
        currency=currency,
        url=f"{base}/products/{handle}",
        images=images,
        variants=variants,
        extra={"shopify_id": product.get("id")},
    ).finish()


async def fetch_shopify(creds: StoreCredentials, client: httpx.AsyncClient) -> list[ProductRecord]:
    """Every product of a Shopify store, following the `Link: rel="next"` cursor."""
    base = normalize_store_url("shopify", creds.store_url)
    headers = {"X-Shopify-Access-Token": creds.api_key, "Accept": "application/json"}
    currency = creds.currency
    if not currency:
        shop = _json(await _get(client, f"{base}/admin/api/{SHOPIFY_API_VERSION}/shop.json", headers=headers))
        currency = str((shop.get("shop") or {}).get("currency") or "USD")
    url: str | None = f"{base}/admin/api/{SHOPIFY_API_VERSION}/products.json?limit=250"
    records: list[ProductRecord] = []
    pages = 0
    while url:
        pages += 1
        if pages > MAX_PAGES:
            raise StoreApiError(f"the store kept paginating past {MAX_PAGES} pages")
        response = await _get(client, url, headers=headers)
        body = _json(response)
        if not isinstance(body, dict) or not isinstance(body.get("products"), list):
            raise StoreApiError("products.json did not hold a products list")
        records += [
            shopify_record(p, base=base, currency=currency) for p in body["products"] if isinstance(p, dict)
        ]
        match = _LINK_NEXT.search(response.headers.get("link", ""))
        url = match.group(1) if match else None
        if url and not _same_origin(url, base):
            raise StoreApiError("the next-page link points away from the store")
    return records


# -- WooCommerce -----------------------------------------------------------------------------------
def woocommerce_record(
    product: dict[str, Any], variations: list[dict[str, Any]], *, currency: str
) -> ProductRecord:
    """A product of the WooCommerce REST API (with its variations) as a catalog record."""
    variants = [
        VariantRecord(
            external_id=_opt_str(v.get("id")),
            sku=_opt_str(v.get("sku")),
            title=" / ".join(str(a.get("option", "")) for a in v.get("attributes") or []),
            options={str(a.get("name", "")): str(a.get("option", "")) for a in v.get("attributes") or []},
            price=_price_or_none(v.get("sale_price") or v.get("regular_price") or v.get("price")),
            compare_at_price=_price_or_none(v.get("regular_price")) if v.get("sale_price") else None,
            inventory_qty=v.get("stock_quantity") if isinstance(v.get("stock_quantity"), int) else None,
            image_url=_opt_str((v.get("image") or {}).get("src")),
        )
        for v in variations
    ]
    sale = _price_or_none(product.get("sale_price"))
    regular = _price_or_none(product.get("regular_price"))
    price = (
        sale if sale is not None else regular if regular is not None else _price_or_none(product.get("price"))
    )
    categories = [str(c.get("name")) for c in product.get("categories") or [] if c.get("name")]
    status = str(product.get("status") or "publish")
    return ProductRecord(
        source="woocommerce",
        external_id=str(product["id"]),
        handle=_opt_str(product.get("slug")),
        sku=_opt_str(product.get("sku")),
        title=str(product.get("name") or product["id"])[:500],
        description_html=str(product.get("description") or product.get("short_description") or ""),
        product_type=_opt_str(product.get("type")),
        category=categories[0][:500] if categories else None,
        tags=[str(t.get("name")) for t in product.get("tags") or [] if t.get("name")],
        status="active" if status == "publish" else "archived" if status == "trash" else "draft",
        price=price,
        compare_at_price=regular if sale is not None else None,
        currency=currency,
        inventory_qty=product.get("stock_quantity")
        if isinstance(product.get("stock_quantity"), int)
        else None,
        url=_opt_str(product.get("permalink")),
        images=[str(i["src"]) for i in product.get("images") or [] if i.get("src")],
        variants=variants,
        extra={"categories": categories} if len(categories) > 1 else {},
    ).finish()


async def _woo_pages(client: httpx.AsyncClient, url: str, auth: httpx.BasicAuth) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    page, total = 1, 1
    while page <= total:
        if page > MAX_PAGES:
            raise StoreApiError(f"the store kept paginating past {MAX_PAGES} pages")
        response = await _get(client, url, params={"per_page": 100, "page": page}, auth=auth)
        body = _json(response)
        if not isinstance(body, list):
            raise StoreApiError("the store did not answer a list of products")
        items += [item for item in body if isinstance(item, dict)]
        try:
            total = int(response.headers.get("x-wp-totalpages", "1"))
        except ValueError:
            raise StoreApiError("X-WP-TotalPages is not a number") from None
        page += 1
    return items


async def fetch_woocommerce(creds: StoreCredentials, client: httpx.AsyncClient) -> list[ProductRecord]:
    """Every product of a WooCommerce store, page by page, with the variations of variable products."""
    if not creds.api_secret:
        raise ValidationFailed(
            "WooCommerce needs apiSecret (the consumer secret)", details={"field": "apiSecret"}
        )
    base = normalize_store_url("woocommerce", creds.store_url)
    auth = httpx.BasicAuth(creds.api_key, creds.api_secret)
    currency = creds.currency
    if not currency:
        current = _json(await _get(client, f"{base}/wp-json/wc/v3/data/currencies/current", auth=auth))
        currency = str(current.get("code") or "USD") if isinstance(current, dict) else "USD"
    products = await _woo_pages(client, f"{base}/wp-json/wc/v3/products", auth)
    records = []
    for product in products:
        variations: list[dict[str, Any]] = []
        if product.get("type") == "variable" and product.get("variations"):
            variations = await _woo_pages(
                client, f"{base}/wp-json/wc/v3/products/{product['id']}/variations", auth
            )
        records.append(woocommerce_record(product, variations, currency=currency))
    return records


Fetcher = Callable[[StoreCredentials, httpx.AsyncClient], Awaitable[list[ProductRecord]]]
FETCHERS: dict[str, Fetcher] = {"shopify": fetch_shopify, "woocommerce": fetch_woocommerce}


async def _refuse_private_address(base: str) -> None:
    """Refuse a store whose name resolves to a loopback or private address (a request forged to reach
    brandcrew's own network). A name that does not resolve is left to fail in the request itself."""
    host = urlsplit(base).hostname or ""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, 443, type=socket.SOCK_STREAM)
    except OSError:
        return
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if not address.is_global:
            raise ValidationFailed("storeUrl must be a public address", details={"field": "storeUrl"})


async def fetch_catalog(
    creds: StoreCredentials, *, client: httpx.AsyncClient | None = None
) -> list[ProductRecord]:
    """Every product of the store, read through its API (no database work: call it outside a transaction)."""
    await _refuse_private_address(normalize_store_url(creds.platform, creds.store_url))
    if client is not None:
        return await FETCHERS[creds.platform](creds, client)
    async with httpx.AsyncClient(timeout=_TIMEOUT, follow_redirects=False) as own:
        return await FETCHERS[creds.platform](creds, own)


# -- stored connections --------------------------------------------------------------------------
def _context(workspace_id: str, platform: str, store_url: str) -> str:
    return f"commerce:{workspace_id}:{platform}:{store_url}"


def save_store(
    session: Session,
    *,
    workspace_id: str,
    cipher: FieldCipher,
    creds: StoreCredentials,
    now: datetime | None = None,
) -> CommerceStore:
    """Create or update the workspace's connection to a store, credentials encrypted."""
    url = normalize_store_url(creds.platform, creds.store_url)
    store = session.exec(
        select(CommerceStore).where(
            CommerceStore.workspace_id == workspace_id,
            CommerceStore.platform == creds.platform,
            CommerceStore.store_url == url,
        )
    ).first() or CommerceStore(workspace_id=workspace_id, platform=creds.platform, store_url=url, api_key="")
    context = _context(workspace_id, creds.platform, url)
    store.api_key = cipher.encrypt(creds.api_key, context=context)
    store.api_secret = cipher.encrypt(creds.api_secret, context=context) if creds.api_secret else None
    store.updated_at = now or utcnow()
    session.add(store)
    session.flush()
    return store


def credentials_of(store: CommerceStore, cipher: FieldCipher) -> StoreCredentials:
    """The decrypted credentials of a stored connection."""
    context = _context(store.workspace_id, store.platform, store.store_url)
    return StoreCredentials(
        platform=store.platform,
        store_url=store.store_url,
        api_key=cipher.decrypt(store.api_key, context=context),
        api_secret=cipher.decrypt(store.api_secret, context=context) if store.api_secret else None,
    )


def record_sync(
    session: Session,
    *,
    workspace_id: str,
    store: CommerceStore,
    records: list[ProductRecord],
    now: datetime | None = None,
) -> ImportReport:
    """Upsert fetched products into the catalog and note the sync on the store."""
    now = now or utcnow()
    report = upsert_products(
        session,
        workspace_id=workspace_id,
        records=[(None, r) for r in records],
        report=ImportReport(format=f"{store.platform}_api"),
        store_id=store.id,
        now=now,
    )
    store.last_sync_at = now
    store.last_sync_result = report.model_dump(mode="json", exclude={"product_ids"})
    session.add(store)
    session.flush()
    return report


async def sync_saved_store(
    engine: Engine,
    cipher: FieldCipher,
    *,
    workspace_id: str,
    store_id: str,
    client: httpx.AsyncClient | None = None,
) -> ImportReport:
    """Sync a stored connection again with its saved credentials (for jobs and the CLI)."""
    with Session(engine, expire_on_commit=False) as session:
        store = session.get(CommerceStore, store_id)
        if store is None or store.workspace_id != workspace_id:
            raise NotFound(f"store {store_id} not found")
        creds = credentials_of(store, cipher)
    records = await fetch_catalog(creds, client=client)
    with session_scope(engine) as session:
        fresh = session.get(CommerceStore, store_id)
        if fresh is None:
            raise NotFound(f"store {store_id} not found")
        return record_sync(session, workspace_id=workspace_id, store=fresh, records=records)

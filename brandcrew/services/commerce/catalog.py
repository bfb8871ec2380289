"""The product catalog: imports from Shopify and WooCommerce CSV exports (and, through `stores`, their
APIs), idempotent upserts, search.

Both exports are read the way the stores write them:

* Shopify (Products > Export): one row per variant, extra rows per image, all sharing the product's
  `Handle`; product fields (`Title`, `Body (HTML)`, `Vendor`, `Tags`, ...) sit on the first row.
* WooCommerce (Products > Export): one row per product and per variation; a `variation` row names its
  parent in `Parent` as `id:<ID>` or by the parent's SKU; `Published` is 1 / 0 (private) / -1 (draft).

A product's identity is its Shopify handle or its WooCommerce ID (`sku:<SKU>` when the export has no
ID), per workspace and source, falling back to its SKU: importing the same file again updates prices and
stock and never duplicates. A bad row is reported (line number, identity, reason) and skipped; it never
aborts the import nor costs the good rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from brandcrew.services._scoped import get_owned
from brandcrew.services.commerce._csv import (
    MAX_ROWS,
    detect_format,
    parse_shopify_csv,
    parse_woocommerce_csv,
    read_header,
)
from brandcrew.services.commerce._html import html_to_text
from brandcrew.services.commerce._money import is_currency, price_text
from brandcrew.services.commerce.records import (
    CsvFormat,
    ImportReport,
    ProductRecord,
    RowProblem,
    Source,
    VariantRecord,
)
from brandcrew.services.errors import ValidationFailed
from brandcrew.store.tables import Product, utcnow

__all__ = (
    "MAX_ROWS",
    "CsvFormat",
    "ImportReport",
    "ProductRecord",
    "RowProblem",
    "Source",
    "VariantRecord",
    "detect_format",
    "get_product",
    "import_csv",
    "parse_shopify_csv",
    "parse_woocommerce_csv",
    "products_by_refs",
    "search_products",
    "upsert_products",
)


# -- upsert --------------------------------------------------------------------------------------
def _find(session: Session, workspace_id: str, record: ProductRecord) -> Product | None:
    found = session.exec(
        select(Product).where(
            Product.workspace_id == workspace_id,
            Product.source == record.source,
            Product.external_id == record.external_id,
        )
    ).first()
    if found is None and record.sku:
        found = session.exec(
            select(Product).where(
                Product.workspace_id == workspace_id,
                Product.source == record.source,
                Product.sku == record.sku,
            )
        ).first()
    return found


def _fields(record: ProductRecord, store_id: str | None) -> dict[str, Any]:
    return {
        "source": record.source,
        "external_id": record.external_id,
        "store_id": store_id,
        "handle": record.handle,
        "sku": record.sku,
        "title": record.title,
        "description": html_to_text(record.description_html),
        "vendor": record.vendor,
        "product_type": record.product_type,
        "category": record.category,
        "tags": record.tags,
        "status": record.status,
        "price": price_text(record.price),
        "compare_at_price": price_text(record.compare_at_price),
        "currency": record.currency,
        "inventory_qty": record.inventory_qty,
        "url": record.url,
        "image_url": record.images[0] if record.images else None,
        "images": record.images,
        "variants": [v.stored() for v in record.variants],
        "extra": record.extra,
    }


def upsert_products(
    session: Session,
    *,
    workspace_id: str,
    records: Iterable[tuple[int | None, ProductRecord]],
    report: ImportReport,
    store_id: str | None = None,
    now: datetime | None = None,
) -> ImportReport:
    """Create or update each product (matched by external id, then SKU); unchanged ones are left alone."""
    now = now or utcnow()
    for line, record in records:
        if not is_currency(record.currency):
            report.skip(
                f"currency {record.currency!r} is not an ISO 4217 code",
                line=line,
                external_id=record.external_id,
            )
            continue
        fields = _fields(record, store_id)
        try:
            with session.begin_nested():
                product = _find(session, workspace_id, record)
                if product is None:
                    product = Product(
                        workspace_id=workspace_id, synced_at=now, created_at=now, updated_at=now, **fields
                    )
                    session.add(product)
                    session.flush()
                    report.created += 1
                else:
                    if store_id is None:
                        fields["store_id"] = product.store_id
                    changed = {k: v for k, v in fields.items() if getattr(product, k) != v}
                    product.synced_at = now
                    if changed:
                        for key, value in changed.items():
                            setattr(product, key, value)
                        product.updated_at = now
                        report.updated += 1
                    else:
                        report.unchanged += 1
                    session.add(product)
                    session.flush()
                report.product_ids.append(product.id)
        except Exception as exc:  # one unstorable product must not cost the others
            report.skip(
                f"could not be stored: {type(exc).__name__}", line=line, external_id=record.external_id
            )
    return report


def _attach_orphans(
    session: Session,
    workspace_id: str,
    orphans: list[tuple[int, str, VariantRecord]],
    report: ImportReport,
    now: datetime,
) -> None:
    """Variations whose parent was imported earlier: merged into the stored product's variants."""
    for line, parent, variant in orphans:
        ref = parent.removeprefix("id:")
        product = session.exec(
            select(Product).where(
                Product.workspace_id == workspace_id,
                Product.source == "woocommerce",
                or_(
                    col(Product.external_id) == ref,
                    col(Product.sku) == parent,
                    col(Product.external_id) == f"sku:{parent}",
                ),
            )
        ).first()
        if product is None:
            report.skip(
                f"parent {parent} is neither in the file nor in the catalog",
                line=line,
                external_id=variant.external_id,
            )
            continue
        stored = variant.stored()
        key = variant.external_id or variant.sku
        kept = [v for v in product.variants if (v.get("external_id") or v.get("sku")) != key]
        if [*kept, stored] != product.variants:
            product.variants = [*kept, stored]
            prices = [Decimal(v["price"]) for v in product.variants if v.get("price")]
            if prices:
                product.price = price_text(min(prices))
            stock = [v["inventory_qty"] for v in product.variants if v.get("inventory_qty") is not None]
            if stock:
                product.inventory_qty = sum(stock)
            product.updated_at = now
            report.updated += 1
        else:
            report.unchanged += 1
        product.synced_at = now
        session.add(product)
        if product.id not in report.product_ids:
            report.product_ids.append(product.id)


def import_csv(
    session: Session,
    *,
    workspace_id: str,
    data: bytes | str,
    format: CsvFormat | None = None,
    currency: str = "USD",
    store_url: str | None = None,
    now: datetime | None = None,
) -> ImportReport:
    """Import a Shopify or WooCommerce product export (format detected from the header when not given)."""
    now = now or utcnow()
    currency = currency.upper()
    if not data.strip():
        raise ValidationFailed("the file is empty", details={"field": "file"})
    if not is_currency(currency):
        raise ValidationFailed(
            f"currency {currency!r} is not an ISO 4217 code", details={"field": "currency"}
        )
    chosen = format or detect_format(read_header(data))
    report = ImportReport(format=chosen)
    if chosen == "shopify":
        records: list[tuple[int, ProductRecord]] = parse_shopify_csv(
            data, currency=currency, store_url=store_url, report=report
        )
        orphans: list[tuple[int, str, VariantRecord]] = []
    else:
        records, orphans = parse_woocommerce_csv(data, currency=currency, store_url=store_url, report=report)
    upsert_products(session, workspace_id=workspace_id, records=records, report=report, now=now)
    _attach_orphans(session, workspace_id, orphans, report, now)
    session.flush()
    return report


# -- reading ---------------------------------------------------------------------------------------
_LIKE_SPECIAL = re.compile(r"([%_\\])")


def get_product(session: Session, *, workspace_id: str, product_id: str) -> Product:
    """One product of the workspace, or NotFound."""
    return get_owned(session, Product, product_id, workspace_id=workspace_id, label="product")


def search_products(
    session: Session,
    *,
    workspace_id: str,
    query: str | None = None,
    status: str | None = None,
    in_stock: bool | None = None,
    offset: int = 0,
    limit: int = 20,
) -> tuple[list[Product], int]:
    """Products whose title, SKU, handle, vendor, type or tags contain `query` (case-insensitive), by
    status and stock, alphabetically, with the total count."""
    stmt = select(Product).where(Product.workspace_id == workspace_id)
    if status:
        stmt = stmt.where(Product.status == status)
    if in_stock is not None:  # products whose stock is not tracked match neither
        qty = col(Product.inventory_qty)
        stmt = stmt.where(qty > 0 if in_stock else qty <= 0)
    if query and query.strip():
        needle = "%" + _LIKE_SPECIAL.sub(r"\\\1", query.strip().lower()) + "%"
        fields = (Product.title, Product.sku, Product.handle, Product.vendor, Product.product_type)
        conditions = [func.lower(col(f)).like(needle, escape="\\") for f in fields]
        conditions.append(func.lower(func.cast(col(Product.tags), _text_type())).like(needle, escape="\\"))
        stmt = stmt.where(or_(*conditions))
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    rows = session.exec(stmt.order_by(col(Product.title), col(Product.id)).offset(offset).limit(limit)).all()
    return list(rows), int(total)


def _text_type() -> Any:
    from sqlalchemy import Text

    return Text()


def products_by_refs(session: Session, *, workspace_id: str, refs: Iterable[str]) -> dict[str, Product]:
    """Products of the workspace named by any reference a store uses (our id, external id, product or
    variant SKU, variant id, Shopify's numeric product id), keyed by the reference."""
    wanted = {r for r in refs if r}
    if not wanted:
        return {}
    rows = session.exec(
        select(Product).where(
            Product.workspace_id == workspace_id,
            or_(
                col(Product.id).in_(wanted),
                col(Product.external_id).in_(wanted),
                col(Product.sku).in_(wanted),
            ),
        )
    ).all()
    found: dict[str, Product] = {}
    for product in rows:
        for ref in (product.id, product.external_id, product.sku):
            if ref in wanted:
                found.setdefault(ref, product)
    missing = wanted - set(found)
    if missing:
        # Orders name variants (variant SKU or id) and Shopify names products by numeric id; those
        # live in the product's JSON, so look there for what the columns did not match.
        for product in session.exec(select(Product).where(Product.workspace_id == workspace_id)).all():
            refs_of = {str(product.extra.get("shopify_id", ""))}
            for variant in product.variants:
                refs_of |= {str(variant.get("sku") or ""), str(variant.get("external_id") or "")}
            for ref in (refs_of & missing) - {""}:
                found[ref] = product
            missing -= set(found)
            if not missing:
                break
    return found

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

import csv
import io
import re
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from brandcrew.services.commerce._html import html_to_text
from brandcrew.services.commerce._money import is_currency, parse_price, price_text
from brandcrew.services.errors import NotFound, ValidationFailed
from brandcrew.store.tables import Product, utcnow

Source = Literal["shopify", "woocommerce"]
CsvFormat = Literal["shopify", "woocommerce"]
MAX_ROWS = 200_000
"""A file with more rows than this is refused rather than half-imported."""

_SHOPIFY_MARKERS = {"Handle", "Title", "Variant Price"}
_WOO_MARKERS = {"ID", "Type", "Name", "Regular price"}


class VariantRecord(BaseModel):
    """One purchasable variant: size/colour options, price and stock."""

    external_id: str | None = None
    sku: str | None = None
    title: str = ""
    options: dict[str, str] = Field(default_factory=dict)
    price: Decimal | None = None
    compare_at_price: Decimal | None = None
    inventory_qty: int | None = None
    image_url: str | None = None

    def stored(self) -> dict[str, Any]:
        """The JSON kept on the product row."""
        return {
            "external_id": self.external_id,
            "sku": self.sku,
            "title": self.title,
            "options": self.options,
            "price": price_text(self.price),
            "compare_at_price": price_text(self.compare_at_price),
            "inventory_qty": self.inventory_qty,
            "image_url": self.image_url,
        }


class ProductRecord(BaseModel):
    """A product as a store describes it, before it is stored (the same shape from CSV and API)."""

    source: Source
    external_id: str
    handle: str | None = None
    sku: str | None = None
    title: str
    description_html: str = ""
    vendor: str | None = None
    product_type: str | None = None
    category: str | None = None
    tags: list[str] = Field(default_factory=list)
    status: Literal["active", "draft", "archived"] = "active"
    price: Decimal | None = None
    compare_at_price: Decimal | None = None
    currency: str = "USD"
    inventory_qty: int | None = None
    url: str | None = None
    images: list[str] = Field(default_factory=list)
    variants: list[VariantRecord] = Field(default_factory=list)
    extra: dict[str, Any] = Field(default_factory=dict)

    def finish(self) -> ProductRecord:
        """Fill the product's price and stock from its variants when the store gave them per variant."""
        priced = [v.price for v in self.variants if v.price is not None]
        if priced:
            self.price = min(priced)
            cheapest = next(v for v in self.variants if v.price == self.price)
            self.compare_at_price = cheapest.compare_at_price
        tracked = [v.inventory_qty for v in self.variants if v.inventory_qty is not None]
        if tracked:
            self.inventory_qty = sum(tracked)
        if not self.sku:
            self.sku = next((v.sku for v in self.variants if v.sku), None)
        return self


class RowProblem(BaseModel):
    """A row (or product) that was skipped, and why."""

    line: int | None = None
    """1-based line of the CSV file (the header is line 1); None for API records."""
    external_id: str | None = None
    reason: str


class ImportReport(BaseModel):
    """What an import or sync did."""

    format: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    problems: list[RowProblem] = Field(default_factory=list)
    product_ids: list[str] = Field(default_factory=list)

    @property
    def imported(self) -> int:
        """Products created or updated."""
        return self.created + self.updated

    def skip(self, reason: str, *, line: int | None = None, external_id: str | None = None) -> None:
        """Record a skipped row or product."""
        self.skipped += 1
        if len(self.problems) < 1000:  # a hopeless file must not make the report itself huge
            self.problems.append(RowProblem(line=line, external_id=external_id, reason=reason))


# -- CSV --------------------------------------------------------------------------------------
def _rows(data: bytes | str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    text = data.decode("utf-8-sig", errors="replace") if isinstance(data, bytes) else data.lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise ValidationFailed("the file is empty", details={"field": "file"}) from None
    except csv.Error as exc:
        raise ValidationFailed(f"not a CSV file: {exc}", details={"field": "file"}) from None
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for values in reader:
            if len(rows) >= MAX_ROWS:
                raise ValidationFailed(f"the file has more than {MAX_ROWS} rows; split it")
            if not any(v.strip() for v in values):
                continue
            rows.append(
                (reader.line_num, {h: (v or "").strip() for h, v in zip(header, values, strict=False)})
            )
    except csv.Error as exc:
        raise ValidationFailed(
            f"the CSV breaks at line {reader.line_num}: {exc}", details={"field": "file"}
        ) from None
    return header, rows


def _header(data: bytes | str) -> list[str]:
    head = data[:65536]
    text = head.decode("utf-8-sig", errors="replace") if isinstance(head, bytes) else head.lstrip("\ufeff")
    try:
        return [h.strip() for h in next(csv.reader(io.StringIO(text, newline="")), [])]
    except csv.Error:
        return []


def detect_format(header: Iterable[str]) -> CsvFormat:
    """Which store exported a CSV, from its header row."""
    names = set(header)
    if names >= _SHOPIFY_MARKERS:
        return "shopify"
    if names >= _WOO_MARKERS or names >= {"Type", "Name", "Parent"}:
        return "woocommerce"
    raise ValidationFailed(
        "the CSV is neither a Shopify nor a WooCommerce product export",
        details={
            "field": "file",
            "expected": {"shopify": sorted(_SHOPIFY_MARKERS), "woocommerce": sorted(_WOO_MARKERS)},
        },
    )


def _split(value: str, sep: str = ",") -> list[str]:
    return [part.strip() for part in value.split(sep) if part.strip()]


def _int(value: str, what: str) -> int | None:
    if not value:
        return None
    try:
        return int(Decimal(value))
    except Exception:
        raise ValueError(f"{what} {value!r} is not a number") from None


def _clip(value: str | None, size: int) -> str | None:
    return value[:size] if value else None


def _join_url(base: str | None, path: str) -> str | None:
    return f"{base.rstrip('/')}{path}" if base else None


def parse_shopify_csv(
    data: bytes | str, *, currency: str = "USD", store_url: str | None = None, report: ImportReport
) -> list[tuple[int, ProductRecord]]:
    """Products of a Shopify product export (rows grouped by Handle); bad rows land in `report`."""
    _, rows = _rows(data)
    groups: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for line, row in rows:
        handle = row.get("Handle", "")
        if not handle:
            report.skip("the row has no Handle", line=line)
            continue
        groups.setdefault(handle, []).append((line, row))
    out = []
    for handle, group in groups.items():
        first_line = group[0][0]
        main = next((row for _, row in group if row.get("Title")), None)
        if main is None:
            report.skip("no row of this product has a Title", line=first_line, external_id=handle)
            continue
        option_names = [main.get(f"Option{i} Name", "") for i in (1, 2, 3)]
        variants: list[VariantRecord] = []
        images: list[tuple[int, str]] = []
        bad: list[tuple[int, str]] = []
        for line, row in group:
            if row.get("Image Src"):
                position = _int_or(row.get("Image Position", ""), 10_000 + len(images))
                images.append((position, row["Image Src"]))
            if not (row.get("Variant SKU") or row.get("Variant Price") or row.get("Option1 Value")):
                continue  # an image-only row
            try:
                variants.append(_shopify_variant(row, option_names))
            except ValueError as exc:
                bad.append((line, str(exc)))
        if bad and not variants:
            reasons = "; ".join(reason for _, reason in bad)
            report.skip(f"no valid variant: {reasons}", line=first_line, external_id=handle)
            continue
        for line, reason in bad:
            report.skip(f"variant skipped: {reason}", line=line, external_id=handle)
        status_cell = main.get("Status", "").lower()
        published = main.get("Published", "").lower()
        status = (
            status_cell
            if status_cell in ("active", "draft", "archived")
            else ("draft" if published == "false" else "active")
        )
        record = ProductRecord(
            source="shopify",
            external_id=handle[:255],
            handle=handle[:255],
            title=main["Title"][:500],
            description_html=main.get("Body (HTML)", ""),
            vendor=_clip(main.get("Vendor"), 255),
            product_type=_clip(main.get("Type"), 255),
            category=_clip(main.get("Product Category"), 500),
            tags=_split(main.get("Tags", "")),
            status=status,
            currency=currency,
            url=_join_url(store_url, f"/products/{handle}"),
            images=[src for _, src in sorted(images, key=lambda item: item[0])],
            variants=variants,
        ).finish()
        out.append((first_line, record))
    return out


def _shopify_variant(row: dict[str, str], option_names: list[str]) -> VariantRecord:
    options = {
        (option_names[i - 1] or f"Option{i}"): row[f"Option{i} Value"]
        for i in (1, 2, 3)
        if row.get(f"Option{i} Value")
    }
    title = " / ".join(options.values())
    default = title == "Default Title"  # Shopify's name of the only variant of a product without options
    return VariantRecord(
        sku=_clip(row.get("Variant SKU"), 255),
        title="" if default else title,
        options={} if default else options,
        price=_price(row.get("Variant Price"), "Variant Price"),
        compare_at_price=_price(row.get("Variant Compare At Price"), "Variant Compare At Price"),
        inventory_qty=_int(row.get("Variant Inventory Qty", ""), "Variant Inventory Qty"),
        image_url=row.get("Variant Image") or None,
    )


def _price(value: str | None, what: str) -> Decimal | None:
    try:
        return parse_price(value)
    except ValueError:
        raise ValueError(f"{what} {value!r} is not a price") from None


def _int_or(value: str, default: int) -> int:
    try:
        return int(value)
    except ValueError:
        return default


def _woo_identity(row: dict[str, str]) -> str | None:
    if row.get("ID"):
        return row["ID"]
    if row.get("SKU"):
        return f"sku:{row['SKU']}"
    return None


def _woo_text(value: str) -> str:
    # The exporter writes line breaks inside descriptions as a literal backslash-n.
    return value.replace("\\n", "\n")


def parse_woocommerce_csv(
    data: bytes | str, *, currency: str = "USD", store_url: str | None = None, report: ImportReport
) -> tuple[list[tuple[int, ProductRecord]], list[tuple[int, str, VariantRecord]]]:
    """Products of a WooCommerce product export, with their variations attached; variations whose
    parent is not in the file come back separately as (line, parent reference, variant)."""
    _, rows = _rows(data)
    products: dict[str, tuple[int, ProductRecord]] = {}
    by_sku: dict[str, str] = {}
    variations: list[tuple[int, str, VariantRecord]] = []
    for line, row in rows:
        types = {t.lower() for t in _split(row.get("Type", ""))}
        identity = _woo_identity(row)
        try:
            regular = _price(row.get("Regular price"), "Regular price")
            sale = _price(row.get("Sale price"), "Sale price")
            stock = _int(row.get("Stock", ""), "Stock")
        except ValueError as exc:
            report.skip(str(exc), line=line, external_id=identity)
            continue
        price, compare = (sale, regular) if sale is not None else (regular, None)
        if "variation" in types:
            parent = row.get("Parent", "")
            if not parent:
                report.skip("a variation without a Parent", line=line, external_id=identity)
                continue
            options = {
                row[f"Attribute {i} name"]: row.get(f"Attribute {i} value(s)", "")
                for i in range(1, 10)
                if row.get(f"Attribute {i} name")
            }
            variant = VariantRecord(
                external_id=row.get("ID") or None,
                sku=_clip(row.get("SKU"), 255),
                title=" / ".join(v for v in options.values() if v) or row.get("Name", ""),
                options=options,
                price=price,
                compare_at_price=compare,
                inventory_qty=stock,
                image_url=next(iter(_split(row.get("Images", ""))), None),
            )
            variations.append((line, parent, variant))
            continue
        if identity is None:
            report.skip("the row has neither an ID nor a SKU", line=line)
            continue
        if not row.get("Name"):
            report.skip("the row has no Name", line=line, external_id=identity)
            continue
        if identity in products:
            report.skip(f"duplicate product {identity} in the file", line=line, external_id=identity)
            continue
        published = row.get("Published", "1")
        categories = _split(row.get("Categories", ""))
        description = row.get("Description") or row.get("Short description", "")
        record = ProductRecord(
            source="woocommerce",
            external_id=identity[:255],
            sku=_clip(row.get("SKU"), 255),
            title=row["Name"][:500],
            description_html=_woo_text(description),
            product_type=next(iter(sorted(types & {"simple", "variable", "grouped", "external"})), None),
            category=categories[0][:500] if categories else None,
            tags=_split(row.get("Tags", "")),
            status="active" if published == "1" else "draft",
            price=price,
            compare_at_price=compare,
            currency=currency,
            inventory_qty=stock,
            url=(row.get("External URL") or None)
            if "external" in types
            else _join_url(store_url, f"/?p={row['ID']}")
            if row.get("ID")
            else None,
            images=_split(row.get("Images", "")),
            extra={"categories": categories} if len(categories) > 1 else {},
        )
        products[identity] = (line, record)
        if record.sku:
            by_sku[record.sku] = identity
    orphans = []
    for line, parent, variant in variations:
        key = parent.removeprefix("id:") if parent.startswith("id:") else by_sku.get(parent, f"sku:{parent}")
        if key in products:
            products[key][1].variants.append(variant)
        else:
            orphans.append((line, parent, variant))
    return [(line, record.finish()) for line, record in products.values()], orphans


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
    chosen = format or detect_format(_header(data))
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
    product = session.get(Product, product_id)
    if product is None or product.workspace_id != workspace_id:
        raise NotFound(f"product {product_id} not found")
    return product


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

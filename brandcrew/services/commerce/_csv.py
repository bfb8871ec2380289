"""Reading Shopify and WooCommerce product exports into product records (see `catalog` for the rules)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from decimal import Decimal

from brandcrew.services.commerce._money import parse_price
from brandcrew.services.commerce.records import CsvFormat, ImportReport, ProductRecord, VariantRecord
from brandcrew.services.errors import ValidationFailed

MAX_ROWS = 200_000
"""A file with more rows than this is refused rather than half-imported."""
_SHOPIFY_MARKERS = {"Handle", "Title", "Variant Price"}
_WOO_MARKERS = {"ID", "Type", "Name", "Regular price"}


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


def read_header(data: bytes | str) -> list[str]:
    """The header row of a CSV export (empty when unreadable)."""
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

"""Products as stores describe them, before they are stored, and the report of an import."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

from brandcrew.services.commerce._money import price_text

Source = Literal["shopify", "woocommerce"]
CsvFormat = Literal["shopify", "woocommerce"]
MAX_ROWS = 200_000


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

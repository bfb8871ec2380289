"""Money as integer minor units per ISO 4217 currency, so sums are exact and done in SQL."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# ISO 4217 currencies whose minor unit is not 2 digits (the rest use cents).
_EXPONENTS = {
    **dict.fromkeys(
        ("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
         "VUV", "XAF", "XOF", "XPF"),
        0,
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    "CLF": 4,
    "UYW": 4,
}  # fmt: skip
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_DECIMAL_COMMA = re.compile(r"^\d+,\d{1,2}$")
_CENTS = Decimal("0.01")


def is_currency(code: str) -> bool:
    """Whether `code` looks like an ISO 4217 code (three capital letters)."""
    return bool(_CURRENCY.match(code))


def exponent(currency: str) -> int:
    """Digits of the currency's minor unit."""
    return _EXPONENTS.get(currency.upper(), 2)


def to_minor(amount: Decimal, currency: str) -> int:
    """`amount` in minor units, rounded half up."""
    scale = Decimal(10) ** exponent(currency)
    return int((amount * scale).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_minor(minor: int, currency: str) -> float:
    """Minor units back as a number in the currency's main unit (the API's `revenue`)."""
    return float(Decimal(minor) / (Decimal(10) ** exponent(currency)))


def parse_price(raw: object) -> Decimal | None:
    """A price from a CSV cell or JSON value (`"19.90"`, `19.9`, `"1,299.00"`); None when blank.

    Raises ValueError on text that is not a non-negative amount.
    """
    if raw is None:
        return None
    text = str(raw).strip().lstrip("$€£¥").strip()
    # "19,90" is a European export's decimal comma; "1,299.00" has thousands separators.
    text = text.replace(",", ".") if _DECIMAL_COMMA.match(text) else text.replace(",", "")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{raw!r} is not a price") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"{raw!r} is not a price")
    return value


def price_text(value: Decimal | None) -> str | None:
    """A stored price: plain decimal text with at least two decimals."""
    if value is None:
        return None
    cents = value.quantize(_CENTS)
    return str(cents if cents == value else value.normalize())

"""Turning token counts into USD, exactly, in Decimal and in integer nano-dollars."""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal

from brandcrew.llm.prices import ModelPrice
from brandcrew.llm.usage import LlmUsage

NANOS_PER_USD = Decimal(1_000_000_000)


def to_nanos(usd: Decimal) -> int:
    """USD as integer nano-dollars, rounded up so that no fraction of a cost is ever lost."""
    return int((usd * NANOS_PER_USD).to_integral_value(rounding=ROUND_CEILING))


def from_nanos(nanos: int) -> Decimal:
    """Integer nano-dollars as USD."""
    return Decimal(nanos) / NANOS_PER_USD


def cost_of(usage: LlmUsage, price: ModelPrice) -> Decimal:
    """The USD cost of `usage` at `price`, each token kind at its own rate."""
    cache_read_price = price.cache_read if price.cache_read is not None else price.input
    cache_write_price = price.cache_write if price.cache_write is not None else price.input
    cost = (
        usage.uncached_input_tokens * price.input
        + usage.cache_read_tokens * cache_read_price
        + usage.cache_write_tokens * cache_write_price
    )
    if price.reasoning is not None and usage.reasoning_tokens:
        visible = max(0, usage.output_tokens - usage.reasoning_tokens)
        cost += visible * price.output + usage.reasoning_tokens * price.reasoning
    else:
        cost += usage.output_tokens * price.output
    return cost


def dearest_rates(price: ModelPrice) -> tuple[Decimal, Decimal]:
    """The USD per token a worst case charges: the dearest input kind and the dearest output kind."""
    return max(price.input, price.cache_write or Decimal(0)), max(price.output, price.reasoning or Decimal(0))


def worst_case_cost(input_tokens: int, max_output_tokens: int, price: ModelPrice) -> Decimal:
    """The most a call can cost: every prompt token at the dearest input rate, every output token used."""
    dearest_input, dearest_output = dearest_rates(price)
    return input_tokens * dearest_input + max_output_tokens * dearest_output


def usd_text(usd: Decimal) -> str:
    """A USD amount as plain decimal text without trailing zeros (e.g. `0.000072`)."""
    text = format(usd.normalize(), "f")
    return text if text != "-0" else "0"

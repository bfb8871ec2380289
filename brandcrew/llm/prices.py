"""Model prices and limits: LiteLLM's bundled price map, read offline, plus configured overrides."""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

_PER_MILLION = Decimal(1_000_000)


@dataclass(frozen=True, kw_only=True)
class ModelPrice:
    """USD per token for each kind of token, and the model's limits and abilities."""

    model: str
    provider: str
    input: Decimal
    output: Decimal
    cache_read: Decimal | None = None
    cache_write: Decimal | None = None
    reasoning: Decimal | None = None
    max_input_tokens: int | None = None
    max_output_tokens: int | None = None
    supports_tools: bool = True
    supports_schema: bool = True
    source: str = "litellm"
    """Where the price came from: `litellm` (bundled map) or `override` (configs/models.yaml)."""

    def per_million(self, kind: str) -> str | None:
        """The unit price of one token kind in USD per million tokens, as a decimal string."""
        value: Decimal | None = getattr(self, kind)
        return None if value is None else format((value * _PER_MILLION).normalize(), "f")

    @cached_property
    def ledger_prices(self) -> dict[str, str | None]:
        """The `price_*` columns of a cost-ledger row at this price (computed once per price)."""
        kinds = ("input", "output", "cache_read", "cache_write")
        return {f"price_{kind}": self.per_million(kind) for kind in kinds}


class PriceOverride(BaseModel):
    """A configured price, in USD per million tokens (as providers publish them)."""

    model_config = ConfigDict(extra="forbid")

    input: Decimal
    output: Decimal
    cache_read: Decimal | None = None
    cache_write: Decimal | None = None
    reasoning: Decimal | None = None
    provider: str | None = None
    max_input_tokens: int | None = None
    max_output_tokens: int | None = None
    supports_tools: bool = True
    supports_schema: bool = True


def _bundled_map_path() -> Path | None:
    spec = importlib.util.find_spec("litellm")
    if not spec or not spec.origin:
        return None
    path = Path(spec.origin).parent / "model_prices_and_context_window_backup.json"
    return path if path.is_file() else None


@lru_cache(maxsize=1)
def bundled_price_map() -> dict[str, dict[str, Any]]:
    """LiteLLM's price map as shipped in its wheel (never fetched: offline and reproducible)."""
    path = _bundled_map_path()
    if path is None:
        return {}
    data: dict[str, dict[str, Any]] = json.loads(path.read_text())
    data.pop("sample_spec", None)
    return data


def _dec(value: Any) -> Decimal | None:
    if value is None:
        return None
    # str() first: Decimal(float) would carry binary noise into every ledger row.
    return Decimal(str(value))


def _from_litellm(model: str, entry: dict[str, Any]) -> ModelPrice | None:
    if "input_cost_per_token" not in entry or "output_cost_per_token" not in entry:
        return None
    return ModelPrice(
        model=model,
        provider=str(entry.get("litellm_provider", model.split("/")[0])),
        input=_dec(entry["input_cost_per_token"]) or Decimal(0),
        output=_dec(entry["output_cost_per_token"]) or Decimal(0),
        cache_read=_dec(entry.get("cache_read_input_token_cost")),
        cache_write=_dec(entry.get("cache_creation_input_token_cost")),
        reasoning=_dec(entry.get("output_cost_per_reasoning_token")),
        max_input_tokens=entry.get("max_input_tokens"),
        max_output_tokens=entry.get("max_output_tokens") or entry.get("max_tokens"),
        supports_tools=bool(entry.get("supports_function_calling", False)),
        supports_schema=bool(entry.get("supports_response_schema", False)),
    )


class PriceTable:
    """Looks up a model's price: configured overrides first, then LiteLLM's bundled map."""

    def __init__(self, overrides: dict[str, PriceOverride] | None = None) -> None:
        self._overrides = dict(overrides or {})
        self._memo: dict[str, ModelPrice | None] = {}

    def get(self, model: str) -> ModelPrice | None:
        """The price of `model`, or None when nobody knows it (callers decide what that means)."""
        if model in self._memo:
            return self._memo[model]
        price = self._lookup(model)
        self._memo[model] = price
        return price

    def _lookup(self, model: str) -> ModelPrice | None:
        override = self._overrides.get(model)
        if override is not None:
            return ModelPrice(
                model=model,
                provider=override.provider or (model.split("/")[0] if "/" in model else "custom"),
                input=override.input / _PER_MILLION,
                output=override.output / _PER_MILLION,
                cache_read=None if override.cache_read is None else override.cache_read / _PER_MILLION,
                cache_write=None if override.cache_write is None else override.cache_write / _PER_MILLION,
                reasoning=None if override.reasoning is None else override.reasoning / _PER_MILLION,
                max_input_tokens=override.max_input_tokens,
                max_output_tokens=override.max_output_tokens,
                supports_tools=override.supports_tools,
                supports_schema=override.supports_schema,
                source="override",
            )
        bundled = bundled_price_map()
        for key in (model, model.split("/", 1)[-1]):
            entry = bundled.get(key)
            if entry is not None:
                return _from_litellm(model, entry)
        return None

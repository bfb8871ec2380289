"""Builders for runtimes on scripted models with known prices."""

from __future__ import annotations

from typing import Any

from brandcrew.llm.config import ModelsConfig, StepPolicy
from brandcrew.llm.prices import PriceOverride
from brandcrew.llm.router import ModelRouter
from brandcrew.llm.runtime import LlmRuntime
from brandcrew.settings import Settings

# USD per million tokens, shaped like a real small/balanced/frontier ladder from two providers.
PRICES = {
    "alpha/small": PriceOverride(input=0.1, output=0.4, cache_read=0.01, provider="alpha"),
    "beta/small": PriceOverride(input=0.8, output=4, cache_read=0.08, cache_write=1.0, provider="beta"),
    "alpha/mid": PriceOverride(input=0.4, output=1.6, cache_read=0.1, provider="alpha"),
    "beta/mid": PriceOverride(input=3, output=15, cache_read=0.3, cache_write=3.75, provider="beta"),
    "alpha/big": PriceOverride(input=2, output=8, cache_read=0.5, provider="alpha"),
    "beta/big": PriceOverride(input=15, output=75, cache_read=1.5, cache_write=18.75, provider="beta"),
}


def scripted_config(**overrides: Any) -> ModelsConfig:
    """A models config over two fake providers, alpha and beta."""
    data: dict[str, Any] = {
        "tiers": {
            "small": ["alpha/small", "beta/small"],
            "balanced": ["alpha/mid", "beta/mid"],
            "frontier": ["alpha/big", "beta/big"],
        },
        "agents": {"strategy": "frontier", "content_creator": "balanced", "sentiment_analysis": "small"},
        "steps": {
            "route": StepPolicy(max_tier="small"),
            "classify": StepPolicy(max_tier="small", cascade=True),
            "plan": StepPolicy(min_tier="balanced"),
            "write": StepPolicy(long_prompt_min_tier="balanced"),
        },
        "prices": PRICES,
    }
    data.update(overrides)
    return ModelsConfig.model_validate(data)


def all_keys(model: str, provider: str) -> bool:
    """Pretend every provider has a key."""
    return True


def make_runtime(
    engine: Any, backends: dict[str, Any], *, config: ModelsConfig | None = None, **kwargs: Any
) -> LlmRuntime:
    """A runtime on `engine` whose providers are the given scripted backends."""
    config = config or scripted_config()
    from brandcrew.llm.prices import PriceTable

    prices = PriceTable(config.price_overrides())
    router = ModelRouter(config, prices, has_credentials=kwargs.pop("has_credentials", all_keys))
    recorded: list[float] = []

    async def no_sleep(seconds: float) -> None:
        recorded.append(seconds)

    runtime = LlmRuntime(
        config=config,
        engine=engine,
        prices=prices,
        router=router,
        backends=backends,
        settings=kwargs.pop("settings", Settings()),
        sleep=kwargs.pop("sleep", no_sleep),
        **kwargs,
    )
    runtime.slept = recorded  # type: ignore[attr-defined]
    return runtime

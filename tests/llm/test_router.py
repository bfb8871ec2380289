"""The router picks the cheapest capable model for each step and says why."""

from __future__ import annotations

import pytest

from brandcrew.errors import BudgetExceeded, UnpricedModelError
from brandcrew.llm.health import ProviderHealth
from brandcrew.llm.prices import PriceTable
from brandcrew.llm.router import ModelRouter, RouteRequest
from tests.utils.llm import all_keys, scripted_config


def make_router(**kwargs: object) -> ModelRouter:
    config = scripted_config()
    return ModelRouter(config, PriceTable(config.price_overrides()), has_credentials=all_keys, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("agent", "step", "expected"),
    [
        pytest.param("strategy", "plan", "alpha/big", id="frontier-agent-plans-on-frontier"),
        pytest.param("strategy", "route", "alpha/small", id="route-is-capped-at-small"),
        pytest.param("sentiment_analysis", "plan", "alpha/mid", id="plan-raises-small-agent-to-balanced"),
        pytest.param("content_creator", "write", "alpha/mid", id="writer-stays-balanced"),
        pytest.param("unknown_agent", None, "alpha/mid", id="default-tier"),
    ],
)
def test_tier_comes_from_agent_and_step(agent: str, step: str | None, expected: str) -> None:
    decision = make_router().decide(RouteRequest(agent=agent, step=step, prompt_tokens=500))  # type: ignore[arg-type]
    assert decision.chosen.model == expected
    assert expected in decision.reason


def test_long_prompt_lifts_a_small_writer_to_balanced() -> None:
    router = make_router()
    short = router.decide(RouteRequest(agent="sentiment_analysis", step="write", prompt_tokens=2_000))
    long = router.decide(RouteRequest(agent="sentiment_analysis", step="write", prompt_tokens=20_000))
    assert (short.chosen.tier, long.chosen.tier) == ("small", "balanced")
    assert "prompt 20000 tok" in long.reason


def test_models_without_tool_support_are_skipped_when_tools_are_needed() -> None:
    config = scripted_config()
    config.prices["alpha/mid"] = config.prices["alpha/mid"].model_copy(update={"supports_tools": False})
    router = ModelRouter(config, PriceTable(config.price_overrides()), has_credentials=all_keys)
    assert router.decide(RouteRequest(agent="content_creator", needs_tools=True)).chosen.model == "beta/mid"
    assert router.decide(RouteRequest(agent="content_creator")).chosen.model == "alpha/mid"


def test_low_budget_downgrades_and_an_impossible_one_refuses() -> None:
    router = make_router()
    roomy = router.decide(
        RouteRequest(
            agent="strategy", prompt_tokens=1_000, budget_remaining_nanos=10**9, budget_limit_nanos=10**9
        )
    )
    low = router.decide(
        RouteRequest(
            agent="strategy", prompt_tokens=1_000, budget_remaining_nanos=10**8, budget_limit_nanos=10**9
        )
    )
    assert (roomy.chosen.tier, low.chosen.tier) == ("frontier", "balanced")
    assert "budget low" in low.reason
    with pytest.raises(BudgetExceeded):
        router.decide(
            RouteRequest(
                agent="strategy", prompt_tokens=1_000, budget_remaining_nanos=10, budget_limit_nanos=10**9
            )
        )


def test_over_budget_candidates_are_skipped_for_cheaper_ones() -> None:
    # 1,000 in + 1,024 out on alpha/big costs at most 2e-6*1000 + 8e-6*1024 = $0.010192.
    decision = make_router().decide(
        RouteRequest(
            agent="strategy", prompt_tokens=1_000, budget_remaining_nanos=9_000_000, budget_limit_nanos=10**7
        )
    )
    assert decision.chosen.model == "alpha/mid"
    assert "over budget" in decision.reason


def test_unpriced_model_is_refused_under_a_budget_but_usable_without() -> None:
    config = scripted_config(
        tiers={"small": ["mystery/model"], "balanced": ["mystery/model"], "frontier": ["mystery/model"]}
    )
    router = ModelRouter(config, PriceTable({}), has_credentials=all_keys)
    assert router.decide(RouteRequest()).chosen.worst_case_nanos is None
    with pytest.raises(UnpricedModelError):
        router.decide(RouteRequest(budget_remaining_nanos=10**9, budget_limit_nanos=10**9))


def test_open_circuit_sends_traffic_to_the_other_provider_then_recovers() -> None:
    now = [0.0]
    health = ProviderHealth(failures=3, window_s=60, cooldown_s=30, clock=lambda: now[0])
    router = make_router(health=health)
    for _ in range(3):
        health.record_failure("alpha")
    assert router.decide(RouteRequest(agent="content_creator")).chosen.model == "beta/mid"
    now[0] = 31.0
    assert health.state("alpha") == "half_open"
    assert router.decide(RouteRequest(agent="content_creator")).chosen.model == "alpha/mid"
    health.begin_trial("alpha")
    assert not health.allows("alpha"), "only one trial while half-open"
    health.record_success("alpha")
    assert health.state("alpha") == "closed"


def test_no_keys_means_the_offline_model() -> None:
    config = scripted_config()
    router = ModelRouter(config, PriceTable(config.price_overrides()), has_credentials=lambda m, p: False)
    decision = router.decide(RouteRequest(agent="strategy", step="plan"))
    assert decision.offline and decision.chosen.model == "offline"
    assert "no provider key" in decision.reason


def test_cascade_tries_a_cheaper_model_first() -> None:
    decision = make_router().decide(RouteRequest(agent="content_creator", step="classify"))
    assert decision.chosen.model == "alpha/small"
    # classify is capped at small, so there is nothing cheaper to cascade from
    assert decision.cascade == []
    config = scripted_config()
    config.steps["classify"] = config.steps["classify"].model_copy(update={"max_tier": None})
    router = ModelRouter(config, PriceTable(config.price_overrides()), has_credentials=all_keys)
    decision = router.decide(RouteRequest(agent="content_creator", step="classify"))
    assert [c.model for c in decision.cascade] == ["alpha/small"]
    assert decision.chosen.model == "alpha/mid"


def test_fallbacks_list_other_providers_in_tier_first() -> None:
    decision = make_router().decide(RouteRequest(agent="content_creator"))
    assert [c.model for c in decision.fallbacks][:3] == ["beta/mid", "alpha/small", "beta/small"]


def test_a_model_listed_in_several_tiers_is_one_candidate() -> None:
    config = scripted_config()
    config.tiers["balanced"] = ["alpha/small", "alpha/mid"]
    config.tiers["frontier"] = ["alpha/mid", "alpha/big"]
    config.steps["classify"] = config.steps["classify"].model_copy(update={"max_tier": None})
    router = ModelRouter(config, PriceTable(config.price_overrides()), has_credentials=all_keys)
    decision = router.decide(RouteRequest(agent="content_creator"))
    plan = [decision.chosen.model, *(c.model for c in decision.fallbacks)]
    assert (decision.chosen.model, decision.chosen.tier) == ("alpha/small", "balanced")
    assert plan == ["alpha/small", "alpha/mid", "beta/small", "alpha/big"], "each model once"
    # The cascade starts on a cheaper model, never on the one it would escalate to.
    cascading = router.decide(RouteRequest(agent="content_creator", step="classify"))
    assert cascading.chosen.model == "alpha/small"
    assert [c.model for c in cascading.cascade] == ["beta/small"]


def test_shipped_models_yaml_loads_and_routes_offline_without_keys() -> None:
    from brandcrew.llm.config import load_models_config
    from brandcrew.settings import get_settings

    config = load_models_config(get_settings().configs_dir / "models.yaml")
    router = ModelRouter(config, PriceTable(config.price_overrides()), has_credentials=lambda m, p: False)
    assert router.decide(RouteRequest(agent="strategy")).offline
    keyed = ModelRouter(
        config, PriceTable(config.price_overrides()), has_credentials=lambda m, p: p == "anthropic"
    )
    assert keyed.decide(RouteRequest(agent="strategy", step="plan")).chosen.model == "claude-opus-4-5"
    assert keyed.decide(RouteRequest(agent="strategy", step="route")).chosen.model == "claude-haiku-4-5"


@pytest.mark.parametrize(
    ("input_per_m", "output_per_m", "cache_write_per_m"),
    [("0.15", "0.6", None), ("3", "15", "3.75"), ("0.0375", "0.3", None), ("1.1", "4.4", "0.00001")],
)
def test_worst_case_in_whole_nano_dollars_equals_the_decimal_sum_rounded_up(
    input_per_m: str, output_per_m: str, cache_write_per_m: str | None
) -> None:
    from brandcrew.llm._cost import to_nanos, worst_case_cost
    from brandcrew.llm.prices import PriceOverride

    override = PriceOverride.model_validate(
        {"input": input_per_m, "output": output_per_m, "cache_write": cache_write_per_m, "provider": "p"}
    )
    prices = PriceTable({"m": override})
    price = prices.get("m")
    assert price is not None
    router = ModelRouter(scripted_config(), prices, has_credentials=all_keys)
    for prompt, output in ((0, 0), (1, 1), (401, 1024), (123_457, 8_191)):
        expected = to_nanos(worst_case_cost(router._padded(prompt), output, price))
        assert router.worst_case_nanos("m", prompt, output) == expected

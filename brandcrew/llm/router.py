"""The model router: before every request, pick the cheapest model that can do the step.

Inputs: the agent's tier, the step kind, prompt size, whether tools or structured output are
needed, the budget left, and provider health. The decision is pure and fast (no I/O), logged
with its reason, and carries ordered fallbacks for provider errors.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping

from pydantic import BaseModel, ConfigDict, Field

from brandcrew.errors import BudgetExceeded, UnpricedModelError
from brandcrew.llm._cost import NANOS_PER_USD, dearest_rates, from_nanos, to_nanos, worst_case_cost
from brandcrew.llm.config import ModelsConfig
from brandcrew.llm.health import ProviderHealth
from brandcrew.llm.messages import TIERS, StepKind, Tier
from brandcrew.llm.prices import ModelPrice, PriceTable

log = logging.getLogger("brandcrew.router")

OFFLINE_MODEL = "offline"
_TIER_INDEX = {t: i for i, t in enumerate(TIERS)}

# Environment variables LiteLLM reads for each provider's key.
PROVIDER_KEY_ENV: Mapping[str, tuple[str, ...]] = {
    "openai": ("OPENAI_API_KEY",),
    "anthropic": ("ANTHROPIC_API_KEY",),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    "deepseek": ("DEEPSEEK_API_KEY",),
    "mistral": ("MISTRAL_API_KEY",),
    "groq": ("GROQ_API_KEY",),
    "openrouter": ("OPENROUTER_API_KEY",),
    "xai": ("XAI_API_KEY",),
    "together_ai": ("TOGETHERAI_API_KEY", "TOGETHER_API_KEY"),
}


class RouteRequest(BaseModel):
    """What the router knows about the step about to run."""

    agent: str | None = None
    step: StepKind | None = None
    tier: Tier | None = None
    """A pinned tier (overrides the agent's)."""
    prompt_tokens: int = 0
    max_output_tokens: int = 1024
    needs_tools: bool = False
    needs_schema: bool = False
    budget_remaining_nanos: int | None = None
    """Least headroom over every cap that applies; None when nothing is capped."""
    budget_limit_nanos: int | None = None
    """The cap with that least headroom."""
    exclude_models: frozenset[str] = frozenset()


_MAX_CANDIDATES = 4096


class Candidate(BaseModel):
    """One model the call may go to, and what it may cost at most."""

    model_config = ConfigDict(frozen=True)

    model: str
    provider: str
    tier: Tier
    worst_case_nanos: int | None
    """None when the model has no known price (only allowed without a budget)."""


class RouteDecision(BaseModel):
    """The model chosen, its fallbacks in order, and why."""

    chosen: Candidate
    fallbacks: list[Candidate] = Field(default_factory=list)
    cascade: list[Candidate] = Field(default_factory=list)
    """Cheaper models to try first when the step cascades; `chosen` is the escalation target."""
    tier: Tier
    reason: str

    @property
    def offline(self) -> bool:
        """True when the offline model was chosen."""
        return self.chosen.provider == "offline"


def _clamp(tier: Tier, low: Tier | None, high: Tier | None) -> Tier:
    index = _TIER_INDEX[tier]
    if low is not None:
        index = max(index, _TIER_INDEX[low])
    if high is not None:
        index = min(index, _TIER_INDEX[high])
    return TIERS[index]


def _tier_search_order(tier: Tier) -> list[Tier]:
    # The chosen tier, then the nearest others, cheaper first on a tie.
    start = _TIER_INDEX[tier]
    return sorted(TIERS, key=lambda t: (abs(_TIER_INDEX[t] - start), _TIER_INDEX[t]))


def _whole_nano_rates(price: ModelPrice) -> tuple[int, int] | None:
    """The dearest input and output rates in nano-USD per token, when both are whole numbers."""
    dearest = tuple(rate * NANOS_PER_USD for rate in dearest_rates(price))
    if any(rate != rate.to_integral_value() for rate in dearest):
        return None
    return int(dearest[0]), int(dearest[1])


class ModelRouter:
    """Chooses a concrete model for each request from `configs/models.yaml`."""

    def __init__(
        self,
        config: ModelsConfig,
        prices: PriceTable,
        *,
        health: ProviderHealth | None = None,
        offline: bool = False,
        has_credentials: Callable[[str, str], bool] | None = None,
    ) -> None:
        self.config = config
        self.prices = prices
        self.health = health or ProviderHealth(
            failures=config.router.circuit_failures,
            window_s=config.router.circuit_window_s,
            cooldown_s=config.router.circuit_cooldown_s,
        )
        self.force_offline = offline
        self._has_credentials = has_credentials or self.default_has_credentials
        self._static: dict[str, tuple[str, ModelPrice | None, bool]] = {}
        self._rates: dict[str, tuple[int, int] | None] = {}
        # Candidates are frozen: one instance per (model, tier, worst case) serves every decision, which
        # saves validating about ten of them per model call (most calls repeat a few prompt sizes).
        self._candidates: dict[tuple[str, str, Tier, int | None], Candidate] = {}
        self._orders: dict[Tier, list[tuple[Tier, str]]] = {}
        self._any_available: bool | None = None

    # -- facts about one model, computed once ------------------------------------------------
    def provider_of(self, model: str) -> str:
        """The provider serving `model` (deployment, price map, or the `provider/` prefix)."""
        return self._facts(model)[0]

    def _facts(self, model: str) -> tuple[str, ModelPrice | None, bool]:
        facts = self._static.get(model)
        if facts is None:
            deployment = self.config.deployments.get(model)
            price = self.prices.get(model)
            if deployment is not None:
                provider = deployment.provider or deployment.model.split("/")[0]
            elif price is not None:
                provider = price.provider
            else:
                provider = model.split("/")[0] if "/" in model else "unknown"
            facts = (provider, price, self._has_credentials(model, provider))
            self._static[model] = facts
        return facts

    def default_has_credentials(self, model: str, provider: str) -> bool:
        """True when the environment (or the deployment) gives a way to call `model`."""
        deployment = self.config.deployments.get(model)
        if deployment is not None:
            if deployment.api_key_env:
                return bool(os.environ.get(deployment.api_key_env))
            if deployment.api_base:
                return True  # a local OpenAI-compatible server needs no key
        names = PROVIDER_KEY_ENV.get(provider, (f"{provider.upper()}_API_KEY",))
        return any(os.environ.get(name) for name in names)

    def any_provider_available(self) -> bool:
        """True when at least one configured model can be called (else the offline model answers)."""
        if self.force_offline:
            return False
        if self._any_available is None:
            self._any_available = any(
                self._facts(m)[2] for models in self.config.tiers.values() for m in models
            )
        return self._any_available

    def refresh_credentials(self) -> None:
        """Forget cached credential checks (after keys were set or removed)."""
        self._static.clear()
        self._rates.clear()
        self._any_available = None

    # -- the decision ------------------------------------------------------------------------
    def base_tier(self, req: RouteRequest) -> tuple[Tier, list[str]]:
        """The tier from agent, step and prompt size, with the reasons."""
        reasons: list[str] = []
        if req.tier is not None:
            tier: Tier = req.tier
            reasons.append(f"pinned tier {tier}")
        else:
            tier = self.config.agents.get(req.agent or "", self.config.default_tier)
            reasons.append(f"agent {req.agent or '-'} tier {tier}")
        policy = self.config.steps.get(req.step) if req.step else None
        if policy is not None:
            clamped = _clamp(tier, policy.min_tier, policy.max_tier)
            if clamped != tier:
                reasons.append(f"step {req.step} -> {clamped}")
            tier = clamped
            if policy.long_prompt_min_tier and req.prompt_tokens > self.config.router.long_prompt_tokens:
                raised = _clamp(tier, policy.long_prompt_min_tier, None)
                if raised != tier:
                    reasons.append(f"prompt {req.prompt_tokens} tok -> {raised}")
                tier = raised
        return tier, reasons

    def _candidate(self, model: str, provider: str, tier: Tier, worst: int | None) -> Candidate:
        key = (model, provider, tier, worst)
        found = self._candidates.get(key)
        if found is None:
            if len(self._candidates) >= _MAX_CANDIDATES:
                self._candidates.clear()
            found = self._candidates[key] = Candidate(
                model=model, provider=provider, tier=tier, worst_case_nanos=worst
            )
        return found

    def decide(self, req: RouteRequest) -> RouteDecision:
        """Pick a model for `req`, or raise BudgetExceeded / UnpricedModelError when none may be used."""
        tier, reasons = self.base_tier(req)
        if not self.any_provider_available():
            decision = RouteDecision(
                chosen=Candidate(model=OFFLINE_MODEL, provider="offline", tier=tier, worst_case_nanos=0),
                tier=tier,
                reason="; ".join([*reasons, "no provider key configured -> offline model"]),
            )
            log.debug("route %s", decision.reason)
            return decision

        remaining, limit = req.budget_remaining_nanos, req.budget_limit_nanos
        if (
            remaining is not None
            and limit
            and remaining < self.config.router.downgrade_below_fraction * limit
        ):
            lowered = TIERS[max(0, _TIER_INDEX[tier] - 1)]
            if lowered != tier:
                reasons.append(f"budget low (${from_nanos(remaining):.4f} left) -> {lowered}")
                tier = lowered

        usable: list[Candidate] = []
        skipped_unpriced: list[str] = []
        skipped_budget: list[Candidate] = []
        healthy: dict[str, bool] = {}  # one circuit check per provider per decision
        padded = self._padded(req.prompt_tokens)
        for search_tier, model in self._search_order(tier):
            if model in req.exclude_models:
                continue
            provider, price, has_key = self._facts(model)
            if not has_key:
                continue
            allowed = healthy.get(provider)
            if allowed is None:
                allowed = healthy[provider] = self.health.allows(provider)
            if not allowed:
                continue
            if price is not None and not self._fits(price, req):
                continue
            worst = None
            if price is not None:
                worst = self._worst(model, price, padded, req.max_output_tokens)
            elif remaining is not None:
                skipped_unpriced.append(model)
                continue
            candidate = self._candidate(model, provider, search_tier, worst)
            if remaining is not None and worst is not None and worst > remaining:
                skipped_budget.append(candidate)
                continue
            usable.append(candidate)

        if not usable:
            if skipped_budget:
                cheapest = min(skipped_budget, key=lambda c: c.worst_case_nanos or 0)
                raise BudgetExceeded(
                    f"no model fits the budget: cheapest {cheapest.model} may cost "
                    f"${from_nanos(cheapest.worst_case_nanos or 0):.6f}, "
                    f"${from_nanos(remaining or 0):.6f} left",
                    scope="router",
                    limit_usd=from_nanos(limit or 0),
                    committed_usd=from_nanos((limit or 0) - (remaining or 0)),
                    requested_usd=from_nanos(cheapest.worst_case_nanos or 0),
                )
            if skipped_unpriced:
                raise UnpricedModelError(
                    f"models {skipped_unpriced} have no known price and a budget applies; "
                    "set prices for them in configs/models.yaml"
                )
            decision = RouteDecision(
                chosen=Candidate(model=OFFLINE_MODEL, provider="offline", tier=tier, worst_case_nanos=0),
                tier=tier,
                reason="; ".join([*reasons, "no healthy capable model -> offline model"]),
            )
            log.info("route %s", decision.reason)
            return decision

        chosen = usable[0]
        if chosen.tier != tier:
            reasons.append(f"no usable {tier} model -> {chosen.tier}")
        if skipped_budget:
            reasons.append(f"skipped {len(skipped_budget)} over budget")
        reasons.append(f"-> {chosen.model}")
        cascade: list[Candidate] = []
        policy = self.config.steps.get(req.step) if req.step else None
        if policy is not None and policy.cascade:
            cascade = [c for c in usable if _TIER_INDEX[c.tier] < _TIER_INDEX[chosen.tier]][:1]
            if cascade:
                reasons.append(f"cascade from {cascade[0].model}")
        decision = RouteDecision(
            chosen=chosen, fallbacks=usable[1:], cascade=cascade, tier=tier, reason="; ".join(reasons)
        )
        log.debug("route %s", decision.reason)
        return decision

    def _search_order(self, tier: Tier) -> list[tuple[Tier, str]]:
        """Every configured model with its tier, in the order a decision for `tier` weighs them.

        A model listed in several tiers is one candidate, in the tier searched first: as its own
        fallback or cascade step it would only repeat the same call.
        """
        order = self._orders.get(tier)
        if order is None:
            seen: set[str] = set()
            order = []
            for search_tier in _tier_search_order(tier):
                for model in self.config.tiers.get(search_tier, []):
                    if model not in seen:
                        seen.add(model)
                        order.append((search_tier, model))
            self._orders[tier] = order
        return order

    def _padded(self, prompt_tokens: int) -> int:
        return int(prompt_tokens * self.config.router.prompt_estimate_margin) + 16

    def worst_case_nanos(self, model: str, prompt_tokens: int, max_output_tokens: int) -> int | None:
        """The reservation for a call to `model`, or None when it has no price."""
        price = self._facts(model)[1]
        if price is None:
            return None
        return self._worst(model, price, self._padded(prompt_tokens), max_output_tokens)

    def _worst(self, model: str, price: ModelPrice, padded_prompt: int, max_output_tokens: int) -> int:
        """`worst_case_cost` in nano-USD, in integers when the model's rates are whole nano-dollars."""
        if model not in self._rates:
            self._rates[model] = _whole_nano_rates(price)
        rates = self._rates[model]
        if rates is not None:  # exact: the same figure as the Decimal sum, rounded up, would be
            return padded_prompt * rates[0] + max_output_tokens * rates[1]
        return to_nanos(worst_case_cost(padded_prompt, max_output_tokens, price))

    @staticmethod
    def _fits(price: ModelPrice, req: RouteRequest) -> bool:
        if req.needs_tools and not price.supports_tools:
            return False
        if req.needs_schema and not (price.supports_schema or price.supports_tools):
            return False
        if price.max_input_tokens and req.prompt_tokens > price.max_input_tokens:
            return False
        return not (price.max_output_tokens and req.max_output_tokens > price.max_output_tokens)

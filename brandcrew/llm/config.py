"""`configs/models.yaml`: tiers of candidate models, per-agent tiers, step policies, prices."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from brandcrew._config_files import load_yaml_model
from brandcrew.llm.messages import StepKind, Tier
from brandcrew.llm.prices import PriceOverride


class StepPolicy(BaseModel):
    """How a kind of step bends the agent's tier."""

    model_config = ConfigDict(extra="forbid")

    min_tier: Tier | None = None
    max_tier: Tier | None = None
    cascade: bool = False
    """Try the cheapest tier first and escalate when the output fails validation."""
    long_prompt_min_tier: Tier | None = None
    """Tier floor when the prompt is longer than `router.long_prompt_tokens`."""


class Deployment(BaseModel):
    """A named model endpoint: an OpenAI-compatible server (Ollama, vLLM, llama.cpp) or a custom id."""

    model_config = ConfigDict(extra="forbid")

    model: str
    """The LiteLLM model string, e.g. `openai/llama3.1` or `ollama_chat/qwen2.5`."""
    provider: str | None = None
    api_base: str | None = None
    api_key_env: str | None = None
    """Environment variable holding the key; a deployment with `api_base` and no key is keyless."""
    price: PriceOverride | None = None


class RouterPolicy(BaseModel):
    """Knobs of the router and of provider health."""

    model_config = ConfigDict(extra="forbid")

    downgrade_below_fraction: float = Field(default=0.2, ge=0, le=1)
    """Drop one tier when less than this fraction of the tightest cap remains."""
    long_prompt_tokens: int = 16_000
    circuit_failures: int = 3
    circuit_window_s: float = 60.0
    circuit_cooldown_s: float = 30.0
    max_attempts: int = 3
    """Attempts per model on retryable errors (tenacity), before falling back to the next model."""
    max_retry_wait_s: float = 60.0
    prompt_estimate_margin: float = Field(default=1.2, ge=1.0)
    """Reservations count prompt tokens x this: brandcrew counts with tiktoken, and other providers'
    tokenizers (Claude's, Gemini's) can count more; a reservation must be an upper bound."""


class ModelsConfig(BaseModel):
    """The whole routing configuration."""

    model_config = ConfigDict(extra="forbid")

    tiers: dict[Tier, list[str]]
    agents: dict[str, Tier] = Field(default_factory=dict)
    default_tier: Tier = "balanced"
    steps: dict[StepKind, StepPolicy] = Field(default_factory=dict)
    deployments: dict[str, Deployment] = Field(default_factory=dict)
    prices: dict[str, PriceOverride] = Field(default_factory=dict)
    router: RouterPolicy = Field(default_factory=RouterPolicy)
    default_max_output_tokens: int = 1024

    @model_validator(mode="after")
    def _every_tier_listed(self) -> ModelsConfig:
        for tier in ("small", "balanced", "frontier"):
            if tier not in self.tiers:
                raise ValueError(f"tiers.{tier} is missing (list at least one candidate model)")
        return self

    def price_overrides(self) -> dict[str, PriceOverride]:
        """Configured prices, including those given on deployments."""
        out = dict(self.prices)
        for name, dep in self.deployments.items():
            if dep.price is not None:
                out.setdefault(
                    name, dep.price.model_copy(update={"provider": dep.provider or dep.price.provider})
                )
        return out


def load_models_config(path: Path) -> ModelsConfig:
    """Read and validate a models.yaml, with errors that name the file and field."""
    return load_yaml_model(path, ModelsConfig)

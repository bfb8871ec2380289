"""What goes to a model backend and what comes back, in the OpenAI chat wire shape.

Every backend (LiteLLM providers, the offline model, scripted test models) speaks these
types, so routing, budgets, caching and the ledger never depend on a provider.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from brandcrew.llm.usage import LlmUsage

StepKind = Literal["route", "classify", "extract", "write", "plan", "analyze"]
STEP_KINDS: tuple[StepKind, ...] = ("route", "classify", "extract", "write", "plan", "analyze")
Tier = Literal["small", "balanced", "frontier"]
TIERS: tuple[Tier, ...] = ("small", "balanced", "frontier")


class ToolCall(BaseModel):
    """One tool call a model asked for."""

    id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    raw_arguments: str | None = None
    """The arguments exactly as sent when they were not valid JSON (the tool layer reports it)."""


def parse_tool_arguments(raw: str | None) -> tuple[dict[str, Any], str | None]:
    """JSON tool arguments as a dict, or ({}, raw) when they are not a JSON object."""
    if not raw:
        return {}, None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        return {}, raw
    return (value, None) if isinstance(value, dict) else ({}, raw)


class ModelRequest(BaseModel):
    """A chat completion request to one concrete model."""

    model_config = ConfigDict(frozen=True)

    model: str
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] = Field(default_factory=list)
    tool_choice: str | dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None
    max_tokens: int = 1024
    temperature: float | None = None
    stop: list[str] | None = None
    extra: dict[str, Any] = Field(default_factory=dict)
    """Provider parameters passed through untouched (api_base, seed, ...)."""
    metadata: dict[str, Any] = Field(default_factory=dict)
    """Facts about the step (agent, step kind, brand profile, platform) that local backends
    such as the offline model read; never sent to a provider."""

    def cache_params(self) -> dict[str, Any]:
        """The parameters that change the answer, for the response-cache key."""
        return self.model_dump(exclude={"model", "messages"}, mode="json")


class ModelResponse(BaseModel):
    """A completed model answer."""

    model: str
    provider: str
    content: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    finish_reason: str | None = None
    usage: LlmUsage = Field(default_factory=LlmUsage)
    offline: bool = False
    """True when the built-in offline model produced this, never a real LLM."""


class ResponseChunk(BaseModel):
    """A piece of a streamed answer; the last chunk carries `usage` and `finish_reason`."""

    content: str = ""
    tool_call_deltas: list[dict[str, Any]] = Field(default_factory=list)
    """OpenAI-shaped deltas: index, id, name, and a fragment of the JSON arguments."""
    usage: LlmUsage | None = None
    finish_reason: str | None = None

"""The LiteLLM backend: OpenAI, Anthropic, Gemini and any OpenAI-compatible server, behind one port."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

from brandcrew.errors import ModelAPIError, ModelRequestsBlocked
from brandcrew.llm.config import Deployment
from brandcrew.llm.messages import ModelRequest, ModelResponse, ResponseChunk, ToolCall, parse_tool_arguments
from brandcrew.llm.usage import LlmUsage

_RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529})


def _litellm() -> Any:
    # Imported on first real call: LiteLLM takes seconds to import and the offline path never needs it.
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.telemetry = False
    return litellm


def _retry_after(exc: BaseException) -> float | None:
    headers: Any = getattr(exc, "litellm_response_headers", None)
    response = getattr(exc, "response", None)
    if headers is None and response is not None:
        headers = getattr(response, "headers", None)
    if not headers:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) * scale)
        except (TypeError, ValueError):
            # An HTTP-date Retry-After: parse it rather than ignore the provider's instruction.
            from datetime import UTC, datetime
            from email.utils import parsedate_to_datetime

            try:
                return max(0.0, (parsedate_to_datetime(str(value)) - datetime.now(UTC)).total_seconds())
            except (TypeError, ValueError):
                return None
    return None


def to_model_api_error(exc: BaseException, *, provider: str, model: str) -> ModelAPIError:
    """Map a LiteLLM/httpx exception to brandcrew's typed error, deciding whether it is retryable."""
    status = getattr(exc, "status_code", None)
    name = type(exc).__name__
    connection_trouble = name in {
        "APIConnectionError",
        "Timeout",
        "APITimeoutError",
        "ConnectError",
        "ReadTimeout",
    }
    retryable = connection_trouble or (isinstance(status, int) and status in _RETRYABLE_STATUS)
    return ModelAPIError(
        f"{provider}/{model}: {name}: {exc}",
        provider=provider,
        model=model,
        status_code=status if isinstance(status, int) else None,
        retryable=retryable,
        retry_after_s=_retry_after(exc),
    )


def usage_from_litellm(usage: Any) -> LlmUsage:
    """LiteLLM's normalised usage object as brandcrew's token split."""
    if usage is None:
        return LlmUsage(requests=1)

    def pick(obj: Any, *names: str) -> int:
        for name in names:
            value = obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
            if value:
                return int(value)
        return 0

    prompt_details = getattr(usage, "prompt_tokens_details", None) or {}
    completion_details = getattr(usage, "completion_tokens_details", None) or {}
    cache_read = pick(usage, "cache_read_input_tokens") or pick(prompt_details, "cached_tokens")
    cache_write = pick(usage, "cache_creation_input_tokens") or pick(prompt_details, "cache_creation_tokens")
    return LlmUsage(
        input_tokens=pick(usage, "prompt_tokens"),
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
        output_tokens=pick(usage, "completion_tokens"),
        reasoning_tokens=pick(completion_details, "reasoning_tokens"),
        requests=1,
    )


class LiteLLMBackend:
    """Calls any provider LiteLLM knows; one instance serves every real model."""

    provider = "litellm"

    def __init__(
        self,
        *,
        deployments: dict[str, Deployment] | None = None,
        provider_of: Any = None,
        allow_requests: bool = True,
        timeout_s: float = 120.0,
    ) -> None:
        self.deployments = deployments or {}
        self._provider_of = provider_of or (lambda model: model.split("/")[0])
        self.allow_requests = allow_requests
        self.timeout_s = timeout_s

    def _kwargs(self, request: ModelRequest) -> dict[str, Any]:
        if not self.allow_requests:
            raise ModelRequestsBlocked(
                f"real model requests are disabled; refusing to call {request.model} "
                "(set BRANDCREW_ALLOW_MODEL_REQUESTS=true to allow)"
            )
        kwargs: dict[str, Any] = {
            "model": request.model,
            "messages": request.messages,
            "max_tokens": request.max_tokens,
            "num_retries": 0,  # brandcrew retries (tenacity) so that Retry-After and fallbacks are ours
            "timeout": self.timeout_s,
        }
        deployment = self.deployments.get(request.model)
        if deployment is not None:
            kwargs["model"] = deployment.model
            if deployment.api_base:
                kwargs["api_base"] = deployment.api_base
            if deployment.api_key_env:
                kwargs["api_key"] = os.environ.get(deployment.api_key_env)
        if request.tools:
            kwargs["tools"] = request.tools
            if request.tool_choice is not None:
                kwargs["tool_choice"] = request.tool_choice
        if request.response_format is not None:
            kwargs["response_format"] = request.response_format
        if request.temperature is not None:
            kwargs["temperature"] = request.temperature
        if request.stop:
            kwargs["stop"] = request.stop
        kwargs.update(request.extra)
        return kwargs

    async def complete(self, request: ModelRequest) -> ModelResponse:
        """Answer a request in full."""
        kwargs = self._kwargs(request)
        provider = self._provider_of(request.model)
        try:
            raw = await _litellm().acompletion(**kwargs)
        except ModelRequestsBlocked:
            raise
        except Exception as exc:
            raise to_model_api_error(exc, provider=provider, model=request.model) from exc
        choice = raw.choices[0]
        message = choice.message
        calls = []
        for tc in getattr(message, "tool_calls", None) or []:
            args, bad = parse_tool_arguments(tc.function.arguments)
            calls.append(ToolCall(id=tc.id, name=tc.function.name, arguments=args, raw_arguments=bad))
        return ModelResponse(
            model=request.model,
            provider=provider,
            content=message.content or "",
            tool_calls=calls,
            finish_reason=choice.finish_reason,
            usage=usage_from_litellm(getattr(raw, "usage", None)),
        )

    async def stream(self, request: ModelRequest) -> AsyncIterator[ResponseChunk]:
        """Answer as chunks; the last one carries usage (`stream_options.include_usage`)."""
        kwargs = self._kwargs(request)
        provider = self._provider_of(request.model)
        kwargs["stream"] = True
        kwargs["stream_options"] = {"include_usage": True}
        try:
            stream = await _litellm().acompletion(**kwargs)
            usage: LlmUsage | None = None
            finish: str | None = None
            async for chunk in stream:
                if getattr(chunk, "usage", None):
                    usage = usage_from_litellm(chunk.usage)
                if not chunk.choices:
                    continue
                choice = chunk.choices[0]
                finish = choice.finish_reason or finish
                delta = choice.delta
                deltas = [
                    {
                        "index": tc.index,
                        "id": tc.id,
                        "name": tc.function.name if tc.function else None,
                        "arguments": (tc.function.arguments if tc.function else None) or "",
                    }
                    for tc in (getattr(delta, "tool_calls", None) or [])
                ]
                if delta.content or deltas:
                    yield ResponseChunk(content=delta.content or "", tool_call_deltas=deltas)
        except ModelRequestsBlocked:
            raise
        except Exception as exc:
            raise to_model_api_error(exc, provider=provider, model=request.model) from exc
        yield ResponseChunk(usage=usage or LlmUsage(requests=1), finish_reason=finish)

"""Test doubles: a scripted model backend that answers from a queue and records every call."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from brandcrew.errors import BrandcrewError, ModelAPIError
from brandcrew.llm.messages import ModelRequest, ModelResponse, ResponseChunk, ToolCall
from brandcrew.llm.usage import LlmUsage

_ids = itertools.count(1)


class UnexpectedModelCall(BrandcrewError):
    """The scripted model was called after its script ran out."""


@dataclass
class Step:
    """One scripted answer: a response, an error to raise, or a function of the request."""

    response: ModelResponse | None = None
    error: BaseException | None = None
    respond: Callable[[ModelRequest], ModelResponse] | None = None
    delay_s: float = 0.0


def reply(text: str, *, usage: LlmUsage | None = None, delay_s: float = 0.0) -> Step:
    """A step that answers with text."""
    return Step(
        response=ModelResponse(
            model="", provider="", content=text, finish_reason="stop", usage=usage or LlmUsage(requests=1)
        ),
        delay_s=delay_s,
    )


def tool_call(name: str, args: dict[str, Any] | str, *, usage: LlmUsage | None = None) -> Step:
    """A step that calls a tool (a string `args` is sent raw, e.g. to test invalid JSON)."""
    raw = args if isinstance(args, str) else None
    parsed = {} if isinstance(args, str) else args
    call = ToolCall(id=f"call_{next(_ids)}", name=name, arguments=parsed, raw_arguments=raw)
    return Step(
        response=ModelResponse(
            model="",
            provider="",
            tool_calls=[call],
            finish_reason="tool_calls",
            usage=usage or LlmUsage(requests=1),
        )
    )


def fail(
    status_code: int = 500, *, retry_after_s: float | None = None, message: str = "scripted failure"
) -> Step:
    """A step that raises a provider error (retryable for 408/429/5xx)."""
    retryable = status_code in (408, 409, 429) or status_code >= 500
    return Step(
        error=ModelAPIError(
            message,
            provider="scripted",
            model="scripted",
            status_code=status_code,
            retryable=retryable,
            retry_after_s=retry_after_s,
        )
    )


@dataclass
class ScriptedLlm:
    """A backend answering from a script; `calls` keeps every request it saw."""

    steps: list[Step]
    provider: str = "scripted"
    repeat_last: bool = False
    """Keep answering with the last step instead of raising when the script runs out."""
    calls: list[ModelRequest] = field(default_factory=list)

    @property
    def remaining_steps(self) -> int:
        """Steps not yet consumed."""
        return len(self.steps)

    def _next(self, request: ModelRequest) -> ModelResponse:
        self.calls.append(request)
        if not self.steps:
            raise UnexpectedModelCall(f"no scripted step left for call #{len(self.calls)}")
        step = self.steps[0] if (self.repeat_last and len(self.steps) == 1) else self.steps.pop(0)
        if step.error is not None:
            raise step.error
        if step.respond is not None:
            response = step.respond(request)
        else:
            assert step.response is not None
            response = step.response
        return response.model_copy(update={"model": request.model, "provider": self.provider})

    async def complete(self, request: ModelRequest) -> ModelResponse:
        """Answer with the next scripted step."""
        delay = self.steps[0].delay_s if self.steps else 0.0
        if delay:
            await asyncio.sleep(delay)
        return self._next(request)

    async def stream(self, request: ModelRequest) -> AsyncIterator[ResponseChunk]:
        """Stream the next scripted step word by word."""
        response = await self.complete(request)
        words = response.content.split(" ")
        for i, word in enumerate(words):
            yield ResponseChunk(content=word if i == 0 else " " + word)
        if response.tool_calls:
            yield ResponseChunk(
                tool_call_deltas=[
                    {
                        "index": i,
                        "id": c.id,
                        "name": c.name,
                        "arguments": c.raw_arguments or json.dumps(c.arguments),
                    }
                    for i, c in enumerate(response.tool_calls)
                ]
            )
        yield ResponseChunk(usage=response.usage, finish_reason=response.finish_reason)

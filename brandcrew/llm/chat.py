"""`ChatBrandcrew`: a LangChain chat model that routes, budgets, caches and records every call.

It works wherever LangChain chat models do (tool binding, structured output, streaming, async),
and answers through whichever backend the router picks: a LiteLLM provider or the offline model.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any, TypeVar

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, convert_to_openai_messages
from langchain_core.messages.ai import InputTokenDetails, OutputTokenDetails, UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ConfigDict, Field

from brandcrew.llm._cost import usd_text
from brandcrew.llm.context import LlmContext, current_context
from brandcrew.llm.messages import ModelRequest, ModelResponse, ResponseChunk, StepKind, Tier
from brandcrew.llm.runtime import CallOptions, CallResult, LlmRuntime, get_runtime
from brandcrew.llm.usage import LlmUsage

T = TypeVar("T")


def _run_sync(make: Callable[[], Any]) -> Any:
    """Run a coroutine from sync code, also when the caller already runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(make())
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


def usage_metadata(usage: LlmUsage) -> UsageMetadata:
    """brandcrew usage in LangChain's `usage_metadata` shape."""
    return UsageMetadata(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        total_tokens=usage.total_tokens,
        input_token_details=InputTokenDetails(
            cache_read=usage.cache_read_tokens, cache_creation=usage.cache_write_tokens
        ),
        output_token_details=OutputTokenDetails(reasoning=usage.reasoning_tokens),
    )


def _response_metadata(result: CallResult) -> dict[str, Any]:
    response = result.response
    return {
        "model_name": response.model,
        "provider": response.provider,
        "finish_reason": response.finish_reason,
        "offline": response.offline,
        "cost_usd": None if result.cost_usd is None else usd_text(result.cost_usd),
        "saved_usd": usd_text(result.saved_usd),
        "cache_hit": result.cache_hit,
        "route_reason": result.decision.reason,
        "ledger_id": result.ledger_id,
    }


def _ai_message(result: CallResult, metadata: dict[str, Any] | None = None) -> AIMessage:
    response = result.response
    tool_calls = [
        {"name": c.name, "args": c.arguments, "id": c.id, "type": "tool_call"}
        for c in response.tool_calls
        if c.raw_arguments is None
    ]
    invalid = [
        {
            "name": c.name,
            "args": c.raw_arguments,
            "id": c.id,
            "error": "arguments are not a JSON object",
            "type": "invalid_tool_call",
        }
        for c in response.tool_calls
        if c.raw_arguments is not None
    ]
    return AIMessage(
        content=response.content,
        tool_calls=tool_calls,
        invalid_tool_calls=invalid,
        usage_metadata=usage_metadata(response.usage),
        response_metadata=_response_metadata(result) if metadata is None else dict(metadata),
    )


class ChatBrandcrew(BaseChatModel):
    """A chat model backed by brandcrew's router, budgets, cache and cost ledger."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    runtime: LlmRuntime | None = Field(default=None, exclude=True)
    """The runtime to call through; the process default when None."""
    agent: str | None = None
    step: StepKind | None = None
    tier: Tier | None = None
    model: str | None = None
    """Pin a concrete model instead of routing (budgets and pricing still apply)."""
    max_tokens: int | None = None
    temperature: float | None = None
    response_cache: bool = True
    """Use brandcrew's response cache (LangChain's own `cache` field stays unused)."""
    workspace_id: str | None = None
    campaign_id: str | None = None
    run_id: str | None = None
    metadata_hints: dict[str, Any] = Field(default_factory=dict)
    """Facts for local backends (brand profile, platform); never sent to providers."""

    @property
    def _llm_type(self) -> str:
        return "brandcrew"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"agent": self.agent, "step": self.step, "tier": self.tier, "model": self.model}

    def _runtime(self) -> LlmRuntime:
        return self.runtime or get_runtime()

    def _context(self, kwargs: dict[str, Any]) -> LlmContext:
        base = current_context()
        update: dict[str, Any] = {}
        for name in ("workspace_id", "campaign_id", "run_id"):
            value = getattr(self, name)
            if value is not None:
                update[name] = value
        for name in ("agent", "step", "tier"):
            value = kwargs.get(name, getattr(self, name))
            if value is not None:
                update[name] = value
        return base.model_copy(update=update) if update else base

    def _request(
        self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any], ctx: LlmContext
    ) -> tuple[ModelRequest, CallOptions]:
        runtime = self._runtime()
        max_tokens = kwargs.get("max_tokens", self.max_tokens) or runtime.config.default_max_output_tokens
        tool_choice = kwargs.get("tool_choice")
        if tool_choice == "any":
            tool_choice = "required"
        hints = {**self.metadata_hints, **kwargs.get("metadata_hints", {})}
        hints.setdefault("agent", ctx.agent)
        hints.setdefault("step", ctx.step)
        request = ModelRequest(
            model=kwargs.get("model", self.model) or "auto",
            messages=convert_to_openai_messages(messages),
            tools=list(kwargs.get("tools") or []),
            tool_choice=tool_choice,
            response_format=kwargs.get("response_format"),
            max_tokens=int(max_tokens),
            temperature=kwargs.get("temperature", self.temperature),
            stop=stop,
            metadata={k: v for k, v in hints.items() if v is not None},
        )
        opts = CallOptions(
            cache=bool(kwargs.get("response_cache", self.response_cache)),
            model=kwargs.get("model", self.model),
            validate=kwargs.get("validate"),
        )
        return request, opts

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        ctx = self._context(kwargs)
        request, opts = self._request(messages, stop, kwargs, ctx)
        result = await self._runtime().complete(request, ctx=ctx, opts=opts)
        metadata = _response_metadata(result)
        message = _ai_message(result, metadata)
        return ChatResult(generations=[ChatGeneration(message=message)], llm_output=metadata)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        result: ChatResult = _run_sync(lambda: self._agenerate(messages, stop, None, **kwargs))
        return result

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        ctx = self._context(kwargs)
        request, opts = self._request(messages, stop, kwargs, ctx)
        async for item in self._runtime().stream(request, ctx=ctx, opts=opts):
            if isinstance(item, ResponseChunk):
                chunk = AIMessageChunk(
                    content=item.content,
                    tool_call_chunks=[
                        {
                            "name": d.get("name"),
                            "args": d.get("arguments"),
                            "id": d.get("id"),
                            "index": d.get("index"),
                            "type": "tool_call_chunk",
                        }
                        for d in item.tool_call_deltas
                    ],
                )
                if run_manager is not None and item.content:
                    await run_manager.on_llm_new_token(item.content, chunk=ChatGenerationChunk(message=chunk))
                yield ChatGenerationChunk(message=chunk)
            else:
                final = AIMessageChunk(
                    content="",
                    usage_metadata=usage_metadata(item.response.usage),
                    response_metadata=_response_metadata(item),
                    chunk_position="last",
                )
                yield ChatGenerationChunk(message=final)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        async def collect() -> list[ChatGenerationChunk]:
            return [c async for c in self._astream(messages, stop, None, **kwargs)]

        chunks: list[ChatGenerationChunk] = _run_sync(collect)
        yield from chunks

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | dict[str, Any] | bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools (any LangChain tool, function, pydantic model or OpenAI schema) to the model."""
        formatted = [convert_to_openai_tool(t) for t in tools]
        for key in [k for k in kwargs if k.startswith("ls_")]:
            kwargs.pop(key)  # LangSmith tracing hints; nothing to send
        if isinstance(tool_choice, str) and tool_choice not in ("auto", "none", "required", "any"):
            tool_choice = {"type": "function", "function": {"name": tool_choice}}
        elif tool_choice is True or (tool_choice in ("any", "required") and len(formatted) == 1):
            tool_choice = {"type": "function", "function": {"name": formatted[0]["function"]["name"]}}
        return self.bind(tools=formatted, tool_choice=tool_choice, **kwargs)

    def with_context(self, **fields: Any) -> ChatBrandcrew:
        """A copy for another agent, step, tier or run, e.g. `model.with_context(agent="strategy")`."""
        return self.model_copy(update=fields)


def response_text(message: BaseMessage) -> str:
    """The text of a message whose content may be a string or content blocks."""
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in content)


__all__ = ("ChatBrandcrew", "ModelResponse", "response_text", "usage_metadata")

"""Provider errors are typed for the retry layer; usage is read from LiteLLM's shapes; streams settle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from types import SimpleNamespace
from typing import Any

import pytest

from brandcrew.llm import provider
from brandcrew.llm.messages import ModelRequest, ResponseChunk
from brandcrew.llm.provider import LiteLLMBackend, to_model_api_error, usage_from_litellm


class FakeError(Exception):
    def __init__(self, status: int | None, headers: dict[str, str] | None = None) -> None:
        super().__init__("boom")
        self.status_code = status
        self.response = SimpleNamespace(headers=headers or {})


@pytest.mark.parametrize(
    ("status", "headers", "retryable", "wait"),
    [
        pytest.param(429, {"retry-after": "7"}, True, 7.0, id="429-retry-after-seconds"),
        pytest.param(503, {"retry-after-ms": "1500"}, True, 1.5, id="503-retry-after-ms"),
        pytest.param(529, {}, True, None, id="anthropic-overloaded"),
        pytest.param(400, {}, False, None, id="bad-request-is-final"),
        pytest.param(401, {}, False, None, id="auth-is-final"),
    ],
)
def test_errors_are_classified(
    status: int, headers: dict[str, str], retryable: bool, wait: float | None
) -> None:
    err = to_model_api_error(FakeError(status, headers), provider="openai", model="gpt-5-mini")
    assert (err.status_code, err.retryable, err.retry_after_s) == (status, retryable, wait)


def test_http_date_retry_after_and_connection_errors() -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    err = to_model_api_error(FakeError(429, {"retry-after": later}), provider="p", model="m")
    assert err.retry_after_s is not None and 20 < err.retry_after_s <= 30

    class APIConnectionError(Exception):
        pass

    assert to_model_api_error(APIConnectionError("reset"), provider="p", model="m").retryable


def test_usage_from_either_provider_shape() -> None:
    openai_like = SimpleNamespace(
        prompt_tokens=2006,
        completion_tokens=571,
        prompt_tokens_details={"cached_tokens": 1920},
        completion_tokens_details={"reasoning_tokens": 384},
    )
    anthropic_like = SimpleNamespace(
        prompt_tokens=2482,
        completion_tokens=151,
        cache_read_input_tokens=2214,
        cache_creation_input_tokens=197,
        prompt_tokens_details=None,
        completion_tokens_details=None,
    )
    a, b = usage_from_litellm(openai_like), usage_from_litellm(anthropic_like)
    assert (a.input_tokens, a.cache_read_tokens, a.output_tokens, a.reasoning_tokens) == (
        2006,
        1920,
        571,
        384,
    )
    assert (b.uncached_input_tokens, b.cache_read_tokens, b.cache_write_tokens) == (71, 2214, 197)
    assert usage_from_litellm(None).requests == 1


async def test_stream_assembles_deltas_and_final_usage(monkeypatch: pytest.MonkeyPatch) -> None:
    def chunk(
        content: str | None = None, tools: Any = None, finish: str | None = None, usage: Any = None
    ) -> Any:
        delta = SimpleNamespace(content=content, tool_calls=tools)
        return SimpleNamespace(choices=[SimpleNamespace(delta=delta, finish_reason=finish)], usage=usage)

    tool = SimpleNamespace(
        index=0, id="c1", function=SimpleNamespace(name="schedule_post", arguments='{"a": 1}')
    )
    chunks = [
        chunk("Hel"),
        chunk("lo"),
        chunk(tools=[tool]),
        chunk(finish="tool_calls"),
        SimpleNamespace(choices=[], usage=SimpleNamespace(prompt_tokens=10, completion_tokens=3)),
    ]

    async def fake_acompletion(**kwargs: Any) -> Any:
        assert kwargs["stream"] and kwargs["stream_options"] == {"include_usage": True}
        assert kwargs["api_base"] == "http://localhost:11434/v1"

        async def gen() -> Any:
            for c in chunks:
                yield c

        return gen()

    monkeypatch.setattr(provider, "_litellm", lambda: SimpleNamespace(acompletion=fake_acompletion))
    from brandcrew.llm.config import Deployment

    backend = LiteLLMBackend(
        deployments={"local": Deployment(model="openai/llama3.1", api_base="http://localhost:11434/v1")}
    )
    out: list[ResponseChunk] = [
        c
        async for c in backend.stream(
            ModelRequest(model="local", messages=[{"role": "user", "content": "hi"}])
        )
    ]
    assert "".join(c.content for c in out) == "Hello"
    assert out[2].tool_call_deltas[0]["name"] == "schedule_post"
    assert (
        out[-1].usage is not None
        and out[-1].usage.output_tokens == 3
        and out[-1].finish_reason == "tool_calls"
    )


async def test_stream_errors_are_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(**kwargs: Any) -> Any:
        raise FakeError(503)

    monkeypatch.setattr(provider, "_litellm", lambda: SimpleNamespace(acompletion=broken))
    backend = LiteLLMBackend()
    from brandcrew.errors import ModelAPIError

    with pytest.raises(ModelAPIError) as info:
        async for _ in backend.stream(ModelRequest(model="gpt-5-mini", messages=[])):
            pass
    assert info.value.retryable

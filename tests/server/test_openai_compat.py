"""The official openai client chats with brandcrew's agents at /v1."""

from __future__ import annotations

import asyncio
from typing import Any

import openai
import pytest
from openai import OpenAI

from tests.utils.server import Account


@pytest.fixture(autouse=True)
def _no_rate_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    from brandcrew.settings import get_settings

    monkeypatch.setenv("BRANDCREW_RATE_LIMIT_SCALE", "0")
    get_settings.cache_clear()


QUESTION = "Plan our posting cadence for LinkedIn next month"


def _client(live_server: str, owner: Account) -> OpenAI:
    return OpenAI(base_url=f"{live_server}/v1", api_key=owner.api_key, max_retries=0, timeout=300)


async def test_models_are_the_agents_and_the_team(live_server: str, owner: Account) -> None:
    models = await asyncio.to_thread(lambda: [m.id for m in _client(live_server, owner).models.list()])
    assert models[0] == "supervisor"
    assert {"strategy", "content_creator", "analytics", "engagement"} <= set(models)


async def test_chat_with_strategy(live_server: str, owner: Account) -> None:
    client = _client(live_server, owner)
    reply = await asyncio.to_thread(
        lambda: client.chat.completions.create(
            model="strategy",
            messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": QUESTION}],
        )
    )
    assert reply.model == "strategy" and reply.object == "chat.completion"
    (choice,) = reply.choices
    assert choice.message.role == "assistant" and len(choice.message.content or "") > 20
    assert choice.finish_reason == "stop"
    assert reply.usage is not None and reply.usage.prompt_tokens > 0 and reply.usage.completion_tokens > 0
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens
    extras: Any = reply.model_extra["brandcrew"]  # type: ignore[index]
    assert extras["agents"] == ["strategy"] and extras["cost_usd"] == "0"


async def test_streaming_chat_with_strategy(live_server: str, owner: Account) -> None:
    client = _client(live_server, owner)

    def collect() -> list[Any]:
        stream = client.chat.completions.create(
            model="strategy",
            messages=[{"role": "user", "content": QUESTION}],
            stream=True,
            stream_options={"include_usage": True},
        )
        return list(stream)

    chunks = await asyncio.to_thread(collect)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert len(text) > 20
    finished = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finished == ["stop"]
    usage = chunks[-1].usage
    assert chunks[-1].choices == [] and usage is not None and usage.completion_tokens > 0
    # The same answer as without streaming (the offline model is deterministic).
    plain = await asyncio.to_thread(
        lambda: client.chat.completions.create(
            model="strategy", messages=[{"role": "user", "content": QUESTION}]
        )
    )
    assert text == plain.choices[0].message.content


async def test_unknown_model_is_404(live_server: str, owner: Account) -> None:
    client = _client(live_server, owner)
    with pytest.raises(openai.NotFoundError) as err:
        await asyncio.to_thread(
            lambda: client.chat.completions.create(
                model="gpt-nope", messages=[{"role": "user", "content": "hi"}]
            )
        )
    assert err.value.code == "NOT_FOUND"

"""Real provider calls through the whole runtime, replayed from the hand-written wire cassettes.

The cassettes and the prompt live with the wire probe (`test_cassettes_wire.py`); here the same
requests go through LlmRuntime -> LiteLLMBackend, and the ledger must hold the hand-calculated cost.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from brandcrew.errors import ModelRequestsBlocked
from brandcrew.llm.config import load_models_config
from brandcrew.llm.context import llm_context
from brandcrew.llm.messages import ModelRequest
from brandcrew.llm.runtime import CallOptions, LlmRuntime
from brandcrew.settings import Settings, get_settings
from tests.llm.test_cassettes_wire import (
    ANTHROPIC_CASSETTE,
    ANTHROPIC_EXPECTED_ARGS,
    ANTHROPIC_MODEL,
    OPENAI_CASSETTE,
    OPENAI_EXPECTED_ARGS,
    OPENAI_MODEL,
    SCHEDULE_POST_TOOL,
    WIRE_VCR,
    _dummy_keys_and_fresh_clients,  # noqa: F401  (autouse fixture: dummy keys, fresh litellm clients)
    _no_real_sockets,  # noqa: F401  (autouse fixture: any real connect fails the test)
    anthropic_messages,
    openai_messages,
)


def runtime(engine: Any, *, allow: bool = True) -> LlmRuntime:
    config = load_models_config(get_settings().configs_dir / "models.yaml")
    return LlmRuntime(config=config, engine=engine, settings=Settings(allow_model_requests=allow))


@pytest.mark.parametrize(
    ("cassette", "model", "messages", "args", "tokens", "cost"),
    [
        pytest.param(
            OPENAI_CASSETTE,
            OPENAI_MODEL,
            openai_messages(),
            OPENAI_EXPECTED_ARGS,
            # input (incl. cached), cached read, cache write, output (incl. reasoning), reasoning
            (2006, 1920, 0, 571, 384),
            # 86 x $0.25/M + 1,920 x $0.025/M + 571 x $2/M
            Decimal("0.0012115"),
            id="openai-gpt-5-mini",
        ),
        pytest.param(
            ANTHROPIC_CASSETTE,
            ANTHROPIC_MODEL,
            anthropic_messages(),
            ANTHROPIC_EXPECTED_ARGS,
            (2482, 2214, 197, 151, 0),
            # 71 x $3/M + 2,214 x $0.30/M + 197 x $3.75/M + 151 x $15/M
            Decimal("0.00388095"),
            id="anthropic-sonnet-4-5",
        ),
    ],
)
async def test_tool_call_cost_matches_hand_calculation(
    sqlite_engine: Any,
    cassette: str,
    model: str,
    messages: Any,
    args: dict[str, Any],
    tokens: tuple[int, ...],
    cost: Decimal,
) -> None:
    rt = runtime(sqlite_engine)
    rt.limits.set("run", "r1", "0.50")
    request = ModelRequest(model="auto", messages=messages, tools=[SCHEDULE_POST_TOOL], max_tokens=1024)
    with (
        WIRE_VCR.use_cassette(cassette) as tape,
        llm_context(workspace_id="w", run_id="r1", agent="content_creator"),
    ):
        result = await rt.complete(request, opts=CallOptions(model=model, cache=False))
        assert tape.all_played
    (call,) = result.response.tool_calls
    assert (call.name, call.arguments) == ("schedule_post", args)
    usage = result.response.usage
    assert (
        usage.input_tokens,
        usage.cache_read_tokens,
        usage.cache_write_tokens,
        usage.output_tokens,
        usage.reasoning_tokens,
    ) == tokens
    assert result.cost_usd == cost
    (row,) = rt.ledger.rows()
    assert Decimal(row.cost_nanousd or 0) / 10**9 == cost
    (status,) = rt.budgets.status(["run:r1"])
    assert (status.spent_nanos, status.reserved_nanos) == (row.cost_nanousd, 0)


async def test_real_requests_are_refused_when_disabled(sqlite_engine: Any) -> None:
    rt = runtime(sqlite_engine, allow=False)
    request = ModelRequest(model="auto", messages=openai_messages(), max_tokens=64)
    with pytest.raises(ModelRequestsBlocked):
        await rt.complete(request, opts=CallOptions(model=OPENAI_MODEL, cache=False))

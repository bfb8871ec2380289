"""Every call is routed, budgeted, cached and written to the ledger; failures never overspend."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from brandcrew.errors import BudgetExceeded, ModelAPIError, NoModelAvailable, OutputValidationError
from brandcrew.llm.context import llm_context
from brandcrew.llm.ledger import CostFilter
from brandcrew.llm.messages import ModelRequest, ModelResponse
from brandcrew.llm.runtime import CallOptions, CallResult
from brandcrew.llm.testing import ScriptedLlm, fail, reply
from brandcrew.llm.usage import LlmUsage
from tests.utils.llm import make_runtime

USAGE = LlmUsage(
    input_tokens=1_200, cache_read_tokens=1_000, output_tokens=300, reasoning_tokens=100, requests=1
)


def request(text: str = "Plan next week's posts") -> ModelRequest:
    return ModelRequest(model="auto", messages=[{"role": "user", "content": text}], max_tokens=512)


async def test_call_is_priced_by_token_kind_and_recorded(sqlite_engine: Any) -> None:
    alpha = ScriptedLlm([reply("plan", usage=USAGE)], provider="alpha")
    runtime = make_runtime(sqlite_engine, {"alpha": alpha})
    with llm_context(workspace_id="w1", campaign_id="c1", run_id="r1", agent="strategy", step="plan"):
        result = await runtime.complete(request())
    # alpha/big: 200 uncached x $2/M + 1,000 cached x $0.5/M + 300 out x $8/M
    assert result.cost_usd == Decimal("0.0004") + Decimal("0.0005") + Decimal("0.0024")
    (row,) = runtime.ledger.rows(CostFilter(run_id="r1"))
    assert (row.workspace_id, row.campaign_id, row.agent, row.step, row.model, row.provider) == (
        "w1",
        "c1",
        "strategy",
        "plan",
        "alpha/big",
        "alpha",
    )
    assert (row.input_tokens, row.cache_read_tokens, row.output_tokens, row.reasoning_tokens) == (
        1200,
        1000,
        300,
        100,
    )
    assert (row.price_input, row.price_output, row.price_cache_read) == ("2", "8", "0.5")
    assert row.cost_nanousd == 3_300_000 and row.route_reason and "alpha/big" in row.route_reason
    assert alpha.calls[0].model == "alpha/big"


async def test_cache_hit_is_free_and_says_what_it_saved(sqlite_engine: Any) -> None:
    alpha = ScriptedLlm([reply("same answer", usage=USAGE)], provider="alpha")
    runtime = make_runtime(sqlite_engine, {"alpha": alpha})
    with llm_context(workspace_id="w1", agent="strategy", step="plan"):
        first = await runtime.complete(request())
        second = await runtime.complete(request())
    assert len(alpha.calls) == 1
    assert (second.cache_hit, second.cost_usd, second.saved_usd) == (True, Decimal(0), first.cost_usd)
    assert second.response.content == "same answer" and second.response.usage.input_tokens == 0
    (total,) = runtime.ledger.totals(["model"])
    assert (total.calls, total.cache_hits, total.cost_usd, total.saved_usd) == (
        2,
        1,
        first.cost_usd,
        first.cost_usd,
    )


async def test_cache_is_per_workspace_and_can_be_bypassed(sqlite_engine: Any) -> None:
    alpha = ScriptedLlm([reply("x", usage=USAGE)], provider="alpha", repeat_last=True)
    runtime = make_runtime(sqlite_engine, {"alpha": alpha})
    with llm_context(workspace_id="w1", agent="strategy"):
        await runtime.complete(request())
        await runtime.complete(request(), opts=CallOptions(cache=False))
    with llm_context(workspace_id="w2", agent="strategy"):
        await runtime.complete(request())
    assert len(alpha.calls) == 3


async def test_exhausted_budget_raises_before_any_call_and_records_nothing(sqlite_engine: Any) -> None:
    alpha = ScriptedLlm([reply("x", usage=USAGE)], provider="alpha", repeat_last=True)
    runtime = make_runtime(sqlite_engine, {"alpha": alpha})
    runtime.limits.set("run", "r9", "0.000001")
    with llm_context(run_id="r9", agent="strategy"), pytest.raises(BudgetExceeded):
        await runtime.complete(request())
    assert alpha.calls == [] and runtime.ledger.rows() == []


async def test_budget_holds_for_concurrent_calls_and_ledger_sums_to_spend(sqlite_engine: Any) -> None:
    usage = LlmUsage(input_tokens=400, output_tokens=400, requests=1)
    alpha = ScriptedLlm([reply("ok", usage=usage, delay_s=0.01)], provider="alpha", repeat_last=True)
    runtime = make_runtime(sqlite_engine, {"alpha": alpha})
    runtime.limits.set("campaign", "c1", "0.05")

    async def one(i: int) -> str:
        try:
            with llm_context(campaign_id="c1", agent="strategy"):
                await runtime.complete(request(f"post {i}"))
            return "ok"
        except BudgetExceeded:
            return "paused"

    outcomes = await asyncio.gather(*(one(i) for i in range(60)))
    assert "paused" in outcomes and "ok" in outcomes
    (status,) = runtime.budgets.status(["campaign:c1"])
    (total,) = runtime.ledger.totals(flt=CostFilter(campaign_id="c1"))
    assert status.reserved_nanos == 0
    assert status.spent_nanos <= 50_000_000
    assert total.cost_usd == Decimal(status.spent_nanos) / 10**9


async def test_retryable_errors_are_retried_honouring_retry_after(sqlite_engine: Any) -> None:
    alpha = ScriptedLlm(
        [fail(429, retry_after_s=7), fail(503), reply("finally", usage=USAGE)], provider="alpha"
    )
    runtime = make_runtime(sqlite_engine, {"alpha": alpha})
    with llm_context(agent="strategy"):
        result = await runtime.complete(request())
    assert result.response.content == "finally"
    assert runtime.slept[0] == 7  # type: ignore[attr-defined]
    assert len(runtime.slept) == 2  # type: ignore[attr-defined]


async def test_provider_failure_falls_back_and_releases_its_reservation(sqlite_engine: Any) -> None:
    alpha = ScriptedLlm([fail(401, message="bad key")], provider="alpha")
    beta = ScriptedLlm([reply("from beta", usage=USAGE)], provider="beta")
    runtime = make_runtime(sqlite_engine, {"alpha": alpha, "beta": beta})
    runtime.limits.set("run", "r1", "1")
    with llm_context(run_id="r1", agent="strategy"):
        result = await runtime.complete(request())
    assert result.response.content == "from beta" and result.attempts == ["alpha/big", "beta/big"]
    (status,) = runtime.budgets.status(["run:r1"])
    assert status.reserved_nanos == 0 and status.spent_nanos == int(result.cost_usd * 10**9)  # type: ignore[operator]
    rows = runtime.ledger.rows()
    assert sorted(r.status for r in rows) == ["error", "ok"]


async def test_every_candidate_failing_is_a_typed_error(sqlite_engine: Any) -> None:
    broken = [fail(400)] * 10
    runtime = make_runtime(
        sqlite_engine,
        {
            "alpha": ScriptedLlm(list(broken), provider="alpha"),
            "beta": ScriptedLlm(list(broken), provider="beta"),
        },
    )
    with llm_context(agent="strategy"), pytest.raises(NoModelAvailable):
        await runtime.complete(request())


async def test_cascade_escalates_when_the_cheap_answer_fails_validation(sqlite_engine: Any) -> None:
    config_kwargs = {"steps": {"classify": {"cascade": True}}}
    from tests.utils.llm import scripted_config

    alpha = ScriptedLlm([reply("maybe?", usage=USAGE), reply("positive", usage=USAGE)], provider="alpha")
    runtime = make_runtime(sqlite_engine, {"alpha": alpha}, config=scripted_config(**config_kwargs))
    valid = {"positive", "negative", "neutral"}
    with llm_context(agent="content_creator", step="classify"):
        result = await runtime.complete(request(), opts=CallOptions(validate=lambda r: r.content in valid))
    assert result.response.content == "positive"
    assert result.attempts == ["alpha/small", "alpha/mid"]
    assert len(runtime.ledger.rows()) == 2, "the rejected cheap attempt is still paid for and recorded"
    alpha2 = ScriptedLlm([reply("maybe?", usage=USAGE), reply("still unsure", usage=USAGE)], provider="alpha")
    runtime2 = make_runtime(sqlite_engine, {"alpha": alpha2}, config=scripted_config(**config_kwargs))
    with llm_context(agent="content_creator", step="classify"), pytest.raises(OutputValidationError):
        await runtime2.complete(request("other"), opts=CallOptions(validate=lambda r: r.content in valid))


async def test_cancelled_call_releases_its_reservation(sqlite_engine: Any) -> None:
    alpha = ScriptedLlm([reply("slow", usage=USAGE, delay_s=5)], provider="alpha")
    runtime = make_runtime(sqlite_engine, {"alpha": alpha})
    runtime.limits.set("run", "r1", "1")
    with llm_context(run_id="r1", agent="strategy"):
        task = asyncio.create_task(runtime.complete(request()))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    (status,) = runtime.budgets.status(["run:r1"])
    assert (status.reserved_nanos, status.spent_nanos) == (0, 0)


async def test_stream_settles_and_records_like_complete(sqlite_engine: Any) -> None:
    alpha = ScriptedLlm([reply("one two three", usage=USAGE)], provider="alpha")
    runtime = make_runtime(sqlite_engine, {"alpha": alpha})
    runtime.limits.set("run", "r1", "1")
    pieces: list[str] = []
    final: CallResult | None = None
    with llm_context(run_id="r1", agent="strategy"):
        async for item in runtime.stream(request()):
            if isinstance(item, CallResult):
                final = item
            else:
                pieces.append(item.content)
    assert "".join(pieces) == "one two three"
    assert final is not None and final.cost_usd == Decimal("0.0033")
    (status,) = runtime.budgets.status(["run:r1"])
    assert status.spent_nanos == 3_300_000 and status.reserved_nanos == 0


async def test_offline_model_answers_when_no_key_is_set(sqlite_engine: Any) -> None:
    runtime = make_runtime(sqlite_engine, {}, has_credentials=lambda m, p: False)
    with llm_context(agent="content_creator", step="write"):
        result = await runtime.complete(request("Write an X post about our spring sale"))
    assert result.response.offline and result.response.provider == "offline"
    assert result.cost_usd == Decimal(0) and result.response.content
    (row,) = runtime.ledger.rows()
    assert row.offline and row.cost_nanousd == 0 and row.model == "offline"


def test_model_api_error_carries_what_the_retry_layer_needs() -> None:
    err = ModelAPIError("x", provider="p", model="m", status_code=429, retryable=True, retry_after_s=2.0)
    assert err.retryable and err.retry_after_s == 2.0
    assert isinstance(ModelResponse(model="m", provider="p").usage, LlmUsage)

"""ChatBrandcrew works wherever a LangChain chat model does: tools, structured output, streaming, sync."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from pydantic import BaseModel

from brandcrew.llm.chat import ChatBrandcrew, response_text
from brandcrew.llm.context import llm_context
from brandcrew.llm.testing import ScriptedLlm, reply, tool_call
from brandcrew.llm.usage import LlmUsage
from tests.utils.llm import make_runtime

USAGE = LlmUsage(input_tokens=100, output_tokens=20, requests=1)


@tool
def schedule_post(platform: str, text: str) -> str:
    """Schedule a post on a platform."""
    return f"scheduled on {platform}"


class PostDraft(BaseModel):
    platform: str
    text: str


async def test_bound_tools_reach_the_backend_and_tool_calls_come_back(sqlite_engine: Any) -> None:
    alpha = ScriptedLlm(
        [tool_call("schedule_post", {"platform": "x", "text": "hi"}, usage=USAGE)], provider="alpha"
    )
    model = ChatBrandcrew(runtime=make_runtime(sqlite_engine, {"alpha": alpha}), agent="content_creator")
    message = await model.bind_tools([schedule_post]).ainvoke("Schedule 'hi' on X")
    assert isinstance(message, AIMessage)
    assert message.tool_calls[0]["name"] == "schedule_post"
    assert message.tool_calls[0]["args"] == {"platform": "x", "text": "hi"}
    sent = alpha.calls[0]
    assert sent.tools[0]["function"]["name"] == "schedule_post"
    assert message.response_metadata["cost_usd"] == "0.000072"  # 100 x $0.4/M + 20 x $1.6/M on alpha/mid


async def test_invalid_tool_json_becomes_an_invalid_tool_call_not_a_crash(sqlite_engine: Any) -> None:
    alpha = ScriptedLlm([tool_call("schedule_post", '{"platform": "x", "text": ')], provider="alpha")
    model = ChatBrandcrew(runtime=make_runtime(sqlite_engine, {"alpha": alpha}), agent="content_creator")
    message = await model.bind_tools([schedule_post]).ainvoke("Schedule it")
    assert message.tool_calls == [] and message.invalid_tool_calls[0]["name"] == "schedule_post"


async def test_structured_output_parses_into_the_schema(sqlite_engine: Any) -> None:
    alpha = ScriptedLlm(
        [tool_call("PostDraft", {"platform": "linkedin", "text": "Hello"}, usage=USAGE)], provider="alpha"
    )
    model = ChatBrandcrew(runtime=make_runtime(sqlite_engine, {"alpha": alpha}), agent="content_creator")
    draft = await model.with_structured_output(PostDraft).ainvoke("Draft a LinkedIn post")
    assert draft == PostDraft(platform="linkedin", text="Hello")
    assert alpha.calls[0].tool_choice == {"type": "function", "function": {"name": "PostDraft"}}


async def test_streaming_yields_tokens_then_usage_and_cost(sqlite_engine: Any) -> None:
    alpha = ScriptedLlm([reply("fresh beans today", usage=USAGE)], provider="alpha")
    model = ChatBrandcrew(runtime=make_runtime(sqlite_engine, {"alpha": alpha}), agent="content_creator")
    chunks = [c async for c in model.astream([HumanMessage("Write")])]
    assert "".join(response_text(c) for c in chunks) == "fresh beans today"
    assert len(chunks) >= 4
    last = chunks[-1]
    assert last.usage_metadata is not None and last.usage_metadata["input_tokens"] == 100
    assert last.response_metadata["cost_usd"] == "0.000072"


async def test_streamed_tool_calls_assemble(sqlite_engine: Any) -> None:
    alpha = ScriptedLlm(
        [tool_call("schedule_post", {"platform": "x", "text": "hi"}, usage=USAGE)], provider="alpha"
    )
    model = ChatBrandcrew(runtime=make_runtime(sqlite_engine, {"alpha": alpha}), agent="content_creator")
    merged = None
    async for chunk in model.bind_tools([schedule_post]).astream("Schedule"):
        merged = chunk if merged is None else merged + chunk
    assert merged is not None and merged.tool_calls[0]["args"] == {"platform": "x", "text": "hi"}


def test_sync_invoke_works_inside_and_outside_an_event_loop(sqlite_engine: Any) -> None:
    alpha = ScriptedLlm([reply("ok", usage=USAGE)], provider="alpha", repeat_last=True)
    model = ChatBrandcrew(runtime=make_runtime(sqlite_engine, {"alpha": alpha}), agent="content_creator")
    assert model.invoke("a").content == "ok"

    async def inside() -> str:
        return str(model.invoke("b").content)

    assert asyncio.run(inside()) == "ok"
    assert next(c.content for c in model.stream("c", response_cache=False)) == "ok"


async def test_context_and_fields_attribute_the_ledger_row(sqlite_engine: Any) -> None:
    alpha = ScriptedLlm([reply("ok", usage=USAGE)], provider="alpha", repeat_last=True)
    runtime = make_runtime(sqlite_engine, {"alpha": alpha})
    model = ChatBrandcrew(runtime=runtime).with_context(
        agent="analytics", step="analyze", campaign_id="spring"
    )
    with llm_context(workspace_id="w7", run_id="r7"):
        message = await model.ainvoke(
            [HumanMessage("How did we do?"), AIMessage("checking"), ToolMessage("42", tool_call_id="t1")]
        )
    (row,) = runtime.ledger.rows()
    assert (row.workspace_id, row.campaign_id, row.run_id, row.agent, row.step) == (
        "w7",
        "spring",
        "r7",
        "analytics",
        "analyze",
    )
    assert Decimal(message.response_metadata["cost_usd"]) * 10**9 == row.cost_nanousd
    assert [m["role"] for m in alpha.calls[0].messages] == ["user", "assistant", "tool"]

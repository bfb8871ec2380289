"""The supervisor has none of the failures users report against supervisor frameworks."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from langchain_core.messages import ToolMessage
from langgraph.types import Command
from sqlmodel import Session, select

from brandcrew.llm.messages import ModelRequest, ModelResponse, ToolCall
from brandcrew.llm.testing import ScriptedLlm, Step, reply, tool_call
from brandcrew.llm.usage import LlmUsage
from brandcrew.store.tables import OutboxEntry

USAGE = LlmUsage(input_tokens=50, output_tokens=10, requests=1)


def final(out: dict[str, Any]) -> Any:
    return out["messages"][-1]


def calls_of(llm: ScriptedLlm, agent: str) -> list[ModelRequest]:
    return [c for c in llm.calls if c.metadata.get("agent") == agent]


async def test_clear_request_goes_straight_to_the_agent_with_the_task_and_its_answer_is_forwarded(
    make_team: Any,
) -> None:
    team = make_team(
        [reply("Autumn is here: our Guji espresso blend, roasted this week. #NorthwindCoffee", usage=USAGE)]
    )
    request = "Write an X post about our autumn espresso blend"
    out = await team.graph.ainvoke({"messages": [("user", request)]}, team.config())
    (call,) = team.llm.calls
    assert call.metadata["agent"] == "content_creator", "no supervisor LLM call for a clear request"
    assert request in json.dumps(call.messages), "the handoff carries the task, not an empty transfer"
    assert (
        final(out).content == "Autumn is here: our Guji espresso blend, roasted this week. #NorthwindCoffee"
    )
    assert final(out).response_metadata["agents"] == ["content_creator"]


async def test_supervisor_must_delegate_and_forwards_the_worker_answer_not_a_paraphrase(
    make_team: Any,
) -> None:
    team = make_team(
        [
            tool_call("ask_analytics", {"task": "Summarise last week's results with numbers"}),
            reply("Impressions 18,400 (+12%); engagement rate 3.1%.", usage=USAGE),
            reply("Here is a summary of what analytics said.", usage=USAGE),
        ],
        router=False,
    )
    out = await team.graph.ainvoke({"messages": [("user", "how are we doing?")]}, team.config())
    first = team.llm.calls[0]
    assert first.metadata["agent"] == "supervisor"
    assert first.tool_choice == "required", "the triage model is not allowed to answer by itself"
    assert {t["function"]["name"] for t in first.tools} >= {
        "ask_analytics",
        "ask_strategy",
        "ask_content_creator",
    }
    assert final(out).content == "Impressions 18,400 (+12%); engagement rate 3.1%."
    supervisor_round_two = team.llm.calls[2]
    assert any(
        m.get("role") == "tool" and "18,400" in str(m.get("content")) for m in supervisor_round_two.messages
    )


class TimedLlm(ScriptedLlm):
    """Answers as each agent after a delay, recording when each call ran."""

    def __init__(self, first: list[Step]) -> None:
        super().__init__(first, provider="alpha")
        self.spans: dict[str, tuple[float, float]] = {}

    async def complete(self, request: ModelRequest) -> ModelResponse:
        agent = request.metadata.get("agent", "")
        if self.steps:
            return await super().complete(request)
        start = time.monotonic()
        await asyncio.sleep(0.3)
        self.spans[agent] = (start, time.monotonic())
        self.calls.append(request)
        return ModelResponse(
            model=request.model, provider="alpha", content=f"answer from {agent}", usage=USAGE
        )


async def test_independent_sub_tasks_run_in_parallel(make_team: Any) -> None:
    both = Step(
        response=ModelResponse(
            model="",
            provider="",
            usage=USAGE,
            finish_reason="tool_calls",
            tool_calls=[
                ToolCall(id="c1", name="ask_analytics", arguments={"task": "last week's numbers"}),
                ToolCall(id="c2", name="ask_trend_detection", arguments={"task": "rising hashtags"}),
            ],
        )
    )
    llm = TimedLlm([both])
    team = make_team([], router=False, llm=llm)
    out = await team.graph.ainvoke({"messages": [("user", "numbers and trends please")]}, team.config())
    (a_start, a_end), (t_start, t_end) = llm.spans["analytics"], llm.spans["trend_detection"]
    assert a_start < t_end and t_start < a_end, "the two agents' model calls overlapped in time"
    assert (
        "answer from analytics" in final(out).content and "answer from trend_detection" in final(out).content
    )


async def test_follow_up_turn_is_routed_fresh_not_snapped_back(make_team: Any) -> None:
    team = make_team(
        [
            reply("Plan: three posts a week on X, two on LinkedIn.", usage=USAGE),
            reply("Drafted the first X post.", usage=USAGE),
        ]
    )
    config = team.config("thread-7")
    await team.graph.ainvoke(
        {"messages": [("user", "Plan our posting calendar and cadence for next month")]}, config
    )
    out = await team.graph.ainvoke({"messages": [("user", "Now write the first X post caption")]}, config)
    assert [c.metadata["agent"] for c in team.llm.calls] == ["strategy", "content_creator"]
    assert final(out).response_metadata["agents"] == ["content_creator"]
    assert len(out["messages"]) == 4, "both turns are kept in the thread"


async def test_bad_tool_arguments_go_back_to_the_model_and_it_recovers(make_team: Any) -> None:
    team = make_team(
        [
            tool_call("validate_post", {"platform": "x"}),
            tool_call("validate_post", {"platform": "x", "text": "Fresh Guji beans are in."}),
            reply("The draft fits X.", usage=USAGE),
        ]
    )
    out = await team.graph.ainvoke(
        {"messages": [("user", "Write a short X post caption about fresh beans")]}, team.config()
    )
    second = team.llm.calls[1].messages
    error = next(m for m in second if m.get("role") == "tool")
    assert "text" in error["content"] and "Field required" in error["content"]
    assert final(out).content == "The draft fits X."


async def test_approval_interrupt_inside_a_sub_agent_pauses_and_resumes(make_team: Any) -> None:
    def schedule_from_draft(request: ModelRequest) -> ModelResponse:
        result = json.loads(next(m["content"] for m in reversed(request.messages) if m.get("role") == "tool"))
        call = ToolCall(
            id="c-sched",
            name="schedule_post",
            arguments={"post_id": result["post_id"], "at": "2030-01-01T09:00:00Z"},
        )
        return ModelResponse(
            model="", provider="", tool_calls=[call], finish_reason="tool_calls", usage=USAGE
        )

    team = make_team(
        [
            tool_call(
                "create_post_draft", {"platform": "x", "text": "Guji is back. Order fresh beans today."}
            ),
            Step(respond=schedule_from_draft),
            reply("Scheduled for 9:00 on 1 January.", usage=USAGE),
        ],
        attach={"schedule_post": ["content_creator"]},
    )
    config = team.config("approvals", allowed_scopes=frozenset({"read", "write", "publish"}))
    paused = await team.graph.ainvoke(
        {"messages": [("user", "Write an X post about Guji and schedule it")]}, config
    )
    (pending,) = paused["__interrupt__"]
    assert pending.value["tool"] == "schedule_post" and pending.value["agent"] == "content_creator"
    state = await team.graph.aget_state(config)
    assert state.next, "the run is paused, not finished"
    with Session(team.services.engine) as session:
        assert session.exec(select(OutboxEntry)).all() == [], "nothing is scheduled before approval"
    out = await team.graph.ainvoke(Command(resume={"approved": True, "reviewer": "maria"}), config)
    assert final(out).content == "Scheduled for 9:00 on 1 January."
    with Session(team.services.engine) as session:
        (entry,) = session.exec(select(OutboxEntry)).all()
    assert entry.platform == "x" and entry.status == "pending"


async def test_rejected_approval_reaches_the_model_as_a_tool_message(make_team: Any) -> None:
    team = make_team(
        [
            tool_call("create_post_draft", {"platform": "x", "text": "Guji is back."}),
            tool_call("schedule_post", {"post_id": "whatever", "at": "2030-01-01T09:00:00Z"}),
            reply("Understood, not scheduled.", usage=USAGE),
        ],
        attach={"schedule_post": ["content_creator"]},
    )
    config = team.config("reject", allowed_scopes=frozenset({"read", "write", "publish"}))
    await team.graph.ainvoke({"messages": [("user", "Write an X post and schedule it")]}, config)
    out = await team.graph.ainvoke(Command(resume={"approved": False, "reason": "wrong date"}), config)
    last_call = team.llm.calls[-1].messages
    rejection = [m for m in last_call if m.get("role") == "tool"][-1]
    assert "rejected" in rejection["content"] and "wrong date" in rejection["content"]
    assert final(out).content == "Understood, not scheduled."


async def test_sub_agent_tokens_and_tool_calls_stream_out(make_team: Any) -> None:
    team = make_team(
        [tool_call("brand_profile", {}), reply("Warm, knowledgeable and a little playful.", usage=USAGE)]
    )
    namespaces, tokens, tools = set(), [], []
    async for ns, mode, data in team.graph.astream(
        {"messages": [("user", "Write an Instagram caption in our brand tone")]},
        team.config(),
        stream_mode=["messages", "updates"],
        subgraphs=True,
    ):
        namespaces.add(ns)
        if mode == "messages":
            chunk, _meta = data
            if isinstance(chunk, ToolMessage):
                tools.append(chunk.name)
            elif getattr(chunk, "content", ""):
                tokens.append(chunk.content)
    assert any(ns and ns[0].startswith("delegate") for ns in namespaces), namespaces
    assert "brand_profile" in tools
    assert "playful" in "".join(tokens)

"""Any runnable can be an agent: a callable, a LangChain Runnable, or a crew (anything with kickoff)."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.runnables import RunnableLambda

from brandcrew.agents.crewai_agent import crew_agent, crew_runner, load_crew, runner_of
from brandcrew.agents.registry import AgentRegistry
from brandcrew.agents.routing import FastRouter
from brandcrew.agents.spec import AgentSpec
from brandcrew.errors import UserError
from brandcrew.graphs.agent import build_agent_graph, task_message
from brandcrew.graphs.supervisor import build_supervisor
from brandcrew.llm.testing import reply, tool_call
from brandcrew.tools.registry import ToolRegistry


class Output:
    """Shaped like CrewAI's CrewOutput: the answer is in `raw`."""

    def __init__(self, raw: str) -> None:
        self.raw = raw


class FakeCrew:
    """Anything with `kickoff(inputs=...)` runs as a crew."""

    def __init__(self) -> None:
        self.inputs: list[dict[str, Any]] = []

    def kickoff(self, inputs: dict[str, Any]) -> Output:
        self.inputs.append(inputs)
        return Output(f"crew did: {inputs.get('brief') or inputs.get('task')}")


async def _run(spec: AgentSpec, task: str = "Plan the launch") -> dict[str, Any]:
    graph = build_agent_graph(spec, [])
    result: dict[str, Any] = await graph.ainvoke({"messages": [task_message(task)]})
    return result


def _spec(runnable: Any) -> AgentSpec:
    return AgentSpec(name="custom", description="A custom agent.", prompt="unused", runnable=runnable)


async def test_sync_and_async_callables_and_runnables_answer_the_task() -> None:
    async def shout(task: str) -> str:
        return task.upper()

    assert (await _run(_spec(lambda task: f"done: {task}")))["answer"] == "done: Plan the launch"
    assert (await _run(_spec(shout)))["answer"] == "PLAN THE LAUNCH"
    assert (await _run(_spec(RunnableLambda(lambda t: {"steps": [t]}))))[
        "answer"
    ] == '{"steps": ["Plan the launch"]}'
    out = await _run(_spec(lambda task: Output("raw text")), "x")
    assert out["answer"] == "raw text" and out["messages"][-1].name == "custom"


async def test_a_crew_agent_gets_the_task_under_its_input_name() -> None:
    crew = FakeCrew()
    spec = crew_agent(
        "launch_crew", "Plans launches with a crew.", crew, inputs_key="brief", keywords=["launch"]
    )
    assert spec.kind == "crewai" and spec.keywords == ["launch"]
    out = await _run(spec, "Plan the Guji launch")
    assert out["answer"] == "crew did: Plan the Guji launch"
    assert crew.inputs == [{"brief": "Plan the Guji launch"}]


async def test_the_supervisor_delegates_to_a_crew_and_forwards_its_answer(agent_world: Any) -> None:
    agents = AgentRegistry()
    agents.register(AgentSpec(name="analytics", description="Reports on the numbers.", prompt="Numbers."))
    agents.register(crew_agent("launch_crew", "Plans launches with a crew.", FakeCrew()))
    world = agent_world([tool_call("ask_launch_crew", {"task": "Plan the Guji launch"}), reply("ok")])
    graph = build_supervisor(
        agents, ToolRegistry(), model=world.model, router=FastRouter(agents.all(), min_keyword_score=1e9)
    )
    out = await graph.ainvoke({"messages": [("user", "help with the launch")]}, world.config())
    assert out["messages"][-1].content == "crew did: Plan the Guji launch"
    assert out["messages"][-1].response_metadata["agents"] == ["launch_crew"]


def make_fake_crew() -> FakeCrew:
    return FakeCrew()


FAKE_CREW = FakeCrew()


def test_crews_load_from_module_paths_and_bad_ones_fail_clearly() -> None:
    assert isinstance(load_crew(f"{__name__}:make_fake_crew"), FakeCrew)
    assert load_crew(f"{__name__}:FAKE_CREW") is FAKE_CREW
    with pytest.raises(UserError, match=r"package\.module:attribute"):
        load_crew("no_colon")
    with pytest.raises(UserError, match="ModuleNotFoundError"):
        load_crew("no_such_module_xyz:crew")
    with pytest.raises(UserError, match="no kickoff"):
        crew_runner(object())
    spec = AgentSpec(name="c", description="A crew.", prompt="unused", kind="crewai")
    with pytest.raises(UserError, match="names no `crew`"):
        runner_of(spec)
    with pytest.raises(TypeError, match="Runnable or a callable"):
        build_agent_graph(_spec("not callable"), [])

"""CrewAI tools run as brandcrew tools, and a CrewAI crew runs as a brandcrew agent, all offline."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import ToolMessage
from pydantic import Field

for _key, _value in {
    "CREWAI_DISABLE_TELEMETRY": "true",
    "OTEL_SDK_DISABLED": "true",
    "CREWAI_TRACING_ENABLED": "false",
    "CREWAI_TESTING": "true",
    "CREWAI_DISABLE_VERSION_CHECK": "true",
}.items():
    os.environ.setdefault(_key, _value)

crewai = pytest.importorskip("crewai")

from crewai.llms.base_llm import BaseLLM  # noqa: E402
from crewai.tools import BaseTool as CrewTool  # noqa: E402
from crewai.tools import tool as crew_tool  # noqa: E402

from brandcrew.agents.crewai_agent import crew_agent  # noqa: E402
from brandcrew.agents.registry import AgentRegistry  # noqa: E402
from brandcrew.agents.routing import FastRouter  # noqa: E402
from brandcrew.agents.spec import AgentSpec  # noqa: E402
from brandcrew.graphs.agent import build_agent_graph, task_message  # noqa: E402
from brandcrew.graphs.supervisor import build_supervisor  # noqa: E402
from brandcrew.llm.testing import reply, tool_call  # noqa: E402
from brandcrew.tools.registry import ToolRegistry  # noqa: E402


@pytest.fixture(autouse=True)
def _crewai_files_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """CrewAI keeps task outputs and settings under the user's data dirs: keep them in tmp."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("CREWAI_STORAGE_DIR", "brandcrew-tests")


class ScriptedCrewLlm(BaseLLM):
    """A CrewAI LLM answering from a script, no network; `prompts` keeps what it was sent."""

    script: list[str] = Field(default_factory=list)
    prompts: list[str] = Field(default_factory=list)

    def call(
        self,
        messages: Any,
        tools: Any = None,
        callbacks: Any = None,
        available_functions: Any = None,
        from_task: Any = None,
        from_agent: Any = None,
        response_model: Any = None,
    ) -> str:
        self.prompts.append(messages if isinstance(messages, str) else str(messages[-1]["content"]))
        if not self.script:
            raise AssertionError("the crew asked its LLM more often than scripted")
        return self.script.pop(0)

    def supports_function_calling(self) -> bool:
        return False


class WordCount(CrewTool):
    name: str = "word_count"
    description: str = "Count the words of a text."

    def _run(self, text: str) -> str:
        return str(len(text.split()))


@crew_tool("shorten_link")
def shorten_link(url: str) -> str:
    """Shorten a link for a social post."""
    return "https://brc.rw/" + url.rsplit("/", 1)[-1]


async def test_crewai_tools_are_registered_and_called_by_an_agent(agent_world: Any) -> None:
    registry = ToolRegistry()
    registry.register_all([WordCount(), shorten_link], agents=["promoter"])
    assert registry.names() == ["word_count", "shorten_link"]
    assert await registry.get("word_count").ainvoke({"text": "fresh beans are in"}) == "4"
    spec = AgentSpec(
        name="promoter", description="Writes short posts with tracked links.", prompt="You promote things."
    )
    world = agent_world(
        [
            tool_call("word_count", {"text": "Tasting this Saturday"}),
            tool_call("shorten_link", {"url": "https://northwind.example/tasting"}),
            reply("Tasting this Saturday https://brc.rw/tasting"),
        ]
    )
    graph = build_agent_graph(spec, registry.for_agent(spec), model=world.model)

    out = await graph.ainvoke({"messages": [task_message("Promote the tasting")]}, world.config())

    results = {m.name: m.content for m in out["messages"] if isinstance(m, ToolMessage)}
    assert results == {"word_count": "3", "shorten_link": "https://brc.rw/tasting"}
    assert any(m.get("role") == "tool" and m.get("content") == "3" for m in world.llm.calls[1].messages)
    assert out["answer"] == "Tasting this Saturday https://brc.rw/tasting"


def make_crew(llm: ScriptedCrewLlm) -> Any:
    """A one-agent crew with a tool, whose task takes the supervisor's task text."""
    writer = crewai.Agent(
        role="Launch writer",
        goal="Write launch copy that fits the word budget",
        backstory="You write launch posts.",
        llm=llm,
        tools=[WordCount()],
        allow_delegation=False,
    )
    task = crewai.Task(description="{task}", expected_output="the launch post", agent=writer)
    return crewai.Crew(agents=[writer], tasks=[task])


CREW_SCRIPT = [
    'Thought: check the length\nAction: word_count\nAction Input: {"text": "Guji is back"}',
    "Thought: I now know the final answer\nFinal Answer: Guji is back (3 words).",
]


async def test_a_crew_registered_as_an_agent_is_delegated_to_by_the_supervisor(agent_world: Any) -> None:
    crew_llm = ScriptedCrewLlm(model="scripted-crew", script=list(CREW_SCRIPT), prompts=[])
    agents = AgentRegistry()
    agents.register(
        AgentSpec(name="analytics", description="Reports on the numbers.", prompt="You report numbers.")
    )
    agents.register(crew_agent("launch_crew", "Writes launch posts with a CrewAI crew.", make_crew(crew_llm)))
    world = agent_world(
        [
            tool_call("ask_launch_crew", {"task": "Write the Guji launch post, under 5 words"}),
            reply("Forwarding the crew's post."),
        ]
    )
    graph = build_supervisor(
        agents,
        ToolRegistry(),
        model=world.model,
        router=FastRouter(agents.all(), min_keyword_score=1e9),  # always the supervisor model
    )

    out = await graph.ainvoke({"messages": [("user", "launch post please")]}, world.config())

    final = out["messages"][-1]
    assert final.content == "Guji is back (3 words)."
    assert final.response_metadata["agents"] == ["launch_crew"]
    assert "Write the Guji launch post, under 5 words" in crew_llm.prompts[0], "the crew got the task"
    assert crew_llm.prompts[1:] and not crew_llm.script, "the crew used its tool, then answered"
    round_two = world.llm.calls[1].messages
    assert any(m.get("role") == "tool" and "Guji is back" in str(m.get("content")) for m in round_two)


CREW_YAML = """\
name: yaml_crew
description: A crew named in a YAML agent file.
prompt: Not used; the crew has its own prompts.
kind: crewai
crew: tests.tools.test_crewai:yaml_crew
"""
YAML_LLM = ScriptedCrewLlm(model="scripted-yaml-crew", script=[], prompts=[])


def yaml_crew() -> Any:
    return make_crew(YAML_LLM)


async def test_a_yaml_agent_of_kind_crewai_runs_the_crew_it_names(tmp_path: Path, agent_world: Any) -> None:
    (tmp_path / "yaml_crew.yaml").write_text(CREW_YAML)
    spec = AgentSpec.from_file(tmp_path / "yaml_crew.yaml")
    YAML_LLM.script[:] = list(CREW_SCRIPT)
    graph = build_agent_graph(spec, [])

    out = await graph.ainvoke(
        {"messages": [task_message("Write the Guji launch post")]}, agent_world([]).config()
    )

    assert out["answer"] == "Guji is back (3 words)."
    assert "Write the Guji launch post" in YAML_LLM.prompts[-2]

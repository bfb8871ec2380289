"""An agent that is not brandcrew's model-and-tools loop: any runnable or callable on the task text."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.runnables import Runnable, RunnableConfig
from langgraph.graph import END, START, StateGraph

from brandcrew.agents.spec import AgentSpec
from brandcrew.graphs.agent import AgentState
from brandcrew.llm.chat import response_text
from brandcrew.tools.decorator import to_text


def answer_text(result: Any) -> str:
    """What a runner returned, as the agent's answer (a CrewAI CrewOutput gives its `raw` text)."""
    if isinstance(result, str):
        return result
    if isinstance(result, BaseMessage):
        return response_text(result)
    raw = getattr(result, "raw", None)
    if isinstance(raw, str):
        return raw
    return to_text(result)


async def run_runner(runner: Any, task: str, config: RunnableConfig | None = None) -> str:
    """Run `runner` on the task text: Runnables with `ainvoke`, sync callables in a worker thread."""
    if isinstance(runner, Runnable):
        return answer_text(await runner.ainvoke(task, config))
    if inspect.iscoroutinefunction(runner):
        return answer_text(await runner(task))
    result = await asyncio.to_thread(runner, task)  # an object with an async __call__ gives a coroutine
    if inspect.isawaitable(result):
        result = await result
    return answer_text(result)


def build_runnable_graph(spec: AgentSpec, runner: Any) -> Any:
    """A one-node graph with the same input and output as a ReAct agent's (messages in, answer out)."""
    if not (isinstance(runner, Runnable) or callable(runner)):
        raise TypeError(f"agent {spec.name}: runnable must be a LangChain Runnable or a callable")

    async def run(state: AgentState, config: RunnableConfig) -> dict[str, Any]:
        messages = state.get("messages", [])
        task = next((response_text(m) for m in reversed(messages) if isinstance(m, HumanMessage)), "")
        answer = await run_runner(runner, task, config)
        return {"messages": [AIMessage(answer, name=spec.name)], "answer": answer, "steps": 1}

    graph = StateGraph(AgentState)
    graph.add_node("run", run)
    graph.add_edge(START, "run")
    graph.add_edge("run", END)
    return graph.compile(name=spec.name)

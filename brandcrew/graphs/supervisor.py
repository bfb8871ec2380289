"""The supervisor: routes each request to the right agents and forwards their answers.

Per user turn:
1. `route` - the fast router sends clear requests straight to one or several agents (no LLM call).
2. `supervisor` - otherwise a small model picks agents by calling `ask_<agent>(task)` tools; it must
   delegate (tool choice is required on its first round) and may run a second round after reading
   the answers.
3. `delegate` - each agent runs as a subgraph on its task payload (never an empty handoff); several
   delegations in one step run in parallel (LangGraph `Send`), dependent parts in order.
4. `finish` - the workers' answers are forwarded verbatim, not paraphrased.

Interrupts raised inside an agent (tool approvals) pause the whole graph and resume from the CLI or
the API with `Command(resume=...)`; sub-agent tokens, tool calls and costs stream out with
`subgraphs=True`.
"""

from __future__ import annotations

import operator
from dataclasses import replace
from typing import Annotated, Any, Literal, TypedDict

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import StructuredTool
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.types import Command, Send
from pydantic import BaseModel, Field

from brandcrew.agents.registry import AgentRegistry
from brandcrew.agents.routing import FastRouter, RoutePlan
from brandcrew.errors import BudgetExceeded
from brandcrew.graphs.agent import build_agent_graph, task_message
from brandcrew.llm.chat import ChatBrandcrew
from brandcrew.tools.context import context_from_config, with_tool_context
from brandcrew.tools.registry import ToolRegistry

MAX_SUPERVISOR_ROUNDS = 3
_RESET = "__reset__"
_ANSWERS = "__answers__"
"""In a delegation's payload: the route reason, when this delegation alone answers the turn."""


class WorkItem(TypedDict, total=False):
    """One agent's part of the current turn."""

    agent: str
    task: str
    answer: str
    tool_call_id: str
    order: int


def merge_work(old: list[WorkItem], new: list[WorkItem] | str) -> list[WorkItem]:
    """Reducer: append work items; the string `__reset__` clears them (a new turn)."""
    if new == _RESET:
        return []
    return [*old, *new]


class SupervisorState(TypedDict, total=False):
    """The conversation and the current turn's work."""

    messages: Annotated[list[AnyMessage], add_messages]
    work: Annotated[list[WorkItem], merge_work]
    scratch: Annotated[list[AnyMessage], operator.add]
    """The supervisor model's own tool-call transcript for this turn."""
    mode: Literal["fast", "llm", "sequence"]
    plan: list[dict[str, Any]]
    step: int
    rounds: int
    active_agent: str | None
    route_reason: str
    guess: list[str]
    """The fast router's agents when it was not confident (a hint for the supervisor's model)."""


class DelegateArgs(BaseModel):
    """A task for one agent: self-contained, with everything the agent needs to know."""

    task: str = Field(description="What the agent should do, with the details from the conversation.")


def _delegate_tool(name: str, description: str) -> StructuredTool:
    def noop(task: str) -> str:  # never executed: the graph turns these calls into Sends
        return task

    return StructuredTool.from_function(
        func=noop, name=f"ask_{name}", description=description, args_schema=DelegateArgs
    )


def _last_human(state: SupervisorState) -> str:
    for message in reversed(state.get("messages", [])):
        if isinstance(message, HumanMessage):
            return message.text if hasattr(message, "text") else str(message.content)
    return ""


def _context_of(work: list[WorkItem]) -> str:
    return "\n\n".join(f"[{w['agent']}] {w.get('answer', '')}" for w in work if w.get("answer"))


def supervisor_prompt(specs: list[Any]) -> str:
    """The supervisor model's instructions: delegate everything, to the agents listed."""
    listing = "\n".join(f"- ask_{s.name}: {s.description}" for s in specs)
    return (
        "You coordinate a team of social media agents. Never answer yourself: delegate every request "
        "by calling the agent tools with a complete, self-contained task. Call several agents in "
        "one turn when the request has independent parts. Agents:\n" + listing
    )


def delegate_tools_for(specs: list[Any]) -> list[StructuredTool]:
    """One `ask_<agent>(task)` tool per agent."""
    return [_delegate_tool(s.name, s.description) for s in specs]


def default_router(agents: AgentRegistry) -> FastRouter:
    """The fast router, by meaning and words when the `ml` extra gives offline embeddings, else by words."""
    from brandcrew.agents.intent import router_embed

    return FastRouter(agents.all(), embed=router_embed())


def routing_hints(guess: list[str]) -> dict[str, Any]:
    """The fast router's best guess as `bind_tools` keywords for the supervisor's model: metadata hints,
    which local backends read (the offline model delegates to the suggested agents) and providers
    never see."""
    if not guess:
        return {}
    return {"metadata_hints": {"suggested_tools": [f"ask_{a}" for a in guess]}}


async def route_decision(
    request: str,
    *,
    router: FastRouter,
    model: ChatBrandcrew,
    specs: list[Any],
    config: RunnableConfig | None = None,
) -> tuple[list[str], str]:
    """Which agents a request goes to, as the graph decides it on a first turn, and by what."""
    plan = router.route(request)
    if plan.confident:
        return plan.agents, "fast router"
    bound = model.with_context(agent="supervisor", step="route").bind_tools(
        delegate_tools_for(specs), tool_choice="required", **routing_hints(plan.agents)
    )
    decision = await bound.ainvoke([SystemMessage(supervisor_prompt(specs)), HumanMessage(request)], config)
    agents = [c["name"].removeprefix("ask_") for c in getattr(decision, "tool_calls", [])]
    return list(dict.fromkeys(a for a in agents if any(s.name == a for s in specs))), "supervisor model"


def build_supervisor(
    agents: AgentRegistry,
    tools: ToolRegistry,
    *,
    model: ChatBrandcrew | None = None,
    router: FastRouter | None = None,
    checkpointer: Any = None,
    store: Any = None,
) -> Any:
    """Compile the supervisor graph over every registered agent."""
    model = model or ChatBrandcrew()
    router = router or default_router(agents)
    specs = [s for s in agents.all() if s.name != "supervisor"]
    subgraphs = {s.name: build_agent_graph(s, tools.for_agent(s), model=model) for s in specs}
    delegate_tools = delegate_tools_for(specs)
    system_prompt = supervisor_prompt(specs)
    supervisor_model = model.with_context(agent="supervisor", step="route")
    # Bound once (converting tool schemas per call costs): the first round must delegate.
    must_delegate = supervisor_model.bind_tools(delegate_tools, tool_choice="required")
    may_delegate = supervisor_model.bind_tools(delegate_tools, tool_choice="auto")

    async def route(state: SupervisorState, config: RunnableConfig) -> Command[Any]:
        request = _last_human(state)
        plan: RoutePlan = router.route(request)
        base: dict[str, Any] = {"work": _RESET, "rounds": 0, "step": 0, "guess": []}
        if not plan.confident:
            update = {**base, "mode": "llm", "route_reason": "supervisor model", "guess": plan.agents}
            # The supervisor's first round runs here, on the state as this update leaves it: one
            # superstep fewer than going to the `supervisor` node.
            routed: SupervisorState = {**state, **update, "work": []}  # type: ignore[typeddict-item]
            first = await supervisor(routed, config)
            # Both updates, in order (`work` is reset, then gets what the supervisor adds); a plain
            # key the supervisor writes as well (`rounds`) takes the supervisor's value.
            later: dict[str, Any] = first.update or {}
            writes = [(k, v) for k, v in update.items() if k == "work" or k not in later]
            return Command(goto=first.goto, update=[*writes, *later.items()])
        reason = f"fast router: {', '.join(plan.agents)} (p {', '.join(f'{t.agent}={t.score:.2f}' for t in plan.tasks)})"
        items = [{"agent": t.agent, "task": t.task, "order": i} for i, t in enumerate(plan.tasks)]
        if plan.sequential:
            return Command(
                goto="sequence", update={**base, "mode": "sequence", "plan": items, "route_reason": reason}
            )
        return Command(
            # A single agent's delegation writes the turn's answer itself (no `finish` superstep).
            goto=[Send("delegate", {**items[0], _ANSWERS: reason})]
            if len(items) == 1
            else [Send("delegate", item) for item in items],
            update={**base, "mode": "fast", "plan": items, "route_reason": reason},
        )

    async def supervisor(state: SupervisorState, config: RunnableConfig) -> Command[Any]:
        rounds = state.get("rounds", 0)
        scratch = list(state.get("scratch", []))
        # Answers of the delegations this model asked for come back as tool messages.
        answered = {m.tool_call_id for m in scratch if isinstance(m, ToolMessage)}
        new_results = [
            ToolMessage(content=w.get("answer", ""), tool_call_id=w["tool_call_id"], name=f"ask_{w['agent']}")
            for w in state.get("work", [])
            if w.get("tool_call_id") and w["tool_call_id"] not in answered
        ]
        scratch.extend(new_results)
        if rounds >= MAX_SUPERVISOR_ROUNDS or (rounds and not new_results):
            return _finished(state, {"scratch": new_results})
        bound = must_delegate if rounds == 0 else may_delegate
        conversation = [m for m in state.get("messages", []) if isinstance(m, HumanMessage | AIMessage)]
        try:
            decision = await bound.ainvoke(
                [SystemMessage(system_prompt), *conversation[-6:], *scratch], config
            )
        except BudgetExceeded as exc:
            text = f"Paused: the budget is exhausted ({exc.scope})."
            return _finished(state, {"work": [{"agent": "supervisor", "task": "", "answer": text}]})
        calls = [c for c in getattr(decision, "tool_calls", []) if c["name"].startswith("ask_")]
        update: dict[str, Any] = {"scratch": [*new_results, decision], "rounds": rounds + 1}
        if not calls:
            return _finished(state, update)
        sends = [
            Send(
                "delegate",
                {
                    "agent": c["name"].removeprefix("ask_"),
                    "task": str(c["args"].get("task") or _last_human(state)),
                    "tool_call_id": c["id"],
                    "order": i,
                },
            )
            for i, c in enumerate(calls)
            if c["name"].removeprefix("ask_") in subgraphs
        ]
        return Command(goto=sends, update=update) if sends else _finished(state, update)

    def _finished(state: SupervisorState, update: dict[str, Any]) -> Command[Any]:
        """The supervisor is done: what `finish` would write, written now (one superstep fewer)."""
        work = [*state.get("work", []), *update.get("work", [])]
        return Command(goto=END, update={**update, **_final(work, state.get("route_reason", ""))})

    async def delegate(item: dict[str, Any], config: RunnableConfig) -> dict[str, Any]:
        graph = subgraphs[item["agent"]]
        context = item.get("context")
        # The agent's tools see which agent called them (approvals, audit, drafts' metadata).
        ctx = context_from_config(config)
        agent_config = with_tool_context(replace(ctx, agent=item["agent"]), config)
        result = await graph.ainvoke({"messages": [task_message(item["task"], context)]}, agent_config)
        answer = result.get("answer") or (result["messages"][-1].content if result.get("messages") else "")
        done: WorkItem = {k: v for k, v in item.items() if k != _ANSWERS}  # type: ignore[assignment]
        done["answer"] = str(answer)
        if _ANSWERS in item:
            return {"work": [done], **_final([done], item[_ANSWERS])}
        return {"work": [done]}

    async def after_delegate(state: SupervisorState) -> str:  # async: no worker thread for this
        if state.get("mode") == "llm":
            return "supervisor"
        # A lone fast-routed delegation wrote the answer (see `route`).
        return END if state.get("mode") == "fast" and len(state.get("plan", [])) == 1 else "finish"

    async def sequence(state: SupervisorState, config: RunnableConfig) -> Command[Any]:
        plan, step = state.get("plan", []), state.get("step", 0)
        item = dict(plan[step])
        item["context"] = _context_of(state.get("work", []))
        done = await delegate(item, config)
        done["work"][0].pop("context", None)
        goto = "sequence" if step + 1 < len(plan) else "finish"
        return Command(goto=goto, update={**done, "step": step + 1})

    async def finish(state: SupervisorState) -> dict[str, Any]:  # async: no worker thread for this
        return _final(state.get("work", []), state.get("route_reason", ""))

    def _final(work: list[WorkItem], route_reason: str) -> dict[str, Any]:
        """The turn's answer: the workers' answers forwarded verbatim."""
        work = sorted(work, key=lambda w: w.get("order", 0))
        if len(work) == 1:
            text = work[0].get("answer", "")
        else:
            text = "\n\n".join(f"**{w['agent'].replace('_', ' ')}**\n{w.get('answer', '')}" for w in work)
        agents_used = [w["agent"] for w in work]
        message = AIMessage(
            content=text,
            name="brandcrew",
            response_metadata={"agents": agents_used, "route_reason": route_reason},
        )
        return {"messages": [message], "active_agent": agents_used[-1] if agents_used else None}

    graph = StateGraph(SupervisorState)
    graph.add_node("route", route, destinations=("supervisor", "sequence", "delegate", END))
    graph.add_node("supervisor", supervisor, destinations=("delegate", END))
    graph.add_node("delegate", delegate)  # type: ignore[arg-type]  # Send payloads, not the state
    graph.add_node("sequence", sequence, destinations=("sequence", "finish"))
    graph.add_node("finish", finish)
    graph.add_edge(START, "route")
    graph.add_conditional_edges("delegate", after_delegate, ["supervisor", "finish", END])
    graph.add_edge("finish", END)
    # The store (vector memory as a LangGraph BaseStore) is shared by every agent subgraph.
    return graph.compile(checkpointer=checkpointer, store=store, name="supervisor")

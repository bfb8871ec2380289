"""One agent as a LangGraph graph: model -> tools -> model ... until an answer, within its step limit."""

from __future__ import annotations

import threading
import time
import weakref
from typing import Annotated, Any, NamedTuple, TypedDict

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.prebuilt import ToolNode
from langgraph.store.base import BaseStore
from sqlalchemy import Engine, event, text
from sqlmodel import Session

from brandcrew.agents.spec import AgentSpec
from brandcrew.errors import BudgetExceeded
from brandcrew.llm.chat import ChatBrandcrew, response_text
from brandcrew.services.workspaces import brand_of
from brandcrew.store.tables import Workspace
from brandcrew.tools.context import ToolContext, context_from_config


class AgentState(TypedDict, total=False):
    """An agent's working memory for one task."""

    messages: Annotated[list[AnyMessage], add_messages]
    steps: int
    answer: str
    paused: str
    """Set when the run must stop (budget exhausted); the answer says why."""
    voice: dict[str, Any]
    """The brand-voice check of the answer (score, passed, reasons), when the agent runs it."""
    revised: bool


_BRAND_SOURCE = text("SELECT name, branding FROM workspaces WHERE id = :id")
_BRAND_SOURCE_SQL = "SELECT name, branding FROM workspaces WHERE id = "
_MARKS = {"qmark": "?", "format": "%s", "pyformat": "%s"}
_BRAND_CACHE_SIZE = 256
BRAND_RECHECK_S = 1.0
"""How long a workspace's brand values serve agent steps before its row is read again. A change made
through this process's ORM shows at the next step; one made by another process within this time."""


class _BrandEntry(NamedTuple):
    source: tuple[Any, Any]
    """The workspace's `name` and `branding` as read: the only inputs of its brand profile."""
    values: dict[str, Any]
    hints: dict[str, Any]
    checked: float
    """`time.monotonic()` when `source` was last read from the database."""


# Per engine (a test's or a tenant's database), then per workspace.
_brand_cache: weakref.WeakKeyDictionary[Engine, dict[str, _BrandEntry]] = weakref.WeakKeyDictionary()
_brand_lock = threading.Lock()


@event.listens_for(Workspace, "after_update")
@event.listens_for(Workspace, "after_delete")
def _forget_brand(mapper: Any, connection: Any, target: Workspace) -> None:
    """An ORM write to a workspace drops its cached brand in every engine's cache (ids are unique)."""
    with _brand_lock:
        for entries in _brand_cache.values():
            entries.pop(target.id, None)


def _brand_entry(ctx: ToolContext) -> _BrandEntry:
    """The workspace's brand values: cached, its row read again after `BRAND_RECHECK_S`, and parsed
    again only when its name or branding changed.

    The recheck interval spares most agent steps a database read (about 190 us on SQLite, measured
    in `bench.orchestration`'s rounds); the ORM listener above keeps this process's own edits exact,
    except that a step reading while such an edit is still uncommitted may keep the old values for
    up to `BRAND_RECHECK_S`.
    """
    engine = ctx.services.engine
    with _brand_lock:
        entry = _brand_cache.get(engine, {}).get(ctx.workspace_id)
    now = time.monotonic()
    if entry is not None and now - entry.checked < BRAND_RECHECK_S:
        return entry
    source = _brand_source(engine, ctx.workspace_id)
    if entry is not None and source is not None and entry.source == source:
        entry = entry._replace(checked=now)
    else:
        with Session(engine) as session:
            brand = brand_of(session, ctx.workspace_id)  # NotFound when the workspace is gone
        values = {
            "brand_name": brand.name,
            "brand_tone": brand.voice.tone,
            "brand_audience": brand.audience or "the brand's audience",
            "brand_industry": brand.industry or "its industry",
            "brand": brand,
        }
        entry = _BrandEntry(source=source or (None, None), values=values, hints=brand.as_hints(), checked=now)
        if source is None:
            return entry
    with _brand_lock:
        entries = _brand_cache.setdefault(engine, {})
        if ctx.workspace_id not in entries and len(entries) >= _BRAND_CACHE_SIZE:
            entries.pop(next(iter(entries)))
        entries[ctx.workspace_id] = entry
    return entry


def _brand_source(engine: Engine, workspace_id: str) -> tuple[Any, Any] | None:
    """The workspace's name and branding (as the driver returns them), or None when it is gone."""
    mark = _MARKS.get(engine.dialect.paramstyle)
    with engine.connect() as conn:  # a read: no write lock, nothing to commit
        if mark is None:
            row = conn.execute(_BRAND_SOURCE, {"id": workspace_id}).first()
        else:
            # One statement on the driver's cursor: no transaction to begin for a single read (the
            # pool rolls back whatever the driver began when the connection goes back).
            cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            try:
                cursor.execute(_BRAND_SOURCE_SQL + mark, (workspace_id,))
                row = cursor.fetchone()
            finally:
                cursor.close()
    return None if row is None else (row[0], row[1])


def brand_values(ctx: ToolContext) -> dict[str, Any]:
    """Values for agent prompt templates, from the workspace's brand profile."""
    return dict(_brand_entry(ctx).values)


def build_agent_graph(spec: AgentSpec, tools: list[BaseTool], *, model: ChatBrandcrew | None = None) -> Any:
    """Compile `spec` into a graph (no checkpointer: it runs as a subgraph of the supervisor or a job)."""
    if spec.runnable is not None or spec.kind == "crewai":
        from brandcrew.agents.crewai_agent import runner_of
        from brandcrew.graphs._runnable import build_runnable_graph

        return build_runnable_graph(spec, runner_of(spec))
    base = (model or ChatBrandcrew()).with_context(agent=spec.name, step=spec.step)
    with_tools = base.bind_tools(tools) if tools else base  # bound once, not per step

    async def call_model(state: AgentState, config: RunnableConfig) -> dict[str, Any]:
        ctx = context_from_config(config)
        brand = _brand_entry(ctx)
        values = dict(brand.values)
        values.pop("brand")
        steps = state.get("steps", 0)
        system = SystemMessage(spec.render_prompt(values))
        runnable = base if steps >= spec.max_steps - 1 else with_tools
        try:
            # Hints go with the call: a model copy per step would cost LangChain a serialization.
            message = await runnable.ainvoke(
                [system, *state.get("messages", [])], config, metadata_hints={"brand": brand.hints}
            )
        except BudgetExceeded as exc:
            text = f"Paused: the budget is exhausted ({exc.scope}); nothing more was spent."
            return {"messages": [AIMessage(text)], "steps": steps + 1, "answer": text, "paused": str(exc)}
        update: dict[str, Any] = {"messages": [message], "steps": steps + 1}
        if not getattr(message, "tool_calls", None):
            update["answer"] = response_text(message)
        return update

    checks_voice = "brand_voice" in spec.checks
    done = "check" if checks_voice else END

    # Edge functions are async: LangGraph runs a sync one in a worker thread on every step.
    async def after_model(state: AgentState) -> str:
        last = state["messages"][-1]
        if state.get("paused"):
            return END
        if not isinstance(last, AIMessage) or not last.tool_calls:
            return done
        return "tools"

    def check_voice(state: AgentState, config: RunnableConfig, *, store: BaseStore) -> dict[str, Any]:
        """Score the answer against the trained brand voice; ask for one revision when it fails."""
        from brandcrew.memory.brand_voice import load_brand_voice
        from brandcrew.memory.embedders import embedder_named

        ctx = context_from_config(config)
        profile = load_brand_voice(store, ctx.workspace_id) if store is not None else None
        if profile is None:
            return {"voice": {"checked": False, "reason": "no trained brand voice for this workspace"}}
        embedder = embedder_named(profile.embedder, dimension=profile.dimension)
        score = profile.score(state.get("answer", ""), embedder=embedder)
        verdict = {
            "checked": True,
            "score": round(score.score, 3),
            "passed": score.passed,
            "reasons": score.reasons,
        }
        if score.passed or state.get("revised"):
            return {"voice": verdict}
        feedback = HumanMessage(
            f"Brand voice check: {score.score:.2f}, below the brand's bar. "
            + "; ".join(score.reasons[:4])
            + ". Revise the drafts to fit the brand voice and give them again."
        )
        return {"voice": verdict, "revised": True, "messages": [feedback], "answer": ""}

    async def after_check(state: AgentState) -> str:
        return "model" if state.get("revised") and not state.get("answer") else END

    graph = StateGraph(AgentState)
    graph.add_node("model", call_model)
    if checks_voice:
        graph.add_node("check", check_voice)
        graph.add_conditional_edges("check", after_check, ["model", END])
    if tools:
        graph.add_node("tools", ToolNode(tools, handle_tool_errors=True))
        graph.add_edge("tools", "model")
        graph.add_conditional_edges("model", after_model, ["tools", done])
    elif checks_voice:
        graph.add_conditional_edges("model", after_model, [done, END])
    else:
        graph.add_edge("model", END)
    graph.add_edge(START, "model")
    return graph.compile(name=spec.name)


def task_message(task: str, context: str | None = None) -> HumanMessage:
    """The handoff an agent receives: the task, and what earlier agents found."""
    if context:
        return HumanMessage(f"{task}\n\nContext from the team so far:\n{context}")
    return HumanMessage(task)

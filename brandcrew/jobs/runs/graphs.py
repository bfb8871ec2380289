"""The graphs runs execute: the team's supervisor (`supervisor`) and each agent alone (its name).

All share the team's checkpointer and store, so a thread's state is read the same way whichever
process runs it. Thread states are turned into the SDK's `ThreadState` JSON here as well.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from langgraph.types import StateSnapshot
from sqlalchemy import Engine

from brandcrew.agents import default_agents
from brandcrew.agents.registry import AgentRegistry
from brandcrew.graphs.agent import build_agent_graph
from brandcrew.graphs.checkpoints import open_checkpointer
from brandcrew.graphs.supervisor import build_supervisor, default_router
from brandcrew.graphs.team import Team
from brandcrew.jobs.runs.serde import to_jsonable
from brandcrew.llm.chat import ChatBrandcrew
from brandcrew.services.container import Services
from brandcrew.settings import Settings, get_settings
from brandcrew.tools.context import ToolContext, ToolPolicy, with_tool_context
from brandcrew.tools.registry import default_tools

SUPERVISOR = "supervisor"


@dataclass(frozen=True)
class GraphEntry:
    """One graph a run can execute."""

    graph_id: str
    graph: Any
    description: str
    agent: str | None = None
    """The agent this graph is (None: the supervisor over all of them)."""


@dataclass
class GraphCatalog:
    """The team and every runnable graph by id."""

    team: Team
    entries: dict[str, GraphEntry] = field(default_factory=dict)

    def get(self, graph_id: str) -> GraphEntry:
        """The graph `graph_id`; KeyError when there is none."""
        return self.entries[graph_id]

    def names(self) -> list[str]:
        """Every graph id, the supervisor first."""
        return list(self.entries)

    def config(
        self,
        entry: GraphEntry,
        *,
        workspace_id: str,
        thread_id: str,
        run_id: str | None = None,
        policy: ToolPolicy | None = None,
        base: dict[str, Any] | None = None,
    ) -> Any:
        """The config of a run of `entry` on a thread: the caller's config plus brandcrew's tool context."""
        ctx = ToolContext(
            services=self.team.services,
            workspace_id=workspace_id,
            run_id=run_id or thread_id,
            thread_id=thread_id,
            agent=entry.agent,
            policy=policy or ToolPolicy(),
        )
        merged = dict(base or {})
        configurable = {**dict(merged.get("configurable") or {}), "thread_id": thread_id}
        merged["configurable"] = configurable
        return with_tool_context(ctx, merged)  # type: ignore[arg-type]


_routers: dict[tuple[Any, ...], Any] = {}
_routers_lock = threading.Lock()


def _router(agents: AgentRegistry) -> Any:
    """The fast router for these agents, fitted once per process (fitting it takes seconds)."""
    key = tuple(
        (s.name, s.description, repr(getattr(s, "examples", None)), repr(getattr(s, "ask_examples", None)))
        for s in agents.all()
    )
    with _routers_lock:
        router = _routers.get(key)
        if router is None:
            router = _routers[key] = default_router(agents)
            router.warm()  # part of the server's warm-up: the first run should not wait for the encoders
        return router


@asynccontextmanager
async def open_catalog(
    settings: Settings | None = None, *, engine: Engine | None = None
) -> AsyncIterator[GraphCatalog]:
    """The team's graphs (as `open_team` builds them) on the configured checkpointer and store."""
    settings = settings or get_settings()
    services = Services.from_settings(settings, **({"engine": engine} if engine is not None else {}))
    from brandcrew.memory.defaults import open_store

    store = open_store(settings)
    agents = default_agents(settings.configs_dir)
    tools = default_tools(settings.configs_dir)
    model = ChatBrandcrew()
    router = await asyncio.to_thread(_router, agents)
    async with open_checkpointer(settings) as saver:
        supervisor = build_supervisor(
            agents, tools, model=model, router=router, checkpointer=saver, store=store
        )
        catalog = GraphCatalog(Team(supervisor, services, settings))
        catalog.entries[SUPERVISOR] = GraphEntry(
            SUPERVISOR,
            supervisor,
            "The team: routes each request to the right agents and forwards their answers.",
        )
        for spec in agents.all():
            if spec.name == SUPERVISOR:
                continue
            graph = build_agent_graph(spec, tools.for_agent(spec), model=model)
            graph = graph.copy(update={"checkpointer": saver, "store": store})
            catalog.entries[spec.name] = GraphEntry(spec.name, graph, spec.description, agent=spec.name)
        yield catalog


def checkpoint_json(config: Any) -> dict[str, Any] | None:
    """A checkpoint reference (`thread_id`, `checkpoint_ns`, `checkpoint_id`, `checkpoint_map`)."""
    if not config:
        return None
    configurable = dict(config.get("configurable") or {})
    if "checkpoint_id" not in configurable:
        return None
    return {
        "thread_id": configurable.get("thread_id"),
        "checkpoint_ns": configurable.get("checkpoint_ns", ""),
        "checkpoint_id": configurable.get("checkpoint_id"),
        "checkpoint_map": to_jsonable(configurable.get("checkpoint_map")),
    }


def interrupts_json(interrupts: Any) -> list[dict[str, Any]]:
    """Interrupts as `{value, id}`."""
    return [to_jsonable(i) for i in interrupts or ()]


def state_json(snapshot: StateSnapshot, *, thread_id: str) -> dict[str, Any]:
    """A LangGraph state snapshot as the SDK's `ThreadState`."""
    checkpoint = checkpoint_json(snapshot.config) or {
        "thread_id": thread_id,
        "checkpoint_ns": "",
        "checkpoint_id": None,
        "checkpoint_map": None,
    }
    tasks = []
    for task in snapshot.tasks:
        sub = task.state
        tasks.append(
            {
                "id": task.id,
                "name": task.name,
                "path": to_jsonable(task.path),
                "error": None if task.error is None else repr(task.error),
                "interrupts": interrupts_json(task.interrupts),
                "checkpoint": checkpoint_json(sub) if isinstance(sub, dict) else None,
                "state": state_json(sub, thread_id=thread_id) if isinstance(sub, StateSnapshot) else None,
                "result": to_jsonable(task.result),
            }
        )
    return {
        "values": to_jsonable(snapshot.values),
        "next": list(snapshot.next),
        "tasks": tasks,
        "checkpoint": checkpoint,
        "metadata": to_jsonable(snapshot.metadata or {}),
        "created_at": snapshot.created_at,
        "parent_checkpoint": checkpoint_json(snapshot.parent_config),
        "interrupts": interrupts_json(snapshot.interrupts),
    }


def pending_interrupts(snapshot: StateSnapshot) -> dict[str, list[dict[str, Any]]]:
    """The snapshot's pending interrupts by task id (the Thread's `interrupts`)."""
    return {task.id: interrupts_json(task.interrupts) for task in snapshot.tasks if task.interrupts}

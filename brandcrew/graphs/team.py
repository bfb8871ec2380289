"""The ready-to-use team: supervisor, agents and tools on the configured stores.

Checkpoints go to SQLite (`checkpoints.sqlite` in the data dir) by default, PostgreSQL when
`DATABASE_URL` points there; long-term memory (a LangGraph `BaseStore` over vector memory) is shared
by every agent.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from brandcrew.agents import default_agents
from brandcrew.graphs.checkpoints import open_checkpointer
from brandcrew.graphs.supervisor import build_supervisor, default_router
from brandcrew.llm.chat import ChatBrandcrew
from brandcrew.services.container import Services
from brandcrew.settings import Settings, get_settings
from brandcrew.tools.context import ToolContext, ToolPolicy, with_tool_context
from brandcrew.tools.registry import default_tools


@dataclass
class Team:
    """A compiled supervisor graph and what runs need to call it."""

    graph: Any
    services: Services
    settings: Settings

    def config(
        self,
        *,
        workspace_id: str,
        thread_id: str,
        run_id: str | None = None,
        policy: ToolPolicy | None = None,
    ) -> Any:
        """The config of one run on a thread (tool context included)."""
        ctx = ToolContext(
            services=self.services,
            workspace_id=workspace_id,
            run_id=run_id or thread_id,
            thread_id=thread_id,
            policy=policy or ToolPolicy(),
        )
        return with_tool_context(ctx, {"configurable": {"thread_id": thread_id}})


@asynccontextmanager
async def open_team(
    settings: Settings | None = None, *, with_memory: bool = True, warm: bool = False
) -> AsyncIterator[Team]:
    """The team on the configured checkpointer and store; closes them on exit. With `warm`, the fast
    router's encoders load in the background meanwhile (a person typing a first message)."""
    settings = settings or get_settings()
    services = Services.from_settings(settings)
    store = None
    if with_memory:
        from brandcrew.memory.defaults import open_store

        store = open_store(settings)
    agents = default_agents(settings.configs_dir)
    tools = default_tools(settings.configs_dir)
    router = default_router(agents)
    if warm:
        threading.Thread(target=router.warm, name="router-warm").start()
    async with open_checkpointer(settings) as saver:
        yield Team(
            build_supervisor(
                agents, tools, model=ChatBrandcrew(), router=router, checkpointer=saver, store=store
            ),
            services,
            settings,
        )

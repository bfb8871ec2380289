"""A supervisor over the real agents and tools, on a sandbox world, with scripted models."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.memory import InMemoryStore
from sqlmodel import Session

from brandcrew.agents import default_agents
from brandcrew.agents.routing import FastRouter
from brandcrew.graphs.supervisor import build_supervisor
from brandcrew.llm.chat import ChatBrandcrew
from brandcrew.llm.testing import ScriptedLlm, Step
from brandcrew.services.brand import load_brand_profile
from brandcrew.services.container import Services
from brandcrew.services.media import MediaStore
from brandcrew.services.workspaces import connect_sandbox_world, ensure_workspace
from brandcrew.settings import Settings, get_settings
from brandcrew.tools.context import ToolContext, ToolPolicy, with_tool_context
from brandcrew.tools.registry import default_tools
from tests.utils.domain import TEST_CIPHER
from tests.utils.llm import make_runtime


@dataclass
class Team:
    graph: Any
    llm: ScriptedLlm
    services: Services
    ctx: ToolContext
    world: Any

    def config(self, thread: str = "t1", **policy: Any) -> Any:
        ctx = (
            self.ctx
            if not policy
            else ToolContext(
                services=self.services,
                workspace_id=self.ctx.workspace_id,
                run_id=self.ctx.run_id,
                policy=ToolPolicy(**policy),
            )
        )
        return with_tool_context(ctx, {"configurable": {"thread_id": thread}})


@pytest.fixture
def make_team(sqlite_engine: Any, tmp_path: Any) -> Callable[..., Team]:
    from brandcrew.connectors.sandbox import SandboxWorld
    from brandcrew.services.accounts import default_accounts_service

    def build(
        steps: list[Step],
        *,
        repeat_last: bool = False,
        store: Any = None,
        router: bool = True,
        attach: dict[str, list[str]] | None = None,
        llm: ScriptedLlm | None = None,
        offline: bool = False,
    ) -> Team:
        configs = get_settings().configs_dir
        profile = load_brand_profile(configs / "workspaces" / "demo.yaml")
        world = SandboxWorld.create(sqlite_engine, seed=5, brand=profile.name, platforms=("x", "linkedin"))
        accounts = default_accounts_service(sqlite_engine, TEST_CIPHER)
        with Session(sqlite_engine) as session:
            ensure_workspace(session, profile)
            connect_sandbox_world(session, accounts, workspace_id=profile.workspace_id, world=world)
            session.commit()
        services = Services(
            engine=sqlite_engine,
            accounts=accounts,
            media=MediaStore(tmp_path / "media"),
            settings=Settings(),
            clock=world.now,
        )
        llm = llm or ScriptedLlm(list(steps), provider="alpha", repeat_last=repeat_last)
        runtime = (
            make_runtime(sqlite_engine, {}, has_credentials=lambda m, p: False)
            if offline
            else make_runtime(sqlite_engine, {"alpha": llm})
        )
        agents = default_agents(configs)
        tools = default_tools(configs)
        for tool_name, agent_names in (attach or {}).items():
            tools.register(tools.get(tool_name), agents=agent_names)
        never_sure = FastRouter(agents.all(), min_keyword_score=1e9)  # always defer to the supervisor model
        graph = build_supervisor(
            agents,
            tools,
            model=ChatBrandcrew(runtime=runtime, response_cache=False),
            router=FastRouter(agents.all()) if router else never_sure,
            checkpointer=InMemorySaver(),
            store=store if store is not None else InMemoryStore(),
        )
        ctx = ToolContext(services=services, workspace_id=profile.workspace_id, run_id="run-1")
        return Team(graph=graph, llm=llm, services=services, ctx=ctx, world=world)

    return build

"""A fixture for agent tests: a workspace with a brand, services, and a model on a scripted backend."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from langchain_core.runnables import RunnableConfig
from sqlmodel import Session

from brandcrew.llm.chat import ChatBrandcrew
from brandcrew.llm.testing import ScriptedLlm, Step
from brandcrew.services.accounts import default_accounts_service
from brandcrew.services.brand import load_brand_profile
from brandcrew.services.container import Services
from brandcrew.services.media import MediaStore
from brandcrew.services.workspaces import ensure_workspace
from brandcrew.settings import Settings, get_settings
from brandcrew.tools.context import ToolContext, with_tool_context
from tests.utils.domain import TEST_CIPHER
from tests.utils.llm import make_runtime


@dataclass
class AgentWorld:
    """What running an agent graph needs: a model on a scripted backend and a run config."""

    llm: ScriptedLlm
    model: ChatBrandcrew
    ctx: ToolContext

    def config(self) -> RunnableConfig:
        return with_tool_context(self.ctx)


@pytest.fixture
def agent_world(sqlite_engine: Any, tmp_path: Any) -> Callable[[list[Step]], AgentWorld]:
    """Build an AgentWorld whose model answers with `steps`."""
    profile = load_brand_profile(get_settings().configs_dir / "workspaces" / "demo.yaml")
    with Session(sqlite_engine) as session:
        ensure_workspace(session, profile)
        session.commit()
    services = Services(
        engine=sqlite_engine,
        accounts=default_accounts_service(sqlite_engine, TEST_CIPHER),
        media=MediaStore(tmp_path / "media"),
        settings=Settings(),
    )

    def build(steps: list[Step]) -> AgentWorld:
        llm = ScriptedLlm(list(steps), provider="alpha")
        runtime = make_runtime(sqlite_engine, {"alpha": llm})
        model = ChatBrandcrew(runtime=runtime, response_cache=False)
        ctx = ToolContext(services=services, workspace_id=profile.workspace_id, run_id="run-1")
        return AgentWorld(llm=llm, model=model, ctx=ctx)

    return build

"""A new agent is one YAML file and a new tool one Python file; the supervisor uses both unchanged."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from brandcrew.agents import default_agents
from brandcrew.agents.routing import FastRouter
from brandcrew.errors import ConfigError, UserError
from brandcrew.settings import get_settings
from brandcrew.tools.registry import default_tools

README = Path(__file__).resolve().parents[2] / "README.md"


def _snippet(language: str, marker: str) -> str:
    text = README.read_text()
    start = text.index(f"```{language}\n{marker}")
    body = text[start + len(language) + 4 : text.index("```", start + 3)]
    return body


@pytest.fixture
def configs(tmp_path: Path) -> Path:
    folder = tmp_path / "configs"
    shutil.copytree(get_settings().configs_dir, folder)
    (folder / "agents" / "event_promoter.yaml").write_text(
        _snippet("yaml", "# configs/agents/event_promoter.yaml")
    )
    (folder / "tools").mkdir(exist_ok=True)
    (folder / "tools" / "weather.py").write_text(_snippet("python", "# configs/tools/weather.py"))
    return folder


def test_readme_examples_are_short_enough() -> None:
    assert len(_snippet("yaml", "# configs/agents/event_promoter.yaml").strip().splitlines()) <= 15
    assert len(_snippet("python", "# configs/tools/weather.py").strip().splitlines()) <= 15


def test_new_agent_and_tool_files_are_picked_up_and_routed_to(configs: Path) -> None:
    agents = default_agents(configs)
    tools = default_tools(configs)
    promoter = agents.get("event_promoter")
    assert [t.name for t in tools.for_agent(promoter)] == [
        "brand_profile",
        "validate_post",
        "create_post_draft",
    ]
    assert "local_weather" in [t.name for t in tools.for_agent(agents.get("content_creator"))]
    plan = FastRouter(agents.all()).route(
        "Promote the Saturday tasting workshop with a countdown and an RSVP push"
    )
    assert plan.confident and plan.agents == ["event_promoter"]


async def test_new_tool_runs_with_its_context(configs: Any) -> None:
    from brandcrew.services.container import Services
    from brandcrew.tools.context import ToolContext, with_tool_context

    tool = default_tools(configs).get("local_weather")
    ctx = ToolContext(services=Services.from_settings(), workspace_id="w")
    assert '"city": "Lisbon"' in await tool.ainvoke({"city": "Lisbon"}, config=with_tool_context(ctx))


def test_broken_files_fail_clearly(tmp_path: Path) -> None:
    (tmp_path / "agents").mkdir()
    (tmp_path / "agents" / "bad.yaml").write_text("name: Bad Name\ndescription: short\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml"):
        default_agents(tmp_path)
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "oops.py").write_text("raise RuntimeError('typo')\n")
    with pytest.raises(UserError, match=r"oops\.py"):
        default_tools(tmp_path)

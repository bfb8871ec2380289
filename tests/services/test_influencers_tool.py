"""The strategy agent's `find_influencers` tool: ranked creators from the brand's mentions, marked as
outside data, with the warnings that lowered a score."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlmodel import Session

from brandcrew.agents import default_agents
from brandcrew.services.accounts import default_accounts_service
from brandcrew.services.container import Services
from brandcrew.services.media import MediaStore
from brandcrew.services.workspaces import ensure_workspace
from brandcrew.settings import Settings, get_settings
from brandcrew.tools.context import ToolContext, with_tool_context
from brandcrew.tools.decorator import UNTRUSTED_CLOSE, UNTRUSTED_OPEN
from brandcrew.tools.registry import default_tools
from tests.utils.domain import TEST_CIPHER
from tests.utils.influencers import EMBEDDER, coffee_brand, constructed_authors, store
from tests.utils.listening import T0


def _ctx(sqlite_engine: Any, tmp_path: Path) -> ToolContext:
    with Session(sqlite_engine) as session:
        ensure_workspace(session, coffee_brand("northwind"))
        store(session, "northwind", constructed_authors(T0))
        session.commit()
    services = Services(
        engine=sqlite_engine,
        accounts=default_accounts_service(sqlite_engine, TEST_CIPHER),
        media=MediaStore(tmp_path / "media"),
        settings=Settings(),
        extras={"embedder": EMBEDDER},
    )
    return ToolContext(services=services, workspace_id="northwind", run_id="run-1")


def _payload(text: str) -> list[dict[str, Any]]:
    assert text.startswith(UNTRUSTED_OPEN) and UNTRUSTED_CLOSE in text, text[:200]
    inside = text[len(UNTRUSTED_OPEN) : text.index(UNTRUSTED_CLOSE)]
    return list(json.loads(inside))


async def test_find_influencers_ranks_and_warns_as_untrusted_data(sqlite_engine: Any, tmp_path: Path) -> None:
    tool = default_tools().get("find_influencers")
    assert tool.untrusted_output and tool.effect == "read"
    config = with_tool_context(_ctx(sqlite_engine, tmp_path))
    rows = _payload(await tool.ainvoke({"min_followers": 1000, "limit": 5}, config=config))
    assert [r["username"] for r in rows] == ["brewnerd", "growfast", "megastar"] or rows[0][
        "username"
    ] == "brewnerd"
    bought = next(r for r in rows if r["username"] == "growfast")
    assert {w["signal"] for w in bought["warnings"]} == {
        "follower_jump",
        "low_engagement_for_size",
        "engagement_concentration",
    }
    assert all(w["value"] is not None and w["threshold"] for w in bought["warnings"])
    assert next(r for r in rows if r["username"] == "brewnerd")["warnings"] == []

    big_only = _payload(await tool.ainvoke({"min_followers": 1_000_000}, config=config))
    assert [r["username"] for r in big_only] == ["megastar"]
    on_crypto = _payload(await tool.ainvoke({"topic": "crypto and football", "limit": 1}, config=config))
    assert [r["username"] for r in on_crypto] == ["megastar"]
    refused = await tool.ainvoke({"limit": 500}, config=config)
    assert "limit" in refused and UNTRUSTED_OPEN not in refused


def test_strategy_agent_has_the_tool() -> None:
    strategy = default_agents(get_settings().configs_dir).get("strategy")
    assert "find_influencers" in [t.name for t in default_tools().for_agent(strategy)]

"""Each of the eight agents does its job end to end on the offline model, over the sandbox."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, select

from brandcrew.llm.ledger import flush_pending
from brandcrew.store.tables import LlmCall

REQUESTS = {
    "content_creator": "Write an X post about our autumn Guji beans",
    "strategy": "Plan our posting calendar and cadence for the launch next month",
    "engagement": "Draft replies to the open DMs in the inbox",
    "analytics": "Show me the reach, impressions and engagement of last week's posts",
    "trend_detection": "Which hashtags are trending and rising around coffee this week?",
    "competitor_analysis": "Benchmark us against our competitors and their posts",
    "crisis_management": "There's a backlash over late deliveries, draft a holding statement",
    "sentiment_analysis": "How do people feel about us, positive or negative?",
}


@pytest.mark.parametrize("agent", list(REQUESTS))
async def test_agent_answers_on_the_offline_model(make_team: Any, agent: str) -> None:
    team = make_team([], offline=True)
    out = await team.graph.ainvoke({"messages": [("user", REQUESTS[agent])]}, team.config(f"offline-{agent}"))
    answer = out["messages"][-1]
    assert answer.response_metadata["agents"] == [agent]
    assert len(str(answer.content)) > 20, answer.content
    flush_pending()  # the ledger is written behind: the barrier before reading it
    with Session(team.services.engine) as session:
        calls = session.exec(select(LlmCall)).all()
    assert calls and all(c.offline and c.model == "offline" and c.cost_nanousd == 0 for c in calls)
    assert {c.agent for c in calls} == {agent}

"""The official langgraph-sdk client drives brandcrew's runs API end to end over HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from langgraph_sdk import get_client

from tests.server.runs_helpers import DRAFT_REQUEST, connect_sandbox, posts_of, user_message
from tests.utils.server import Account


@pytest.fixture(autouse=True)
def _no_rate_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    from brandcrew.settings import get_settings

    monkeypatch.setenv("BRANDCREW_RATE_LIMIT_SCALE", "0")
    get_settings.cache_clear()


APPROVE_DRAFTS = {"configurable": {"require_approval_for": ["write"]}}
"""Drafts wait for a person too (by default only publishing, replies, deletions and spend do)."""


async def test_sdk_streams_a_run_pauses_for_approval_resumes_and_reads_the_state(
    app: Any, live_server: str, owner: Account
) -> None:
    connect_sandbox(app, owner.workspace_id)
    client = get_client(url=live_server, api_key=owner.api_key)
    thread = await client.threads.create(metadata={"topic": "guji"})
    tid = thread["thread_id"]
    created: list[Any] = []

    parts = [
        p
        async for p in client.runs.stream(
            tid,
            "supervisor",
            input=user_message(DRAFT_REQUEST),
            stream_mode=["values", "updates", "custom"],
            config=APPROVE_DRAFTS,
            on_run_created=created.append,
        )
    ]
    assert parts[0].event == "metadata" and parts[0].data["attempt"] == 1
    run_id = parts[0].data["run_id"]
    assert created[0]["run_id"] == run_id and created[0]["thread_id"] == tid
    assert parts[-1].event == "end"
    assert all(p.id for p in parts), "every event has an id"
    assert [int(p.id) for p in parts] == sorted(int(p.id) for p in parts)
    events = {p.event for p in parts}
    assert {"values", "updates", "custom"} <= events
    assert not any("|" in e for e in events), "no subgraph events unless asked"
    first_values = next(p for p in parts if p.event == "values")
    human = first_values.data["messages"][0]
    assert human["type"] == "human" and human["content"] == DRAFT_REQUEST and human["id"]

    paused = [p for p in parts if p.event == "values"][-1].data
    (pending,) = paused["__interrupt__"]
    assert pending["value"]["type"] == "tool_approval"
    assert pending["value"]["tool"] == "create_post_draft" and pending["value"]["agent"] == "content_creator"
    usage = next(p for p in parts if p.event == "custom").data
    assert usage["type"] == "run_usage" and usage["agents"] == ["content_creator"]

    assert (await client.threads.get(tid))["status"] == "interrupted"
    state = await client.threads.get_state(tid)
    assert state["next"] and state["interrupts"][0]["id"] == pending["id"]
    assert state["tasks"][0]["interrupts"][0]["value"]["tool"] == "create_post_draft"
    assert posts_of(app, owner.workspace_id) == [], "nothing is drafted before approval"
    run = await client.runs.get(tid, run_id)
    assert run["status"] == "interrupted"

    resumed = [
        p
        async for p in client.runs.stream(
            tid,
            "supervisor",
            command={"resume": {"approved": True, "reviewer": "ada"}},
            stream_mode="values",
            config=APPROVE_DRAFTS,
        )
    ]
    assert resumed[0].event == "metadata" and resumed[-1].event == "end"
    final = resumed[-2].data
    assert "__interrupt__" not in final
    answer = final["messages"][-1]
    assert answer["type"] == "ai" and answer["content"]

    state = await client.threads.get_state(tid)
    assert state["interrupts"] == [] and state["next"] == []
    assert state["values"]["messages"][-1]["content"] == answer["content"]
    thread = await client.threads.get(tid)
    assert thread["status"] == "idle" and thread["interrupts"] == {}
    assert thread["values"]["messages"][-1]["content"] == answer["content"]
    (post,) = posts_of(app, owner.workspace_id)
    assert post.status == "pending_approval" and post.ai_generated

    second = resumed[0].data["run_id"]
    done = await client.runs.get(tid, second)
    assert done["status"] == "success"
    assert done["metadata"]["usage"]["agents"] == ["content_creator"]
    assert done["metadata"]["usage"]["models"] == ["offline"]
    assert done["metadata"]["usage"]["cost_usd"] == "0"
    listed = await client.runs.list(tid)
    assert [r["run_id"] for r in listed] == [second, run_id]
    history = await client.threads.get_history(tid, limit=3)
    assert (
        len(history) == 3
        and history[0]["checkpoint"]["checkpoint_id"] == state["checkpoint"]["checkpoint_id"]
    )


async def test_sdk_assistants_by_graph_name_and_wait(app: Any, live_server: str, owner: Account) -> None:
    client = get_client(url=live_server, api_key=owner.api_key)
    found = await client.assistants.search(limit=100)
    graphs = {a["graph_id"] for a in found}
    assert {"supervisor", "strategy", "content_creator"} <= graphs
    supervisor = await client.assistants.get("supervisor")
    assert supervisor["graph_id"] == "supervisor"
    assert (await client.assistants.get(supervisor["assistant_id"]))["graph_id"] == "supervisor"
    mine = await client.assistants.create(graph_id="strategy", name="Planner", metadata={"team": "growth"})
    assert [a["assistant_id"] for a in await client.assistants.search(metadata={"team": "growth"})] == [
        mine["assistant_id"]
    ]

    thread = await client.threads.create()
    values = await client.runs.wait(
        thread["thread_id"],
        mine["assistant_id"],
        input=user_message("Plan our posting cadence for next month"),
    )
    assert values["messages"][-1]["type"] == "ai" and values["messages"][-1]["content"]
    stateless = await client.runs.wait(None, "strategy", input=user_message("What cadence suits LinkedIn?"))
    assert stateless["messages"][-1]["content"]

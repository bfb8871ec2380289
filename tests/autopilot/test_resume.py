"""A cycle killed after a node's writes were saved but before the step's checkpoint carries on."""

from __future__ import annotations

from typing import Any, TypedDict
from unittest.mock import MagicMock

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph

from brandcrew.jobs.autopilot import _Driver


class _State(TypedDict, total=False):
    cycle: int
    tuning: Any
    drafts: list[str]
    scheduled: list[str]


class _Crash(BaseException):
    """Stands in for SIGKILL: nothing after it runs, nothing catches it."""


class _CrashingSaver(InMemorySaver):
    """Saves a step's writes, then dies before the next checkpoint once `armed` is set."""

    armed = False

    async def aput(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
        if self.armed and metadata.get("step", 0) >= 1:
            self.armed = False
            raise _Crash
        return await super().aput(config, checkpoint, metadata, new_versions)


async def test_saved_writes_without_a_checkpoint_are_applied_and_the_cycle_finishes() -> None:
    ran: list[str] = []

    def create(state: _State) -> dict[str, Any]:
        ran.append("create")
        return {"drafts": ["a", "b"]}

    def schedule(state: _State) -> dict[str, Any]:
        ran.append("schedule")
        return {"scheduled": list(state["drafts"])}

    graph = StateGraph(_State)
    graph.add_node("create", create)
    graph.add_node("schedule", schedule)
    graph.add_edge(START, "create")
    graph.add_edge("create", "schedule")
    graph.add_edge("schedule", END)
    saver = _CrashingSaver()
    compiled = graph.compile(checkpointer=saver)
    driver = _Driver(
        spec=MagicMock(), campaign_id="c1", workspace_id="w1", services=MagicMock(), graph=compiled
    )

    saver.armed = True
    with pytest.raises(_Crash):
        await driver.run_cycle(0)
    snapshot = await compiled.aget_state(driver.config(0))
    # The state LangGraph reports after such a crash: `create` finished (its writes are saved), so
    # `next` is empty although `schedule` never ran.
    assert ran == ["create"] and snapshot.next == () and snapshot.tasks

    outcome = await driver.run_cycle(0)
    assert ran == ["create", "schedule"]  # `create` is not run again, `schedule` runs
    assert outcome["scheduled"] == 2 and not outcome["waiting"]
    assert (await compiled.aget_state(driver.config(0))).tasks == ()

"""CrewAI crews as brandcrew agents: the supervisor routes to a crew like to any other agent.

```python
from brandcrew.agents.crewai_agent import crew_agent

agents.register(crew_agent("launch_crew", "Plans a product launch with a research crew.", crew))
```

The crew's tasks take the supervisor's task text through `{task}` in their descriptions (or
another input name, `inputs_key`). CrewAI is imported by nobody here: any object with a
`kickoff(inputs=...)` works, so brandcrew stays importable without the `crewai` extra. A YAML agent
can name a crew too (`kind: crewai`, `crew: package.module:attribute`).
"""

from __future__ import annotations

import asyncio
import importlib
import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from brandcrew.agents.spec import AgentSpec
from brandcrew.errors import UserError
from brandcrew.llm.messages import Tier


def crew_runner(crew: Any, *, inputs_key: str = "task") -> Callable[[str], Awaitable[str]]:
    """An async callable running `crew.kickoff(inputs={inputs_key: task})` in a worker thread.

    One kickoff at a time per crew: a Crew object holds the state of the run it is doing.
    """
    if not callable(getattr(crew, "kickoff", None)):
        raise UserError(f"{type(crew).__name__} is not a CrewAI crew (it has no kickoff method)")
    lock = threading.Lock()

    def kickoff(task: str) -> Any:
        with lock:
            return crew.kickoff(inputs={inputs_key: task})

    async def run(task: str) -> str:
        from brandcrew.graphs._runnable import answer_text

        return answer_text(await asyncio.to_thread(kickoff, task))

    return run


def crew_agent(
    name: str,
    description: str,
    crew: Any,
    *,
    inputs_key: str = "task",
    keywords: Sequence[str] = (),
    examples: Sequence[str] = (),
    tier: Tier = "balanced",
) -> AgentSpec:
    """An agent spec that runs `crew` on the task it is given, for `AgentRegistry.register`."""
    return AgentSpec(
        name=name,
        description=description,
        prompt=f"A CrewAI crew. {description}",
        kind="crewai",
        runnable=crew_runner(crew, inputs_key=inputs_key),
        keywords=list(keywords),
        examples=list(examples),
        tier=tier,
        source=f"crewai:{type(crew).__name__}",
    )


def load_crew(path: str) -> Any:
    """The crew at `package.module:attribute` (a Crew, or a function returning one)."""
    module_name, _, attribute = path.partition(":")
    if not module_name or not attribute:
        raise UserError(f"crew {path!r}: expected `package.module:attribute`")
    try:
        value = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise UserError(f"crew {path!r}: {type(exc).__name__}: {exc}") from exc
    return value if callable(getattr(value, "kickoff", None)) else value()


def runner_of(spec: AgentSpec) -> Any:
    """What runs an agent that is not a ReAct loop: its `runnable`, or the crew its YAML names."""
    if spec.runnable is not None:
        return spec.runnable
    if not spec.crew:
        raise UserError(f"agent {spec.name} ({spec.source}) is kind crewai but names no `crew`")
    return crew_runner(load_crew(spec.crew), inputs_key=str(spec.extra.get("inputs_key", "task")))

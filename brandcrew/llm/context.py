"""Who a model call is for: workspace, campaign, run, agent and step, carried in a context variable."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from pydantic import BaseModel, ConfigDict

from brandcrew.llm.messages import StepKind, Tier


class LlmContext(BaseModel):
    """Attribution and routing facts for the calls made inside it."""

    model_config = ConfigDict(frozen=True)

    workspace_id: str = "default"
    campaign_id: str | None = None
    run_id: str | None = None
    agent: str | None = None
    step: StepKind | None = None
    tier: Tier | None = None
    """Pins a tier for the calls inside, overriding the agent's default."""


# The default is frozen (immutable), so sharing one instance is safe.
_current: ContextVar[LlmContext] = ContextVar("brandcrew_llm_context", default=LlmContext())  # noqa: B039


def current_context() -> LlmContext:
    """The context of the calling task (LangGraph and asyncio copy it into sub-tasks)."""
    return _current.get()


@contextmanager
def llm_context(**fields: Any) -> Iterator[LlmContext]:
    """Run a block with some context fields replaced, e.g. `with llm_context(run_id=r, agent="strategy")`."""
    ctx = _current.get().model_copy(update=fields)
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)

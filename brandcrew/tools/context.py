"""What a tool knows about the run it serves: workspace, run, agent, services and the run's policy."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from langchain_core.runnables import RunnableConfig

from brandcrew.errors import UserError
from brandcrew.services.container import Services

Scope = Literal["read", "write", "publish", "spend", "reply", "delete"]
Effect = Literal["read", "write"]
CONFIG_KEY = "brandcrew_tool_context"


@dataclass(kw_only=True)
class ToolPolicy:
    """What this run's tools may do. Effectful scopes need to be granted explicitly."""

    allowed_scopes: frozenset[str] = frozenset({"read", "write"})
    """`write` here means drafts and notes; publish, reply, delete and spend must be granted."""
    require_approval_for: frozenset[str] = frozenset({"publish", "reply", "delete", "spend"})
    """Scopes whose tools always pause for a person, whatever the tool says."""

    def permits(self, scopes: frozenset[str]) -> bool:
        """True when every scope of a tool is granted."""
        return scopes <= self.allowed_scopes

    def forces_approval(self, scopes: frozenset[str]) -> bool:
        """True when the policy wants a person to approve a tool with these scopes."""
        return bool(scopes & self.require_approval_for)


@dataclass(kw_only=True)
class ToolContext:
    """Handed to every brandcrew tool as its first argument (never shown to the model)."""

    services: Services
    workspace_id: str
    run_id: str | None = None
    thread_id: str | None = None
    agent: str | None = None
    policy: ToolPolicy = field(default_factory=ToolPolicy)
    tool_call_id: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    def now(self) -> datetime:
        """The run's clock (a sandbox world's, or wall time)."""
        return self.services.clock()

    def idempotency_key(self, tool: str, args: dict[str, Any]) -> str:
        """A stable key for an effectful call: same run, tool and arguments is the same effect."""
        raw = json.dumps(
            {"run": self.run_id, "ws": self.workspace_id, "tool": tool, "args": args},
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(raw.encode()).hexdigest()

    def for_call(self, tool_call_id: str | None) -> ToolContext:
        """A copy for one tool call."""
        return ToolContext(
            services=self.services,
            workspace_id=self.workspace_id,
            run_id=self.run_id,
            thread_id=self.thread_id,
            agent=self.agent,
            policy=self.policy,
            tool_call_id=tool_call_id,
            extras=self.extras,
        )


def context_from_config(config: RunnableConfig | None) -> ToolContext:
    """The ToolContext a graph put in `config["configurable"]`."""
    configurable = (config or {}).get("configurable", {})
    ctx = configurable.get(CONFIG_KEY)
    if not isinstance(ctx, ToolContext):
        raise UserError(
            "this tool needs a brandcrew ToolContext in config['configurable']['brandcrew_tool_context'] "
            "(run it inside a brandcrew agent, or pass one with with_tool_context())"
        )
    return ctx


def with_tool_context(ctx: ToolContext, config: RunnableConfig | None = None) -> RunnableConfig:
    """A config carrying `ctx`, for running brandcrew tools directly."""
    merged: dict[str, Any] = dict(config or {})
    configurable = dict(merged.get("configurable", {}))
    configurable[CONFIG_KEY] = ctx
    merged["configurable"] = configurable
    return RunnableConfig(**merged)  # type: ignore[typeddict-item]

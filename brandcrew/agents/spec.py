"""`AgentSpec`: everything that defines an agent, loadable from a small YAML file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from brandcrew._config_files import load_yaml_model
from brandcrew.llm.messages import StepKind, Tier


class AgentFile(BaseModel):
    """The YAML shape of an agent (configs/agents/<name>.yaml)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{1,40}$")
    description: str = Field(min_length=10)
    prompt: str = Field(min_length=10)
    tools: list[str] = Field(default_factory=list)
    tier: Tier = "balanced"
    step: StepKind = "write"
    keywords: list[str] = Field(default_factory=list)
    examples: list[str] = Field(default_factory=list)
    """Requests this agent should get, for the fast router (like a semantic router's utterances)."""
    ask_examples: list[str] = Field(default_factory=list)
    """Asks for this agent as one part of a longer message ("whip up three captions to match"), for the
    fast router's judging of each part of a request that names several jobs."""
    output: str | None = None
    checks: list[Literal["brand_voice"]] = Field(default_factory=list)
    """Checks the agent's answer must pass before it is proposed (revised once when it fails)."""
    max_steps: int = Field(default=6, ge=1, le=50)
    kind: Literal["react", "crewai"] = "react"
    crew: str | None = None
    """For kind crewai: `module:attribute` of a CrewAI Crew to run as this agent."""


class _KeepUnknown(dict[str, Any]):
    """Template values that leave an unknown `{placeholder}` as written."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@dataclass(kw_only=True)
class AgentSpec:
    """An agent: what the supervisor routes on, how it is prompted, its tools, tier and limits."""

    name: str
    description: str
    prompt: str
    tools: list[str] = field(default_factory=list)
    tier: Tier = "balanced"
    step: StepKind = "write"
    keywords: list[str] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)
    ask_examples: list[str] = field(default_factory=list)
    output: str | None = None
    checks: list[str] = field(default_factory=list)
    max_steps: int = 6
    kind: Literal["react", "crewai"] = "react"
    crew: str | None = None
    runnable: Any = None
    """Runs the agent instead of brandcrew's model-and-tools loop: a LangChain Runnable, or a sync
    or async callable, taking the task text and returning the answer (e.g. a CrewAI crew, see
    `brandcrew.agents.crewai_agent.crew_agent`)."""
    source: str = "python"
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_file(cls, path: Path) -> AgentSpec:
        """Load and validate one agent YAML."""
        data = load_yaml_model(path, AgentFile)
        return cls(**data.model_dump(), source=str(path))

    def render_prompt(self, values: dict[str, Any]) -> str:
        """The system prompt with {placeholders} filled (unknown ones are left as written)."""
        return self.prompt.format_map(_KeepUnknown(values))

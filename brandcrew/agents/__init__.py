"""Agents: AgentSpec, the registry, and loading of configs/agents/*.yaml."""

from brandcrew.agents.registry import AgentRegistry as AgentRegistry
from brandcrew.agents.registry import default_agents as default_agents
from brandcrew.agents.spec import AgentSpec as AgentSpec

__all__ = ("AgentRegistry", "AgentSpec", "default_agents")

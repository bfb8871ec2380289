"""Finding agents: built-in YAML in configs/agents/, any other YAML folder, entry points, Python code."""

from __future__ import annotations

import logging
from importlib.metadata import entry_points
from pathlib import Path

from brandcrew.agents.spec import AgentSpec
from brandcrew.errors import UserError

log = logging.getLogger("brandcrew.agents")
ENTRY_POINT_GROUP = "brandcrew.agents"


class AgentRegistry:
    """Agents by name. Later registrations of the same name replace earlier ones (user overrides)."""

    def __init__(self) -> None:
        self._agents: dict[str, AgentSpec] = {}

    def register(self, spec: AgentSpec) -> AgentSpec:
        """Add or replace an agent."""
        self._agents[spec.name] = spec
        return spec

    def get(self, name: str) -> AgentSpec:
        """The agent called `name`."""
        try:
            return self._agents[name]
        except KeyError:
            raise UserError(f"unknown agent {name!r}; known: {', '.join(sorted(self._agents))}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._agents

    def names(self) -> list[str]:
        """Agent names in registration order."""
        return list(self._agents)

    def all(self) -> list[AgentSpec]:
        """Every agent."""
        return list(self._agents.values())

    def load_dir(self, folder: Path) -> list[AgentSpec]:
        """Register every `*.yaml` agent in a folder (sorted by file name)."""
        loaded = [self.register(AgentSpec.from_file(path)) for path in sorted(folder.glob("*.yaml"))]
        log.debug("loaded %d agents from %s", len(loaded), folder)
        return loaded

    def load_entry_points(self) -> list[AgentSpec]:
        """Register agents that installed packages declare under the `brandcrew.agents` entry point."""
        loaded = []
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            obj = ep.load()
            specs = obj() if callable(obj) and not isinstance(obj, AgentSpec) else obj
            for spec in specs if isinstance(specs, list | tuple) else [specs]:
                if not isinstance(spec, AgentSpec):
                    raise UserError(f"entry point {ep.name} gave {type(spec).__name__}, not an AgentSpec")
                loaded.append(self.register(spec))
        return loaded


def default_agents(configs_dir: Path) -> AgentRegistry:
    """The built-in agents from `configs/agents/`, then entry-point agents."""
    registry = AgentRegistry()
    folder = configs_dir / "agents"
    if folder.is_dir():
        registry.load_dir(folder)
    registry.load_entry_points()
    return registry

"""Finding tools: built-ins, explicit registration, the `brandcrew.tools` entry point, files in
`configs/tools/`, any LangChain tool object, MCP servers, and CrewAI tools."""

from __future__ import annotations

import importlib.util
import logging
import sys
from collections.abc import Iterable, Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, cast

from langchain_core.tools import BaseTool

from brandcrew.agents.spec import AgentSpec
from brandcrew.errors import UserError
from brandcrew.tools.decorator import BrandcrewTool

log = logging.getLogger("brandcrew.tools")
ENTRY_POINT_GROUP = "brandcrew.tools"


class ToolRegistry:
    """Tools by name, and which agents each extra tool attaches to."""

    def __init__(self) -> None:
        self._tools: dict[str, BaseTool] = {}
        self._attached: dict[str, list[str]] = {}

    def register(self, tool: Any, *, agents: Sequence[str] = ()) -> BaseTool:
        """Add a LangChain tool (a brandcrew @tool, a LangChain tool, or a CrewAI tool)."""
        if not isinstance(tool, BaseTool):
            from brandcrew.tools.adapters import from_crewai

            tool = from_crewai(tool)
        self._tools[tool.name] = tool
        for agent in (*agents, *(tool.agents if isinstance(tool, BrandcrewTool) else ())):
            names = self._attached.setdefault(agent, [])
            if tool.name not in names:
                names.append(tool.name)
        return tool

    def register_all(self, tools: Iterable[Any], *, agents: Sequence[str] = ()) -> list[BaseTool]:
        """Register several tools."""
        return [self.register(t, agents=agents) for t in tools]

    def get(self, name: str) -> BaseTool:
        """The tool called `name`."""
        try:
            return self._tools[name]
        except KeyError:
            raise UserError(f"unknown tool {name!r}; known: {', '.join(sorted(self._tools))}") from None

    def names(self) -> list[str]:
        """Every tool name."""
        return list(self._tools)

    def all(self) -> list[BaseTool]:
        """Every tool."""
        return list(self._tools.values())

    def for_agent(self, spec: AgentSpec) -> list[BaseTool]:
        """The tools an agent may call: those its spec names, plus those attached to it."""
        missing = [n for n in spec.tools if n not in self._tools]
        if missing:
            raise UserError(
                f"agent {spec.name} ({spec.source}) names unknown tools {missing}; known: "
                f"{', '.join(sorted(self._tools))}"
            )
        names = list(dict.fromkeys([*spec.tools, *self._attached.get(spec.name, [])]))
        return [self._tools[n] for n in names]

    def load_modules(self, modules: Iterable[Any]) -> list[BaseTool]:
        """Register every tool object defined at the top level of the given modules."""
        found = []
        for module in modules:
            for value in vars(module).values():
                if isinstance(value, BaseTool):
                    found.append(self.register(value))
        return found

    def load_builtins(self) -> list[BaseTool]:
        """Register brandcrew's own tools."""
        from brandcrew.tools.builtin import MODULES

        return self.load_modules(MODULES)

    def load_dir(self, folder: Path) -> list[BaseTool]:
        """Import each `*.py` in a folder (a user's tool files) and register the tools it defines."""
        modules = []
        for path in sorted(folder.glob("*.py")):
            if path.name.startswith("_"):
                continue
            name = f"brandcrew_user_tools.{path.stem}"
            spec = importlib.util.spec_from_file_location(name, path)
            if spec is None or spec.loader is None:
                continue
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            try:
                spec.loader.exec_module(module)
            except Exception as exc:
                raise UserError(f"{path}: could not load tool file: {type(exc).__name__}: {exc}") from exc
            modules.append(module)
        return self.load_modules(modules)

    def load_entry_points(self) -> list[BaseTool]:
        """Register tools that installed packages declare under the `brandcrew.tools` entry point."""
        found = []
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            obj = ep.load()
            items = obj() if callable(obj) and not isinstance(obj, BaseTool) else obj
            found.extend(self.register_all(items if isinstance(items, list | tuple) else [items]))
        return found

    async def load_mcp(
        self, servers: dict[str, dict[str, Any]], *, agents: Sequence[str] = ()
    ) -> list[BaseTool]:
        """Register the tools of MCP servers (stdio or streamable HTTP), via langchain-mcp-adapters."""
        try:
            from langchain_mcp_adapters.client import MultiServerMCPClient
        except ImportError as exc:  # pragma: no cover - depends on the installed extras
            raise UserError("MCP tools need `pip install brandcrew[mcp]` (langchain-mcp-adapters)") from exc
        client = MultiServerMCPClient(cast(Any, servers))  # each a typed connection dict
        tools = await client.get_tools()
        return self.register_all(tools, agents=agents)


def default_tools(configs_dir: Path | None = None) -> ToolRegistry:
    """Built-in tools, entry-point tools, and the user's `configs/tools/*.py`."""
    registry = ToolRegistry()
    registry.load_builtins()
    registry.load_entry_points()
    if configs_dir is not None and (configs_dir / "tools").is_dir():
        registry.load_dir(configs_dir / "tools")
    return registry

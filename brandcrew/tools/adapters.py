"""Adapters from other ecosystems' tools to LangChain tools (the protocol brandcrew runs on)."""

from __future__ import annotations

from typing import Any

from langchain_core.tools import BaseTool, StructuredTool

from brandcrew.errors import UserError


def from_crewai(tool: Any) -> BaseTool:
    """Wrap a CrewAI tool (crewai.tools.BaseTool) as a LangChain StructuredTool."""
    name = getattr(tool, "name", None)
    run = getattr(tool, "run", None) or getattr(tool, "_run", None)
    if not name or run is None:
        raise UserError(
            f"cannot use {type(tool).__name__} as a tool: it is neither a LangChain nor a CrewAI tool"
        )
    args_schema = getattr(tool, "args_schema", None)

    def call(**kwargs: Any) -> str:
        return str(run(**kwargs))

    return StructuredTool.from_function(
        func=call,
        name=str(name).replace(" ", "_"),
        description=str(getattr(tool, "description", "") or name),
        args_schema=args_schema,
        handle_tool_error=True,
    )

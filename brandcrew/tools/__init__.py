"""Tools: the `@tool` decorator, the context tools receive, and the registry."""

from brandcrew.tools.context import ToolContext as ToolContext
from brandcrew.tools.context import ToolPolicy as ToolPolicy
from brandcrew.tools.decorator import BrandcrewTool as BrandcrewTool
from brandcrew.tools.decorator import tool as tool
from brandcrew.tools.errors import ToolRetry as ToolRetry

__all__ = ("BrandcrewTool", "ToolContext", "ToolPolicy", "ToolRetry", "tool")

"""Runs of the runs API: graphs, the event log and the background executor."""

from brandcrew.jobs.runs.bus import END, RunEventBus, StreamEvent
from brandcrew.jobs.runs.executor import ExecutorOptions, RunExecutor
from brandcrew.jobs.runs.graphs import SUPERVISOR, GraphCatalog, open_catalog
from brandcrew.jobs.runs.manager import RunManager, open_run_manager

__all__ = (
    "END",
    "SUPERVISOR",
    "ExecutorOptions",
    "GraphCatalog",
    "RunEventBus",
    "RunExecutor",
    "RunManager",
    "StreamEvent",
    "open_catalog",
    "open_run_manager",
)

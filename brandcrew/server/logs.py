"""Process logging for the server: JSON lines (with request ids) or plain text."""

from __future__ import annotations

import atexit
import logging
import logging.handlers
import queue
import sys

from brandcrew.server.middleware import JsonLogFormatter


def configure_logging(*, json_lines: bool = True, level: int = logging.INFO) -> None:
    """Send brandcrew's and uvicorn's logs to stderr, one JSON object per line when `json_lines`."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonLogFormatter()
        if json_lines
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    # Requests only enqueue their records; a thread formats and writes them, off the event loop.
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    listener = logging.handlers.QueueListener(records, handler)
    listener.start()
    atexit.register(stop_listener, listener)  # flushes what is queued
    root = logging.getLogger()
    for old in root.handlers:
        if isinstance(old, logging.handlers.QueueHandler) and hasattr(old, "listener"):
            stop_listener(old.listener)
    queued = logging.handlers.QueueHandler(records)
    queued.listener = listener  # type: ignore[attr-defined]
    root.handlers[:] = [queued]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


def stop_listener(listener: logging.handlers.QueueListener) -> None:
    """Write out what is queued and stop the writer thread (once; later calls do nothing)."""
    if getattr(listener, "_thread", None) is not None:
        listener.stop()

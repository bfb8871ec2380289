"""Process logging for the server: JSON lines (with request ids) or plain text."""

from __future__ import annotations

import logging
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
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True

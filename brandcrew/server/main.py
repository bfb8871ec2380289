"""The ASGI app for `uvicorn brandcrew.server.main:app` (what `brandcrew serve` runs)."""

from __future__ import annotations

import os

from brandcrew.server.app import create_app
from brandcrew.server.logs import configure_logging

# Each uvicorn worker process imports this module afresh (spawned, not forked): log as `serve` said.
if os.environ.get("BRANDCREW_LOG_FORMAT"):
    configure_logging(json_lines=os.environ["BRANDCREW_LOG_FORMAT"] == "json")

app = create_app(warm=True)

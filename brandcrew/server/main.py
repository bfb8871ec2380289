"""The ASGI app for `uvicorn brandcrew.server.main:app` (what `brandcrew serve` runs)."""

from __future__ import annotations

from brandcrew.server.app import create_app

app = create_app(warm=True)

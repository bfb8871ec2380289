"""Assembles the server's routers."""

from __future__ import annotations

from fastapi import APIRouter

from brandcrew.server.routes import auth, commerce, ops

api_router = APIRouter()
api_router.include_router(ops.router)
api_router.include_router(auth.router)
api_router.include_router(auth.team_router)
api_router.include_router(commerce.router)

"""Assembles the server's routers."""

from __future__ import annotations

from fastapi import APIRouter

from brandcrew.server.routes import assistants, auth, ops, runs, threads, web

api_router = APIRouter()
api_router.include_router(ops.router)
api_router.include_router(auth.router)
api_router.include_router(auth.team_router)
# The runs API at the root paths langgraph-sdk calls.
api_router.include_router(assistants.router)
api_router.include_router(threads.router)
api_router.include_router(runs.router)
api_router.include_router(web.router)

"""Assembles the server's routers."""

from __future__ import annotations

from fastapi import APIRouter

from brandcrew.server.routes import approvals, auth, inbox, listening, ops

api_router = APIRouter()
api_router.include_router(ops.router)
api_router.include_router(auth.router)
api_router.include_router(auth.team_router)
api_router.include_router(listening.router)
api_router.include_router(inbox.router)
api_router.include_router(approvals.router)
api_router.include_router(approvals.workflows_router)

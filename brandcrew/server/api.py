"""Assembles the server's routers."""

from __future__ import annotations

from fastapi import APIRouter

from brandcrew.server.routes import (
    accounts,
    ai,
    analytics,
    approvals,
    assistants,
    audit,
    auth,
    campaigns,
    channels,
    commerce,
    costs,
    inbox,
    influencers,
    listening,
    openai,
    ops,
    posts,
    runs,
    threads,
    web,
)

api_router = APIRouter()
api_router.include_router(ops.router)
api_router.include_router(auth.router)
api_router.include_router(auth.team_router)
# The REST API of the seed.
api_router.include_router(posts.router)
api_router.include_router(campaigns.router)
api_router.include_router(analytics.router)
api_router.include_router(ai.router)
api_router.include_router(costs.router)
api_router.include_router(audit.router)
api_router.include_router(accounts.router)
api_router.include_router(accounts.workspace_router)
api_router.include_router(listening.router)
api_router.include_router(channels.router)
api_router.include_router(inbox.router)
api_router.include_router(approvals.router)
api_router.include_router(approvals.workflows_router)
api_router.include_router(influencers.router)
api_router.include_router(commerce.router)
# The runs API at the root paths langgraph-sdk calls.
api_router.include_router(assistants.router)
api_router.include_router(threads.router)
api_router.include_router(runs.router)
# OpenAI-compatible chat with the agents.
api_router.include_router(openai.router)
# The web page for marketers (outside the OpenAPI document).
api_router.include_router(web.router)

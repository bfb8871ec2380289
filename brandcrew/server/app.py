"""Builds the FastAPI app: services, auth, rate limits, metrics, error format, routers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

import brandcrew
from brandcrew.server.api import api_router
from brandcrew.server.errors import install_error_handlers
from brandcrew.server.metrics import ServerMetrics
from brandcrew.server.middleware import RequestContextMiddleware
from brandcrew.server.ratelimit import MemoryRateLimitStore, RateLimiter, RateLimitRules, RedisRateLimitStore
from brandcrew.server.tokens import TokenSigner, load_secret
from brandcrew.server.tracing import configure_tracing
from brandcrew.services.container import Services
from brandcrew.settings import Settings, get_settings

log = logging.getLogger("brandcrew.server")


def _redis_client(settings: Settings) -> Any:
    if not settings.redis_url:
        return None
    import redis

    return redis.Redis.from_url(settings.redis_url)


def _freeze_heap() -> None:
    """Move everything alive after start-up (modules, graphs, models) out of the garbage collector's
    view: a full collection then walks only what requests allocate, not a heap of millions of
    start-up objects, which otherwise stalls every request for a good part of a second now and then."""
    import gc

    gc.collect()
    gc.freeze()


def create_app(
    settings: Settings | None = None, *, services: Services | None = None, warm: bool = False
) -> FastAPI:
    """The brandcrew server on the given (or process) settings; `warm` opens the graphs (and fits the
    fast router) at start-up instead of on the first run, and /ready says "warming" until then."""
    settings = settings or get_settings()
    services = services or Services.from_settings(settings)
    redis_client = _redis_client(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        import anyio.to_thread

        from brandcrew.jobs.runs import open_run_manager

        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.server_threads

        async with open_run_manager(
            settings, engine=services.engine, embedded=settings.runs_executor
        ) as runs:
            app.state.runs = runs
            app.state.warming = (
                asyncio.create_task(runs.graphs()) if warm and settings.runs_executor else None
            )
            if app.state.warming is not None:  # the served app: freeze once its graphs are open
                app.state.warming.add_done_callback(lambda _task: _freeze_heap())
            yield
            if app.state.warming is not None and not app.state.warming.done():
                app.state.warming.cancel()
        if redis_client is not None:
            redis_client.close()

    app = FastAPI(
        title="brandcrew",
        version=brandcrew.__version__,
        description=(
            "Runs API (langgraph-sdk compatible), OpenAI-compatible chat with brandcrew's agents, and the "
            "social media management REST API. Errors use one envelope: "
            "`{error: {code, message, details, timestamp, requestId}}`."
        ),
        lifespan=lifespan,
    )
    store = RedisRateLimitStore(redis_client) if redis_client is not None else MemoryRateLimitStore()
    app.state.settings = settings
    app.state.services = services
    app.state.redis = redis_client
    app.state.signer = TokenSigner(load_secret(settings.data_dir, settings.jwt_secret))
    app.state.limiter = RateLimiter(store, RateLimitRules(scale=settings.rate_limit_scale))
    app.state.metrics = ServerMetrics(services.engine)
    app.state.api_key_cache = {}
    app.state.warming = None
    install_error_handlers(app)
    app.include_router(api_router)
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics)
    configure_tracing(app)
    return app

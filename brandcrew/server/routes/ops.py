"""Operations: liveness, readiness (database, Redis when configured) and Prometheus metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

import brandcrew
from brandcrew.server.errors import error_body, request_id_of

router = APIRouter(tags=["operations"])


@router.get("/health")
async def health() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok", "version": brandcrew.__version__}


def _check_database(request: Request) -> None:
    with request.app.state.services.engine.connect() as conn:
        conn.execute(text("SELECT 1"))


@router.get("/ready", responses={503: {"description": "a dependency is down"}})
async def ready(request: Request) -> Any:
    """The database (and Redis, when configured) answer; 503 in the seed's error format otherwise."""
    checks: dict[str, str] = {}
    try:
        await run_in_threadpool(_check_database, request)
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    redis = request.app.state.redis
    if redis is not None:
        try:
            await run_in_threadpool(redis.ping)
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
    warming = getattr(request.app.state, "warming", None)
    if warming is not None:
        if not warming.done():
            checks["graphs"] = "warming"
        elif warming.cancelled() or warming.exception() is not None:
            checks["graphs"] = "error: could not open the graphs"
        else:
            checks["graphs"] = "ok"
    if all(v == "ok" for v in checks.values()):
        return {"status": "ready", "checks": checks}
    body = error_body("SERVICE_UNAVAILABLE", "not ready", checks, request_id_of(request))
    return JSONResponse(body, status_code=503)


@router.get("/metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    """Prometheus text exposition."""
    data = await run_in_threadpool(generate_latest, request.app.state.metrics.registry)
    return Response(data, media_type=CONTENT_TYPE_LATEST)

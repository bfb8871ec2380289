"""The seed's error envelope for every failure: `{"error": {code, message, details, timestamp, requestId}}`."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from brandcrew.errors import BudgetExceeded, ConfigError, UserError
from brandcrew.services.errors import ServiceError

log = logging.getLogger("brandcrew.server")

_STATUS_CODES = {
    400: "INVALID_INPUT",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "INVALID_INPUT",
    406: "INVALID_INPUT",
    409: "CONFLICT",
    413: "INVALID_INPUT",
    415: "INVALID_INPUT",
    422: "VALIDATION_ERROR",
    429: "RATE_LIMIT_EXCEEDED",
    503: "SERVICE_UNAVAILABLE",
}


class ApiError(Exception):
    """An error answered in the seed's format; `code` is one of the seed's error codes."""

    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers


def request_id_of(request: Request) -> str:
    """The id the request-id middleware gave this request."""
    return str(request.scope.get("state", {}).get("request_id") or request.headers.get("x-request-id", ""))


def error_body(code: str, message: str, details: Any, request_id: str) -> dict[str, Any]:
    """The seed's error response body."""
    return {
        "error": {
            "code": code,
            "message": message,
            "details": details,
            "timestamp": datetime.now(UTC).isoformat(),
            "requestId": request_id,
        }
    }


def _respond(
    request: Request,
    status: int,
    code: str,
    message: str,
    details: Any,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    rid = request_id_of(request)
    out_headers = {"x-request-id": rid, **(headers or {})}
    return JSONResponse(error_body(code, message, details, rid), status_code=status, headers=out_headers)


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        out.append(
            {
                "field": ".".join(str(p) for p in err.get("loc", ()) if p != "body"),
                "message": str(err.get("msg", "")),
                "type": str(err.get("type", "")),
            }
        )
    return out


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error (ours, FastAPI's, the services', unexpected ones) in the seed's format."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _respond(request, exc.status_code, exc.code, exc.message, exc.details, exc.headers)

    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> JSONResponse:
        return _respond(request, exc.status_code, exc.code, str(exc), exc.details)

    @app.exception_handler(BudgetExceeded)
    async def _budget(request: Request, exc: BudgetExceeded) -> JSONResponse:
        details = {
            "scope": exc.scope,
            "limitUsd": str(exc.limit_usd),
            "committedUsd": str(exc.committed_usd),
            "requestedUsd": str(exc.requested_usd),
        }
        return _respond(request, 402, "QUOTA_EXCEEDED", str(exc), details)

    @app.exception_handler(ConfigError)
    @app.exception_handler(UserError)
    async def _user_error(request: Request, exc: UserError) -> JSONResponse:
        return _respond(request, 422, "INVALID_INPUT", str(exc), None)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = _validation_details(exc)
        missing = any(d["type"] == "missing" for d in details)
        code = "MISSING_REQUIRED_FIELD" if missing else "VALIDATION_ERROR"
        return _respond(request, 422, code, "the request is not valid", details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(
            exc.status_code, "INTERNAL_ERROR" if exc.status_code >= 500 else "INVALID_INPUT"
        )
        headers = dict(exc.headers or {})
        return _respond(request, exc.status_code, code, str(exc.detail), None, headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _respond(request, 500, "INTERNAL_ERROR", "internal error", None)

"""Dependencies of the routes: the database session, the services, the caller and their permissions."""

from __future__ import annotations

import functools
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from brandcrew.server.errors import ApiError
from brandcrew.server.permissions import permissions_of
from brandcrew.server.ratelimit import Decision, RateLimiter
from brandcrew.server.tokens import TokenError, TokenSigner
from brandcrew.services import users
from brandcrew.services.container import Services
from brandcrew.store.engine import is_sqlite
from brandcrew.store.tables import User, as_utc, utcnow

_KEY_CACHE_S = 10.0
"""How long a checked API key is trusted without a database read (revocation takes effect within it)."""


@dataclass(frozen=True, kw_only=True)
class Principal:
    """Who is calling: a user (by token) or an API key acting for its user, inside one workspace."""

    user_id: str | None
    workspace_id: str
    role: str
    permissions: frozenset[str]
    api_key_id: str | None = None

    @property
    def actor(self) -> str:
        """The key rate limits and audit rows use for this caller."""
        return f"key:{self.api_key_id}" if self.api_key_id else f"user:{self.user_id}"

    def can(self, permission: str) -> bool:
        """True when the caller holds `permission`."""
        return permission in self.permissions


def get_services(request: Request) -> Services:
    """The app's services."""
    services: Services = request.app.state.services
    return services


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A database session for one request; on SQLite, writes take the write lock up front (so a read
    that turns into a write never fails on a lock upgrade) and GETs read without a transaction.

    Async, so opening it costs no thread hop (a Session connects only when the route first uses it,
    in the route's own thread); closing it hands the connection back, off the loop where that is
    network I/O.
    """
    engine = request.app.state.services.engine
    sqlite = is_sqlite(engine)
    if sqlite and request.method in ("GET", "HEAD"):
        # Reads outside a transaction: no BEGIN and ROLLBACK round trip per request (a fifth of a
        # GET's cost); a GET's few queries may then see commits made between them.
        engine = engine.execution_options(sqlite_autocommit_reads=True)
    elif sqlite:
        engine = engine.execution_options(sqlite_immediate=True)
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
    finally:
        if sqlite:
            session.close()
        else:
            await run_in_threadpool(session.close)


ServicesDep = Annotated[Services, Depends(get_services)]
SessionDep = Annotated[Session, Depends(get_session)]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("x-api-key") or None


def _from_api_key(request: Request, key: str) -> Principal:
    cache: dict[str, tuple[float, Principal]] = request.app.state.api_key_cache
    hit = cache.get(key)
    now = time.monotonic()
    if hit is not None and hit[0] > now:
        return hit[1]
    with Session(request.app.state.services.engine) as session:
        row = users.check_api_key(session, key)
        if row is None:
            raise ApiError(401, "INVALID_TOKEN", "invalid or revoked API key")
        user = session.get(User, row.user_id)
        if user is None or not user.is_active:
            raise ApiError(401, "INVALID_TOKEN", "the API key's user is no longer active")
        last = as_utc(row.last_used_at)
        if last is None or (utcnow() - last).total_seconds() > 60:
            row.last_used_at = utcnow()
            session.add(row)
            try:
                session.commit()
            except OperationalError:  # SQLite: another writer won the lock; the touch is best effort
                session.rollback()
        # A key never holds more than its user's current role.
        role = row.role if users.outranks(user.role, row.role) else user.role
        principal = Principal(
            user_id=row.user_id,
            workspace_id=row.workspace_id,
            role=role,
            permissions=permissions_of(role),
            api_key_id=row.id,
        )
    cache[key] = (now + _KEY_CACHE_S, principal)
    return principal


async def authenticate(request: Request) -> Principal:
    """The caller from a Bearer access token, a Bearer API key or an `x-api-key` header; 401 otherwise.

    Async, so the common case (a JWT and in-process limits) costs no thread hop; the database (an
    API key not in the short cache) and Redis limits are reached from a worker thread.
    """
    token = _bearer(request)
    if not token:
        raise ApiError(401, "UNAUTHORIZED", "authentication required", headers={"WWW-Authenticate": "Bearer"})
    if token.startswith("bc_"):
        hit = request.app.state.api_key_cache.get(token)
        if hit is not None and hit[0] > time.monotonic():
            principal = hit[1]
        else:
            principal = await run_in_threadpool(_from_api_key, request, token)
    else:
        signer: TokenSigner = request.app.state.signer
        try:
            claims = signer.verify_access(token)
        except TokenError as exc:
            raise ApiError(401, exc.code, str(exc), headers={"WWW-Authenticate": "Bearer"}) from None
        principal = Principal(
            user_id=claims.user_id,
            workspace_id=claims.workspace_id,
            role=claims.role,
            permissions=frozenset(claims.permissions),
        )
    request.state.principal = principal
    limiter: RateLimiter = request.app.state.limiter
    check = functools.partial(
        limiter.check, path=request.url.path, user_key=principal.actor, workspace_id=principal.workspace_id
    )
    _enforce(await run_in_threadpool(check) if limiter.blocking else check())
    return principal


def _enforce(decision: Decision) -> None:
    if not decision.allowed:
        retry = max(1, int(decision.retry_after_s + 0.999))
        raise ApiError(
            429,
            "RATE_LIMIT_EXCEEDED",
            "too many requests",
            details={"retryAfterSeconds": retry},
            headers={"Retry-After": str(retry)},
        )


def limit_anonymous(request: Request) -> None:
    """Rate-limit unauthenticated auth calls by client address."""
    limiter: RateLimiter = request.app.state.limiter
    ip = request.client.host if request.client else "unknown"
    _enforce(limiter.check_anonymous(ip=ip))


PrincipalDep = Annotated[Principal, Depends(authenticate)]


def require(permission: str) -> Any:
    """A dependency that admits callers holding `permission` and answers 403 to the others."""

    async def check(principal: PrincipalDep) -> Principal:
        if permission not in principal.permissions:
            raise ApiError(
                403, "FORBIDDEN", f"this action needs the permission {permission!r}", {"role": principal.role}
            )
        return principal

    check.__name__ = f"require_{permission.replace(':', '_')}"
    return Depends(check)

"""Fault knobs of a sandbox world: which calls fail, how, decided from (seed, key, attempt).

A decision is a pure function of the world seed, the operation, the call's idempotency key and its
attempt number (1 for the first call with that key), so a test that replays the same calls sees the
same faults. `script` pins faults for given keys exactly, attempt by attempt.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from brandcrew.connectors.sandbox._rng import rng

__all__ = ("FaultKind", "FaultPlan", "decide_fault")


class FaultKind(StrEnum):
    """What can go wrong with a sandbox call."""

    RATE_LIMITED = "rate_limited"
    """429: RateLimited with `reset_at` a few minutes ahead; the account stays limited until then."""
    SERVER_ERROR = "server_error"
    """5xx before the platform acted: RetryableError, nothing created."""
    TIMEOUT_BEFORE_CREATE = "timeout_before_create"
    """The request timed out before reaching the platform: OutcomeUnknown, nothing created.
    (Lookups and token refreshes time out as a plain RetryableError.)"""
    TIMEOUT_AFTER_CREATE = "timeout_after_create"
    """The platform acted, the response was lost: OutcomeUnknown, the post (or reply, or delete) exists.
    (Lookups and token refreshes time out as a plain RetryableError.)"""
    AUTH_EXPIRED = "auth_expired"
    """401: AuthExpired, and the presented access token is revoked (refresh it)."""


_ORDER = (
    FaultKind.RATE_LIMITED,
    FaultKind.SERVER_ERROR,
    FaultKind.TIMEOUT_BEFORE_CREATE,
    FaultKind.TIMEOUT_AFTER_CREATE,
    FaultKind.AUTH_EXPIRED,
)


class FaultPlan(BaseModel):
    """Per-call fault probabilities (persisted with the world), plus exact scripts per idempotency key."""

    model_config = ConfigDict(frozen=True)

    rate_limited: float = Field(default=0.0, ge=0, le=1)
    server_error: float = Field(default=0.0, ge=0, le=1)
    timeout_before_create: float = Field(default=0.0, ge=0, le=1)
    timeout_after_create: float = Field(default=0.0, ge=0, le=1)
    auth_expired: float = Field(default=0.0, ge=0, le=1)
    rate_limit_reset_s: tuple[int, int] = (60, 600)
    """Range of seconds (sandbox clock) until a rate-limit fault resets."""
    operations: frozenset[str] = frozenset({"publish", "reply", "delete"})
    """Operations the probabilities apply to; add "read" for fetches and lookups, "refresh" for tokens."""
    script: dict[str, tuple[FaultKind | None, ...]] = Field(default_factory=dict)
    """Idempotency key -> the fault of attempt 1, 2, ... (None: succeed); later attempts succeed.
    A scripted key ignores the probabilities."""

    @model_validator(mode="after")
    def _check(self) -> Self:
        if sum(self._probabilities().values()) > 1 + 1e-9:
            raise ValueError("fault probabilities add up to more than 1")
        lo, hi = self.rate_limit_reset_s
        if not 0 < lo <= hi:
            raise ValueError("rate_limit_reset_s must be (lo, hi) with 0 < lo <= hi")
        return self

    def _probabilities(self) -> dict[FaultKind, float]:
        return {kind: float(getattr(self, kind.value)) for kind in _ORDER}


def decide_fault(plan: FaultPlan, *, seed: str, operation: str, key: str, attempt: int) -> FaultKind | None:
    """The fault (or None) of one call: scripted for its key, else drawn from (seed, op, key, attempt)."""
    if key in plan.script:
        scripted = plan.script[key]
        return scripted[attempt - 1] if attempt <= len(scripted) else None
    group = "read" if operation not in ("publish", "reply", "delete", "refresh") else operation
    if group not in plan.operations:
        return None
    u = rng(seed, "fault", operation, key, attempt).random()
    acc = 0.0
    for kind, p in plan._probabilities().items():
        acc += p
        if u < acc:
            return kind
    return None

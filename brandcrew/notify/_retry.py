"""Retrying a send a few times, quickly, when the receiver's failure looks temporary."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt, wait_exponential

from brandcrew.notify.errors import DeliveryError

__all__ = ("RetryPolicy", "send_with_retries")

T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """In-call retries of one send (the alert service schedules later attempts on top of these)."""

    attempts: int = 3
    base_s: float = 0.5
    max_wait_s: float = 10.0
    """Longest single wait, also the cap on a receiver's Retry-After."""


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, DeliveryError) and exc.retryable


def _wait(policy: RetryPolicy) -> Callable[[RetryCallState], float]:
    backoff = wait_exponential(multiplier=policy.base_s, max=policy.max_wait_s)

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, DeliveryError) and exc.retry_after_s is not None:
            return min(exc.retry_after_s, policy.max_wait_s)
        return float(backoff(state)) if policy.base_s > 0 else 0.0

    return wait


async def send_with_retries(fn: Callable[[], Awaitable[T]], policy: RetryPolicy) -> T:
    """Await `fn()`, retrying retryable `DeliveryError`s; the last error is raised as it was."""
    retrying = AsyncRetrying(
        stop=stop_after_attempt(max(1, policy.attempts)),
        retry=retry_if_exception(_retryable),
        wait=_wait(policy),
        reraise=True,
    )
    async for attempt in retrying:
        with attempt:
            return await fn()
    raise AssertionError("unreachable: tenacity reraises the last error")  # pragma: no cover

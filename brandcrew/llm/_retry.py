"""Retries of retryable provider errors with tenacity, honouring the provider's Retry-After."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from brandcrew.errors import ModelAPIError

T = TypeVar("T")


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, ModelAPIError) and exc.retryable


def _wait(max_wait_s: float) -> Callable[[RetryCallState], float]:
    backoff = wait_exponential_jitter(multiplier=0.5, max=max_wait_s, jitter=0.5)

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, ModelAPIError) and exc.retry_after_s is not None:
            return min(exc.retry_after_s, max_wait_s)
        return backoff(state)

    return wait


async def with_retries(
    fn: Callable[[], Awaitable[T]],
    *,
    attempts: int,
    max_wait_s: float,
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> T:
    """Await `fn()`, retrying retryable ModelAPIErrors up to `attempts` times in all."""
    # The first attempt runs bare: most calls succeed, and a tenacity loop costs more than the call.
    try:
        return await fn()
    except ModelAPIError as exc:
        if not exc.retryable or attempts <= 1:
            raise
        first_error = exc
    replayed = False

    async def again() -> T:
        # Tenacity's first attempt replays the first failure, so its waits and stop count as before.
        nonlocal replayed
        if not replayed:
            replayed = True
            raise first_error
        return await fn()

    kwargs = {"sleep": sleep} if sleep is not None else {}
    retrying = AsyncRetrying(
        stop=stop_after_attempt(max(1, attempts)),
        retry=retry_if_exception(_is_retryable),
        wait=_wait(max_wait_s),
        reraise=True,
        **kwargs,  # type: ignore[arg-type]
    )
    async for attempt in retrying:
        with attempt:
            return await again()
    raise AssertionError("unreachable: tenacity reraises the last error")  # pragma: no cover

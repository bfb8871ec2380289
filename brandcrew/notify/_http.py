"""One HTTP POST for the HTTP channels, with failures sorted into retryable or not."""

from __future__ import annotations

from typing import Any

import httpx

from brandcrew.notify._retry import RetryPolicy, send_with_retries
from brandcrew.notify.errors import DeliveryError

__all__ = ("TIMEOUT", "post")

TIMEOUT = httpx.Timeout(15.0, connect=5.0)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


async def _post_once(
    client: httpx.AsyncClient, channel: str, url: str, kwargs: dict[str, Any]
) -> httpx.Response:
    try:
        response = await client.post(url, **kwargs)
    except httpx.TransportError as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}", channel=channel, retryable=True) from exc
    if response.status_code >= 500 or response.status_code == 429:
        raise DeliveryError(
            f"HTTP {response.status_code}: {response.text[:200]}",
            channel=channel,
            retryable=True,
            status_code=response.status_code,
            retry_after_s=_retry_after(response),
        )
    if response.status_code >= 400:
        raise DeliveryError(
            f"HTTP {response.status_code}: {response.text[:200]}",
            channel=channel,
            retryable=False,
            status_code=response.status_code,
        )
    return response


async def post(
    channel: str,
    url: str,
    *,
    client: httpx.AsyncClient | None,
    retry: RetryPolicy,
    **kwargs: Any,
) -> httpx.Response:
    """POST with retries on 5xx, 429 and transport errors; other 4xx fail at once."""
    if client is not None:
        return await send_with_retries(lambda: _post_once(client, channel, url, kwargs), retry)
    async with httpx.AsyncClient(timeout=TIMEOUT) as own:
        return await send_with_retries(lambda: _post_once(own, channel, url, kwargs), retry)

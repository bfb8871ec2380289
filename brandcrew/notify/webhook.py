"""Generic webhook: the alert as JSON, optionally signed with HMAC-SHA256 so the receiver can trust it.

Signature scheme (the one Stripe and Slack use for their own webhooks): the sender puts the Unix time
in `X-Brandcrew-Timestamp` and `sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">` in
`X-Brandcrew-Signature`; the receiver recomputes it with the shared secret (`verify_signature`) and
rejects old timestamps to stop replays.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping

import httpx

from brandcrew.notify._http import post
from brandcrew.notify._retry import RetryPolicy
from brandcrew.notify.message import Notification

__all__ = ("SIGNATURE_HEADER", "TIMESTAMP_HEADER", "WebhookChannel", "sign", "verify_signature")

SIGNATURE_HEADER = "X-Brandcrew-Signature"
TIMESTAMP_HEADER = "X-Brandcrew-Timestamp"


def sign(body: bytes, secret: str, timestamp: str) -> str:
    """The signature header value for `body` sent at `timestamp`."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(
    body: bytes,
    secret: str,
    *,
    timestamp: str,
    signature: str,
    tolerance_s: float = 300.0,
    now: float | None = None,
) -> bool:
    """True when `signature` is ours for `body` and `timestamp` is within `tolerance_s` of now."""
    try:
        age = abs((now if now is not None else time.time()) - float(timestamp))
    except ValueError:
        return False
    return age <= tolerance_s and hmac.compare_digest(sign(body, secret, timestamp), signature)


class WebhookChannel:
    """POSTs `Notification.as_dict()` as JSON to a URL."""

    kind = "webhook"

    def __init__(
        self,
        url: str,
        *,
        secret: str | None = None,
        headers: Mapping[str, str] | None = None,
        client: httpx.AsyncClient | None = None,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = url
        self.secret = secret
        self.headers = dict(headers or {})
        self.client = client
        self.retry = retry or RetryPolicy()
        self.clock = clock

    async def send(self, notification: Notification) -> str:
        """Deliver; returns the receiver's status code."""
        body = json.dumps(notification.as_dict(), separators=(",", ":")).encode()
        headers = {
            **self.headers,
            "Content-Type": "application/json",
            "User-Agent": "brandcrew-alerts/1",
            "X-Brandcrew-Delivery": notification.id,
        }
        if self.secret:
            timestamp = str(int(self.clock()))
            headers[TIMESTAMP_HEADER] = timestamp
            headers[SIGNATURE_HEADER] = sign(body, self.secret, timestamp)
        response = await post(
            self.kind, self.url, client=self.client, retry=self.retry, content=body, headers=headers
        )
        return f"HTTP {response.status_code}"

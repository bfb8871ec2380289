"""Why a delivery failed, and whether trying again later can help."""

from __future__ import annotations

from brandcrew.errors import BrandcrewError

__all__ = ("DeliveryError",)


class DeliveryError(BrandcrewError):
    """A channel did not accept a notification; `retryable` when the failure looks temporary."""

    def __init__(
        self,
        message: str,
        *,
        channel: str,
        retryable: bool,
        status_code: int | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(f"{channel}: {message}")
        self.channel = channel
        self.retryable = retryable
        """5xx, 429, a dropped connection or an SMTP 4xx reply: the same send may succeed later."""
        self.status_code = status_code
        self.retry_after_s = retry_after_s
        """What the receiver asked us to wait (Retry-After), when it said."""

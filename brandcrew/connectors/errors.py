"""Typed connector errors: what went wrong decides what the publisher may do next."""

from __future__ import annotations

from datetime import datetime

from brandcrew.errors import BrandcrewError


class ConnectorError(BrandcrewError):
    """Base of every platform error."""

    kind = "error"
    retryable: bool = False
    """True when the same request may simply be sent again (nothing was created)."""

    def __init__(self, message: str, *, platform: str = "", status_code: int | None = None) -> None:
        super().__init__(message)
        self.platform = platform
        self.status_code = status_code


class RetryableError(ConnectorError):
    """A transient failure before the platform acted (5xx before acceptance, connection refused)."""

    kind = "retryable"
    retryable = True


class RateLimited(RetryableError):
    """The platform refused for rate or quota reasons; `reset_at` says when to try again."""

    kind = "rate_limited"

    def __init__(
        self, message: str, *, reset_at: datetime | None, platform: str = "", status_code: int | None = 429
    ) -> None:
        super().__init__(message, platform=platform, status_code=status_code)
        self.reset_at = reset_at


class AuthExpired(ConnectorError):
    """The access token is expired or revoked; refresh it, or the account must be reconnected."""

    kind = "auth_expired"


class Rejected(ConnectorError):
    """The platform refused the content itself (validation, policy, duplicate); do not retry as is."""

    kind = "rejected"

    def __init__(
        self, message: str, *, platform: str = "", status_code: int | None = 400, field: str | None = None
    ) -> None:
        super().__init__(message, platform=platform, status_code=status_code)
        self.field = field


class OutcomeUnknown(ConnectorError):
    """The request may have been acted on (timeout after sending, 5xx after acceptance).

    Never retried blindly: the publisher reconciles by looking for the post on the account first.
    """

    kind = "outcome_unknown"

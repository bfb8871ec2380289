"""The error hierarchy: every brandcrew error, grouped by who must act."""

from __future__ import annotations

from decimal import Decimal


class BrandcrewError(Exception):
    """Base for every brandcrew error."""


class UserError(BrandcrewError):
    """Misuse by a developer or operator: bad config, unknown name, missing price."""


class ConfigError(UserError):
    """A configuration file or setting is invalid."""


class RunError(BrandcrewError):
    """A run cannot continue."""


class BudgetExceeded(RunError):
    """A reservation would overspend a budget; the run should pause, not crash."""

    def __init__(
        self,
        message: str,
        *,
        scope: str,
        limit_usd: Decimal,
        committed_usd: Decimal,
        requested_usd: Decimal,
    ) -> None:
        super().__init__(message)
        self.scope = scope
        """The budget key that refused, e.g. `run:abc` or `workspace:w1:day:2026-11-25`."""
        self.limit_usd = limit_usd
        self.committed_usd = committed_usd
        """Spent plus reserved on that scope at the moment of refusal."""
        self.requested_usd = requested_usd


class UnpricedModelError(UserError):
    """A model with no known price was asked for under a budget."""


class ModelRequestsBlocked(RunError):
    """Real model requests are disabled (tests, or `BRANDCREW_ALLOW_MODEL_REQUESTS=false`)."""


class ModelAPIError(RunError):
    """A provider call failed."""

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        model: str,
        status_code: int | None = None,
        retryable: bool = False,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.provider = provider
        self.model = model
        self.status_code = status_code
        self.retryable = retryable
        """True for 408/409/429/5xx and connection errors: the same request may succeed later."""
        self.retry_after_s = retry_after_s
        """Seconds the provider asked us to wait (Retry-After), when it said."""


class NoModelAvailable(RunError):
    """Every candidate model was unhealthy, unavailable or failed."""


class OutputValidationError(RunError):
    """A model's output failed its schema after every allowed escalation."""

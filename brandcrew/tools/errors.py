"""Errors a tool raises to talk to the model; the run goes on."""

from __future__ import annotations

from brandcrew.errors import BrandcrewError


class ToolRetry(BrandcrewError):
    """The call was understood but cannot be done as asked; the model should change its arguments."""


class ToolNotPermitted(BrandcrewError):
    """The run's policy does not grant a scope this tool needs."""


class ApprovalRequired(BrandcrewError):
    """The tool needs a person's approval and there is no graph to pause (called outside a run)."""

"""Errors the services raise; the server maps them to the seed's error codes."""

from __future__ import annotations

from typing import Any

from brandcrew.errors import BrandcrewError


class ServiceError(BrandcrewError):
    """A request a service refuses; `code` is one of the seed's error codes."""

    code = "INTERNAL_ERROR"
    status_code = 500

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.details = details


class NotFound(ServiceError):
    """The resource does not exist in this workspace."""

    code = "NOT_FOUND"
    status_code = 404


class ValidationFailed(ServiceError):
    """Input is well-formed but breaks a rule (platform limits, dates in the past)."""

    code = "VALIDATION_ERROR"
    status_code = 422


class Conflict(ServiceError):
    """The resource's state does not allow this (e.g. editing a published post)."""

    code = "CONFLICT"
    status_code = 409


class ApprovalRequired(ServiceError):
    """The workspace's approval workflow must approve this first."""

    code = "APPROVAL_REQUIRED"
    status_code = 409


class PublishingPaused(ServiceError):
    """Publishing is paused for this brand (crisis or a person) until someone clears it."""

    code = "PUBLISHING_FAILED"
    status_code = 409


class PlatformFailed(ServiceError):
    """A social platform refused or failed a call brandcrew made for the request (a reply, a fetch)."""

    code = "PLATFORM_API_ERROR"
    status_code = 502


class PlatformRateLimited(ServiceError):
    """A social platform's rate limit or daily quota refused the call; `details.resetAt` says when to retry."""

    code = "RATE_LIMIT_EXCEEDED"
    status_code = 429


class Forbidden(ServiceError):
    """The caller may not do this (e.g. decide an approval step that names other approvers)."""

    code = "FORBIDDEN"
    status_code = 403

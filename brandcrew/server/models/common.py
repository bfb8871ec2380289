"""Shapes every area of the API shares: ids, tags and times that are safe to hand to the database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Path
from pydantic import AfterValidator, AwareDatetime, BaseModel, Field

ID_PATTERN = r"^[A-Za-z0-9_.:-]+$"
IdStr = Annotated[str, Field(min_length=1, max_length=64, pattern=ID_PATTERN)]
"""A resource id in a body: short and plain, so a malformed one never reaches the database."""
PathId = Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)]
"""A resource id in a path."""
Tag = Annotated[str, Field(min_length=1, max_length=100)]


def _plausible(value: datetime) -> datetime:
    if not 1970 <= value.year <= 2200:
        raise ValueError("the date must be between 1970 and 2200")
    return value


Instant = Annotated[AwareDatetime, AfterValidator(_plausible)]
"""An ISO 8601 time with a zone (Z or an offset), in a range date arithmetic cannot overflow."""


def _utc(value: datetime) -> datetime:
    # SQLite hands timestamps back without a zone; they are UTC, and the wire says so.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Utc = Annotated[datetime, AfterValidator(_utc)]
"""A time the API returns: always with its zone (UTC)."""


class ErrorDetail(BaseModel):
    """The seed's error: a code from its list, a message, details, when, and the request id."""

    code: str
    message: str
    details: Any = None
    timestamp: str
    request_id: str = Field(alias="requestId")


class ErrorEnvelope(BaseModel):
    """Every error response: `{"error": {...}}`."""

    error: ErrorDetail


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorEnvelope, "description": text}
    for status, text in (
        (401, "not authenticated"),
        (403, "the caller's role lacks the permission"),
        (404, "no such resource in the caller's workspace"),
        (409, "the resource's state does not allow this"),
        (422, "the request is not valid"),
        (429, "too many requests"),
    )
}
"""The error responses every resource route may answer, for the OpenAPI document."""

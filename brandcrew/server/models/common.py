"""Shapes every area of the API shares: ids, tags and times that are safe to hand to the database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator, AwareDatetime, Field

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

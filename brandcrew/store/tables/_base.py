"""Column helpers shared by every table."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime


def utcnow() -> datetime:
    """Now, as an aware UTC datetime."""
    return datetime.now(UTC)


def new_id() -> str:
    """A new random identifier (UUID4 text, portable across SQLite and PostgreSQL)."""
    return str(uuid.uuid4())


def ts_column(*, nullable: bool = True, index: bool = False) -> Any:
    """A timezone-aware timestamp column."""
    return Column(DateTime(timezone=True), nullable=nullable, index=index)


def json_column(*, nullable: bool = False) -> Any:
    """A JSON column (JSON on SQLite, JSON on PostgreSQL)."""
    return Column(JSON, nullable=nullable)


def as_utc(value: datetime | None) -> datetime | None:
    """A datetime read back from SQLite (naive) as aware UTC; aware values pass through."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)

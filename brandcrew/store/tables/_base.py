"""Column helpers shared by every table."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now, as an aware UTC datetime."""
    return datetime.now(UTC)


def new_id() -> str:
    """A new random identifier (UUID4 text, portable across SQLite and PostgreSQL)."""
    return str(uuid.uuid4())

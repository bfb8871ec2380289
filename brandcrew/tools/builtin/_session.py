"""A database session for a tool call, committed when the tool succeeds."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlmodel import Session

from brandcrew.store.engine import session_scope
from brandcrew.tools.context import ToolContext


@contextmanager
def session_for(ctx: ToolContext) -> Iterator[Session]:
    """A session on the run's database; commits on success, rolls back on error."""
    with session_scope(ctx.services.engine) as session:
        yield session

"""A database session for a tool call, committed when the tool succeeds."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlmodel import Session

from brandcrew.tools.context import ToolContext


@contextmanager
def session_for(ctx: ToolContext) -> Iterator[Session]:
    """A session on the run's database; commits on success, rolls back on error."""
    with Session(ctx.services.engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise

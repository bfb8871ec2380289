"""Rows a workspace owns: another workspace's rows do not exist for it (404, never 403)."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlmodel import Session

from brandcrew.services.errors import NotFound

T = TypeVar("T")


def get_owned(session: Session, model: type[T], key: Any, *, workspace_id: str, label: str) -> T:
    """The workspace's `model` row with primary key `key`, or NotFound(`"<label> <key> not found"`)."""
    row = session.get(model, key)
    if row is None or getattr(row, "workspace_id", None) != workspace_id:
        raise NotFound(f"{label} {key} not found")
    return row

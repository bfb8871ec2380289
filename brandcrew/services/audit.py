"""The audit trail: every write through a service is recorded with who did it and what changed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from brandcrew.store.tables import AuditLog


def record(
    session: Session,
    *,
    workspace_id: str,
    action: str,
    resource: str,
    resource_id: str,
    changes: dict[str, Any] | None = None,
    user_id: str | None = None,
    actor: str = "user",
    ip_address: str | None = None,
    user_agent: str | None = None,
) -> AuditLog:
    """Add an audit row to the caller's transaction (it commits or rolls back with the write)."""
    entry = AuditLog(
        workspace_id=workspace_id,
        user_id=user_id,
        actor=actor,
        action=action,
        resource=resource,
        resource_id=resource_id,
        changes=_jsonable(changes or {}),
        ip_address=ip_address,
        user_agent=user_agent,
    )
    session.add(entry)
    return entry


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def list_logs(
    session: Session,
    *,
    workspace_id: str,
    resource: str | None = None,
    resource_id: str | None = None,
    user_id: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[AuditLog]:
    """Audit rows of a workspace, newest first, optionally for one resource or user."""
    stmt = select(AuditLog).where(AuditLog.workspace_id == workspace_id)
    if resource is not None:
        stmt = stmt.where(AuditLog.resource == resource)
    if resource_id is not None:
        stmt = stmt.where(AuditLog.resource_id == resource_id)
    if user_id is not None:
        stmt = stmt.where(AuditLog.user_id == user_id)
    stmt = stmt.order_by(col(AuditLog.timestamp).desc()).offset(offset).limit(limit)
    return list(session.exec(stmt).all())


def count_logs(
    session: Session,
    *,
    workspace_id: str,
    resource: str | None = None,
    resource_id: str | None = None,
    user_id: str | None = None,
) -> int:
    """How many audit rows `list_logs` would return with the same filters and no page."""
    stmt = select(func.count()).select_from(AuditLog).where(AuditLog.workspace_id == workspace_id)
    if resource is not None:
        stmt = stmt.where(AuditLog.resource == resource)
    if resource_id is not None:
        stmt = stmt.where(AuditLog.resource_id == resource_id)
    if user_id is not None:
        stmt = stmt.where(AuditLog.user_id == user_id)
    return int(session.exec(stmt).one())

"""The audit trail of the caller's workspace."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from brandcrew.server.deps import PrincipalDep, SessionDep, require
from brandcrew.server.models.audit import AuditLogList, AuditLogPublic
from brandcrew.server.models.common import ERRORS, IdStr
from brandcrew.server.permissions import Permission
from brandcrew.services import audit

router = APIRouter(prefix="/api/audit-logs", tags=["audit"], responses=ERRORS)


@router.get("", response_model=AuditLogList, dependencies=[require(Permission.AUDIT_VIEW)])
def list_audit_logs(
    principal: PrincipalDep,
    session: SessionDep,
    resource: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    resource_id: Annotated[str | None, Query(alias="resourceId", min_length=1, max_length=255)] = None,
    user_id: Annotated[IdStr | None, Query(alias="userId")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> AuditLogList:
    """Who changed what in the workspace, newest first, optionally for one resource or user."""
    ws = principal.workspace_id
    rows = audit.list_logs(
        session,
        workspace_id=ws,
        resource=resource,
        resource_id=resource_id,
        user_id=user_id,
        limit=limit,
        offset=(page - 1) * limit,
    )
    total = audit.count_logs(
        session, workspace_id=ws, resource=resource, resource_id=resource_id, user_id=user_id
    )
    return AuditLogList(
        logs=[AuditLogPublic.model_validate(r) for r in rows], total=total, page=page, limit=limit
    )

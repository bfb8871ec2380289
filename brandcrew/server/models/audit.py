"""Wire models of the audit trail API (`/api/audit-logs`)."""

from __future__ import annotations

from typing import Any

from brandcrew.server.models.common import Utc
from brandcrew.server.schemas import ApiModel


class AuditLogPublic(ApiModel):
    """One recorded write: who, what, on which resource, what changed, when."""

    id: str
    user_id: str | None = None
    actor: str
    action: str
    resource: str
    resource_id: str
    changes: dict[str, Any]
    ip_address: str | None = None
    user_agent: str | None = None
    timestamp: Utc


class AuditLogList(ApiModel):
    """One page of the workspace's audit trail, newest first."""

    logs: list[AuditLogPublic]
    total: int
    page: int
    limit: int

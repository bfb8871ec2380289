"""Tools for reputation risks: open alerts, and a holding statement saved for approval."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from brandcrew.services import alerts
from brandcrew.services.alerts import NOTICE_KINDS
from brandcrew.store.tables import Alert
from brandcrew.tools.builtin._session import session_for
from brandcrew.tools.context import ToolContext
from brandcrew.tools.decorator import tool


@tool(untrusted_output=True)  # alert details quote the mentions that raised them
def crisis_alerts(ctx: ToolContext, include_resolved: bool = False) -> list[dict[str, Any]]:
    """Crisis and spike alerts for the brand, newest first, with why each fired."""
    with session_for(ctx) as session:
        stmt = select(Alert).where(
            Alert.workspace_id == ctx.workspace_id, col(Alert.kind).not_in(NOTICE_KINDS)
        )
        if not include_resolved:
            stmt = stmt.where(Alert.status != "resolved")
        alerts = session.exec(stmt.order_by(col(Alert.created_at).desc()).limit(20)).all()
    return [
        {
            "id": a.id,
            "kind": a.kind,
            "severity": a.severity,
            "reason": a.reason,
            "status": a.status,
            "created_at": a.created_at.isoformat(),
            "details": a.details,
        }
        for a in alerts
    ]


@tool(scopes=["write"], effect="write")
def holding_statement(ctx: ToolContext, statement: str, alert_id: str | None = None) -> dict[str, Any]:
    """Save a holding statement for a person to approve (it is never posted without approval)."""
    with session_for(ctx) as session:
        approval = alerts.propose_statement(
            session,
            workspace_id=ctx.workspace_id,
            alert_id=alert_id,
            statement=statement,
            requested_by=ctx.agent,
            thread_id=ctx.thread_id,
        )
        return {"approval_id": approval.id, "status": "pending", "statement": statement}

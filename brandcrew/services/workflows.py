"""Approval workflow definitions: ordered steps naming who may approve, for posts, replies or statements.

A definition is checked when it is saved: every step names approvers (members of the workspace who
may decide approvals) and/or roles that may, and needs no more approvals than it has named approvers.
Every approval opened while the workspace has an active workflow for its resource runs under it
(`services.approvals.open_approval`): its steps are decided in order, each by its named approvers or
roles, as many as the step needs (`services.approvals.record_step_approval`), and each step's
approvers are notified. An active workflow for replies makes a person's inbox reply wait for approval
(`services.inbox`); one for posts means a post must be approved (`POST /api/workflows/execute`)
before it can be scheduled or published (`services.publishing`). The autopilot's own policy still
decides which of its posts wait for a person; those that wait go through the workflow.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from sqlmodel import Session, col, func, select

from brandcrew.services import audit
from brandcrew.services._scoped import get_owned
from brandcrew.services.errors import Conflict, ValidationFailed
from brandcrew.store.tables import Approval, User, WorkflowDefinition, utcnow

__all__ = (
    "DECIDING_ROLES",
    "RESOURCES",
    "WorkflowStep",
    "active_workflow",
    "create_workflow",
    "delete_workflow",
    "get_workflow",
    "list_workflows",
    "update_workflow",
)

RESOURCES = ("post", "reply", "statement")
DECIDING_ROLES = ("owner", "admin", "manager")
"""Roles that hold `approval:decide`."""
MAX_STEPS = 10


class WorkflowStep(BaseModel):
    """One step: who may approve at it, and how many approvals it needs."""

    name: str = Field(min_length=1, max_length=100)
    approvers: list[str] = Field(default_factory=list, max_length=50)
    """User ids."""
    roles: list[str] = Field(default_factory=list, max_length=5)
    min_approvals: int = Field(default=1, ge=1, le=50)


def _check_steps(session: Session, workspace_id: str, steps: list[WorkflowStep]) -> list[dict[str, Any]]:
    if not steps or len(steps) > MAX_STEPS:
        raise ValidationFailed(f"a workflow has 1 to {MAX_STEPS} steps", details={"field": "steps"})
    out = []
    for i, step in enumerate(steps):
        field = f"steps.{i}"
        if not step.approvers and not step.roles:
            raise ValidationFailed(
                f"step {step.name!r} names no approvers and no roles", details={"field": f"{field}.approvers"}
            )
        bad_roles = [r for r in step.roles if r not in DECIDING_ROLES]
        if bad_roles:
            raise ValidationFailed(
                f"roles that may approve are {', '.join(DECIDING_ROLES)}, not {', '.join(bad_roles)}",
                details={"field": f"{field}.roles"},
            )
        approvers = list(dict.fromkeys(step.approvers))
        for user_id in approvers:
            user = session.get(User, user_id)
            if user is None or user.workspace_id != workspace_id or not user.is_active:
                raise ValidationFailed(
                    f"{user_id} is not an active member of this workspace",
                    details={"field": f"{field}.approvers"},
                )
            if user.role not in DECIDING_ROLES and "approval:decide" not in (user.permissions or []):
                raise ValidationFailed(
                    f"{user.name} ({user.role}) may not decide approvals",
                    details={"field": f"{field}.approvers"},
                )
        if not step.roles and step.min_approvals > len(approvers):
            raise ValidationFailed(
                f"step {step.name!r} needs {step.min_approvals} approvals but names {len(approvers)} approvers",
                details={"field": f"{field}.minApprovals"},
            )
        out.append(
            {
                "name": step.name.strip(),
                "approvers": approvers,
                "roles": list(dict.fromkeys(step.roles)),
                "min_approvals": step.min_approvals,
            }
        )
    return out


def _check_resources(resources: list[str]) -> list[str]:
    unknown = sorted(set(resources) - set(RESOURCES))
    if not resources or unknown:
        raise ValidationFailed(
            f"resources are one or more of {', '.join(RESOURCES)}", details={"field": "resources"}
        )
    return list(dict.fromkeys(resources))


def create_workflow(
    session: Session,
    *,
    workspace_id: str,
    name: str,
    steps: list[WorkflowStep],
    resources: list[str],
    description: str | None = None,
    is_active: bool = True,
    user_id: str | None = None,
) -> WorkflowDefinition:
    """Save a workflow definition."""
    name = " ".join(name.split())
    if not name:
        raise ValidationFailed("a workflow needs a name", details={"field": "name"})
    row = WorkflowDefinition(
        workspace_id=workspace_id,
        name=name,
        description=description,
        resources=_check_resources(resources),
        steps=_check_steps(session, workspace_id, steps),
        is_active=is_active,
        created_by=user_id,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        workspace_id=workspace_id,
        user_id=user_id,
        action="create",
        resource="workflow",
        resource_id=row.id,
        changes={"name": name, "resources": row.resources, "steps": row.steps, "is_active": is_active},
    )
    return row


def active_workflow(session: Session, workspace_id: str, resource: str) -> WorkflowDefinition | None:
    """The workspace's active workflow for `resource` (the oldest, when several cover it), or None."""
    rows = session.exec(
        select(WorkflowDefinition)
        .where(WorkflowDefinition.workspace_id == workspace_id, col(WorkflowDefinition.is_active).is_(True))
        .order_by(col(WorkflowDefinition.created_at), col(WorkflowDefinition.id))
    ).all()
    return next((w for w in rows if resource in (w.resources or [])), None)


def get_workflow(session: Session, *, workspace_id: str, workflow_id: str) -> WorkflowDefinition:
    """One workflow of the workspace, or NotFound."""
    return get_owned(session, WorkflowDefinition, workflow_id, workspace_id=workspace_id, label="workflow")


def list_workflows(
    session: Session, *, workspace_id: str, offset: int = 0, limit: int = 50
) -> tuple[list[WorkflowDefinition], int]:
    """A page of the workspace's workflows (oldest first) and how many there are."""
    where = WorkflowDefinition.workspace_id == workspace_id
    total = int(session.exec(select(func.count()).select_from(WorkflowDefinition).where(where)).one())
    rows = session.exec(
        select(WorkflowDefinition)
        .where(where)
        .order_by(col(WorkflowDefinition.created_at), col(WorkflowDefinition.id))
        .offset(offset)
        .limit(limit)
    ).all()
    return list(rows), total


def update_workflow(
    session: Session,
    *,
    workspace_id: str,
    workflow_id: str,
    name: str | None = None,
    description: str | None = None,
    steps: list[WorkflowStep] | None = None,
    resources: list[str] | None = None,
    is_active: bool | None = None,
    user_id: str | None = None,
) -> WorkflowDefinition:
    """Change a workflow; fields left None stay as they are."""
    row = get_workflow(session, workspace_id=workspace_id, workflow_id=workflow_id)
    changes: dict[str, Any] = {}
    if name is not None:
        cleaned = " ".join(name.split())
        if not cleaned:
            raise ValidationFailed("a workflow needs a name", details={"field": "name"})
        row.name = changes["name"] = cleaned
    if description is not None:
        row.description = changes["description"] = description
    if steps is not None:
        row.steps = changes["steps"] = _check_steps(session, workspace_id, steps)
    if resources is not None:
        row.resources = changes["resources"] = _check_resources(resources)
    if is_active is not None:
        row.is_active = changes["is_active"] = is_active
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    audit.record(
        session,
        workspace_id=workspace_id,
        user_id=user_id,
        action="update",
        resource="workflow",
        resource_id=row.id,
        changes=changes,
    )
    return row


def delete_workflow(
    session: Session, *, workspace_id: str, workflow_id: str, user_id: str | None = None
) -> None:
    """Delete a workflow that no pending approval is waiting under."""
    row = get_workflow(session, workspace_id=workspace_id, workflow_id=workflow_id)
    pending = session.exec(
        select(func.count())
        .select_from(Approval)
        .where(Approval.workflow_id == row.id, Approval.status == "pending")
    ).one()
    if pending:
        raise Conflict(
            f"{pending} approvals are pending under workflow {row.name!r}; decide them or deactivate it",
            details={"pending": int(pending)},
        )
    session.delete(row)
    audit.record(
        session,
        workspace_id=workspace_id,
        user_id=user_id,
        action="delete",
        resource="workflow",
        resource_id=workflow_id,
        changes={"name": row.name},
    )
    session.flush()

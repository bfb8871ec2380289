"""Approvals (autopilot posts, held inbox replies, crisis statements) and workflow definitions."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from brandcrew.jobs.approvals import Decision, decide
from brandcrew.server.deps import PrincipalDep, ServicesDep, SessionDep, require
from brandcrew.server.models.approvals import (
    ApprovalOut,
    ApprovalPublic,
    ApprovalsOut,
    CommentIn,
    DecisionOut,
    EditIn,
    RejectIn,
    Resource,
    SubmitIn,
    WorkflowIn,
    WorkflowOut,
    WorkflowPublic,
    WorkflowsOut,
    WorkflowUpdate,
)
from brandcrew.server.permissions import Permission
from brandcrew.services import approvals, workflows
from brandcrew.services.workflows import WorkflowStep

router = APIRouter(prefix="/api/approvals", tags=["approvals"])
workflows_router = APIRouter(prefix="/api/workflows", tags=["workflows"])
View = [require(Permission.APPROVAL_VIEW)]
Decide = [require(Permission.APPROVAL_DECIDE)]
Manage = [require(Permission.WORKFLOW_MANAGE)]
Page = Annotated[int, Query(ge=1, le=10_000)]
Limit = Annotated[int, Query(ge=1, le=100)]


@router.get("", response_model=ApprovalsOut, dependencies=View)
def list_approvals(
    principal: PrincipalDep,
    session: SessionDep,
    status: Literal["pending", "approved", "rejected", "changes_requested"] | None = None,
    resource: Resource | None = None,
    campaign_id: Annotated[str | None, Query(alias="campaignId", min_length=1, max_length=64)] = None,
    page: Page = 1,
    limit: Limit = 50,
) -> ApprovalsOut:
    """Approvals of the workspace, oldest first, each with what it approves."""
    items, total = approvals.list_approvals(
        session,
        workspace_id=principal.workspace_id,
        status=status,
        resource=resource,
        campaign_id=campaign_id,
        offset=(page - 1) * limit,
        limit=limit,
    )
    return ApprovalsOut(
        approvals=[ApprovalPublic.model_validate(i, from_attributes=True) for i in items],
        total=total,
        page=page,
        limit=limit,
    )


@router.get("/{approval_id}", response_model=ApprovalOut, dependencies=View)
def get_approval(approval_id: str, principal: PrincipalDep, session: SessionDep) -> ApprovalOut:
    """One approval with what it approves and its comments."""
    row = approvals.get_approval(session, workspace_id=principal.workspace_id, approval_id=approval_id)
    return ApprovalOut(
        approval=ApprovalPublic.model_validate(approvals.describe(session, row), from_attributes=True)
    )


def _decision(result: Decision) -> DecisionOut:
    return DecisionOut(
        approval=ApprovalPublic.model_validate(result.approval, from_attributes=True),
        resumed=result.resumed,
        scheduled=result.scheduled,
        still_pending=result.still_pending,
        sent_message_id=result.sent_message_id,
    )


@router.post("/{approval_id}/approve", response_model=DecisionOut, dependencies=Decide)
async def approve(approval_id: str, principal: PrincipalDep, services: ServicesDep) -> DecisionOut:
    """Approve as is (an autopilot cycle resumes once none of its items is pending; a reply is sent)."""
    return _decision(
        await decide(
            services,
            workspace_id=principal.workspace_id,
            approval_id=approval_id,
            action="approve",
            user_id=principal.user_id or principal.actor,
        )
    )


@router.post("/{approval_id}/edit", response_model=DecisionOut, dependencies=Decide)
async def edit(approval_id: str, body: EditIn, principal: PrincipalDep, services: ServicesDep) -> DecisionOut:
    """Approve with edited text."""
    return _decision(
        await decide(
            services,
            workspace_id=principal.workspace_id,
            approval_id=approval_id,
            action="edit",
            text=body.text,
            user_id=principal.user_id or principal.actor,
        )
    )


@router.post("/{approval_id}/reject", response_model=DecisionOut, dependencies=Decide)
async def reject(
    approval_id: str, body: RejectIn, principal: PrincipalDep, services: ServicesDep
) -> DecisionOut:
    """Reject, with a reason (the item is never published or sent)."""
    return _decision(
        await decide(
            services,
            workspace_id=principal.workspace_id,
            approval_id=approval_id,
            action="reject",
            reason=body.reason,
            user_id=principal.user_id or principal.actor,
        )
    )


@router.post("/{approval_id}/comments", response_model=ApprovalOut, status_code=201, dependencies=View)
def comment(approval_id: str, body: CommentIn, principal: PrincipalDep, session: SessionDep) -> ApprovalOut:
    """Comment on an approval (anyone who may see it)."""
    row = approvals.add_comment(
        session,
        workspace_id=principal.workspace_id,
        approval_id=approval_id,
        text=body.text,
        user_id=principal.user_id or principal.actor,
    )
    out = ApprovalOut(
        approval=ApprovalPublic.model_validate(approvals.describe(session, row), from_attributes=True)
    )
    session.commit()
    return out


def _steps(steps: list[object]) -> list[WorkflowStep]:
    return [WorkflowStep.model_validate(s, from_attributes=True) for s in steps]


@workflows_router.get("", response_model=WorkflowsOut, dependencies=View)
def list_workflows(
    principal: PrincipalDep, session: SessionDep, page: Page = 1, limit: Limit = 50
) -> WorkflowsOut:
    """The workspace's approval workflows."""
    rows, total = workflows.list_workflows(
        session, workspace_id=principal.workspace_id, offset=(page - 1) * limit, limit=limit
    )
    return WorkflowsOut(
        workflows=[WorkflowPublic.model_validate(r) for r in rows], total=total, page=page, limit=limit
    )


@workflows_router.post("", response_model=WorkflowOut, status_code=201, dependencies=Manage)
def create_workflow(body: WorkflowIn, principal: PrincipalDep, session: SessionDep) -> WorkflowOut:
    """Define an approval workflow (an active one for replies makes inbox replies wait for approval)."""
    row = workflows.create_workflow(
        session,
        workspace_id=principal.workspace_id,
        name=body.name,
        description=body.description,
        resources=list(body.resources),
        steps=_steps(list(body.steps)),
        is_active=body.is_active,
        user_id=principal.user_id,
    )
    session.commit()
    return WorkflowOut(workflow=WorkflowPublic.model_validate(row))


@workflows_router.post(
    "/execute", response_model=ApprovalOut, status_code=201, dependencies=[require(Permission.POST_UPDATE)]
)
def execute_workflow(body: SubmitIn, principal: PrincipalDep, session: SessionDep) -> ApprovalOut:
    """Submit a post for approval: its workflow's first approvers are notified; the last approval
    schedules it at `scheduledAt` (or leaves it approved, ready to schedule or publish)."""
    row = approvals.submit_post(
        session,
        workspace_id=principal.workspace_id,
        post_id=body.resource_id,
        user_id=principal.user_id or principal.actor,
        workflow_id=body.workflow_id,
        scheduled_at=body.scheduled_at,
        comment=body.comment,
    )
    out = ApprovalOut(
        approval=ApprovalPublic.model_validate(approvals.describe(session, row), from_attributes=True)
    )
    session.commit()
    return out


@workflows_router.get("/{workflow_id}", response_model=WorkflowOut, dependencies=View)
def get_workflow(workflow_id: str, principal: PrincipalDep, session: SessionDep) -> WorkflowOut:
    """One workflow."""
    row = workflows.get_workflow(session, workspace_id=principal.workspace_id, workflow_id=workflow_id)
    return WorkflowOut(workflow=WorkflowPublic.model_validate(row))


@workflows_router.put("/{workflow_id}", response_model=WorkflowOut, dependencies=Manage)
def update_workflow(
    workflow_id: str, body: WorkflowUpdate, principal: PrincipalDep, session: SessionDep
) -> WorkflowOut:
    """Change a workflow (fields left out stay as they are)."""
    row = workflows.update_workflow(
        session,
        workspace_id=principal.workspace_id,
        workflow_id=workflow_id,
        name=body.name,
        description=body.description,
        resources=list(body.resources) if body.resources is not None else None,
        steps=_steps(list(body.steps)) if body.steps is not None else None,
        is_active=body.is_active,
        user_id=principal.user_id,
    )
    session.commit()
    return WorkflowOut(workflow=WorkflowPublic.model_validate(row))


@workflows_router.delete("/{workflow_id}", status_code=204, dependencies=Manage)
def delete_workflow(workflow_id: str, principal: PrincipalDep, session: SessionDep) -> Response:
    """Delete a workflow no pending approval waits under."""
    workflows.delete_workflow(
        session, workspace_id=principal.workspace_id, workflow_id=workflow_id, user_id=principal.user_id
    )
    session.commit()
    return Response(status_code=204)


__all__ = ["router", "workflows_router"]

"""Wire models of the approvals and workflows API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from brandcrew.server.schemas import ApiModel

Resource = Literal["post", "reply", "statement"]


class ApprovalPublic(ApiModel):
    """An approval and what it approves: the post text and platform, the reply, or the statement."""

    id: str
    resource: str
    resource_id: str
    status: str
    text: str
    platform: str | None
    platforms: list[str]
    requested_by: str | None
    reason: str | None
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    campaign_id: str | None
    cycle: int | None
    conversation_id: str | None
    alert_id: str | None
    workflow_id: str | None
    step: int
    comments: list[dict[str, Any]]


class ApprovalsOut(ApiModel):
    """A page of approvals, oldest first."""

    approvals: list[ApprovalPublic]
    total: int
    page: int
    limit: int


class SubmitIn(ApiModel):
    """Submit a post for approval (seed flow 6): under a workflow (the active one for posts when left
    out), to be scheduled at `scheduledAt` once approved."""

    resource: Literal["post"] = "post"
    resource_id: str = Field(min_length=1, max_length=64)
    workflow_id: str | None = Field(default=None, min_length=1, max_length=64)
    scheduled_at: datetime | None = None
    comment: str | None = Field(default=None, max_length=2000)


class ApprovalOut(ApiModel):
    """`{approval}`."""

    approval: ApprovalPublic


class DecisionOut(ApiModel):
    """A decided approval and what followed: a resumed autopilot cycle, a reply sent."""

    approval: ApprovalPublic
    resumed: bool
    scheduled: int | None
    still_pending: int | None
    sent_message_id: str | None


class EditIn(ApiModel):
    """Approve with this text instead."""

    text: str = Field(min_length=1, max_length=10_000, pattern=r"\S")


class RejectIn(ApiModel):
    """Reject, saying why."""

    reason: str = Field(min_length=1, max_length=2000, pattern=r"\S")


class CommentIn(ApiModel):
    """A comment on an approval."""

    text: str = Field(min_length=1, max_length=5000, pattern=r"\S")


class StepIn(ApiModel):
    """One step of a workflow: who may approve, and how many approvals it needs."""

    name: str = Field(min_length=1, max_length=100)
    approvers: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=50
    )
    roles: list[Literal["owner", "admin", "manager"]] = Field(default_factory=list, max_length=3)
    min_approvals: int = Field(default=1, ge=1, le=50)


class WorkflowIn(ApiModel):
    """A workflow definition."""

    name: str = Field(min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=2000)
    resources: list[Resource] = Field(min_length=1, max_length=3)
    steps: list[StepIn] = Field(min_length=1, max_length=10)
    is_active: bool = True


class WorkflowUpdate(ApiModel):
    """Fields of a workflow to change."""

    name: str | None = Field(default=None, min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=2000)
    resources: list[Resource] | None = Field(default=None, min_length=1, max_length=3)
    steps: list[StepIn] | None = Field(default=None, min_length=1, max_length=10)
    is_active: bool | None = None


class StepOut(ApiModel):
    """A stored step."""

    name: str
    approvers: list[str]
    roles: list[str]
    min_approvals: int


class WorkflowPublic(ApiModel):
    """A workflow definition."""

    id: str
    name: str
    description: str | None
    resources: list[str]
    steps: list[StepOut]
    is_active: bool
    created_by: str | None
    created_at: datetime
    updated_at: datetime | None


class WorkflowOut(ApiModel):
    """`{workflow}`."""

    workflow: WorkflowPublic


class WorkflowsOut(ApiModel):
    """A page of workflows."""

    workflows: list[WorkflowPublic]
    total: int
    page: int
    limit: int

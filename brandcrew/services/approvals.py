"""Approvals of a workspace as people see them: what is being approved, comments, and decisions.

Four kinds wait for a person: autopilot posts (their cycle's graph is paused on an `interrupt`;
deciding them resumes it, `jobs.autopilot.decide_approval`), posts a person submitted for approval
(`submit_post`; the last approval schedules them when a time was asked for), inbox replies held by a
reply workflow (approving sends them, `services.inbox.deliver_reply`) and crisis holding statements
(a decision records the final text; publishing a statement is a person's act). Every approval is
opened under the workspace's active workflow for its resource (`open_approval`), and people hear of
it through the workspace's alert channels: each step's approvers when the step opens
(`approval_requested`), the requester when it is decided (`approval_decided`); an email channel set to
`to_people` (`emailPeople` on the API) mails those people themselves too. This module reads
them all and records decisions; the caller sends a reply first, so a failed send leaves the approval
pending.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlmodel import Session, col, func, select

from brandcrew.services import audit, workflows
from brandcrew.services._scoped import get_owned
from brandcrew.services.errors import Conflict, Forbidden, ValidationFailed
from brandcrew.store.tables import (
    Approval,
    Conversation,
    Message,
    Post,
    PostVariant,
    User,
    WorkflowDefinition,
    utcnow,
)

__all__ = (
    "ApprovalItem",
    "add_comment",
    "autopilot_thread",
    "describe",
    "get_approval",
    "list_approvals",
    "notify_decided",
    "open_approval",
    "record_decision",
    "record_step_approval",
    "submit_post",
)

Action = Literal["approve", "edit", "reject"]
STATUSES = ("pending", "approved", "rejected", "changes_requested")


class ApprovalItem(BaseModel):
    """One approval and what it is about."""

    id: str
    resource: str
    resource_id: str
    status: str
    text: str
    """The post text, the reply or the holding statement being approved (the final text once decided)."""
    platform: str | None = None
    platforms: list[str] = Field(default_factory=list)
    requested_by: str | None = None
    reason: str | None = None
    created_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    campaign_id: str | None = None
    cycle: int | None = None
    conversation_id: str | None = None
    alert_id: str | None = None
    workflow_id: str | None = None
    step: int = 0
    comments: list[dict[str, Any]] = Field(default_factory=list)


def autopilot_thread(approval: Approval) -> tuple[str, int] | None:
    """(campaign id, cycle) of an autopilot item, None for other approvals."""
    parts = (approval.thread_id or "").split(":")
    if len(parts) == 3 and parts[0] == "autopilot" and parts[2].isdigit():
        return parts[1], int(parts[2])
    return None


def _last_decision(approval: Approval) -> dict[str, Any] | None:
    return next((c for c in reversed(approval.comments or []) if c.get("action")), None)


def describe(session: Session, approval: Approval) -> ApprovalItem:
    """An approval with the text, platform and campaign of what it approves."""
    item = ApprovalItem(
        id=approval.id,
        resource=approval.resource,
        resource_id=approval.resource_id,
        status=approval.status,
        text="",
        requested_by=approval.requested_by,
        reason=approval.reason,
        created_at=approval.created_at,
        decided_by=approval.decided_by,
        decided_at=approval.decided_at,
        workflow_id=approval.workflow_id,
        step=approval.step,
        comments=list(approval.comments or []),
    )
    thread = autopilot_thread(approval)
    if thread is not None:
        item.campaign_id, item.cycle = thread
    if approval.resource == "post":
        post = session.get(Post, approval.resource_id)
        if post is not None and post.workspace_id == approval.workspace_id:
            item.text = str((post.content or {}).get("text", ""))
            item.campaign_id = item.campaign_id or post.campaign_id
            platforms = session.exec(
                select(PostVariant.platform)
                .where(PostVariant.post_id == post.id)
                .order_by(col(PostVariant.platform))
            ).all()
            if not platforms and (post.ai_metadata or {}).get("platform"):
                platforms = [str(post.ai_metadata["platform"])]  # type: ignore[index]
            item.platforms = list(dict.fromkeys(platforms))
    elif approval.resource == "reply":
        message = session.get(Message, approval.resource_id)
        if message is not None and message.workspace_id == approval.workspace_id:
            item.text = message.content
            item.conversation_id = message.conversation_id
            conversation = session.get(Conversation, message.conversation_id)
            if conversation is not None:
                item.platforms = [conversation.platform]
    elif approval.resource == "statement":
        item.alert_id = approval.resource_id if approval.resource_id != "none" else None
        drafted = next((c for c in approval.comments or [] if c.get("text") and not c.get("action")), None)
        item.text = str(drafted["text"]) if drafted else ""
    decision = _last_decision(approval)
    if decision is not None and decision.get("action") == "edit" and decision.get("text"):
        item.text = str(decision["text"])
    item.platform = item.platforms[0] if item.platforms else None
    return item


_NOUNS = {"post": "Post", "reply": "Inbox reply", "statement": "Holding statement"}


def open_approval(session: Session, approval: Approval, *, now: datetime | None = None) -> Approval:
    """Save a new approval under the workspace's active workflow for its resource (unless it names
    one already) and notify the approvers of its first step."""
    if approval.workflow_id is None:
        workflow = workflows.active_workflow(session, approval.workspace_id, approval.resource)
        approval.workflow_id = workflow.id if workflow is not None else None
    session.add(approval)
    session.flush()
    _notify_step(session, approval, now=now)
    return approval


def _people(session: Session, user_ids: list[str], workspace_id: str) -> list[dict[str, str]]:
    out = []
    for user_id in user_ids:
        user = session.get(User, user_id)
        if user is not None and user.workspace_id == workspace_id:
            out.append({"id": user.id, "name": user.name, "email": user.email})
    return out


def _notify(
    session: Session,
    approval: Approval,
    *,
    kind: str,
    key: str,
    reason: str,
    details: dict[str, Any],
    now: datetime | None,
) -> None:
    # Imported here: the alerts service opens approvals itself (holding statements).
    from brandcrew.services.alerts.lifecycle import record_notice

    record_notice(
        session,
        workspace_id=approval.workspace_id,
        kind=kind,
        key=f"{approval.id}:{key}",
        reason=reason,
        details={
            "approval_id": approval.id,
            "resource": approval.resource,
            "resource_id": approval.resource_id,
            "text": describe(session, approval).text[:280],
            **details,
        },
        now=now,
    )


def _notify_step(session: Session, approval: Approval, *, now: datetime | None = None) -> None:
    """Tell the approvers of the approval's current step that it waits for them."""
    workflow = session.get(WorkflowDefinition, approval.workflow_id) if approval.workflow_id else None
    noun = _NOUNS.get(approval.resource, approval.resource)
    if workflow is None or approval.step >= len(workflow.steps or []):
        reason = f"{noun} waiting for approval by anyone who may decide approvals"
        details: dict[str, Any] = {
            "step": 0,
            "steps": 1,
            "approvers": [],
            "roles": list(workflows.DECIDING_ROLES),
        }
    else:
        step = workflow.steps[approval.step]
        people = _people(session, list(step.get("approvers", [])), approval.workspace_id)
        who = ", ".join([p["name"] for p in people] + [f"any {r}" for r in step.get("roles", [])])
        reason = (
            f"{noun} waiting for approval: step {approval.step + 1} of {len(workflow.steps)} "
            f"({step.get('name')}) of workflow {workflow.name!r}, by {who}"
        )
        details = {
            "workflow_id": workflow.id,
            "step": approval.step,
            "steps": len(workflow.steps),
            "step_name": step.get("name"),
            "approvers": people,
            "roles": list(step.get("roles", [])),
        }
    _notify(
        session,
        approval,
        kind="approval_requested",
        key=str(approval.step),
        reason=reason,
        details=details,
        now=now,
    )


def notify_decided(session: Session, approval: Approval, *, now: datetime | None = None) -> None:
    """Tell whoever asked for a decided approval how it went."""
    decision = _last_decision(approval) or {}
    by = _people(session, [approval.decided_by or ""], approval.workspace_id)
    who = by[0]["name"] if by else (approval.decided_by or "someone")
    noun = _NOUNS.get(approval.resource, approval.resource)
    verb = {"approve": "approved", "edit": "approved with edits", "reject": "rejected"}.get(
        str(decision.get("action")), approval.status
    )
    reason = f"{noun} {verb} by {who}" + (f": {decision['reason']}" if decision.get("reason") else "")
    requester = _people(session, [approval.requested_by or ""], approval.workspace_id)
    _notify(
        session,
        approval,
        kind="approval_decided",
        key="decided",
        reason=reason,
        details={"status": approval.status, "decided_by": approval.decided_by, "requested_by": requester},
        now=now,
    )


def submit_post(
    session: Session,
    *,
    workspace_id: str,
    post_id: str,
    user_id: str | None,
    workflow_id: str | None = None,
    scheduled_at: datetime | None = None,
    comment: str | None = None,
    now: datetime | None = None,
) -> Approval:
    """Submit a post for approval (seed flow 6): under the given or the active post workflow, or a
    single decision by anyone who may decide approvals; approving it schedules it at `scheduled_at`."""
    post = get_owned(session, Post, post_id, workspace_id=workspace_id, label="post")
    if post.status not in ("draft", "failed", "approved", "pending_approval"):
        raise Conflict(f"post {post_id} is {post.status}; only drafts can be submitted for approval")
    pending = session.exec(
        select(Approval.id).where(
            Approval.workspace_id == workspace_id,
            Approval.resource == "post",
            Approval.resource_id == post_id,
            Approval.status == "pending",
        )
    ).first()
    if pending is not None:
        raise Conflict(
            f"post {post_id} already waits for approval {pending}", details={"approvalId": pending}
        )
    if workflow_id is not None:
        workflow = workflows.get_workflow(session, workspace_id=workspace_id, workflow_id=workflow_id)
        if not workflow.is_active or "post" not in (workflow.resources or []):
            raise ValidationFailed(
                f"workflow {workflow.name!r} is not an active workflow for posts",
                details={"field": "workflowId"},
            )
    at = now or utcnow()
    if scheduled_at is not None and scheduled_at < at - timedelta(minutes=1):
        raise ValidationFailed("the scheduled time is in the past", details={"field": "scheduledAt"})
    approval = Approval(
        workspace_id=workspace_id,
        workflow_id=workflow_id,
        resource="post",
        resource_id=post_id,
        requested_by=user_id,
        created_at=at,
        comments=[{"author": user_id or "user", "text": comment.strip(), "at": at.isoformat()}]
        if comment and comment.strip()
        else [],
    )
    post.status, post.approval_status = "pending_approval", "pending"
    post.scheduled_at = scheduled_at
    post.updated_at = at
    session.add(post)
    open_approval(session, approval, now=at)
    post.approval_workflow_id = approval.workflow_id
    audit.record(
        session,
        workspace_id=workspace_id,
        user_id=user_id,
        action="request_approval",
        resource="approval",
        resource_id=approval.id,
        changes={
            "post_id": post_id,
            "workflow_id": approval.workflow_id,
            "scheduled_at": str(scheduled_at or ""),
        },
    )
    session.flush()
    return approval


def get_approval(session: Session, *, workspace_id: str, approval_id: str) -> Approval:
    """One approval of the workspace, or NotFound."""
    return get_owned(session, Approval, approval_id, workspace_id=workspace_id, label="approval")


def list_approvals(
    session: Session,
    *,
    workspace_id: str,
    status: str | None = None,
    resource: str | None = None,
    campaign_id: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[ApprovalItem], int]:
    """A page of the workspace's approvals, oldest first, described, and how many match."""
    where: list[Any] = [Approval.workspace_id == workspace_id]
    if status is not None:
        where.append(Approval.status == status)
    if resource is not None:
        where.append(Approval.resource == resource)
    if campaign_id is not None:
        posts = select(Post.id).where(Post.workspace_id == workspace_id, Post.campaign_id == campaign_id)
        where.append(
            col(Approval.thread_id).like(f"autopilot:{campaign_id}:%")
            | (col(Approval.resource) == "post") & col(Approval.resource_id).in_(posts)
        )
    total = int(session.exec(select(func.count()).select_from(Approval).where(*where)).one())
    rows = session.exec(
        select(Approval)
        .where(*where)
        .order_by(col(Approval.created_at), col(Approval.id))
        .offset(offset)
        .limit(limit)
    ).all()
    return [describe(session, a) for a in rows], total


def add_comment(
    session: Session,
    *,
    workspace_id: str,
    approval_id: str,
    text: str,
    user_id: str | None,
    now: datetime | None = None,
) -> Approval:
    """Add a person's comment to an approval (pending or decided)."""
    text = text.strip()
    if not text:
        raise ValidationFailed("a comment needs text", details={"field": "text"})
    approval = get_approval(session, workspace_id=workspace_id, approval_id=approval_id)
    approval.comments = [
        *(approval.comments or []),
        {"author": user_id or "user", "text": text, "at": (now or utcnow()).isoformat()},
    ]
    session.add(approval)
    audit.record(
        session,
        workspace_id=workspace_id,
        user_id=user_id,
        action="comment",
        resource="approval",
        resource_id=approval.id,
        changes={"text": text},
    )
    session.flush()
    return approval


def record_decision(
    session: Session,
    *,
    approval: Approval,
    action: Action,
    text: str | None = None,
    reason: str | None = None,
    user_id: str | None = None,
    now: datetime | None = None,
) -> Approval:
    """Settle a pending approval: approved (as is, or with edited text) or rejected, audited."""
    if approval.status != "pending":
        raise Conflict(f"approval {approval.id} was already decided ({approval.status})")
    if action == "edit" and not (text and text.strip()):
        raise ValidationFailed("an edit needs the new text", details={"field": "text"})
    if action == "reject" and not (reason and reason.strip()):
        raise ValidationFailed("a rejection needs a reason", details={"field": "reason"})
    approval.status = "rejected" if action == "reject" else "approved"
    approval.decided_by, approval.decided_at = user_id or "user", now or utcnow()
    approval.comments = [
        *(approval.comments or []),
        {"action": action, "text": text.strip() if text else None, "reason": reason, "by": user_id},
    ]
    if reason:
        approval.reason = f"{approval.reason or ''}; decision: {reason}".strip("; ")
    session.add(approval)
    audit.record(
        session,
        workspace_id=approval.workspace_id,
        user_id=user_id,
        action=action if action != "edit" else "edit_approve",
        resource="approval",
        resource_id=approval.id,
        changes={
            "resource": approval.resource,
            "resource_id": approval.resource_id,
            "text": text,
            "reason": reason,
        },
    )
    session.flush()
    notify_decided(session, approval, now=now)
    return approval


def record_step_approval(
    session: Session,
    *,
    approval: Approval,
    action: Action,
    text: str | None = None,
    user_id: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Check that the caller may decide the approval's current workflow step and, for an approval
    (or edit), count it; True when that was the last approval the workflow needs (the caller then
    settles it with `record_decision`), False when the approval moved on to the next step.

    Approvals without a workflow (or whose workflow was deleted) are settled by one decision.
    """
    if approval.status != "pending":
        raise Conflict(f"approval {approval.id} was already decided ({approval.status})")
    workflow = session.get(WorkflowDefinition, approval.workflow_id) if approval.workflow_id else None
    if workflow is None or not workflow.steps or approval.step >= len(workflow.steps):
        return True
    step = workflow.steps[approval.step]
    user = session.get(User, user_id) if user_id else None
    allowed = (
        user is not None
        and user.workspace_id == approval.workspace_id
        and (user.id in step.get("approvers", []) or user.role in step.get("roles", []))
    )
    if not allowed:
        raise Forbidden(
            f"step {approval.step + 1} ({step.get('name')}) of workflow {workflow.name!r} is decided by "
            "its named approvers and roles",
            details={
                "step": approval.step,
                "approvers": step.get("approvers", []),
                "roles": step.get("roles", []),
            },
        )
    if action == "reject":
        return True
    votes = [
        c
        for c in approval.comments or []
        if c.get("vote") and c.get("step") == approval.step and c.get("by") != user_id
    ]
    last_step = approval.step + 1 >= len(workflow.steps)
    if len(votes) + 1 >= int(step.get("min_approvals", 1)) and last_step:
        return True
    approval.comments = [
        *(approval.comments or []),
        {
            "action": action,
            "text": text.strip() if text else None,
            "by": user_id,
            "step": approval.step,
            "vote": True,
            "at": (now or utcnow()).isoformat(),
        },
    ]
    advanced = len(votes) + 1 >= int(step.get("min_approvals", 1))
    if advanced:
        approval.step += 1
    session.add(approval)
    audit.record(
        session,
        workspace_id=approval.workspace_id,
        user_id=user_id,
        action="approve_step",
        resource="approval",
        resource_id=approval.id,
        changes={"step": step.get("name"), "text": text, "next_step": approval.step},
    )
    session.flush()
    if advanced:
        _notify_step(session, approval, now=now)
    return False

"""Deciding any approval, whatever it approves: the one call the server makes (and the CLI could).

- an autopilot post: `decide_approval` (the same call as `brandcrew autopilot approve ...`): the
  decision is recorded and, once its cycle has no item pending, the cycle's graph resumes and
  schedules the approved posts;
- an inbox reply: under a workflow, each step's named approvers or roles approve in turn (as many
  as the step needs); at the last approval the draft is sent through the account's connector first
  (with the edited text, if any); only a sent reply settles the approval, so a failed send can be
  retried;
- a holding statement: the decision and the final text are recorded.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlmodel import Session

from brandcrew.jobs.autopilot import decide_approval
from brandcrew.services import approvals, inbox, publishing
from brandcrew.services.approvals import Action, ApprovalItem
from brandcrew.services.container import Services
from brandcrew.services.errors import Conflict, ServiceError, ValidationFailed
from brandcrew.store.engine import session_scope
from brandcrew.store.tables import Approval, as_utc, utcnow

__all__ = ("Decision", "decide")


class Decision(BaseModel):
    """A decided approval, and what followed from it."""

    approval: ApprovalItem
    resumed: bool = False
    """An autopilot cycle resumed (its last pending item was decided)."""
    scheduled: int | None = None
    """Posts the resumed cycle scheduled."""
    still_pending: int | None = None
    """Items of the same cycle still waiting for a person."""
    sent_message_id: str | None = None
    """The reply sent on approval."""


async def decide(
    services: Services,
    *,
    workspace_id: str,
    approval_id: str,
    action: Action,
    text: str | None = None,
    reason: str | None = None,
    user_id: str | None = None,
) -> Decision:
    """Approve, approve with edited text, or reject an approval of the workspace."""
    if action == "edit" and not (text and text.strip()):
        raise ValidationFailed("an edit needs the new text", details={"field": "text"})
    if action == "reject" and not (reason and reason.strip()):
        raise ValidationFailed("a rejection needs a reason", details={"field": "reason"})
    # Read without holding a write lock: the autopilot resume and the reply send write on their own.
    with Session(services.engine, expire_on_commit=False) as session:
        approval = approvals.get_approval(session, workspace_id=workspace_id, approval_id=approval_id)
    if approval.status != "pending":
        raise Conflict(f"approval {approval_id} was already decided ({approval.status})")
    result: dict[str, Any] = {}
    sent: str | None = None
    # A workflow's earlier steps only count approvals (and notify the next step); the last settles it.
    with session_scope(services.engine) as session:
        row = approvals.get_approval(session, workspace_id=workspace_id, approval_id=approval_id)
        final = approvals.record_step_approval(
            session, approval=row, action=action, text=text, user_id=user_id
        )
        # An edit made at an earlier step carries on to what the last approval settles.
        edited = approvals.describe(session, row).text if action == "approve" else text
        if action == "approve" and _edited_earlier(row):
            action, text = "edit", edited
    if not final:
        with Session(services.engine, expire_on_commit=False) as session:
            row = approvals.get_approval(session, workspace_id=workspace_id, approval_id=approval_id)
            return Decision(approval=approvals.describe(session, row))
    if approvals.autopilot_thread(approval) is not None:
        outcome = await decide_approval(
            approval_id,
            action,
            text=text,
            reason=reason,
            user=user_id,
            settings=services.settings,
            workspace_id=workspace_id,
        )
        result = {
            "resumed": bool(outcome.get("resumed")),
            "scheduled": outcome.get("scheduled"),
            "still_pending": outcome.get("still_pending"),
        }
    else:
        if approval.resource == "reply" and action != "reject":
            reply = await inbox.deliver_reply(
                services.engine,
                services.accounts,
                workspace_id=workspace_id,
                message_id=approval.resource_id,
                text=edited,
                user_id=user_id,
            )
            sent = reply.message.id
        with session_scope(services.engine) as session:
            row = approvals.get_approval(session, workspace_id=workspace_id, approval_id=approval_id)
            approvals.record_decision(
                session, approval=row, action=action, text=text, reason=reason, user_id=user_id
            )
            if approval.resource == "reply" and action == "reject":
                inbox.discard_reply_draft(session, workspace_id=workspace_id, message_id=approval.resource_id)
            if approval.resource == "post":
                result["scheduled"] = _settle_post(
                    session, services, row, action=action, text=text, user_id=user_id
                )
    with Session(services.engine, expire_on_commit=False) as session:
        row = approvals.get_approval(session, workspace_id=workspace_id, approval_id=approval_id)
        item = approvals.describe(session, row)
    return Decision(approval=item, sent_message_id=sent, **result)


def _edited_earlier(approval: Approval) -> bool:
    return any(c.get("vote") and c.get("action") == "edit" for c in approval.comments or [])


def _settle_post(
    session: Session,
    services: Services,
    approval: Approval,
    *,
    action: Action,
    text: str | None,
    user_id: str | None,
) -> int | None:
    """A submitted post after its last decision: rejected, or approved (with the edited text) and
    scheduled at the time its submitter asked for; the number of outbox rows queued."""
    post = publishing.get_post(session, workspace_id=approval.workspace_id, post_id=approval.resource_id)
    if action == "reject":
        post.status, post.approval_status = "draft", "rejected"
        session.add(post)
        return None
    if action == "edit" and text:
        publishing.update_post(
            session,
            workspace_id=post.workspace_id,
            post_id=post.id,
            content=publishing.merged_content(post, {"text": text}),
            user_id=user_id,
        )
    post.status, post.approval_status = "approved", "approved"
    session.add(post)
    session.flush()
    at = as_utc(post.scheduled_at)
    if at is None:
        return None
    try:  # the approval stands even if the slot cannot be booked (paused brand, time long gone)
        rows = publishing.schedule_post(
            session, workspace_id=post.workspace_id, post_id=post.id, at=max(at, utcnow()), user_id=user_id
        )
    except ServiceError as exc:
        approvals.add_comment(
            session,
            workspace_id=post.workspace_id,
            approval_id=approval.id,
            text=f"approved, but not scheduled: {exc}",
            user_id="system",
        )
        return 0
    return len(rows)

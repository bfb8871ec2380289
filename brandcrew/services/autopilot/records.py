"""Reading and writing autopilot runs, cycles and their posts (every write is idempotent)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func
from sqlmodel import Session, col, select

from brandcrew.errors import UserError
from brandcrew.llm.ledger import flush_pending
from brandcrew.services import approvals, audit
from brandcrew.services.autopilot.spec import CampaignSpec
from brandcrew.services.workspaces import slugify
from brandcrew.store.tables import Approval, Campaign, LlmCall, Post, utcnow
from brandcrew.store.tables.autopilot import AutopilotCycle, AutopilotRun


def campaign_id_for(spec: CampaignSpec) -> str:
    """A stable id for a campaign file's campaign: the same file resumes the same run."""
    return f"ap-{slugify(spec.workspace)}-{slugify(spec.name)}"[:64]


def stable_id(*parts: object) -> str:
    """A deterministic id from parts (so a re-run node writes the same row, not a new one)."""
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:32]


def get_run(session: Session, campaign_id: str) -> AutopilotRun:
    """The run of a campaign; UserError when there is none."""
    run = session.get(AutopilotRun, campaign_id)
    if run is None:
        known = ", ".join(r.campaign_id for r in session.exec(select(AutopilotRun)).all()) or "none"
        raise UserError(f"no autopilot run {campaign_id!r}; runs: {known}")
    return run


def ensure_run(
    session: Session, spec: CampaignSpec, *, workspace_id: str, source: str, simulated: bool
) -> AutopilotRun:
    """The campaign's run and campaign row, created on first start and kept on every restart."""
    cid = campaign_id_for(spec)
    run = session.get(AutopilotRun, cid)
    if run is None:
        run = AutopilotRun(
            campaign_id=cid,
            workspace_id=workspace_id,
            spec=spec.model_dump(mode="json"),
            source=source,
            cycles=spec.cycles,
            simulated=simulated,
        )
        session.add(run)
    if session.get(Campaign, cid) is None:
        start, _ = spec.cycle_window(0)
        _, end = spec.cycle_window(spec.cycles - 1)
        session.add(
            Campaign(
                id=cid,
                workspace_id=workspace_id,
                name=spec.name,
                description=spec.description,
                start_date=start,
                end_date=end,
                goals=[g.model_dump() | {"current": 0.0} for g in spec.goals],
                budget_usd=str(spec.budget_usd),
                tags=["autopilot"],
                status="active",
            )
        )
        audit.record(
            session,
            workspace_id=workspace_id,
            actor="autopilot",
            action="create",
            resource="campaign",
            resource_id=cid,
            changes={"source": source, "budget_usd": str(spec.budget_usd)},
        )
    session.flush()
    return run


def real_time_runs(session: Session, *, limit: int | None = None) -> list[AutopilotRun]:
    """Running campaigns on real platforms (not simulated): what `brandcrew worker` drives."""
    query = select(AutopilotRun).where(
        AutopilotRun.status == "running", col(AutopilotRun.simulated).is_(False)
    )
    return list(session.exec(query.limit(limit) if limit else query).all())


def set_run_status(
    session: Session, campaign_id: str, status: str, reason: str | None = None
) -> AutopilotRun:
    """Pause, resume or complete a run (the campaign row follows), audited."""
    run = get_run(session, campaign_id)
    if run.status == status and run.paused_reason == reason:
        return run
    run.status, run.paused_reason, run.updated_at = status, reason, utcnow()
    campaign = session.get(Campaign, campaign_id)
    if campaign is not None:
        campaign.status = {"running": "active", "paused": "paused", "completed": "completed"}[status]
        campaign.paused_reason = (reason or "")[:500] or None
        session.add(campaign)
    session.add(run)
    audit.record(
        session,
        workspace_id=run.workspace_id,
        actor="autopilot",
        action=status,
        resource="campaign",
        resource_id=campaign_id,
        changes={"reason": reason},
    )
    session.flush()
    return run


def save_cycle(session: Session, campaign_id: str, cycle: int, **values: Any) -> AutopilotCycle:
    """Create or update a cycle's record."""
    row = session.get(AutopilotCycle, (campaign_id, cycle))
    if row is None:
        row = AutopilotCycle(campaign_id=campaign_id, cycle=cycle, **values)
    else:
        for name, value in values.items():
            setattr(row, name, value)
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    return row


def cycles_of(session: Session, campaign_id: str) -> list[AutopilotCycle]:
    """A run's cycles in order."""
    return list(
        session.exec(
            select(AutopilotCycle)
            .where(AutopilotCycle.campaign_id == campaign_id)
            .order_by(col(AutopilotCycle.cycle))
        ).all()
    )


def campaign_posts(session: Session, campaign_id: str) -> list[Post]:
    """Every post the autopilot made for a campaign."""
    return list(session.exec(select(Post).where(Post.campaign_id == campaign_id)).all())


def pending_approvals(session: Session, workspace_id: str, campaign_id: str | None = None) -> list[Approval]:
    """Autopilot items waiting for a person."""
    stmt = select(Approval).where(
        Approval.workspace_id == workspace_id,
        Approval.status == "pending",
        col(Approval.thread_id).like("autopilot:%"),
    )
    if campaign_id is not None:
        stmt = stmt.where(col(Approval.thread_id).like(f"autopilot:{campaign_id}:%"))
    return list(session.exec(stmt.order_by(col(Approval.created_at))).all())


def request_approval(
    session: Session, *, workspace_id: str, post_id: str, thread_id: str, reasons: list[str], now: datetime
) -> Approval:
    """A pending approval for an autopilot post (one per post, however often the node re-runs)."""
    approval_id = stable_id("approval", post_id)
    existing = session.get(Approval, approval_id)
    if existing is not None:
        return existing
    approval = Approval(
        id=approval_id,
        workspace_id=workspace_id,
        resource="post",
        resource_id=post_id,
        status="pending",
        requested_by="autopilot",
        reason="; ".join(reasons),
        thread_id=thread_id,
        created_at=now,
    )
    return approvals.open_approval(session, approval, now=now)


class RunSummary(BaseModel):
    """An autopilot run as a list shows it: where it is, what it published, what it spent."""

    campaign_id: str
    name: str
    status: str
    paused_reason: str | None
    next_cycle: int
    cycles: int
    simulated: bool
    posts: int
    posts_published: int
    spend_usd: Decimal
    budget_usd: str | None
    started_at: datetime
    updated_at: datetime


def list_runs(session: Session, workspace_id: str) -> list[RunSummary]:
    """The workspace's autopilot runs, newest first, with posts published and spend from the ledger."""
    flush_pending()  # this process's queued ledger rows first
    runs = session.exec(
        select(AutopilotRun)
        .where(AutopilotRun.workspace_id == workspace_id)
        .order_by(col(AutopilotRun.started_at).desc())
    ).all()
    out = []
    for run in runs:
        posts = session.exec(
            select(Post.status).where(Post.workspace_id == workspace_id, Post.campaign_id == run.campaign_id)
        ).all()
        nanos = session.exec(
            select(func.coalesce(func.sum(LlmCall.cost_nanousd), 0)).where(
                LlmCall.workspace_id == workspace_id, LlmCall.campaign_id == run.campaign_id
            )
        ).one()
        campaign = session.get(Campaign, run.campaign_id)
        out.append(
            RunSummary(
                campaign_id=run.campaign_id,
                name=str(run.spec.get("name", run.campaign_id)),
                status=run.status,
                paused_reason=run.paused_reason,
                next_cycle=run.next_cycle,
                cycles=run.cycles,
                simulated=run.simulated,
                posts=len(posts),
                posts_published=sum(1 for s in posts if s == "published"),
                spend_usd=Decimal(int(nanos or 0)) / Decimal(10**9),
                budget_usd=campaign.budget_usd if campaign is not None else None,
                started_at=run.started_at,
                updated_at=run.updated_at,
            )
        )
    return out

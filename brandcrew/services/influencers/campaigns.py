"""Influencer campaigns and collaborations: the deal pipeline, deliverables, posts, results, report.

A collaboration moves along prospect -> contacted -> negotiating -> agreed -> live -> completed, and
may be declined at any step before it goes live; a declined one can be reopened as a prospect.
Every other jump is refused with the allowed next steps, so the pipeline a team sees is the one
that happened.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel
from sqlmodel import Session, col, select

from brandcrew.services import audit
from brandcrew.services._scoped import get_owned
from brandcrew.services.errors import Conflict, ValidationFailed
from brandcrew.services.influencers.records import get_influencer
from brandcrew.store.tables import Collaboration, InfluencerCampaign, as_utc, new_id, utcnow

_CONFIG = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

CollaborationStatus = Literal[
    "prospect", "contacted", "negotiating", "agreed", "live", "completed", "declined"
]
CampaignStatus = Literal["draft", "active", "paused", "completed"]
GoalMetric = Literal["reach", "engagements", "clicks", "posts", "collaborations"]

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "prospect": ("contacted", "declined"),
    "contacted": ("negotiating", "declined"),
    "negotiating": ("agreed", "declined"),
    "agreed": ("live", "declined"),
    "live": ("completed",),
    "completed": (),
    "declined": ("prospect",),
}
COMMITTED = frozenset({"agreed", "live", "completed"})
"""Statuses whose fee counts against the budget."""
WITH_RESULTS = frozenset({"live", "completed"})
"""Statuses in which posts and results may be recorded."""

Money = Annotated[float, Field(ge=0, le=1_000_000_000, allow_inf_nan=False)]
"""An amount in major units (stored as cents)."""


def to_cents(amount: float | Decimal) -> int:
    """An amount in major units as integer cents (half up)."""
    return int((Decimal(str(amount)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_cents(cents: int | None) -> float | None:
    """Cents as an amount in major units."""
    return None if cents is None else cents / 100


class Goal(BaseModel):
    """A campaign goal: a metric and its target."""

    model_config = _CONFIG

    metric: GoalMetric
    target: float = Field(gt=0, le=1e13)


class CampaignInput(BaseModel):
    """A new influencer campaign."""

    model_config = _CONFIG

    name: str = Field(min_length=1, max_length=255)
    brief: str = Field(default="", max_length=20_000)
    budget: Money | None = None
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    start_date: datetime | None = None
    end_date: datetime | None = None
    goals: list[Goal] = Field(default_factory=list, max_length=20)
    status: CampaignStatus = "draft"

    @model_validator(mode="after")
    def _dates(self) -> CampaignInput:
        start, end = as_utc(self.start_date), as_utc(self.end_date)
        if start and end and end < start:
            raise ValueError("endDate is before startDate")
        return self


class CampaignChanges(BaseModel):
    """Fields of a campaign to change (only those sent)."""

    model_config = _CONFIG

    name: str | None = Field(default=None, min_length=1, max_length=255)
    brief: str | None = Field(default=None, max_length=20_000)
    budget: Money | None = None
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    start_date: datetime | None = None
    end_date: datetime | None = None
    goals: list[Goal] | None = Field(default=None, max_length=20)
    status: CampaignStatus | None = None


class Deliverable(BaseModel):
    """Something the influencer owes: a post, a story, a video; when it is due and whether it is done."""

    model_config = _CONFIG

    id: str | None = Field(default=None, max_length=64)
    kind: str = Field(min_length=1, max_length=64)
    description: str = Field(default="", max_length=2_000)
    due_at: datetime | None = None
    done: bool = False
    done_at: datetime | None = None


class LinkedPost(BaseModel):
    """A published post of the collaboration, by URL or the platform's post id."""

    model_config = _CONFIG

    url: str | None = Field(default=None, max_length=2_000, pattern=r"^https?://\S+$")
    platform_post_id: str | None = Field(default=None, min_length=1, max_length=255)
    platform: str | None = Field(default=None, max_length=50)

    @model_validator(mode="after")
    def _one_reference(self) -> LinkedPost:
        if not self.url and not self.platform_post_id:
            raise ValueError("a post needs a url or a platformPostId")
        return self


class Results(BaseModel):
    """What the collaboration's posts achieved (totals so far)."""

    model_config = _CONFIG

    reach: int | None = Field(default=None, ge=0, le=10**13)
    engagements: int | None = Field(default=None, ge=0, le=10**13)
    clicks: int | None = Field(default=None, ge=0, le=10**13)


class CollaborationInput(BaseModel):
    """An influencer (saved on the list) added to a campaign."""

    model_config = _CONFIG

    influencer_id: str = Field(min_length=1, max_length=64)
    status: Literal["prospect", "contacted"] = "prospect"
    fee: Money | None = None
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    deliverables: list[Deliverable] = Field(default_factory=list, max_length=100)
    notes: str = Field(default="", max_length=10_000)


class CollaborationChanges(BaseModel):
    """A status move, fee, deliverables, linked posts or results (only what is sent changes)."""

    model_config = _CONFIG

    status: CollaborationStatus | None = None
    fee: Money | None = None
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    deliverables: list[Deliverable] | None = Field(default=None, max_length=100)
    posts: list[LinkedPost] | None = Field(default=None, max_length=100)
    results: Results | None = None
    notes: str | None = Field(default=None, max_length=10_000)

    @field_validator("deliverables")
    @classmethod
    def _unique_ids(cls, value: list[Deliverable] | None) -> list[Deliverable] | None:
        ids = [d.id for d in value or [] if d.id]
        if len(ids) != len(set(ids)):
            raise ValueError("deliverable ids repeat")
        return value


# --- campaigns -----------------------------------------------------------------------------------


def _goals(goals: list[Goal]) -> list[dict[str, Any]]:
    return [{"metric": g.metric, "target": g.target} for g in goals]


def create_campaign(
    session: Session,
    *,
    workspace_id: str,
    data: CampaignInput,
    user_id: str | None = None,
    actor: str = "user",
) -> InfluencerCampaign:
    """A new influencer campaign."""
    row = InfluencerCampaign(
        workspace_id=workspace_id,
        name=data.name.strip(),
        brief=data.brief,
        budget_cents=to_cents(data.budget) if data.budget is not None else None,
        currency=data.currency,
        start_date=as_utc(data.start_date),
        end_date=as_utc(data.end_date),
        goals=_goals(data.goals),
        status=data.status,
        created_by=user_id,
    )
    session.add(row)
    audit.record(
        session,
        workspace_id=workspace_id,
        user_id=user_id,
        actor=actor,
        action="influencer_campaign.create",
        resource="influencer_campaign",
        resource_id=row.id,
        changes={"name": row.name, "budgetCents": row.budget_cents, "currency": row.currency},
    )
    session.flush()
    return row


def get_campaign(session: Session, *, workspace_id: str, campaign_id: str) -> InfluencerCampaign:
    """An influencer campaign of this workspace, or NotFound."""
    return get_owned(
        session, InfluencerCampaign, campaign_id, workspace_id=workspace_id, label="influencer campaign"
    )


def list_campaigns(
    session: Session,
    *,
    workspace_id: str,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[InfluencerCampaign], int]:
    """The workspace's influencer campaigns, newest first, and how many match in all."""
    stmt = select(InfluencerCampaign).where(InfluencerCampaign.workspace_id == workspace_id)
    if status:
        stmt = stmt.where(InfluencerCampaign.status == status)
    rows = list(session.exec(stmt.order_by(col(InfluencerCampaign.created_at).desc())).all())
    return rows[offset : offset + limit], len(rows)


def update_campaign(
    session: Session,
    *,
    workspace_id: str,
    campaign_id: str,
    changes: CampaignChanges,
    user_id: str | None = None,
    actor: str = "user",
) -> InfluencerCampaign:
    """Change a campaign's fields; the currency is fixed once collaborations carry fees in it."""
    row = get_campaign(session, workspace_id=workspace_id, campaign_id=campaign_id)
    sent = changes.model_fields_set
    new: dict[str, Any] = {}
    for name in ("name", "brief", "currency", "status"):
        if name in sent and getattr(changes, name) is not None:
            new[name] = getattr(changes, name)
    if "budget" in sent:
        new["budget_cents"] = to_cents(changes.budget) if changes.budget is not None else None
    if "start_date" in sent:
        new["start_date"] = as_utc(changes.start_date)
    if "end_date" in sent:
        new["end_date"] = as_utc(changes.end_date)
    if "goals" in sent and changes.goals is not None:
        new["goals"] = _goals(changes.goals)
    start = new.get("start_date", as_utc(row.start_date))
    end = new.get("end_date", as_utc(row.end_date))
    if start and end and end < start:
        raise ValidationFailed("endDate is before startDate", details={"startDate": start, "endDate": end})
    if "currency" in new and new["currency"] != row.currency:
        priced = session.exec(
            select(Collaboration.id).where(
                Collaboration.campaign_id == row.id, col(Collaboration.fee_cents).is_not(None)
            )
        ).first()
        if priced is not None:
            raise Conflict(
                f"collaborations already carry fees in {row.currency}; the campaign's currency cannot change"
            )
    diff: dict[str, Any] = {}
    for name, value in new.items():
        old = getattr(row, name)
        if name in ("start_date", "end_date"):
            old = as_utc(old)
        if value != old:
            diff[name] = {"from": old, "to": value}
            setattr(row, name, value)
    if diff:
        row.updated_at = utcnow()
        session.add(row)
        audit.record(
            session,
            workspace_id=workspace_id,
            user_id=user_id,
            actor=actor,
            action="influencer_campaign.update",
            resource="influencer_campaign",
            resource_id=row.id,
            changes=diff,
        )
    return row


# --- collaborations ------------------------------------------------------------------------------


def _deliverables(
    items: list[Deliverable], before: list[dict[str, Any]], now: datetime
) -> list[dict[str, Any]]:
    known = {d.get("id"): d for d in before}
    out = []
    for item in items:
        if item.id is not None and item.id not in known:
            raise ValidationFailed(
                f"deliverable {item.id} is not part of this collaboration (leave id out to add one)"
            )
        old = known.get(item.id) if item.id else None
        done_at = as_utc(item.done_at)
        if item.done and done_at is None:
            done_at = as_utc(datetime.fromisoformat(old["doneAt"])) if old and old.get("doneAt") else now
        if not item.done:
            done_at = None
        due_at = as_utc(item.due_at)
        out.append(
            {
                "id": item.id or new_id(),
                "kind": item.kind,
                "description": item.description,
                "dueAt": due_at.isoformat() if due_at else None,
                "done": item.done,
                "doneAt": done_at.isoformat() if done_at else None,
            }
        )
    return out


def _posts(items: list[LinkedPost], platform: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    seen: set[tuple[str | None, str | None]] = set()
    for p in items:
        key = (p.url, p.platform_post_id)
        if key in seen:
            continue
        seen.add(key)
        out.append({"url": p.url, "platformPostId": p.platform_post_id, "platform": p.platform or platform})
    return out


def add_collaboration(
    session: Session,
    *,
    workspace_id: str,
    campaign_id: str,
    data: CollaborationInput,
    user_id: str | None = None,
    actor: str = "user",
    now: datetime | None = None,
) -> Collaboration:
    """Add a saved influencer to a campaign (once per campaign); the fee is in the campaign's currency."""
    campaign = get_campaign(session, workspace_id=workspace_id, campaign_id=campaign_id)
    influencer = get_influencer(session, workspace_id=workspace_id, influencer_id=data.influencer_id)
    if data.currency and data.currency != campaign.currency:
        raise ValidationFailed(
            f"the fee must be in the campaign's currency {campaign.currency}, not {data.currency}",
            details={"campaignCurrency": campaign.currency},
        )
    existing = session.exec(
        select(Collaboration.id).where(
            Collaboration.campaign_id == campaign.id, Collaboration.influencer_id == influencer.id
        )
    ).first()
    if existing is not None:
        raise Conflict(
            f"@{influencer.username} is already in this campaign", details={"collaborationId": existing}
        )
    at = now or utcnow()
    row = Collaboration(
        workspace_id=workspace_id,
        campaign_id=campaign.id,
        influencer_id=influencer.id,
        status=data.status,
        status_history=[{"from": None, "to": data.status, "at": at.isoformat(), "by": user_id}],
        fee_cents=to_cents(data.fee) if data.fee is not None else None,
        currency=campaign.currency,
        deliverables=_deliverables(data.deliverables, [], at),
        notes=data.notes,
    )
    session.add(row)
    audit.record(
        session,
        workspace_id=workspace_id,
        user_id=user_id,
        actor=actor,
        action="collaboration.create",
        resource="collaboration",
        resource_id=row.id,
        changes={
            "campaignId": campaign.id,
            "influencerId": influencer.id,
            "status": row.status,
            "feeCents": row.fee_cents,
        },
    )
    session.flush()
    return row


def get_collaboration(session: Session, *, workspace_id: str, collaboration_id: str) -> Collaboration:
    """A collaboration of this workspace, or NotFound."""
    return get_owned(
        session, Collaboration, collaboration_id, workspace_id=workspace_id, label="collaboration"
    )


def list_collaborations(session: Session, *, workspace_id: str, campaign_id: str) -> list[Collaboration]:
    """A campaign's collaborations, oldest first."""
    return list(
        session.exec(
            select(Collaboration)
            .where(Collaboration.workspace_id == workspace_id, Collaboration.campaign_id == campaign_id)
            .order_by(col(Collaboration.created_at), col(Collaboration.id))
        ).all()
    )


def check_transition(current: str, target: str) -> None:
    """Conflict unless `current -> target` is a step of the pipeline."""
    allowed = TRANSITIONS.get(current, ())
    if target not in allowed:
        steps = ", ".join(allowed) if allowed else "none (it is final)"
        raise Conflict(
            f"a collaboration cannot go from {current} to {target}; from {current} it can go to: {steps}",
            details={"from": current, "to": target, "allowed": list(allowed)},
        )


def update_collaboration(
    session: Session,
    *,
    workspace_id: str,
    collaboration_id: str,
    changes: CollaborationChanges,
    user_id: str | None = None,
    actor: str = "user",
    now: datetime | None = None,
) -> Collaboration:
    """Move a collaboration along the pipeline and record fee, deliverables, posts and results."""
    row = get_collaboration(session, workspace_id=workspace_id, collaboration_id=collaboration_id)
    at = now or utcnow()
    sent = changes.model_fields_set
    diff: dict[str, Any] = {}
    status = row.status
    if "status" in sent and changes.status is not None and changes.status != row.status:
        check_transition(row.status, changes.status)
        status = changes.status
    recording = ("posts" in sent and changes.posts) or ("results" in sent and changes.results is not None)
    if recording and status not in WITH_RESULTS:
        raise Conflict(
            f"posts and results are recorded once the collaboration is live (it is {status})",
            details={"status": status},
        )
    if "currency" in sent and changes.currency is not None and changes.currency != row.currency:
        raise ValidationFailed(
            f"the fee must be in the campaign's currency {row.currency}, not {changes.currency}",
            details={"campaignCurrency": row.currency},
        )
    if status != row.status:
        diff["status"] = {"from": row.status, "to": status}
        row.status_history = [
            *row.status_history,
            {"from": row.status, "to": status, "at": at.isoformat(), "by": user_id},
        ]
        row.status = status
    if "fee" in sent:
        fee = to_cents(changes.fee) if changes.fee is not None else None
        if fee != row.fee_cents:
            diff["feeCents"] = {"from": row.fee_cents, "to": fee}
            row.fee_cents = fee
    if "deliverables" in sent and changes.deliverables is not None:
        items = _deliverables(changes.deliverables, row.deliverables, at)
        if items != row.deliverables:
            diff["deliverables"] = {"from": row.deliverables, "to": items}
            row.deliverables = items
    if "posts" in sent and changes.posts is not None:
        campaign_platform = get_influencer(
            session, workspace_id=workspace_id, influencer_id=row.influencer_id
        ).platform
        posts = _posts(changes.posts, campaign_platform)
        if posts != row.posts:
            diff["posts"] = {"from": row.posts, "to": posts}
            row.posts = posts
    if "results" in sent and changes.results is not None:
        for name in ("reach", "engagements", "clicks"):
            value = getattr(changes.results, name)
            if value is not None and value != getattr(row, name):
                diff[name] = {"from": getattr(row, name), "to": value}
                setattr(row, name, value)
    if "notes" in sent and changes.notes is not None and changes.notes != row.notes:
        diff["notes"] = {"from": row.notes, "to": changes.notes}
        row.notes = changes.notes
    if diff:
        row.updated_at = at
        session.add(row)
        audit.record(
            session,
            workspace_id=workspace_id,
            user_id=user_id,
            actor=actor,
            action="collaboration.status" if set(diff) == {"status"} else "collaboration.update",
            resource="collaboration",
            resource_id=row.id,
            changes=diff,
        )
    return row

"""The influencer list, campaigns and collaborations as services: the pipeline's rules, deliverables,
deletion and the audit trail."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from brandcrew.services.errors import Conflict, NotFound, ValidationFailed
from brandcrew.services.influencers import (
    TRANSITIONS,
    CampaignInput,
    CollaborationChanges,
    CollaborationInput,
    Deliverable,
    InfluencerSave,
    add_collaboration,
    check_transition,
    create_campaign,
    delete_influencer,
    save_influencer,
    update_collaboration,
)
from brandcrew.services.workspaces import ensure_workspace
from brandcrew.store.tables import AuditLog, Collaboration, Influencer
from tests.utils.influencers import EMBEDDER, coffee_brand, constructed_authors, store

T = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
STATUSES = list(TRANSITIONS)


@pytest.mark.parametrize(("current", "target"), list(itertools.permutations(STATUSES, 2)))
def test_only_pipeline_steps_are_allowed(current: str, target: str) -> None:
    forward = STATUSES[:6]
    allowed = (
        (current in forward and target in forward and forward.index(target) == forward.index(current) + 1)
        or (target == "declined" and current in ("prospect", "contacted", "negotiating", "agreed"))
        or (current, target) == ("declined", "prospect")
    )
    if allowed:
        check_transition(current, target)
    else:
        with pytest.raises(Conflict) as caught:
            check_transition(current, target)
        assert f"cannot go from {current} to {target}" in str(caught.value)
        assert caught.value.details["allowed"] == list(TRANSITIONS[current])


@pytest.fixture
def ws(sqlite_engine: Any) -> Any:
    with Session(sqlite_engine) as session:
        ensure_workspace(session, coffee_brand("northwind"))
        ensure_workspace(session, coffee_brand("rival"))
        store(session, "northwind", constructed_authors(T - timedelta(days=10)))
        session.commit()
    return sqlite_engine


def test_saving_keeps_the_discovery_analysis_and_each_change_is_audited(ws: Any) -> None:
    with Session(ws, expire_on_commit=False) as session:
        person = save_influencer(
            session,
            workspace_id="northwind",
            data=InfluencerSave(platform="x", username="@GrowFast", tags=["watch"]),
            user_id="u1",
            embedder=EMBEDDER,
        )
        assert person.username == "growfast" and person.followers == 45_400 and person.tier == "micro"
        flagged = {s["name"] for s in person.analysis["signals"] if s["flagged"]}
        assert "follower_jump" in flagged and person.analysis["authenticity"] < 1
        with pytest.raises(Conflict):
            save_influencer(
                session, workspace_id="northwind", data=InfluencerSave(platform="x", username="growfast")
            )
        # The same handle in another workspace is another record.
        theirs = save_influencer(
            session, workspace_id="rival", data=InfluencerSave(platform="x", username="growfast")
        )
        assert theirs.id != person.id and theirs.analysis == {}, (
            "discovery only reads the workspace's own mentions"
        )

        campaign = create_campaign(
            session, workspace_id="northwind", data=CampaignInput(name="Launch", budget=1000.10), user_id="u1"
        )
        assert campaign.budget_cents == 100_010
        with pytest.raises(NotFound):
            add_collaboration(
                session,
                workspace_id="northwind",
                campaign_id=campaign.id,
                data=CollaborationInput(influencer_id=theirs.id),
            )
        collab = add_collaboration(
            session,
            workspace_id="northwind",
            campaign_id=campaign.id,
            data=CollaborationInput(
                influencer_id=person.id,
                fee=250,
                deliverables=[Deliverable(kind="post", due_at=T + timedelta(days=2))],
            ),
            user_id="u1",
            now=T,
        )
        did = collab.deliverables[0]["id"]
        for step in ("contacted", "negotiating", "agreed", "live"):
            update_collaboration(
                session,
                workspace_id="northwind",
                collaboration_id=collab.id,
                changes=CollaborationChanges(status=step),
                user_id="u1",
                now=T,
            )
        done_at = T + timedelta(days=1)
        update_collaboration(
            session,
            workspace_id="northwind",
            collaboration_id=collab.id,
            changes=CollaborationChanges(deliverables=[Deliverable(id=did, kind="post", done=True)]),
            now=done_at,
        )
        # Editing the description later keeps when it was done; un-ticking clears it.
        update_collaboration(
            session,
            workspace_id="northwind",
            collaboration_id=collab.id,
            changes=CollaborationChanges(
                deliverables=[Deliverable(id=did, kind="post", description="reel", done=True)]
            ),
            now=done_at + timedelta(days=3),
        )
        assert collab.deliverables[0]["doneAt"] == done_at.isoformat()
        assert collab.deliverables[0]["dueAt"] is None, "a sent list replaces the deliverables as sent"
        update_collaboration(
            session,
            workspace_id="northwind",
            collaboration_id=collab.id,
            changes=CollaborationChanges(deliverables=[Deliverable(id=did, kind="post", done=False)]),
            now=done_at,
        )
        assert collab.deliverables[0]["doneAt"] is None
        with pytest.raises(ValidationFailed):
            update_collaboration(
                session,
                workspace_id="northwind",
                collaboration_id=collab.id,
                changes=CollaborationChanges(deliverables=[Deliverable(id="made-up", kind="post")]),
            )
        with pytest.raises(NotFound):
            update_collaboration(
                session,
                workspace_id="rival",
                collaboration_id=collab.id,
                changes=CollaborationChanges(status="completed"),
            )
        session.commit()
        rows = session.exec(
            select(AuditLog.action, AuditLog.changes)
            .where(AuditLog.resource_id == collab.id)
            .order_by(AuditLog.timestamp)  # type: ignore[arg-type]
        ).all()
    actions = [a for a, _ in rows]
    assert actions == ["collaboration.create"] + ["collaboration.status"] * 4 + ["collaboration.update"] * 3
    assert rows[4][1]["status"] == {"from": "agreed", "to": "live"}


def test_deleting_removes_prospects_but_keeps_real_collaborations(ws: Any) -> None:
    with Session(ws, expire_on_commit=False) as session:
        campaign = create_campaign(session, workspace_id="northwind", data=CampaignInput(name="A"))
        other = create_campaign(session, workspace_id="northwind", data=CampaignInput(name="B"))
        person = save_influencer(
            session,
            workspace_id="northwind",
            data=InfluencerSave(platform="x", username="brewnerd"),
            embedder=EMBEDDER,
        )
        first = add_collaboration(
            session,
            workspace_id="northwind",
            campaign_id=campaign.id,
            data=CollaborationInput(influencer_id=person.id),
        )
        second = add_collaboration(
            session,
            workspace_id="northwind",
            campaign_id=other.id,
            data=CollaborationInput(influencer_id=person.id, status="contacted"),
        )
        with pytest.raises(Conflict) as caught:
            delete_influencer(session, workspace_id="northwind", influencer_id=person.id)
        assert caught.value.details["collaborations"] == [{"id": second.id, "status": "contacted"}]
        update_collaboration(
            session,
            workspace_id="northwind",
            collaboration_id=second.id,
            changes=CollaborationChanges(status="declined"),
        )
        with pytest.raises(NotFound):
            delete_influencer(session, workspace_id="rival", influencer_id=person.id)
        delete_influencer(session, workspace_id="northwind", influencer_id=person.id, user_id="u1")
        session.commit()
        assert session.get(Influencer, person.id) is None
        assert session.get(Collaboration, first.id) is None and session.get(Collaboration, second.id) is None
        entry = session.exec(select(AuditLog).where(AuditLog.action == "influencer.delete")).one()
    assert sorted(entry.changes["collaborationsRemoved"]) == sorted([first.id, second.id])

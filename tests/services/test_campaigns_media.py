"""Campaigns and the media library: rules, clear errors, audit trail."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlmodel import Session

from brandcrew.services import audit, campaigns
from brandcrew.services.campaigns import CampaignGoal, CampaignIn
from brandcrew.services.errors import Conflict, NotFound, ValidationFailed
from brandcrew.services.media import MediaStore
from tests.utils.domain import make_workspace


def test_campaign_lifecycle_goals_and_utm(sqlite_engine: Any) -> None:
    ws = make_workspace(sqlite_engine)
    with Session(sqlite_engine) as session:
        data = CampaignIn(
            name="Autumn Launch",
            start_date=datetime(2026, 12, 1, tzinfo=UTC),
            end_date=datetime(2026, 12, 15, tzinfo=UTC),
            goals=[CampaignGoal(metric="engagement_rate", target=0.04)],
            budget_usd="25",
            utm_params={"utm_source": "social", "utm_medium": "organic"},
        )
        c = campaigns.create_campaign(session, workspace_id=ws.id, data=data)
        campaigns.set_status(session, workspace_id=ws.id, campaign_id=c.id, status="active")
        campaigns.set_status(
            session, workspace_id=ws.id, campaign_id=c.id, status="paused", reason="budget cap"
        )
        assert c.paused_reason == "budget cap"
        campaigns.update_goal_progress(session, campaign=c, metric="engagement_rate", current=0.031)
        assert c.goals[0]["current"] == 0.031
        link = campaigns.utm_link("https://shop.example/guji?ref=x", c, content="post-1")
        assert link == (
            "https://shop.example/guji?ref=x&utm_source=social&utm_medium=organic"
            "&utm_campaign=autumn-launch&utm_content=post-1"
        )
        campaigns.set_status(session, workspace_id=ws.id, campaign_id=c.id, status="completed")
        with pytest.raises(Conflict):
            campaigns.set_status(session, workspace_id=ws.id, campaign_id=c.id, status="active")
        with pytest.raises(Conflict):
            campaigns.update_campaign(session, workspace_id=ws.id, campaign_id=c.id, data=data)
        with pytest.raises(NotFound):
            campaigns.get_campaign(session, workspace_id="other", campaign_id=c.id)
        actions = [a.action for a in audit.list_logs(session, workspace_id=ws.id, resource="campaign")]
        assert sorted(actions) == sorted(["create", "status:active", "status:paused", "status:completed"])


def test_campaign_input_errors_are_clear(sqlite_engine: Any) -> None:
    ws = make_workspace(sqlite_engine)
    with pytest.raises(ValidationError, match="unknown UTM parameters"):
        CampaignIn(name="x", utm_params={"utm_colour": "red"})
    with Session(sqlite_engine) as session, pytest.raises(ValidationFailed, match="end_date must be after"):
        campaigns.create_campaign(
            session,
            workspace_id=ws.id,
            data=CampaignIn(
                name="x",
                start_date=datetime(2026, 12, 2, tzinfo=UTC),
                end_date=datetime(2026, 12, 1, tzinfo=UTC),
            ),
        )


def test_media_is_content_addressed_and_typed(sqlite_engine: Any, tmp_path: Path) -> None:
    ws = make_workspace(sqlite_engine)
    store = MediaStore(tmp_path / "media", public_base_url="https://cdn.example/m")
    with Session(sqlite_engine) as session:
        a = store.save(session, workspace_id=ws.id, filename="beans.jpg", data=b"\xff\xd8jpeg-bytes")
        b = store.save(session, workspace_id=ws.id, filename="copy.jpg", data=b"\xff\xd8jpeg-bytes")
        gif = store.save(session, workspace_id=ws.id, filename="loop.gif", data=b"GIF89a")
        assert a.id == b.id and a.type == "image" and gif.type == "gif"
        assert a.url.startswith("https://cdn.example/m/") and (tmp_path / "media" / ws.id).is_dir()
        with pytest.raises(ValidationFailed, match="unsupported media type"):
            store.save(session, workspace_id=ws.id, filename="notes.txt", data=b"hello")
        with pytest.raises(ValidationFailed, match="empty"):
            store.save(session, workspace_id=ws.id, filename="x.png", data=b"")
        assert len(store.list(session, workspace_id=ws.id)) == 2
        store.delete(session, workspace_id=ws.id, asset_id=gif.id)
        with pytest.raises(NotFound):
            store.delete(session, workspace_id=ws.id, asset_id=gif.id)

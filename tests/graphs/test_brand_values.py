"""Agents read the brand profile every step; a change to it shows at the next step."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session

from brandcrew.graphs.agent import brand_values
from brandcrew.services.brand import BrandProfile, BrandVoice
from brandcrew.services.container import Services
from brandcrew.services.errors import NotFound
from brandcrew.services.workspaces import ensure_workspace
from brandcrew.settings import Settings
from brandcrew.store.tables import Workspace
from brandcrew.tools.context import ToolContext


def _ctx(engine: Any, tmp_path: Any, workspace_id: str) -> ToolContext:
    return ToolContext(
        services=Services.from_settings(Settings(data_dir=tmp_path), engine=engine), workspace_id=workspace_id
    )


def test_a_changed_brand_profile_shows_at_the_next_step(sqlite_engine: Any, tmp_path: Any) -> None:
    with Session(sqlite_engine) as session:
        ensure_workspace(
            session, BrandProfile(workspace_id="w1", name="Northwind", voice=BrandVoice(tone="warm"))
        )
        session.commit()
    ctx = _ctx(sqlite_engine, tmp_path, "w1")
    first = brand_values(ctx)
    assert (first["brand_name"], first["brand_tone"]) == ("Northwind", "warm")
    assert brand_values(ctx)["brand_name"] == "Northwind"  # unchanged: the same values
    with Session(sqlite_engine) as session:
        ensure_workspace(
            session, BrandProfile(workspace_id="w1", name="Northwind Roasters", voice=BrandVoice(tone="dry"))
        )
        session.commit()
    second = brand_values(ctx)
    assert (second["brand_name"], second["brand_tone"]) == ("Northwind Roasters", "dry")
    second["brand_name"] = "mutated"  # callers get a copy
    assert brand_values(ctx)["brand_name"] == "Northwind Roasters"
    with Session(sqlite_engine) as session:
        session.delete(session.get(Workspace, "w1"))
        session.commit()
    with pytest.raises(NotFound):
        brand_values(ctx)

"""Agents take the brand profile from a cache: an edit through the ORM shows at the next step, one
made behind its back (by another process) once the recheck interval has passed."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import Session

import brandcrew.graphs.agent as agent_graph
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


def test_an_edit_behind_the_orms_back_shows_after_the_recheck_interval(
    sqlite_engine: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Session(sqlite_engine) as session:
        ensure_workspace(session, BrandProfile(workspace_id="w2", name="Loftworks"))
        session.commit()
    ctx = _ctx(sqlite_engine, tmp_path, "w2")
    reads: list[str] = []
    real_source = agent_graph._brand_source

    def counted(engine: Any, workspace_id: str) -> Any:
        reads.append(workspace_id)
        return real_source(engine, workspace_id)

    monkeypatch.setattr(agent_graph, "_brand_source", counted)
    clock = [1000.0]
    monkeypatch.setattr(agent_graph.time, "monotonic", lambda: clock[0])
    assert brand_values(ctx)["brand_name"] == "Loftworks"
    # Another process renames the brand: plain SQL, so no ORM event in this process.
    with sqlite_engine.begin() as conn:
        branding = conn.execute(text("SELECT branding FROM workspaces WHERE id = 'w2'")).scalar_one()
        renamed = str(branding).replace("Loftworks", "Loftworks Studio")
        conn.execute(
            text("UPDATE workspaces SET name = 'Loftworks Studio', branding = :b WHERE id = 'w2'"),
            {"b": renamed},
        )
    clock[0] += agent_graph.BRAND_RECHECK_S / 2
    assert brand_values(ctx)["brand_name"] == "Loftworks"  # within the interval: the cached values...
    assert reads == ["w2"]  # ...and no read of the row
    clock[0] += agent_graph.BRAND_RECHECK_S
    assert brand_values(ctx)["brand_name"] == "Loftworks Studio"
    assert reads == ["w2", "w2"]


def test_the_same_workspace_id_in_another_database_has_its_own_brand(
    sqlite_engine: Any, tmp_path: Any
) -> None:
    from brandcrew.store.engine import make_engine
    from brandcrew.store.migrate import upgrade

    other = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    upgrade(other)
    for engine, name in ((sqlite_engine, "Northwind"), (other, "Southwind")):
        with Session(engine) as session:
            ensure_workspace(session, BrandProfile(workspace_id="w3", name=name))
            session.commit()
    assert brand_values(_ctx(sqlite_engine, tmp_path, "w3"))["brand_name"] == "Northwind"
    assert brand_values(_ctx(other, tmp_path / "o", "w3"))["brand_name"] == "Southwind"
    other.dispose()

"""The migrations build exactly the schema the tables declare, and the latest one reverses cleanly."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel

import brandcrew.store.tables  # noqa: F401  (registers every table)
from brandcrew.store.engine import make_engine
from brandcrew.store.migrate import alembic_config, upgrade


def test_migrated_schema_matches_the_tables(sqlite_engine: object) -> None:
    with sqlite_engine.connect() as conn:  # type: ignore[attr-defined]
        assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []


def test_alert_lifecycle_migration_keeps_cleared_alerts_as_resolved(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0004")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO workspaces (id, name, slug, plan, settings, branding, limits, is_active) "
                "VALUES ('w', 'W', 'w', 'free', '{}', '{}', '{}', 1)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO alerts (id, workspace_id, kind, severity, reason, details, status, cleared_by) "
                "VALUES ('a', 'w', 'crisis', 'high', 'spike', '{}', 'cleared', 'ana')"
            )
        )
    upgrade(engine)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT status, resolved_by, rule_key, paused_publishing FROM alerts")).one()
    assert tuple(row) == ("resolved", "ana", "", 0)
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0004")
    with engine.connect() as conn:
        assert tuple(conn.execute(text("SELECT status, cleared_by FROM alerts")).one()) == ("cleared", "ana")
    engine.dispose()

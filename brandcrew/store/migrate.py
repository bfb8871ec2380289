"""Schema migrations with Alembic, safe when several processes start at once."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

_MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_PG_LOCK_ID = 0x62726E64  # "brnd": one advisory lock for schema changes


def alembic_config() -> Config:
    """An Alembic config pointing at brandcrew's migrations."""
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    return cfg


@contextmanager
def _schema_lock(engine: Engine) -> Iterator[None]:
    # Two workers starting together must not both create the same tables.
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if not database or database == ":memory:":
            yield
            return
        with open(f"{database}.migrate-lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_LOCK_ID})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_ID})
            conn.commit()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database at `engine` to `revision`."""
    cfg = alembic_config()
    with _schema_lock(engine), engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)

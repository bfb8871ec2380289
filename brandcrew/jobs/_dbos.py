"""DBOS set-up shared by every job: one DBOS instance per process, on SQLite or PostgreSQL."""

from __future__ import annotations

import logging
import threading
from typing import Any

from dbos import DBOS

from brandcrew.settings import Settings, get_settings

log = logging.getLogger("brandcrew.jobs")
_lock = threading.Lock()
_launched: dict[str, Any] = {}


def system_database_url(settings: Settings) -> str:
    """Where DBOS keeps workflow state: beside the app data (own SQLite file, or the same PostgreSQL)."""
    url = settings.resolved_database_url()
    if url.startswith("postgresql"):
        return url.replace("postgresql+psycopg://", "postgresql://")
    return f"sqlite:///{(settings.data_dir / 'dbos.sqlite').as_posix()}"


def launch_dbos(
    *, settings: Settings | None = None, executor_id: str = "local", system_url: str | None = None
) -> None:
    """Configure and launch DBOS once in this process (idempotent for the same database)."""
    settings = settings or get_settings()
    url = system_url or system_database_url(settings)
    with _lock:
        if _launched.get("url") == (url, settings.dbos_schema):
            return
        if _launched:
            DBOS.destroy(destroy_registry=False)
            _launched.clear()
        if url.startswith("sqlite:///"):
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        _drop_closed_log_handlers()
        DBOS(
            config={
                "name": "brandcrew",
                "system_database_url": url,
                "executor_id": executor_id,
                "log_level": "WARNING",
                "run_migrations": True,
                "dbos_system_schema": settings.dbos_schema,
            }
        )
        DBOS.launch()
        _launched["url"] = (url, settings.dbos_schema)
        log.info("DBOS launched on %s as executor %s", url.split("@")[-1], executor_id)


def _drop_closed_log_handlers() -> None:
    # DBOS adds a stderr handler on first launch and flushes it on every later one; if that stream
    # was closed meanwhile (a CLI run inside a test harness, a redirected stderr), relaunching fails.
    for name in ("dbos", "dbos._dbos", "dbos._logger"):
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            stream = getattr(handler, "stream", None)
            if stream is not None and getattr(stream, "closed", False):
                logger.removeHandler(handler)


def shutdown_dbos() -> None:
    """Stop DBOS in this process (tests, and worker shutdown)."""
    with _lock:
        if _launched:
            DBOS.destroy(destroy_registry=False)
            _launched.clear()

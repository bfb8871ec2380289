"""The configured LangGraph checkpointer: SQLite in the data dir by default, PostgreSQL at scale."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver

from brandcrew.settings import Settings


@asynccontextmanager
async def open_checkpointer(settings: Settings) -> AsyncIterator[BaseCheckpointSaver]:
    """A checkpointer on `checkpoints.sqlite` beside the data, or on DATABASE_URL's PostgreSQL."""
    url = settings.resolved_database_url()
    if url.startswith("postgresql"):
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

        async with AsyncPostgresSaver.from_conn_string(url.replace("+psycopg", "")) as saver:
            await _setup(saver)
            yield saver
        return
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    async with AsyncSqliteSaver.from_conn_string(str(settings.data_dir / "checkpoints.sqlite")) as saver:
        yield saver


async def _setup(saver: Any) -> None:
    import asyncio

    import psycopg

    # Two processes starting together both run the saver's migrations; the loser retries.
    for attempt in range(5):
        try:
            await saver.setup()
            return
        except psycopg.errors.DatabaseError:
            if attempt == 4:
                raise
            await asyncio.sleep(0.2 * (attempt + 1))

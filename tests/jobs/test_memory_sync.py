"""Published posts (with results), mentions and messages end up searchable in vector memory."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session

from brandcrew.jobs.memory_sync import sync_memory
from brandcrew.jobs.publisher import Publisher
from brandcrew.memory.embedders import HashingEmbedder
from brandcrew.memory.remember import MEMORY_METADATA_FIELDS, search_memory
from brandcrew.memory.sqlite_vec import SqliteVecMemory
from brandcrew.services import analytics, mentions
from tests.utils.domain import TEST_CIPHER
from tests.utils.sandbox import drain_with_clock, make_publishing_world, queue_posts


async def test_sync_indexes_posts_with_results_and_mentions(sqlite_engine: Any) -> None:
    pw = make_publishing_world(sqlite_engine, TEST_CIPHER, seed=3, platforms=("x", "facebook"))
    start = pw.world.now()
    queue_posts(pw, 6, at=start, rotation=("x", "facebook"))
    await drain_with_clock(
        Publisher(sqlite_engine, pw.accounts, clock=pw.world.now), pw.world, step=timedelta(minutes=5)
    )
    pw.world.advance(timedelta(days=1))
    with Session(sqlite_engine) as session:
        await analytics.collect_metrics(
            session, pw.accounts, workspace_id=pw.workspace_id, now=pw.world.now()
        )
        account = pw.accounts.list(session, pw.workspace_id)[0]
        found = await pw.accounts.connector(account).fetch_mentions(pw.accounts.auth(account), start)
        mentions.store_mentions(
            session, workspace_id=pw.workspace_id, platform=account.platform, mentions=found
        )
        session.commit()
    embedder = HashingEmbedder(384)
    memory = SqliteVecMemory.from_engine(
        sqlite_engine, index="memory", dimension=384, metadata_fields=MEMORY_METADATA_FIELDS
    )
    result = sync_memory(
        sqlite_engine, memory, embedder, workspace_id=pw.workspace_id, since=start - timedelta(hours=1)
    )
    assert result.posts == 6 and result.mentions == len(found) > 0
    again = sync_memory(
        sqlite_engine, memory, embedder, workspace_id=pw.workspace_id, since=start - timedelta(hours=1)
    )
    assert again.posts == 6
    hits = search_memory(
        memory,
        pw.workspace_id,
        "single-origin beans roasted this week",
        embedder=embedder,
        kinds=["post"],
        top_k=10,
    )
    assert len(hits) == 6, "re-syncing refreshed the same items instead of duplicating them"
    assert all(h.metadata.get("impressions", 0) > 0 for h in hits), "posts are remembered with their results"

"""1,000 posts on the sandbox with 30% injected faults of every kind: each published exactly once or
failed with a reason; no duplicates, nothing lost."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from brandcrew.jobs.publisher import Publisher, PublisherPolicy
from brandcrew.store.tables import OutboxEntry
from tests.utils.domain import TEST_CIPHER
from tests.utils.sandbox import FAULTS_30, drain_with_clock, make_publishing_world, queue_posts, tally


@pytest.mark.slow
@pytest.mark.timeout(900)  # 1,000 posts through faults; minutes on a loaded 2-core machine
async def test_1000_posts_with_30_percent_faults_publish_exactly_once(sqlite_engine: Any) -> None:
    pw = make_publishing_world(sqlite_engine, TEST_CIPHER, seed=42, faults=FAULTS_30)
    queue_posts(pw, 1000, at=pw.world.now())
    publisher = Publisher(
        sqlite_engine,
        pw.accounts,
        clock=pw.world.now,
        policy=PublisherPolicy(max_attempts=6, lease_s=60, retry_base_s=20, retry_max_s=600),
    )
    rounds = await drain_with_clock(publisher, pw.world, step=timedelta(minutes=3))
    result = tally(pw)
    calls = pw.world.calls("publish")
    faulted = {c.outcome for c in calls if c.outcome != "ok"}
    assert {
        "rate_limited",
        "server_error",
        "timeout_before_create",
        "timeout_after_create",
        "auth_expired",
    } <= faulted
    assert sum(c.outcome != "ok" for c in calls) / len(calls) > 0.2, "the fault rate really was injected"
    assert result.rows == 1000 and result.open == 0, result
    assert result.duplicates == 0 and result.lost == 0 and result.failed_without_reason == 0, result
    assert result.published + result.failed == 1000 and result.published >= 990, (
        result,
        rounds,
        _why_failed(pw),
    )


def _why_failed(pw: Any) -> Counter[str]:
    """The failed rows' errors, digits folded, so a rare run with many failures says what they were."""
    with Session(pw.engine) as session:
        rows = session.exec(select(OutboxEntry).where(OutboxEntry.status == "failed")).all()
    return Counter(re.sub(r"\d+", "N", (row.error or "")[:120]) for row in rows)

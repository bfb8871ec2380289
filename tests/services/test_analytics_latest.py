"""Post performance reads each post's newest collected counters, whatever the number of collections."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session

from brandcrew.services import analytics
from brandcrew.store.engine import session_scope
from brandcrew.store.tables import MetricPoint, OutboxEntry


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Any:
    """Each test on SQLite and on the machine's PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_engine")


T0 = datetime(2027, 2, 1, 9, tzinfo=UTC)


def _published(session: Session, workspace: str, post: str, remote: str) -> None:
    session.add(
        OutboxEntry(
            key=f"{workspace}-{post}",
            workspace_id=workspace,
            post_id=post,
            variant_id=f"v-{post}",
            platform="x",
            account_id="acct",
            content_version=1,
            payload={"text": f"text of {post}"},
            text_hash=post,
            status="published",
            due_at=T0,
            remote_id=remote,
            published_at=T0,
        )
    )


def _point(session: Session, workspace: str, remote: str, metric: str, value: float, hours: int) -> None:
    session.add(
        MetricPoint(
            workspace_id=workspace,
            account_id="acct",
            platform="x",
            post_id=remote,
            remote_id=remote,
            metric_type=metric,
            value=value,
            timestamp=T0 + timedelta(hours=hours),
        )
    )


def test_each_post_gets_its_newest_counters_and_other_workspaces_are_ignored(engine: Any) -> None:
    with session_scope(engine) as session:
        _published(session, "ws", "p1", "r1")
        _published(session, "ws", "p2", "r2")
        _published(session, "ws", "p3", "r3")  # never collected: zeros
        # Collections out of insertion order: the newest timestamp wins, not the last row written.
        for hours, impressions in ((5, 500.0), (1, 100.0), (9, 900.0), (3, 300.0)):
            _point(session, "ws", "r1", "impressions", impressions, hours)
            _point(session, "ws", "r1", "likes", impressions / 10, hours)
        _point(session, "ws", "r2", "impressions", 40.0, 2)
        _point(session, "ws", "r2", "followers", 7777.0, 8)  # not a post counter
        _point(session, "other", "r2", "impressions", 99999.0, 12)  # another workspace's point
    with Session(engine) as session:
        perf = {p.post_id: p for p in analytics.post_performance(session, workspace_id="ws")}
        top = analytics.top_posts(session, workspace_id="ws", by="impressions")
    assert (perf["p1"].impressions, perf["p1"].likes) == (900, 90)
    assert (perf["p2"].impressions, perf["p2"].likes) == (40, 0)
    assert perf["p3"].impressions == 0 and perf["p3"].text == "text of p3"
    assert [p.post_id for p in top] == ["p1", "p2"]  # posts never seen are left out

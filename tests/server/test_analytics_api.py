"""Analytics API on the sandbox: publish, let time pass, collect metrics, then the overview, one post's
analytics and best times; roles, tenancy and bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from brandcrew.connectors.sandbox import SandboxWorld
from tests.utils.api import connect_sandbox, create_post, drain_publisher, error_of, member_headers
from tests.utils.server import Account


def _iso(dt: datetime) -> str:
    return dt.isoformat().replace("+00:00", "Z")


async def _published_and_measured(
    app: Any, client: TestClient, owner: Account
) -> tuple[dict[str, str], list[str]]:
    ids = connect_sandbox(client, owner, ["x", "linkedin"])
    post_ids = []
    for i, platform in enumerate(["x", "x", "linkedin"]):
        text = f"Cold brew season is back, batch {i}: slow-steeped for 18 hours."
        post_id = create_post(client, owner, ids[platform], platform=platform, text=text).json()["post"]["id"]
        assert client.post(f"/api/posts/{post_id}/publish", headers=owner.headers).status_code == 200
        post_ids.append(post_id)
    assert await drain_publisher(app) == 3
    # A few sandbox hours pass: the simulated audience sees and reacts to the posts.
    SandboxWorld.create(app.state.services.engine, seed=owner.workspace_id).advance(timedelta(hours=8))
    collected = client.post("/api/analytics/collect", headers=owner.headers)
    assert collected.status_code == 200 and collected.json()["points"] > 0
    return ids, post_ids


async def test_overview_after_metrics_collection(app: Any, client: TestClient, owner: Account) -> None:
    ids, post_ids = await _published_and_measured(app, client, owner)
    now = datetime.now(UTC)
    window = {"startDate": _iso(now - timedelta(days=1)), "endDate": _iso(now + timedelta(days=1))}
    res = client.get("/api/analytics/overview", params=window, headers=owner.headers)
    assert res.status_code == 200, res.text
    body = res.json()
    metrics = body["metrics"]
    assert metrics["posts"] == {"current": 3, "previous": 0, "change": 3, "changePercent": None}
    assert metrics["reach"]["current"] > 0 and metrics["followers"]["current"] > 0
    top = body["topPosts"]
    assert top and {p["postId"] for p in top} <= set(post_ids)
    rates = [p["engagementRate"] for p in top]
    assert rates == sorted(rates, reverse=True)
    breakdown = {p["platform"]: p for p in body["charts"]["platformBreakdown"]}
    assert breakdown["x"]["posts"] == 2 and breakdown["linkedin"]["posts"] == 1
    assert sum(p["value"] for p in body["charts"]["engagement"]) == metrics["engagement"]["current"]
    assert body["charts"]["followerGrowth"]

    only_linkedin = client.get(
        "/api/analytics/overview", params={**window, "accounts": [ids["linkedin"]]}, headers=owner.headers
    ).json()
    assert only_linkedin["metrics"]["posts"]["current"] == 1
    # The comparison window (the day before) had nothing.
    earlier = {
        **window,
        "compareStartDate": _iso(now - timedelta(days=10)),
        "compareEndDate": _iso(now - timedelta(days=9)),
    }
    compared = client.get("/api/analytics/overview", params=earlier, headers=owner.headers).json()
    assert compared["metrics"]["posts"]["previous"] == 0


async def test_post_analytics_and_best_times(app: Any, client: TestClient, owner: Account) -> None:
    ids, post_ids = await _published_and_measured(app, client, owner)
    res = client.get(f"/api/analytics/posts/{post_ids[0]}", headers=owner.headers)
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["post"]["id"] == post_ids[0] and body["post"]["status"] == "published"
    (platform,) = body["platformMetrics"]
    assert (
        platform["platform"] == "x" and platform["metrics"]["impressions"] == body["metrics"]["impressions"]
    )
    assert body["metrics"]["impressions"] > 0
    assert body["metrics"]["engagement"] == sum(
        body["metrics"][k] for k in ("likes", "comments", "shares", "saves")
    )
    assert body["timeline"] and body["timeline"][-1]["impressions"] == body["metrics"]["impressions"]

    times = client.get(
        "/api/analytics/best-times", params={"accountId": ids["x"]}, headers=owner.headers
    ).json()
    assert times["accountId"] == ids["x"] and sum(s["posts"] for s in times["slots"]) == 2
    assert all(0 <= s["weekday"] <= 6 and 0 <= s["hour"] <= 23 for s in times["slots"])


def test_analytics_bad_input_roles_and_tenancy(
    client: TestClient, owner: Account, second_owner: Account
) -> None:
    ids = connect_sandbox(client, owner, ["x"])
    post_id = create_post(client, owner, ids["x"]).json()["post"]["id"]
    now = datetime.now(UTC)
    for params in (
        {},
        {"startDate": _iso(now), "endDate": _iso(now - timedelta(days=1))},
        {"startDate": "yesterday", "endDate": _iso(now)},
        {"startDate": _iso(now - timedelta(days=900)), "endDate": _iso(now)},
        {"startDate": _iso(now - timedelta(days=1)), "endDate": _iso(now), "compareStartDate": _iso(now)},
    ):
        res = client.get("/api/analytics/overview", params=params, headers=owner.headers)
        assert res.status_code == 422, params
        error_of(res)
    viewer = member_headers(client, owner, "viewer")
    window = {"startDate": _iso(now - timedelta(days=1)), "endDate": _iso(now)}
    assert client.get("/api/analytics/overview", params=window, headers=viewer).status_code == 200
    other = second_owner.headers
    assert client.get(f"/api/analytics/posts/{post_id}", headers=other).status_code == 404
    foreign = client.get("/api/analytics/best-times", params={"accountId": ids["x"]}, headers=other)
    assert foreign.status_code == 404 and error_of(foreign)["code"] == "NOT_FOUND"
    theirs = client.get("/api/analytics/overview", params=window, headers=other).json()
    assert theirs["metrics"]["posts"]["current"] == 0 and theirs["charts"]["platformBreakdown"] == []

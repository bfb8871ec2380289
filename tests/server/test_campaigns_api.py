"""Campaigns API: create, list, get, update, status changes, their posts, autopilot runs; roles and tenancy."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from brandcrew.store.engine import session_scope
from brandcrew.store.tables import LlmCall, new_id
from brandcrew.store.tables.autopilot import AutopilotRun
from tests.utils.api import connect_sandbox, create_post, error_of, member_headers
from tests.utils.server import Account

SPRING = {
    "name": "Spring roast",
    "description": "Three weeks of the new roast",
    "startDate": "2030-03-01T00:00:00Z",
    "endDate": "2030-03-22T00:00:00Z",
    "goals": [{"metric": "engagement_rate", "target": 0.04}],
    "budgetUsd": "25.50",
    "tags": ["spring"],
    "utmParams": {"utm_source": "social"},
}


def test_campaign_lifecycle_and_its_posts(client: TestClient, owner: Account) -> None:
    made = client.post("/api/campaigns", json=SPRING, headers=owner.headers)
    assert made.status_code == 201, made.text
    campaign = made.json()["campaign"]
    assert campaign["status"] == "draft" and campaign["budgetUsd"] == "25.50"
    assert campaign["goals"] == [{"metric": "engagement_rate", "target": 0.04, "current": 0.0}]
    cid = campaign["id"]

    listed = client.get("/api/campaigns", headers=owner.headers).json()
    assert listed["total"] == 1 and listed["campaigns"][0]["id"] == cid
    assert (
        client.get("/api/campaigns", params={"status": "active"}, headers=owner.headers).json()["total"] == 0
    )

    updated = client.put(
        f"/api/campaigns/{cid}", json={**SPRING, "name": "Spring roast 2"}, headers=owner.headers
    )
    assert updated.status_code == 200 and updated.json()["campaign"]["name"] == "Spring roast 2"

    def move(status: str, reason: str | None = None) -> Any:
        return client.post(
            f"/api/campaigns/{cid}/status", json={"status": status, "reason": reason}, headers=owner.headers
        )

    assert move("active").json()["campaign"]["status"] == "active"
    paused = move("paused", "waiting for photos").json()["campaign"]
    assert paused["status"] == "paused" and paused["pausedReason"] == "waiting for photos"
    assert move("active").json()["campaign"]["pausedReason"] is None
    assert move("completed").status_code == 200
    again = move("active")
    assert again.status_code == 409 and error_of(again)["code"] == "CONFLICT"
    assert client.put(f"/api/campaigns/{cid}", json=SPRING, headers=owner.headers).status_code == 409

    ids = connect_sandbox(client, owner, ["x"])
    in_campaign = create_post(client, owner, ids["x"], campaign=cid).json()["post"]
    create_post(client, owner, ids["x"])  # not in the campaign
    posts = client.get(f"/api/campaigns/{cid}/posts", headers=owner.headers).json()
    assert posts["total"] == 1 and posts["posts"][0]["id"] == in_campaign["id"]
    assert posts["posts"][0]["campaign"] == cid
    by_campaign = client.get("/api/posts", params={"campaign": cid}, headers=owner.headers).json()
    assert [p["id"] for p in by_campaign["posts"]] == [in_campaign["id"]]


def test_bad_campaign_input_is_422(client: TestClient, owner: Account) -> None:
    for bad in (
        {**SPRING, "endDate": "2030-02-01T00:00:00Z"},
        {**SPRING, "budgetUsd": "-1"},
        {**SPRING, "utmParams": {"utm_evil": "x"}},
        {**SPRING, "name": ""},
        {**SPRING, "startDate": "tomorrow"},
    ):
        res = client.post("/api/campaigns", json=bad, headers=owner.headers)
        assert res.status_code == 422, bad
        assert error_of(res)["code"] in ("VALIDATION_ERROR", "MISSING_REQUIRED_FIELD")
    assert client.get("/api/campaigns", headers=owner.headers).json()["total"] == 0
    bad_status = client.get("/api/campaigns", params={"status": "sleeping"}, headers=owner.headers)
    assert bad_status.status_code == 422


def test_viewer_reads_campaigns_but_cannot_change_them(client: TestClient, owner: Account) -> None:
    cid = client.post("/api/campaigns", json=SPRING, headers=owner.headers).json()["campaign"]["id"]
    viewer = member_headers(client, owner, "viewer")
    assert client.get(f"/api/campaigns/{cid}", headers=viewer).status_code == 200
    assert client.post("/api/campaigns", json=SPRING, headers=viewer).status_code == 403
    assert client.put(f"/api/campaigns/{cid}", json=SPRING, headers=viewer).status_code == 403
    res = client.post(f"/api/campaigns/{cid}/status", json={"status": "active"}, headers=viewer)
    assert res.status_code == 403 and error_of(res)["code"] == "FORBIDDEN"


def test_another_workspace_gets_404_and_cannot_attach_posts(
    client: TestClient, owner: Account, second_owner: Account
) -> None:
    cid = client.post("/api/campaigns", json=SPRING, headers=owner.headers).json()["campaign"]["id"]
    other = second_owner.headers
    for method, path, payload in [
        ("get", f"/api/campaigns/{cid}", None),
        ("put", f"/api/campaigns/{cid}", SPRING),
        ("post", f"/api/campaigns/{cid}/status", {"status": "active"}),
        ("get", f"/api/campaigns/{cid}/posts", None),
    ]:
        res = client.request(method, path, json=payload, headers=other)
        assert res.status_code == 404 and error_of(res)["code"] == "NOT_FOUND", (method, path)
    assert client.get("/api/campaigns", headers=other).json()["total"] == 0
    ids = connect_sandbox(client, second_owner, ["x"])
    # A post of the second workspace cannot claim the first one's campaign.
    res = create_post(client, second_owner, ids["x"], campaign=cid)
    assert res.status_code == 422 and error_of(res)["code"] == "VALIDATION_ERROR"
    assert client.get(f"/api/campaigns/{cid}/posts", headers=owner.headers).json()["total"] == 0


def test_autopilot_runs_show_status_posts_and_spend_of_the_workspace_only(
    app: Any, client: TestClient, owner: Account, second_owner: Account
) -> None:
    engine = app.state.services.engine
    with session_scope(engine) as session:
        session.add(
            AutopilotRun(
                campaign_id="ap-northwind-spring",
                workspace_id=owner.workspace_id,
                spec={"name": "Spring on autopilot"},
                status="paused",
                paused_reason="budget exhausted (campaign)",
                cycles=14,
                next_cycle=3,
            )
        )
        session.add(
            LlmCall(
                id=new_id(),
                workspace_id=owner.workspace_id,
                campaign_id="ap-northwind-spring",
                agent="content_creator",
                model="offline",
                provider="offline",
                cost_nanousd=1_250_000_000,
            )
        )
    runs = client.get("/api/campaigns/autopilot", headers=owner.headers).json()["runs"]
    assert len(runs) == 1
    run = runs[0]
    assert (run["campaignId"], run["name"], run["status"]) == (
        "ap-northwind-spring",
        "Spring on autopilot",
        "paused",
    )
    assert run["pausedReason"] == "budget exhausted (campaign)" and run["nextCycle"] == 3
    assert run["postsPublished"] == 0 and float(run["spendUsd"]) == 1.25
    assert client.get("/api/campaigns/autopilot", headers=second_owner.headers).json()["runs"] == []
    with Session(engine) as session:
        assert session.get(AutopilotRun, "ap-northwind-spring") is not None

"""Accounts and brand API: sandbox connect (idempotent, no tokens out), disconnect, brand profile,
publishing pause and resume; roles and tenancy."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from brandcrew.services.workspaces import brand_of
from brandcrew.store.tables import SocialAccount
from tests.utils.api import connect_sandbox, create_post, drain_publisher, error_of, member_headers
from tests.utils.server import Account

BRAND = {
    "name": "Northwind Coffee",
    "industry": "specialty coffee",
    "audience": "home brewers",
    "voice": {"tone": "warm and nerdy", "do": ["name the origin"], "dont": ["hype"]},
    "bannedWords": ["cheap"],
    "hashtags": ["#northwind"],
    "callToAction": "Order on our site",
    "pillars": ["origins", "brewing"],
}


def test_sandbox_connect_is_idempotent_and_never_shows_tokens(
    app: Any, client: TestClient, owner: Account
) -> None:
    first = client.post(
        "/api/accounts/sandbox", json={"platforms": ["x", "instagram"]}, headers=owner.headers
    )
    assert first.status_code == 201, first.text
    accounts = first.json()["accounts"]
    assert sorted(a["platform"] for a in accounts) == ["instagram", "x"]
    assert all(a["status"] == "connected" and a["isActive"] for a in accounts)
    listed = client.get("/api/accounts", headers=owner.headers)
    assert listed.status_code == 200
    text = listed.text.lower()
    assert 'token"' not in text and "accesstoken" not in text and "refreshtoken" not in text
    with Session(app.state.services.engine) as session:
        stored = session.exec(
            select(SocialAccount).where(SocialAccount.workspace_id == owner.workspace_id)
        ).all()
    assert all(a.access_token and a.access_token not in listed.text for a in stored)
    again = client.post(
        "/api/accounts/sandbox", json={"platforms": ["x", "instagram"]}, headers=owner.headers
    )
    assert sorted(a["id"] for a in again.json()["accounts"]) == sorted(a["id"] for a in accounts)
    assert len(client.get("/api/accounts", headers=owner.headers).json()["accounts"]) == 2


def test_disconnect_and_tenancy(client: TestClient, owner: Account, second_owner: Account) -> None:
    ids = connect_sandbox(client, owner, ["x"])
    assert client.get("/api/accounts", headers=second_owner.headers).json()["accounts"] == []
    foreign = client.delete(f"/api/accounts/{ids['x']}", headers=second_owner.headers)
    assert foreign.status_code == 404 and error_of(foreign)["code"] == "NOT_FOUND"
    assert client.delete(f"/api/accounts/{ids['x']}", headers=owner.headers).status_code == 204
    (account,) = client.get("/api/accounts", headers=owner.headers).json()["accounts"]
    assert account["status"] == "disconnected" and account["isActive"] is False
    bad_id = client.delete("/api/accounts/not%20an%20id", headers=owner.headers)
    assert bad_id.status_code == 422


def test_brand_profile_round_trip_and_roles(app: Any, client: TestClient, owner: Account) -> None:
    before = client.get("/api/workspace/brand", headers=owner.headers)
    assert before.status_code == 200 and before.json()["name"] == "Northwind Coffee"
    res = client.put("/api/workspace/brand", json=BRAND, headers=owner.headers)
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["workspaceId"] == owner.workspace_id and body["bannedWords"] == ["cheap"]
    assert body["voice"]["tone"] == "warm and nerdy"
    with Session(app.state.services.engine) as session:
        profile = brand_of(session, owner.workspace_id)
    assert profile.call_to_action == "Order on our site" and profile.pillars == ["origins", "brewing"]
    viewer = member_headers(client, owner, "viewer")
    assert client.get("/api/workspace/brand", headers=viewer).json()["name"] == "Northwind Coffee"
    denied = client.put("/api/workspace/brand", json=BRAND, headers=viewer)
    assert denied.status_code == 403 and error_of(denied)["code"] == "FORBIDDEN"
    manager = member_headers(client, owner, "manager")
    assert client.put("/api/workspace/brand", json=BRAND, headers=manager).status_code == 403
    assert (
        client.put("/api/workspace/brand", json={**BRAND, "name": ""}, headers=owner.headers).status_code
        == 422
    )
    assert (
        client.put(
            "/api/workspace/brand", json={**BRAND, "voice": {"tone": 3}}, headers=owner.headers
        ).status_code
        == 422
    )


async def test_pause_holds_publishing_until_resume(app: Any, client: TestClient, owner: Account) -> None:
    ids = connect_sandbox(client, owner, ["x"])
    scheduled = create_post(client, owner, ids["x"]).json()["post"]["id"]
    assert client.post(f"/api/posts/{scheduled}/publish", headers=owner.headers).status_code == 200
    manager = member_headers(client, owner, "manager")
    paused = client.post("/api/workspace/publishing/pause", json={"reason": "crisis review"}, headers=manager)
    assert paused.status_code == 200 and paused.json() == {"paused": True, "reason": "crisis review"}
    # Queued posts wait, and new publishes are refused while paused.
    assert await drain_publisher(app) == 0
    other = create_post(client, owner, ids["x"], text="Another post").json()["post"]["id"]
    refused = client.post(f"/api/posts/{other}/publish", headers=owner.headers)
    assert refused.status_code == 409 and "paused" in error_of(refused)["message"]
    editor = member_headers(client, owner, "editor")
    assert client.post("/api/workspace/publishing/resume", headers=editor).status_code == 403
    resumed = client.post("/api/workspace/publishing/resume", headers=manager)
    assert resumed.json() == {"paused": False, "reason": None}
    assert await drain_publisher(app) == 1
    assert (
        client.get(f"/api/posts/{scheduled}", headers=owner.headers).json()["post"]["status"] == "published"
    )

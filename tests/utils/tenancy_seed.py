"""One of every resource in a workspace, made through the API, for the tenancy test."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient

from tests.utils.server import Account


@dataclass
class SeededWorkspace:
    """Ids by the path segment that names their resource, texts that must never show elsewhere."""

    ids: dict[str, str] = field(default_factory=dict)
    markers: list[str] = field(default_factory=list)
    snapshot: dict[str, Any] = field(default_factory=dict)


def _ok(res: Any) -> Any:
    assert res.is_success, f"{res.request.method} {res.request.url} -> {res.status_code}: {res.text[:500]}"
    return res.json() if res.content else None


def snapshot(client: TestClient, owner: Account) -> dict[str, Any]:
    """What the owner sees of their own workspace (to prove nothing changed)."""
    h = owner.headers
    keys = _ok(client.get("/api/api-keys", headers=h))
    return {
        "members": sorted(m["email"] for m in _ok(client.get("/api/team/members", headers=h))),
        "keys": sorted((k["id"], k["revokedAt"] is None) for k in keys),
    }


def seed_workspace(client: TestClient, owner: Account) -> SeededWorkspace:
    """Create one of every resource in the owner's workspace through the API."""
    h = owner.headers
    seeded = SeededWorkspace()
    seeded.markers += [owner.email, owner.workspace_id, owner.api_key]
    keys = _ok(client.get("/api/api-keys", headers=h))
    seeded.ids["api-keys"] = keys[0]["id"]
    _seed_influencers(client, owner, seeded)
    seeded.snapshot = snapshot(client, owner)
    return seeded


def _seed_influencers(client: TestClient, owner: Account, seeded: SeededWorkspace) -> None:
    """A saved influencer, an influencer campaign and a collaboration between them."""
    h = owner.headers
    notes = f"influencer-notes-{owner.workspace_id}"
    person = _ok(
        client.post(
            "/api/influencers",
            json={"platform": "x", "username": "seeded_creator", "notes": notes},
            headers=h,
        )
    )
    brief = f"influencer-brief-{owner.workspace_id}"
    campaign = _ok(
        client.post("/api/influencers/campaigns", json={"name": "Seeded", "brief": brief}, headers=h)
    )
    collab = _ok(
        client.post(
            f"/api/influencers/campaigns/{campaign['id']}/collaborations",
            json={"influencerId": person["id"], "notes": f"collab-notes-{owner.workspace_id}"},
            headers=h,
        )
    )
    seeded.ids["influencers"] = person["id"]
    # `/api/campaigns/{id}` (marketing campaigns) shares the segment name; whichever is seeded first
    # keeps it, and the other route still gets a foreign id that must answer 404.
    seeded.ids.setdefault("campaigns", campaign["id"])
    seeded.ids["collaborations"] = collab["id"]
    seeded.markers += [notes, brief, f"collab-notes-{owner.workspace_id}"]

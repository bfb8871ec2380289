"""One of every resource in a workspace, made through the API, for the tenancy test."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient

from tests.utils.server import Account
from tests.utils.tenancy_seed_inbox import seed_inbox_resources


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
    posts = _ok(client.get("/api/posts", headers=h))["posts"]
    products = _ok(client.get("/api/commerce/products", params={"limit": 100}, headers=h))["products"]
    return {
        "members": sorted(m["email"] for m in _ok(client.get("/api/team/members", headers=h))),
        "keys": sorted((k["id"], k["revokedAt"] is None) for k in keys),
        "posts": sorted((p["id"], p["status"], p["content"]["text"], p["updatedAt"]) for p in posts),
        "campaigns": sorted(
            (c["id"], c["status"], c["name"])
            for c in _listed(client.get("/api/campaigns", headers=h), "campaigns")
        ),
        "accounts": sorted(a["id"] for a in _ok(client.get("/api/accounts", headers=h))["accounts"]),
        "queries": sorted(
            (q["id"], q["name"]) for q in _listed(client.get("/api/listening/queries", headers=h), "queries")
        ),
        "workflows": sorted(w["id"] for w in _listed(client.get("/api/workflows", headers=h), "workflows")),
        "channels": sorted(
            c["id"] for c in _listed(client.get("/api/notifications/channels", headers=h), "channels")
        ),
        "products": sorted((p["id"], p["price"], p["inventoryQty"], p["updatedAt"]) for p in products),
        "influencers": sorted(
            (i["id"], i.get("notes")) for i in _listed(client.get("/api/influencers", headers=h), "items")
        ),
    }


def _listed(res: Any, key: str) -> list[dict[str, Any]]:
    body = _ok(res)
    return list(body[key] if isinstance(body, dict) else body)


def _seed_commerce(client: TestClient, owner: Account, seeded: SeededWorkspace) -> None:
    """A product (CSV import), a post with it tagged, and a purchase credited to the post."""
    from sqlmodel import Session

    from brandcrew.connectors.base import TokenSet
    from brandcrew.services import publishing
    from brandcrew.services.publishing import PostContent, PostTarget
    from tests.utils.commerce import SHOPIFY_CSV

    h = owner.headers
    files = {"file": ("products.csv", SHOPIFY_CSV.read_bytes(), "text/csv")}
    _ok(
        client.post(
            "/api/commerce/products/import",
            files=files,
            data={"storeUrl": "https://northwind.coffee"},
            headers=h,
        )
    )
    product = _ok(client.get("/api/commerce/products", params={"search": "yirgacheffe"}, headers=h))[
        "products"
    ][0]
    seeded.ids["products"] = product["id"]
    seeded.markers += ["Ethiopia Yirgacheffe", "NW-YIR-250-WB"]
    if "posts" not in seeded.ids:
        services = client.app.state.services  # type: ignore[attr-defined]
        with Session(services.engine, expire_on_commit=False) as session:
            account = services.accounts.connect(
                session,
                workspace_id=owner.workspace_id,
                platform="threads",
                platform_account_id="tenancy-threads",
                username="tenancy_threads",
                tokens=TokenSet(access_token="t"),
            )
            post = publishing.create_post(
                session,
                workspace_id=owner.workspace_id,
                content=PostContent(text="Tenancy seed post"),
                targets=[PostTarget(platform="threads", account_id=account.id)],
            )
            session.commit()
        seeded.ids["posts"] = post.id
    tag = {"products": [{"productId": product["id"], "position": {"x": 0.5, "y": 0.5}}]}
    _ok(client.post(f"/api/commerce/posts/{seeded.ids['posts']}/tag", json=tag, headers=h))
    event = {
        "type": "purchase",
        "orderId": "TENANCY-ORDER-1",
        "revenue": 12.5,
        "utmContent": seeded.ids["posts"],
    }
    _ok(client.post("/api/commerce/events", json=event, headers=h))
    seeded.markers.append("TENANCY-ORDER-1")


def seed_workspace(client: TestClient, owner: Account) -> SeededWorkspace:
    """Create one of every resource in the owner's workspace through the API."""
    h = owner.headers
    seeded = SeededWorkspace()
    seeded.markers += [owner.email, owner.workspace_id, owner.api_key]
    keys = _ok(client.get("/api/api-keys", headers=h))
    seeded.ids["api-keys"] = keys[0]["id"]
    seed_inbox_resources(client, owner, seeded.ids, seeded.markers)
    _seed_content(client, owner, seeded)
    _seed_runs(client, owner, seeded)
    _seed_influencers(client, owner, seeded)
    _seed_commerce(client, owner, seeded)
    hook = f"https://hooks.example.com/{owner.workspace_id}-approvals"
    channels = _ok(
        client.post(
            "/api/notifications/channels",
            json={"name": "Approvals", "kinds": ["approval_requested"], "notifications": {"webhook": hook}},
            headers=h,
        )
    )["channels"]
    seeded.ids["channels"] = channels[0]["id"]
    seeded.markers.append(hook)
    seeded.snapshot = snapshot(client, owner)
    return seeded


def _seed_content(client: TestClient, owner: Account, seeded: SeededWorkspace) -> None:
    """An account, a marketing campaign and a post of it."""
    h = owner.headers
    account = _ok(client.get("/api/accounts", headers=h))["accounts"][0]
    seeded.ids["accounts"] = account["id"]
    name = f"campaign-{owner.workspace_id[:8]}"
    campaign = _ok(client.post("/api/campaigns", json={"name": name, "description": "seeded"}, headers=h))
    seeded.ids["campaigns"] = campaign.get("campaign", campaign)["id"]
    text = f"post-text-{owner.workspace_id[:8]}"
    post = _ok(
        client.post(
            "/api/posts",
            json={
                "content": {"text": text},
                "platforms": [{"platform": account["platform"], "accountId": account["id"]}],
                "campaign": seeded.ids["campaigns"],
            },
            headers=h,
        )
    )
    seeded.ids["posts"] = post.get("post", post)["id"]
    seeded.markers += [name, text]


def _seed_runs(client: TestClient, owner: Account, seeded: SeededWorkspace) -> None:
    """An assistant, a thread and a finished run on it (offline model), and its checkpoint."""
    h = owner.headers
    marker = f"thread-note-{owner.workspace_id[:8]}"
    assistant = _ok(client.post("/assistants", json={"graph_id": "supervisor", "name": marker}, headers=h))
    seeded.ids["assistants"] = assistant["assistant_id"]
    thread = _ok(client.post("/threads", json={"metadata": {"note": marker}}, headers=h))
    tid = thread["thread_id"]
    run = _ok(
        client.post(
            f"/threads/{tid}/runs",
            json={
                "assistant_id": "supervisor",
                "input": {"messages": [{"type": "human", "content": f"Show me the calendar {marker}"}]},
            },
            headers=h,
        )
    )
    _ok(client.get(f"/threads/{tid}/runs/{run['run_id']}/join", headers=h))
    state = _ok(client.get(f"/threads/{tid}/state", headers=h))
    seeded.ids["threads"] = tid
    seeded.ids["runs"] = run["run_id"]
    seeded.ids["state"] = state["checkpoint"]["checkpoint_id"]
    seeded.markers.append(marker)


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
    seeded.ids["influencers/campaigns"] = campaign["id"]
    seeded.ids["collaborations"] = collab["id"]
    seeded.markers += [notes, brief, f"collab-notes-{owner.workspace_id}"]

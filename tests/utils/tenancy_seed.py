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
    products = _ok(client.get("/api/commerce/products", params={"limit": 100}, headers=h))["products"]
    return {
        "members": sorted(m["email"] for m in _ok(client.get("/api/team/members", headers=h))),
        "keys": sorted((k["id"], k["revokedAt"] is None) for k in keys),
        "products": sorted((p["id"], p["price"], p["inventoryQty"], p["updatedAt"]) for p in products),
    }


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
    _seed_commerce(client, owner, seeded)
    seeded.snapshot = snapshot(client, owner)
    return seeded

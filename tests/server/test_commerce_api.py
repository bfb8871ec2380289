"""The commerce API: CSV import and store sync, catalog reads, product tags on posts, conversion events
from users and signed store webhooks, analytics — and an attributed sale from a tagged post published
through the outbox on the sandbox."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from brandcrew.connectors.sandbox import SandboxWorld
from brandcrew.jobs.publisher import Publisher
from brandcrew.services import campaigns, publishing
from brandcrew.services.campaigns import CampaignIn
from brandcrew.services.commerce import sign
from brandcrew.services.publishing import PostContent, PostTarget
from brandcrew.services.workspaces import connect_sandbox_world
from tests.utils.commerce import COMMERCE_VCR, SHOPIFY_CSV, WOO_CSV
from tests.utils.server import Account

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _error(res: Any) -> dict[str, Any]:
    body = res.json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert {"code", "message", "details", "timestamp", "requestId"} <= set(err), err
    return dict(err)


def _upload(client: TestClient, account: Account, path: Any, **form: str) -> Any:
    return client.post(
        "/api/commerce/products/import",
        files={"file": (path.name, path.read_bytes(), "text/csv")},
        data=form,
        headers=account.headers,
    )


def _member(client: TestClient, owner: Account, role: str) -> dict[str, str]:
    email = f"{role}-{owner.user_id[:8]}@example.com"
    res = client.post(
        "/api/team/members",
        json={"email": email, "name": role.title(), "role": role, "password": f"{role} passphrase 123"},
        headers=owner.headers,
    )
    assert res.status_code == 201, res.text
    token = client.post("/api/auth/login", json={"email": email, "password": f"{role} passphrase 123"}).json()
    return {"Authorization": f"Bearer {token['accessToken']}"}


def test_csv_import_then_search_and_read_products(client: TestClient, owner: Account) -> None:
    res = _upload(client, owner, SHOPIFY_CSV, storeUrl="https://northwind.coffee")
    assert res.status_code == 200, res.text
    body = res.json()
    assert (body["format"], body["created"], body["productsImported"], body["skipped"]) == (
        "shopify",
        3,
        3,
        3,
    )
    assert body["syncStatus"] == "completed"
    assert {p["reason"] for p in body["problems"]} >= {"the row has no Handle"}
    again = _upload(client, owner, SHOPIFY_CSV, storeUrl="https://northwind.coffee").json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)
    page = client.get("/api/commerce/products", params={"search": "yirga"}, headers=owner.headers).json()
    assert page["total"] == 1 and page["page"] == 1 and page["limit"] == 20
    beans = page["products"][0]
    assert beans["title"] == "Ethiopia Yirgacheffe" and beans["price"] == 14.5 and beans["inventoryQty"] == 60
    assert beans["inStock"] is True and len(beans["variants"]) == 3 and beans["variants"][1]["price"] == 48.0
    sold_out = client.get("/api/commerce/products", params={"inStock": "false"}, headers=owner.headers).json()
    assert [p["title"] for p in sold_out["products"]] == ["Holiday Blend"]
    one = client.get(f"/api/commerce/products/{beans['id']}", headers=owner.headers)
    assert (
        one.status_code == 200
        and one.json()["url"] == "https://northwind.coffee/products/ethiopia-yirgacheffe"
    )
    woo = _upload(client, owner, WOO_CSV, format="woocommerce", currency="EUR").json()
    assert (woo["format"], woo["created"]) == ("woocommerce", 3)
    assert (
        client.get("/api/commerce/products", params={"limit": 2, "page": 3}, headers=owner.headers).json()[
            "total"
        ]
        == 6
    )


def test_bad_uploads_and_parameters_answer_422_in_the_seed_format(client: TestClient, owner: Account) -> None:
    res = client.post(
        "/api/commerce/products/import",
        files={"file": ("x.csv", b"a,b\n1,2\n", "text/csv")},
        headers=owner.headers,
    )
    assert res.status_code == 422 and _error(res)["code"] == "VALIDATION_ERROR"
    assert (
        client.get("/api/commerce/products", params={"limit": 500}, headers=owner.headers).status_code == 422
    )
    bad_url = client.post(
        "/api/commerce/products/sync",
        json={
            "platform": "woocommerce",
            "storeUrl": "http://127.0.0.1:8000",
            "apiKey": "ck",
            "apiSecret": "cs",
        },
        headers=owner.headers,
    )
    assert bad_url.status_code == 422 and _error(bad_url)["details"] == {"field": "storeUrl"}
    unsupported = client.post(
        "/api/commerce/products/sync",
        json={"platform": "bigcommerce", "storeUrl": "https://x.example.com", "apiKey": "k"},
        headers=owner.headers,
    )
    assert unsupported.status_code == 422
    period = client.get(
        "/api/commerce/analytics",
        params={"startDate": "2026-11-10T00:00:00Z", "endDate": "2026-11-01T00:00:00Z"},
        headers=owner.headers,
    )
    assert period.status_code == 422 and _error(period)["code"] == "VALIDATION_ERROR"


def test_store_sync_over_the_api_keeps_credentials_encrypted_and_never_returns_them(
    client: TestClient, owner: Account
) -> None:
    body = {
        "platform": "woocommerce",
        "storeUrl": "https://tea.example.com",
        "apiKey": "ck_live",
        "apiSecret": "cs_live",
    }
    with COMMERCE_VCR.use_cassette("woocommerce_products.yaml") as cassette:
        res = client.post("/api/commerce/products/sync", json=body, headers=owner.headers)
    assert res.status_code == 200, res.text
    assert cassette.all_played
    out = res.json()
    assert (out["syncStatus"], out["productsImported"], out["format"]) == ("completed", 3, "woocommerce_api")
    assert "cs_live" not in res.text and "ck_live" not in res.text
    chai = client.get("/api/commerce/products", params={"search": "chai"}, headers=owner.headers).json()[
        "products"
    ][0]
    assert chai["storeId"] == out["storeId"] and chai["currency"] == "EUR"
    assert [v["sku"] for v in chai["variants"]] == ["TEA-CHAI-100", "TEA-CHAI-250"]
    with COMMERCE_VCR.use_cassette("shopify_unauthorized.yaml"):
        refused = client.post(
            "/api/commerce/products/sync",
            json={"platform": "shopify", "storeUrl": "northwind-coffee", "apiKey": "revoked"},
            headers=owner.headers,
        )
    assert refused.status_code == 422 and _error(refused)["code"] == "PLATFORM_AUTH_FAILED"


def test_viewers_read_the_catalog_but_only_managers_change_it(client: TestClient, owner: Account) -> None:
    _upload(client, owner, SHOPIFY_CSV)
    viewer = _member(client, owner, "viewer")
    assert client.get("/api/commerce/products", headers=viewer).status_code == 200
    assert client.get("/api/commerce/analytics", headers=viewer).status_code == 200
    res = client.post(
        "/api/commerce/products/import",
        files={"file": ("p.csv", SHOPIFY_CSV.read_bytes(), "text/csv")},
        headers=viewer,
    )
    assert res.status_code == 403 and _error(res)["code"] == "FORBIDDEN"
    assert client.post("/api/commerce/events", json={"type": "click"}, headers=viewer).status_code == 403
    assert client.post("/api/commerce/webhook-secret", headers=viewer).status_code == 403


@pytest.fixture
def sandbox_post(app: Any, client: TestClient, owner: Account) -> dict[str, Any]:
    """The owner's workspace connected to a sandbox world (Threads, X), a campaign, a catalog and a draft
    post for both platforms."""
    services = app.state.services
    engine = services.engine
    world = SandboxWorld.create(
        engine, seed=7, brand="Northwind Coffee", platforms=("threads", "x"), start=T0
    )
    _upload(client, owner, SHOPIFY_CSV, storeUrl="https://northwind.coffee")
    with Session(engine, expire_on_commit=False) as session:
        accounts = connect_sandbox_world(
            session, services.accounts, workspace_id=owner.workspace_id, world=world
        )
        campaign = campaigns.create_campaign(
            session, workspace_id=owner.workspace_id, data=CampaignIn(name="Spring Beans")
        )
        post = publishing.create_post(
            session,
            workspace_id=owner.workspace_id,
            content=PostContent(text="Spring single origin, floral and bright"),
            targets=[PostTarget(platform=a.platform, account_id=a.id) for a in accounts],
            campaign_id=campaign.id,
        )
        session.commit()
    products = client.get("/api/commerce/products", headers=owner.headers).json()["products"]
    return {
        "world": world,
        "post_id": post.id,
        "campaign_id": campaign.id,
        "products": {p["handle"]: p["id"] for p in products},
    }


async def test_an_attributed_sale_from_a_tagged_post(
    app: Any, client: TestClient, owner: Account, sandbox_post: dict[str, Any]
) -> None:
    post_id, world = sandbox_post["post_id"], sandbox_post["world"]
    beans = sandbox_post["products"]["ethiopia-yirgacheffe"]
    tag = client.post(
        f"/api/commerce/posts/{post_id}/tag",
        json={"products": [{"productId": beans, "position": {"x": 0.42, "y": 0.7}}]},
        headers=owner.headers,
    )
    assert tag.status_code == 200, tag.text
    body = tag.json()
    assert body["post"]["products"] == [{"productId": beans, "position": {"x": 0.42, "y": 0.7}}]
    links = {link["platform"]: link for link in body["shoppableLinks"]}
    assert set(links) == {"threads", "x"} and all(link["applied"] for link in links.values())
    threads_link = links["threads"]["url"]
    assert parse_qs(urlsplit(threads_link).query) == {
        "utm_source": ["threads"],
        "utm_medium": ["social"],
        "utm_campaign": ["spring-beans"],
        "utm_content": [post_id],
    }

    # Publish through the outbox, exactly as the worker does.
    engine = app.state.services.engine
    with Session(engine, expire_on_commit=False) as session:
        entries = publishing.schedule_post(
            session, workspace_id=owner.workspace_id, post_id=post_id, at=world.now(), now=world.now()
        )
        session.commit()
    publisher = Publisher(engine, app.state.services.accounts, clock=world.now)
    for entry in entries:
        assert await publisher.process(entry.key) == "published"
    with Session(engine) as session:
        assert (
            publishing.get_post(session, workspace_id=owner.workspace_id, post_id=post_id).status
            == "published"
        )
        published = {e.platform: e.payload for e in entries}
        assert published["threads"]["link"] == threads_link
        assert published["x"]["text"].endswith(links["x"]["url"])

    # Tags on a published post still track (links answered), but the post itself is not touched.
    late_tag = client.post(
        f"/api/commerce/posts/{post_id}/tag", json={"products": [{"productId": beans}]}, headers=owner.headers
    ).json()
    assert (
        late_tag["post"]["status"] == "published" and late_tag["post"]["version"] == body["post"]["version"]
    )
    assert [link["applied"] for link in late_tag["shoppableLinks"]] == [False, False]

    # A shopper clicks the Threads link, then buys; the store reports both.
    click = client.post(
        "/api/commerce/events",
        json={"type": "click", "visitorId": "shopper-1", "landingUrl": threads_link},
        headers=owner.headers,
    )
    assert click.status_code == 201, click.text
    assert click.json()["event"]["postId"] == post_id and click.json()["event"]["platform"] == "threads"
    order = {
        "type": "purchase",
        "orderId": "#1001",
        "visitorId": "shopper-1",
        "currency": "USD",
        "revenue": 43.5,
        "items": [{"productId": "NW-YIR-250-WB", "quantity": 3, "price": "14.50"}],
    }
    purchase = client.post("/api/commerce/events", json=order, headers=owner.headers)
    assert purchase.status_code == 201, purchase.text
    event = purchase.json()["event"]
    assert (event["postId"], event["platform"], event["campaignId"], event["attributedVia"]) == (
        post_id,
        "threads",
        sandbox_post["campaign_id"],
        "click",
    )

    report = client.get("/api/commerce/analytics", headers=owner.headers).json()
    assert report["metrics"] == {
        "clicks": 1,
        "addToCarts": 0,
        "purchases": 1,
        "revenue": 43.5,
        "conversionRate": 1.0,
        "attributedRevenue": 43.5,
        "averageOrderValue": 43.5,
    }
    assert report["platformBreakdown"] == [
        {"platform": "threads", "revenue": 43.5, "conversions": 1, "clicks": 1}
    ]
    assert [(p["postId"], p["revenue"], p["platforms"]) for p in report["posts"]] == [
        (post_id, 43.5, ["threads"])
    ]
    assert [(c["campaignId"], c["name"], c["revenue"]) for c in report["campaigns"]] == [
        (sandbox_post["campaign_id"], "Spring Beans", 43.5)
    ]
    assert [(t["product"]["id"], t["clicks"], t["revenue"]) for t in report["topProducts"]] == [
        (beans, 1, 43.5)
    ]
    listed = client.get("/api/commerce/conversions", params={"postId": post_id}, headers=owner.headers).json()
    assert listed["total"] == 2 and {c["type"] for c in listed["conversions"]} == {"click", "purchase"}


def test_signed_webhooks_bad_signatures_and_replayed_orders(client: TestClient, owner: Account) -> None:
    secret = client.post("/api/commerce/webhook-secret", headers=owner.headers)
    assert secret.status_code == 201
    info = secret.json()
    assert info["signatureHeader"] == "X-Brandcrew-Hmac-Sha256" and info["secret"].startswith("whsec_")
    raw = json.dumps({"type": "purchase", "orderId": "W-1", "revenue": "20.00", "currency": "EUR"}).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Brandcrew-Workspace": owner.workspace_id,
        "X-Brandcrew-Hmac-Sha256": sign(info["secret"], raw),
    }
    first = client.post("/api/commerce/events", content=raw, headers=headers)
    assert first.status_code == 201, first.text
    assert first.json()["event"]["source"] == "webhook" and first.json()["duplicate"] is False
    replay = client.post("/api/commerce/events", content=raw, headers=headers)
    assert replay.status_code == 200 and replay.json()["duplicate"] is True
    assert replay.json()["event"]["id"] == first.json()["event"]["id"]
    tampered = raw.replace(b"20.00", b"2000.00")
    bad = client.post("/api/commerce/events", content=tampered, headers=headers)
    assert bad.status_code == 401 and _error(bad)["code"] == "UNAUTHORIZED"
    unsigned = client.post("/api/commerce/events", content=raw, headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 401
    wrong_secret = {**headers, "X-Brandcrew-Hmac-Sha256": sign("whsec_guess", raw)}
    assert client.post("/api/commerce/events", content=raw, headers=wrong_secret).status_code == 401
    report = client.get("/api/commerce/analytics", params={"currency": "EUR"}, headers=owner.headers).json()
    assert (report["metrics"]["purchases"], report["metrics"]["revenue"]) == (1, 20.0)


def test_another_workspace_gets_404_and_is_never_counted(
    client: TestClient, owner: Account, second_owner: Account, sandbox_post: dict[str, Any]
) -> None:
    post_id = sandbox_post["post_id"]
    beans = sandbox_post["products"]["ethiopia-yirgacheffe"]
    assert client.get(f"/api/commerce/products/{beans}", headers=second_owner.headers).status_code == 404
    other_tag = client.post(
        f"/api/commerce/posts/{post_id}/tag", json={"products": []}, headers=second_owner.headers
    )
    assert other_tag.status_code == 404 and _error(other_tag)["code"] == "NOT_FOUND"
    # Tagging its own post with the first workspace's product is a 404 too (and tags nothing).
    assert client.get("/api/commerce/products", headers=second_owner.headers).json()["total"] == 0
    # Events naming the first workspace's post credit nothing in either workspace.
    client.post(
        "/api/commerce/events",
        json={"type": "purchase", "orderId": "X-9", "revenue": 99, "utmContent": post_id},
        headers=second_owner.headers,
    )
    mine = client.get("/api/commerce/analytics", headers=owner.headers).json()
    theirs = client.get("/api/commerce/analytics", headers=second_owner.headers).json()
    assert mine["metrics"]["purchases"] == 0 and mine["posts"] == []
    assert (
        theirs["metrics"]["revenue"] == 99.0 and theirs["posts"] == [] and theirs["platformBreakdown"] == []
    )
    # A webhook signed with the second workspace's secret cannot write into the first.
    secret = client.post("/api/commerce/webhook-secret", headers=second_owner.headers).json()["secret"]
    raw = b'{"type":"purchase","orderId":"Z-1","revenue":"5"}'
    forged = client.post(
        "/api/commerce/events",
        content=raw,
        headers={
            "Content-Type": "application/json",
            "X-Brandcrew-Workspace": owner.workspace_id,
            "X-Brandcrew-Hmac-Sha256": sign(secret, raw),
        },
    )
    assert forged.status_code == 401
    assert client.get("/api/commerce/conversions", headers=owner.headers).json()["total"] == 0

"""The influencer API: discovery from the workspace's mentions, the saved list, campaigns, the
collaboration pipeline, the report; tenancy, permissions and the seed's error envelope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from brandcrew.services.workspaces import ensure_workspace
from brandcrew.store.tables import AuditLog
from tests.utils.influencers import EMBEDDER, coffee_brand, constructed_authors, mention, store
from tests.utils.server import Account

START = datetime(2026, 10, 20, tzinfo=UTC)


def _error(res: Any) -> dict[str, Any]:
    body = res.json()
    assert set(body) == {"error"}, body
    err: dict[str, Any] = body["error"]
    assert {"code", "message", "details", "timestamp", "requestId"} <= set(err)
    assert err["requestId"] and err["message"]
    return err


@pytest.fixture
def brand(app: Any, client: TestClient, owner: Account) -> Account:
    """The owner's workspace as a coffee brand whose mentions include the three constructed authors."""
    services = app.state.services
    services.extras["embedder"] = EMBEDDER
    with Session(services.engine) as session:
        ensure_workspace(session, coffee_brand(owner.workspace_id))
        store(session, owner.workspace_id, constructed_authors(START))
        session.commit()
    return owner


def _viewer(client: TestClient, owner: Account) -> dict[str, str]:
    email = f"viewer-{owner.workspace_id[:8]}@example.com"
    res = client.post(
        "/api/team/members",
        json={"email": email, "name": "Vi", "role": "viewer", "password": "viewer passphrase"},
        headers=owner.headers,
    )
    assert res.status_code == 201, res.text
    token = client.post("/api/auth/login", json={"email": email, "password": "viewer passphrase"}).json()
    return {"Authorization": f"Bearer {token['accessToken']}"}


def _campaign(client: TestClient, owner: Account, **extra: Any) -> dict[str, Any]:
    body = {
        "name": "Autumn pour-over",
        "brief": "Three creators brew our Guji on camera",
        "budget": 5000,
        "currency": "EUR",
        "startDate": "2026-11-01T00:00:00Z",
        "endDate": "2026-11-30T00:00:00Z",
        "goals": [{"metric": "engagements", "target": 8000}, {"metric": "reach", "target": 100000}],
        **extra,
    }
    res = client.post("/api/influencers/campaigns", json=body, headers=owner.headers)
    assert res.status_code == 201, res.text
    return dict(res.json())


def _save(client: TestClient, owner: Account, username: str, **extra: Any) -> dict[str, Any]:
    res = client.post(
        "/api/influencers", json={"platform": "x", "username": username, **extra}, headers=owner.headers
    )
    assert res.status_code == 201, res.text
    return dict(res.json())


def test_discover_ranks_and_explains_candidates_from_the_workspace_mentions(
    client: TestClient, brand: Account, second_owner: Account
) -> None:
    res = client.get(
        "/api/influencers/discover", params={"platform": "x", "minFollowers": 1000}, headers=brand.headers
    )
    assert res.status_code == 200, res.text
    found = res.json()["candidates"]
    names = [c["username"] for c in found]
    assert names[0] == "brewnerd" and set(names) == {"brewnerd", "megastar", "growfast"}
    bought = next(c for c in found if c["username"] == "growfast")
    jump = next(s for s in bought["signals"] if s["name"] == "follower_jump")
    assert jump == {
        "name": "follower_jump",
        "measured": True,
        "flagged": True,
        "value": pytest.approx(45_000 / 3_050 - 1, rel=1e-4),
        "threshold": 0.25,
        "flaggedWhen": "above",
        "penalty": 0.3,
        "sample": 5,
        "detail": jump["detail"],
    }
    assert {c["name"] for c in bought["components"]} == {
        "relevance",
        "engagement",
        "reach",
        "sentiment",
        "affinity",
    }
    assert bought["tier"] == "micro" and bought["authenticity"] < 1 and "engagementRate" in bought

    narrow = client.get(
        "/api/influencers/discover",
        params={"minFollowers": 1_000_000, "maxFollowers": 5_000_000, "limit": 1},
        headers=brand.headers,
    ).json()["candidates"]
    assert [c["username"] for c in narrow] == ["megastar"]
    # Without a connected account on x there is no profile to read: enriching changes nothing.
    enriched = client.get(
        "/api/influencers/discover",
        params={"platform": "x", "minFollowers": 1000, "enrich": True},
        headers=brand.headers,
    )
    assert enriched.status_code == 200 and enriched.json()["candidates"] == found
    # Another workspace's discovery never sees these mentions.
    theirs = client.get("/api/influencers/discover", headers=second_owner.headers)
    assert theirs.status_code == 200 and theirs.json()["candidates"] == []


def test_saved_list_crud_audit_and_tenancy(
    app: Any, client: TestClient, brand: Account, second_owner: Account
) -> None:
    saved = _save(
        client, brand, "@brewnerd", notes="Met at the roasting fair", tags=["coffee", "video", "coffee"]
    )
    assert saved["username"] == "brewnerd" and saved["tags"] == ["coffee", "video"]
    assert saved["tier"] == "micro" and saved["followers"] == 18_200 and saved["score"] > 0
    assert saved["analysis"]["signals"] and saved["analysis"]["components"]
    dup = client.post(
        "/api/influencers", json={"platform": "x", "username": "BrewNerd"}, headers=brand.headers
    )
    assert dup.status_code == 409 and _error(dup)["details"] == {"influencerId": saved["id"]}
    # An author with no mentions can be saved by hand; discovery has nothing to add.
    manual = _save(client, brand, "newface", followers=600_000)
    assert manual["tier"] == "macro" and manual["score"] is None and manual["analysis"] == {}

    page = client.get("/api/influencers", params={"tag": "coffee"}, headers=brand.headers).json()
    assert [i["id"] for i in page["items"]] == [saved["id"]] and page["total"] == 1
    assert (
        client.get("/api/influencers", params={"limit": 1, "page": 2}, headers=brand.headers).json()["total"]
        == 2
    )
    url = f"/api/influencers/{saved['id']}"
    changed = client.put(url, json={"notes": "Rates sent", "tags": ["coffee"]}, headers=brand.headers)
    assert changed.status_code == 200 and changed.json()["notes"] == "Rates sent"

    # New mentions since saving: analyze re-scores from them.
    with Session(app.state.services.engine) as session:
        store(
            session,
            brand.workspace_id,
            [
                mention(
                    "brewnerd",
                    50,
                    "Pour over at dawn #pourover",
                    followers=52_000,
                    likes=700,
                    at=START + timedelta(days=9),
                )
            ],
        )
        session.commit()
    analyzed = client.post(f"{url}/analyze", headers=brand.headers)
    assert analyzed.status_code == 200, analyzed.text
    assert analyzed.json()["followers"] == 52_000 and analyzed.json()["tier"] == "mid"
    assert analyzed.json()["analysis"]["mentions"] == 7 and analyzed.json()["notes"] == "Rates sent"
    assert client.post(f"{url}/analyze", headers=second_owner.headers).status_code == 404

    # The other workspace can neither see nor touch it.
    assert client.get(url, headers=second_owner.headers).status_code == 404
    assert client.put(url, json={"notes": "x"}, headers=second_owner.headers).status_code == 404
    assert client.delete(url, headers=second_owner.headers).status_code == 404
    assert client.get("/api/influencers", headers=second_owner.headers).json()["items"] == []
    assert client.get(url, headers=brand.headers).json()["notes"] == "Rates sent"

    assert client.delete(url, headers=brand.headers).status_code == 204
    assert client.get(url, headers=brand.headers).status_code == 404
    with Session(app.state.services.engine) as session:
        actions = session.exec(
            select(AuditLog.action).where(AuditLog.resource_id == saved["id"]).order_by(AuditLog.timestamp)  # type: ignore[arg-type]
        ).all()
    assert list(actions) == [
        "influencer.save",
        "influencer.update",
        "influencer.analyze",
        "influencer.delete",
    ]


def test_collaboration_pipeline_enforces_transitions(client: TestClient, brand: Account) -> None:
    campaign = _campaign(client, brand)
    person = _save(client, brand, "brewnerd")
    res = client.post(
        f"/api/influencers/campaigns/{campaign['id']}/collaborations",
        json={"influencerId": person["id"], "fee": 1200, "deliverables": [{"kind": "video", "dueAt": "2026-11-10T00:00:00Z"}]},
        headers=brand.headers,
    )  # fmt: skip
    assert res.status_code == 201, res.text
    collab = res.json()
    assert collab["status"] == "prospect" and collab["allowedTransitions"] == ["contacted", "declined"]
    assert collab["currency"] == "EUR" and collab["fee"] == 1200
    url = f"/api/influencers/collaborations/{collab['id']}"

    jump = client.put(url, json={"status": "live"}, headers=brand.headers)
    assert jump.status_code == 409
    err = _error(jump)
    assert err["code"] == "CONFLICT"
    assert err["message"] == (
        "a collaboration cannot go from prospect to live; from prospect it can go to: contacted, declined"
    )
    assert err["details"] == {"from": "prospect", "to": "live", "allowed": ["contacted", "declined"]}
    early = client.put(url, json={"results": {"engagements": 10}}, headers=brand.headers)
    assert early.status_code == 409 and "once the collaboration is live" in _error(early)["message"]

    for step in ("contacted", "negotiating", "agreed"):
        moved = client.put(url, json={"status": step}, headers=brand.headers)
        assert moved.status_code == 200 and moved.json()["status"] == step
    deliverable = moved.json()["deliverables"][0]
    live = client.put(
        url,
        json={
            "status": "live",
            "posts": [{"url": "https://x.example/brewnerd/99"}, {"platformPostId": "1790001"}],
            "results": {"reach": 40000, "engagements": 3000, "clicks": 480},
            "deliverables": [{**deliverable, "done": True}],
        },
        headers=brand.headers,
    )
    assert live.status_code == 200, live.text
    body = live.json()
    assert body["results"] == {"reach": 40000, "engagements": 3000, "clicks": 480, "costPerEngagement": 0.4}
    assert body["deliverables"][0]["done"] and body["deliverables"][0]["doneAt"]
    assert body["deliverables"][0]["id"] == deliverable["id"]
    assert [p["platform"] for p in body["posts"]] == ["x", "x"]
    assert [h["to"] for h in body["statusHistory"]] == [
        "prospect",
        "contacted",
        "negotiating",
        "agreed",
        "live",
    ]

    assert client.put(url, json={"status": "declined"}, headers=brand.headers).status_code == 409
    done = client.put(url, json={"status": "completed"}, headers=brand.headers)
    assert done.status_code == 200 and done.json()["allowedTransitions"] == []
    final = client.put(url, json={"status": "live"}, headers=brand.headers)
    assert final.status_code == 409 and "none (it is final)" in _error(final)["message"]

    # Declined can be reopened as a prospect, and only that.
    other = _save(client, brand, "megastar")
    c2 = client.post(
        f"/api/influencers/campaigns/{campaign['id']}/collaborations",
        json={"influencerId": other["id"], "status": "contacted"},
        headers=brand.headers,
    ).json()
    url2 = f"/api/influencers/collaborations/{c2['id']}"
    assert client.put(url2, json={"status": "declined"}, headers=brand.headers).status_code == 200
    assert client.put(url2, json={"status": "agreed"}, headers=brand.headers).status_code == 409
    assert client.put(url2, json={"status": "prospect"}, headers=brand.headers).json()["status"] == "prospect"
    again = client.post(
        f"/api/influencers/campaigns/{campaign['id']}/collaborations",
        json={"influencerId": other["id"]},
        headers=brand.headers,
    )
    assert again.status_code == 409
    # An influencer past the prospect stage cannot be deleted (the history would go with them).
    gone = client.delete(f"/api/influencers/{person['id']}", headers=brand.headers)
    assert gone.status_code == 409 and _error(gone)["details"]["collaborations"][0]["status"] == "completed"


def test_campaign_report_math(client: TestClient, brand: Account) -> None:
    campaign = _campaign(client, brand)
    cid = campaign["id"]
    plan = [
        ("brewnerd", 1200, "completed", {"reach": 40000, "engagements": 3000, "clicks": 480}),
        ("growfast", 800.5, "live", {"reach": 10000, "engagements": 1000, "clicks": 20}),
        ("megastar", 2500, "agreed", None),
        ("newface", 900, "declined", None),
    ]
    path = {
        "completed": ["contacted", "negotiating", "agreed", "live", "completed"],
        "live": ["contacted", "negotiating", "agreed", "live"],
        "agreed": ["contacted", "negotiating", "agreed"],
        "declined": ["declined"],
    }
    for username, fee, status, results in plan:
        person = _save(client, brand, username)
        collab = client.post(
            f"/api/influencers/campaigns/{cid}/collaborations",
            json={
                "influencerId": person["id"],
                "fee": fee,
                "deliverables": [
                    {"kind": "post", "dueAt": "2026-11-05T00:00:00Z", "done": status == "completed"},
                    {"kind": "story", "dueAt": "2999-01-01T00:00:00Z"},
                ],
            },
            headers=brand.headers,
        ).json()
        url = f"/api/influencers/collaborations/{collab['id']}"
        for step in path[status]:
            body: dict[str, Any] = {"status": step}
            if step == "live" and results:
                body["results"] = results
            assert client.put(url, json=body, headers=brand.headers).status_code == 200

    res = client.get(f"/api/influencers/campaigns/{cid}/report", headers=brand.headers)
    assert res.status_code == 200, res.text
    report = res.json()
    totals = report["totals"]
    assert report["currency"] == "EUR"
    assert totals["committed"] == 4500.5  # agreed + live + completed; the declined fee is not spent
    assert totals["paidOut"] == 1200
    assert totals["budget"] == 5000 and totals["budgetRemaining"] == 499.5
    assert totals["budgetUsed"] == pytest.approx(0.9001)
    assert (totals["reach"], totals["engagements"], totals["clicks"]) == (50000, 4000, 500)
    # Cost per engagement: fees of the collaborations with results / their engagements.
    assert totals["feesWithResults"] == 2000.5
    assert totals["costPerEngagement"] == pytest.approx(2000.5 / 4000, abs=1e-4)
    assert totals["costPerClick"] == pytest.approx(2000.5 / 500, abs=1e-4)
    assert totals["cpm"] == pytest.approx(2000.5 / 50000 * 1000, abs=1e-4)
    assert totals["engagementRate"] == pytest.approx(0.08)
    assert totals["byStatus"] == {
        "prospect": 0, "contacted": 0, "negotiating": 0, "agreed": 1, "live": 1, "completed": 1, "declined": 1,
    }  # fmt: skip
    # Every collaboration's post was due 2026-11-05; only the completed one delivered it.
    assert (totals["deliverablesDone"], totals["deliverablesTotal"]) == (1, 8)
    assert totals["deliverablesOverdue"] == 3
    lines = {line["username"]: line for line in report["collaborations"]}
    assert lines["brewnerd"]["costPerEngagement"] == 0.4
    assert lines["growfast"]["costPerEngagement"] == pytest.approx(0.8005)
    assert lines["megastar"]["costPerEngagement"] is None
    goals = {g["metric"]: g for g in report["goals"]}
    assert goals["engagements"] == {"metric": "engagements", "target": 8000, "current": 4000, "progress": 0.5}
    assert goals["reach"]["progress"] == 0.5

    detail = client.get(f"/api/influencers/campaigns/{cid}", headers=brand.headers).json()
    assert len(detail["collaborations"]) == 4 and detail["budget"] == 5000
    # The currency is fixed once fees are recorded in it.
    change = client.put(f"/api/influencers/campaigns/{cid}", json={"currency": "USD"}, headers=brand.headers)
    assert change.status_code == 409
    renamed = client.put(
        f"/api/influencers/campaigns/{cid}",
        json={"name": "Autumn brew", "status": "active"},
        headers=brand.headers,
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == "Autumn brew"
    listed = client.get(
        "/api/influencers/campaigns", params={"status": "active"}, headers=brand.headers
    ).json()
    assert [c["id"] for c in listed["items"]] == [cid]


def test_campaigns_and_collaborations_of_another_workspace_are_not_found(
    client: TestClient, brand: Account, second_owner: Account
) -> None:
    campaign = _campaign(client, brand)
    person = _save(client, brand, "brewnerd")
    collab = client.post(
        f"/api/influencers/campaigns/{campaign['id']}/collaborations",
        json={"influencerId": person["id"]},
        headers=brand.headers,
    ).json()
    h = second_owner.headers
    for method, path, body in [
        ("GET", f"/api/influencers/campaigns/{campaign['id']}", None),
        ("PUT", f"/api/influencers/campaigns/{campaign['id']}", {"name": "mine now"}),
        ("GET", f"/api/influencers/campaigns/{campaign['id']}/report", None),
        (
            "POST",
            f"/api/influencers/campaigns/{campaign['id']}/collaborations",
            {"influencerId": person["id"]},
        ),
        ("PUT", f"/api/influencers/collaborations/{collab['id']}", {"status": "contacted"}),
    ]:
        res = client.request(method, path, json=body, headers=h)
        assert res.status_code == 404, (method, path, res.text)
        assert _error(res)["code"] == "NOT_FOUND"
    # Their own campaign cannot take our influencer either.
    theirs = _campaign(client, second_owner)
    res = client.post(
        f"/api/influencers/campaigns/{theirs['id']}/collaborations",
        json={"influencerId": person["id"]},
        headers=h,
    )
    assert res.status_code == 404
    assert [c["id"] for c in client.get("/api/influencers/campaigns", headers=h).json()["items"]] == [
        theirs["id"]
    ]
    after = client.get(f"/api/influencers/campaigns/{campaign['id']}", headers=brand.headers).json()
    assert after["name"] == campaign["name"] and after["collaborations"][0]["status"] == "prospect"


def test_viewer_reads_but_cannot_write(client: TestClient, brand: Account) -> None:
    campaign = _campaign(client, brand)
    person = _save(client, brand, "brewnerd")
    collab = client.post(
        f"/api/influencers/campaigns/{campaign['id']}/collaborations",
        json={"influencerId": person["id"]},
        headers=brand.headers,
    ).json()
    viewer = _viewer(client, brand)
    for path in (
        "/api/influencers/discover",
        "/api/influencers",
        f"/api/influencers/{person['id']}",
        "/api/influencers/campaigns",
        f"/api/influencers/campaigns/{campaign['id']}",
        f"/api/influencers/campaigns/{campaign['id']}/report",
    ):
        assert client.get(path, headers=viewer).status_code == 200, path
    for method, path, body in [
        ("POST", "/api/influencers", {"platform": "x", "username": "megastar"}),
        ("PUT", f"/api/influencers/{person['id']}", {"notes": "x"}),
        ("DELETE", f"/api/influencers/{person['id']}", None),
        ("POST", f"/api/influencers/{person['id']}/analyze", None),
        ("POST", "/api/influencers/campaigns", {"name": "x"}),
        ("PUT", f"/api/influencers/campaigns/{campaign['id']}", {"name": "x"}),
        (
            "POST",
            f"/api/influencers/campaigns/{campaign['id']}/collaborations",
            {"influencerId": person["id"]},
        ),
        ("PUT", f"/api/influencers/collaborations/{collab['id']}", {"status": "contacted"}),
    ]:
        res = client.request(method, path, json=body, headers=viewer)
        assert res.status_code == 403, (method, path, res.text)
        assert _error(res)["code"] == "FORBIDDEN" and "influencer:manage" in _error(res)["message"]
    assert client.get(f"/api/influencers/{person['id']}", headers=brand.headers).json()["notes"] == ""


def test_bad_input_is_422_in_the_seed_envelope(client: TestClient, brand: Account) -> None:
    h = brand.headers
    campaign = _campaign(client, brand)
    person = _save(client, brand, "brewnerd")
    collab = client.post(
        f"/api/influencers/campaigns/{campaign['id']}/collaborations",
        json={"influencerId": person["id"]},
        headers=h,
    ).json()
    curl = f"/api/influencers/collaborations/{collab['id']}"
    cases: list[tuple[str, str, Any, str]] = [
        ("POST", "/api/influencers/campaigns", {"name": "x", "startDate": "2026-12-01T00:00:00Z", "endDate": "2026-11-01T00:00:00Z"}, "endDate is before startDate"),
        ("POST", "/api/influencers/campaigns", {"name": "x", "currency": "euro"}, "currency"),
        ("POST", "/api/influencers/campaigns", {"name": "x", "budget": -1}, "budget"),
        ("POST", "/api/influencers/campaigns", {"name": "x", "goals": [{"metric": "vibes", "target": 1}]}, "goals.0.metric"),
        ("POST", "/api/influencers/campaigns", {"name": "x", "startDate": "next tuesday"}, "startDate"),
        ("POST", "/api/influencers", {"platform": "x", "username": "@"}, "username is empty"),
        ("POST", "/api/influencers", {"platform": "X!", "username": "a"}, "platform"),
        ("PUT", f"/api/influencers/{person['id']}", {"tags": [""]}, "tags are 1 to 64 characters"),
        ("PUT", curl, {"status": "hired"}, "status"),
        ("PUT", curl, {"currency": "USD"}, "campaign's currency EUR"),
        ("PUT", curl, {"deliverables": [{"id": "not-ours", "kind": "post"}]}, "deliverable not-ours is not part"),
        ("PUT", curl, {"posts": [{"platform": "x"}]}, "a post needs a url or a platformPostId"),
        ("PUT", curl, {"results": {"reach": -5}}, "results.reach"),
        ("PUT", curl, {"fee": "lots"}, "fee"),
        ("PUT", curl, {"unknownField": 1}, "unknownField"),
        ("GET", "/api/influencers/discover?minFollowers=500&maxFollowers=100", None, "maxFollowers is below minFollowers"),
        ("GET", "/api/influencers/discover?limit=0", None, "limit"),
        ("GET", "/api/influencers?tier=giga", None, "tier"),
    ]  # fmt: skip
    for method, path, body, expected in cases:
        res = client.request(method, path, json=body, headers=h)
        assert res.status_code == 422, (method, path, body, res.text)
        err = _error(res)
        assert err["code"] in ("VALIDATION_ERROR", "MISSING_REQUIRED_FIELD"), err
        assert expected in res.text, (expected, res.text)
    missing = client.post("/api/influencers/campaigns", json={"brief": "no name"}, headers=h)
    assert missing.status_code == 422 and _error(missing)["code"] == "MISSING_REQUIRED_FIELD"
    # Nothing was changed by the refused requests.
    after = client.get(f"/api/influencers/campaigns/{campaign['id']}", headers=h).json()
    assert after["collaborations"][0]["status"] == "prospect" and after["collaborations"][0]["posts"] == []
    assert len(client.get("/api/influencers/campaigns", headers=h).json()["items"]) == 1
    assert client.get(f"/api/influencers/{person['id']}", headers=h).json()["tags"] == []


def test_report_counts_overdue_deliverables_against_the_clock(
    app: Any, client: TestClient, brand: Account
) -> None:
    campaign = _campaign(client, brand)
    person = _save(client, brand, "brewnerd")
    client.post(
        f"/api/influencers/campaigns/{campaign['id']}/collaborations",
        json={
            "influencerId": person["id"],
            "deliverables": [{"kind": "reel", "dueAt": "2026-11-10T00:00:00Z"}],
        },
        headers=brand.headers,
    )
    url = f"/api/influencers/campaigns/{campaign['id']}/report"
    app.state.services.clock = lambda: datetime(2026, 11, 9, tzinfo=UTC)
    assert client.get(url, headers=brand.headers).json()["totals"]["deliverablesOverdue"] == 0
    app.state.services.clock = lambda: datetime(2026, 11, 10, tzinfo=UTC) + timedelta(seconds=1)
    assert client.get(url, headers=brand.headers).json()["totals"]["deliverablesOverdue"] == 1

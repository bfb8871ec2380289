"""Listening over the API on the sandbox: queries, polled mentions, sentiment, trends, an alert rule whose
crisis alert pauses publishing until it is acknowledged over the API; tenancy, roles and bad input."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from brandcrew.jobs.listening import poll_listening
from brandcrew.llm.runtime import LlmRuntime
from brandcrew.notify import RetryPolicy
from brandcrew.services.alerts import AlertNotifier
from brandcrew.store.tables import AlertChannel, AlertDelivery, AuditLog, Workspace
from tests.utils.api_world import connect_world, error_of, teammate
from tests.utils.server import Account

BRAND_QUERY = 'northwind OR @northwindcoffee OR "northwind coffee"'


async def _poll(app: Any, account: Account, world: Any, *, minutes: int = 0) -> list[str]:
    """One listening round now, then one every 5 simulated minutes for `minutes`; the alerts raised."""
    services = app.state.services
    runtime = LlmRuntime.from_settings(engine=services.engine)
    notifier = AlertNotifier(
        services.engine, services.accounts.cipher, retry=RetryPolicy(attempts=1, base_s=0.0)
    )

    async def round_() -> list[str]:
        result = await poll_listening(
            services.engine,
            account.workspace_id,
            accounts=services.accounts,
            notifier=notifier,
            runtime=runtime,
        )
        return list(result.poll.alerts)

    raised = await round_()
    for _ in range(minutes // 5):
        world.advance(timedelta(minutes=5))
        raised += await round_()
    return raised


def _paused(app: Any, workspace_id: str) -> str | None:
    with Session(app.state.services.engine) as session:
        workspace = session.get(Workspace, workspace_id)
        assert workspace is not None
        return workspace.publishing_paused_reason


def _create_query(client: TestClient, owner: Account, **extra: Any) -> dict[str, Any]:
    body = {"name": "Brand mentions", "booleanQuery": BRAND_QUERY, "platforms": ["x"], **extra}
    res = client.post("/api/listening/queries", json=body, headers=owner.headers)
    assert res.status_code == 201, res.text
    return dict(res.json()["query"])


async def test_polled_mentions_show_in_mentions_sentiment_and_trends_and_a_crisis_ack_resumes_publishing(
    app: Any, client: TestClient, owner: Account
) -> None:
    world = connect_world(app, owner)
    query = _create_query(client, owner)
    assert (query["booleanQuery"], query["platforms"], query["isActive"]) == (BRAND_QUERY, ["x"], True)
    rule = client.post(
        "/api/listening/alerts",
        json={
            "name": "Crisis watch",
            "queryId": query["id"],
            "conditions": [{"type": "crisis"}],
            "notifications": {"webhook": "http://127.0.0.1:9/brandcrew-alerts"},
            "isActive": True,
        },
        headers=owner.headers,
    )
    assert rule.status_code == 201, rule.text
    alert_rule = rule.json()["alert"]
    assert alert_rule["queryId"] == query["id"] and len(alert_rule["channelIds"]) == 1
    assert alert_rule["conditions"] == [{"type": "crisis", "threshold": None, "keywords": []}]
    rules = client.get("/api/listening/alert-rules", headers=owner.headers).json()["rules"]
    assert rules == [alert_rule]

    await _poll(app, owner, world)  # a day of quiet history
    quiet = client.get(
        "/api/listening/mentions", params={"queryId": query["id"]}, headers=owner.headers
    ).json()
    assert quiet["total"] > 0
    world.schedule_crisis(
        world.now() + timedelta(minutes=10), timedelta(hours=2), intensity=100.0, topic="the data leak"
    )
    raised = await _poll(app, owner, world, minutes=60)
    assert len(raised) == 1

    # Mentions: newest first, counts add up, filters narrow.
    res = client.get(
        "/api/listening/mentions", params={"queryId": query["id"], "limit": 100}, headers=owner.headers
    )
    assert res.status_code == 200, res.text
    page = res.json()
    breakdown = page["sentimentBreakdown"]
    assert page["total"] > quiet["total"] and page["total"] == sum(breakdown.values())
    assert len(page["mentions"]) == 100 and breakdown["negative"] > 0
    times = [m["createdAt"] for m in page["mentions"]]
    assert times == sorted(times, reverse=True)
    assert all("northwind" in m["content"].lower() and m["platform"] == "x" for m in page["mentions"])
    negative = client.get(
        "/api/listening/mentions",
        params={"queryId": query["id"], "sentiment": "negative", "limit": 100, "page": 1},
        headers=owner.headers,
    ).json()
    assert negative["total"] == breakdown["negative"]
    assert all(m["sentiment"] == "negative" for m in negative["mentions"])
    assert negative["sentimentBreakdown"] == breakdown
    reach = sorted(m["reach"] for m in page["mentions"])[50]
    big = client.get(
        "/api/listening/mentions", params={"queryId": query["id"], "minReach": reach}, headers=owner.headers
    ).json()
    assert 0 < big["total"] < page["total"] and all(m["reach"] >= reach for m in big["mentions"])
    second = client.get(
        "/api/listening/mentions",
        params={"queryId": query["id"], "limit": 100, "page": 2},
        headers=owner.headers,
    ).json()
    assert {m["id"] for m in second["mentions"]}.isdisjoint(m["id"] for m in page["mentions"])

    # Sentiment: the crisis hours turn negative, the leak is what people talk about.
    now = world.now()
    res = client.get(
        "/api/listening/sentiment",
        params={
            "queryId": query["id"],
            "startDate": (now - timedelta(hours=30)).isoformat(),
            "endDate": (now + timedelta(minutes=1)).isoformat(),
            "granularity": "hour",
        },
        headers=owner.headers,
    )
    assert res.status_code == 200, res.text
    report = res.json()
    assert report["overall"]["volume"] == sum(p["volume"] for p in report["timeline"]) == page["total"]
    hours = [p["timestamp"] for p in report["timeline"]]
    assert len(hours) >= 3 and hours == sorted(hours) and all(h.endswith(":00:00Z") for h in hours)
    last_hour = report["timeline"][-1]
    assert last_hour["score"] < 0 and last_hour["volume"] == max(p["volume"] for p in report["timeline"])
    topics = {t["topic"]: t for t in report["topics"]}
    assert "leak" in topics and topics["leak"]["sentiment"] < 0

    # Trends: the leak grows against its own (empty) baseline.
    res = client.get("/api/listening/trends", params={"windowHours": 1}, headers=owner.headers)
    assert res.status_code == 200, res.text
    trends = {t["topic"]: t for t in res.json()["trends"]}
    assert "leak" in trends and trends["leak"]["growthRate"] > 2 and trends["leak"]["platforms"] == ["x"]
    assert trends["leak"]["sentiment"] < 0
    hashtags = client.get(
        "/api/listening/trends", params={"windowHours": 1, "category": "hashtag"}, headers=owner.headers
    )
    assert all(t["hashtag"] == "#" + t["topic"] for t in hashtags.json()["trends"])

    # The crisis alert paused publishing; its delivery to the rule's webhook is queued.
    alerts = client.get("/api/listening/alerts", headers=owner.headers).json()["alerts"]
    assert [(a["id"], a["kind"], a["status"], a["pausedPublishing"]) for a in alerts] == [
        (raised[0], "crisis", "open", True)
    ]
    assert (_paused(app, owner.workspace_id) or "").startswith(f"crisis alert {raised[0]}")
    with Session(app.state.services.engine) as session:
        deliveries = session.exec(select(AlertDelivery).where(AlertDelivery.alert_id == raised[0])).all()
        channel = session.get(AlertChannel, alert_rule["channelIds"][0])
    assert [d.channel_id for d in deliveries] == alert_rule["channelIds"]
    assert channel is not None and channel.query_id == query["id"] and channel.kinds == ["crisis"]

    # Acknowledged over the API: publishing resumes, exactly as `brandcrew alerts ack` does.
    ack = client.post(f"/api/listening/alerts/{raised[0]}/acknowledge", headers=owner.headers)
    assert ack.status_code == 200, ack.text
    assert ack.json()["alert"]["status"] == "acknowledged" and ack.json()["publishingPausedReason"] is None
    assert ack.json()["alert"]["acknowledgedBy"] == owner.user_id
    assert _paused(app, owner.workspace_id) is None
    me = client.get("/api/auth/me", headers=owner.headers).json()
    assert me["workspace"]["publishingPausedReason"] is None
    resolved = client.post(
        f"/api/listening/alerts/{raised[0]}/resolve", json={"note": "statement posted"}, headers=owner.headers
    )
    assert resolved.status_code == 200 and resolved.json()["alert"]["status"] == "resolved"
    assert client.get("/api/listening/alerts", headers=owner.headers).json()["alerts"] == []
    closed = client.get("/api/listening/alerts", params={"status": "resolved"}, headers=owner.headers).json()
    assert [a["details"]["resolution"] for a in closed["alerts"]] == ["statement posted"]
    again = client.post(f"/api/listening/alerts/{raised[0]}/acknowledge", headers=owner.headers)
    assert again.status_code == 409 and error_of(again)["code"] == "CONFLICT"
    with Session(app.state.services.engine) as session:
        actions = {
            a.action for a in session.exec(select(AuditLog).where(AuditLog.resource_id == raised[0])).all()
        }
    assert {"raise_alert", "acknowledge_alert", "resolve_alert"} <= actions

    # Deleting the query stops its rule's channel; its mentions stay.
    assert client.delete(f"/api/listening/queries/{query['id']}", headers=owner.headers).status_code == 204
    with Session(app.state.services.engine) as session:
        stopped = session.get(AlertChannel, alert_rule["channelIds"][0])
    assert stopped is not None and stopped.is_active is False
    everything = client.get("/api/listening/mentions", headers=owner.headers).json()
    assert everything["total"] == page["total"]


def test_queries_are_created_read_changed_and_deleted(client: TestClient, owner: Account) -> None:
    created = _create_query(
        client, owner, keywords=["cold brew", "espresso"], languages=["en"], excludeKeywords=["job"]
    )
    assert created["keywords"] == ["cold brew", "espresso"] and created["excludeKeywords"] == ["job"]
    listed = client.get("/api/listening/queries", headers=owner.headers).json()
    assert [q["id"] for q in listed["queries"]] == [created["id"]] and listed["total"] == 1
    changed = client.put(
        f"/api/listening/queries/{created['id']}",
        json={"name": "Coffee talk", "sentimentFilter": "negative", "isActive": False},
        headers=owner.headers,
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()["query"]
    assert (body["name"], body["sentimentFilter"], body["isActive"], body["keywords"]) == (
        "Coffee talk",
        "negative",
        False,
        ["cold brew", "espresso"],
    )
    assert (
        client.get(f"/api/listening/queries/{created['id']}", headers=owner.headers).json()["query"] == body
    )
    assert client.delete(f"/api/listening/queries/{created['id']}", headers=owner.headers).status_code == 204
    gone = client.get(f"/api/listening/queries/{created['id']}", headers=owner.headers)
    assert gone.status_code == 404 and error_of(gone)["code"] == "NOT_FOUND"


def test_bad_input_answers_422_in_the_seed_format(client: TestClient, owner: Account) -> None:
    unbalanced = client.post(
        "/api/listening/queries", json={"name": "x", "booleanQuery": "(northwind OR"}, headers=owner.headers
    )
    err = error_of(unbalanced)
    assert unbalanced.status_code == 422 and err["code"] == "VALIDATION_ERROR"
    assert err["details"]["field"] == "booleanQuery" and "position" in err["details"]
    for deep in ("(" * 900 + "a" + ")" * 900, "-" * 1500 + "a"):
        nested = client.post(
            "/api/listening/queries", json={"name": "x", "booleanQuery": deep}, headers=owner.headers
        )
        assert nested.status_code == 422 and error_of(nested)["details"]["field"] == "booleanQuery"
    empty = client.post("/api/listening/queries", json={"name": "x"}, headers=owner.headers)
    assert empty.status_code == 422 and error_of(empty)["details"]["field"] == "keywords"
    missing = client.post("/api/listening/queries", json={"keywords": ["a"]}, headers=owner.headers)
    assert missing.status_code == 422 and error_of(missing)["code"] == "MISSING_REQUIRED_FIELD"
    for params in (
        {"granularity": "minute"},
        {"startDate": "yesterday"},
        {"startDate": "2026-11-03T00:00:00Z", "endDate": "2026-11-02T00:00:00Z"},
    ):
        query = {"queryId": "q", "startDate": "2026-11-01T00:00:00Z", "endDate": "2026-11-02T00:00:00Z"}
        res = client.get("/api/listening/sentiment", params={**query, **params}, headers=owner.headers)
        assert res.status_code in (404, 422), res.text
        assert res.status_code == 422 or params == {}, params
    query = _create_query(client, owner)
    backwards = client.get(
        "/api/listening/sentiment",
        params={
            "queryId": query["id"],
            "startDate": "2026-11-03T00:00:00Z",
            "endDate": "2026-11-02T00:00:00Z",
        },
        headers=owner.headers,
    )
    assert backwards.status_code == 422 and error_of(backwards)["details"]["field"] == "startDate"
    too_fine = client.get(
        "/api/listening/sentiment",
        params={
            "queryId": query["id"],
            "startDate": "2020-01-01",
            "endDate": "2026-01-01",
            "granularity": "hour",
        },
        headers=owner.headers,
    )
    assert too_fine.status_code == 422
    assert (
        client.get("/api/listening/mentions", params={"limit": 0}, headers=owner.headers).status_code == 422
    )
    assert (
        client.get("/api/listening/mentions", params={"limit": 101}, headers=owner.headers).status_code == 422
    )
    keyword = client.post(
        "/api/listening/alerts",
        json={
            "name": "kw",
            "queryId": query["id"],
            "conditions": [{"type": "keyword_match", "keywords": ["x"]}],
        },
        headers=owner.headers,
    )
    assert keyword.status_code == 422 and "keyword_match" in error_of(keyword)["message"]
    email = client.post(
        "/api/listening/alerts",
        json={"name": "e", "queryId": query["id"], "conditions": [{"type": "crisis"}],
              "notifications": {"email": ["ana@example.com"]}},
        headers=owner.headers,
    )  # fmt: skip
    assert email.status_code == 422 and error_of(email)["details"]["field"] == "notifications.emailServer"
    bad_url = client.post(
        "/api/listening/alerts",
        json={"name": "w", "queryId": query["id"], "conditions": [{"type": "crisis"}],
              "notifications": {"webhook": "not a url"}},
        headers=owner.headers,
    )  # fmt: skip
    assert bad_url.status_code == 422
    with_locations = client.post(
        "/api/listening/queries",
        json={"name": "l", "keywords": ["a"], "locations": ["Berlin"]},
        headers=owner.headers,
    )
    assert with_locations.status_code == 422


def test_another_workspace_sees_none_of_it_and_a_viewer_cannot_change_it(
    app: Any, client: TestClient, owner: Account, second_owner: Account
) -> None:
    from brandcrew.services import alerts
    from brandcrew.store.tables import utcnow

    query = _create_query(client, owner)
    with Session(app.state.services.engine, expire_on_commit=False) as session:
        alert = alerts.record_alert(
            session,
            workspace_id=owner.workspace_id,
            query_id=query["id"],
            query_name="Brand mentions",
            kind="crisis",
            rule_key="crisis",
            severity="high",
            reason="spike",
            details={},
            window_start=utcnow(),
            window_end=utcnow(),
            cooldown=timedelta(hours=6),
            pause=True,
        )
        session.commit()
    assert alert is not None
    other = second_owner.headers
    for method, path, body in (
        ("GET", f"/api/listening/queries/{query['id']}", None),
        ("PUT", f"/api/listening/queries/{query['id']}", {"name": "mine"}),
        ("DELETE", f"/api/listening/queries/{query['id']}", None),
        ("GET", "/api/listening/mentions?queryId=" + query["id"], None),
        (
            "GET",
            f"/api/listening/sentiment?queryId={query['id']}&startDate=2026-01-01&endDate=2026-02-01",
            None,
        ),
        ("POST", f"/api/listening/alerts/{alert.id}/acknowledge", None),
        ("POST", f"/api/listening/alerts/{alert.id}/resolve", None),
        (
            "POST",
            "/api/listening/alerts",
            {"name": "r", "queryId": query["id"], "conditions": [{"type": "crisis"}]},
        ),
    ):
        res = client.request(method, path, json=body, headers=other)
        assert res.status_code == 404, (method, path, res.text)
        assert error_of(res)["code"] == "NOT_FOUND"
    assert client.get("/api/listening/queries", headers=other).json()["total"] == 0
    assert client.get("/api/listening/alerts", headers=other).json()["alerts"] == []
    assert client.get("/api/listening/alert-rules", headers=other).json()["rules"] == []
    assert _paused(app, owner.workspace_id) is not None  # nobody else lifted the pause

    _, viewer = teammate(client, owner, "viewer")
    assert client.get("/api/listening/alerts", headers=viewer).status_code == 200
    for method, path, body in (
        ("POST", "/api/listening/queries", {"name": "v", "keywords": ["a"]}),
        ("POST", f"/api/listening/alerts/{alert.id}/acknowledge", None),
        ("DELETE", f"/api/listening/queries/{query['id']}", None),
    ):
        res = client.request(method, path, json=body, headers=viewer)
        assert res.status_code == 403 and error_of(res)["code"] == "FORBIDDEN", (method, path)
    assert _paused(app, owner.workspace_id) is not None

"""Listening, inbox and approval resources of a workspace, for the tenancy sweep (`tenancy_seed.py`
calls `seed_inbox_resources`): a query, a raised alert, synced conversations, a reply workflow and a
reply waiting under it, an inbox routing rule."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from brandcrew.services import alerts
from brandcrew.store.tables import utcnow
from tests.utils.api_world import connect_world
from tests.utils.server import Account

QUERY_MARKER = "tenancy-query-5c1e"
REPLY_MARKER = "tenancy-reply-5c1e"
RULE_MARKER = "tenancy-rule-5c1e"


def _ok(res: Any) -> Any:
    assert res.is_success, f"{res.request.method} {res.request.url} -> {res.status_code}: {res.text[:500]}"
    return res.json() if res.content else None


def seed_inbox_resources(client: TestClient, owner: Account, ids: dict[str, str], markers: list[str]) -> None:
    """Create the resources and record their ids by the path segment naming them."""
    app: Any = client.app
    h = owner.headers
    connect_world(app, owner)
    query = _ok(
        client.post(
            "/api/listening/queries", json={"name": QUERY_MARKER, "keywords": ["northwind"]}, headers=h
        )
    )["query"]
    ids["queries"] = query["id"]
    _ok(client.post("/api/inbox/sync", headers=h))
    conversation = _ok(client.get("/api/inbox/conversations", headers=h))["conversations"][0]
    ids["messages"] = ids["conversations"] = conversation["id"]
    flow = _ok(
        client.post(
            "/api/workflows",
            json={
                "name": "tenancy replies",
                "resources": ["reply"],
                "steps": [{"name": "s", "roles": ["owner"]}],
            },
            headers=h,
        )
    )["workflow"]
    ids["workflows"] = flow["id"]
    rule = _ok(
        client.post(
            "/api/inbox/rules",
            json={
                "name": RULE_MARKER,
                "conditions": {"keywords": ["refund"]},
                "actions": {"addTags": ["money"]},
            },
            headers=h,
        )
    )["rule"]
    ids["rules"] = rule["id"]
    held = _ok(
        client.post(
            f"/api/inbox/messages/{conversation['id']}/reply", json={"content": REPLY_MARKER}, headers=h
        )
    )
    ids["approvals"] = held["approvalId"]
    with Session(app.state.services.engine, expire_on_commit=False) as session:
        alert = alerts.record_alert(
            session,
            workspace_id=owner.workspace_id,
            query_id=query["id"],
            query_name=QUERY_MARKER,
            kind="crisis",
            rule_key="crisis",
            severity="high",
            reason="tenancy spike",
            details={},
            window_start=utcnow(),
            window_end=utcnow() + timedelta(minutes=5),
            cooldown=timedelta(hours=6),
            pause=True,
        )
        session.commit()
    assert alert is not None
    ids["alerts"] = alert.id
    markers += [QUERY_MARKER, REPLY_MARKER, RULE_MARKER]

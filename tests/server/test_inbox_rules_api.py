"""Inbox routing rules, SLAs, Meta webhooks and auto-replies over the API, on the sandbox: a DM synced in,
routed by a rule, drafted by the engagement agent's tool, approved and sent; SLA breaches alerted once;
webhook signatures checked; rules CRUD with roles and tenancy; auto-replies only for allowed intents."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from brandcrew.store.tables import Alert, SocialAccount
from brandcrew.store.tables.sandbox import SandboxReplyRow
from tests.utils.api_world import connect_world, error_of, teammate
from tests.utils.server import Account

APP_SECRET = "meta-app-secret-for-tests"
VERIFY_TOKEN = "verify-token-for-tests"


def _sandbox_replies(app: Any, world: Any) -> list[SandboxReplyRow]:
    with Session(app.state.services.engine) as session:
        return list(session.exec(select(SandboxReplyRow).where(SandboxReplyRow.world_id == world.id)).all())


def _conversations(client: TestClient, owner: Account, **params: Any) -> list[dict[str, Any]]:
    res = client.get("/api/inbox/conversations", params={"limit": 100, **params}, headers=owner.headers)
    assert res.status_code == 200, res.text
    return list(res.json()["conversations"])


def _rule(client: TestClient, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    res = client.post("/api/inbox/rules", json=body, headers=headers)
    assert res.status_code == 201, res.text
    return dict(res.json()["rule"])


def _iso(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


async def test_a_synced_dm_is_routed_drafted_by_the_agent_approved_and_sent_on_the_sandbox(
    app: Any, client: TestClient, owner: Account
) -> None:
    from brandcrew.tools.context import ToolContext, with_tool_context
    from brandcrew.tools.registry import default_tools

    world = connect_world(app, owner)
    editor_id, _ = teammate(client, owner, "editor", "Eddie")
    _rule(
        client,
        owner.headers,
        {
            "name": "DMs to Eddie",
            "conditions": {"types": ["dm"], "platforms": ["twitter"]},
            "actions": {
                "assignTo": editor_id,
                "addTags": ["dm-triage"],
                "priority": "urgent",
                "slaMinutes": 30,
            },
        },
    )
    sync = client.post("/api/inbox/sync", headers=owner.headers)
    assert sync.status_code == 200 and sync.json()["stored"] > 0, sync.text
    dms = [c for c in _conversations(client, owner) if c["type"] == "dm"]
    assert dms
    for dm in dms:
        assert (dm["assignedTo"], dm["tags"], dm["priority"]) == (editor_id, ["dm-triage"], "urgent")
        messages = client.get(f"/api/inbox/messages/{dm['id']}", headers=owner.headers).json()["messages"]
        first = min(_iso(m["createdAt"]) for m in messages if m["direction"] == "inbound")
        assert _iso(dm["slaDeadline"]) == first + timedelta(minutes=30)
        assert dm["intent"] in ("question", "complaint", "praise", "order_issue", "refund", "spam", "other")
    dm = dms[0]

    # The engagement agent drafts through its tool; nothing reaches the platform before approval.
    tool = default_tools().get("draft_reply")
    ctx = ToolContext(services=app.state.services, workspace_id=owner.workspace_id, agent="engagement")
    drafted = await tool.ainvoke(
        {"conversation_id": dm["id"], "text": "Sorry about that, we are on it!"},
        config=with_tool_context(ctx),
    )
    assert "awaiting approval" in str(drafted)
    assert _sandbox_replies(app, world) == []
    (item,) = client.get("/api/approvals", params={"status": "pending"}, headers=owner.headers).json()[
        "approvals"
    ]
    assert (item["resource"], item["text"]) == ("reply", "Sorry about that, we are on it!")
    res = client.post(f"/api/approvals/{item['id']}/approve", headers=owner.headers)
    assert res.status_code == 200, res.text
    (on_platform,) = _sandbox_replies(app, world)
    assert on_platform.text == "Sorry about that, we are on it!"
    after = client.get(f"/api/inbox/messages/{dm['id']}", headers=owner.headers).json()
    assert after["messages"][-1]["direction"] == "outbound"
    assert after["conversation"]["slaDeadline"] is None  # answered: its SLA is met


async def test_an_sla_breach_raises_one_alert_per_conversation_through_the_listening_round(
    app: Any, client: TestClient, owner: Account
) -> None:
    from brandcrew.jobs.listening import poll_listening
    from brandcrew.services.inbox_rules import check_sla_breaches

    connect_world(app, owner)
    client.put("/api/inbox/settings", json={"slaMinutes": {"medium": 60}}, headers=owner.headers)
    assert client.post("/api/inbox/sync", headers=owner.headers).status_code == 200
    conversations = _conversations(client, owner)
    assert conversations and all(c["slaDeadline"] and c["slaBreachedAt"] is None for c in conversations)
    # One is answered in time: its SLA is met and it is never reported.
    answered = conversations[0]
    res = client.post(
        f"/api/inbox/messages/{answered['id']}/reply", json={"content": "On it"}, headers=owner.headers
    )
    assert res.status_code == 201, res.text
    late = max(_iso(c["slaDeadline"]) for c in conversations) + timedelta(minutes=1)
    services = app.state.services
    first = await poll_listening(
        services.engine,
        owner.workspace_id,
        now=late,
        accounts=services.accounts,
        cipher=services.accounts.cipher,
    )
    expected = {c["id"] for c in conversations[1:]}
    assert set(first.sla_breaches) == expected
    assert check_sla_breaches(services.engine, late + timedelta(hours=1)) == []  # never twice
    with Session(services.engine) as session:
        raised = session.exec(select(Alert).where(Alert.kind == "sla_breach")).all()
    assert sorted(a.details["conversation_id"] for a in raised) == sorted(expected)
    assert all(a.workspace_id == owner.workspace_id and a.severity == "medium" for a in raised)
    breached = _conversations(client, owner, slaBreached=True)
    assert {c["id"] for c in breached} == expected
    assert [c["id"] for c in _conversations(client, owner, slaBreached=False)] == [answered["id"]]


def _signed(body: bytes, secret: str = APP_SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}


def test_meta_webhook_checks_the_handshake_and_signature_and_stores_a_dm_once(
    app: Any, client: TestClient, owner: Account, second_owner: Account
) -> None:
    connect_world(app, owner, platforms=("instagram",))
    _, manager = teammate(client, owner, "manager")
    secrets = {"webhookAppSecret": APP_SECRET, "webhookVerifyToken": VERIFY_TOKEN}
    refused = client.put("/api/inbox/settings", json=secrets, headers=manager)  # inbox:assign is not enough
    assert refused.status_code == 403 and error_of(refused)["code"] == "FORBIDDEN"
    half = client.put("/api/inbox/settings", json={"webhookAppSecret": APP_SECRET}, headers=owner.headers)
    assert half.status_code == 422 and error_of(half)["code"] == "VALIDATION_ERROR"
    res = client.put(
        "/api/inbox/settings",
        json={"webhookAppSecret": APP_SECRET, "webhookVerifyToken": VERIFY_TOKEN},
        headers=owner.headers,
    )
    assert res.status_code == 200 and res.json()["webhookConfigured"] is True, res.text
    assert (
        APP_SECRET not in res.text
        and VERIFY_TOKEN not in client.get("/api/inbox/settings", headers=owner.headers).text
    )
    _rule(
        client,
        owner.headers,
        {
            "name": "refunds",
            "conditions": {"intents": ["refund"]},
            "actions": {"addTags": ["money"], "priority": "high"},
        },
    )
    ws = {"workspace": owner.workspace_id}

    hub = {"hub.mode": "subscribe", "hub.challenge": "1158201444"}
    ok = client.get("/api/inbox/webhooks/instagram", params={**ws, **hub, "hub.verify_token": VERIFY_TOKEN})
    assert (ok.status_code, ok.text) == (200, "1158201444")
    wrong = client.get("/api/inbox/webhooks/instagram", params={**ws, **hub, "hub.verify_token": "nope-nope"})
    assert wrong.status_code == 403 and error_of(wrong)["code"] == "FORBIDDEN"

    with Session(app.state.services.engine) as session:
        account = session.exec(
            select(SocialAccount).where(
                SocialAccount.workspace_id == owner.workspace_id, SocialAccount.platform == "instagram"
            )
        ).one()
    body = json.dumps(
        {
            "object": "instagram",
            "entry": [
                {
                    "id": account.platform_account_id,
                    "time": 1762300000,
                    "messaging": [
                        {
                            "sender": {"id": "777000111"},
                            "recipient": {"id": account.platform_account_id},
                            "timestamp": 1762300000123,
                            "message": {
                                "mid": "aWdfZAG1faXRlbToxOkl",
                                "text": "I want a refund for my beans",
                            },
                        },
                        {  # the account's own message echoed back: not a new inbound message
                            "sender": {"id": account.platform_account_id},
                            "recipient": {"id": "777000111"},
                            "timestamp": 1762300000500,
                            "message": {"mid": "echo-1", "text": "hi", "is_echo": True},
                        },
                    ],
                },
                {  # an account this workspace has not connected: ignored
                    "id": "17841400000000000",
                    "messaging": [{"sender": {"id": "5"}, "message": {"mid": "elsewhere", "text": "hi"}}],
                },
            ],
        }
    ).encode()

    bad = client.post(
        "/api/inbox/webhooks/instagram", params=ws, content=body, headers=_signed(body, "wrong")
    )
    assert bad.status_code == 401 and error_of(bad)["code"] == "UNAUTHORIZED"
    unsigned = client.post(
        "/api/inbox/webhooks/instagram", params=ws, content=body, headers={"Content-Type": "application/json"}
    )
    assert unsigned.status_code == 401
    tampered = body.replace(b"refund", b"refunds")
    assert (
        client.post(
            "/api/inbox/webhooks/instagram", params=ws, content=tampered, headers=_signed(body)
        ).status_code
        == 401
    )
    # Signed with this workspace's secret, sent to another workspace: refused there.
    other = client.post(
        "/api/inbox/webhooks/instagram",
        params={"workspace": second_owner.workspace_id},
        content=body,
        headers=_signed(body),
    )
    assert other.status_code == 401
    assert _conversations(client, owner) == []

    res = client.post("/api/inbox/webhooks/instagram", params=ws, content=body, headers=_signed(body))
    assert res.status_code == 200, res.text
    assert (res.json()["received"], res.json()["stored"], res.json()["ignored"]) == (2, 1, 1)
    (conversation,) = _conversations(client, owner)
    assert (conversation["platform"], conversation["type"], conversation["participantId"]) == (
        "instagram",
        "dm",
        "777000111",
    )
    assert (conversation["intent"], conversation["tags"], conversation["priority"]) == (
        "refund",
        ["money"],
        "high",
    )
    assert _iso(conversation["slaDeadline"]) == datetime.fromtimestamp(1762300000.123, UTC) + timedelta(
        hours=4
    )

    replayed = client.post("/api/inbox/webhooks/instagram", params=ws, content=body, headers=_signed(body))
    assert replayed.status_code == 200 and replayed.json()["stored"] == 0
    assert len(_conversations(client, owner)) == 1
    assert _conversations(client, second_owner) == []


def test_rules_crud_needs_inbox_assign_and_stays_in_its_workspace(
    app: Any, client: TestClient, owner: Account, second_owner: Account
) -> None:
    member_id, editor = teammate(client, owner, "editor")
    _, manager = teammate(client, owner, "manager")
    body = {
        "name": "complaints",
        "conditions": {"intents": ["complaint"]},
        "actions": {"assignTo": member_id},
    }
    refused = client.post("/api/inbox/rules", json=body, headers=editor)
    assert refused.status_code == 403 and error_of(refused)["code"] == "FORBIDDEN"
    rule = _rule(client, manager, body)
    assert (rule["position"], rule["stop"], rule["conditions"]["intents"]) == (0, True, ["complaint"])
    second = _rule(
        client,
        owner.headers,
        {"name": "vips", "conditions": {"vip": True}, "actions": {"priority": "urgent"}},
    )
    assert second["position"] == 1

    listed = client.get("/api/inbox/rules", headers=editor)  # reading needs inbox:view only
    assert listed.status_code == 200 and [r["id"] for r in listed.json()["rules"]] == [
        rule["id"],
        second["id"],
    ]

    changed = client.put(
        f"/api/inbox/rules/{rule['id']}", json={"position": 5, "stop": False}, headers=owner.headers
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["rule"]["position"], changed.json()["rule"]["stop"]) == (5, False)
    assert changed.json()["rule"]["actions"]["assignTo"] == member_id
    assert [r["id"] for r in client.get("/api/inbox/rules", headers=owner.headers).json()["rules"]] == [
        second["id"],
        rule["id"],
    ]
    assert client.put(f"/api/inbox/rules/{rule['id']}", json={"name": "x"}, headers=editor).status_code == 403
    assert client.delete(f"/api/inbox/rules/{rule['id']}", headers=editor).status_code == 403

    # Another workspace neither sees nor changes them.
    assert client.get("/api/inbox/rules", headers=second_owner.headers).json()["rules"] == []
    for method, payload in (("PUT", {"name": "stolen"}), ("DELETE", None)):
        res = client.request(
            method, f"/api/inbox/rules/{rule['id']}", json=payload, headers=second_owner.headers
        )
        assert res.status_code == 404 and error_of(res)["code"] == "NOT_FOUND"
    foreign = client.post(
        "/api/inbox/rules",
        json={"name": "steal", "actions": {"assignTo": member_id}},
        headers=second_owner.headers,
    )
    assert foreign.status_code == 422 and error_of(foreign)["details"]["field"] == "actions.assignTo"

    for bad in (
        {"name": "no action", "actions": {}},
        {"name": "bad priority", "actions": {"priority": "asap"}},
        {"name": "bad intent", "conditions": {"intents": ["gossip"]}, "actions": {"priority": "low"}},
        {"name": "", "actions": {"priority": "low"}},
        {"name": "sla", "actions": {"slaMinutes": 0}},
    ):
        res = client.post("/api/inbox/rules", json=bad, headers=owner.headers)
        assert res.status_code == 422 and error_of(res)["code"] == "VALIDATION_ERROR", (bad, res.text)

    assert client.delete(f"/api/inbox/rules/{rule['id']}", headers=owner.headers).status_code == 204
    assert client.delete(f"/api/inbox/rules/{rule['id']}", headers=owner.headers).status_code == 404
    assert [r["id"] for r in client.get("/api/inbox/rules", headers=owner.headers).json()["rules"]] == [
        second["id"]
    ]


def test_auto_replies_answer_only_the_intents_the_workspace_allows(
    app: Any, client: TestClient, owner: Account
) -> None:
    world = connect_world(app, owner, platforms=("x", "instagram"))
    template = client.post(
        "/api/inbox/templates",
        json={"name": "discounts", "content": "Hi {{name}}! Our codes are on northwind.example/deals"},
        headers=owner.headers,
    ).json()["template"]
    unknown = client.put(
        "/api/inbox/settings", json={"autoReplies": {"question": "nope"}}, headers=owner.headers
    )
    assert unknown.status_code == 422
    res = client.put(
        "/api/inbox/settings", json={"autoReplies": {"question": template["id"]}}, headers=owner.headers
    )
    assert res.status_code == 200 and res.json()["autoReplies"] == {"question": template["id"]}, res.text

    sync = client.post("/api/inbox/sync", headers=owner.headers).json()
    conversations = _conversations(client, owner)
    questions = {c["id"] for c in conversations if c["intent"] == "question"}
    others = {c["id"] for c in conversations if c["intent"] != "question"}
    assert questions and others  # the sandbox's DMs have both
    assert sync["autoReplies"] == len(questions)
    replies = _sandbox_replies(app, world)
    assert len(replies) == len(questions)
    assert all(r.text.startswith("Hi ") and "northwind.example/deals" in r.text for r in replies)
    for c in conversations:
        messages = client.get(f"/api/inbox/messages/{c['id']}", headers=owner.headers).json()["messages"]
        outbound = [m for m in messages if m["direction"] == "outbound"]
        assert len(outbound) == (1 if c["id"] in questions else 0), c
    # A second sync brings nothing new and answers nothing again.
    assert client.post("/api/inbox/sync", headers=owner.headers).json()["autoReplies"] == 0
    assert len(_sandbox_replies(app, world)) == len(questions)


def test_an_auto_reply_waits_for_approval_under_a_reply_workflow(
    app: Any, client: TestClient, owner: Account
) -> None:
    world = connect_world(app, owner, platforms=("instagram",))
    flow = client.post(
        "/api/workflows",
        json={"name": "replies", "resources": ["reply"], "steps": [{"name": "s", "roles": ["owner"]}]},
        headers=owner.headers,
    )
    assert flow.status_code == 201, flow.text
    template = client.post(
        "/api/inbox/templates",
        json={"name": "faq", "content": "See our FAQ, {{name}}"},
        headers=owner.headers,
    ).json()["template"]
    client.put(
        "/api/inbox/settings", json={"autoReplies": {"question": template["id"]}}, headers=owner.headers
    )
    sync = client.post("/api/inbox/sync", headers=owner.headers).json()
    questions = [c for c in _conversations(client, owner) if c["intent"] == "question"]
    assert questions and sync["autoReplies"] == len(questions)
    pending = client.get("/api/approvals", params={"status": "pending"}, headers=owner.headers).json()[
        "approvals"
    ]
    assert len(pending) == len(questions) and all(p["text"].startswith("See our FAQ, ") for p in pending)
    assert _sandbox_replies(app, world) == []
    assert client.post(f"/api/approvals/{pending[0]['id']}/approve", headers=owner.headers).status_code == 200
    assert [r.text for r in _sandbox_replies(app, world)] == [pending[0]["text"]]

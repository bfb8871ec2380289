"""The inbox over the API on the sandbox: DMs synced in, read, assigned, answered (the sandbox gets the
reply), saved replies with variables, a reply workflow holding replies for approval; tenancy, roles, 422s."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from brandcrew.store.tables import AuditLog
from brandcrew.store.tables.sandbox import SandboxReplyRow
from tests.utils.api_world import connect_world, error_of, teammate
from tests.utils.server import Account


def _sandbox_replies(app: Any, world: Any) -> list[SandboxReplyRow]:
    with Session(app.state.services.engine) as session:
        return list(session.exec(select(SandboxReplyRow).where(SandboxReplyRow.world_id == world.id)).all())


def _synced(app: Any, client: TestClient, owner: Account) -> tuple[Any, list[dict[str, Any]]]:
    world = connect_world(app, owner)
    res = client.post("/api/inbox/sync", headers=owner.headers)
    assert res.status_code == 200, res.text
    assert res.json()["accounts"] == 1 and res.json()["stored"] > 0 and res.json()["errors"] == []
    page = client.get("/api/inbox/conversations", params={"limit": 100}, headers=owner.headers).json()
    return world, page["conversations"]


def test_synced_dms_are_read_assigned_and_answered_on_the_sandbox(
    app: Any, client: TestClient, owner: Account
) -> None:
    world, conversations = _synced(app, client, owner)
    page = client.get("/api/inbox/conversations", params={"limit": 100}, headers=owner.headers).json()
    assert page["total"] == len(conversations) and page["unreadCount"] == page["total"]
    latest = [c["lastMessageAt"] for c in conversations]
    assert latest == sorted(latest, reverse=True)
    assert all(c["platform"] == "x" and c["status"] == "open" and c["sentiment"] for c in conversations)
    dm = next(c for c in conversations if c["type"] == "dm")

    # Syncing again stores nothing twice.
    again = client.post("/api/inbox/sync", headers=owner.headers).json()
    assert again["stored"] == 0 and again["fetched"] > 0

    # Opening a conversation shows its messages and marks it read.
    res = client.get(f"/api/inbox/messages/{dm['id']}", headers=owner.headers)
    assert res.status_code == 200, res.text
    detail = res.json()
    assert detail["conversation"]["id"] == dm["id"] and detail["messages"]
    assert all(m["direction"] == "inbound" for m in detail["messages"])
    assert detail["participant"]["name"] == dm["participantName"] and detail["participant"]["platform"] == "x"
    unread = client.get(
        "/api/inbox/conversations", params={"unreadOnly": True, "limit": 100}, headers=owner.headers
    )
    assert unread.json()["unreadCount"] == page["unreadCount"] - 1
    assert dm["id"] not in {c["id"] for c in unread.json()["conversations"]}

    # Assigned to a teammate; the assignee filter finds it.
    editor_id, _ = teammate(client, owner, "editor", "Eddie")
    assigned = client.put(
        f"/api/inbox/conversations/{dm['id']}/assign",
        json={"assignedTo": editor_id, "note": "yours"},
        headers=owner.headers,
    )
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["conversation"]["assignedTo"] == editor_id
    mine = client.get(
        "/api/inbox/conversations", params={"assignedTo": editor_id}, headers=owner.headers
    ).json()
    assert [c["id"] for c in mine["conversations"]] == [dm["id"]]

    # The reply goes out through the sandbox connector, answering the latest inbound message.
    res = client.post(
        f"/api/inbox/messages/{dm['id']}/reply",
        json={"content": "Sorry about that! We're sending a fresh bag today.", "isPrivate": True},
        headers=owner.headers,
    )
    assert res.status_code == 201, res.text
    sent = res.json()
    assert sent["approvalId"] is None and sent["message"]["direction"] == "outbound"
    (on_platform,) = _sandbox_replies(app, world)
    assert on_platform.text == "Sorry about that! We're sending a fresh bag today."
    assert on_platform.remote_id == sent["message"]["platformMessageId"]
    assert on_platform.in_reply_to == detail["messages"][-1]["platformMessageId"]
    assert sent["conversation"]["lastReadAt"] == sent["conversation"]["lastMessageAt"]
    thread = client.get(f"/api/inbox/messages/{dm['id']}", headers=owner.headers).json()["messages"]
    assert thread[-1]["direction"] == "outbound" and thread[-1]["authorId"] == owner.user_id

    # A saved reply with variables: {{name}} comes from the conversation, the rest from the request.
    template = client.post(
        "/api/inbox/templates",
        json={
            "name": "Order issue",
            "content": "Hi {{name}}, thanks for telling us about your {{item}}. A fix is on its way.",
            "category": "support",
            "variables": ["name", "item"],
        },
        headers=owner.headers,
    )
    assert template.status_code == 201, template.text
    tid = template.json()["template"]["id"]
    listed = client.get("/api/inbox/templates", params={"category": "support"}, headers=owner.headers).json()
    assert [t["id"] for t in listed["templates"]] == [tid] and listed["templates"][0]["variables"] == [
        "name",
        "item",
    ]
    missing = client.post(
        f"/api/inbox/messages/{dm['id']}/reply", json={"templateId": tid}, headers=owner.headers
    )
    assert missing.status_code == 422 and error_of(missing)["details"]["missing"] == ["item"]
    templated = client.post(
        f"/api/inbox/messages/{dm['id']}/reply",
        json={"templateId": tid, "variables": {"item": "grinder"}},
        headers=owner.headers,
    )
    assert templated.status_code == 201, templated.text
    expected = f"Hi {dm['participantName']}, thanks for telling us about your grinder. A fix is on its way."
    assert templated.json()["message"]["content"] == expected
    assert [r.text for r in _sandbox_replies(app, world)][-1] == expected
    assert client.get("/api/inbox/templates", headers=owner.headers).json()["templates"][0]["usageCount"] == 1

    # Resolved, and found by status.
    done = client.put(
        f"/api/inbox/conversations/{dm['id']}/status", json={"status": "resolved"}, headers=owner.headers
    )
    assert done.status_code == 200 and done.json()["conversation"]["status"] == "resolved"
    resolved = client.get(
        "/api/inbox/conversations", params={"status": "resolved"}, headers=owner.headers
    ).json()
    assert [c["id"] for c in resolved["conversations"]] == [dm["id"]]
    with Session(app.state.services.engine) as session:
        actions = [
            a.action for a in session.exec(select(AuditLog).where(AuditLog.resource_id == dm["id"])).all()
        ]
    assert actions.count("reply") == 2 and {"assign", "update"} <= set(actions)


def test_a_reply_workflow_holds_replies_until_a_manager_approves(
    app: Any, client: TestClient, owner: Account
) -> None:
    world, conversations = _synced(app, client, owner)
    dm = next(c for c in conversations if c["type"] == "dm")
    flow = client.post(
        "/api/workflows",
        json={
            "name": "Replies are checked",
            "resources": ["reply"],
            "steps": [{"name": "lead", "roles": ["manager"]}],
        },
        headers=owner.headers,
    )
    assert flow.status_code == 201, flow.text
    _, editor = teammate(client, owner, "editor")
    held = client.post(
        f"/api/inbox/messages/{dm['id']}/reply", json={"content": "We can refund you."}, headers=editor
    )
    assert held.status_code == 202, held.text
    approval_id = held.json()["approvalId"]
    assert held.json()["message"]["direction"] == "outbound_draft" and _sandbox_replies(app, world) == []
    pending = client.get("/api/approvals", params={"status": "pending"}, headers=owner.headers).json()
    (item,) = pending["approvals"]
    assert (item["id"], item["resource"], item["text"], item["platform"], item["conversationId"]) == (
        approval_id,
        "reply",
        "We can refund you.",
        "x",
        dm["id"],
    )
    assert item["workflowId"] == flow.json()["workflow"]["id"]
    # An editor may not decide; a manager approves with an edit and the edited text is what is sent.
    assert client.post(f"/api/approvals/{approval_id}/approve", headers=editor).status_code == 403
    _, manager = teammate(client, owner, "manager")
    res = client.post(
        f"/api/approvals/{approval_id}/edit", json={"text": "We'll refund you today."}, headers=manager
    )
    assert res.status_code == 200, res.text
    assert res.json()["approval"]["status"] == "approved" and res.json()["sentMessageId"]
    (on_platform,) = _sandbox_replies(app, world)
    assert on_platform.text == "We'll refund you today."
    messages = client.get(f"/api/inbox/messages/{dm['id']}", headers=owner.headers).json()["messages"]
    assert [m["content"] for m in messages if m["direction"] == "outbound"] == ["We'll refund you today."]
    # A rejected draft is never sent.
    other = client.post(f"/api/inbox/messages/{dm['id']}/reply", json={"content": "lol"}, headers=editor)
    rejected = client.post(
        f"/api/approvals/{other.json()['approvalId']}/reject", json={"reason": "tone"}, headers=manager
    )
    assert rejected.status_code == 200 and rejected.json()["approval"]["status"] == "rejected"
    assert len(_sandbox_replies(app, world)) == 1
    directions = [
        m["direction"]
        for m in client.get(f"/api/inbox/messages/{dm['id']}", headers=owner.headers).json()["messages"]
    ]
    assert "outbound_rejected" in directions and "outbound_draft" not in directions
    # The workflow cannot be deleted while replies wait under it; it can once none do.
    client.post(f"/api/inbox/messages/{dm['id']}/reply", json={"content": "one more"}, headers=editor)
    wid = flow.json()["workflow"]["id"]
    blocked = client.delete(f"/api/workflows/{wid}", headers=owner.headers)
    assert blocked.status_code == 409 and error_of(blocked)["details"]["pending"] == 1


def test_other_workspaces_get_404_viewers_403_and_bad_input_422(
    app: Any, client: TestClient, owner: Account, second_owner: Account
) -> None:
    _, conversations = _synced(app, client, owner)
    cid = conversations[0]["id"]
    other = second_owner.headers
    for method, path, body in (
        ("GET", f"/api/inbox/messages/{cid}", None),
        ("POST", f"/api/inbox/messages/{cid}/reply", {"content": "hi"}),
        ("PUT", f"/api/inbox/conversations/{cid}/assign", {"assignedTo": second_owner.user_id}),
        ("PUT", f"/api/inbox/conversations/{cid}/status", {"status": "resolved"}),
    ):
        res = client.request(method, path, json=body, headers=other)
        assert res.status_code == 404 and error_of(res)["code"] == "NOT_FOUND", (method, path, res.text)
    assert client.get("/api/inbox/conversations", headers=other).json()["total"] == 0
    assert client.post("/api/inbox/sync", headers=other).json()["stored"] == 0
    # A member of another workspace cannot be assigned.
    outsider = client.put(
        f"/api/inbox/conversations/{cid}/assign",
        json={"assignedTo": second_owner.user_id},
        headers=owner.headers,
    )
    assert outsider.status_code == 422 and error_of(outsider)["details"]["field"] == "assignedTo"

    _, viewer = teammate(client, owner, "viewer")
    assert client.get("/api/inbox/conversations", headers=viewer).status_code == 200
    for method, path, body in (
        ("POST", f"/api/inbox/messages/{cid}/reply", {"content": "hi"}),
        ("PUT", f"/api/inbox/conversations/{cid}/assign", {"assignedTo": owner.user_id}),
        ("POST", "/api/inbox/templates", {"name": "t", "content": "c"}),
        ("POST", "/api/inbox/sync", None),
    ):
        res = client.request(method, path, json=body, headers=viewer)
        assert res.status_code == 403 and error_of(res)["code"] == "FORBIDDEN", (method, path)

    for body in ({}, {"content": ""}, {"content": "a", "templateId": "t"}, {"content": "a", "media": ["m1"]}):
        res = client.post(f"/api/inbox/messages/{cid}/reply", json=body, headers=owner.headers)
        assert res.status_code == 422, (body, res.text)
        error_of(res)
    blank = client.post(f"/api/inbox/messages/{cid}/reply", json={"content": "   "}, headers=owner.headers)
    assert blank.status_code == 422 and error_of(blank)["details"]["field"] == "content"
    status = client.put(
        f"/api/inbox/conversations/{cid}/status", json={"status": "closed"}, headers=owner.headers
    )
    assert status.status_code == 422 and error_of(status)["code"] == "VALIDATION_ERROR"
    assert (
        client.get("/api/inbox/conversations", params={"priority": "huge"}, headers=owner.headers).status_code
        == 422
    )
    mismatch = client.post(
        "/api/inbox/templates",
        json={"name": "t", "content": "Hi {{name}}", "variables": ["name", "order"]},
        headers=owner.headers,
    )
    assert mismatch.status_code == 422 and error_of(mismatch)["details"]["field"] == "variables"
    ok = client.post(
        "/api/inbox/templates", json={"name": "t", "content": "Hi {{name}}"}, headers=owner.headers
    )
    assert ok.status_code == 201
    dup = client.post("/api/inbox/templates", json={"name": "t", "content": "Hello"}, headers=owner.headers)
    assert dup.status_code == 409 and error_of(dup)["code"] == "CONFLICT"


def test_an_agents_reply_draft_waits_in_approvals_and_is_sent_when_approved(
    app: Any, client: TestClient, owner: Account
) -> None:
    from brandcrew.services import inbox

    world, conversations = _synced(app, client, owner)
    dm = next(c for c in conversations if c["type"] == "dm")
    with Session(app.state.services.engine) as session:  # what the engagement agent's draft_reply tool does
        inbox.save_reply_draft(
            session, workspace_id=owner.workspace_id, conversation_id=dm["id"], text="Thanks for writing in!"
        )
        session.commit()
    (item,) = client.get("/api/approvals", params={"status": "pending"}, headers=owner.headers).json()[
        "approvals"
    ]
    assert (item["resource"], item["text"], item["requestedBy"], item["workflowId"]) == (
        "reply",
        "Thanks for writing in!",
        "agent",
        None,
    )
    assert _sandbox_replies(app, world) == []
    res = client.post(f"/api/approvals/{item['id']}/approve", headers=owner.headers)
    assert res.status_code == 200, res.text
    (on_platform,) = _sandbox_replies(app, world)
    assert on_platform.text == "Thanks for writing in!"
    sent = client.get(f"/api/inbox/messages/{dm['id']}", headers=owner.headers).json()["messages"][-1]
    assert (sent["direction"], sent["aiGenerated"], sent["id"]) == (
        "outbound",
        True,
        res.json()["sentMessageId"],
    )


def test_a_platform_refusing_the_reply_answers_429_or_422_and_the_message_is_marked_failed(
    app: Any, client: TestClient, owner: Account, monkeypatch: Any
) -> None:
    from datetime import UTC, datetime

    from brandcrew.connectors.errors import RateLimited, Rejected
    from brandcrew.store.tables import SocialAccount

    _, conversations = _synced(app, client, owner)
    dm = next(c for c in conversations if c["type"] == "dm")
    services = app.state.services
    with Session(services.engine) as session:
        account = session.get(SocialAccount, dm["accountId"])
    connector = services.accounts.connector(account)
    reset = datetime(2026, 11, 4, tzinfo=UTC)

    async def limited(*_: Any, **__: Any) -> Any:
        raise RateLimited("daily reply quota of 1 reached", reset_at=reset, platform="x")

    monkeypatch.setattr(connector, "reply", limited)
    res = client.post(
        f"/api/inbox/messages/{dm['id']}/reply", json={"content": "hello"}, headers=owner.headers
    )
    assert res.status_code == 429 and error_of(res)["code"] == "RATE_LIMIT_EXCEEDED"
    assert error_of(res)["details"]["resetAt"] == reset.isoformat()

    async def refused(*_: Any, **__: Any) -> Any:
        raise Rejected("text too long", platform="x", field="text")

    monkeypatch.setattr(connector, "reply", refused)
    res = client.post(
        f"/api/inbox/messages/{dm['id']}/reply", json={"content": "hello"}, headers=owner.headers
    )
    assert res.status_code == 422 and error_of(res)["details"]["field"] == "content"
    messages = client.get(f"/api/inbox/messages/{dm['id']}", headers=owner.headers).json()["messages"]
    assert [m["direction"] for m in messages if m["direction"] != "inbound"] == ["outbound_failed"] * 2


def test_a_two_step_reply_workflow_is_decided_by_each_steps_approvers_in_turn(
    app: Any, client: TestClient, owner: Account
) -> None:
    world, conversations = _synced(app, client, owner)
    dm = next(c for c in conversations if c["type"] == "dm")
    lead_id, lead = teammate(client, owner, "manager", "Lead")
    _, other_manager = teammate(client, owner, "manager", "Other")
    _, admin = teammate(client, owner, "admin")
    flow = client.post(
        "/api/workflows",
        json={
            "name": "Lead, then an admin",
            "resources": ["reply"],
            "steps": [{"name": "lead", "approvers": [lead_id]}, {"name": "admin", "roles": ["admin"]}],
        },
        headers=owner.headers,
    )
    assert flow.status_code == 201, flow.text
    _, editor = teammate(client, owner, "editor")
    held = client.post(f"/api/inbox/messages/{dm['id']}/reply", json={"content": "draft one"}, headers=editor)
    approval_id = held.json()["approvalId"]

    # Step 1 is the lead's: another manager (who may decide approvals in general) may not decide it.
    wrong = client.post(f"/api/approvals/{approval_id}/approve", headers=other_manager)
    assert wrong.status_code == 403 and error_of(wrong)["details"]["approvers"] == [lead_id]
    early = client.post(f"/api/approvals/{approval_id}/approve", headers=admin)
    assert early.status_code == 403
    first = client.post(f"/api/approvals/{approval_id}/edit", json={"text": "Draft, polished."}, headers=lead)
    assert first.status_code == 200, first.text
    moved = first.json()["approval"]
    assert (moved["status"], moved["step"], moved["text"]) == ("pending", 1, "Draft, polished.")
    assert first.json()["sentMessageId"] is None and _sandbox_replies(app, world) == []
    # Step 2 is any admin's; their approval sends the text as the lead edited it.
    assert client.post(f"/api/approvals/{approval_id}/approve", headers=lead).status_code == 403
    final = client.post(f"/api/approvals/{approval_id}/approve", headers=admin)
    assert final.status_code == 200, final.text
    assert final.json()["approval"]["status"] == "approved" and final.json()["sentMessageId"]
    assert [r.text for r in _sandbox_replies(app, world)] == ["Draft, polished."]

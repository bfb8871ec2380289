"""Seed flow 6 over the API: under an active two-step workflow for posts, a post cannot be scheduled
until it is approved; submitted, each step's approvers decide in turn and are notified through the
workspace's channels; the last approval (with an edit from step 1) schedules the post, and the
requester hears the outcome. A rejection leaves the post an unapproved draft."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from brandcrew.services.alerts import AlertNotifier
from brandcrew.store.tables import Alert, AlertDelivery, OutboxEntry, Post, utcnow
from tests.notify.conftest import Inbox
from tests.utils.api import connect_sandbox, create_post, error_of
from tests.utils.api_world import teammate
from tests.utils.server import Account


def _notices(app: Any, kind: str) -> list[Alert]:
    with Session(app.state.services.engine) as session:
        rows = session.exec(select(Alert).where(Alert.kind == kind).order_by(col(Alert.created_at))).all()
        return list(rows)


@pytest.fixture
def flow(client: TestClient, owner: Account) -> dict[str, Any]:
    """A two-step workflow for posts (the lead, then any admin) and a channel for approval notices."""
    lead_id, lead = teammate(client, owner, "manager", "Lead")
    _, admin = teammate(client, owner, "admin", "Ada Admin")
    editor_id, editor = teammate(client, owner, "editor", "Eddie")
    made = client.post(
        "/api/workflows",
        json={
            "name": "Lead, then an admin",
            "resources": ["post"],
            "steps": [{"name": "brand lead", "approvers": [lead_id]}, {"name": "admin", "roles": ["admin"]}],
        },
        headers=owner.headers,
    )
    assert made.status_code == 201, made.text
    channel = client.post(
        "/api/notifications/channels",
        json={
            "name": "Approvals",
            "kinds": ["approval_requested", "approval_decided"],
            "notifications": {"webhook": "https://hooks.example.com/approvals"},
        },
        headers=owner.headers,
    )
    assert channel.status_code == 201, channel.text
    ids = connect_sandbox(client, owner, ["x"])
    return {
        "workflow": made.json()["workflow"],
        "lead": lead,
        "lead_id": lead_id,
        "admin": admin,
        "editor": editor,
        "editor_id": editor_id,
        "account": ids["x"],
        "channel": channel.json()["channels"][0],
    }


def test_a_post_is_approved_in_two_steps_then_scheduled_and_everyone_hears_of_it(
    app: Any, client: TestClient, owner: Account, flow: dict[str, Any]
) -> None:
    editor = SimpleNamespace(headers=flow["editor"])
    made = create_post(client, editor, flow["account"], text="Winter blend lands Friday.")
    assert made.status_code == 201, made.text
    post_id = made.json()["post"]["id"]
    at = (utcnow() + timedelta(days=2)).replace(microsecond=0)

    # Under an active post workflow nothing unapproved is scheduled or published, by anyone.
    for path, body in (("schedule", {"scheduledAt": at.isoformat()}), ("publish", None)):
        refused = client.post(f"/api/posts/{post_id}/{path}", json=body, headers=owner.headers)
        assert refused.status_code == 409, refused.text
        assert error_of(refused)["code"] == "APPROVAL_REQUIRED"
        assert error_of(refused)["details"]["workflowId"] == flow["workflow"]["id"]

    submitted = client.post(
        "/api/workflows/execute",
        json={"resourceId": post_id, "scheduledAt": at.isoformat(), "comment": "for the Friday slot"},
        headers=flow["editor"],
    )
    assert submitted.status_code == 201, submitted.text
    approval = submitted.json()["approval"]
    assert (approval["status"], approval["step"], approval["workflowId"]) == (
        "pending",
        0,
        flow["workflow"]["id"],
    )
    assert approval["text"] == "Winter blend lands Friday." and approval["requestedBy"] == flow["editor_id"]
    again = client.post("/api/workflows/execute", json={"resourceId": post_id}, headers=flow["editor"])
    assert again.status_code == 409 and error_of(again)["details"]["approvalId"] == approval["id"]
    shown = client.get(f"/api/posts/{post_id}", headers=owner.headers).json()["post"]
    assert (shown["status"], shown["approvalStatus"]) == ("pending_approval", "pending")

    # Step 1's named approver is notified, with the text; the notice is not an alert.
    (first_notice,) = _notices(app, "approval_requested")
    assert first_notice.details["step"] == 0 and first_notice.details["approval_id"] == approval["id"]
    assert [p["id"] for p in first_notice.details["approvers"]] == [flow["lead_id"]]
    assert "Lead" in first_notice.reason and "brand lead" in first_notice.reason
    assert all(a["kind"] not in ("approval_requested",) for a in _alerts(client, owner))

    # An admin may not decide step 1; the lead edits and approves, which moves it to step 2.
    assert client.post(f"/api/approvals/{approval['id']}/approve", headers=flow["admin"]).status_code == 403
    first = client.post(
        f"/api/approvals/{approval['id']}/edit",
        json={"text": "Winter blend lands Friday at 8."},
        headers=flow["lead"],
    )
    assert first.status_code == 200, first.text
    moved = first.json()["approval"]
    assert (moved["status"], moved["step"], moved["text"]) == (
        "pending",
        1,
        "Winter blend lands Friday at 8.",
    )
    assert first.json()["scheduled"] is None
    second_notice = _notices(app, "approval_requested")[-1]
    assert second_notice.details["step"] == 1 and second_notice.details["roles"] == ["admin"]

    # Any admin approves step 2: the post gets the lead's edit, is approved and scheduled as asked.
    final = client.post(f"/api/approvals/{approval['id']}/approve", headers=flow["admin"])
    assert final.status_code == 200, final.text
    assert final.json()["approval"]["status"] == "approved" and final.json()["scheduled"] == 1
    post = client.get(f"/api/posts/{post_id}", headers=owner.headers).json()["post"]
    assert post["content"]["text"] == "Winter blend lands Friday at 8."
    assert (post["status"], post["approvalStatus"]) == ("scheduled", "approved")
    with Session(app.state.services.engine) as session:
        (row,) = session.exec(select(OutboxEntry).where(OutboxEntry.post_id == post_id)).all()
        assert row.due_at.replace(tzinfo=None) == at.replace(tzinfo=None)
    (decided,) = _notices(app, "approval_decided")
    assert decided.reason == "Post approved with edits by Ada Admin"
    assert [p["id"] for p in decided.details["requested_by"]] == [flow["editor_id"]]

    # Each notice went to the approvals channel (and only there), as the seed's Notification Service.
    hooks: list[dict[str, Any]] = []

    def transport(request: httpx.Request) -> httpx.Response:
        hooks.append({"url": str(request.url), "body": request.read().decode()})
        return httpx.Response(200)

    notifier = AlertNotifier(
        app.state.services.engine,
        app.state.services.accounts.cipher,
        client=httpx.AsyncClient(transport=httpx.MockTransport(transport)),
    )
    report = asyncio.run(notifier.deliver_due())
    assert len(report.sent) == 3 and not report.failed
    assert all(h["url"] == "https://hooks.example.com/approvals" for h in hooks)
    assert "Winter blend lands Friday" in hooks[0]["body"] and "Lead" in hooks[0]["body"]
    with Session(app.state.services.engine) as session:
        assert {d.channel_id for d in session.exec(select(AlertDelivery)).all()} == {flow["channel"]["id"]}

    # Editing an approved post takes its approval away again.
    edited = client.put(
        f"/api/posts/{post_id}", json={"content": {"text": "Changed."}}, headers=owner.headers
    )
    assert edited.status_code == 200 and edited.json()["post"]["approvalStatus"] is None
    refused = client.post(f"/api/posts/{post_id}/publish", headers=owner.headers)
    assert refused.status_code == 409 and error_of(refused)["code"] == "APPROVAL_REQUIRED"


def _alerts(client: TestClient, owner: Account) -> list[dict[str, Any]]:
    res = client.get("/api/listening/alerts", headers=owner.headers)
    assert res.status_code == 200, res.text
    return list(res.json()["alerts"])


def test_a_rejection_needs_a_reason_and_leaves_the_post_unapproved(
    app: Any, client: TestClient, owner: Account, flow: dict[str, Any]
) -> None:
    post_id = create_post(client, owner, flow["account"], text="A risky claim.").json()["post"]["id"]
    approval = client.post("/api/workflows/execute", json={"resourceId": post_id}, headers=owner.headers)
    assert approval.status_code == 201, approval.text
    approval_id = approval.json()["approval"]["id"]
    no_reason = client.post(
        f"/api/approvals/{approval_id}/reject", json={"reason": " "}, headers=flow["lead"]
    )
    assert no_reason.status_code == 422
    rejected = client.post(
        f"/api/approvals/{approval_id}/reject", json={"reason": "unsupported claim"}, headers=flow["lead"]
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["approval"]["status"] == "rejected"
    with Session(app.state.services.engine) as session:
        post = session.get(Post, post_id)
        assert post is not None and (post.status, post.approval_status) == ("draft", "rejected")
    (decided,) = _notices(app, "approval_decided")
    assert decided.reason == "Post rejected by Lead: unsupported claim"
    refused = client.post(f"/api/posts/{post_id}/publish", headers=owner.headers)
    assert refused.status_code == 409 and error_of(refused)["code"] == "APPROVAL_REQUIRED"
    # Resubmitted after a fix, it starts again at step 1; bad input gets clear errors.
    client.put(
        f"/api/posts/{post_id}", json={"content": {"text": "A supported claim."}}, headers=owner.headers
    )
    again = client.post("/api/workflows/execute", json={"resourceId": post_id}, headers=owner.headers)
    assert again.status_code == 201 and again.json()["approval"]["step"] == 0
    missing = client.post("/api/workflows/execute", json={"resourceId": "nope"}, headers=owner.headers)
    assert missing.status_code == 404 and error_of(missing)["code"] == "NOT_FOUND"
    other = create_post(client, owner, flow["account"]).json()["post"]["id"]
    past = client.post(
        "/api/workflows/execute",
        json={"resourceId": other, "scheduledAt": "2020-01-01T00:00:00Z"},
        headers=owner.headers,
    )
    assert past.status_code == 422 and error_of(past)["details"]["field"] == "scheduledAt"
    bad_flow = client.post(
        "/api/workflows/execute", json={"resourceId": other, "workflowId": "nope"}, headers=owner.headers
    )
    assert bad_flow.status_code == 404
    _, viewer = teammate(client, owner, "viewer")
    assert (
        client.post("/api/workflows/execute", json={"resourceId": other}, headers=viewer).status_code == 403
    )


def test_an_email_channel_set_to_people_mails_each_step_s_approvers_then_the_requester(
    app: Any, client: TestClient, owner: Account, flow: dict[str, Any], smtp_server: Inbox
) -> None:
    made = client.post(
        "/api/notifications/channels",
        json={
            "name": "Approval mail",
            "kinds": ["approval_requested", "approval_decided"],
            "notifications": {
                "email": ["approvals@northwind.example"],
                "emailServer": {
                    "host": smtp_server.host,
                    "port": smtp_server.port,
                    "sender": "brandcrew@northwind.example",
                    "starttls": False,
                },
                "emailPeople": True,
            },
        },
        headers=owner.headers,
    )
    assert made.status_code == 201, made.text
    post_id = create_post(client, SimpleNamespace(headers=flow["editor"]), flow["account"]).json()["post"][
        "id"
    ]
    submitted = client.post("/api/workflows/execute", json={"resourceId": post_id}, headers=flow["editor"])
    assert submitted.status_code == 201, submitted.text
    rejected = client.post(
        f"/api/approvals/{submitted.json()['approval']['id']}/reject",
        json={"reason": "off brand"},
        headers=flow["lead"],
    )
    assert rejected.status_code == 200, rejected.text
    (asked,) = _notices(app, "approval_requested")
    (decided,) = _notices(app, "approval_decided")
    lead_email = asked.details["approvers"][0]["email"]
    editor_email = decided.details["requested_by"][0]["email"]

    notifier = AlertNotifier(
        app.state.services.engine,
        app.state.services.accounts.cipher,
        client=httpx.AsyncClient(transport=httpx.MockTransport(lambda _: httpx.Response(200))),
    )
    report = asyncio.run(notifier.deliver_due())
    assert len(report.sent) == 4 and not report.failed  # two notices, each to the webhook and the mail
    by_subject = {
        m["Subject"].split("] ", 2)[-1]: e
        for m, e in zip(smtp_server.messages(), smtp_server.envelopes, strict=True)
    }
    assert sorted(e.rcpt_tos for e in by_subject.values()) == sorted(
        [["approvals@northwind.example", lead_email], ["approvals@northwind.example", editor_email]]
    )
    assert any("Approval needed" in s for s in by_subject) and any(
        "Approval decided" in s for s in by_subject
    )

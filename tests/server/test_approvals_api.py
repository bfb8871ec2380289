"""Approvals over the API: an autopilot cycle's posts waiting for a person are approved, edited and
rejected as `brandcrew autopilot approve` does (the cycle resumes and schedules the approved posts);
workflow definitions are stored and validated; viewers get 403, other workspaces 404, bad input 422."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from brandcrew.jobs._dbos import shutdown_dbos
from brandcrew.jobs.autopilot import AutopilotOptions, run_autopilot
from brandcrew.services.users import hash_password
from brandcrew.store.tables import Alert, AuditLog, OutboxEntry, Post, User
from tests.utils.api_world import error_of, teammate
from tests.utils.autopilot import campaign_file
from tests.utils.server import Account


@pytest.fixture
def _dbos_down() -> Iterator[None]:
    """The autopilot run launches DBOS on the test's data dir; stop it afterwards."""
    yield
    shutdown_dbos()


def _owner_of(app: Any, client: TestClient, workspace_id: str) -> dict[str, str]:
    """Log in as a new owner of an existing workspace (the autopilot made it from the brand profile)."""
    with Session(app.state.services.engine) as session:
        session.add(
            User(
                workspace_id=workspace_id,
                email="lead@northwind.example",
                name="Lead",
                role="owner",
                password_hash=hash_password("lead passphrase 1"),
            )
        )
        session.commit()
    res = client.post(
        "/api/auth/login", json={"email": "lead@northwind.example", "password": "lead passphrase 1"}
    )
    assert res.status_code == 200, res.text
    return {"Authorization": f"Bearer {res.json()['accessToken']}"}


@pytest.mark.usefixtures("_dbos_down")
async def test_a_person_approves_edits_and_rejects_autopilot_posts_over_the_api(
    app: Any, client: TestClient, second_owner: Account, tmp_path: Path
) -> None:
    path = campaign_file(tmp_path, approval="human", days=2)
    first = await run_autopilot(path, options=AutopilotOptions(days=1))
    assert first.posts_published == 0 and first.waiting_approval == 3
    owner = _owner_of(app, client, first.workspace_id)

    res = client.get("/api/approvals", params={"status": "pending"}, headers=owner)
    assert res.status_code == 200, res.text
    items = res.json()["approvals"]
    assert len(items) == 3 and res.json()["total"] == 3
    for item in items:
        assert item["resource"] == "post" and item["status"] == "pending" and item["text"]
        assert item["campaignId"] == first.campaign_id and item["cycle"] == 0
        assert item["platform"] in ("x", "instagram") and item["createdAt"]
        assert item["reason"].startswith("policy: a person approves")
    assert sorted(i["platform"] for i in items) == ["instagram", "x", "x"]
    a, b, c = items
    shown = client.get(f"/api/approvals/{a['id']}", headers=owner).json()["approval"]
    assert shown == a
    of_campaign = client.get("/api/approvals", params={"campaignId": first.campaign_id}, headers=owner).json()
    assert of_campaign["total"] == 3
    assert client.get("/api/approvals", params={"campaignId": "nope"}, headers=owner).json()["total"] == 0

    # Viewers see but may not decide; another workspace does not even see.
    _, viewer = teammate(client, owner, "viewer")
    assert client.get("/api/approvals", params={"status": "pending"}, headers=viewer).status_code == 200
    for action, body in (("approve", None), ("edit", {"text": "x"}), ("reject", {"reason": "no"})):
        denied = client.post(f"/api/approvals/{a['id']}/{action}", json=body, headers=viewer)
        assert denied.status_code == 403 and error_of(denied)["code"] == "FORBIDDEN"
    for method, path_, body in (
        ("GET", f"/api/approvals/{a['id']}", None),
        ("POST", f"/api/approvals/{a['id']}/approve", None),
        ("POST", f"/api/approvals/{a['id']}/edit", {"text": "mine"}),
        ("POST", f"/api/approvals/{a['id']}/reject", {"reason": "mine"}),
        ("POST", f"/api/approvals/{a['id']}/comments", {"text": "mine"}),
    ):
        res = client.request(method, path_, json=body, headers=second_owner.headers)
        assert res.status_code == 404 and error_of(res)["code"] == "NOT_FOUND", (method, path_)
    assert client.get("/api/approvals", headers=second_owner.headers).json()["approvals"] == []

    # Bad input changes nothing.
    for action, body in (("edit", {}), ("edit", {"text": "  "}), ("reject", {}), ("reject", {"reason": ""})):
        bad = client.post(f"/api/approvals/{a['id']}/{action}", json=body, headers=owner)
        assert bad.status_code == 422, (action, body, bad.text)
        assert error_of(bad)["code"] in ("VALIDATION_ERROR", "MISSING_REQUIRED_FIELD")
    assert client.get("/api/approvals", params={"status": "pending"}, headers=owner).json()["total"] == 3

    step1 = client.post(f"/api/approvals/{a['id']}/approve", headers=owner)
    assert step1.status_code == 200, step1.text
    assert step1.json()["resumed"] is False and step1.json()["stillPending"] == 2
    assert step1.json()["approval"]["status"] == "approved"
    # A comment after the decision does not change it.
    commented = client.post(f"/api/approvals/{a['id']}/comments", json={"text": "nice one"}, headers=viewer)
    assert commented.status_code == 201 and commented.json()["approval"]["comments"][-1]["text"] == "nice one"
    edited_text = "Cold brew, the Northwind way: coarse grind, 16 hours, patience."
    step2 = client.post(f"/api/approvals/{b['id']}/edit", json={"text": edited_text}, headers=owner)
    assert step2.status_code == 200 and step2.json()["stillPending"] == 1
    assert step2.json()["approval"]["text"] == edited_text
    done = client.post(f"/api/approvals/{c['id']}/reject", json={"reason": "off topic"}, headers=owner)
    assert done.status_code == 200, done.text
    assert done.json()["resumed"] is True and done.json()["scheduled"] == 2
    again = client.post(f"/api/approvals/{c['id']}/approve", headers=owner)
    assert again.status_code == 409 and error_of(again)["code"] == "CONFLICT"
    assert client.get("/api/approvals", params={"status": "pending"}, headers=owner).json()["approvals"] == []

    # Scheduled exactly as the CLI's decisions schedule them: the next run publishes a, b as edited, not c.
    final = await run_autopilot(path, options=AutopilotOptions(days=2))
    engine = app.state.services.engine
    with Session(engine) as session:
        by_post = {r.post_id: r for r in session.exec(select(OutboxEntry)).all()}
        rejected = session.get(Post, c["resourceId"])
        audits = session.exec(select(AuditLog).where(AuditLog.resource == "approval")).all()
    assert by_post[a["resourceId"]].status == "published"
    assert by_post[b["resourceId"]].payload["text"].startswith("Cold brew, the Northwind way")
    assert c["resourceId"] not in by_post and rejected is not None and rejected.status == "rejected"
    assert final.waiting_approval == 3  # day 2's posts wait for a person too
    assert {(x.resource_id, x.action) for x in audits} >= {
        (a["id"], "approve"),
        (a["id"], "comment"),
        (b["id"], "edit_approve"),
        (c["id"], "reject"),
    }


def _member(client: TestClient, owner: Account, role: str) -> str:
    member_id, _ = teammate(client, owner, role)
    return member_id


def test_workflows_are_stored_validated_and_scoped(
    client: TestClient, owner: Account, second_owner: Account
) -> None:
    manager = _member(client, owner, "manager")
    editor = _member(client, owner, "editor")
    body = {
        "name": "Two-step post review",
        "description": "brand lead, then legal",
        "resources": ["post", "reply"],
        "steps": [
            {"name": "brand lead", "approvers": [manager], "minApprovals": 1},
            {"name": "legal", "roles": ["admin", "owner"], "minApprovals": 2},
        ],
    }
    created = client.post("/api/workflows", json=body, headers=owner.headers)
    assert created.status_code == 201, created.text
    flow = created.json()["workflow"]
    assert [s["name"] for s in flow["steps"]] == ["brand lead", "legal"] and flow["isActive"] is True
    assert flow["steps"][0] == {"name": "brand lead", "approvers": [manager], "roles": [], "minApprovals": 1}
    listed = client.get("/api/workflows", headers=owner.headers).json()
    assert [w["id"] for w in listed["workflows"]] == [flow["id"]]
    changed = client.put(
        f"/api/workflows/{flow['id']}", json={"isActive": False, "resources": ["post"]}, headers=owner.headers
    )
    assert changed.status_code == 200 and changed.json()["workflow"]["isActive"] is False
    assert changed.json()["workflow"]["steps"] == flow["steps"]

    for steps, field in (
        ([{"name": "s", "approvers": [editor]}], "steps.0.approvers"),  # an editor may not decide
        ([{"name": "s", "approvers": [second_owner.user_id]}], "steps.0.approvers"),  # another workspace
        ([{"name": "s", "approvers": [manager], "minApprovals": 2}], "steps.0.minApprovals"),
        ([{"name": "s"}], "steps.0.approvers"),
    ):
        bad = client.post("/api/workflows", json={**body, "steps": steps}, headers=owner.headers)
        assert bad.status_code == 422 and error_of(bad)["details"]["field"] == field, (steps, bad.text)
    for extra in (
        {"resources": []},
        {"resources": ["tweet"]},
        {"steps": []},
        {"steps": [{"name": "s", "roles": ["editor"]}]},
    ):
        bad = client.post("/api/workflows", json={**body, **extra}, headers=owner.headers)
        assert bad.status_code == 422, extra

    other = second_owner.headers
    for method, path in (("GET", "get"), ("PUT", "put"), ("DELETE", "delete")):
        res = client.request(
            method,
            f"/api/workflows/{flow['id']}",
            json={"name": "x"} if method == "PUT" else None,
            headers=other,
        )
        assert res.status_code == 404 and error_of(res)["code"] == "NOT_FOUND", path
    assert client.get("/api/workflows", headers=other).json()["workflows"] == []
    _, manager_headers = teammate(client, owner, "manager", "Mona")
    denied = client.post("/api/workflows", json=body, headers=manager_headers)
    assert denied.status_code == 403  # workflow:manage is an admin's
    assert client.get("/api/workflows", headers=manager_headers).status_code == 200

    assert client.delete(f"/api/workflows/{flow['id']}", headers=owner.headers).status_code == 204
    assert client.get(f"/api/workflows/{flow['id']}", headers=owner.headers).status_code == 404


@pytest.mark.usefixtures("_dbos_down")
async def test_autopilot_posts_held_for_a_person_go_through_the_post_workflow_step_by_step(
    app: Any, client: TestClient, tmp_path: Path
) -> None:
    path = campaign_file(tmp_path, approval="human", days=2)
    first = await run_autopilot(path, options=AutopilotOptions(days=1))
    owner = _owner_of(app, client, first.workspace_id)
    for item in client.get("/api/approvals", params={"status": "pending"}, headers=owner).json()["approvals"]:
        assert item["workflowId"] is None  # opened before any workflow: one decision settles it
        assert client.post(f"/api/approvals/{item['id']}/approve", headers=owner).status_code == 200
    lead_id, lead = teammate(client, owner, "manager", "Lead")
    _, admin = teammate(client, owner, "admin", "Ada")
    flow = client.post(
        "/api/workflows",
        json={
            "name": "Lead, then an admin",
            "resources": ["post"],
            "steps": [{"name": "lead", "approvers": [lead_id]}, {"name": "admin", "roles": ["admin"]}],
        },
        headers=owner,
    )
    assert flow.status_code == 201, flow.text

    second = await run_autopilot(path, options=AutopilotOptions(days=2))
    assert second.waiting_approval == 3
    items = client.get("/api/approvals", params={"status": "pending"}, headers=owner).json()["approvals"]
    assert len(items) == 3 and {i["workflowId"] for i in items} == {flow.json()["workflow"]["id"]}
    assert {i["cycle"] for i in items} == {1}
    for n, item in enumerate(items):
        assert client.post(f"/api/approvals/{item['id']}/approve", headers=admin).status_code == 403
        moved = client.post(f"/api/approvals/{item['id']}/approve", headers=lead)
        assert moved.status_code == 200, moved.text
        assert (moved.json()["approval"]["step"], moved.json()["resumed"]) == (1, False)
        final = client.post(f"/api/approvals/{item['id']}/approve", headers=admin)
        assert final.status_code == 200, final.text
        # The cycle resumes once its last item has passed the workflow's last step.
        assert final.json()["resumed"] is (n == 2)
    assert final.json()["scheduled"] == 3
    with Session(app.state.services.engine) as session:
        notices = session.exec(select(Alert).where(Alert.kind == "approval_requested")).all()
    # Day 1's three (no workflow: anyone who decides), then each of day 2's at both steps.
    assert sorted((n.details.get("workflow_id") is not None, n.details["step"]) for n in notices) == [
        *[(False, 0)] * 3,
        *[(True, 0)] * 3,
        *[(True, 1)] * 3,
    ]

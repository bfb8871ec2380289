"""Costs API (ledger totals, summary, one run's costs, budgets) and the audit trail; workspace-scoped."""

from __future__ import annotations

from decimal import Decimal

from fastapi.testclient import TestClient

from brandcrew.llm.context import LlmContext
from brandcrew.llm.limits import budget_key
from brandcrew.llm.runtime import get_runtime
from brandcrew.store.tables import utcnow
from tests.utils.api import connect_sandbox, create_post, error_of, member_headers
from tests.utils.server import Account

GENERATE = {"context": {"topic": "our cold brew", "platforms": ["x"]}, "variations": 2}


def test_costs_after_an_ai_call_show_the_workspaces_spend(
    client: TestClient, owner: Account, second_owner: Account
) -> None:
    run_id = client.post("/api/ai/generate", json=GENERATE, headers=owner.headers).json()["runId"]
    res = client.get("/api/costs", params={"groupBy": "agent,model"}, headers=owner.headers)
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["groupBy"] == ["agent", "model"] and body["calls"] == 2
    (row,) = body["rows"]
    assert row["group"] == {"agent": "content_creator", "model": "offline"} and row["inputTokens"] > 0

    by_run = client.get(
        "/api/costs", params={"groupBy": "run", "runId": run_id}, headers=owner.headers
    ).json()
    assert [r["group"]["run"] for r in by_run["rows"]] == [run_id]
    run = client.get(f"/api/costs/runs/{run_id}", headers=owner.headers).json()
    assert run["calls"] == 2 and run["tokens"] > 0
    assert [a["group"]["agent"] for a in run["agents"]] == ["content_creator"]
    assert [m["group"]["model"] for m in run["models"]] == ["offline"]

    summary = client.get("/api/costs/summary", headers=owner.headers).json()
    assert summary["todayCalls"] == 2 and summary["monthCalls"] == 2
    assert {b["kind"] for b in summary["budgets"]} == {"workspace_day", "workspace_month"}
    assert all(b["limitUsd"] is None for b in summary["budgets"])

    # The other workspace sees none of it, and not the run either.
    assert client.get("/api/costs", headers=second_owner.headers).json()["calls"] == 0
    foreign = client.get(f"/api/costs/runs/{run_id}", headers=second_owner.headers)
    assert foreign.status_code == 404 and error_of(foreign)["code"] == "NOT_FOUND"
    assert client.get("/api/costs/summary", headers=second_owner.headers).json()["monthCalls"] == 0


def test_budgets_are_set_for_the_workspace_and_its_campaigns_only(
    client: TestClient, owner: Account, second_owner: Account
) -> None:
    res = client.put(
        "/api/costs/budget", json={"kind": "workspace_day", "limitUsd": "2.5"}, headers=owner.headers
    )
    assert res.status_code == 200, res.text
    assert Decimal(res.json()["limitUsd"]) == Decimal("2.5") and res.json()["scopeId"] == owner.workspace_id
    runtime = get_runtime()
    assert runtime.limits.get("workspace_day", owner.workspace_id) == Decimal("2.5")
    assert runtime.limits.get("workspace_day", second_owner.workspace_id) is None
    scopes = [s.key for s in runtime.limits.scopes_for(LlmContext(workspace_id=owner.workspace_id))]
    assert budget_key("workspace_day", owner.workspace_id, utcnow()) in scopes
    summary = client.get("/api/costs/summary", headers=owner.headers).json()
    day = next(b for b in summary["budgets"] if b["kind"] == "workspace_day")
    assert Decimal(day["limitUsd"]) == Decimal("2.5") and Decimal(day["remainingUsd"]) == Decimal("2.5")

    cid = client.post("/api/campaigns", json={"name": "Spring"}, headers=owner.headers).json()["campaign"][
        "id"
    ]
    ok = client.put(
        "/api/costs/budget",
        json={"kind": "campaign", "campaignId": cid, "limitUsd": "10"},
        headers=owner.headers,
    )
    assert ok.status_code == 200 and runtime.limits.get("campaign", cid) == Decimal("10")
    stolen = client.put(
        "/api/costs/budget",
        json={"kind": "campaign", "campaignId": cid, "limitUsd": "0"},
        headers=second_owner.headers,
    )
    assert stolen.status_code == 404 and runtime.limits.get("campaign", cid) == Decimal("10")
    cleared = client.put(
        "/api/costs/budget", json={"kind": "workspace_day", "limitUsd": None}, headers=owner.headers
    )
    assert cleared.json()["limitUsd"] is None
    for bad in (
        {"kind": "workspace_day", "limitUsd": "-1"},
        {"kind": "campaign", "limitUsd": "1"},
        {"kind": "run", "limitUsd": "1"},
        {"kind": "workspace_day"},
    ):
        assert client.put("/api/costs/budget", json=bad, headers=owner.headers).status_code == 422, bad
    manager = member_headers(client, owner, "manager")
    denied = client.put("/api/costs/budget", json={"kind": "workspace_day", "limitUsd": "1"}, headers=manager)
    assert denied.status_code == 403
    assert client.get("/api/costs/summary", headers=manager).status_code == 200


def test_bad_group_by_is_422(client: TestClient, owner: Account) -> None:
    for group_by in ("agent,colour", "workspace", "agent,agent"):
        res = client.get("/api/costs", params={"groupBy": group_by}, headers=owner.headers)
        assert res.status_code == 422 and error_of(res)["code"] == "VALIDATION_ERROR", group_by
    assert client.get("/api/costs", params={"since": "last week"}, headers=owner.headers).status_code == 422


def test_audit_logs_are_paged_filtered_and_scoped(
    client: TestClient, owner: Account, second_owner: Account
) -> None:
    ids = connect_sandbox(client, owner, ["x"])
    post_id = create_post(client, owner, ids["x"]).json()["post"]["id"]
    client.put(f"/api/posts/{post_id}", json={"tags": ["a"]}, headers=owner.headers)
    res = client.get(
        "/api/audit-logs", params={"resource": "post", "resourceId": post_id}, headers=owner.headers
    )
    assert res.status_code == 200, res.text
    body = res.json()
    assert [log["action"] for log in body["logs"]] == ["update", "create"] and body["total"] == 2
    assert all(log["userId"] == owner.user_id and log["actor"] == "user" for log in body["logs"])
    page = client.get("/api/audit-logs", params={"limit": 1, "page": 2}, headers=owner.headers).json()
    assert len(page["logs"]) == 1 and page["total"] > 2 and page["page"] == 2
    mine = client.get("/api/audit-logs", params={"userId": owner.user_id}, headers=owner.headers).json()
    assert mine["total"] >= 2
    theirs = client.get(
        "/api/audit-logs", params={"resourceId": post_id}, headers=second_owner.headers
    ).json()
    assert theirs["total"] == 0 and theirs["logs"] == []
    manager = member_headers(client, owner, "manager")
    denied = client.get("/api/audit-logs", headers=manager)
    assert denied.status_code == 403 and error_of(denied)["code"] == "FORBIDDEN"
    assert client.get("/api/audit-logs", params={"limit": 500}, headers=owner.headers).status_code == 422

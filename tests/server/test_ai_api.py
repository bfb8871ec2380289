"""AI API: drafts, optimisation and hashtags come from the content creator's model (offline here),
each call's cost and tokens come from the workspace's ledger; the brand voice trains and then scores."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from brandcrew.llm.ledger import CostFilter
from brandcrew.llm.runtime import get_runtime
from tests.utils.api import error_of, member_headers
from tests.utils.server import Account

GOOD = [
    "Slow mornings, fresh beans. Our Ethiopian roast is in the grinder today.",
    "The cold brew steeps for 18 hours so your afternoon does not have to wait.",
    "New on the shelf: a washed Colombian with notes of red apple and cocoa.",
]
BAD = [
    "BUY NOW!!! HUGE SALE!!! DON'T MISS OUT!!! #deal #sale #cheap #coffee #buy",
    "CLICK THE LINK!!! LIMITED TIME!!! #promo #discount #offer #now",
]


def test_generate_drafts_per_platform_with_cost_from_the_ledger(client: TestClient, owner: Account) -> None:
    res = client.post(
        "/api/ai/generate",
        json={
            "prompt": "Announce our cold brew for summer",
            "context": {"topic": "our summer cold brew", "tone": "friendly", "platforms": ["x", "linkedin"]},
            "variations": 2,
        },
        headers=owner.headers,
    )
    assert res.status_code == 200, res.text
    body = res.json()
    variations = body["variations"]
    assert [v["platform"] for v in variations] == ["x", "x", "linkedin", "linkedin"]
    texts = [v["content"]["text"] for v in variations]
    assert all("cold brew" in t.lower() for t in texts)
    assert len(set(texts[:2])) == 2  # variations differ
    assert all(v["scoredBy"] == "checks" and 0 <= v["score"] <= 1 for v in variations)
    assert all(len(t) <= 280 for t in texts[:2])  # fitted to X's limit
    # The spend is the workspace's, recorded on the ledger under the call's run id.
    rows = get_runtime().ledger.totals(
        ["agent"], CostFilter(workspace_id=owner.workspace_id, run_id=body["runId"])
    )
    (row,) = rows
    assert row.group == {"agent": "content_creator"} and row.calls == 4
    assert body["tokensUsed"] == row.input_tokens + row.output_tokens > 0
    assert float(body["cost"]) == float(row.cost_usd)


def test_optimize_and_hashtags(client: TestClient, owner: Account) -> None:
    opt = client.post(
        "/api/ai/optimize",
        json={"content": "our cold brew is back", "platform": "x", "optimizationGoals": ["engagement"]},
        headers=owner.headers,
    )
    assert opt.status_code == 200, opt.text
    body = opt.json()
    assert "cold brew" in body["optimizedContent"].lower() and len(body["optimizedContent"]) <= 280
    assert body["predictedPerformance"] == {"engagementRate": 0.0, "reachEstimate": 0, "basedOnPosts": 0}
    assert body["tokensUsed"] > 0

    tags = client.post(
        "/api/ai/hashtags",
        json={"content": "Our #ColdBrew is back for summer", "platform": "instagram", "count": 5},
        headers=owner.headers,
    )
    assert tags.status_code == 200, tags.text
    found = tags.json()["hashtags"]
    assert 1 <= len(found) <= 5
    assert all(h["tag"].startswith("#") and " " not in h["tag"] for h in found)
    assert len({h["tag"].lower() for h in found}) == len(found)
    assert "#coldbrew" in {h["tag"].lower() for h in found}


def test_train_then_generate_scores_with_the_brand_voice(
    app: Any, client: TestClient, owner: Account
) -> None:
    from brandcrew.memory.defaults import open_store
    from brandcrew.memory.embedders import HashingEmbedder

    # The app's memory store, on the light embedder (the default one is exercised by the other tests).
    app.state.memory_store = open_store(app.state.settings, embedder=HashingEmbedder(384))
    examples = [{"content": c, "platform": "instagram", "isGoodExample": True} for c in GOOD]
    examples += [{"content": c, "platform": "instagram", "isGoodExample": False} for c in BAD]
    res = client.post(
        "/api/ai/train",
        json={"examples": examples, "guidelines": "No exclamation marks. Never say 'buy now'."},
        headers=owner.headers,
    )
    assert res.status_code == 200, res.text
    voice = res.json()["brandVoice"]
    assert res.json()["trainingStatus"] == "completed" and voice["id"] == "default"
    assert voice["examples"]["good"] == 3 and voice["examples"]["bad"] == 2
    drafts = client.post(
        "/api/ai/generate",
        json={
            "context": {"topic": "our washed Colombian beans", "platforms": ["instagram"]},
            "variations": 1,
        },
        headers=owner.headers,
    ).json()["variations"]
    assert drafts[0]["scoredBy"] == "brand_voice"


def test_ai_permissions_and_bad_input(client: TestClient, owner: Account) -> None:
    viewer = member_headers(client, owner, "viewer")
    body = {"context": {"topic": "beans", "platforms": ["x"]}}
    denied = client.post("/api/ai/generate", json=body, headers=viewer)
    assert denied.status_code == 403 and error_of(denied)["code"] == "FORBIDDEN"
    editor = member_headers(client, owner, "editor")
    train = {"examples": [{"content": g, "isGoodExample": True} for g in GOOD]}
    assert client.post("/api/ai/train", json=train, headers=editor).status_code == 403
    for bad in (
        {"context": {"platforms": ["x"]}},  # neither prompt nor topic
        {"context": {"topic": "beans", "platforms": []}},
        {"context": {"topic": "beans", "platforms": ["x"]}, "variations": 9},
        {"context": {"topic": "beans", "platforms": ["friendster"]}},
    ):
        res = client.post("/api/ai/generate", json=bad, headers=owner.headers)
        assert res.status_code == 422, bad
        error_of(res)
    one_good = {
        "examples": [{"content": GOOD[0], "isGoodExample": True}, {"content": BAD[0], "isGoodExample": False}]
    }
    assert client.post("/api/ai/train", json=one_good, headers=owner.headers).status_code == 422


def test_spend_is_attributed_to_the_callers_workspace(
    client: TestClient, owner: Account, second_owner: Account, app: Any
) -> None:
    body = {"context": {"topic": "beans", "platforms": ["x"]}, "variations": 1}
    run_id = client.post("/api/ai/generate", json=body, headers=owner.headers).json()["runId"]
    ledger = get_runtime().ledger
    assert ledger.totals([], CostFilter(workspace_id=owner.workspace_id, run_id=run_id))[0].calls == 1
    assert ledger.totals([], CostFilter(workspace_id=second_owner.workspace_id))[0].calls == 0

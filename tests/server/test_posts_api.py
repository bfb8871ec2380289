"""Publishing API: create, list, edit, schedule, publish through the outbox, bulk, calendar, validate;
roles and tenancy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from brandcrew.store.tables import OutboxEntry, as_utc
from tests.utils.api import connect_sandbox, create_post, drain_publisher, error_of, member_headers
from tests.utils.server import Account


def _iso(dt: datetime) -> str:
    return dt.isoformat().replace("+00:00", "Z")


def test_create_list_get_update_and_delete(client: TestClient, owner: Account) -> None:
    ids = connect_sandbox(client, owner)
    made = create_post(client, owner, ids["x"], tags=["launch"])
    assert made.status_code == 201, made.text
    post = made.json()["post"]
    assert post["status"] == "draft" and post["version"] == 1 and post["tags"] == ["launch"]
    assert post["platforms"] == [
        {
            "platform": "x",
            "accountId": ids["x"],
            "customContent": None,
            "publishStatus": "pending",
            "platformPostId": None,
            "url": None,
            "error": None,
            "publishedAt": None,
        }
    ]
    second = create_post(client, owner, ids["linkedin"], platform="linkedin", text="A LinkedIn note")
    assert second.status_code == 201

    listed = client.get("/api/posts", params={"limit": 1}, headers=owner.headers).json()
    assert listed["total"] == 2 and listed["page"] == 1 and len(listed["posts"]) == 1
    only_x = client.get("/api/posts", params={"platform": "x"}, headers=owner.headers).json()
    assert [p["id"] for p in only_x["posts"]] == [post["id"]] and only_x["total"] == 1

    edited = client.put(
        f"/api/posts/{post['id']}",
        json={"content": {"text": "Fresh beans are in, roasted Monday."}, "tags": ["launch", "beans"]},
        headers=owner.headers,
    )
    assert edited.status_code == 200, edited.text
    body = edited.json()["post"]
    assert body["version"] == 2 and body["content"]["text"] == "Fresh beans are in, roasted Monday."
    assert body["tags"] == ["launch", "beans"]

    assert client.get(f"/api/posts/{post['id']}", headers=owner.headers).json()["post"]["version"] == 2
    assert client.delete(f"/api/posts/{post['id']}", headers=owner.headers).status_code == 204
    gone = client.get(f"/api/posts/{post['id']}", headers=owner.headers)
    assert gone.status_code == 404 and error_of(gone)["code"] == "NOT_FOUND"
    assert client.get("/api/posts", headers=owner.headers).json()["total"] == 1


async def test_schedule_then_publish_goes_through_the_outbox_and_the_publisher(
    app: Any, client: TestClient, owner: Account
) -> None:
    ids = connect_sandbox(client, owner)
    post = create_post(client, owner, ids["x"]).json()["post"]
    later = datetime.now(UTC) + timedelta(days=2)
    scheduled = client.post(
        f"/api/posts/{post['id']}/schedule", json={"scheduledAt": _iso(later)}, headers=owner.headers
    )
    assert scheduled.status_code == 200, scheduled.text
    assert scheduled.json()["post"]["status"] == "scheduled"
    with Session(app.state.services.engine) as session:
        (entry,) = session.exec(select(OutboxEntry).where(OutboxEntry.post_id == post["id"])).all()
    assert entry.status == "pending" and abs((as_utc(entry.due_at) - later).total_seconds()) < 1
    # Not due yet: the worker leaves it alone.
    assert await drain_publisher(app) == 0

    window = {"start": _iso(later - timedelta(hours=1)), "end": _iso(later + timedelta(hours=1))}
    items = client.get("/api/posts/calendar", params=window, headers=owner.headers).json()["items"]
    assert [(i["postId"], i["platform"], i["status"]) for i in items] == [(post["id"], "x", "pending")]

    published = client.post(f"/api/posts/{post['id']}/publish", headers=owner.headers)
    assert published.status_code == 200, published.text
    (result,) = published.json()["results"]
    # The route only queues: the same outbox row (same version, same key) is now due.
    assert result["status"] == "pending" and result["success"] is True and result["platformPostId"] is None
    with Session(app.state.services.engine) as session:
        rows = session.exec(select(OutboxEntry).where(OutboxEntry.post_id == post["id"])).all()
    assert [r.key for r in rows] == [entry.key]

    assert await drain_publisher(app) == 1
    after = client.get(f"/api/posts/{post['id']}", headers=owner.headers).json()["post"]
    assert after["status"] == "published" and after["publishedAt"] is not None
    (variant,) = after["platforms"]
    assert variant["publishStatus"] == "published" and variant["platformPostId"]
    # Publishing again changes nothing: a published post is not queued twice.
    again = client.post(f"/api/posts/{post['id']}/publish", headers=owner.headers)
    assert again.status_code == 409 and error_of(again)["code"] == "CONFLICT"
    assert await drain_publisher(app) == 0


def test_create_with_schedule_and_validation_errors(client: TestClient, owner: Account) -> None:
    ids = connect_sandbox(client, owner)
    at = _iso(datetime.now(UTC) + timedelta(hours=3))
    made = create_post(client, owner, ids["x"], scheduledAt=at)
    assert made.status_code == 201 and made.json()["post"]["status"] == "scheduled"

    too_long = create_post(client, owner, ids["x"], text="word " * 200)
    post_id = too_long.json()["post"]["id"]
    report = client.post(f"/api/posts/{post_id}/validate", headers=owner.headers).json()
    assert report["valid"] is False
    (platform,) = report["platforms"]
    assert platform["platform"] == "x" and platform["violations"][0]["code"] == "too_long"
    refused = client.post(f"/api/posts/{post_id}/schedule", json={"scheduledAt": at}, headers=owner.headers)
    assert refused.status_code == 422 and error_of(refused)["code"] == "VALIDATION_ERROR"
    assert client.get(f"/api/posts/{post_id}", headers=owner.headers).json()["post"]["status"] == "draft"

    past = client.post(
        f"/api/posts/{post_id}/schedule", json={"scheduledAt": "2020-01-01T00:00:00Z"}, headers=owner.headers
    )
    assert past.status_code == 422
    naive = client.post(
        f"/api/posts/{post_id}/schedule", json={"scheduledAt": "2030-01-01T00:00:00"}, headers=owner.headers
    )
    assert naive.status_code == 422 and error_of(naive)["code"] == "VALIDATION_ERROR"
    missing = client.post("/api/posts", json={"content": {"text": "x"}}, headers=owner.headers)
    assert missing.status_code == 422 and error_of(missing)["code"] == "MISSING_REQUIRED_FIELD"
    bad_platform = client.post(
        "/api/posts",
        json={"content": {"text": "x"}, "platforms": [{"platform": "myspace", "accountId": ids["x"]}]},
        headers=owner.headers,
    )
    assert bad_platform.status_code == 422
    wrong_platform = create_post(client, owner, ids["x"], platform="linkedin")
    assert wrong_platform.status_code == 422 and "not linkedin" in error_of(wrong_platform)["message"]
    for params in ({"limit": 0}, {"limit": 101}, {"page": 0}, {"status": "nope"}, {"startDate": "soon"}):
        assert client.get("/api/posts", params=params, headers=owner.headers).status_code == 422, params
    reversed_window = {"start": at, "end": "2020-01-01T00:00:00Z"}
    assert client.get("/api/posts/calendar", params=reversed_window, headers=owner.headers).status_code == 422


def test_bulk_schedule_update_and_delete_report_each_post(client: TestClient, owner: Account) -> None:
    ids = connect_sandbox(client, owner)
    good = [
        create_post(client, owner, ids["x"], text=f"Post number {i}").json()["post"]["id"] for i in range(2)
    ]
    bad = create_post(client, owner, ids["x"], text="word " * 200).json()["post"]["id"]
    at = _iso(datetime.now(UTC) + timedelta(hours=5))
    res = client.post(
        "/api/posts/bulk",
        json={"action": "schedule", "postIds": [*good, bad, "no-such-post"], "data": {"scheduledAt": at}},
        headers=owner.headers,
    )
    assert res.status_code == 200, res.text
    body = res.json()
    assert (body["success"], body["failed"]) == (2, 2)
    assert {e["postId"] for e in body["errors"]} == {bad, "no-such-post"}

    update = client.post(
        "/api/posts/bulk",
        json={"action": "update", "postIds": good, "data": {"tags": ["spring"]}},
        headers=owner.headers,
    )
    assert update.json()["success"] == 2
    assert client.get(f"/api/posts/{good[0]}", headers=owner.headers).json()["post"]["tags"] == ["spring"]
    no_data = client.post(
        "/api/posts/bulk", json={"action": "schedule", "postIds": good}, headers=owner.headers
    )
    assert no_data.status_code == 422

    deleted = client.post(
        "/api/posts/bulk", json={"action": "delete", "postIds": [bad]}, headers=owner.headers
    )
    assert deleted.json() == {"success": 1, "failed": 0, "errors": []}


def test_viewer_reads_but_cannot_write_and_editor_cannot_publish(client: TestClient, owner: Account) -> None:
    ids = connect_sandbox(client, owner)
    post_id = create_post(client, owner, ids["x"]).json()["post"]["id"]
    viewer = member_headers(client, owner, "viewer")
    assert client.get(f"/api/posts/{post_id}", headers=viewer).status_code == 200
    body = {"content": {"text": "hi"}, "platforms": [{"platform": "x", "accountId": ids["x"]}]}
    for method, path, payload in [
        ("post", "/api/posts", body),
        ("put", f"/api/posts/{post_id}", {"tags": ["x"]}),
        ("delete", f"/api/posts/{post_id}", None),
        ("post", f"/api/posts/{post_id}/publish", None),
        ("post", "/api/posts/bulk", {"action": "delete", "postIds": [post_id]}),
    ]:
        res = client.request(method, path, json=payload, headers=viewer)
        assert res.status_code == 403 and error_of(res)["code"] == "FORBIDDEN", (method, path)
    editor = member_headers(client, owner, "editor")
    assert client.put(f"/api/posts/{post_id}", json={"tags": ["ok"]}, headers=editor).status_code == 200
    at = _iso(datetime.now(UTC) + timedelta(hours=1))
    sched = client.post(f"/api/posts/{post_id}/schedule", json={"scheduledAt": at}, headers=editor)
    assert sched.status_code == 403


def test_another_workspace_sees_nothing_of_the_first(
    client: TestClient, owner: Account, second_owner: Account
) -> None:
    ids = connect_sandbox(client, owner)
    post_id = create_post(client, owner, ids["x"]).json()["post"]["id"]
    other = second_owner.headers
    at = _iso(datetime.now(UTC) + timedelta(hours=1))
    for method, path, payload in [
        ("get", f"/api/posts/{post_id}", None),
        ("put", f"/api/posts/{post_id}", {"tags": ["mine"]}),
        ("delete", f"/api/posts/{post_id}", None),
        ("post", f"/api/posts/{post_id}/schedule", {"scheduledAt": at}),
        ("post", f"/api/posts/{post_id}/publish", None),
        ("post", f"/api/posts/{post_id}/validate", None),
    ]:
        res = client.request(method, path, json=payload, headers=other)
        assert res.status_code == 404 and error_of(res)["code"] == "NOT_FOUND", (method, path)
    assert client.get("/api/posts", headers=other).json()["total"] == 0
    bulk = client.post("/api/posts/bulk", json={"action": "delete", "postIds": [post_id]}, headers=other)
    assert bulk.json()["failed"] == 1
    # Posting to the first workspace's account is refused too.
    assert create_post(client, second_owner, ids["x"]).status_code == 422
    assert client.get(f"/api/posts/{post_id}", headers=owner.headers).status_code == 200


def test_per_platform_content_and_first_comment_round_trip_in_camel_case(
    client: TestClient, owner: Account
) -> None:
    ids = connect_sandbox(client, owner, ["x", "linkedin"])
    res = client.post(
        "/api/posts",
        json={
            "content": {"text": "Our Ethiopian roast is back.", "firstComment": "Order link below"},
            "platforms": [
                {"platform": "x", "accountId": ids["x"]},
                {
                    "platform": "linkedin",
                    "accountId": ids["linkedin"],
                    "customContent": {"text": "A longer note."},
                },
            ],
        },
        headers=owner.headers,
    )
    assert res.status_code == 201, res.text
    post = res.json()["post"]
    assert post["content"]["firstComment"] == "Order link below" and "first_comment" not in post["content"]
    custom = {p["platform"]: p["customContent"] for p in post["platforms"]}
    assert custom["x"] is None and custom["linkedin"]["text"] == "A longer note."
    patched = client.put(
        f"/api/posts/{post['id']}", json={"content": {"firstComment": None}}, headers=owner.headers
    ).json()["post"]
    assert (
        patched["content"]["firstComment"] is None
        and patched["content"]["text"] == "Our Ethiopian roast is back."
    )
    null_text = client.put(
        f"/api/posts/{post['id']}", json={"content": {"text": None}}, headers=owner.headers
    )
    assert null_text.status_code == 422


def test_rescheduling_moves_the_queued_publish_instead_of_keeping_the_old_time(
    app: Any, client: TestClient, owner: Account
) -> None:
    ids = connect_sandbox(client, owner, ["x"])
    post_id = create_post(client, owner, ids["x"]).json()["post"]["id"]
    first, second = (datetime.now(UTC) + timedelta(days=d) for d in (3, 1))
    for at in (first, second):
        res = client.post(
            f"/api/posts/{post_id}/schedule", json={"scheduledAt": _iso(at)}, headers=owner.headers
        )
        assert res.status_code == 200, res.text
    with Session(app.state.services.engine) as session:
        (entry,) = session.exec(select(OutboxEntry).where(OutboxEntry.post_id == post_id)).all()
    assert abs((as_utc(entry.due_at) - second).total_seconds()) < 1
    post = client.get(f"/api/posts/{post_id}", headers=owner.headers).json()["post"]
    assert post["scheduledAt"].startswith(_iso(second)[:16])

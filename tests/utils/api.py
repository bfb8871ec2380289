"""Helpers for REST API tests: the error envelope, teammates with a role, a sandbox-connected workspace,
and the publisher run as the worker would run it."""

from __future__ import annotations

from typing import Any

from tests.utils.server import Account


def error_of(res: Any) -> dict[str, Any]:
    """The seed's error envelope of a response (asserting its shape)."""
    body = res.json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert {"code", "message", "details", "timestamp", "requestId"} <= set(err), err
    assert err["requestId"] == res.headers["x-request-id"]
    return dict(err)


def member_headers(client: Any, owner: Account, role: str) -> dict[str, str]:
    """Add a teammate with `role` to the owner's workspace and log them in; their auth headers."""
    email = f"{role}-{owner.user_id[:8]}@example.com"
    password = "a teammate's passphrase"
    res = client.post(
        "/api/team/members",
        json={"email": email, "name": role.title(), "role": role, "password": password},
        headers=owner.headers,
    )
    assert res.status_code == 201, res.text
    login = client.post("/api/auth/login", json={"email": email, "password": password})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['accessToken']}"}


def connect_sandbox(client: Any, account: Account, platforms: list[str] | None = None) -> dict[str, str]:
    """Connect the workspace's sandbox world; its account ids by platform."""
    body = {"platforms": platforms} if platforms else {}
    res = client.post("/api/accounts/sandbox", json=body, headers=account.headers)
    assert res.status_code == 201, res.text
    return {a["platform"]: a["id"] for a in res.json()["accounts"]}


def create_post(client: Any, account: Account, account_id: str, platform: str = "x", **extra: Any) -> Any:
    """Create a post through the API; the response."""
    body = {
        "content": {"text": extra.pop("text", "Fresh beans are in: a bright Ethiopian roast.")},
        "platforms": [{"platform": platform, "accountId": account_id}],
        **extra,
    }
    return client.post("/api/posts", json=body, headers=account.headers)


async def drain_publisher(app: Any, rounds: int = 5) -> int:
    """Publish every due outbox row the way the worker does; how many rows were processed."""
    from brandcrew.jobs.publisher import Publisher

    services = app.state.services
    publisher = Publisher(services.engine, services.accounts, clock=services.clock)
    processed = 0
    for _ in range(rounds):
        keys = publisher.due_keys()
        if not keys:
            break
        for key in keys:
            await publisher.process(key)
            processed += 1
    return processed

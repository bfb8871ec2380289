"""A registered workspace connected to a sandbox world, and teammates with other roles, for API tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from brandcrew.connectors.sandbox import SandboxWorld
from brandcrew.services.workspaces import connect_sandbox_world
from tests.utils.server import Account

T0 = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)


def connect_world(
    app: Any,
    account: Account,
    *,
    platforms: tuple[str, ...] = ("x",),
    seed: int = 5,
    history: timedelta = timedelta(hours=24),
) -> SandboxWorld:
    """A sandbox world (Northwind Coffee) connected to the account's workspace, `history` old."""
    services = app.state.services
    world = SandboxWorld.create(
        services.engine,
        seed=seed,
        brand="Northwind Coffee",
        platforms=platforms,
        start=T0,
        token_ttl=timedelta(days=365),
    )
    with Session(services.engine) as session:
        connect_sandbox_world(session, services.accounts, workspace_id=account.workspace_id, world=world)
        session.commit()
    world.advance(history)
    return world


def teammate(
    client: TestClient, inviter: Account | dict[str, str], role: str, name: str | None = None
) -> tuple[str, dict[str, str]]:
    """Add a member with `role` to the inviter's workspace; returns their id and auth headers."""
    name = name or role.title()
    headers = inviter.headers if isinstance(inviter, Account) else inviter
    email = f"{role}-{uuid.uuid4().hex[:10]}@example.com"
    password = f"{role} passphrase long"
    res = client.post(
        "/api/team/members",
        json={"email": email, "name": name, "role": role, "password": password},
        headers=headers,
    )
    assert res.status_code == 201, res.text
    token = client.post("/api/auth/login", json={"email": email, "password": password}).json()["accessToken"]
    return res.json()["id"], {"Authorization": f"Bearer {token}"}


def error_of(res: Any) -> dict[str, Any]:
    """The seed's error envelope of a response (checked)."""
    body = res.json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert {"code", "message", "details", "timestamp", "requestId"} <= set(err), err
    assert err["requestId"] == res.headers["x-request-id"]
    return dict(err)

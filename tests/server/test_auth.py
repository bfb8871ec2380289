"""Auth: register, login, refresh rotation and reuse detection, API keys, roles, errors, rate limits."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.utils.server import Account


def _error(res: Any) -> dict[str, Any]:
    body = res.json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert {"code", "message", "details", "timestamp", "requestId"} <= set(err), err
    assert err["requestId"] == res.headers["x-request-id"]
    return dict(err)


def test_register_login_and_me(client: TestClient) -> None:
    res = client.post(
        "/api/auth/register",
        json={
            "email": "Ada@Example.com",
            "password": "a long passphrase",
            "name": "Ada",
            "workspaceName": "NW",
        },
    )
    assert res.status_code == 201, res.text
    body = res.json()
    assert body["user"]["role"] == "owner" and body["user"]["email"] == "ada@example.com"
    assert "passwordHash" not in body["user"] and "password_hash" not in body["user"]
    login = client.post("/api/auth/login", json={"email": "ada@example.com", "password": "a long passphrase"})
    assert login.status_code == 200
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {login.json()['accessToken']}"})
    assert me.status_code == 200
    assert me.json()["workspace"]["id"] == body["workspace"]["id"]
    assert "post:publish" in me.json()["permissions"]


def test_duplicate_email_and_bad_input_answer_in_the_seed_format(client: TestClient, owner: Account) -> None:
    dup = client.post(
        "/api/auth/register",
        json={"email": owner.email, "password": "another passphrase", "name": "X", "workspaceName": "Y"},
    )
    assert dup.status_code == 409 and _error(dup)["code"] == "CONFLICT"
    missing = client.post("/api/auth/register", json={"email": "a@b.co"})
    err = _error(missing)
    assert missing.status_code == 422 and err["code"] == "MISSING_REQUIRED_FIELD"
    assert {d["field"] for d in err["details"]} >= {"password", "name", "workspaceName"}
    short = client.post(
        "/api/auth/register", json={"email": "a@b.co", "password": "short", "name": "X", "workspaceName": "Y"}
    )
    assert short.status_code == 422 and _error(short)["code"] == "VALIDATION_ERROR"


def test_wrong_password_and_missing_or_bad_tokens_are_401(client: TestClient, owner: Account) -> None:
    bad = client.post("/api/auth/login", json={"email": owner.email, "password": "wrong password!"})
    assert bad.status_code == 401 and _error(bad)["code"] == "UNAUTHORIZED"
    unknown = client.post(
        "/api/auth/login", json={"email": "nobody@example.com", "password": "whatever it is"}
    )
    assert unknown.status_code == 401 and _error(unknown)["message"] == _error(bad)["message"]
    assert _error(client.get("/api/auth/me"))["code"] == "UNAUTHORIZED"
    forged = client.get("/api/auth/me", headers={"Authorization": "Bearer not.a.jwt"})
    assert forged.status_code == 401 and _error(forged)["code"] == "INVALID_TOKEN"
    # A refresh token is not an access token.
    swapped = client.get("/api/auth/me", headers={"Authorization": f"Bearer {owner.refresh_token}"})
    assert swapped.status_code == 401 and _error(swapped)["code"] == "INVALID_TOKEN"


def test_expired_access_token_says_token_expired(app: Any, client: TestClient, owner: Account) -> None:
    from datetime import UTC, datetime, timedelta

    from brandcrew.server.tokens import AccessClaims

    claims = AccessClaims(
        user_id=owner.user_id, workspace_id=owner.workspace_id, role="owner", permissions=[], session_id="s"
    )
    old = app.state.signer.issue(claims, "j", now=datetime.now(UTC) - timedelta(minutes=16))
    res = client.get("/api/auth/me", headers={"Authorization": f"Bearer {old.access_token}"})
    assert res.status_code == 401 and _error(res)["code"] == "TOKEN_EXPIRED"


def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_session(
    client: TestClient, owner: Account
) -> None:
    first = client.post("/api/auth/refresh", json={"refreshToken": owner.refresh_token})
    assert first.status_code == 200, first.text
    newer = first.json()["refreshToken"]
    assert newer != owner.refresh_token
    assert client.get(
        "/api/auth/me", headers={"Authorization": f"Bearer {first.json()['accessToken']}"}
    ).is_success
    replay = client.post("/api/auth/refresh", json={"refreshToken": owner.refresh_token})
    assert replay.status_code == 401
    # The theft was noticed: the legitimate newer token no longer works either.
    assert client.post("/api/auth/refresh", json={"refreshToken": newer}).status_code == 401


def test_logout_ends_the_session(client: TestClient, owner: Account) -> None:
    assert client.post("/api/auth/logout", json={"refreshToken": owner.refresh_token}).status_code == 204
    assert client.post("/api/auth/refresh", json={"refreshToken": owner.refresh_token}).status_code == 401


def test_api_keys_authenticate_by_bearer_and_x_api_key_and_can_be_revoked(
    client: TestClient, owner: Account
) -> None:
    for headers in ({"Authorization": f"Bearer {owner.api_key}"}, {"x-api-key": owner.api_key}):
        me = client.get("/api/auth/me", headers=headers)
        assert me.status_code == 200 and me.json()["apiKeyId"]
    keys = client.get("/api/api-keys", headers=owner.headers).json()
    assert len(keys) == 1 and "key" not in keys[0] and owner.api_key.split("_")[1] == keys[0]["prefix"]
    assert client.delete(f"/api/api-keys/{keys[0]['id']}", headers=owner.headers).status_code == 204
    res = client.get("/api/auth/me", headers={"x-api-key": owner.api_key})
    assert res.status_code == 401 and _error(res)["code"] == "INVALID_TOKEN"
    tampered = owner.api_key[:-2] + ("aa" if not owner.api_key.endswith("aa") else "bb")
    assert client.get("/api/auth/me", headers={"x-api-key": tampered}).status_code == 401


def test_roles_follow_the_seed_matrix(client: TestClient, owner: Account) -> None:
    add = client.post(
        "/api/team/members",
        json={"email": "viewer@example.com", "name": "Vi", "role": "viewer", "password": "viewer passphrase"},
        headers=owner.headers,
    )
    assert add.status_code == 201, add.text
    token = client.post(
        "/api/auth/login", json={"email": "viewer@example.com", "password": "viewer passphrase"}
    ).json()["accessToken"]
    viewer = {"Authorization": f"Bearer {token}"}
    perms = set(client.get("/api/auth/me", headers=viewer).json()["permissions"])
    assert {"post:read", "analytics:view"} <= perms and "post:create" not in perms
    # A viewer may not invite, and no one may grant the owner role.
    res = client.post(
        "/api/team/members",
        json={"email": "x@example.com", "name": "X", "role": "viewer", "password": "viewer passphrase"},
        headers=viewer,
    )
    assert res.status_code == 403 and _error(res)["code"] == "FORBIDDEN"
    owner_grant = client.post(
        "/api/team/members",
        json={"email": "y@example.com", "name": "Y", "role": "owner", "password": "viewer passphrase"},
        headers=owner.headers,
    )
    assert owner_grant.status_code == 422
    # A viewer's key cannot claim a higher role.
    escalate = client.post("/api/api-keys", json={"name": "k", "role": "admin"}, headers=viewer)
    assert escalate.status_code == 422


def test_role_permissions_match_the_seed() -> None:
    from brandcrew.server.permissions import ROLE_PERMISSIONS

    seed = {
        "admin": {"post:create", "post:read", "post:update", "post:delete", "post:publish", "analytics:view",
                  "analytics:export", "team:invite", "settings:view", "settings:update"},
        "manager": {"post:create", "post:read", "post:update", "post:publish", "analytics:view", "team:invite"},
        "editor": {"post:create", "post:read", "post:update", "analytics:view"},
        "viewer": {"post:read", "analytics:view"},
    }  # fmt: skip
    seed_names = set().union(*seed.values()) | {"team:manage", "billing:view", "billing:manage"}
    for role, perms in seed.items():
        assert perms == ROLE_PERMISSIONS[role] & seed_names, role
    assert seed_names <= ROLE_PERMISSIONS["owner"]


def test_rate_limit_answers_429_in_the_seed_format(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from brandcrew.server.app import create_app
    from brandcrew.settings import get_settings

    monkeypatch.setenv("BRANDCREW_RATE_LIMIT_SCALE", "0.1")  # 20 logins/min per address -> 2
    get_settings.cache_clear()
    client = TestClient(create_app())
    codes = [
        client.post("/api/auth/login", json={"email": "a@example.com", "password": "x"}).status_code
        for _ in range(4)
    ]
    assert codes[:2] == [401, 401] and codes[2] == 429
    res = client.post("/api/auth/login", json={"email": "a@example.com", "password": "x"})
    assert _error(res)["code"] == "RATE_LIMIT_EXCEEDED" and int(res.headers["retry-after"]) >= 1


def test_health_ready_metrics(client: TestClient, owner: Account) -> None:
    assert client.get("/health").json()["status"] == "ok"
    ready = client.get("/ready")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok"}
    client.get("/api/auth/me", headers=owner.headers)
    text = client.get("/metrics").text
    assert 'brandcrew_http_requests_total{method="GET",route="/api/auth/me",status="200"}' in text
    assert "brandcrew_posts_published" in text and "brandcrew_publish_outbox" in text


def test_request_id_is_echoed_and_generated(client: TestClient) -> None:
    assert client.get("/health", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"
    ids = [client.get("/health").headers["x-request-id"] for _ in range(3)]
    assert all(len(i) == 32 for i in ids) and len(set(ids)) == 3  # generated ones never repeat
    res = client.get("/no/such/route")
    assert res.status_code == 404 and _error(res)["code"] == "NOT_FOUND"


def test_traces_carry_the_request_id_when_tracing_is_configured(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    # The CrewAI tests turn the OpenTelemetry SDK off for the whole session (no telemetry from crews).
    monkeypatch.delenv("OTEL_SDK_DISABLED", raising=False)

    from brandcrew.server.tracing import configure_tracing

    exporter = InMemorySpanExporter()
    assert configure_tracing(app, exporter=exporter)
    res = TestClient(app).get("/api/auth/me", headers={"X-Request-ID": "trace-me-1"})
    assert res.status_code == 401
    spans = [
        s for s in exporter.get_finished_spans() if s.attributes.get("brandcrew.request_id") == "trace-me-1"
    ]
    assert spans and spans[0].attributes.get("http.route") == "/api/auth/me"


def test_tracing_is_off_without_an_endpoint(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from brandcrew.server.tracing import configure_tracing

    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    assert configure_tracing(app) is False


def test_a_warm_server_reports_its_graphs_ready_once_they_are_open() -> None:
    import time

    from brandcrew.server.app import create_app

    app = create_app(warm=True)
    with TestClient(app) as client:
        deadline = time.monotonic() + 240
        while not app.state.warming.done() and time.monotonic() < deadline:
            res = client.get("/ready")
            if res.status_code == 503:  # until the graphs are open
                assert res.json()["error"]["details"]["graphs"] == "warming"
            time.sleep(0.2)
        ready = client.get("/ready")
        assert ready.status_code == 200 and ready.json()["checks"]["graphs"] == "ok"

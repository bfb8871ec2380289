"""The rate limiter: GCRA per user, workspace and endpoint; the same answers in memory and in Redis."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from brandcrew.server.ratelimit import (
    Limit,
    MemoryRateLimitStore,
    RateLimiter,
    RateLimitRules,
    RedisRateLimitStore,
)


def _burst_then_refill(store: Any) -> None:
    limit = Limit(requests=5, period_s=10.0)
    now = 1000.0
    allowed = [store.hit("k", limit, now).allowed for _ in range(7)]
    assert allowed == [True] * 5 + [False] * 2
    refused = store.hit("k", limit, now)
    assert not refused.allowed and refused.retry_after_s == pytest.approx(2.0)
    assert store.hit("k", limit, now + 2.0).allowed  # one request's worth refilled after period/requests
    assert not store.hit("k", limit, now + 2.0).allowed
    assert store.hit("other", limit, now).allowed  # keys are independent


def test_memory_store_allows_a_burst_then_a_steady_rate() -> None:
    _burst_then_refill(MemoryRateLimitStore())


@pytest.mark.redis
def test_redis_store_gives_the_same_answers(redis_client: Any, redis_prefix: str) -> None:
    _burst_then_refill(RedisRateLimitStore(redis_client, prefix=redis_prefix))


def test_endpoint_limit_is_per_user_and_workspace_limit_is_shared() -> None:
    rules = RateLimitRules(
        per_user=Limit(requests=100),
        per_workspace=Limit(requests=6),
        endpoints=(("/api/ai/", Limit(requests=2)),),
    )
    limiter = RateLimiter(MemoryRateLimitStore(), rules)
    ai = [limiter.check(path="/api/ai/generate", user_key="u1", workspace_id="w").allowed for _ in range(3)]
    assert ai == [True, True, False]
    assert limiter.check(path="/api/ai/generate", user_key="u2", workspace_id="w").allowed
    # The workspace's 6 are shared by its users: u1 used 3 (the refused one still counted against the
    # user and workspace), u2 used 1.
    others = [limiter.check(path="/api/posts", user_key="u3", workspace_id="w").allowed for _ in range(3)]
    assert others == [True, True, False]
    assert limiter.check(path="/api/posts", user_key="u3", workspace_id="w2").allowed


def test_scale_zero_turns_limits_off() -> None:
    limiter = RateLimiter(MemoryRateLimitStore(), RateLimitRules(per_user=Limit(requests=1), scale=0))
    assert all(limiter.check(path="/x", user_key="u", workspace_id="w").allowed for _ in range(10))


@pytest.mark.redis
def test_server_on_redis_shares_limits_and_reports_redis_ready(
    redis_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from brandcrew.server.app import create_app
    from brandcrew.settings import get_settings
    from tests.conftest import REDIS_URL

    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    monkeypatch.setenv("BRANDCREW_RATE_LIMIT_SCALE", "0.1")
    get_settings.cache_clear()
    first, second = TestClient(create_app()), TestClient(create_app())  # two server processes' worth
    assert first.get("/ready").json()["checks"] == {"database": "ok", "redis": "ok"}
    ip_key = "brandcrew:rl:ip:testclient"
    redis_client.delete(ip_key)
    body = {"email": "a@example.com", "password": "x"}
    codes = [c.post("/api/auth/login", json=body).status_code for c in (first, second, first)]
    assert codes == [401, 401, 429]  # 2 per minute per address, counted across both apps
    redis_client.delete(ip_key)

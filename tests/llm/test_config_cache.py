"""Config files fail with the file and field named; the Redis cache behaves like the SQL one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from brandcrew.errors import ConfigError
from brandcrew.llm.cache import CachedResponse, RedisResponseCache, SqlResponseCache, cache_key
from brandcrew.llm.config import load_models_config
from brandcrew.llm.messages import ModelRequest, ModelResponse


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tiers: [", "not valid YAML"),
        ("tiers: {small: [a], balanced: [b]}", "tiers.frontier is missing"),
        (
            "tiers: {small: [a], balanced: [b], frontier: [c]}\nrouter: {downgrade_below_fraction: 3}",
            "router.downgrade_below_fraction",
        ),
        (
            "tiers: {small: [a], balanced: [b], frontier: [c]}\nagents: {strategy: gigantic}",
            "agents.strategy",
        ),
    ],
)
def test_bad_models_yaml_names_file_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "models.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        load_models_config(path)
    assert str(path) in str(info.value)
    with pytest.raises(ConfigError, match="not found"):
        load_models_config(tmp_path / "missing.yaml")


def _entry() -> CachedResponse:
    return CachedResponse(response=ModelResponse(model="m", provider="p", content="hi"), cost_nanos=42)


def test_cache_key_depends_on_workspace_model_messages_and_params() -> None:
    base = ModelRequest(model="m", messages=[{"role": "user", "content": "x"}])
    keys = {
        cache_key("w1", base),
        cache_key("w2", base),
        cache_key("w1", base.model_copy(update={"model": "n"})),
        cache_key("w1", base.model_copy(update={"max_tokens": 7})),
        cache_key("w1", base.model_copy(update={"messages": [{"role": "user", "content": "y"}]})),
    }
    assert len(keys) == 5 and cache_key("w1", base) == cache_key("w1", base.model_copy())


def test_sql_cache_expires_and_purges(sqlite_engine: Any) -> None:
    cache = SqlResponseCache(sqlite_engine)
    cache.put("k", "w", _entry(), ttl_s=-1)
    assert cache.get("k") is None and cache.purge_expired() == 1
    cache.put("k", "w", _entry(), ttl_s=60)
    hit = cache.get("k")
    assert hit is not None and hit.cost_nanos == 42


@pytest.mark.redis
def test_redis_cache_round_trip(redis_client: Any, redis_prefix: str) -> None:
    cache = RedisResponseCache(redis_client, prefix=redis_prefix)
    assert cache.get("k") is None
    cache.put("k", "w", _entry(), ttl_s=60)
    hit = cache.get("k")
    assert hit is not None and hit.response.content == "hi"
    assert 0 < redis_client.ttl(f"{redis_prefix}k") <= 60

"""The response cache: exact match on sha256(workspace, model, messages, params), with a TTL."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from pydantic import BaseModel
from sqlalchemy import Engine, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from brandcrew.llm.messages import ModelRequest, ModelResponse
from brandcrew.store.tables import LlmCacheEntry


def cache_key(workspace_id: str, request: ModelRequest) -> str:
    """sha256 of the workspace, model, messages and answer-changing parameters, canonically encoded."""
    payload = {
        "workspace": workspace_id,
        "model": request.model,
        "messages": request.messages,
        "params": request.cache_params(),
    }
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


class CachedResponse(BaseModel):
    """A stored answer and what it cost when it was made."""

    response: ModelResponse
    cost_nanos: int | None


class ResponseCache(Protocol):
    """Where cached answers live."""

    def get(self, key: str) -> CachedResponse | None:
        """The live entry for `key`, if any."""
        ...

    def put(self, key: str, workspace_id: str, entry: CachedResponse, *, ttl_s: int) -> None:
        """Store an entry for `ttl_s` seconds."""
        ...


class SqlResponseCache:
    """Cache entries in the application database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._insert: Any = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert

    def get(self, key: str) -> CachedResponse | None:
        """The live entry for `key`, if any."""
        with Session(self.engine) as session:
            row = session.get(LlmCacheEntry, key)
        if row is None:
            return None
        expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
        if expires <= datetime.now(UTC):
            return None
        return CachedResponse(
            response=ModelResponse.model_validate_json(row.response), cost_nanos=row.cost_nanousd
        )

    def put(self, key: str, workspace_id: str, entry: CachedResponse, *, ttl_s: int) -> None:
        """Store an entry for `ttl_s` seconds (last writer wins)."""
        now = datetime.now(UTC)
        values = {
            "key": key,
            "workspace_id": workspace_id,
            "model": entry.response.model,
            "response": entry.response.model_dump_json(),
            "cost_nanousd": entry.cost_nanos,
            "created_at": now,
            "expires_at": now + timedelta(seconds=ttl_s),
        }
        stmt = self._insert(LlmCacheEntry.__table__).values(**values)  # type: ignore[attr-defined]
        stmt = stmt.on_conflict_do_update(
            index_elements=["key"], set_={k: v for k, v in values.items() if k != "key"}
        )
        with self.engine.begin() as conn:
            conn.execute(stmt)

    def purge_expired(self) -> int:
        """Delete expired entries; the number deleted."""
        with self.engine.begin() as conn:
            result = conn.execute(delete(LlmCacheEntry).where(LlmCacheEntry.expires_at <= datetime.now(UTC)))  # type: ignore[arg-type]
            return int(result.rowcount)


class RedisResponseCache:
    """Cache entries in Redis, expired by Redis itself."""

    def __init__(self, client: Any, *, prefix: str = "brandcrew:llmcache:") -> None:
        self.client = client
        self.prefix = prefix

    def get(self, key: str) -> CachedResponse | None:
        """The live entry for `key`, if any."""
        raw = self.client.get(self.prefix + key)
        return None if raw is None else CachedResponse.model_validate_json(raw)

    def put(self, key: str, workspace_id: str, entry: CachedResponse, *, ttl_s: int) -> None:
        """Store an entry for `ttl_s` seconds."""
        self.client.set(self.prefix + key, entry.model_dump_json(), ex=ttl_s)

"""Worker processes for the concurrency tests (importable by multiprocessing's spawn)."""

from __future__ import annotations

import asyncio
from typing import Any

from brandcrew.connectors.base import AccountAuth
from brandcrew.connectors.capabilities import Platform
from brandcrew.connectors.drafts import PostDraft
from brandcrew.connectors.errors import ConnectorError
from brandcrew.connectors.sandbox import SandboxConnector
from brandcrew.store.engine import make_engine


def publish_many(url: str, world_id: str, account: dict[str, Any], prefix: str, n: int) -> list[str]:
    """Publish `n` posts concurrently from this process; the outcome kind of each."""
    engine = make_engine(url)
    connector = SandboxConnector(engine, world_id)
    auth = AccountAuth.model_validate(account)

    async def one(i: int) -> str:
        try:
            await connector.publish(
                auth, PostDraft(platform=Platform.X, text=f"{prefix} post {i}"), f"{prefix}-{i}"
            )
            return "ok"
        except ConnectorError as exc:
            return exc.kind

    async def run() -> list[str]:
        return list(await asyncio.gather(*(one(i) for i in range(n))))

    try:
        return asyncio.run(run())
    finally:
        engine.dispose()

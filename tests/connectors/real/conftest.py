"""Fixtures of the real-connector tests: the replay-only VCR, a fixed clock, accounts, fake transports."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import vcr

CASSETTE_DIR = Path(__file__).resolve().parents[2] / "cassettes" / "connectors"

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
"""The moment every test runs at (epoch 1795599000)."""

# Replay only: a request the cassette does not hold raises CannotOverwriteExistingCassetteException
# instead of reaching the network. Bodies are compared parsed (JSON / form) when the content type
# says so; credentials are filtered the way a real recording would have stored them.
CONNECTOR_VCR = vcr.VCR(
    cassette_library_dir=str(CASSETTE_DIR),
    record_mode="none",
    match_on=("method", "scheme", "host", "port", "path", "query", "body"),
    filter_headers=("authorization",),
    filter_query_parameters=("access_token", "client_secret"),
    filter_post_data_parameters=("client_secret",),
    decode_compressed_response=True,
)


def clock() -> datetime:
    """The fixed test clock."""
    return NOW


class RecordingSleep:
    """An injectable `sleep` that returns at once and remembers what it was asked to wait."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def failing_client(exc_type: type[httpx.TransportError], *, after: int = 0) -> httpx.AsyncClient:
    """A client whose transport answers `after` requests with 200 {} and then raises `exc_type`.

    Simulates a connection that dies once the request was written (ReadTimeout) or before it
    (ConnectError), which cassettes cannot express.
    """
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) <= after:
            return httpx.Response(
                200, json={"id": f"ok-{len(seen)}", "status_code": "FINISHED", "status": "FINISHED"}
            )
        raise exc_type("simulated transport failure", request=request)

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    client.seen = seen  # type: ignore[attr-defined]
    return client


def handler_client(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.AsyncClient:
    """A client answering every request with `handler` (no network)."""
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


@pytest.fixture
def sleep() -> RecordingSleep:
    """A fresh recording sleep."""
    return RecordingSleep()

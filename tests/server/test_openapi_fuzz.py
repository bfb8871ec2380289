"""schemathesis against the live server's published /openapi.json: generated valid and invalid
requests to every operation (bounded examples) must never get a server error."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.utils.server import Account, register, serve_in_thread

EXAMPLES_PER_OPERATION = 6


@pytest.fixture
def fuzz_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A live server without rate limits (the fuzzer sends hundreds of requests as one user)."""
    from brandcrew.server.app import create_app
    from brandcrew.settings import get_settings

    monkeypatch.setenv("BRANDCREW_RATE_LIMIT_SCALE", "0")
    get_settings.cache_clear()
    with serve_in_thread(create_app()) as url:
        yield url


def _fuzz(operation: Any, url: str, headers: dict[str, str], mode: GenerationMode) -> list[str]:
    failures: list[str] = []

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        res = case.call(base_url=url, headers=headers, timeout=30)
        if res.status_code >= 500:
            failures.append(f"{case.method} {case.formatted_path} -> {res.status_code}: {res.text[:300]}")

    try:
        run()
    except Unsatisfiable:  # nothing to break: no parameters or body (negative mode only)
        assert mode is GenerationMode.NEGATIVE
    return failures


def test_no_generated_request_gets_a_server_error(fuzz_server: str) -> None:
    import httpx

    with httpx.Client(base_url=fuzz_server) as http:
        account: Account = register(http, name="Fuzz", workspace="Fuzz Co")
    schema = schemathesis.openapi.from_url(f"{fuzz_server}/openapi.json")
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in ("/metrics",):
            continue
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            failures += _fuzz(operation, fuzz_server, account.headers, mode)
    assert operations >= 10
    assert failures == [], "\n".join(failures[:30])

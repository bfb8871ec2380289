"""`brandcrew serve` logs one JSON object per line, each request with its id, method, path, status
and duration, written by a thread off the event loop; exceptions keep their traceback."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from brandcrew.server.logs import configure_logging, stop_listener


@pytest.fixture
def json_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    yield
    for handler in root.handlers:
        listener = getattr(handler, "listener", None)
        if listener is not None:
            stop_listener(listener)
    root.handlers[:] = saved
    root.setLevel(level)


def _lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    for handler in logging.getLogger().handlers:
        listener = getattr(handler, "listener", None)
        if listener is not None:
            stop_listener(listener)  # flushes the queue
    return [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]


@pytest.mark.usefixtures("json_logging")
def test_requests_are_logged_as_json_lines_with_their_ids(
    app: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(json_lines=True)
    with TestClient(app) as client:
        client.get("/health", headers={"X-Request-ID": "trace-me-1"})
        client.get("/no/such/route")
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("brandcrew.test").exception("failed on purpose")
    lines = _lines(capsys)
    access = [line for line in lines if line["logger"] == "brandcrew.server.access"]
    assert [(a["method"], a["path"], a["status"]) for a in access] == [
        ("GET", "/health", 200),
        ("GET", "/no/such/route", 404),
    ]
    assert access[0]["request_id"] == "trace-me-1" and len(access[1]["request_id"]) == 32
    assert all(a["duration_ms"] >= 0 and a["level"] == "info" and a["ts"] for a in access)
    (failure,) = [line for line in lines if line["logger"] == "brandcrew.test"]
    assert failure["level"] == "error" and "ValueError: boom" in failure["message"]

"""Error classification and rate-limit header parsing shared by the real connectors."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from brandcrew.connectors._http import (
    DuplicateContent,
    NotFound,
    classify_graph_error,
    classify_transport_error,
    error_for_status,
    graph_reset_at,
    next_utc_midnight,
    parse_meta_usage,
    parse_retry_after,
    parse_timestamp,
    x_reset_at,
)
from brandcrew.connectors.errors import (
    AuthExpired,
    ConnectorError,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    RetryableError,
)

from .conftest import NOW

REQUEST = httpx.Request("POST", "https://api.example/2/posts")
EPOCH_NOW = int(NOW.timestamp())


def response(status: int, body: object = None, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers, request=REQUEST)


# --- transport failures


@pytest.mark.parametrize(
    ("exc", "idempotent", "expected"),
    [
        (httpx.ConnectError, False, RetryableError),  # nothing was sent
        (httpx.ConnectTimeout, False, RetryableError),
        (httpx.PoolTimeout, False, RetryableError),
        (httpx.ReadTimeout, False, OutcomeUnknown),  # sent; the platform may have acted
        (httpx.WriteTimeout, False, OutcomeUnknown),
        (httpx.ReadError, False, OutcomeUnknown),
        (httpx.RemoteProtocolError, False, OutcomeUnknown),  # server hung up without answering
        (httpx.ReadTimeout, True, RetryableError),  # a read may simply be repeated
        (httpx.RemoteProtocolError, True, RetryableError),
    ],
)
def test_transport_errors_by_whether_the_request_reached_the_platform(
    exc: type[httpx.TransportError], idempotent: bool, expected: type[ConnectorError]
) -> None:
    error = classify_transport_error(exc("boom", request=REQUEST), platform="x", idempotent=idempotent)
    assert type(error) is expected


# --- status codes


@pytest.mark.parametrize(
    ("status", "idempotent", "expected"),
    [
        (401, False, AuthExpired),
        (429, False, RateLimited),
        (408, False, RetryableError),
        (500, True, RetryableError),
        (503, False, OutcomeUnknown),  # a create that got a 5xx may exist
        (404, True, NotFound),
        (400, False, Rejected),
        (422, False, Rejected),
    ],
)
def test_status_codes_map_to_typed_errors(
    status: int, idempotent: bool, expected: type[ConnectorError]
) -> None:
    error = error_for_status(response(status), platform="x", idempotent=idempotent, message="m", now=NOW)
    assert type(error) is expected
    assert error.status_code == status


def test_retry_after_seconds_and_http_date() -> None:
    assert parse_retry_after("120", NOW) == NOW + timedelta(minutes=2)
    assert parse_retry_after("Wed, 25 Nov 2026 10:00:00 GMT", NOW) == datetime(2026, 11, 25, 10, tzinfo=UTC)
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None


def test_429_uses_retry_after_when_nothing_better_is_given() -> None:
    error = error_for_status(
        response(429, **{"retry-after": "30"}), platform="p", idempotent=False, message="m", now=NOW
    )
    assert isinstance(error, RateLimited)
    assert error.reset_at == NOW + timedelta(seconds=30)


# --- X headers


def test_x_reset_prefers_the_exhausted_window() -> None:
    headers = httpx.Headers(
        {
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(EPOCH_NOW + 600),
            "x-user-limit-24hour-remaining": "12",
            "x-user-limit-24hour-reset": str(EPOCH_NOW + 36000),
        }
    )
    assert x_reset_at(headers, NOW) == NOW + timedelta(minutes=10)


def test_x_reset_falls_back_to_the_window_reset_then_retry_after() -> None:
    assert x_reset_at(httpx.Headers({"x-rate-limit-reset": str(EPOCH_NOW + 60)}), NOW) == NOW + timedelta(
        minutes=1
    )
    assert x_reset_at(httpx.Headers({"retry-after": "5"}), NOW) == NOW + timedelta(seconds=5)
    assert x_reset_at(httpx.Headers({}), NOW) is None


# --- Meta headers and error bodies


def test_meta_usage_takes_the_worst_of_app_page_and_buc_headers() -> None:
    headers = httpx.Headers(
        {
            "x-app-usage": json.dumps({"call_count": 12, "total_cputime": 3, "total_time": 7}),
            "x-business-use-case-usage": json.dumps(
                {
                    "111": [{"type": "pages", "call_count": 96, "total_cputime": 5, "total_time": 8}],
                    "222": [
                        {
                            "type": "instagram",
                            "call_count": 100,
                            "total_cputime": 1,
                            "total_time": 1,
                            "estimated_time_to_regain_access": 9,
                        }
                    ],
                }
            ),
        }
    )
    usage = parse_meta_usage(headers)
    assert usage.percent == 100
    assert usage.regain_minutes == 9
    assert usage.exhausted
    assert graph_reset_at(headers, NOW) == NOW + timedelta(minutes=9)


def test_meta_usage_ignores_malformed_headers() -> None:
    usage = parse_meta_usage(httpx.Headers({"x-app-usage": "not json", "x-business-use-case-usage": "[1]"}))
    assert (usage.percent, usage.regain_minutes, usage.exhausted) == (0.0, None, False)


def graph_error(
    code: int, subcode: int | None = None, status: int = 400, headers: dict[str, str] | None = None
) -> httpx.Response:
    error: dict[str, object] = {"message": "m", "type": "OAuthException", "code": code, "fbtrace_id": "x"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return response(status, {"error": error}, **(headers or {}))


@pytest.mark.parametrize(
    ("resp", "idempotent", "expected"),
    [
        (graph_error(190, 463), False, AuthExpired),
        (graph_error(102), True, AuthExpired),
        (graph_error(4, status=403), True, RateLimited),
        (graph_error(32), False, RateLimited),
        (graph_error(80002), True, RateLimited),
        (graph_error(9, 2207042, status=403), False, RateLimited),  # Instagram 24 h publishing cap
        (graph_error(506), False, DuplicateContent),
        (graph_error(100, 33), True, NotFound),
        (graph_error(200, status=403), False, Rejected),
        (graph_error(100), False, Rejected),
        (graph_error(2, status=500), False, OutcomeUnknown),
        (graph_error(2, status=500), True, RetryableError),
    ],
)
def test_graph_errors_are_classified_by_code(
    resp: httpx.Response, idempotent: bool, expected: type[ConnectorError]
) -> None:
    assert type(classify_graph_error(resp, platform="facebook", idempotent=idempotent, now=NOW)) is expected


def test_graph_permission_error_is_marked() -> None:
    error = classify_graph_error(graph_error(10, status=403), platform="facebook", idempotent=False, now=NOW)
    assert isinstance(error, Rejected)
    assert error.field == "permission"


def test_graph_error_with_exhausted_usage_header_is_rate_limited() -> None:
    resp = graph_error(1, status=400, headers={"x-app-usage": json.dumps({"call_count": 104})})
    error = classify_graph_error(resp, platform="facebook", idempotent=True, now=NOW)
    assert isinstance(error, RetryableError)  # code 1 is transient: retry, the header's window applies later
    resp = graph_error(100, status=400, headers={"x-app-usage": json.dumps({"call_count": 104})})
    error = classify_graph_error(resp, platform="facebook", idempotent=True, now=NOW)
    assert isinstance(error, RateLimited)
    assert error.reset_at == NOW + timedelta(hours=1)


# --- time helpers


def test_next_utc_midnight() -> None:
    assert next_utc_midnight(NOW) == datetime(2026, 11, 26, tzinfo=UTC)


def test_timestamps_in_the_platforms_formats() -> None:
    expected = datetime(2026, 11, 25, 9, 20, tzinfo=UTC)
    assert parse_timestamp("2026-11-25T09:20:00.000Z") == expected  # X
    assert parse_timestamp("2026-11-25T09:20:00+0000") == expected  # Meta
    assert parse_timestamp(1795598400000) == expected  # LinkedIn epoch milliseconds
    assert parse_timestamp("yesterday") is None
    assert parse_timestamp(None) is None


def test_tokens_in_httpx_request_logs_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    url = httpx.URL("https://graph.facebook.com/v25.0/1?fields=status_code,status&access_token=EAAGsecret")
    with caplog.at_level(logging.INFO, logger="httpx"):
        logging.getLogger("httpx").info('HTTP Request: %s %s "%s %d %s"', "GET", url, "HTTP/1.1", 200, "OK")
    assert "EAAGsecret" not in caplog.text
    # Other libraries (LiteLLM) may add their own redaction filter to httpx; either mark will do.
    assert "fields=status_code,status&" in caplog.text
    assert "[redacted]" in caplog.text or "REDACTED" in caplog.text

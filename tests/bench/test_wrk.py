"""The server benchmark reads wrk's --latency report (the format wrk 4.1 prints)."""

from __future__ import annotations

import pytest

from bench._wrk import parse

REPORT = """Running 10s test @ http://127.0.0.1:8000/api/posts/p1
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    62.31ms   11.20ms 180.02ms   80.11%
    Req/Sec   803.12     60.10     0.91k    70.00%
  Latency Distribution
     50%   60.12ms
     75%   66.40ms
     90%   74.95ms
     99%  120.50ms
  8031 requests in 10.01s, 9.12MB read
  Socket errors: connect 0, read 0, write 0, timeout 2
  Non-2xx or 3xx responses: 5
Requests/sec:    802.31
Transfer/sec:      0.91MB
"""


def test_wrk_report_figures() -> None:
    got = parse(REPORT)
    assert (got.rps, got.p50_ms, got.p99_ms, got.requests, got.errors) == (802.31, 60.12, 120.5, 8031, 7)
    fast = parse(REPORT.replace("60.12ms", "950.00us").replace("120.50ms", "1.20s"))
    assert (fast.p50_ms, fast.p99_ms) == (pytest.approx(0.95), 1200.0)
    with pytest.raises(AttributeError):
        parse("wrk: unable to connect")

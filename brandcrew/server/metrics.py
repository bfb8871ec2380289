"""Prometheus metrics: request counts and latency (counted as they happen), and LLM spend, posts
published and queue depth (read from the database when scraped, so every process reports the truth)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, text

_SCRAPE_CACHE_S = 5.0


class ServerMetrics:
    """One registry per app (tests build many apps in one process)."""

    def __init__(self, engine: Engine) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "brandcrew_http_requests",
            "HTTP requests by method, route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "brandcrew_http_request_duration_seconds",
            "HTTP request latency by route template",
            ["method", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
            registry=self.registry,
        )
        self.registry.register(_DatabaseCollector(engine))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one finished request."""
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)


class _DatabaseCollector(Collector):
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._cached: tuple[float, list[Any]] = (0.0, [])

    def collect(self) -> Iterator[Any]:
        now = time.monotonic()
        if now - self._cached[0] > _SCRAPE_CACHE_S:
            self._cached = (now, self._read())
        yield from self._cached[1]

    def _read(self) -> list[Any]:
        spend = GaugeMetricFamily(
            "brandcrew_llm_spend_usd", "LLM spend recorded in the cost ledger", labels=["workspace", "model"]
        )
        calls = GaugeMetricFamily(
            "brandcrew_llm_calls", "LLM calls in the cost ledger", labels=["workspace", "model"]
        )
        outbox = GaugeMetricFamily(
            "brandcrew_publish_outbox",
            "Publishing outbox rows by status (pending = queue depth)",
            labels=["status"],
        )
        published = GaugeMetricFamily("brandcrew_posts_published", "Posts published to platforms")
        with self._engine.connect() as conn:
            by_model = conn.execute(
                text(
                    "SELECT workspace_id, model, SUM(cost_nanousd), COUNT(*) FROM llm_calls "
                    "GROUP BY workspace_id, model"
                )
            )
            for ws, model, cost, n in by_model:
                spend.add_metric([ws or "", model or ""], (cost or 0) / 1e9)
                calls.add_metric([ws or "", model or ""], n)
            total_published = 0
            for status, n in conn.execute(
                text("SELECT status, COUNT(*) FROM publish_outbox GROUP BY status")
            ):
                outbox.add_metric([status], n)
                if status == "published":
                    total_published = n
            published.add_metric([], total_published)
        return [spend, calls, outbox, published]

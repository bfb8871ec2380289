"""OpenTelemetry traces of the server's requests, when configured (extra `otel`).

Configured by the standard variables (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_SERVICE_NAME`, ...): with no
endpoint set nothing is imported or exported. Each server span carries the request id, so a trace and
the JSON log lines of one request can be joined.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from fastapi import FastAPI

log = logging.getLogger("brandcrew.server")


def configure_tracing(app: FastAPI, *, exporter: Any = None) -> bool:
    """Trace every request of `app` to the OTLP endpoint (or to `exporter`); False when not configured."""
    if exporter is None and not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return False
    try:
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    except ImportError:
        log.warning("OTEL_EXPORTER_OTLP_ENDPOINT is set but the `otel` extra is not installed: no traces")
        return False
    service = os.environ.get("OTEL_SERVICE_NAME", "brandcrew")
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))

    from opentelemetry import trace

    def tag_span(request_id: str) -> None:
        # The tracing middleware wraps ours, so the server span is current when the id is known.
        span = trace.get_current_span()
        if span.is_recording():
            span.set_attribute("brandcrew.request_id", request_id)

    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider, excluded_urls="health,metrics")
    app.state.tracer_provider = provider
    app.state.tag_span = tag_span
    return True

"""Webhook (signed JSON) and Slack incoming-webhook alerts; retries on 5xx/429, none on other 4xx."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import httpx
import pytest

from brandcrew.errors import ConfigError
from brandcrew.notify import (
    DeliveryError,
    RetryPolicy,
    SlackChannel,
    WebhookChannel,
    build_channel,
    verify_signature,
)
from brandcrew.notify.slack import slack_payload
from tests.notify.conftest import sample

FAST = RetryPolicy(attempts=3, base_s=0.0)


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []
    statuses: ClassVar[list[int]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        status = self.statuses.pop(0) if self.statuses else 200
        self.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(status)
        if status == 429:
            self.send_header("Retry-After", "0")
        self.end_headers()
        self.wfile.write(b"ok" if status < 400 else b"busy")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[_Receiver]]]:
    """A local HTTP server that records POSTs and answers scripted statuses."""

    class Handler(_Receiver):
        received: ClassVar[list[tuple[dict[str, str], bytes]]] = []
        statuses: ClassVar[list[int]] = []

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/brandcrew", Handler
    finally:
        server.shutdown()
        server.server_close()


async def test_webhook_posts_signed_json_a_receiver_can_verify(receiver: Any) -> None:
    url, handler = receiver
    channel = WebhookChannel(
        url, secret="whsec_test", headers={"X-Team": "comms"}, retry=FAST, clock=lambda: 1_795_000_000
    )
    assert await channel.send(sample()) == "HTTP 200"
    ((headers, body),) = handler.received
    payload = json.loads(body)
    assert payload["id"] == "al_0123456789abcdef" and payload["type"] == "brandcrew.alert"
    assert payload["severity"] == "high" and payload["facts"]["Topic"] == "data leak"
    assert headers["content-type"] == "application/json" and headers["x-team"] == "comms"
    assert headers["x-brandcrew-delivery"] == "al_0123456789abcdef"
    timestamp, signature = headers["x-brandcrew-timestamp"], headers["x-brandcrew-signature"]
    assert timestamp == "1795000000" and signature.startswith("sha256=")
    assert verify_signature(body, "whsec_test", timestamp=timestamp, signature=signature, now=1_795_000_010)
    assert not verify_signature(body, "other", timestamp=timestamp, signature=signature, now=1_795_000_010)
    assert not verify_signature(
        body + b" ", "whsec_test", timestamp=timestamp, signature=signature, now=1_795_000_010
    )
    assert not verify_signature(
        body, "whsec_test", timestamp=timestamp, signature=signature, now=1_795_009_999
    )
    assert not verify_signature(body, "whsec_test", timestamp="soon", signature=signature)


async def test_unsigned_webhook_has_no_signature_headers(receiver: Any) -> None:
    url, handler = receiver
    await WebhookChannel(url, retry=FAST).send(sample())
    ((headers, _),) = handler.received
    assert "x-brandcrew-signature" not in headers and "x-brandcrew-timestamp" not in headers


@pytest.mark.parametrize(
    ("statuses", "calls", "ok"),
    [
        pytest.param([503, 502], 3, True, id="5xx-retried-until-success"),
        pytest.param([429], 2, True, id="429-waits-retry-after-then-succeeds"),
        pytest.param([500, 500, 500], 3, False, id="gives-up-after-the-attempts"),
        pytest.param([404], 1, False, id="4xx-not-retried"),
    ],
)
async def test_webhook_retries_only_temporary_failures(
    receiver: Any, statuses: list[int], calls: int, ok: bool
) -> None:
    url, handler = receiver
    handler.statuses = list(statuses)
    channel = WebhookChannel(url, retry=FAST)
    if ok:
        assert await channel.send(sample()) == "HTTP 200"
    else:
        with pytest.raises(DeliveryError) as info:
            await channel.send(sample())
        assert info.value.status_code == statuses[-1]
        assert info.value.retryable == (statuses[-1] >= 500)
    assert len(handler.received) == calls


async def test_a_dropped_connection_is_retried() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(204)

    client = httpx.AsyncClient(transport=httpx.MockTransport(handle))
    assert (
        await WebhookChannel("https://hooks.example/x", client=client, retry=FAST).send(sample())
        == "HTTP 204"
    )
    assert len(seen) == 2
    await client.aclose()


def test_slack_payload_follows_block_kit() -> None:
    payload = slack_payload(sample(text="Spike <script> & more", title="T" * 200))
    assert payload["text"].startswith(":rotating_light: ")
    header, section, facts, context = payload["blocks"]
    assert header == {"type": "header", "text": {"type": "plain_text", "text": "T" * 150, "emoji": True}}
    assert section["text"] == {"type": "mrkdwn", "text": "Spike &lt;script&gt; &amp; more"}
    assert facts["fields"][1] == {"type": "mrkdwn", "text": "*Topic*\ndata leak"}
    assert context["type"] == "context" and "al_0123456789abcdef" in context["elements"][0]["text"]
    assert [b["type"] for b in slack_payload(sample(facts={}))["blocks"]] == ["header", "section", "context"]


async def test_slack_channel_posts_the_payload_to_the_incoming_webhook() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:
            return httpx.Response(500, text="rollup_error")
        return httpx.Response(200, text="ok")

    client = httpx.AsyncClient(transport=httpx.MockTransport(handle))
    url = "https://hooks.slack.com/services/T000/B000/XXXX"
    assert await SlackChannel(url, client=client, retry=FAST).send(sample()) == "ok"
    assert [str(r.url) for r in seen] == [url, url]
    assert json.loads(seen[-1].content) == slack_payload(sample())
    await client.aclose()

    bad = httpx.AsyncClient(
        transport=httpx.MockTransport(lambda r: httpx.Response(400, text="invalid_payload"))
    )
    with pytest.raises(DeliveryError, match="invalid_payload") as info:
        await SlackChannel(url, client=bad, retry=FAST).send(sample())
    assert not info.value.retryable
    await bad.aclose()


@pytest.mark.parametrize(
    ("kind", "settings", "missing"),
    [
        pytest.param("webhook", {}, "url", id="webhook-url"),
        pytest.param("slack", {"webhook_url": ""}, "webhook_url", id="slack-url"),
        pytest.param("email", {"host": "smtp", "sender": "a@b"}, "to", id="email-to"),
        pytest.param("sms", {"account_sid": "AC1", "sender": "+1"}, "auth_token", id="sms-token"),
    ],
)
def test_build_channel_names_the_missing_setting(kind: str, settings: dict[str, Any], missing: str) -> None:
    with pytest.raises(ConfigError, match=missing):
        build_channel(kind, settings)


def test_build_channel_rejects_unknown_kinds() -> None:
    with pytest.raises(ConfigError, match="pager"):
        build_channel("pager", {})
    assert build_channel("slack", {"webhook_url": "https://hooks.slack.com/x"}).kind == "slack"

"""Fixtures of the alert-delivery tests: a local SMTP server, a replay-only VCR, a sample notification."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
import vcr

from brandcrew.notify import Notification

CASSETTES = Path(__file__).resolve().parents[1] / "cassettes" / "notify"

NOTIFY_VCR = vcr.VCR(
    cassette_library_dir=str(CASSETTES),
    record_mode="none",
    match_on=("method", "scheme", "host", "port", "path", "query", "body"),
    filter_headers=("authorization",),
)


def sample(**overrides: Any) -> Notification:
    """A crisis notification."""
    values: dict[str, Any] = {
        "id": "al_0123456789abcdef",
        "title": "Northwind: Crisis: mention spike with a sentiment drop",
        "text": "volume spike and sentiment drop on 'Brand mentions'.",
        "severity": "high",
        "kind": "crisis",
        "workspace_id": "northwind",
        "created_at": datetime(2026, 11, 2, 10, 15, tzinfo=UTC),
        "facts": {"Query": "Brand mentions", "Topic": "data leak"},
    }
    values.update(overrides)
    return Notification(**values)


@dataclass
class Inbox:
    """What the local SMTP server received."""

    host: str
    port: int
    envelopes: list[Any] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
    """Scripted replies to DATA (e.g. "451 try later"); `250 OK` once they run out."""

    def messages(self) -> list[Message]:
        return [message_from_bytes(e.content, policy=policy.default) for e in self.envelopes]


class _Handler:
    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.inbox.replies:
            return self.inbox.replies.pop(0)
        self.inbox.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[Inbox]:
    """An aiosmtpd server on 127.0.0.1 (a free port), plain SMTP."""
    from aiosmtpd.controller import Controller

    inbox = Inbox(host="127.0.0.1", port=free_port())
    controller = Controller(_Handler(inbox), hostname=inbox.host, port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()

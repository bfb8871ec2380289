"""The channel protocol and building a channel from its stored settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import httpx

from brandcrew.errors import ConfigError
from brandcrew.notify._retry import RetryPolicy
from brandcrew.notify.email import EmailChannel
from brandcrew.notify.message import Notification
from brandcrew.notify.slack import SlackChannel
from brandcrew.notify.sms import TWILIO_API, SmsChannel
from brandcrew.notify.webhook import WebhookChannel

__all__ = ("CHANNEL_KINDS", "SECRET_KEYS", "Channel", "build_channel")

CHANNEL_KINDS = ("webhook", "slack", "email", "sms")
SECRET_KEYS: Mapping[str, frozenset[str]] = {
    "webhook": frozenset({"secret"}),
    "slack": frozenset({"webhook_url"}),
    "email": frozenset({"password"}),
    "sms": frozenset({"auth_token"}),
}
"""Settings stored encrypted, per kind (everything else is plain configuration)."""


class Channel(Protocol):
    """Somewhere a notification can be sent."""

    kind: str

    async def send(self, notification: Notification) -> str:
        """Deliver once (with the channel's own quick retries); return the receiver's receipt."""
        ...


def _recipients(value: Any) -> list[str]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value or []]


def build_channel(
    kind: str,
    settings: Mapping[str, Any],
    *,
    client: httpx.AsyncClient | None = None,
    retry: RetryPolicy | None = None,
) -> Channel:
    """A channel from its settings (plain and secret merged); ConfigError names what is missing."""

    def need(key: str) -> Any:
        value = settings.get(key)
        if value in (None, "", []):
            raise ConfigError(f"{kind} alert channel needs {key!r}")
        return value

    if kind == "webhook":
        return WebhookChannel(
            need("url"),
            secret=settings.get("secret") or None,
            headers=settings.get("headers") or None,
            client=client,
            retry=retry,
        )
    if kind == "slack":
        return SlackChannel(need("webhook_url"), client=client, retry=retry)
    if kind == "email":
        return EmailChannel(
            host=need("host"),
            port=int(settings.get("port", 587)),
            sender=need("sender"),
            to=_recipients(need("to")),
            username=settings.get("username") or None,
            password=settings.get("password") or None,
            starttls=bool(settings.get("starttls", False)),
            use_tls=bool(settings.get("use_tls", False)),
            to_people=bool(settings.get("to_people", False)),
            retry=retry,
        )
    if kind == "sms":
        return SmsChannel(
            account_sid=need("account_sid"),
            auth_token=need("auth_token"),
            sender=need("sender"),
            to=_recipients(need("to")),
            base_url=settings.get("base_url") or TWILIO_API,
            client=client,
            retry=retry,
        )
    raise ConfigError(f"unknown alert channel kind {kind!r}; choose from {', '.join(CHANNEL_KINDS)}")

"""Slack incoming webhook: `text` (the notification fallback) plus Block Kit `blocks`.

Payload as documented at https://api.slack.com/messaging/webhooks and
https://api.slack.com/reference/block-kit/blocks: a `header` block (plain text, at most 150
characters), a `section` with mrkdwn text (at most 3,000) and up to 10 `fields`, and a `context` line.
Slack answers 200 `ok`, or 4xx with a reason such as `invalid_payload` or `no_service`.
"""

from __future__ import annotations

from typing import Any

import httpx

from brandcrew.notify._http import post
from brandcrew.notify._retry import RetryPolicy
from brandcrew.notify.message import Notification

__all__ = ("SlackChannel", "slack_payload")

_EMOJI = {"high": ":rotating_light:", "medium": ":warning:", "low": ":information_source:"}


def _escape(text: str) -> str:
    """Slack's mrkdwn control characters, escaped as its docs ask."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(notification: Notification) -> dict[str, Any]:
    """The JSON body for an incoming webhook."""
    emoji = _EMOJI.get(notification.severity, ":warning:")
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": notification.title[:150], "emoji": True}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _escape(notification.text)[:3000]}},
    ]
    if notification.facts:
        blocks.append(
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": f"*{_escape(k)}*\n{_escape(v)}"[:2000]}
                    for k, v in list(notification.facts.items())[:10]
                ],
            }
        )
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"{emoji} {notification.severity} {notification.kind} · alert {notification.id}",
                }
            ],
        }
    )
    return {"text": f"{emoji} {notification.title}", "blocks": blocks}


class SlackChannel:
    """Posts to a Slack incoming-webhook URL (the URL itself is the secret)."""

    kind = "slack"

    def __init__(
        self, webhook_url: str, *, client: httpx.AsyncClient | None = None, retry: RetryPolicy | None = None
    ) -> None:
        self.webhook_url = webhook_url
        self.client = client
        self.retry = retry or RetryPolicy()

    async def send(self, notification: Notification) -> str:
        """Deliver; returns Slack's answer (`ok`)."""
        response = await post(
            self.kind,
            self.webhook_url,
            client=self.client,
            retry=self.retry,
            json=slack_payload(notification),
        )
        return response.text[:100] or f"HTTP {response.status_code}"

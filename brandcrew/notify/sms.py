"""SMS through a Twilio-style HTTP API.

`POST {base_url}/2010-04-01/Accounts/{AccountSid}/Messages.json` with form fields `To`, `From` and
`Body`, authenticated with HTTP basic auth (Account SID, Auth Token), as documented at
https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource. Twilio answers
201 with the message resource (`sid`, `status: queued`), or 4xx with `{"code", "message", "status"}`.
Any provider speaking the same wire format works by changing `base_url`.
"""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from brandcrew.notify._http import post
from brandcrew.notify._retry import RetryPolicy
from brandcrew.notify.message import Notification

__all__ = ("TWILIO_API", "SmsChannel")

TWILIO_API = "https://api.twilio.com"
BODY_LIMIT = 320
"""Two SMS segments: an alert should fit on a lock screen (Twilio itself accepts 1,600)."""


class SmsChannel:
    """One message per recipient number."""

    kind = "sms"

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        sender: str,
        to: Sequence[str],
        base_url: str = TWILIO_API,
        client: httpx.AsyncClient | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        if not to:
            raise ValueError("an SMS channel needs at least one recipient")
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.sender = sender
        self.to = list(to)
        self.base_url = base_url.rstrip("/")
        self.client = client
        self.retry = retry or RetryPolicy()

    async def send(self, notification: Notification) -> str:
        """Deliver to every number; returns the message SIDs."""
        url = f"{self.base_url}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        body = notification.one_line(BODY_LIMIT)
        sids = []
        for number in self.to:
            response = await post(
                self.kind,
                url,
                client=self.client,
                retry=self.retry,
                data={"To": number, "From": self.sender, "Body": body},
                auth=(self.account_sid, self.auth_token),
            )
            sids.append(str(response.json().get("sid", "?")))
        return " ".join(sids)

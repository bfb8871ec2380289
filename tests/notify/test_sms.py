"""SMS alerts through the Twilio Messages API, replayed from hand-written cassettes."""

from __future__ import annotations

import base64

import httpx
import pytest

from brandcrew.notify import DeliveryError, RetryPolicy, build_channel
from brandcrew.notify.sms import SmsChannel
from tests.notify.conftest import NOTIFY_VCR, sample

SID = "AC0123456789abcdef0123456789abcdef"
FAST = RetryPolicy(attempts=3, base_s=0.0)


async def test_one_message_per_number_with_basic_auth() -> None:
    sent: list[httpx.Request] = []

    async def remember(request: httpx.Request) -> None:
        sent.append(request)

    client = httpx.AsyncClient(event_hooks={"request": [remember]})
    channel = build_channel(
        "sms",
        {
            "account_sid": SID,
            "auth_token": "token",
            "sender": "+15559870000",
            "to": "+15551230001,+15551230002",
        },
        retry=FAST,
        client=client,
    )
    with NOTIFY_VCR.use_cassette("twilio_send.yaml") as cassette:
        receipt = await channel.send(sample())
        assert cassette.all_played
    await client.aclose()
    expected = "Basic " + base64.b64encode(f"{SID}:token".encode()).decode()
    assert receipt == "SM1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c SM2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d"
    assert [r.headers["Authorization"] for r in sent] == [expected, expected]


async def test_a_503_is_retried_and_an_invalid_number_is_not() -> None:
    short = sample(title="T", text="x", severity="medium")
    channel = SmsChannel(
        account_sid=SID, auth_token="token", sender="+15559870000", to=["+15551230001", "+1555"], retry=FAST
    )
    with NOTIFY_VCR.use_cassette("twilio_errors.yaml") as cassette, pytest.raises(DeliveryError) as info:
        await channel.send(short)
    assert cassette.all_played
    assert info.value.status_code == 400 and not info.value.retryable and "21211" in str(info.value)


def test_long_alerts_are_cut_to_two_segments() -> None:
    line = sample(text="word " * 200).one_line(320)
    assert len(line) == 320 and line.endswith("…")

"""ThreadsConnector against hand-written Threads API cassettes and mock transports."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from brandcrew.connectors.base import AccountAuth
from brandcrew.connectors.drafts import PostDraft
from brandcrew.connectors.errors import AuthExpired, OutcomeUnknown, RateLimited, Rejected
from brandcrew.connectors.threads import ThreadsConnector

from .conftest import CONNECTOR_VCR, NOW, RecordingSleep, clock, failing_client

ACCOUNT = AccountAuth(
    account_id="acc-th",
    platform="threads",
    platform_account_id="25123456789012345",
    username="fernhilloutdoor",
    access_token="threads-long-lived-token",
)
ROOT = "Fix it in the field: our repair kit v2 is out."
REPLY = "Patches for shells and down, a needle, seam grip. Lifetime repair promise included."


@pytest.fixture
async def threads(sleep: RecordingSleep) -> AsyncIterator[ThreadsConnector]:
    connector = ThreadsConnector(clock=clock, sleep=sleep)
    yield connector
    await connector.aclose()


async def test_publish_text_post_and_reply_chain(threads: ThreadsConnector, sleep: RecordingSleep) -> None:
    draft = PostDraft(
        platform="threads",
        text=ROOT,
        thread=(REPLY,),
        link="https://fernhill.example/kit",
        reply_settings="followers",
    )
    with CONNECTOR_VCR.use_cassette("threads_publish.yaml") as cassette:
        result = await threads.publish(ACCOUNT, draft, "post-1")
    assert cassette.all_played
    assert result.remote_id == "18060000000000001"
    assert result.thread_ids == ["18060000000000002"]
    assert result.url == "https://www.threads.com/@fernhilloutdoor/post/DRb2mU6kR0y"
    assert sleep.calls == []  # both containers were FINISHED at the first check


async def test_metrics_and_followers(threads: ThreadsConnector) -> None:
    with CONNECTOR_VCR.use_cassette("threads_metrics.yaml") as cassette:
        (metrics,) = await threads.fetch_metrics(ACCOUNT, ["18060000000000001"])
        account = await threads.fetch_account_metrics(ACCOUNT)
    assert cassette.all_played
    assert (metrics.impressions, metrics.likes, metrics.comments, metrics.shares) == (1530, 77, 9, 4 + 2 + 3)
    assert account.followers == 3120


async def test_throttled_app_resets_after_the_rolling_hour(threads: ThreadsConnector) -> None:
    with CONNECTOR_VCR.use_cassette("threads_rate_limited.yaml"), pytest.raises(RateLimited) as info:
        await threads.publish(ACCOUNT, PostDraft(platform="threads", text=ROOT), "post-2")
    # x-app-usage at 100% gives no regain time; platform limits roll over one hour.
    assert info.value.reset_at == NOW + timedelta(hours=1)


async def test_expired_token_is_auth_expired(threads: ThreadsConnector) -> None:
    with CONNECTOR_VCR.use_cassette("threads_auth_expired.yaml"), pytest.raises(AuthExpired):
        await threads.fetch_metrics(ACCOUNT, ["18060000000000001"])


async def test_find_posts_and_delete(threads: ThreadsConnector) -> None:
    with CONNECTOR_VCR.use_cassette("threads_find_delete.yaml") as cassette:
        posts = await threads.find_posts(ACCOUNT, since=NOW - timedelta(hours=1), until=NOW)
        await threads.delete(ACCOUNT, "18060000000000001")
    assert cassette.all_played
    assert [p.remote_id for p in posts] == ["18060000000000001"]
    assert posts[0].url == "https://www.threads.com/@fernhilloutdoor/post/DRb2mU6kR0y"


async def test_over_500_characters_is_rejected_before_sending() -> None:
    client = failing_client(httpx.ConnectError)
    connector = ThreadsConnector(client=client, clock=clock)
    with pytest.raises(Rejected) as info:
        await connector.publish(ACCOUNT, PostDraft(platform="threads", text="a" * 501), "post-3")
    assert info.value.field == "text"
    assert client.seen == []  # type: ignore[attr-defined]


async def test_emoji_count_as_utf8_bytes_toward_the_limit() -> None:
    client = failing_client(httpx.ConnectError)
    connector = ThreadsConnector(client=client, clock=clock)
    # 125 thread emoji are 125 characters but 500 bytes: exactly the limit; one more letter goes over.
    assert connector.validate(PostDraft(platform="threads", text="\U0001f9f5" * 125)) == []
    with pytest.raises(Rejected):
        await connector.publish(
            ACCOUNT, PostDraft(platform="threads", text="\U0001f9f5" * 125 + "a"), "post-4"
        )
    assert client.seen == []  # type: ignore[attr-defined]


async def test_read_timeout_on_threads_publish_is_outcome_unknown(sleep: RecordingSleep) -> None:
    client = failing_client(httpx.ReadTimeout, after=2)  # container ok, status FINISHED, publish times out
    connector = ThreadsConnector(client=client, clock=clock, sleep=sleep)
    with pytest.raises(OutcomeUnknown):
        await connector.publish(ACCOUNT, PostDraft(platform="threads", text=ROOT), "post-5")
    assert [r.url.path for r in client.seen] == [  # type: ignore[attr-defined]
        "/v1.0/25123456789012345/threads",
        "/v1.0/ok-1",
        "/v1.0/25123456789012345/threads_publish",
    ]

"""XConnector against hand-written X API v2 cassettes, plus transport failures on a mock transport."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from brandcrew.connectors._http import DuplicateContent, ThreadIncomplete
from brandcrew.connectors.base import AccountAuth
from brandcrew.connectors.drafts import MediaItem, PostDraft
from brandcrew.connectors.errors import AuthExpired, OutcomeUnknown, RateLimited, Rejected, RetryableError
from brandcrew.connectors.x import XConnector

from .conftest import CONNECTOR_VCR, NOW, clock, failing_client

ACCOUNT = AccountAuth(
    account_id="acc-x",
    platform="x",
    platform_account_id="1846210987654321000",
    username="fernhilloutdoor",
    access_token="x-user-access-token",
    refresh_token="x-refresh-token",
)
ROOT = (
    "Our Schauinsland Repair Kit fits in a hip-belt pocket: patches for shells and down, "
    "a needle and seam grip. How our guides use it on tour \U0001f9f5"
)
PART_2 = "1/ Torn shell on a granite edge? Clean, round the patch corners, press for 30 seconds."
PART_3 = "2/ Lifetime repair promise: we repair any Fernhill item for the cost of parts. fernhill.example/kit"


@pytest.fixture
async def x() -> AsyncIterator[XConnector]:
    connector = XConnector(clock=clock)
    yield connector
    await connector.aclose()


async def test_publish_thread_chains_each_part_as_reply_to_the_previous(x: XConnector) -> None:
    draft = PostDraft(platform="x", text=ROOT, thread=(PART_2, PART_3), reply_settings="following")
    with CONNECTOR_VCR.use_cassette("x_publish_thread.yaml") as cassette:
        result = await x.publish(ACCOUNT, draft, "post-1")
    assert cassette.all_played
    assert result.remote_id == "2125522378552250514"
    assert result.thread_ids == ["2125522382746554515", "2125522386940858516"]
    assert result.url == "https://x.com/fernhilloutdoor/status/2125522378552250514"
    assert result.published_at == NOW


async def test_duplicate_content_403_is_rejected_with_duplicate_marker(x: XConnector) -> None:
    with CONNECTOR_VCR.use_cassette("x_duplicate.yaml"), pytest.raises(DuplicateContent) as info:
        await x.publish(ACCOUNT, PostDraft(platform="x", text=PART_2), "post-2")
    assert isinstance(info.value, Rejected)
    assert info.value.duplicate is True
    assert info.value.field == "duplicate"
    assert info.value.status_code == 403
    assert not info.value.retryable


async def test_429_on_daily_post_cap_resets_when_the_24_hour_window_does(x: XConnector) -> None:
    with CONNECTOR_VCR.use_cassette("x_rate_limited_daily.yaml"), pytest.raises(RateLimited) as info:
        await x.publish(ACCOUNT, PostDraft(platform="x", text=PART_2), "post-3")
    # x-rate-limit-reset (15-minute window, not exhausted) is earlier; the exhausted daily cap wins.
    assert info.value.reset_at == NOW + timedelta(hours=20)
    assert info.value.retryable


async def test_429_on_mentions_uses_x_rate_limit_reset_epoch(x: XConnector) -> None:
    with CONNECTOR_VCR.use_cassette("x_rate_limited_mentions.yaml"), pytest.raises(RateLimited) as info:
        await x.fetch_mentions(ACCOUNT, since=NOW - timedelta(hours=1))
    assert info.value.reset_at == NOW + timedelta(minutes=12, seconds=30)


async def test_401_is_auth_expired(x: XConnector) -> None:
    with CONNECTOR_VCR.use_cassette("x_unauthorized.yaml"), pytest.raises(AuthExpired):
        await x.fetch_metrics(ACCOUNT, ["2125522378552250514"])


async def test_fetch_metrics_maps_public_and_private_counters(x: XConnector) -> None:
    with CONNECTOR_VCR.use_cassette("x_metrics.yaml") as cassette:
        metrics = await x.fetch_metrics(ACCOUNT, ["2125522378552250514", "2098765432109876543"])
        account = await x.fetch_account_metrics(ACCOUNT)
    assert cassette.all_played
    first, second = metrics
    assert (first.impressions, first.likes, first.comments, first.shares, first.saves, first.clicks) == (
        4821,
        96,
        7,
        14 + 3,
        11,
        52,
    )
    assert first.collected_at == NOW
    # Older than 30 days: no non_public_metrics, so impressions fall back to the public count.
    assert (second.impressions, second.clicks) == (1290, 0)
    assert (account.followers, account.following, account.posts) == (18342, 512, 4127)


async def test_find_posts_pages_through_the_timeline_window(x: XConnector) -> None:
    with CONNECTOR_VCR.use_cassette("x_find_posts.yaml") as cassette:
        posts = await x.find_posts(ACCOUNT, since=NOW - timedelta(hours=2), until=NOW - timedelta(minutes=5))
    assert cassette.all_played
    assert [p.remote_id for p in posts] == ["2125522378552250514", "2125522001111110000"]
    assert posts[0].text.startswith("Our Schauinsland Repair Kit")


async def test_find_posts_up_to_now_omits_end_time(x: XConnector) -> None:
    # A window ending now would be refused as end_time; the timeline simply runs to the present.
    with CONNECTOR_VCR.use_cassette("x_find_posts_to_now.yaml") as cassette:
        posts = await x.find_posts(ACCOUNT, since=NOW - timedelta(minutes=10), until=NOW)
    assert cassette.all_played
    assert [p.remote_id for p in posts] == ["2125522378552250514"]


async def test_mentions_join_authors_from_includes(x: XConnector) -> None:
    with CONNECTOR_VCR.use_cassette("x_mentions.yaml"):
        mentions = await x.fetch_mentions(ACCOUNT, since=NOW - timedelta(hours=1))
    assert len(mentions) == 1
    mention = mentions[0]
    assert (mention.author_username, mention.author_name, mention.author_followers) == (
        "trailrunner_ka",
        "Kai",
        812,
    )
    assert mention.url == "https://x.com/trailrunner_ka/status/2125522395329466518"
    assert (mention.likes, mention.replies, mention.shares, mention.language) == (4, 1, 2, "en")


async def test_dms_are_read_and_answered_through_the_conversation(x: XConnector) -> None:
    with CONNECTOR_VCR.use_cassette("x_dms.yaml") as cassette:
        messages = await x.fetch_messages(ACCOUNT, since=NOW - timedelta(days=1))
        sent = await x.reply(
            ACCOUNT, messages[0].thread_id, "Hi Kai, send it to Freiburg and we fix it.", "r-1"
        )
    assert cassette.all_played
    assert [m.text for m in messages] == [
        "My zipper slider broke, can you fix it?"
    ]  # own DM and old DM skipped
    assert messages[0].thread_id == "dm:1846210987654321000-99887766"
    assert messages[0].author_followers == 48210  # the sender's public_metrics
    assert sent.remote_id == "2125522399523770519"


async def test_status_of_deleted_post_is_none_and_delete_confirms(x: XConnector) -> None:
    with CONNECTOR_VCR.use_cassette("x_status_delete.yaml") as cassette:
        assert await x.check_status(ACCOUNT, "2125522001111110001") is None
        await x.delete(ACCOUNT, "2125522378552250514")
    assert cassette.all_played


async def test_thread_part_failure_after_root_is_live_reports_what_exists(x: XConnector) -> None:
    draft = PostDraft(platform="x", text=ROOT, thread=(PART_2,))
    with CONNECTOR_VCR.use_cassette("x_thread_incomplete.yaml"), pytest.raises(ThreadIncomplete) as info:
        await x.publish(ACCOUNT, draft, "post-4")
    # An OutcomeUnknown, so a generic publisher reconciles; the result names the live root post.
    assert isinstance(info.value, OutcomeUnknown)
    assert info.value.result.remote_id == "2125522378552250514"
    assert info.value.result.thread_ids == []
    assert isinstance(info.value.cause, OutcomeUnknown)  # a 503 to a create: part 2 may exist too


async def test_over_280_weighted_characters_is_rejected_before_sending() -> None:
    client = failing_client(httpx.ConnectError)
    connector = XConnector(client=client, clock=clock)
    # 141 thread emoji weigh 282 (each emoji counts 2 on X), though Python sees 141 characters.
    with pytest.raises(Rejected) as info:
        await connector.publish(ACCOUNT, PostDraft(platform="x", text="\U0001f9f5" * 141), "post-5")
    assert info.value.field == "text"
    assert client.seen == []  # type: ignore[attr-defined]


async def test_media_is_rejected_before_sending() -> None:
    client = failing_client(httpx.ConnectError)
    connector = XConnector(client=client, clock=clock)
    draft = PostDraft(
        platform="x", text="Kit", media=(MediaItem(type="image", url="https://cdn.example/k.jpg"),)
    )
    with pytest.raises(Rejected, match="cannot upload media"):
        await connector.publish(ACCOUNT, draft, "post-6")
    assert client.seen == []  # type: ignore[attr-defined]


async def test_read_timeout_after_sending_a_post_is_outcome_unknown() -> None:
    client = failing_client(httpx.ReadTimeout)
    connector = XConnector(client=client, clock=clock)
    with pytest.raises(OutcomeUnknown):
        await connector.publish(ACCOUNT, PostDraft(platform="x", text=PART_2), "post-7")
    assert len(client.seen) == 1  # type: ignore[attr-defined]


async def test_read_timeout_on_a_read_is_retryable() -> None:
    connector = XConnector(client=failing_client(httpx.ReadTimeout), clock=clock)
    with pytest.raises(RetryableError) as info:
        await connector.fetch_metrics(ACCOUNT, ["2125522378552250514"])
    assert not isinstance(info.value, OutcomeUnknown)


async def test_connect_error_before_sending_a_post_is_retryable() -> None:
    connector = XConnector(client=failing_client(httpx.ConnectError), clock=clock)
    with pytest.raises(RetryableError) as info:
        await connector.publish(ACCOUNT, PostDraft(platform="x", text=PART_2), "post-8")
    assert type(info.value) is RetryableError

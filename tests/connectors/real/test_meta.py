"""Facebook Pages and Instagram connectors against hand-written Graph API cassettes and mock transports."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from brandcrew.connectors.base import AccountAuth
from brandcrew.connectors.drafts import MediaItem, PostDraft
from brandcrew.connectors.errors import AuthExpired, OutcomeUnknown, RateLimited, Rejected, RetryableError
from brandcrew.connectors.meta import FacebookConnector, InstagramConnector

from .conftest import CONNECTOR_VCR, NOW, RecordingSleep, clock, failing_client

PAGE = AccountAuth(
    account_id="acc-fb",
    platform="facebook",
    platform_account_id="104871234567890",
    username="fernhilloutdoor",
    access_token="fb-page-access-token",
)
IG = AccountAuth(
    account_id="acc-ig",
    platform="instagram",
    platform_account_id="17841400000000001",
    username="fernhill.outdoor",
    access_token="ig-user-access-token",
)
KIT_JPG = MediaItem(
    type="image",
    url="https://cdn.fernhill.example/kit-v2.jpg",
    mime="image/jpeg",
    alt_text="The repair kit open on a granite boulder",
)


@pytest.fixture
async def facebook() -> AsyncIterator[FacebookConnector]:
    connector = FacebookConnector(clock=clock)
    yield connector
    await connector.aclose()


@pytest.fixture
async def instagram(sleep: RecordingSleep) -> AsyncIterator[InstagramConnector]:
    connector = InstagramConnector(clock=clock, sleep=sleep, poll_interval=3.0, max_polls=5)
    yield connector
    await connector.aclose()


# --- Facebook


async def test_facebook_link_post_goes_to_the_page_feed(facebook: FacebookConnector) -> None:
    draft = PostDraft(
        platform="facebook",
        text="Fix it in the field: our repair kit, v2.",
        link="https://fernhill.example/kit",
    )
    with CONNECTOR_VCR.use_cassette("facebook_publish_link.yaml") as cassette:
        result = await facebook.publish(PAGE, draft, "post-1")
    assert cassette.all_played
    assert result.remote_id == "104871234567890_122100000000000001"
    assert result.url == "https://www.facebook.com/104871234567890_122100000000000001"


async def test_facebook_photos_are_uploaded_unpublished_then_attached(facebook: FacebookConnector) -> None:
    second = MediaItem(type="image", url="https://cdn.fernhill.example/patch.jpg", mime="image/jpeg")
    draft = PostDraft(platform="facebook", text="Two patches, one shell.", media=(KIT_JPG, second))
    with CONNECTOR_VCR.use_cassette("facebook_publish_photos.yaml") as cassette:
        result = await facebook.publish(PAGE, draft, "post-2")
    assert cassette.all_played
    assert result.remote_id == "104871234567890_122100000000000002"


async def test_facebook_metrics_read_views_clicks_and_reactions(facebook: FacebookConnector) -> None:
    with CONNECTOR_VCR.use_cassette("facebook_metrics.yaml") as cassette:
        (metrics,) = await facebook.fetch_metrics(PAGE, ["104871234567890_122100000000000001"])
        account = await facebook.fetch_account_metrics(PAGE)
    assert cassette.all_played
    assert (metrics.impressions, metrics.clicks, metrics.likes, metrics.comments, metrics.shares) == (
        3120,
        144,
        48,
        6,
        5,
    )
    assert account.followers == 9120


async def test_facebook_page_throttle_resets_when_buc_header_says(facebook: FacebookConnector) -> None:
    draft = PostDraft(platform="facebook", text="Repair Thursday.")
    with CONNECTOR_VCR.use_cassette("facebook_rate_limited.yaml"), pytest.raises(RateLimited) as info:
        await facebook.publish(PAGE, draft, "post-3")
    # x-business-use-case-usage: estimated_time_to_regain_access = 17 (minutes)
    assert info.value.reset_at == NOW + timedelta(minutes=17)


async def test_facebook_error_190_is_auth_expired_even_as_http_400(facebook: FacebookConnector) -> None:
    with CONNECTOR_VCR.use_cassette("facebook_auth_expired.yaml"), pytest.raises(AuthExpired) as info:
        await facebook.find_posts(PAGE, since=NOW - timedelta(hours=1), until=NOW)
    assert info.value.status_code == 400


async def test_facebook_read_timeout_on_feed_post_is_outcome_unknown() -> None:
    client = failing_client(httpx.ReadTimeout)
    connector = FacebookConnector(client=client, clock=clock)
    with pytest.raises(OutcomeUnknown):
        await connector.publish(PAGE, PostDraft(platform="facebook", text="Hello"), "post-4")
    assert len(client.seen) == 1  # type: ignore[attr-defined]


async def test_facebook_read_timeout_on_unpublished_photo_upload_is_retryable() -> None:
    client = failing_client(httpx.ReadTimeout)
    connector = FacebookConnector(client=client, clock=clock)
    with pytest.raises(RetryableError):
        await connector.publish(PAGE, PostDraft(platform="facebook", text="Hi", media=(KIT_JPG,)), "post-5")


# --- Instagram


async def test_instagram_publish_creates_container_polls_status_then_publishes(
    instagram: InstagramConnector, sleep: RecordingSleep
) -> None:
    draft = PostDraft(platform="instagram", text="Fix it in the field. #RepairDontReplace", media=(KIT_JPG,))
    with CONNECTOR_VCR.use_cassette("instagram_publish.yaml") as cassette:
        result = await instagram.publish(IG, draft, "post-6")
    assert cassette.all_played  # container -> IN_PROGRESS -> FINISHED -> media_publish -> permalink
    assert sleep.calls == [3.0]  # one wait between the two status checks
    assert result.remote_id == "17920238422030506"
    assert result.url == "https://www.instagram.com/p/DRa1kT5jQ9x/"
    assert result.published_at == NOW + timedelta(seconds=4)


async def test_instagram_container_error_rejects_without_publishing(instagram: InstagramConnector) -> None:
    draft = PostDraft(platform="instagram", text="Fix it in the field.", media=(KIT_JPG,))
    with (
        CONNECTOR_VCR.use_cassette("instagram_container_error.yaml") as cassette,
        pytest.raises(Rejected) as info,
    ):
        await instagram.publish(IG, draft, "post-7")
    assert cassette.all_played
    assert "2207052" in str(info.value)


async def test_instagram_container_still_processing_after_max_polls_is_retryable(
    sleep: RecordingSleep,
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(200, json={"id": "17889455560051444"})
        return httpx.Response(200, json={"status_code": "IN_PROGRESS", "id": "17889455560051444"})

    connector = InstagramConnector(
        client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        clock=clock,
        sleep=sleep,
        poll_interval=2.0,
        max_polls=3,
    )
    draft = PostDraft(platform="instagram", text="Kit", media=(KIT_JPG,))
    with pytest.raises(RetryableError, match="still processing"):
        await connector.publish(IG, draft, "post-8")
    assert sleep.calls == [2.0, 2.0]  # bounded: three checks, two waits, never media_publish


async def test_instagram_metrics_map_views_and_saves(instagram: InstagramConnector) -> None:
    with CONNECTOR_VCR.use_cassette("instagram_metrics.yaml") as cassette:
        (metrics,) = await instagram.fetch_metrics(IG, ["17920238422030506"])
        account = await instagram.fetch_account_metrics(IG)
    assert cassette.all_played
    assert (metrics.impressions, metrics.likes, metrics.comments, metrics.shares, metrics.saves) == (
        2210,
        187,
        12,
        9,
        31,
    )
    assert (account.followers, account.following, account.posts) == (24810, 302, 712)


async def test_instagram_buc_throttle_resets_after_regain_time(instagram: InstagramConnector) -> None:
    with CONNECTOR_VCR.use_cassette("instagram_rate_limited.yaml"), pytest.raises(RateLimited) as info:
        await instagram.fetch_metrics(IG, ["17920238422030506"])
    assert info.value.reset_at == NOW + timedelta(minutes=42)


async def test_instagram_requires_media_before_sending() -> None:
    client = failing_client(httpx.ConnectError)
    connector = InstagramConnector(client=client, clock=clock)
    with pytest.raises(Rejected) as info:
        await connector.publish(IG, PostDraft(platform="instagram", text="No picture"), "post-9")
    assert info.value.field == "media"
    assert client.seen == []  # type: ignore[attr-defined]


async def test_instagram_read_timeout_on_media_publish_is_outcome_unknown(sleep: RecordingSleep) -> None:
    # container created (200), status FINISHED (200), then media_publish times out after sending.
    client = failing_client(httpx.ReadTimeout, after=2)
    connector = InstagramConnector(client=client, clock=clock, sleep=sleep)
    draft = PostDraft(platform="instagram", text="Kit", media=(KIT_JPG,))
    with pytest.raises(OutcomeUnknown):
        await connector.publish(IG, draft, "post-10")
    sent = client.seen  # type: ignore[attr-defined]
    assert [(r.method, r.url.path) for r in sent] == [
        ("POST", "/v25.0/17841400000000001/media"),
        ("GET", "/v25.0/ok-1"),
        ("POST", "/v25.0/17841400000000001/media_publish"),
    ]


async def test_instagram_read_timeout_on_container_creation_is_retryable() -> None:
    connector = InstagramConnector(client=failing_client(httpx.ReadTimeout), clock=clock)
    draft = PostDraft(platform="instagram", text="Kit", media=(KIT_JPG,))
    with pytest.raises(RetryableError):
        await connector.publish(IG, draft, "post-11")


async def test_graph_paging_follows_next_with_our_own_token_once() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if "after" not in request.url.params:
            next_url = (
                "https://graph.facebook.com/v25.0/104871234567890/posts?access_token=stale-token"
                "&fields=id%2Cmessage%2Ccreated_time%2Cpermalink_url&limit=100&after=QVFIUmRH"
            )
            item = {"id": "104871234567890_1", "message": "one", "created_time": "2026-11-25T09:00:00+0000"}
            return httpx.Response(200, json={"data": [item], "paging": {"next": next_url}})
        item = {"id": "104871234567890_2", "message": "two", "created_time": "2026-11-25T08:40:00+0000"}
        return httpx.Response(200, json={"data": [item], "paging": {}})

    connector = FacebookConnector(
        client=httpx.AsyncClient(transport=httpx.MockTransport(handler)), clock=clock
    )
    posts = await connector.find_posts(PAGE, since=NOW - timedelta(hours=1), until=NOW)
    assert [p.remote_id for p in posts] == ["104871234567890_1", "104871234567890_2"]
    assert seen[1].url.params.get_list("access_token") == ["fb-page-access-token"]
    assert seen[1].url.params["after"] == "QVFIUmRH"

"""LinkedInConnector against hand-written Posts API cassettes, plus transport failures on a mock transport."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from brandcrew.connectors._http import DuplicateContent
from brandcrew.connectors.base import AccountAuth
from brandcrew.connectors.drafts import PostDraft
from brandcrew.connectors.errors import AuthExpired, OutcomeUnknown, RateLimited
from brandcrew.connectors.linkedin import LinkedInConnector
from brandcrew.errors import ConfigError

from .conftest import CONNECTOR_VCR, NOW, clock, failing_client

ACCOUNT = AccountAuth(
    account_id="acc-li",
    platform="linkedin",
    platform_account_id="2414183",
    username="fernhill-outdoor",
    access_token="li-access-token",
    refresh_token="li-refresh-token",
    extra={"author_urn": "urn:li:organization:2414183"},
)
RAW_TEXT = (
    "Our repair kit (v2) is here: patches for shells & down {no glue}. "
    "Ask @[Fernhill](urn:li:organization:2414183) at booth <12> - code KIT_2026 ~ 20% *off* | "
    "https://fernhill.example/kit_v2 #RepairDontReplace"
)
ESCAPED_TEXT = (
    r"Our repair kit \(v2\) is here: patches for shells & down \{no glue\}. "
    r"Ask @[Fernhill](urn:li:organization:2414183) at booth \<12\> - code KIT\_2026 \~ 20% \*off\* \| "
    r"https://fernhill.example/kit_v2 #RepairDontReplace"
)


class Sent:
    """Captures every request the connector sends (an httpx request event hook)."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> None:
        self.requests.append(request)


@pytest.fixture
async def sent() -> Sent:
    return Sent()


@pytest.fixture
async def linkedin(sent: Sent) -> AsyncIterator[LinkedInConnector]:
    client = httpx.AsyncClient(event_hooks={"request": [sent]})
    connector = LinkedInConnector(client=client, clock=clock)
    yield connector
    await client.aclose()


async def test_publish_escapes_reserved_characters_in_commentary(
    linkedin: LinkedInConnector, sent: Sent
) -> None:
    with CONNECTOR_VCR.use_cassette("linkedin_publish_escaped.yaml") as cassette:
        result = await linkedin.publish(ACCOUNT, PostDraft(platform="linkedin", text=RAW_TEXT), "post-1")
    assert cassette.all_played
    assert result.remote_id == "urn:li:share:7399912345678901234"
    assert result.url == "https://www.linkedin.com/feed/update/urn:li:share:7399912345678901234/"
    request = sent.requests[0]
    body = json.loads(request.content)
    # Reserved characters are backslash-escaped; the link, the hashtag and the mention element are not.
    assert body["commentary"] == ESCAPED_TEXT
    assert body["author"] == "urn:li:organization:2414183"
    assert request.headers["Linkedin-Version"] == "202603"
    assert request.headers["X-Restli-Protocol-Version"] == "2.0.0"
    assert request.headers["Authorization"] == "Bearer li-access-token"


async def test_already_escaped_text_is_not_escaped_twice(linkedin: LinkedInConnector, sent: Sent) -> None:
    with CONNECTOR_VCR.use_cassette("linkedin_publish_escaped.yaml"):
        await linkedin.publish(ACCOUNT, PostDraft(platform="linkedin", text=ESCAPED_TEXT), "post-1")
    assert json.loads(sent.requests[0].content)["commentary"] == ESCAPED_TEXT


async def test_link_becomes_an_article_with_a_title(linkedin: LinkedInConnector) -> None:
    draft = PostDraft(platform="linkedin", text="The kit, in detail.", link="https://fernhill.example/kit")
    with CONNECTOR_VCR.use_cassette("linkedin_publish_article.yaml") as cassette:
        result = await linkedin.publish(ACCOUNT, draft, "post-2")
    assert cassette.all_played
    assert result.remote_id == "urn:li:share:7399912345678905555"


async def test_duplicate_422_names_the_existing_post(linkedin: LinkedInConnector) -> None:
    with CONNECTOR_VCR.use_cassette("linkedin_duplicate.yaml"), pytest.raises(DuplicateContent) as info:
        await linkedin.publish(ACCOUNT, PostDraft(platform="linkedin", text=RAW_TEXT), "post-3")
    assert info.value.existing_id == "urn:li:share:7399912345678901234"
    assert info.value.status_code == 422


async def test_429_without_headers_resets_at_next_utc_midnight(linkedin: LinkedInConnector) -> None:
    with CONNECTOR_VCR.use_cassette("linkedin_rate_limited.yaml"), pytest.raises(RateLimited) as info:
        await linkedin.find_posts(ACCOUNT, since=NOW - timedelta(hours=2), until=NOW)
    assert info.value.reset_at == datetime(2026, 11, 26, 0, 0, tzinfo=UTC)


async def test_401_is_auth_expired(linkedin: LinkedInConnector) -> None:
    with CONNECTOR_VCR.use_cassette("linkedin_unauthorized.yaml"), pytest.raises(AuthExpired):
        await linkedin.fetch_metrics(ACCOUNT, ["urn:li:share:7399912345678901234"])


async def test_organization_share_statistics_and_followers(linkedin: LinkedInConnector, sent: Sent) -> None:
    ids = ["urn:li:share:7399912345678901234", "urn:li:ugcPost:7399000000000000001"]
    with CONNECTOR_VCR.use_cassette("linkedin_metrics.yaml") as cassette:
        metrics = await linkedin.fetch_metrics(ACCOUNT, ids)
        account = await linkedin.fetch_account_metrics(ACCOUNT)
    assert cassette.all_played
    # Rest.li 2.0 List(...) syntax must reach LinkedIn with literal parentheses and encoded URNs.
    assert "shares=List(urn%3Ali%3Ashare%3A7399912345678901234)" in str(sent.requests[0].url)
    share, ugc = metrics
    assert (share.remote_id, share.impressions, share.likes, share.comments, share.shares, share.clicks) == (
        ids[0],
        2391,
        64,
        9,
        12,
        87,
    )
    assert (ugc.remote_id, ugc.impressions) == (ids[1], 880)
    assert account.followers == 5210


async def test_find_posts_stops_at_the_first_post_older_than_the_window(linkedin: LinkedInConnector) -> None:
    with CONNECTOR_VCR.use_cassette("linkedin_find_posts.yaml") as cassette:
        posts = await linkedin.find_posts(ACCOUNT, since=NOW - timedelta(hours=2), until=NOW)
        gone = await linkedin.check_status(ACCOUNT, "urn:li:share:7399000000000000009")
    assert cassette.all_played
    assert [p.remote_id for p in posts] == ["urn:li:share:7399912345678901234"]
    assert posts[0].text.startswith("Our repair kit (v2)")  # unescaped for comparison with drafts
    assert posts[0].created_at == NOW - timedelta(minutes=10)
    assert gone is None


async def test_read_timeout_after_sending_a_post_is_outcome_unknown() -> None:
    client = failing_client(httpx.ReadTimeout)
    connector = LinkedInConnector(client=client, clock=clock)
    with pytest.raises(OutcomeUnknown):
        await connector.publish(ACCOUNT, PostDraft(platform="linkedin", text="Hello"), "post-4")
    assert len(client.seen) == 1  # type: ignore[attr-defined]


async def test_missing_author_urn_is_a_configuration_error() -> None:
    connector = LinkedInConnector(client=failing_client(httpx.ConnectError), clock=clock)
    account = ACCOUNT.model_copy(update={"extra": {}})
    with pytest.raises(ConfigError, match="author_urn"):
        await connector.publish(account, PostDraft(platform="linkedin", text="Hello"), "post-5")


def test_version_must_be_yyyymm() -> None:
    with pytest.raises(ConfigError):
        LinkedInConnector(version="2026-03")

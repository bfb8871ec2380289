"""LinkedIn connector: the versioned Posts API (`/rest/posts`) for a member or an organization page.

Every call carries `Linkedin-Version: YYYYMM` and `X-Restli-Protocol-Version: 2.0.0`
(https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api).
Commentary uses LinkedIn's "little" text format: reserved characters are backslash-escaped with
`escape_linkedin` before sending, or LinkedIn silently truncates the post at the first one.

The author URN (`urn:li:person:...` or `urn:li:organization:...`) comes from
`AccountAuth.extra["author_urn"]`. Image and video upload (Images/Videos API) is not implemented.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final
from urllib.parse import quote

import httpx

from brandcrew.connectors._http import (
    DEFAULT_TIMEOUT,
    JSON,
    Clock,
    DuplicateContent,
    HTTPConnector,
    NotFound,
    error_for_status,
    next_utc_midnight,
    parse_retry_after,
    parse_timestamp,
    raise_for_violations,
    read_json,
    utc_now,
)
from brandcrew.connectors.base import AccountAuth, AccountMetrics, PostMetrics, PublishResult, RemotePost
from brandcrew.connectors.capabilities import PlatformCapabilities
from brandcrew.connectors.drafts import PostDraft
from brandcrew.connectors.errors import ConnectorError, OutcomeUnknown, Rejected
from brandcrew.connectors.oauth import OAuthClient
from brandcrew.connectors.validation import escape_linkedin, unescape_linkedin
from brandcrew.errors import ConfigError

__all__ = ("DEFAULT_LINKEDIN_VERSION", "LinkedInConnector")

DEFAULT_LINKEDIN_VERSION: Final = "202603"
"""A Marketing API version (YYYYMM); LinkedIn supports each version for at least a year."""

_URN: Final = re.compile(r"urn:li:(?:share|ugcPost):\d+")
_PAGE_SIZE: Final = 50


def _enc(urn: str) -> str:
    """A URN as one URL path segment or query value (Rest.li 2.0 wants `:` encoded)."""
    return quote(urn, safe="")


class LinkedInConnector(HTTPConnector):
    """LinkedIn Posts API as one member or organization (URN in `AccountAuth.extra["author_urn"]`)."""

    platform = "linkedin"
    can_publish = True

    def __init__(
        self,
        *,
        client: httpx.AsyncClient | None = None,
        oauth: OAuthClient | None = None,
        version: str = DEFAULT_LINKEDIN_VERSION,
        base_url: str = "https://api.linkedin.com",
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        clock: Clock = utc_now,
        capabilities: PlatformCapabilities | None = None,
        visibility: str = "PUBLIC",
        max_pages: int = 10,
    ) -> None:
        super().__init__(
            base_url=base_url,
            client=client,
            oauth=oauth,
            timeout=timeout,
            clock=clock,
            capabilities=capabilities,
        )
        if not re.fullmatch(r"\d{6}", version):
            raise ConfigError(f"LinkedIn-Version must be YYYYMM, got {version!r}")
        self.version = version
        self.visibility = visibility
        self.max_pages = max_pages

    # --- errors

    def _classify(self, response: httpx.Response, idempotent: bool) -> ConnectorError:
        try:
            body = response.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        # Rest.li error: {"status": 422, "serviceErrorCode": 100, "code": "...", "message": "..."}
        message = str(body.get("message") or response.reason_phrase)
        if body.get("code"):
            message = f"{body['code']}: {message}"
        status = response.status_code
        now = self._clock()
        if status == 422 and "duplicate" in message.lower():
            existing = _URN.search(message)
            return DuplicateContent(
                f"linkedin: {message}",
                platform=self.platform,
                status_code=status,
                existing_id=existing.group(0) if existing else None,
            )
        if status == 403:
            # ACCESS_DENIED: a scope or page role is missing; reconnecting with the right one helps.
            return Rejected(
                f"linkedin: {message}", platform=self.platform, status_code=403, field="permission"
            )
        # 429s carry no reset header; application and member day limits reset at midnight UTC.
        reset_at = (
            (parse_retry_after(response.headers.get("retry-after"), now) or next_utc_midnight(now))
            if status == 429
            else None
        )
        return error_for_status(
            response,
            platform=self.platform,
            idempotent=idempotent,
            message=message,
            now=now,
            reset_at=reset_at,
        )

    # --- requests

    def _headers(self, account: AccountAuth, *, method: str | None = None) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {self._token(account)}",
            "Linkedin-Version": self.version,
            "X-Restli-Protocol-Version": "2.0.0",
        }
        if method:
            headers["X-RestLi-Method"] = method
        return headers

    def _author(self, account: AccountAuth) -> str:
        author = account.extra.get("author_urn", "")
        if not author.startswith(("urn:li:person:", "urn:li:organization:")):
            raise ConfigError(
                f"linkedin: account {account.account_id} needs extra['author_urn'] "
                "(urn:li:person:... or urn:li:organization:...)"
            )
        return author

    async def _get(self, account: AccountAuth, path: str, *, method: str | None = None) -> JSON:
        # Paths come pre-encoded: Rest.li List(...) syntax must reach LinkedIn with literal parentheses.
        response = await self._http.request(
            "GET", path, idempotent=True, headers=self._headers(account, method=method)
        )
        return read_json(response, platform=self.platform, idempotent=True)

    @staticmethod
    def post_url(urn: str) -> str:
        """The public URL of a post URN."""
        return f"https://www.linkedin.com/feed/update/{urn}/"

    def _remote_post(self, element: Mapping[str, Any]) -> RemotePost | None:
        urn = element.get("id")
        created = parse_timestamp(element.get("publishedAt") or element.get("createdAt"))
        if not isinstance(urn, str) or created is None:
            return None
        return RemotePost(
            remote_id=urn,
            text=unescape_linkedin(str(element.get("commentary", ""))),
            created_at=created,
            url=self.post_url(urn),
        )

    # --- Connector

    async def publish(self, account: AccountAuth, draft: PostDraft, idempotency_key: str) -> PublishResult:
        """Create a post; the new URN comes back in the `x-restli-id` header of the 201."""
        author = self._author(account)
        # Escaping is idempotent, so a draft that `fix` already escaped is sent unchanged.
        escaped = draft.model_copy(update={"text": escape_linkedin(draft.text)})
        raise_for_violations(self.platform, self.validate(escaped))
        if draft.media:
            raise Rejected(
                "linkedin: brandcrew's LinkedIn connector cannot upload images or video yet",
                platform=self.platform,
                status_code=None,
                field="media",
            )
        body: dict[str, Any] = {
            "author": author,
            "commentary": escaped.text,
            "visibility": self.visibility,
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        if draft.link:
            # LinkedIn does not scrape link previews for API posts; an article needs its own title.
            title = re.sub(r"^https?://", "", draft.link).rstrip("/")
            body["content"] = {"article": {"source": draft.link, "title": title}}
        response = await self._http.request(
            "POST", "/rest/posts", idempotent=False, json=body, headers=self._headers(account)
        )
        urn = response.headers.get("x-restli-id") or response.headers.get("x-linkedin-id")
        if not urn:
            raise OutcomeUnknown(
                f"linkedin: HTTP {response.status_code} to POST /rest/posts without x-restli-id",
                platform=self.platform,
                status_code=response.status_code,
            )
        return PublishResult(remote_id=urn, url=self.post_url(urn), published_at=self._clock())

    async def find_posts(self, account: AccountAuth, since: datetime, until: datetime) -> list[RemotePost]:
        """The author's posts created in [since, until] (finder sorted by creation, newest first)."""
        author = _enc(self._author(account))
        posts: list[RemotePost] = []
        for page in range(self.max_pages):
            path = (
                f"/rest/posts?author={author}&q=author&count={_PAGE_SIZE}"
                f"&start={page * _PAGE_SIZE}&sortBy=CREATED"
            )
            body = await self._get(account, path, method="FINDER")
            elements = [e for e in body.get("elements") or [] if isinstance(e, dict)]
            older = False
            for element in elements:
                post = self._remote_post(element)
                if post is None:
                    continue
                if post.created_at < since:
                    older = True
                elif post.created_at <= until:
                    posts.append(post)
            if older or len(elements) < _PAGE_SIZE:
                break
        return posts

    async def check_status(self, account: AccountAuth, remote_id: str) -> RemotePost | None:
        """The post, or None when LinkedIn does not have it (404)."""
        try:
            body = await self._get(account, f"/rest/posts/{_enc(remote_id)}")
        except NotFound:
            return None
        return self._remote_post(body)

    async def delete(self, account: AccountAuth, remote_id: str) -> None:
        """Delete a post (204; an already deleted post counts as deleted)."""
        try:
            await self._http.request(
                "DELETE",
                f"/rest/posts/{_enc(remote_id)}",
                idempotent=True,
                headers=self._headers(account, method="DELETE"),
            )
        except NotFound:
            return

    async def fetch_metrics(self, account: AccountAuth, remote_ids: Sequence[str]) -> list[PostMetrics]:
        """Lifetime organic counters of organization posts (organizationalEntityShareStatistics)."""
        author = self._author(account)
        if not author.startswith("urn:li:organization:"):
            raise NotImplementedError("linkedin: post statistics are available for organization pages only")
        shares = [i for i in remote_ids if i.startswith("urn:li:share:")]
        ugc = [i for i in remote_ids if i.startswith("urn:li:ugcPost:")]
        query = f"q=organizationalEntity&organizationalEntity={_enc(author)}"
        if shares:
            query += f"&shares=List({','.join(_enc(s) for s in shares)})"
        if ugc:
            query += f"&ugcPosts=List({','.join(_enc(u) for u in ugc)})"
        if not (shares or ugc):
            return []
        body = await self._get(account, f"/rest/organizationalEntityShareStatistics?{query}")
        now = self._clock()
        out: list[PostMetrics] = []
        for element in body.get("elements") or []:
            urn = element.get("share") or element.get("ugcPost")
            stats = element.get("totalShareStatistics") or {}
            if not isinstance(urn, str):
                continue
            out.append(
                PostMetrics(
                    remote_id=urn,
                    impressions=int(stats.get("impressionCount", 0)),
                    likes=int(stats.get("likeCount", 0)),
                    comments=int(stats.get("commentCount", 0)),
                    shares=int(stats.get("shareCount", 0)),
                    clicks=int(stats.get("clickCount", 0)),
                    collected_at=now,
                )
            )
        return out

    async def fetch_account_metrics(self, account: AccountAuth) -> AccountMetrics:
        """Follower count of an organization page (networkSizes)."""
        author = self._author(account)
        if not author.startswith("urn:li:organization:"):
            raise NotImplementedError("linkedin: follower counts are available for organization pages only")
        body = await self._get(
            account, f"/rest/networkSizes/{_enc(author)}?edgeType=COMPANY_FOLLOWED_BY_MEMBER"
        )
        return AccountMetrics(followers=int(body.get("firstDegreeSize", 0)), collected_at=self._clock())

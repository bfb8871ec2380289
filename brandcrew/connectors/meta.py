"""Meta Graph API connectors: Facebook Pages and Instagram professional accounts.

Facebook (https://developers.facebook.com/docs/pages-api/posts): text and link posts go to
`POST /{page-id}/feed`; photos are uploaded unpublished to `POST /{page-id}/photos` and attached to
one feed post (`attached_media`), so a lost upload answer only leaves an invisible orphan photo.

Instagram (https://developers.facebook.com/docs/instagram-platform/content-publishing): create a
media container (`POST /{ig-user-id}/media`), poll its `status_code` until FINISHED, then
`POST /{ig-user-id}/media_publish`. Containers stay invisible until published, so only the last
step can leave an outcome unknown. Media must be at public URLs; Meta fetches them.

Both use the Graph API error format and rate-limit headers (`x-app-usage`,
`x-business-use-case-usage`); the access token travels as the documented `access_token` parameter.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Mapping, Sequence
from contextlib import aclosing
from datetime import datetime
from typing import Any

import httpx

from brandcrew.connectors._http import (
    DEFAULT_TIMEOUT,
    JSON,
    Clock,
    HTTPConnector,
    NotFound,
    Sleep,
    classify_graph_error,
    parse_timestamp,
    raise_for_violations,
    read_json,
    utc_now,
)
from brandcrew.connectors.base import AccountAuth, AccountMetrics, PostMetrics, PublishResult, RemotePost
from brandcrew.connectors.capabilities import MediaType, PlatformCapabilities
from brandcrew.connectors.drafts import MediaItem, PostDraft
from brandcrew.connectors.errors import ConnectorError, OutcomeUnknown, Rejected, RetryableError
from brandcrew.connectors.oauth import GRAPH_VERSION, OAuthClient

__all__ = ("FacebookConnector", "InstagramConnector", "MetaGraphConnector")


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def insight_values(body: Mapping[str, Any]) -> dict[str, int]:
    """Metric name -> value of an insights answer (`values[0].value` or `total_value.value`)."""
    out: dict[str, int] = {}
    for metric in body.get("data") or []:
        if not isinstance(metric, dict) or "name" not in metric:
            continue
        values = metric.get("values")
        if isinstance(values, list) and values and isinstance(values[-1], dict):
            out[str(metric["name"])] = _int(values[-1].get("value"))
        elif isinstance(metric.get("total_value"), dict):
            out[str(metric["name"])] = _int(metric["total_value"].get("value"))
    return out


class MetaGraphConnector(HTTPConnector):
    """Shared Graph API plumbing (also used by Threads, whose API has the same shape)."""

    DEFAULT_BASE_URL = "https://graph.facebook.com"
    DEFAULT_VERSION = GRAPH_VERSION

    # How a platform lists and describes its own posts: Facebook, Instagram and Threads differ only here.
    POSTS_EDGE = "posts"
    TEXT_FIELD = "message"
    TIME_FIELD = "created_time"
    URL_FIELD = "permalink_url"
    PAGE_SIZE = 100

    def _fallback_url(self, remote_id: str) -> str | None:
        return None

    def _remote_post(self, item: Mapping[str, Any]) -> RemotePost | None:
        created = parse_timestamp(item.get(self.TIME_FIELD))
        if "id" not in item or created is None:
            return None
        return RemotePost(
            remote_id=str(item["id"]),
            text=str(item.get(self.TEXT_FIELD, "")),
            created_at=created,
            url=item.get(self.URL_FIELD) or self._fallback_url(str(item["id"])),
        )

    def _post_fields(self) -> str:
        return f"id,{self.TEXT_FIELD},{self.TIME_FIELD},{self.URL_FIELD}"

    async def find_posts(self, account: AccountAuth, since: datetime, until: datetime) -> list[RemotePost]:
        """The account's own posts published in [since, until]."""
        params = {
            "fields": self._post_fields(),
            "since": str(int(since.timestamp())),
            "until": str(int(until.timestamp())),
            "limit": str(self.PAGE_SIZE),
        }
        posts: list[RemotePost] = []
        pages = self._paged(account, f"/{account.platform_account_id}/{self.POSTS_EDGE}", params)
        async with aclosing(pages):
            async for item in pages:
                post = self._remote_post(item)
                if post is not None and since <= post.created_at <= until:
                    posts.append(post)
        return posts

    async def check_status(self, account: AccountAuth, remote_id: str) -> RemotePost | None:
        """The post, or None when the platform no longer has it."""
        try:
            body = await self._call(
                "GET", f"/{remote_id}", account, idempotent=True, params={"fields": self._post_fields()}
            )
        except NotFound:
            return None
        return self._remote_post(body)

    def __init__(
        self,
        *,
        client: httpx.AsyncClient | None = None,
        oauth: OAuthClient | None = None,
        version: str | None = None,
        base_url: str | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        clock: Clock = utc_now,
        capabilities: PlatformCapabilities | None = None,
        sleep: Sleep = asyncio.sleep,
        poll_interval: float = 3.0,
        max_polls: int = 20,
        max_pages: int = 10,
    ) -> None:
        self.version = version or self.DEFAULT_VERSION
        super().__init__(
            base_url=f"{(base_url or self.DEFAULT_BASE_URL).rstrip('/')}/{self.version}",
            client=client,
            oauth=oauth,
            timeout=timeout,
            clock=clock,
            capabilities=capabilities,
        )
        self._sleep = sleep
        self.poll_interval = poll_interval
        """Seconds between container status checks."""
        self.max_polls = max_polls
        """Status checks before giving up on a container that is still processing (nothing published)."""
        self.max_pages = max_pages

    def _classify(self, response: httpx.Response, idempotent: bool) -> ConnectorError:
        return classify_graph_error(
            response, platform=self.platform, idempotent=idempotent, now=self._clock()
        )

    async def _call(
        self,
        method: str,
        path: str,
        account: AccountAuth,
        *,
        idempotent: bool,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> JSON:
        query = {**(params or {}), "access_token": self._token(account)}
        response = await self._http.request(method, path, idempotent=idempotent, params=query, data=data)
        return read_json(response, platform=self.platform, idempotent=idempotent)

    async def _paged(
        self, account: AccountAuth, path: str, params: Mapping[str, str]
    ) -> AsyncGenerator[JSON, None]:
        """Items of a Graph list edge, following `paging.next` for at most `max_pages` pages."""
        url, query = path, dict(params)
        for _ in range(self.max_pages):
            body = await self._call("GET", url, account, idempotent=True, params=query)
            for item in body.get("data") or []:
                if isinstance(item, dict):
                    yield item
            next_url = (body.get("paging") or {}).get("next")
            if not isinstance(next_url, str):
                return
            # `next` repeats every parameter, token included; ours is added back by `_call`.
            parsed = httpx.URL(next_url)
            url = str(parsed.copy_with(query=None))
            query = {k: v for k, v in parsed.params.multi_items() if k != "access_token"}

    def _require_url(self, item: MediaItem, index: int) -> str:
        if not item.url:
            raise Rejected(
                f"{self.platform}: media[{index}] needs a public URL (Meta fetches the file itself)",
                platform=self.platform,
                status_code=None,
                field=f"media[{index}]",
            )
        return item.url

    async def _wait_ready(
        self,
        account: AccountAuth,
        container_id: str,
        *,
        state_field: str = "status_code",
        detail_field: str = "status",
    ) -> None:
        """Poll a media container until it is FINISHED; bounded, and nothing is public meanwhile."""
        for attempt in range(self.max_polls):
            body = await self._call(
                "GET",
                f"/{container_id}",
                account,
                idempotent=True,
                params={"fields": f"{state_field},{detail_field}"},
            )
            state = str(body.get(state_field) or "")
            if state in ("FINISHED", "PUBLISHED"):
                return
            if state == "ERROR":
                detail = body.get(detail_field) or "processing failed"
                raise Rejected(
                    f"{self.platform}: container {container_id} failed: {detail}",
                    platform=self.platform,
                    status_code=None,
                    field="media",
                )
            if state == "EXPIRED":
                raise RetryableError(
                    f"{self.platform}: container {container_id} expired", platform=self.platform
                )
            if attempt + 1 < self.max_polls:
                await self._sleep(self.poll_interval)
        raise RetryableError(
            f"{self.platform}: container {container_id} still processing after {self.max_polls} checks; "
            "nothing was published",
            platform=self.platform,
        )


class FacebookConnector(MetaGraphConnector):
    """A Facebook Page (page id as `platform_account_id`, page access token as `access_token`)."""

    platform = "facebook"
    can_publish = True

    def _fallback_url(self, remote_id: str) -> str | None:
        return self.post_url(remote_id)

    @staticmethod
    def post_url(post_id: str) -> str:
        """The public URL of a page post id (`{page-id}_{post-id}`)."""
        return f"https://www.facebook.com/{post_id}"

    async def publish(self, account: AccountAuth, draft: PostDraft, idempotency_key: str) -> PublishResult:
        """Post text, a link card, or up to 10 photos to the page feed."""
        raise_for_violations(self.platform, self.validate(draft))
        if any(item.type is not MediaType.IMAGE for item in draft.media):
            raise Rejected(
                "facebook: brandcrew's Facebook connector publishes photos only (no video or GIF upload yet)",
                platform=self.platform,
                status_code=None,
                field="media",
            )
        if draft.media and draft.link:
            raise Rejected(
                "facebook: a page post carries photos or a link card, not both; put the link in the text",
                platform=self.platform,
                status_code=None,
                field="link",
            )
        page = account.platform_account_id
        form: dict[str, str] = {"message": draft.text}
        if draft.link:
            form["link"] = draft.link
        for i, item in enumerate(draft.media):
            photo: dict[str, str] = {"url": self._require_url(item, i), "published": "false"}
            if item.alt_text:
                photo["alt_text_custom"] = item.alt_text
            # Unpublished photos are invisible: a lost answer here leaves an orphan, never a post.
            uploaded = await self._call("POST", f"/{page}/photos", account, idempotent=True, data=photo)
            form[f"attached_media[{i}]"] = json.dumps(
                {"media_fbid": str(uploaded["id"])}, separators=(",", ":")
            )
        body = await self._call("POST", f"/{page}/feed", account, idempotent=False, data=form)
        post_id = body.get("id")
        if not isinstance(post_id, str):
            raise OutcomeUnknown(f"facebook: feed post answered without id: {body}", platform=self.platform)
        return PublishResult(remote_id=post_id, url=self.post_url(post_id), published_at=self._clock())

    async def delete(self, account: AccountAuth, remote_id: str) -> None:
        """Delete a page post (one already gone counts as deleted)."""
        try:
            await self._call("DELETE", f"/{remote_id}", account, idempotent=True)
        except NotFound:
            return

    async def fetch_metrics(self, account: AccountAuth, remote_ids: Sequence[str]) -> list[PostMetrics]:
        """Views, clicks, reactions, comments and shares of page posts (one request per post)."""
        fields = (
            "shares,reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0),"
            # post_impressions* were retired on 2025-11-15; views (post_media_view) replace them.
            "insights.metric(post_media_view,post_clicks)"
        )
        out: list[PostMetrics] = []
        for post_id in remote_ids:
            body = await self._call("GET", f"/{post_id}", account, idempotent=True, params={"fields": fields})
            insights = insight_values(body.get("insights") or {})
            out.append(
                PostMetrics(
                    remote_id=post_id,
                    impressions=insights.get("post_media_view", 0),
                    clicks=insights.get("post_clicks", 0),
                    likes=_int(((body.get("reactions") or {}).get("summary") or {}).get("total_count")),
                    comments=_int(((body.get("comments") or {}).get("summary") or {}).get("total_count")),
                    shares=_int((body.get("shares") or {}).get("count")),
                    collected_at=self._clock(),
                )
            )
        return out

    async def fetch_account_metrics(self, account: AccountAuth) -> AccountMetrics:
        """Followers of the page."""
        body = await self._call(
            "GET",
            f"/{account.platform_account_id}",
            account,
            idempotent=True,
            params={"fields": "followers_count,fan_count"},
        )
        followers = _int(body.get("followers_count")) or _int(body.get("fan_count"))
        return AccountMetrics(followers=followers, collected_at=self._clock())

    async def reply(
        self, account: AccountAuth, in_reply_to: str, text: str, idempotency_key: str
    ) -> PublishResult:
        """Comment on a page post, or answer a comment, as the page."""
        body = await self._call(
            "POST", f"/{in_reply_to}/comments", account, idempotent=False, data={"message": text}
        )
        comment_id = body.get("id")
        if not isinstance(comment_id, str):
            raise OutcomeUnknown(f"facebook: comment answered without id: {body}", platform=self.platform)
        return PublishResult(remote_id=comment_id, published_at=self._clock())


class InstagramConnector(MetaGraphConnector):
    """An Instagram professional account (IG user id as `platform_account_id`).

    The default host is graph.facebook.com (Instagram API with Facebook Login); pass
    `base_url="https://graph.instagram.com"` for Instagram API with Instagram Login.
    """

    platform = "instagram"
    can_publish = True
    POSTS_EDGE = "media"
    TEXT_FIELD = "caption"
    TIME_FIELD = "timestamp"
    URL_FIELD = "permalink"
    PAGE_SIZE = 50

    async def _create_container(self, account: AccountAuth, fields: Mapping[str, str]) -> str:
        # Containers are invisible until media_publish, so creating one again after a lost answer is
        # harmless (the orphan expires after 24 h).
        body = await self._call(
            "POST", f"/{account.platform_account_id}/media", account, idempotent=True, data=fields
        )
        container = body.get("id")
        if not isinstance(container, str):
            raise RetryableError(f"instagram: container answered without id: {body}", platform=self.platform)
        return container

    def _item_fields(self, item: MediaItem, index: int, *, carousel: bool) -> dict[str, str]:
        url = self._require_url(item, index)
        if item.type is MediaType.VIDEO:
            fields = {"media_type": "VIDEO" if carousel else "REELS", "video_url": url}
        else:
            fields = {"image_url": url}
            if item.alt_text:
                fields["alt_text"] = item.alt_text  # images only (Mar 2025)
        if carousel:
            fields["is_carousel_item"] = "true"
        return fields

    async def publish(self, account: AccountAuth, draft: PostDraft, idempotency_key: str) -> PublishResult:
        """Create a container (or a carousel of them), wait until FINISHED, then media_publish."""
        raise_for_violations(self.platform, self.validate(draft))
        if len(draft.media) == 1:
            fields = self._item_fields(draft.media[0], 0, carousel=False)
            fields["caption"] = draft.text
            container = await self._create_container(account, fields)
        else:
            children = []
            for i, item in enumerate(draft.media):
                child = await self._create_container(account, self._item_fields(item, i, carousel=True))
                await self._wait_ready(account, child)
                children.append(child)
            container = await self._create_container(
                account, {"media_type": "CAROUSEL", "children": ",".join(children), "caption": draft.text}
            )
        await self._wait_ready(account, container)
        body = await self._call(
            "POST",
            f"/{account.platform_account_id}/media_publish",
            account,
            idempotent=False,
            data={"creation_id": container},
        )
        media_id = body.get("id")
        if not isinstance(media_id, str):
            raise OutcomeUnknown(
                f"instagram: media_publish answered without id: {body}", platform=self.platform
            )
        url: str | None = None
        published_at = self._clock()
        try:  # the post is live; a failed permalink lookup must not turn success into an error
            media = await self._call(
                "GET", f"/{media_id}", account, idempotent=True, params={"fields": "permalink,timestamp"}
            )
            url = media.get("permalink") if isinstance(media.get("permalink"), str) else None
            published_at = parse_timestamp(media.get("timestamp")) or published_at
        except ConnectorError:
            pass
        return PublishResult(remote_id=media_id, url=url, published_at=published_at)

    async def fetch_metrics(self, account: AccountAuth, remote_ids: Sequence[str]) -> list[PostMetrics]:
        """Views, likes, comments, shares and saves of media (one insights request per media)."""
        out: list[PostMetrics] = []
        for media_id in remote_ids:
            body = await self._call(
                "GET",
                f"/{media_id}/insights",
                account,
                idempotent=True,
                # `impressions` was retired in v22.0 (April 2025); `views` replaces it.
                params={"metric": "views,reach,likes,comments,shares,saved"},
            )
            values = insight_values(body)
            out.append(
                PostMetrics(
                    remote_id=media_id,
                    impressions=values.get("views", 0),
                    likes=values.get("likes", 0),
                    comments=values.get("comments", 0),
                    shares=values.get("shares", 0),
                    saves=values.get("saved", 0),
                    collected_at=self._clock(),
                )
            )
        return out

    async def fetch_account_metrics(self, account: AccountAuth) -> AccountMetrics:
        """Followers, follows and media count of the account."""
        body = await self._call(
            "GET",
            f"/{account.platform_account_id}",
            account,
            idempotent=True,
            params={"fields": "followers_count,follows_count,media_count"},
        )
        return AccountMetrics(
            followers=_int(body.get("followers_count")),
            following=_int(body.get("follows_count")),
            posts=_int(body.get("media_count")),
            collected_at=self._clock(),
        )

    async def reply(
        self, account: AccountAuth, in_reply_to: str, text: str, idempotency_key: str
    ) -> PublishResult:
        """Answer a comment (`in_reply_to` is an IG comment id)."""
        body = await self._call(
            "POST", f"/{in_reply_to}/replies", account, idempotent=False, data={"message": text}
        )
        reply_id = body.get("id")
        if not isinstance(reply_id, str):
            raise OutcomeUnknown(f"instagram: reply answered without id: {body}", platform=self.platform)
        return PublishResult(remote_id=reply_id, published_at=self._clock())

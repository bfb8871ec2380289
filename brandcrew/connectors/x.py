"""X (Twitter) API v2 connector: posts and threads, timeline lookups, metrics, mentions, DMs.

Endpoints (https://docs.x.com/x-api): POST/DELETE /2/tweets, GET /2/tweets, GET /2/users/:id/tweets,
GET /2/users/:id/mentions, GET /2/tweets/search/recent, GET /2/dm_events,
POST /2/dm_conversations/:id/messages, GET /2/users/:id. Auth: OAuth 2.0 user-context bearer token
(see `brandcrew.connectors.oauth`, provider "x").

Media upload is not implemented: a draft with media is rejected before anything is sent.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from contextlib import aclosing
from datetime import datetime, timedelta
from typing import Any, Final

import httpx

from brandcrew.connectors._http import (
    DEFAULT_TIMEOUT,
    JSON,
    Clock,
    DuplicateContent,
    HTTPConnector,
    NotFound,
    ThreadIncomplete,
    error_for_status,
    format_rfc3339,
    parse_timestamp,
    raise_for_violations,
    read_json,
    utc_now,
    x_reset_at,
)
from brandcrew.connectors.base import (
    AccountAuth,
    AccountMetrics,
    PostMetrics,
    PublishResult,
    RemoteMention,
    RemoteMessage,
    RemotePost,
)
from brandcrew.connectors.capabilities import PlatformCapabilities, ReplySetting
from brandcrew.connectors.drafts import PostDraft
from brandcrew.connectors.errors import ConnectorError, OutcomeUnknown, Rejected
from brandcrew.connectors.oauth import OAuthClient

__all__ = ("DM_THREAD_PREFIX", "XConnector")

DM_THREAD_PREFIX: Final = "dm:"
"""`RemoteMessage.thread_id` of a DM conversation; `reply` to such an id sends a DM, not a post."""

# X's `reply_settings` values for brandcrew's normalised ReplySetting ("everyone" is the default).
_REPLY_SETTINGS: Final[Mapping[str, str]] = {
    "following": "following",
    "mentioned": "mentionedUsers",
    "verified": "verified",
    "subscribers": "subscribers",
}
_MENTION_TWEET_FIELDS: Final = "created_at,author_id,public_metrics,lang"
_MENTION_USER_FIELDS: Final = "username,name,public_metrics"
_SEARCH_WINDOW: Final = timedelta(days=7) - timedelta(minutes=5)  # recent search covers 7 days
_END_TIME_MARGIN: Final = timedelta(seconds=10)  # end_time must lie this far in the past


def _int(mapping: Mapping[str, Any] | None, key: str) -> int:
    value = (mapping or {}).get(key)
    return value if isinstance(value, int) else 0


def _problem_message(body: Mapping[str, Any]) -> str:
    # v2 problem details: {"title", "detail", "type", "status"}; v1-style: {"errors": [{"message"}]}.
    for key in ("detail", "title"):
        if isinstance(body.get(key), str):
            return str(body[key])
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        return str(first.get("message") or first.get("detail") or first.get("title") or "")
    return ""


class XConnector(HTTPConnector):
    """X API v2 as one brand account (user-context OAuth 2.0 token)."""

    platform = "x"
    can_publish = True

    def __init__(
        self,
        *,
        client: httpx.AsyncClient | None = None,
        oauth: OAuthClient | None = None,
        base_url: str = "https://api.x.com",
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        clock: Clock = utc_now,
        capabilities: PlatformCapabilities | None = None,
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
        self.max_pages = max_pages
        """Upper bound on pages fetched by one timeline, mentions or DM read (100 items each)."""

    # --- errors

    def _classify(self, response: httpx.Response, idempotent: bool) -> ConnectorError:
        try:
            body = response.json()
        except ValueError:
            body = {}
        message = _problem_message(body if isinstance(body, dict) else {}) or response.reason_phrase
        now = self._clock()
        if response.status_code == 403 and "duplicate" in message.lower():
            # "You are not allowed to create a Tweet with duplicate content." -- usually our own
            # earlier attempt that did go through: the publisher reconciles.
            return DuplicateContent(f"x: {message}", platform=self.platform, status_code=403)
        reset_at = x_reset_at(response.headers, now) if response.status_code == 429 else None
        return error_for_status(
            response,
            platform=self.platform,
            idempotent=idempotent,
            message=message,
            now=now,
            reset_at=reset_at,
        )

    # --- requests

    def _headers(self, account: AccountAuth) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token(account)}"}

    async def _get(self, account: AccountAuth, path: str, params: Mapping[str, str]) -> JSON:
        response = await self._http.request(
            "GET", path, idempotent=True, params=params, headers=self._headers(account)
        )
        return read_json(response, platform=self.platform, idempotent=True)

    async def _create_tweet(
        self,
        account: AccountAuth,
        text: str,
        *,
        reply_to: str | None = None,
        reply_settings: ReplySetting | None = None,
    ) -> str:
        body: dict[str, Any] = {"text": text}
        if reply_to:
            body["reply"] = {"in_reply_to_tweet_id": reply_to}
        if reply_settings and reply_settings in _REPLY_SETTINGS:
            body["reply_settings"] = _REPLY_SETTINGS[reply_settings]
        response = await self._http.request(
            "POST", "/2/tweets", idempotent=False, json=body, headers=self._headers(account)
        )
        data = read_json(response, platform=self.platform, idempotent=False).get("data")
        tweet_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(tweet_id, str):
            raise OutcomeUnknown(
                f"x: 2xx to POST /2/tweets without data.id: {response.text[:200]!r}", platform="x"
            )
        return tweet_id

    def _post_url(self, account: AccountAuth, tweet_id: str) -> str:
        if account.username:
            return f"https://x.com/{account.username}/status/{tweet_id}"
        return f"https://x.com/i/web/status/{tweet_id}"

    # --- Connector

    async def publish(self, account: AccountAuth, draft: PostDraft, idempotency_key: str) -> PublishResult:
        """Post the draft, then each `thread` part as a reply to the previous part."""
        raise_for_violations(self.platform, self.validate(draft))
        if draft.media:
            raise Rejected(
                "x: brandcrew's X connector cannot upload media yet; publish text and links only",
                platform=self.platform,
                status_code=None,
                field="media",
            )
        # X has no idempotency key: the publisher's reconciliation (find_posts) covers lost answers.
        root = await self._create_tweet(account, draft.text, reply_settings=draft.reply_settings)
        published_at = self._clock()
        done: list[str] = []
        previous = root
        for i, part in enumerate(draft.thread):
            try:
                previous = await self._create_tweet(account, part, reply_to=previous)
            except ConnectorError as exc:
                partial = PublishResult(
                    remote_id=root,
                    url=self._post_url(account, root),
                    published_at=published_at,
                    thread_ids=done,
                )
                raise ThreadIncomplete(
                    f"x: post {root} is live but thread part {i + 1} of {len(draft.thread)} failed: {exc}",
                    platform=self.platform,
                    result=partial,
                    cause=exc,
                ) from exc
            done.append(previous)
        return PublishResult(
            remote_id=root, url=self._post_url(account, root), published_at=published_at, thread_ids=done
        )

    async def find_posts(self, account: AccountAuth, since: datetime, until: datetime) -> list[RemotePost]:
        """The account's posts created in [since, until], newest first (user timeline, paginated)."""
        params = {"start_time": format_rfc3339(since), "max_results": "100", "tweet.fields": "created_at"}
        # X refuses an end_time that is not safely in the past; without it the timeline runs to now.
        if until <= self._clock() - _END_TIME_MARGIN:
            params["end_time"] = format_rfc3339(until)
        posts: list[RemotePost] = []
        path = f"/2/users/{account.platform_account_id}/tweets"
        async for tweet, _ in self._paged(account, path, params, token_param="pagination_token"):
            created = parse_timestamp(tweet.get("created_at"))
            if created is None or not since <= created <= until:
                continue
            posts.append(
                RemotePost(
                    remote_id=str(tweet["id"]),
                    text=str(tweet.get("text", "")),
                    created_at=created,
                    url=self._post_url(account, str(tweet["id"])),
                )
            )
        return posts

    async def check_status(self, account: AccountAuth, remote_id: str) -> RemotePost | None:
        """The post, or None when X no longer has it."""
        try:
            body = await self._get(account, f"/2/tweets/{remote_id}", {"tweet.fields": "created_at"})
        except NotFound:
            return None
        tweet = body.get("data")
        if not isinstance(tweet, dict):  # X answers 200 with errors[] "Not Found Error" for a gone post
            return None
        return RemotePost(
            remote_id=remote_id,
            text=str(tweet.get("text", "")),
            created_at=parse_timestamp(tweet.get("created_at")) or self._clock(),
            url=self._post_url(account, remote_id),
        )

    async def delete(self, account: AccountAuth, remote_id: str) -> None:
        """Delete a post (a post that is already gone counts as deleted)."""
        try:
            response = await self._http.request(
                "DELETE", f"/2/tweets/{remote_id}", idempotent=True, headers=self._headers(account)
            )
        except NotFound:
            return
        data = read_json(response, platform=self.platform, idempotent=True).get("data")
        if not (isinstance(data, dict) and data.get("deleted") is True):
            raise Rejected(f"x: post {remote_id} was not deleted: {response.text[:200]}", platform="x")

    async def fetch_metrics(self, account: AccountAuth, remote_ids: Sequence[str]) -> list[PostMetrics]:
        """Counters of posts; impressions and link clicks need the author's token and a post < 30 days old."""
        out: list[PostMetrics] = []
        for start in range(0, len(remote_ids), 100):
            batch = remote_ids[start : start + 100]
            body = await self._get(
                account,
                "/2/tweets",
                {"ids": ",".join(batch), "tweet.fields": "public_metrics,non_public_metrics"},
            )
            now = self._clock()
            for tweet in body.get("data") or []:
                public = tweet.get("public_metrics") or {}
                private = tweet.get("non_public_metrics") or {}
                out.append(
                    PostMetrics(
                        remote_id=str(tweet["id"]),
                        impressions=_int(private, "impression_count") or _int(public, "impression_count"),
                        likes=_int(public, "like_count"),
                        comments=_int(public, "reply_count"),
                        shares=_int(public, "retweet_count") + _int(public, "quote_count"),
                        saves=_int(public, "bookmark_count"),
                        clicks=_int(private, "url_link_clicks"),
                        collected_at=now,
                    )
                )
        return out

    async def fetch_account_metrics(self, account: AccountAuth) -> AccountMetrics:
        """Followers, following and post counts of the account."""
        body = await self._get(
            account, f"/2/users/{account.platform_account_id}", {"user.fields": "public_metrics"}
        )
        metrics = (body.get("data") or {}).get("public_metrics") or {}
        return AccountMetrics(
            followers=_int(metrics, "followers_count"),
            following=_int(metrics, "following_count"),
            posts=_int(metrics, "tweet_count"),
            collected_at=self._clock(),
        )

    async def fetch_mentions(
        self, account: AccountAuth, since: datetime, query: str | None = None
    ) -> list[RemoteMention]:
        """Posts mentioning the account since a time, or matching `query` (recent search, last 7 days)."""
        params = {
            "max_results": "100",
            "tweet.fields": _MENTION_TWEET_FIELDS,
            "expansions": "author_id",
            "user.fields": _MENTION_USER_FIELDS,
        }
        if query is None:
            path = f"/2/users/{account.platform_account_id}/mentions"
            params["start_time"] = format_rfc3339(since)
            token_param = "pagination_token"
        else:
            path = "/2/tweets/search/recent"
            params["query"] = query
            params["start_time"] = format_rfc3339(max(since, self._clock() - _SEARCH_WINDOW))
            token_param = "next_token"
        mentions: list[RemoteMention] = []
        async for tweet, users in self._paged(account, path, params, token_param=token_param):
            author = users.get(str(tweet.get("author_id")), {})
            username = str(author.get("username", ""))
            metrics = tweet.get("public_metrics") or {}
            tweet_id = str(tweet["id"])
            mentions.append(
                RemoteMention(
                    remote_id=tweet_id,
                    author_id=str(tweet.get("author_id", "")),
                    author_username=username,
                    author_name=str(author.get("name", "")),
                    author_followers=_int(author.get("public_metrics"), "followers_count"),
                    text=str(tweet.get("text", "")),
                    url=f"https://x.com/{username or 'i/web'}/status/{tweet_id}",
                    language=tweet.get("lang"),
                    created_at=parse_timestamp(tweet.get("created_at")) or self._clock(),
                    likes=_int(metrics, "like_count"),
                    replies=_int(metrics, "reply_count"),
                    shares=_int(metrics, "retweet_count") + _int(metrics, "quote_count"),
                )
            )
        return mentions

    async def fetch_messages(self, account: AccountAuth, since: datetime) -> list[RemoteMessage]:
        """DMs received since a time (newest first); `thread_id` is "dm:<conversation id>"."""
        params = {
            "max_results": "100",
            "event_types": "MessageCreate",
            "dm_event.fields": "id,text,event_type,dm_conversation_id,created_at,sender_id",
            "expansions": "sender_id",
            "user.fields": "username,name,public_metrics",
        }
        messages: list[RemoteMessage] = []
        pages = self._paged(account, "/2/dm_events", params, token_param="pagination_token")
        async with aclosing(pages):
            async for event, users in pages:
                created = parse_timestamp(event.get("created_at"))
                if created is None or created < since:
                    break  # events come newest first: everything after this is older
                sender = str(event.get("sender_id", ""))
                if sender == account.platform_account_id:
                    continue  # our own outgoing messages
                messages.append(
                    RemoteMessage(
                        remote_id=str(event["id"]),
                        thread_id=DM_THREAD_PREFIX + str(event.get("dm_conversation_id", "")),
                        kind="dm",
                        author_id=sender,
                        author_name=str(users.get(sender, {}).get("name", "")),
                        text=str(event.get("text", "")),
                        created_at=created,
                        author_followers=_followers(users.get(sender)),
                    )
                )
        return messages

    async def reply(
        self, account: AccountAuth, in_reply_to: str, text: str, idempotency_key: str
    ) -> PublishResult:
        """Reply to a post (a post id) or in a DM conversation (a "dm:<conversation id>" thread id)."""
        raise_for_violations(self.platform, self.validate(PostDraft(platform="x", text=text)))
        if in_reply_to.startswith(DM_THREAD_PREFIX):
            conversation = in_reply_to.removeprefix(DM_THREAD_PREFIX)
            response = await self._http.request(
                "POST",
                f"/2/dm_conversations/{conversation}/messages",
                idempotent=False,
                json={"text": text},
                headers=self._headers(account),
            )
            data = read_json(response, platform=self.platform, idempotent=False).get("data") or {}
            event_id = data.get("dm_event_id")
            if not isinstance(event_id, str):
                raise OutcomeUnknown(f"x: DM sent without dm_event_id: {response.text[:200]!r}", platform="x")
            return PublishResult(remote_id=event_id, published_at=self._clock())
        tweet_id = await self._create_tweet(account, text, reply_to=in_reply_to)
        return PublishResult(
            remote_id=tweet_id, url=self._post_url(account, tweet_id), published_at=self._clock()
        )

    # --- pagination

    async def _paged(
        self, account: AccountAuth, path: str, params: Mapping[str, str], *, token_param: str
    ) -> AsyncGenerator[tuple[JSON, dict[str, JSON]], None]:
        """Yield (item, users-by-id) over at most `max_pages` pages of an X list endpoint."""
        query = dict(params)
        for _ in range(self.max_pages):
            body = await self._get(account, path, query)
            includes = body.get("includes") or {}
            users = {str(u["id"]): u for u in includes.get("users") or [] if isinstance(u, dict)}
            for item in body.get("data") or []:
                yield item, users
            next_token = (body.get("meta") or {}).get("next_token")
            if not next_token:
                return
            query[token_param] = str(next_token)


def _followers(user: dict[str, Any] | None) -> int | None:
    """A user object's followers_count (public_metrics), None when the platform did not send it."""
    metrics = (user or {}).get("public_metrics")
    if not isinstance(metrics, dict) or "followers_count" not in metrics:
        return None
    return _int(metrics, "followers_count")

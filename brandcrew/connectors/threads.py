"""Threads API connector: text (and single image/video) posts via container + publish, replies, insights.

https://developers.facebook.com/docs/threads/posts: `POST /{threads-user-id}/threads` creates a
media container, `POST /{threads-user-id}/threads_publish` makes it public. Containers are invisible
until published, so only the publish step can leave an outcome unknown. A thread is published as a
chain of replies (`reply_to_id`). Text is limited to 500 characters (emoji counted as UTF-8 bytes),
checked by `validate` before anything is sent. Same error format as the Graph API.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from brandcrew.connectors._http import (
    NotFound,
    ThreadIncomplete,
    raise_for_violations,
)
from brandcrew.connectors.base import AccountAuth, AccountMetrics, PostMetrics, PublishResult
from brandcrew.connectors.capabilities import MediaType
from brandcrew.connectors.drafts import MediaItem, PostDraft
from brandcrew.connectors.errors import ConnectorError, OutcomeUnknown, Rejected, RetryableError
from brandcrew.connectors.meta import MetaGraphConnector, insight_values

__all__ = ("ThreadsConnector",)

# Threads `reply_control` values for brandcrew's normalised ReplySetting ("everyone" is the default).
_REPLY_CONTROL: Final[Mapping[str, str]] = {
    "following": "accounts_you_follow",
    "mentioned": "mentioned_only",
    "followers": "followers_only",
}


class ThreadsConnector(MetaGraphConnector):
    """A Threads profile (Threads user id as `platform_account_id`, long-lived user token)."""

    platform = "threads"
    can_publish = True
    POSTS_EDGE = "threads"
    TEXT_FIELD = "text"
    TIME_FIELD = "timestamp"
    URL_FIELD = "permalink"
    DEFAULT_BASE_URL = "https://graph.threads.net"
    DEFAULT_VERSION = "v1.0"

    async def _create_container(self, account: AccountAuth, fields: Mapping[str, str]) -> str:
        # Invisible until threads_publish: re-creating after a lost answer only leaves an orphan.
        body = await self._call(
            "POST", f"/{account.platform_account_id}/threads", account, idempotent=True, data=fields
        )
        container = body.get("id")
        if not isinstance(container, str):
            raise RetryableError(f"threads: container answered without id: {body}", platform=self.platform)
        return container

    async def _publish_container(self, account: AccountAuth, container: str) -> str:
        # Meta advises letting the server process a container before publishing; text containers
        # are usually FINISHED at the first check.
        await self._wait_ready(account, container, state_field="status", detail_field="error_message")
        body = await self._call(
            "POST",
            f"/{account.platform_account_id}/threads_publish",
            account,
            idempotent=False,
            data={"creation_id": container},
        )
        media_id = body.get("id")
        if not isinstance(media_id, str):
            raise OutcomeUnknown(
                f"threads: threads_publish answered without id: {body}", platform=self.platform
            )
        return media_id

    def _media_fields(self, item: MediaItem) -> dict[str, str]:
        url = self._require_url(item, 0)
        if item.type is MediaType.VIDEO:
            return {"media_type": "VIDEO", "video_url": url}
        fields = {"media_type": "IMAGE", "image_url": url}
        if item.alt_text:
            fields["alt_text"] = item.alt_text
        return fields

    async def _post(
        self,
        account: AccountAuth,
        text: str,
        *,
        media: MediaItem | None = None,
        reply_to: str | None = None,
        link: str | None = None,
        reply_control: str | None = None,
    ) -> str:
        fields = self._media_fields(media) if media else {"media_type": "TEXT"}
        if text:
            fields["text"] = text
        if reply_to:
            fields["reply_to_id"] = reply_to
        if link:
            fields["link_attachment"] = link  # text posts only; shown as a link preview card
        if reply_control:
            fields["reply_control"] = reply_control
        container = await self._create_container(account, fields)
        return await self._publish_container(account, container)

    async def _permalink(self, account: AccountAuth, media_id: str) -> str | None:
        try:  # the post is live; a failed permalink lookup must not turn success into an error
            body = await self._call(
                "GET", f"/{media_id}", account, idempotent=True, params={"fields": "permalink"}
            )
        except ConnectorError:
            return None
        permalink = body.get("permalink")
        return permalink if isinstance(permalink, str) else None

    async def publish(self, account: AccountAuth, draft: PostDraft, idempotency_key: str) -> PublishResult:
        """Publish the first part (text, or one image/video), then each `thread` part as a reply."""
        raise_for_violations(self.platform, self.validate(draft))
        if len(draft.media) > 1:
            raise Rejected(
                "threads: brandcrew's Threads connector publishes one image or video per post (no carousels yet)",
                platform=self.platform,
                status_code=None,
                field="media",
            )
        if draft.media and draft.link:
            raise Rejected(
                "threads: a link attachment is for text posts only; put the link in the text",
                platform=self.platform,
                status_code=None,
                field="link",
            )
        control = _REPLY_CONTROL.get(draft.reply_settings or "")
        root = await self._post(
            account,
            draft.text,
            media=draft.media[0] if draft.media else None,
            link=draft.link,
            reply_control=control,
        )
        published_at = self._clock()
        url = await self._permalink(account, root)
        done: list[str] = []
        previous = root
        for i, part in enumerate(draft.thread):
            try:
                previous = await self._post(account, part, reply_to=previous)
            except ConnectorError as exc:
                partial = PublishResult(remote_id=root, url=url, published_at=published_at, thread_ids=done)
                raise ThreadIncomplete(
                    f"threads: post {root} is live but thread part {i + 1} of {len(draft.thread)} failed: {exc}",
                    platform=self.platform,
                    result=partial,
                    cause=exc,
                ) from exc
            done.append(previous)
        return PublishResult(remote_id=root, url=url, published_at=published_at, thread_ids=done)

    async def delete(self, account: AccountAuth, remote_id: str) -> None:
        """Delete a post (one already gone counts as deleted)."""
        try:
            await self._call("DELETE", f"/{remote_id}", account, idempotent=True)
        except NotFound:
            return

    async def fetch_metrics(self, account: AccountAuth, remote_ids: Sequence[str]) -> list[PostMetrics]:
        """Views, likes, replies, reposts, quotes and shares of posts (threads_insights, per post)."""
        out: list[PostMetrics] = []
        for media_id in remote_ids:
            body = await self._call(
                "GET",
                f"/{media_id}/insights",
                account,
                idempotent=True,
                params={"metric": "views,likes,replies,reposts,quotes,shares"},
            )
            values = insight_values(body)
            out.append(
                PostMetrics(
                    remote_id=media_id,
                    impressions=values.get("views", 0),
                    likes=values.get("likes", 0),
                    comments=values.get("replies", 0),
                    shares=values.get("reposts", 0) + values.get("quotes", 0) + values.get("shares", 0),
                    collected_at=self._clock(),
                )
            )
        return out

    async def fetch_account_metrics(self, account: AccountAuth) -> AccountMetrics:
        """Followers of the profile (user insights `followers_count`)."""
        body = await self._call(
            "GET",
            f"/{account.platform_account_id}/threads_insights",
            account,
            idempotent=True,
            params={"metric": "followers_count"},
        )
        return AccountMetrics(
            followers=insight_values(body).get("followers_count", 0), collected_at=self._clock()
        )

    async def reply(
        self, account: AccountAuth, in_reply_to: str, text: str, idempotency_key: str
    ) -> PublishResult:
        """Reply to a post or a reply (container with `reply_to_id`, then publish)."""
        raise_for_violations(self.platform, self.validate(PostDraft(platform="threads", text=text)))
        media_id = await self._post(account, text, reply_to=in_reply_to)
        return PublishResult(
            remote_id=media_id, url=await self._permalink(account, media_id), published_at=self._clock()
        )

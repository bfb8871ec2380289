"""The Connector port: what brandcrew needs from a social platform, with typed results and errors."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from brandcrew.connectors.capabilities import PlatformCapabilities, get_capabilities
from brandcrew.connectors.drafts import PostDraft
from brandcrew.connectors.validation import Violation, validate


class AccountAuth(BaseModel):
    """What a connector needs to act as one account (tokens already decrypted by the caller)."""

    model_config = ConfigDict(frozen=True)

    account_id: str
    """brandcrew's id of the social account."""
    platform: str
    platform_account_id: str
    username: str = ""
    access_token: str = ""
    refresh_token: str | None = None
    token_expiry: datetime | None = None
    extra: dict[str, str] = Field(default_factory=dict)
    """Platform specifics: page id, Instagram business id, person URN."""


class TokenSet(BaseModel):
    """Tokens returned by an OAuth exchange or refresh."""

    access_token: str
    refresh_token: str | None = None
    expires_at: datetime | None = None
    scope: str | None = None


class PublishResult(BaseModel):
    """A post the platform accepted."""

    remote_id: str
    url: str | None = None
    published_at: datetime
    thread_ids: list[str] = Field(default_factory=list)
    """Ids of the follow-up parts when the draft was published as a thread."""


class RemotePost(BaseModel):
    """A post as found on the platform (status checks and reconciliation)."""

    remote_id: str
    text: str
    created_at: datetime
    url: str | None = None


class PostMetrics(BaseModel):
    """Counters of one published post at one moment."""

    remote_id: str
    impressions: int = 0
    likes: int = 0
    comments: int = 0
    shares: int = 0
    saves: int = 0
    clicks: int = 0
    collected_at: datetime


class AccountMetrics(BaseModel):
    """Counters of an account at one moment."""

    followers: int = 0
    following: int = 0
    posts: int = 0
    collected_at: datetime


class RemoteMention(BaseModel):
    """A public post mentioning the brand or matching a listening query."""

    remote_id: str
    author_id: str
    author_username: str
    author_name: str = ""
    author_followers: int = 0
    text: str
    url: str | None = None
    language: str | None = None
    created_at: datetime
    likes: int = 0
    replies: int = 0
    shares: int = 0


class RemoteMessage(BaseModel):
    """A DM or comment addressed to the account."""

    remote_id: str
    thread_id: str
    kind: str = "dm"
    """dm | comment | mention | review"""
    author_id: str
    author_name: str = ""
    text: str
    created_at: datetime
    in_reply_to: str | None = None
    """The remote post a comment is on."""
    author_followers: int | None = None
    """The author's follower count, where the platform sends it with the message."""


class Connector(ABC):
    """One social platform. Graph nodes never call these; services and the publisher do."""

    platform: str
    can_publish: bool = True

    def capabilities(self) -> PlatformCapabilities:
        """The platform's documented limits."""
        return get_capabilities(self.platform)

    def validate(self, draft: PostDraft) -> list[Violation]:
        """Every way `draft` breaks the platform's limits (empty when it can be published)."""
        return validate(draft, self.capabilities())

    @abstractmethod
    async def publish(self, account: AccountAuth, draft: PostDraft, idempotency_key: str) -> PublishResult:
        """Publish a draft; raises OutcomeUnknown when the platform may or may not have acted."""

    @abstractmethod
    async def find_posts(self, account: AccountAuth, since: datetime, until: datetime) -> list[RemotePost]:
        """The account's own posts created in a window (reconciles outcome-unknown publishes)."""

    async def check_status(self, account: AccountAuth, remote_id: str) -> RemotePost | None:
        """The post with `remote_id`, or None when the platform does not have it."""
        raise NotImplementedError(f"{self.platform}: check_status is not supported")

    async def delete(self, account: AccountAuth, remote_id: str) -> None:
        """Delete a published post."""
        raise NotImplementedError(f"{self.platform}: delete is not supported")

    async def fetch_metrics(self, account: AccountAuth, remote_ids: Sequence[str]) -> list[PostMetrics]:
        """Current counters of published posts."""
        raise NotImplementedError(f"{self.platform}: post metrics are not supported")

    async def fetch_account_metrics(self, account: AccountAuth) -> AccountMetrics:
        """Current counters of the account."""
        raise NotImplementedError(f"{self.platform}: account metrics are not supported")

    async def fetch_mentions(
        self, account: AccountAuth, since: datetime, query: str | None = None
    ) -> list[RemoteMention]:
        """Public posts mentioning the account (or matching `query`) since a time."""
        raise NotImplementedError(f"{self.platform}: mentions are not supported")

    async def fetch_user_posts(
        self, account: AccountAuth, username: str, since: datetime, until: datetime | None = None
    ) -> list[RemotePost]:
        """Public posts of another account (a competitor's) in a window."""
        raise NotImplementedError(f"{self.platform}: other accounts' posts are not supported")

    async def fetch_user_metrics(self, account: AccountAuth, username: str) -> AccountMetrics:
        """Public counters of another account (followers, posts)."""
        raise NotImplementedError(f"{self.platform}: other accounts' metrics are not supported")

    async def fetch_messages(self, account: AccountAuth, since: datetime) -> list[RemoteMessage]:
        """DMs and comments to the account since a time."""
        raise NotImplementedError(f"{self.platform}: messages are not supported")

    async def reply(
        self, account: AccountAuth, in_reply_to: str, text: str, idempotency_key: str
    ) -> PublishResult:
        """Reply to a message, comment or post."""
        raise NotImplementedError(f"{self.platform}: replies are not supported")

    async def refresh_token(self, account: AccountAuth) -> TokenSet:
        """New tokens from the refresh token."""
        raise NotImplementedError(f"{self.platform}: token refresh is not supported")

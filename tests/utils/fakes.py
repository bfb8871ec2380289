"""An in-memory connector with scripted outcomes, for publisher tests that need exact control."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from brandcrew.connectors.base import AccountAuth, Connector, PublishResult, RemotePost, TokenSet
from brandcrew.connectors.drafts import PostDraft
from brandcrew.connectors.errors import AuthExpired, OutcomeUnknown, RateLimited, Rejected, RetryableError
from brandcrew.store.tables import utcnow

_ids = itertools.count(1000)


@dataclass
class FakeConnector(Connector):
    """Publishes into a list; `script` decides each publish call's outcome, then 'ok' forever."""

    platform: str = "x"
    script: list[str] = field(default_factory=list)
    clock: object = None
    posts: list[RemotePost] = field(default_factory=list)
    publish_calls: int = 0
    refreshes: int = 0

    def _now(self) -> datetime:
        return self.clock() if callable(self.clock) else utcnow()

    async def publish(self, account: AccountAuth, draft: PostDraft, idempotency_key: str) -> PublishResult:
        self.publish_calls += 1
        action = self.script.pop(0) if self.script else "ok"
        if action == "retryable":
            raise RetryableError("503 upstream", platform=self.platform, status_code=503)
        if action == "rate":
            raise RateLimited("429", reset_at=self._now() + timedelta(minutes=15), platform=self.platform)
        if action == "auth":
            raise AuthExpired("401 token expired", platform=self.platform, status_code=401)
        if action == "reject":
            raise Rejected("text contains a banned link", platform=self.platform)
        if action == "unknown_not_created":
            raise OutcomeUnknown("read timeout", platform=self.platform)
        post = RemotePost(remote_id=str(next(_ids)), text=draft.text, created_at=self._now())
        self.posts.append(post)
        if action == "unknown_created":
            raise OutcomeUnknown("read timeout after the post was created", platform=self.platform)
        return PublishResult(remote_id=post.remote_id, published_at=post.created_at)

    async def find_posts(self, account: AccountAuth, since: datetime, until: datetime) -> list[RemotePost]:
        return [p for p in self.posts if since <= p.created_at <= until]

    async def refresh_token(self, account: AccountAuth) -> TokenSet:
        self.refreshes += 1
        return TokenSet(access_token=f"fresh-{self.refreshes}", expires_at=self._now() + timedelta(hours=2))

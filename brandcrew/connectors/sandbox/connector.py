"""The sandbox connector: the Connector port over a simulated, persisted, deterministic network.

One connector serves every platform of a world (or is pinned to one with `platform=`). Each account
enforces its real platform's rules: `validate` limits, daily publish/reply quotas, X-style duplicate
detection, token lifetimes, no deleting on Instagram. Every write is one locked transaction (see
`_calls.py`), so concurrent workers in any number of processes create a post at most once per call.
Faults are decided from (seed, operation, idempotency key, attempt number).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Final

from sqlalchemy import Engine, func
from sqlmodel import col, select

from brandcrew.connectors.base import (
    AccountAuth,
    AccountMetrics,
    Connector,
    PostMetrics,
    PublishResult,
    RemoteMention,
    RemoteMessage,
    RemotePost,
    TokenSet,
)
from brandcrew.connectors.capabilities import Platform, PlatformCapabilities, get_capabilities
from brandcrew.connectors.drafts import PostDraft
from brandcrew.connectors.errors import AuthExpired, RateLimited, Rejected
from brandcrew.connectors.sandbox import _state
from brandcrew.connectors.sandbox._calls import CallContext, CallGate, ResultT
from brandcrew.connectors.sandbox._calls import DraftRejected as DraftRejected
from brandcrew.connectors.sandbox.clock import to_utc
from brandcrew.connectors.sandbox.competitors import competitor_posts, parse_competitor_post_id
from brandcrew.connectors.sandbox.engagement import PostForecast, counts_at, extract_features, forecast
from brandcrew.connectors.sandbox.streams import (
    StreamItem,
    brand_mentions,
    competitor_mentions,
    direct_messages,
    follow_ups,
    matches_query,
    post_comments,
    verify_item_id,
)
from brandcrew.connectors.validation import validate
from brandcrew.store.tables._base import utcnow
from brandcrew.store.tables.sandbox import SandboxAccountRow, SandboxPostRow, SandboxReplyRow, SandboxWorldRow

__all__ = ("DraftRejected", "SandboxConnector")

MAX_LOOKBACK: Final = timedelta(days=30)
"""Mentions and messages are searchable this far back (and never before the world began)."""


class SandboxConnector(Connector):
    """Connector to a sandbox world; pinned to one platform or (platform=None) serving all of them."""

    can_publish = True

    def __init__(
        self,
        engine: Engine,
        world_id: str | None = None,
        platform: str | None = None,
        *,
        wall: Callable[[], datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.world_id = world_id
        self.platform = Platform(platform).value if platform else Platform.SANDBOX.value
        self._gate = CallGate(engine, world_id, self.platform if platform else None, wall)

    # --- capabilities -----------------------------------------------------------------------------

    def _caps(self, world: SandboxWorldRow, platform: str) -> PlatformCapabilities:
        caps = get_capabilities(platform)
        if platform in world.quotas:
            caps = caps.model_copy(update={"daily_post_quota": int(world.quotas[platform])})
        return caps.model_copy(update={"can_publish": True})

    async def _run(self, fn: Callable[[], ResultT]) -> ResultT:
        return await asyncio.to_thread(fn)

    # --- publishing -------------------------------------------------------------------------------

    async def publish(self, account: AccountAuth, draft: PostDraft, idempotency_key: str) -> PublishResult:
        """Publish a draft on the account's platform (limits, quota and duplicate rules enforced)."""
        return await self._run(
            lambda: self._gate.write(
                "publish", account, idempotency_key, lambda c: self._publish(c, draft, idempotency_key)
            )
        )

    def _publish(self, ctx: CallContext, draft: PostDraft, key: str) -> tuple[PublishResult, str]:
        acct, now, platform = ctx.acct, ctx.now, ctx.acct.platform
        caps = self._caps(ctx.world, platform)
        if draft.platform.value != platform:
            raise Rejected(
                f"the draft is for {draft.platform.value}, the account is on {platform}",
                platform=platform,
                field="platform",
            )
        violations = validate(draft, caps)
        if violations:
            detail = "; ".join(v.message for v in violations)
            raise DraftRejected(
                f"{caps.name} rejected the post: {detail}", violations=violations, platform=platform
            )
        posts = _state.account_posts(ctx.session, ctx.world.id, acct.account_id)
        recent = [p for p in posts if _state.ts(p.created_at) > now - timedelta(days=1)]
        quota = caps.daily_post_quota
        if quota is not None and len(recent) + len(draft.parts) > quota:
            oldest = min((_state.ts(p.created_at) for p in recent), default=now)
            raise RateLimited(
                f"daily publish quota of {quota} posts per 24 h reached",
                reset_at=oldest + timedelta(days=1),
                platform=platform,
            )
        digest_ = _state.text_hash(draft.text)
        if draft.text.strip() and any(
            p.kind == "post" and p.text_hash == digest_ and p.deleted_at is None for p in recent
        ):
            raise Rejected(
                "duplicate content: the account posted this text in the last 24 hours",
                platform=platform,
                status_code=403,
                field="text",
            )
        crises = _state.load_crises(ctx.session, ctx.world.id)
        audience = _state.followers_at(ctx.world, acct, posts, crises, now)
        ids: list[str] = []
        for i, part in enumerate(draft.parts):
            acct.post_seq += 1
            remote = _state.remote_id(ctx.world, acct, acct.post_seq)
            piece = draft if i == 0 else PostDraft(platform=draft.platform, text=part)
            ctx.session.add(
                SandboxPostRow(
                    world_id=ctx.world.id,
                    remote_id=remote,
                    account_id=acct.account_id,
                    platform=platform,
                    kind="post" if i == 0 else "thread_part",
                    parent_id=ids[0] if ids else None,
                    text=part,
                    title=draft.title if i == 0 else None,
                    link=draft.link if i == 0 else None,
                    media=[m.model_dump(mode="json") for m in draft.media] if i == 0 else [],
                    features=extract_features(piece).model_dump(),
                    audience=audience,
                    text_hash=_state.text_hash(part),
                    idempotency_key=key[:255],
                    url=_state.post_url(acct, remote),
                    created_at=now + timedelta(milliseconds=i),
                )
            )
            ids.append(remote)
        ctx.session.add(acct)
        result = PublishResult(
            remote_id=ids[0], url=_state.post_url(acct, ids[0]), published_at=now, thread_ids=ids[1:]
        )
        return result, ids[0]

    async def reply(
        self, account: AccountAuth, in_reply_to: str, text: str, idempotency_key: str
    ) -> PublishResult:
        """Reply to a DM, comment, mention or post (text limits and daily reply quota enforced)."""
        return await self._run(
            lambda: self._gate.write(
                "reply",
                account,
                idempotency_key,
                lambda c: self._reply(c, in_reply_to, text, idempotency_key),
            )
        )

    def _reply(self, ctx: CallContext, in_reply_to: str, text: str, key: str) -> tuple[PublishResult, str]:
        acct, now, platform = ctx.acct, ctx.now, ctx.acct.platform
        caps = self._caps(ctx.world, platform)
        violations = [
            v for v in validate(PostDraft(platform=Platform(platform), text=text), caps) if v.field == "text"
        ]
        if not text.strip():
            raise Rejected("a reply needs text", platform=platform, field="text")
        if violations:
            detail = "; ".join(v.message for v in violations)
            raise DraftRejected(
                f"{caps.name} rejected the reply: {detail}", violations=violations, platform=platform
            )
        if not self._reply_target_exists(ctx, in_reply_to):
            raise Rejected(
                f"{in_reply_to!r} not found", platform=platform, status_code=404, field="in_reply_to"
            )
        if caps.daily_reply_quota is not None:
            sent = ctx.session.exec(
                select(func.count())
                .select_from(SandboxReplyRow)
                .where(
                    SandboxReplyRow.world_id == ctx.world.id,
                    SandboxReplyRow.account_id == acct.account_id,
                    col(SandboxReplyRow.created_at) > now - timedelta(days=1),
                )
            ).one()
            if sent >= caps.daily_reply_quota:
                raise RateLimited(
                    f"daily reply quota of {caps.daily_reply_quota} reached",
                    reset_at=now + timedelta(hours=1),
                    platform=platform,
                )
        acct.post_seq += 1
        remote = _state.remote_id(ctx.world, acct, acct.post_seq)
        ctx.session.add(acct)
        ctx.session.add(
            SandboxReplyRow(
                world_id=ctx.world.id,
                remote_id=remote,
                account_id=acct.account_id,
                in_reply_to=in_reply_to,
                text=text,
                idempotency_key=key[:255],
                created_at=now,
            )
        )
        return PublishResult(remote_id=remote, url=_state.post_url(acct, remote), published_at=now), remote

    def _reply_target_exists(self, ctx: CallContext, target: str) -> bool:
        post = ctx.session.get(SandboxPostRow, (ctx.world.id, target))
        if post is not None:
            return post.platform == ctx.acct.platform and post.deleted_at is None
        reply = ctx.session.get(SandboxReplyRow, (ctx.world.id, target))
        if reply is not None:
            return True
        scopes = ctx.session.exec(
            select(SandboxAccountRow.account_id).where(
                SandboxAccountRow.world_id == ctx.world.id, SandboxAccountRow.platform == ctx.acct.platform
            )
        ).all()
        if verify_item_id(ctx.world.seed, scopes, target) is not None:
            return True
        return parse_competitor_post_id(ctx.world.seed, target) is not None

    async def delete(self, account: AccountAuth, remote_id: str) -> None:
        """Delete a post (and its thread parts); deleting it again is a no-op. Instagram cannot delete."""
        await self._run(
            lambda: self._gate.write(
                "delete", account, f"delete:{remote_id}", lambda c: self._delete(c, remote_id)
            )
        )

    def _delete(self, ctx: CallContext, remote_id: str) -> tuple[bool, str]:
        if ctx.acct.platform == Platform.INSTAGRAM.value:
            raise Rejected("the Instagram API cannot delete posts", platform="instagram", status_code=405)
        post = ctx.session.get(SandboxPostRow, (ctx.world.id, remote_id))
        if post is None or post.account_id != ctx.acct.account_id:
            raise Rejected(f"post {remote_id!r} not found", platform=ctx.acct.platform, status_code=404)
        if post.deleted_at is None:
            parts = ctx.session.exec(
                select(SandboxPostRow).where(
                    SandboxPostRow.world_id == ctx.world.id, SandboxPostRow.parent_id == remote_id
                )
            ).all()
            for row in (post, *parts):
                row.deleted_at = ctx.now
                ctx.session.add(row)
        return True, remote_id

    async def refresh_token(self, account: AccountAuth) -> TokenSet:
        """A new access token (the refresh token stays the same); AuthExpired when the refresh token is wrong."""
        return await self._run(
            lambda: self._gate.write(
                "refresh",
                account,
                f"refresh:{account.refresh_token}",
                lambda c: self._refresh(c, account),
                needs_token=False,
            )
        )

    def _refresh(self, ctx: CallContext, account: AccountAuth) -> tuple[TokenSet, str]:
        if not account.refresh_token or account.refresh_token != ctx.acct.refresh_token:
            raise AuthExpired("invalid refresh token: reconnect the account", platform=ctx.acct.platform)
        token = _state.issue_token(ctx.session, ctx.world, ctx.acct, ctx.now)
        tokens = TokenSet(
            access_token=token.token,
            refresh_token=ctx.acct.refresh_token,
            expires_at=_state.ts(token.expires_at),
            scope="sandbox",
        )
        return tokens, token.token[:16]

    # --- lookups ----------------------------------------------------------------------------------

    async def find_posts(self, account: AccountAuth, since: datetime, until: datetime) -> list[RemotePost]:
        """The account's live posts created in [since, until] (thread parts excluded), oldest first."""
        return await self._run(
            lambda: self._gate.read("find_posts", account, lambda c: self._find(c, since, until))
        )

    def _find(self, ctx: CallContext, since: datetime, until: datetime) -> list[RemotePost]:
        rows = ctx.session.exec(
            select(SandboxPostRow)
            .where(
                SandboxPostRow.world_id == ctx.world.id,
                SandboxPostRow.account_id == ctx.acct.account_id,
                SandboxPostRow.kind == "post",
                col(SandboxPostRow.deleted_at).is_(None),
                col(SandboxPostRow.created_at) >= to_utc(since),
                col(SandboxPostRow.created_at) <= to_utc(until),
            )
            .order_by(col(SandboxPostRow.created_at), col(SandboxPostRow.remote_id))
        ).all()
        return [_remote_post(p) for p in rows]

    async def check_status(self, account: AccountAuth, remote_id: str) -> RemotePost | None:
        """The account's post `remote_id`, or None when it does not exist or was deleted."""
        return await self._run(
            lambda: self._gate.read("check_status", account, lambda c: self._status(c, remote_id))
        )

    def _status(self, ctx: CallContext, remote_id: str) -> RemotePost | None:
        post = ctx.session.get(SandboxPostRow, (ctx.world.id, remote_id))
        if post is None or post.account_id != ctx.acct.account_id or post.deleted_at is not None:
            return None
        return _remote_post(post)

    # --- metrics ----------------------------------------------------------------------------------

    async def fetch_metrics(self, account: AccountAuth, remote_ids: Sequence[str]) -> list[PostMetrics]:
        """Counters of live posts at sandbox time (own posts or competitors'); unknown ids are left out."""
        ids = list(remote_ids)
        return await self._run(
            lambda: self._gate.read("fetch_metrics", account, lambda c: self._metrics(c, ids))
        )

    def _metrics(self, ctx: CallContext, remote_ids: list[str]) -> list[PostMetrics]:
        out = []
        for remote in remote_ids:
            found = self._forecast_of(ctx, remote)
            if found is None:
                continue
            outcome, created = found
            counts = counts_at(outcome, ctx.now - created)
            out.append(
                PostMetrics(
                    remote_id=remote,
                    impressions=counts.impressions,
                    likes=counts.likes,
                    comments=counts.comments,
                    shares=counts.shares,
                    saves=counts.saves,
                    clicks=counts.clicks,
                    collected_at=ctx.now,
                )
            )
        return out

    def _forecast_of(self, ctx: CallContext, remote: str) -> tuple[PostForecast, datetime] | None:
        post = ctx.session.get(SandboxPostRow, (ctx.world.id, remote))
        if post is not None:
            owner = ctx.session.get(SandboxAccountRow, (ctx.world.id, post.account_id))
            if owner is None or post.deleted_at is not None or owner.platform != ctx.acct.platform:
                return None
            return _state.post_forecast(ctx.world, owner, post), _state.ts(post.created_at)
        parsed = parse_competitor_post_id(ctx.world.seed, remote)
        if parsed is None:
            return None
        owner = ctx.session.get(SandboxAccountRow, (ctx.world.id, parsed[0]))
        if owner is None or owner.platform != ctx.acct.platform:
            return None
        day_start = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=parsed[1])
        generated = competitor_posts(
            _state.stream_account(ctx.world, owner),
            since=day_start - timedelta(microseconds=1),
            until=ctx.now,
        )
        match = next((g for g in generated if g.remote_id == remote), None)
        if match is None:
            return None
        outcome = forecast(
            seed=ctx.world.seed,
            remote_id=remote,
            platform=owner.platform,
            features=match.features,
            audience=match.audience,
            created_at=match.created_at,
            profile=owner.audience_profile,
            timezones=owner.timezones,
            quality=owner.quality,
        )
        return outcome, match.created_at

    async def fetch_account_metrics(self, account: AccountAuth) -> AccountMetrics:
        """Followers (organic growth + what posts brought - crisis losses), following and live posts."""
        return await self._run(
            lambda: self._gate.read("fetch_account_metrics", account, self._account_metrics)
        )

    def _account_metrics(self, ctx: CallContext) -> AccountMetrics:
        posts = _state.account_posts(ctx.session, ctx.world.id, ctx.acct.account_id)
        crises = _state.load_crises(ctx.session, ctx.world.id)
        return AccountMetrics(
            followers=_state.followers_at(ctx.world, ctx.acct, posts, crises, ctx.now),
            following=ctx.acct.following,
            posts=sum(1 for p in posts if p.kind == "post" and p.deleted_at is None),
            collected_at=ctx.now,
        )

    # --- streams ----------------------------------------------------------------------------------

    def _window_start(self, ctx: CallContext, since: datetime) -> datetime:
        return max(to_utc(since), ctx.now - MAX_LOOKBACK, _state.ts(ctx.world.started_at))

    async def fetch_mentions(
        self, account: AccountAuth, since: datetime, query: str | None = None
    ) -> list[RemoteMention]:
        """Mentions of the brand since a time (with `query`: every public post in the world matching it)."""
        return await self._run(
            lambda: self._gate.read("fetch_mentions", account, lambda c: self._mentions(c, since, query))
        )

    def _mentions(self, ctx: CallContext, since: datetime, query: str | None) -> list[RemoteMention]:
        start = self._window_start(ctx, since)
        posts = _state.account_posts(ctx.session, ctx.world.id, ctx.acct.account_id)
        times = [_state.ts(p.created_at) for p in posts if p.kind == "post"]
        crises = _state.load_crises(ctx.session, ctx.world.id)
        own = _state.stream_account(ctx.world, ctx.acct)
        items = brand_mentions(own, post_times=times, crises=crises, since=start, until=ctx.now)
        if query:
            rivals = ctx.session.exec(
                select(SandboxAccountRow).where(
                    SandboxAccountRow.world_id == ctx.world.id,
                    SandboxAccountRow.platform == ctx.acct.platform,
                    SandboxAccountRow.kind == "competitor",
                )
            ).all()
            for rival in rivals:
                items += competitor_mentions(
                    _state.stream_account(ctx.world, rival), since=start, until=ctx.now
                )
            items = [i for i in items if matches_query(query, i.text)]
        items.sort(key=lambda i: (i.created_at, i.remote_id))
        return [i.to_mention() for i in items]

    async def fetch_messages(self, account: AccountAuth, since: datetime) -> list[RemoteMessage]:
        """DMs, comments on the account's posts and answers to its replies since a time, oldest first."""
        return await self._run(
            lambda: self._gate.read("fetch_messages", account, lambda c: self._messages(c, since))
        )

    def _messages(self, ctx: CallContext, since: datetime) -> list[RemoteMessage]:
        start = self._window_start(ctx, since)
        posts = _state.account_posts(ctx.session, ctx.world.id, ctx.acct.account_id)
        crises = _state.load_crises(ctx.session, ctx.world.id)
        own = _state.stream_account(ctx.world, ctx.acct)
        times = [_state.ts(p.created_at) for p in posts if p.kind == "post"]
        items: list[StreamItem] = direct_messages(
            own, post_times=times, crises=crises, since=start, until=ctx.now
        )
        for post in posts:
            items += post_comments(
                own,
                remote_id=post.remote_id,
                created_at=_state.ts(post.created_at),
                deleted_at=_state.ts(post.deleted_at) if post.deleted_at else None,
                forecast=_state.post_forecast(ctx.world, ctx.acct, post),
                has_question=bool(post.features.get("has_question")),
                crises=crises,
                since=start,
                until=ctx.now,
            )
        replies = ctx.session.exec(
            select(SandboxReplyRow).where(
                SandboxReplyRow.world_id == ctx.world.id,
                SandboxReplyRow.account_id == ctx.acct.account_id,
                col(SandboxReplyRow.created_at) > start - timedelta(hours=3),
            )
        ).all()
        triples = [(r.remote_id, r.in_reply_to, _state.ts(r.created_at)) for r in replies]
        items += follow_ups(own, replies=triples, since=start, until=ctx.now)
        items.sort(key=lambda i: (i.created_at, i.remote_id))
        return [i.to_message() for i in items]

    # --- public profiles (sandbox extras) -----------------------------------------------------------

    async def fetch_user_posts(
        self, account: AccountAuth, username: str, since: datetime, until: datetime | None = None
    ) -> list[RemotePost]:
        """Public posts of any account on the platform (a competitor's, say) in (since, until]."""
        return await self._run(
            lambda: self._gate.read(
                "fetch_user_posts", account, lambda c: self._user_posts(c, username, since, until)
            )
        )

    def _user(self, ctx: CallContext, username: str) -> SandboxAccountRow:
        user = ctx.session.exec(
            select(SandboxAccountRow).where(
                SandboxAccountRow.world_id == ctx.world.id,
                SandboxAccountRow.platform == ctx.acct.platform,
                SandboxAccountRow.username == username.lstrip("@"),
            )
        ).first()
        if user is None:
            raise Rejected(f"no {ctx.acct.platform} user {username!r}", status_code=404)
        return user

    def _user_posts(
        self, ctx: CallContext, username: str, since: datetime, until: datetime | None
    ) -> list[RemotePost]:
        user = self._user(ctx, username)
        end = min(to_utc(until), ctx.now) if until else ctx.now
        if user.kind == "own":
            posts = _state.account_posts(ctx.session, ctx.world.id, user.account_id)
            return [
                _remote_post(p)
                for p in posts
                if p.kind == "post"
                and p.deleted_at is None
                and to_utc(since) < _state.ts(p.created_at) <= end
            ]
        generated = competitor_posts(_state.stream_account(ctx.world, user), since=to_utc(since), until=end)
        return [
            RemotePost(
                remote_id=g.remote_id,
                text=g.text,
                created_at=g.created_at,
                url=_state.post_url(user, g.remote_id),
            )
            for g in generated
        ]

    async def fetch_user_metrics(self, account: AccountAuth, username: str) -> AccountMetrics:
        """Public counters of any account on the platform (followers, following, posts so far)."""
        return await self._run(
            lambda: self._gate.read("fetch_user_metrics", account, lambda c: self._user_metrics(c, username))
        )

    def _user_metrics(self, ctx: CallContext, username: str) -> AccountMetrics:
        user = self._user(ctx, username)
        if user.kind == "own":
            posts = _state.account_posts(ctx.session, ctx.world.id, user.account_id)
            crises = _state.load_crises(ctx.session, ctx.world.id)
            followers = _state.followers_at(ctx.world, user, posts, crises, ctx.now)
            count = sum(1 for p in posts if p.kind == "post" and p.deleted_at is None)
        else:
            followers = round(_state.organic_followers(user, ctx.now))
            count = len(
                competitor_posts(
                    _state.stream_account(ctx.world, user), since=_state.ts(user.created_at), until=ctx.now
                )
            )
        return AccountMetrics(
            followers=followers, following=user.following, posts=count, collected_at=ctx.now
        )


def _remote_post(post: SandboxPostRow) -> RemotePost:
    return RemotePost(
        remote_id=post.remote_id, text=post.text, created_at=_state.ts(post.created_at), url=post.url
    )

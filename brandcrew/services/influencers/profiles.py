"""Authors' public profiles through the connector port: followers now, recent posts with counters.

Only the port's public-profile calls are used (`fetch_user_metrics`, `fetch_user_posts`,
`fetch_metrics`), through the workspace's own connected account on that platform. A platform that
does not offer them, or an author it does not know, simply gives no profile: discovery then works
from the mentions alone and says which signals it could not measure.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlmodel import Session

from brandcrew.connectors.base import AccountAuth, Connector
from brandcrew.connectors.errors import ConnectorError
from brandcrew.memory.embedders import Embedder
from brandcrew.services.accounts import AccountsService
from brandcrew.services.influencers.discovery import AuthorProfile, InfluencerCandidate, ProfilePost, discover
from brandcrew.store.tables import SocialAccount

log = logging.getLogger("brandcrew.influencers")

MAX_POSTS = 30
"""Recent posts read per author (one metrics call)."""


async def fetch_author_profile(
    connector: Connector, auth: AccountAuth, *, platform: str, username: str, since: datetime
) -> AuthorProfile | None:
    """An author's followers and recent posts with likes, comments and shares; None when the platform
    has no public profile for them (or does not offer profiles at all)."""
    try:
        metrics = await connector.fetch_user_metrics(auth, username)
    except (NotImplementedError, ConnectorError) as exc:
        log.debug("no profile for %s on %s: %s", username, platform, exc)
        return None
    posts: list[ProfilePost] = []
    try:
        remote = (await connector.fetch_user_posts(auth, username, since))[-MAX_POSTS:]
        counters = {
            m.remote_id: m for m in await connector.fetch_metrics(auth, [p.remote_id for p in remote])
        }
    except (NotImplementedError, ConnectorError) as exc:
        log.debug("no posts for %s on %s: %s", username, platform, exc)
        remote, counters = [], {}
    for post in remote:
        m = counters.get(post.remote_id)
        posts.append(
            ProfilePost(
                text=post.text,
                created_at=post.created_at,
                likes=m.likes if m else None,
                comments=m.comments if m else None,
                shares=m.shares if m else None,
            )
        )
    return AuthorProfile(
        platform=platform,
        username=username,
        followers=metrics.followers,
        observed_at=metrics.collected_at,
        posts=posts,
    )


async def _profile_call(
    connector: Connector, auth: AccountAuth, *, platform: str, username: str, since: datetime
) -> AuthorProfile | None:
    return await fetch_author_profile(connector, auth, platform=platform, username=username, since=since)


async def fetch_profiles(
    session: Session,
    accounts: AccountsService,
    *,
    workspace_id: str,
    authors: Sequence[tuple[str, str]],
    now: datetime,
    lookback: timedelta = timedelta(days=30),
) -> dict[tuple[str, str], AuthorProfile]:
    """Profiles of (platform, username) authors, read through the workspace's account on each platform."""
    own: dict[str, SocialAccount] = {}
    # A connected account first; one flagged for reconnecting may still refresh its token.
    for row in sorted(accounts.list(session, workspace_id), key=lambda a: a.status != "connected"):
        own.setdefault(row.platform, row)
    out: dict[tuple[str, str], AuthorProfile] = {}
    for platform, username in authors:
        found = own.get(platform)
        if found is None:
            continue
        account = found
        call = functools.partial(
            _profile_call,
            accounts.connector(account),
            platform=platform,
            username=username,
            since=now - lookback,
        )
        try:
            profile = await accounts.with_auth(account, call)
        except ConnectorError as exc:  # the account itself failed (auth, rate limit): keep the mentions
            log.warning("profile lookups on %s stopped: %s", platform, exc)
            own.pop(platform, None)
            continue
        if profile is not None:
            out[(platform, username)] = profile
    return out


async def discover_with_profiles(
    session: Session,
    accounts: AccountsService,
    *,
    workspace_id: str,
    now: datetime,
    platform: str | None = None,
    min_followers: int = 0,
    max_followers: int | None = None,
    limit: int = 20,
    topic: str | None = None,
    embedder: Embedder | None = None,
) -> list[InfluencerCandidate]:
    """Discovery whose best candidates are re-scored with their public profiles (current followers,
    recent posts with likes and comments) where the platform gives them."""

    def run(profiles: dict[tuple[str, str], AuthorProfile] | None) -> list[InfluencerCandidate]:
        return discover(
            session,
            workspace_id=workspace_id,
            platform=platform,
            min_followers=min_followers,
            max_followers=max_followers,
            limit=limit,
            topic=topic,
            profiles=profiles,
            embedder=embedder,
        )

    first = run(None)
    profiles = await fetch_profiles(
        session,
        accounts,
        workspace_id=workspace_id,
        authors=[(c.platform, c.username) for c in first],
        now=now,
    )
    return run(profiles) if profiles else first

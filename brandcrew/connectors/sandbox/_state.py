"""Shared machinery of the sandbox world and connector: rows to model inputs, followers, tokens, ids."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final

from sqlmodel import Session, col, select

from brandcrew.connectors.sandbox._people import StreamAccount
from brandcrew.connectors.sandbox._rng import digest, number
from brandcrew.connectors.sandbox.clock import to_utc
from brandcrew.connectors.sandbox.engagement import PostFeatures, PostForecast, forecast, saturation
from brandcrew.connectors.sandbox.streams import SandboxCrisis
from brandcrew.store.tables._base import as_utc
from brandcrew.store.tables.sandbox import (
    SandboxAccountRow,
    SandboxCrisisRow,
    SandboxPostRow,
    SandboxTokenRow,
    SandboxWorldRow,
)

TOKEN_TTL: Final[dict[str, timedelta]] = {
    # Usual access-token lifetimes: X OAuth 2.0 2 h, LinkedIn and Meta long-lived 60 days,
    # TikTok 24 h, Google 1 h, Pinterest 30 days, Reddit 1 h.
    "x": timedelta(hours=2),
    "linkedin": timedelta(days=60),
    "instagram": timedelta(days=60),
    "facebook": timedelta(days=60),
    "threads": timedelta(days=60),
    "tiktok": timedelta(hours=24),
    "youtube": timedelta(hours=1),
    "pinterest": timedelta(days=30),
    "reddit": timedelta(hours=1),
    "sandbox": timedelta(days=7),
}
CRISIS_FOLLOWER_LOSS: Final = 0.002
"""Share of an account's base audience a crisis of intensity 1 costs over its whole window."""


def ts(value: datetime | None) -> datetime:
    """A stored timestamp as aware UTC."""
    out = as_utc(value)
    assert out is not None
    return to_utc(out)


def token_ttl(world: SandboxWorldRow, platform: str) -> timedelta:
    """Access-token lifetime on `platform` in this world."""
    if world.token_ttl_s:
        return timedelta(seconds=world.token_ttl_s)
    return TOKEN_TTL.get(platform, TOKEN_TTL["sandbox"])


def issue_token(
    session: Session, world: SandboxWorldRow, acct: SandboxAccountRow, now: datetime
) -> SandboxTokenRow:
    """A new access token for `acct`, valid for the platform's lifetime from `now`."""
    acct.token_seq += 1
    token = SandboxTokenRow(
        token=f"sbx_at_{digest(world.seed, world.id, acct.account_id, 'token', acct.token_seq, size=40)}",
        world_id=world.id,
        account_id=acct.account_id,
        expires_at=now + token_ttl(world, acct.platform),
        created_at=now,
    )
    session.add(acct)
    session.add(token)
    return token


def remote_id(world: SandboxWorldRow, acct: SandboxAccountRow, seq: int) -> str:
    """A platform-flavoured remote id for the account's `seq`-th post or reply."""
    n = number(world.seed, acct.account_id, "post", seq, digits=19)
    p = acct.platform
    if p == "linkedin":
        return f"urn:li:share:{n}"
    if p == "facebook":
        return f"{acct.account_id.split('-')[-1]}_{str(n)[:17]}"
    if p in ("instagram", "threads"):
        return str(n)[:17]
    if p == "reddit":
        return "t3_" + digest(n, size=7)
    if p == "youtube":
        return digest(n, size=11)
    return str(n)


def post_url(acct: SandboxAccountRow, remote: str) -> str:
    """Where a sandbox post lives."""
    return f"https://sandbox.brandcrew.local/{acct.platform}/{acct.username}/{remote}"


def text_hash(text: str) -> str:
    """Hash of whitespace-normalised text (the duplicate-content check and reconciliation)."""
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()


def brand_of(world: SandboxWorldRow) -> dict[str, object]:
    """The world's brand as stored."""
    return dict(world.brand)


def stream_account(world: SandboxWorldRow, acct: SandboxAccountRow) -> StreamAccount:
    """The stream generator's view of an account."""
    if acct.kind == "own":
        brand = world.brand
        name, products, topics = str(brand["name"]), brand["products"], brand["topics"]
        languages = brand["languages"]
    else:
        name, products, topics = str(acct.profile["name"]), acct.profile["products"], world.brand["topics"]
        languages = world.brand["languages"]
    return StreamAccount(
        seed=world.seed,
        account_id=acct.account_id,
        platform=acct.platform,
        username=acct.username,
        brand=name,
        products=tuple(products),
        topics=tuple(topics),
        languages=dict(languages),
        audience=acct.audience,
        profile=acct.audience_profile,
        timezones=list(acct.timezones),
        quality=acct.quality,
        daily_growth=acct.daily_growth,
        cadence_per_day=acct.cadence_per_day,
        started_at=ts(acct.created_at),
    )


def post_forecast(world: SandboxWorldRow, acct: SandboxAccountRow, post: SandboxPostRow) -> PostForecast:
    """Lifetime expected counters of a stored post."""
    return _forecast_of(
        world.seed,
        post.remote_id,
        acct.platform,
        tuple(sorted(post.features.items())),
        post.audience,
        ts(post.created_at),
        acct.audience_profile,
        tuple(tuple(sorted(share.items())) for share in acct.timezones),
        acct.quality,
    )


@functools.lru_cache(maxsize=100_000)
def _forecast_of(
    seed: str,
    remote_id: str,
    platform: str,
    features: tuple[tuple[str, object], ...],
    audience: int,
    created_at: datetime,
    profile: str,
    timezones: tuple[tuple[tuple[str, float], ...], ...],
    quality: float,
) -> PostForecast:
    # Memoized on every input of the forecast (none changes once a post is stored): each publish sums
    # the forecasts of every earlier post of the account for its follower count, which without the
    # memo made a campaign's publishing quadratic (1,000 posts took ~100 ms each).
    return forecast(
        seed=seed,
        remote_id=remote_id,
        platform=platform,
        features=PostFeatures.model_validate(dict(features)),
        audience=audience,
        created_at=created_at,
        profile=profile,
        timezones=[dict(share) for share in timezones],
        quality=quality,
    )


def organic_followers(acct: SandboxAccountRow, at: datetime) -> float:
    """Followers from organic growth alone (compounded daily growth since the world began)."""
    days = max(0.0, (at - ts(acct.created_at)).total_seconds() / 86400)
    return acct.audience * (1 + acct.daily_growth) ** days


def followers_at(
    world: SandboxWorldRow,
    acct: SandboxAccountRow,
    posts: Sequence[SandboxPostRow],
    crises: Sequence[SandboxCrisis],
    at: datetime,
) -> int:
    """Followers at `at` = organic growth + followers each post brought so far - crisis losses."""
    total = organic_followers(acct, at)
    for post in posts:
        created = ts(post.created_at)
        if created >= at:
            continue
        end = min(at, ts(post.deleted_at)) if post.deleted_at else at
        total += post_forecast(world, acct, post).follows * saturation(acct.platform, end - created)
    for crisis in crises:
        if not crisis.affects(acct.platform) or at <= crisis.starts_at:
            continue
        span = (crisis.ends_at - crisis.starts_at).total_seconds() or 1.0
        elapsed = min(1.0, (at - crisis.starts_at).total_seconds() / span)
        total -= acct.audience * CRISIS_FOLLOWER_LOSS * crisis.intensity * elapsed
    return max(0, round(total))


def load_crises(session: Session, world_id: str) -> list[SandboxCrisis]:
    """The world's scripted crises, in start order."""
    rows = session.exec(
        select(SandboxCrisisRow)
        .where(SandboxCrisisRow.world_id == world_id)
        .order_by(col(SandboxCrisisRow.starts_at), col(SandboxCrisisRow.id))
    ).all()
    return [
        SandboxCrisis(
            id=r.id,
            starts_at=ts(r.starts_at),
            ends_at=ts(r.ends_at),
            intensity=r.intensity,
            topic=r.topic,
            platforms=tuple(r.platforms),
        )
        for r in rows
    ]


def account_posts(session: Session, world_id: str, account_id: str) -> list[SandboxPostRow]:
    """Every post row of an account, deleted ones included, oldest first."""
    return list(
        session.exec(
            select(SandboxPostRow)
            .where(SandboxPostRow.world_id == world_id, SandboxPostRow.account_id == account_id)
            .order_by(col(SandboxPostRow.created_at), col(SandboxPostRow.remote_id))
        ).all()
    )

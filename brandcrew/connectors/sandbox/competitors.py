"""Competitors' public posts: generated per day from the seed, at their audience's busier hours."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from brandcrew.connectors.capabilities import MediaType, Platform
from brandcrew.connectors.drafts import MediaItem, PostDraft
from brandcrew.connectors.sandbox import _text
from brandcrew.connectors.sandbox._people import EPOCH, StreamAccount, text_values
from brandcrew.connectors.sandbox._rng import digest, poisson, rng, weighted_choice
from brandcrew.connectors.sandbox.engagement import (
    HASHTAG_SWEET_SPOT,
    PostFeatures,
    audience_activity,
    extract_features,
)

__all__ = ("GeneratedPost", "competitor_posts", "parse_competitor_post_id")


@dataclass(frozen=True, kw_only=True)
class GeneratedPost:
    """A competitor's public post."""

    remote_id: str
    account_id: str
    username: str
    platform: str
    text: str
    created_at: datetime
    features: PostFeatures
    audience: int
    extra: dict[str, str] = field(default_factory=dict)


_MEDIA_ODDS: Final[Mapping[str, Mapping[str, float]]] = {
    "instagram": {"image": 0.45, "carousel": 0.3, "video": 0.25},
    "tiktok": {"video": 0.9, "carousel": 0.1},
    "youtube": {"video": 1.0},
    "pinterest": {"image": 0.8, "video": 0.2},
}
_DEFAULT_MEDIA_ODDS: Final[Mapping[str, float]] = {
    "none": 0.45,
    "image": 0.35,
    "video": 0.12,
    "carousel": 0.08,
}


def _competitor_draft(acct: StreamAccount, r: random.Random) -> PostDraft:
    values = text_values(acct, r)
    text = _text.fill(r.choice(_text.COMPETITOR_POSTS), values)
    if r.random() < 0.2:
        text += " What do you think?"
    if r.random() < 0.25:
        text += f" https://{_text.handle_of(acct.brand)}.example/{_text.handle_of(values['product'])}"
    if r.random() < 0.4:
        text += " " + r.choice(("✨", "🔥", "👇", "🎉", "☕"))
    _, hi = HASHTAG_SWEET_SPOT.get(acct.platform, (1, 3))
    n_tags = min(r.randint(0, hi + 2), 1 if acct.platform == "threads" else 5)
    tags = [
        _text.tag_of(acct.brand),
        _text.tag_of(values["topic"]),
        _text.tag_of(values["product"]),
        "New",
        "Deal",
    ]
    if n_tags:
        text += "\n\n" + " ".join(f"#{t}" for t in tags[:n_tags])
    kind = weighted_choice(r, dict(_MEDIA_ODDS.get(acct.platform, _DEFAULT_MEDIA_ODDS)))
    media: tuple[MediaItem, ...] = ()
    if kind == "image":
        media = (MediaItem(type=MediaType.IMAGE),)
    elif kind == "video":
        media = (MediaItem(type=MediaType.VIDEO),)
    elif kind == "carousel":
        media = tuple(MediaItem(type=MediaType.IMAGE) for _ in range(r.randint(2, 5)))
    return PostDraft(platform=Platform(acct.platform), text=text, media=media)


def competitor_posts(acct: StreamAccount, *, since: datetime, until: datetime) -> list[GeneratedPost]:
    """A competitor's public posts in (since, until], posted at its audience's busier hours."""
    out = []
    first_day = math.floor((since - EPOCH).total_seconds() / 86400)
    last_day = math.floor((until - EPOCH).total_seconds() / 86400)
    for day in range(first_day, last_day + 1):
        day_start = EPOCH + timedelta(days=day)
        r = rng(acct.seed, "competitor-posts", acct.account_id, day)
        weights = {
            str(h): audience_activity(acct.profile, acct.timezones, day_start + timedelta(hours=h + 0.5))
            for h in range(24)
        }
        for i in range(poisson(r, acct.cadence_per_day)):
            hour = int(weighted_choice(r, weights))
            created = day_start + timedelta(hours=hour, seconds=r.random() * 3600)
            draft = _competitor_draft(acct, r)
            if not since < created <= until or created < acct.started_at:
                continue
            days = max(0.0, (created - acct.started_at).total_seconds() / 86400)
            audience = round(acct.audience * (1 + acct.daily_growth) ** days)
            sig = digest(acct.seed, "cp", acct.account_id, day, i, size=8)
            out.append(
                GeneratedPost(
                    remote_id=f"cp.{day}.{i}.{sig}.{acct.account_id}",
                    account_id=acct.account_id,
                    username=acct.username,
                    platform=acct.platform,
                    text=draft.text,
                    created_at=created,
                    features=extract_features(draft),
                    audience=audience,
                )
            )
    return sorted(out, key=lambda p: (p.created_at, p.remote_id))


def parse_competitor_post_id(seed: str, remote_id: str) -> tuple[str, int, int] | None:
    """(competitor account id, day, index) of a competitor post id made by this world, else None."""
    parts = remote_id.split(".", 4)
    if len(parts) != 5 or parts[0] != "cp" or not parts[1].lstrip("-").isdigit() or not parts[2].isdigit():
        return None
    day, i, sig, account_id = int(parts[1]), int(parts[2]), parts[3], parts[4]
    if sig != digest(seed, "cp", account_id, day, i, size=8):
        return None
    return account_id, day, i

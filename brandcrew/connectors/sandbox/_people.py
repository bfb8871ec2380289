"""Simulated people of a world, what they write with, and the ids of their posts and messages."""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Final

from brandcrew.connectors.sandbox import _text
from brandcrew.connectors.sandbox._rng import digest, lognormal_unit, number, rng
from brandcrew.connectors.sandbox.engagement import TimezoneShare

EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
POOL_SIZE: Final = 5000
"""Simulated people per platform."""
INFLUENCER_SHARE: Final = 0.03


@dataclass(frozen=True, kw_only=True)
class StreamAccount:
    """What the streams need to know about an account (own or competitor)."""

    seed: str
    account_id: str
    platform: str
    username: str
    brand: str
    products: tuple[str, ...]
    topics: tuple[str, ...]
    languages: Mapping[str, float]
    audience: int
    profile: str
    timezones: Sequence[TimezoneShare]
    quality: float = 1.0
    daily_growth: float = 0.0
    cadence_per_day: float = 0.0
    started_at: datetime = EPOCH


@dataclass(frozen=True)
class Author:
    """A simulated person on one platform."""

    index: int
    id: str
    username: str
    name: str
    followers: int
    influencer: bool


# --- people --------------------------------------------------------------------------------------


@cache
def author_pool(seed: str, platform: str) -> tuple[Author, ...]:
    """The simulated people of a platform (POOL_SIZE, a few of them influencers)."""
    people = []
    for i in range(POOL_SIZE):
        r = rng(seed, "user", platform, i)
        first, last = r.choice(_text.FIRST_NAMES), r.choice(_text.LAST_NAMES)
        influencer = r.random() < INFLUENCER_SHARE
        if influencer:
            followers = int(math.exp(r.uniform(math.log(50_000), math.log(2_000_000))))
        else:
            followers = min(49_000, int(r.lognormvariate(math.log(250), 1.3)))
        username = _text.handle_of(f"{first}{last}") + str(r.randint(1, 999))
        people.append(
            Author(
                index=i,
                id=str(number(seed, "user", platform, i, digits=15)),
                username=username,
                name=f"{first} {last}",
                followers=followers,
                influencer=influencer,
            )
        )
    return tuple(people)


@cache
def _influencers(seed: str, platform: str) -> tuple[Author, ...]:
    return tuple(a for a in author_pool(seed, platform) if a.influencer)


def pick_author(seed: str, platform: str, r_value: float, influential: bool) -> Author:
    """The person a uniform draw `r_value` picks (from the influencers when `influential`)."""
    pool = _influencers(seed, platform) if influential else author_pool(seed, platform)
    pool = pool or author_pool(seed, platform)
    return pool[min(len(pool) - 1, int(r_value * len(pool)))]


# --- ids -----------------------------------------------------------------------------------------


def _sig(seed: str, scope: str, *parts: object) -> str:
    return digest(seed, scope, *parts, size=8)


_ID = re.compile(r"^(?P<kind>mn|mc|dm|cr|cd|cm|fu)\.(?P<body>.+)$")
_AUTHOR = re.compile(r"^u(\d+)$")


def split_id(remote_id: str) -> tuple[str, list[str], str, int, str] | None:
    """(kind, head parts, signature, author index, tail) of a stream item id, or None."""
    m = _ID.match(remote_id)
    if m is None:
        return None
    kind, body = m.group("kind"), m.group("body")
    n_head = {"mn": 2, "mc": 2, "dm": 2, "cr": 3, "cd": 3, "cm": 1, "fu": 0}[kind]
    parts = body.split(".", n_head + 2)
    if len(parts) < n_head + 2:
        return None
    head, author, sig = parts[:n_head], parts[n_head], parts[n_head + 1]
    tail = parts[n_head + 2] if len(parts) > n_head + 2 else ""
    a = _AUTHOR.match(author)
    if a is None or (kind in ("cm", "fu")) != bool(tail):
        return None
    return kind, head, sig, int(a.group(1)), tail


def verify_item_id(seed: str, scopes: Iterable[str], remote_id: str) -> tuple[str, int] | None:
    """(stream kind, author index) when `remote_id` is an item the world generated for one of `scopes`."""
    split = split_id(remote_id)
    if split is None:
        return None
    kind, head, sig, author, tail = split
    for scope in scopes:
        if sig == _sig(seed, scope, kind, *head, author, tail):
            return kind, author
    return None


def make_id(seed: str, scope: str, kind: str, head: Sequence[object], author: int, tail: str = "") -> str:
    """A signed stream item id: kind, head parts, author, signature, then an optional tail."""
    sig = _sig(seed, scope, kind, *map(str, head), author, tail)
    return ".".join([kind, *map(str, head), f"u{author}", sig, *([tail] if tail else [])])


# --- text ----------------------------------------------------------------------------------------


def text_values(acct: StreamAccount, r: random.Random, topic: str | None = None) -> dict[str, str]:
    """Values for a template's placeholders (brand, product, topic, country, order...)."""
    product = r.choice(acct.products) if acct.products else acct.brand
    return {
        "brand": acct.brand,
        "handle": acct.username,
        "product": product,
        "topic": topic or (r.choice(acct.topics) if acct.topics else "the product"),
        "country": r.choice(_text.COUNTRIES),
        "order": str(r.randint(10_000, 99_999)),
        "friend": _text.handle_of(r.choice(_text.FIRST_NAMES)) + str(r.randint(1, 99)),
        "tag": _text.tag_of(acct.brand),
        "first": r.choice(_text.FIRST_NAMES),
        "n": str(r.randint(3, 7)),
        "pct": str(r.choice((10, 15, 20, 25, 30))),
    }


def pick_template(
    templates: _text.Templates, language: str, sentiment: str, r: random.Random
) -> tuple[str, str]:
    """A template in `language` for `sentiment` (English when there is none), and the language used."""
    by_language = templates.get(language) or templates["en"]
    options = by_language.get(sentiment) or templates["en"][sentiment]
    lang = language if language in templates and sentiment in templates[language] else "en"
    return r.choice(options), lang


def item_engagement(author: Author, r: random.Random, factor: float = 1.0) -> tuple[int, int, int]:
    """Likes, replies and shares of a public item, from its author's reach."""
    likes = int(author.followers * 0.01 * factor * lognormal_unit(r, 0.8))
    return likes, int(likes * 0.1), int(likes * 0.15)

"""The sandbox engagement model: what a post earns, in closed form, at any age.

Lifetime expected impressions of a post:

    I = audience x quality x REACH_RATE[platform] x time x media x hashtags x length x link
        x question x emoji x thread x noise

- `audience`: the account's followers when the post went out.
- `time`: 1 + TIME_SENSITIVITY[platform] x (A - 1), where A is the audience's activity over the
  post's first hour (mean of `audience_activity` at +0, +30 and +60 minutes). Activity is a
  weekly-normalised curve (mean 1 over the week) per audience profile and local hour, mixed over the
  audience's timezones: consumer audiences peak at 8-9h, 12-13h and 19-21h local; business audiences
  (LinkedIn) peak at 9h, 12-13h and 17h on weekdays and are quiet at weekends.
- content factors (`content_factors`): media kind, hashtag count against the platform's sweet spot,
  visible length against the platform's optimum (log-Gaussian), link penalty, question, emoji, thread.
- `noise`: lognormal with mean 1 and sigma REACH_SIGMA[platform], seeded by (world seed, remote id).

Counters are rates of impressions: likes = I x LIKE_RATE x rate factors x own lognormal noise
(sigma RATE_SIGMA), and the same for comments, shares, saves, clicks (CLICK_RATE with a link,
PROFILE_CLICK_RATE without) and follows (FOLLOW_RATE: followers the post brings).

Every counter accrues with the same saturation curve: at age `a` a post has
`round(total x saturation(platform, a))`, where

    saturation(a) = w x (1 - exp(-a / tau_fast)) + (1 - w) x (1 - exp(-a / tau_slow))

so most impressions arrive in the first day on X and Threads, with a longer tail on LinkedIn,
TikTok, YouTube and Pinterest. Counters never decrease as the clock advances.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict

from brandcrew.connectors.drafts import PostDraft
from brandcrew.connectors.sandbox._rng import lognormal_unit, rng
from brandcrew.connectors.text_count import (
    extract_hashtags,
    extract_mentions,
    find_urls,
    graphemes,
    is_emoji_cluster,
)
from brandcrew.connectors.validation import unescape_linkedin

__all__ = (
    "ACTIVITY_BUMPS",
    "ACTIVITY_FLOOR",
    "CLICK_RATE",
    "COMMENT_RATE",
    "FOLLOW_RATE",
    "HASHTAG_SWEET_SPOT",
    "LENGTH_OPTIMUM",
    "LIKE_RATE",
    "LINK_REACH",
    "MEDIA_REACH",
    "REACH_RATE",
    "REACH_SIGMA",
    "SATURATION",
    "SAVE_RATE",
    "SHARE_RATE",
    "TIME_SENSITIVITY",
    "WEEKDAY_FACTOR",
    "AudienceProfile",
    "PostCounts",
    "PostFeatures",
    "PostForecast",
    "TimezoneShare",
    "activity",
    "age_for_fraction",
    "audience_activity",
    "content_factors",
    "counts_at",
    "extract_features",
    "forecast",
    "saturation",
    "time_multiplier",
)

AudienceProfile = Literal["consumer", "business"]
TimezoneShare = Mapping[str, float]
"""One timezone of an audience: {"utc_offset": hours, "share": fraction of the audience}."""

# --- audience activity ---------------------------------------------------------------------------

ACTIVITY_BUMPS: Final[Mapping[str, tuple[tuple[float, float, float], ...]]] = {
    # (local hour of the peak, width in hours, height)
    "consumer": ((8.5, 0.9, 1.0), (12.5, 1.0, 0.9), (20.0, 1.5, 1.2)),
    "business": ((9.0, 1.2, 1.0), (12.5, 1.0, 0.7), (17.0, 1.2, 0.6)),
}
ACTIVITY_FLOOR: Final[Mapping[str, float]] = {"consumer": 0.12, "business": 0.06}
WEEKDAY_FACTOR: Final[Mapping[str, tuple[float, ...]]] = {
    # Monday .. Sunday
    "consumer": (0.95, 1.0, 1.0, 1.0, 0.97, 1.05, 1.03),
    "business": (1.0, 1.1, 1.1, 1.05, 0.9, 0.3, 0.25),
}

# --- per-platform constants ----------------------------------------------------------------------

REACH_RATE: Final[Mapping[str, float]] = {
    # Share of followers an average post reaches over its life (organic reach).
    "x": 0.08,
    "linkedin": 0.10,
    "instagram": 0.15,
    "threads": 0.12,
    "facebook": 0.05,
    "tiktok": 0.60,
    "youtube": 0.25,
    "pinterest": 0.10,
    "reddit": 0.20,
    "sandbox": 0.10,
}
TIME_SENSITIVITY: Final[Mapping[str, float]] = {
    # How much posting into an active hour matters (0: not at all; feeds ranked by interest matter less).
    "x": 0.6,
    "threads": 0.6,
    "linkedin": 0.5,
    "instagram": 0.5,
    "facebook": 0.5,
    "tiktok": 0.3,
    "youtube": 0.2,
    "pinterest": 0.15,
    "reddit": 0.5,
    "sandbox": 0.5,
}
LIKE_RATE: Final[Mapping[str, float]] = {
    "x": 0.014,
    "linkedin": 0.022,
    "instagram": 0.032,
    "threads": 0.025,
    "facebook": 0.012,
    "tiktok": 0.045,
    "youtube": 0.030,
    "pinterest": 0.010,
    "reddit": 0.040,
    "sandbox": 0.020,
}
COMMENT_RATE: Final[Mapping[str, float]] = {
    "x": 0.002,
    "linkedin": 0.004,
    "instagram": 0.0025,
    "threads": 0.004,
    "facebook": 0.0015,
    "tiktok": 0.003,
    "youtube": 0.003,
    "pinterest": 0.0005,
    "reddit": 0.008,
    "sandbox": 0.003,
}
SHARE_RATE: Final[Mapping[str, float]] = {
    "x": 0.003,
    "linkedin": 0.0025,
    "instagram": 0.003,
    "threads": 0.002,
    "facebook": 0.002,
    "tiktok": 0.004,
    "youtube": 0.002,
    "pinterest": 0.004,
    "reddit": 0.001,
    "sandbox": 0.002,
}
SAVE_RATE: Final[Mapping[str, float]] = {
    "x": 0.001,
    "linkedin": 0.0005,
    "instagram": 0.004,
    "threads": 0.0005,
    "facebook": 0.0005,
    "tiktok": 0.003,
    "youtube": 0.001,
    "pinterest": 0.015,
    "reddit": 0.001,
    "sandbox": 0.001,
}
CLICK_RATE: Final[Mapping[str, float]] = {
    # Link clicks per impression when the post carries a link.
    "x": 0.009,
    "linkedin": 0.012,
    "instagram": 0.001,
    "threads": 0.006,
    "facebook": 0.010,
    "tiktok": 0.002,
    "youtube": 0.004,
    "pinterest": 0.015,
    "reddit": 0.020,
    "sandbox": 0.008,
}
PROFILE_CLICK_RATE: Final = 0.002
"""Clicks per impression without a link (profile, hashtag and media taps)."""
FOLLOW_RATE: Final[Mapping[str, float]] = {
    # New followers per impression.
    "x": 0.0010,
    "linkedin": 0.0020,
    "instagram": 0.0015,
    "threads": 0.0012,
    "facebook": 0.0005,
    "tiktok": 0.0020,
    "youtube": 0.0030,
    "pinterest": 0.0008,
    "reddit": 0.0002,
    "sandbox": 0.0010,
}
SATURATION: Final[Mapping[str, tuple[float, float, float]]] = {
    # (tau_fast hours, tau_slow hours, weight of the fast part)
    "x": (1.5, 12.0, 0.8),
    "threads": (2.0, 18.0, 0.8),
    "reddit": (3.0, 12.0, 0.85),
    "facebook": (3.0, 24.0, 0.75),
    "instagram": (4.0, 36.0, 0.75),
    "linkedin": (8.0, 72.0, 0.6),
    "tiktok": (12.0, 96.0, 0.5),
    "youtube": (24.0, 240.0, 0.4),
    "pinterest": (48.0, 720.0, 0.3),
    "sandbox": (3.0, 24.0, 0.75),
}
REACH_SIGMA: Final[Mapping[str, float]] = {
    "x": 0.6,
    "tiktok": 1.0,
    "youtube": 0.8,
    "reddit": 0.8,
}
"""Log-sd of the per-post reach noise; platforms not listed use DEFAULT_REACH_SIGMA."""
DEFAULT_REACH_SIGMA: Final = 0.5
RATE_SIGMA: Final = 0.25
"""Log-sd of each counter's own noise around its rate."""

# --- content factors -----------------------------------------------------------------------------

MediaKind = Literal["none", "image", "carousel", "video", "gif"]
_DEFAULT_MEDIA: Final[Mapping[str, float]] = {
    "none": 1.0,
    "image": 1.3,
    "carousel": 1.4,
    "video": 1.5,
    "gif": 1.15,
}
MEDIA_REACH: Final[Mapping[str, Mapping[str, float]]] = {
    "x": _DEFAULT_MEDIA,
    "threads": _DEFAULT_MEDIA,
    "facebook": _DEFAULT_MEDIA,
    "reddit": _DEFAULT_MEDIA,
    "sandbox": _DEFAULT_MEDIA,
    "linkedin": {"none": 1.0, "image": 1.2, "carousel": 1.45, "video": 1.3, "gif": 1.05},
    # Media is required on these: factors are relative to their usual format.
    "instagram": {"none": 1.0, "image": 1.0, "carousel": 1.15, "video": 1.35, "gif": 1.0},
    "tiktok": {"none": 1.0, "image": 0.85, "carousel": 0.9, "video": 1.0, "gif": 1.0},
    "youtube": {"none": 1.0, "image": 1.0, "carousel": 1.0, "video": 1.0, "gif": 1.0},
    "pinterest": {"none": 1.0, "image": 1.0, "carousel": 1.1, "video": 1.2, "gif": 1.0},
}
HASHTAG_SWEET_SPOT: Final[Mapping[str, tuple[int, int]]] = {
    "x": (1, 2),
    "threads": (1, 1),
    "facebook": (1, 2),
    "linkedin": (3, 5),
    "instagram": (3, 5),
    "tiktok": (3, 5),
    "youtube": (2, 3),
    "pinterest": (2, 5),
    "reddit": (0, 0),
    "sandbox": (1, 3),
}
HASHTAG_BONUS: Final = 1.15
"""Reach factor with a hashtag count inside the sweet spot (1.05 below it, 1.0 with none)."""
HASHTAG_PENALTY_EACH: Final = 0.06
"""Reach lost per hashtag above the sweet spot (floored at HASHTAG_FLOOR)."""
HASHTAG_FLOOR: Final = 0.7
LENGTH_OPTIMUM: Final[Mapping[str, int]] = {
    # Visible characters of the best-performing length.
    "x": 100,
    "threads": 150,
    "facebook": 80,
    "linkedin": 1200,
    "instagram": 300,
    "tiktok": 100,
    "youtube": 300,
    "pinterest": 200,
    "reddit": 800,
    "sandbox": 150,
}
LENGTH_RANGE: Final = (0.85, 1.15)
"""Length factor far from and at the optimum; in between it is Gaussian in log(length / optimum)."""
LENGTH_LOG_WIDTH: Final = 0.8
LINK_REACH: Final[Mapping[str, float]] = {
    # Feeds demote posts that send people away.
    "x": 0.7,
    "linkedin": 0.6,
    "facebook": 0.75,
    "threads": 0.85,
    "sandbox": 0.8,
    "pinterest": 1.1,
}
"""Reach factor of a post with a link; platforms not listed: 1.0."""
QUESTION_REACH: Final = 1.05
QUESTION_COMMENTS: Final = 1.8
"""A question in the text draws comments (and a little reach from them)."""
EMOJI_BONUS: Final[Mapping[str, float]] = {
    "x": 1.03,
    "instagram": 1.08,
    "threads": 1.05,
    "tiktok": 1.05,
    "facebook": 1.05,
    "linkedin": 0.97,
    "reddit": 0.95,
    "sandbox": 1.03,
}
"""Reach factor with 1-3 emoji (unlisted: 1.0); 4-5 emoji: 1.0; more: EMOJI_OVERUSE."""
EMOJI_OVERUSE: Final = 0.93
THREAD_REACH: Final = 1.1
"""A multi-part thread (X, Threads) earns a little more reach."""
MEDIA_LIKES: Final = 1.15
MEDIA_SHARES: Final = 1.1
CAROUSEL_SAVES: Final = 1.5


class PostFeatures(BaseModel):
    """The content features of a post the engagement model reads."""

    model_config = ConfigDict(frozen=True)

    length: int = 0
    """Visible characters of the first part (LinkedIn text unescaped)."""
    media_kind: MediaKind = "none"
    media_count: int = 0
    hashtags: int = 0
    mentions: int = 0
    emoji: int = 0
    has_link: bool = False
    has_question: bool = False
    parts: int = 1


class PostCounts(BaseModel):
    """Integer counters of a post at one age."""

    impressions: int = 0
    likes: int = 0
    comments: int = 0
    shares: int = 0
    saves: int = 0
    clicks: int = 0
    follows: int = 0


class PostForecast(BaseModel):
    """A post's lifetime expected counters and every factor that produced them."""

    model_config = ConfigDict(frozen=True)

    platform: str
    audience: int
    factors: dict[str, float]
    """Named multipliers of the impressions formula (quality, reach_rate, time, media, ... noise)."""
    impressions: float
    likes: float
    comments: float
    shares: float
    saves: float
    clicks: float
    follows: float


def _platform(platform: str) -> str:
    return platform if platform in REACH_RATE else "sandbox"


def extract_features(draft: PostDraft) -> PostFeatures:
    """The content features of `draft` (text as readers see it, media, links, tags)."""
    text = unescape_linkedin(draft.text) if draft.platform == "linkedin" else draft.text
    kinds = {m.type.value for m in draft.media}
    kind: MediaKind = "none"
    if "video" in kinds:
        kind = "video"
    elif len(draft.media) > 1:
        kind = "carousel"
    elif "gif" in kinds:
        kind = "gif"
    elif kinds:
        kind = "image"
    return PostFeatures(
        length=len(text.strip()),
        media_kind=kind,
        media_count=len(draft.media),
        hashtags=len(extract_hashtags(text)),
        mentions=len(extract_mentions(text)),
        emoji=sum(1 for g in graphemes(text) if is_emoji_cluster(g)),
        has_link=bool(draft.link) or bool(find_urls(text)),
        has_question="?" in text or "\uff1f" in text,
        parts=len(draft.parts),
    )


@cache
def _normaliser(profile: str) -> float:
    total, n = 0.0, 0
    for day in range(7):
        for quarter in range(96):
            total += _raw_activity(profile, quarter / 4, day)
            n += 1
    return total / n


def _raw_activity(profile: str, hour: float, weekday: int) -> float:
    level = ACTIVITY_FLOOR[profile]
    for centre, width, height in ACTIVITY_BUMPS[profile]:
        d = abs(hour - centre) % 24
        d = min(d, 24 - d)
        level += height * math.exp(-(d**2) / (2 * width**2))
    return WEEKDAY_FACTOR[profile][weekday] * level


def activity(profile: str, local: datetime) -> float:
    """How active an audience is at a local time (weekly mean 1): the best-time-to-post curve."""
    profile = profile if profile in ACTIVITY_BUMPS else "consumer"
    hour = local.hour + local.minute / 60 + local.second / 3600
    return _raw_activity(profile, hour, local.weekday()) / _normaliser(profile)


def audience_activity(profile: str, timezones: Sequence[TimezoneShare], at: datetime) -> float:
    """Activity of an audience spread over timezones, at a UTC time (weekly mean 1)."""
    zones = list(timezones) or [{"utc_offset": 0.0, "share": 1.0}]
    total_share = sum(float(z["share"]) for z in zones) or 1.0
    naive = at.replace(tzinfo=None)
    return sum(
        float(z["share"]) / total_share * activity(profile, naive + timedelta(hours=float(z["utc_offset"])))
        for z in zones
    )


def time_multiplier(platform: str, profile: str, timezones: Sequence[TimezoneShare], at: datetime) -> float:
    """Reach factor for posting at `at`: 1 + sensitivity x (activity over the first hour - 1)."""
    a = sum(audience_activity(profile, timezones, at + timedelta(minutes=m)) for m in (0, 30, 60)) / 3
    return 1 + TIME_SENSITIVITY[_platform(platform)] * (a - 1)


def _hashtag_factor(platform: str, n: int) -> float:
    lo, hi = HASHTAG_SWEET_SPOT[platform]
    if n > hi:
        return max(HASHTAG_FLOOR, 1 - HASHTAG_PENALTY_EACH * (n - hi))
    if n == 0:
        return 1.0
    return HASHTAG_BONUS if n >= lo else 1.05


def _length_factor(platform: str, length: int) -> float:
    lo, hi = LENGTH_RANGE
    x = math.log(max(length, 1) / LENGTH_OPTIMUM[platform])
    return lo + (hi - lo) * math.exp(-(x**2) / (2 * LENGTH_LOG_WIDTH**2))


def _emoji_factor(platform: str, n: int) -> float:
    if n == 0 or n in (4, 5):
        return 1.0
    return EMOJI_BONUS.get(platform, 1.0) if n <= 3 else EMOJI_OVERUSE


def content_factors(platform: str, features: PostFeatures) -> dict[str, float]:
    """The named content multipliers of reach for a post's features."""
    p = _platform(platform)
    return {
        "media": MEDIA_REACH[p][features.media_kind],
        "hashtags": _hashtag_factor(p, features.hashtags),
        "length": _length_factor(p, features.length),
        "link": LINK_REACH.get(p, 1.0) if features.has_link else 1.0,
        "question": QUESTION_REACH if features.has_question else 1.0,
        "emoji": _emoji_factor(p, features.emoji),
        "thread": THREAD_REACH if features.parts > 1 else 1.0,
    }


def forecast(
    *,
    seed: str,
    remote_id: str,
    platform: str,
    features: PostFeatures,
    audience: int,
    created_at: datetime,
    profile: str = "consumer",
    timezones: Sequence[TimezoneShare] = (),
    quality: float = 1.0,
) -> PostForecast:
    """Lifetime expected counters of one post, with the factors that produced them."""
    p = _platform(platform)
    r = rng(seed, "engagement", remote_id)
    factors = {
        "quality": quality,
        "reach_rate": REACH_RATE[p],
        "time": time_multiplier(p, profile, timezones, created_at),
        **content_factors(p, features),
        "noise": lognormal_unit(r, REACH_SIGMA.get(p, DEFAULT_REACH_SIGMA)),
    }
    impressions = float(audience) * math.prod(factors.values())

    def rate(base: float, factor: float = 1.0) -> float:
        return impressions * base * factor * lognormal_unit(r, RATE_SIGMA)

    has_media = features.media_kind != "none"
    return PostForecast(
        platform=p,
        audience=audience,
        factors=factors,
        impressions=impressions,
        likes=rate(LIKE_RATE[p], MEDIA_LIKES if has_media else 1.0),
        comments=rate(COMMENT_RATE[p], QUESTION_COMMENTS if features.has_question else 1.0),
        shares=rate(SHARE_RATE[p], MEDIA_SHARES if has_media else 1.0),
        saves=rate(SAVE_RATE[p], CAROUSEL_SAVES if features.media_kind == "carousel" else 1.0),
        clicks=rate(CLICK_RATE[p] if features.has_link else PROFILE_CLICK_RATE),
        follows=rate(FOLLOW_RATE[p]),
    )


def saturation(platform: str, age: timedelta) -> float:
    """Share of a post's lifetime counters it has at `age` (0 at birth, rising towards 1)."""
    hours = age.total_seconds() / 3600
    if hours <= 0:
        return 0.0
    tau_fast, tau_slow, w = SATURATION[_platform(platform)]
    return w * (1 - math.exp(-hours / tau_fast)) + (1 - w) * (1 - math.exp(-hours / tau_slow))


def age_for_fraction(platform: str, fraction: float) -> timedelta:
    """The age at which a post reaches `fraction` (0..1) of its lifetime counters."""
    if fraction <= 0:
        return timedelta(0)
    lo, hi = 0.0, 1.0
    while saturation(platform, timedelta(hours=hi)) < fraction:
        hi *= 2
        if hi > 1e7:
            return timedelta(hours=hi)
    for _ in range(50):
        mid = (lo + hi) / 2
        if saturation(platform, timedelta(hours=mid)) < fraction:
            lo = mid
        else:
            hi = mid
    return timedelta(hours=hi)


def counts_at(outcome: PostForecast, age: timedelta) -> PostCounts:
    """Integer counters of a post at `age` (monotone in age)."""
    f = saturation(outcome.platform, age)
    return PostCounts(
        impressions=round(outcome.impressions * f),
        likes=round(outcome.likes * f),
        comments=round(outcome.comments * f),
        shares=round(outcome.shares * f),
        saves=round(outcome.saves * f),
        clicks=round(outcome.clicks * f),
        follows=round(outcome.follows * f),
    )

"""Authenticity signals and the engagement expectation they are measured against.

Every signal reports its measured value, the threshold and the direction that raises it, so a
marketer sees "comments per like 0.002, flagged below 0.01", never a bare boolean.
"""

from __future__ import annotations

import itertools
import math
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

WIRE = ConfigDict(alias_generator=to_camel, populate_by_name=True)
"""Results are camelCase on the wire (the API returns them as they are) and built by field name."""

# Expected engagement per post (engagements / followers) by follower count.
#
# Size curve: Markerly's 2016 study of about 800,000 Instagram accounts (widely reproduced, e.g. by
# Digiday, "Micro-influencers are more effective with marketing campaigns", 2016) found like rates of
# about 8% under 1k followers, 4% for 1k-10k, 2.4% for 10k-100k and 1.7% for 1M-10M. The anchors
# below sit at the geometric middle of each band; between them the curve is interpolated linearly in
# log(followers), and it is flat beyond the ends.
_SIZE_CURVE: tuple[tuple[float, float], ...] = (
    (500.0, 0.080),
    (3_162.0, 0.040),
    (31_623.0, 0.024),
    (3_162_278.0, 0.017),
)
# Platform scale: the curve is Instagram's. Other platforms engage at a different base rate; the
# factors are the median engagement rate per post relative to Instagram's in Rival IQ's 2024 Social
# Media Industry Benchmark Report (Instagram 0.43%, Facebook 0.063%, X 0.029%, TikTok 2.50%).
# Platforms without a benchmark use Instagram's rate.
_PLATFORM_FACTOR: dict[str, float] = {
    "instagram": 1.0,
    "facebook": 0.063 / 0.43,
    "x": 0.029 / 0.43,
    "twitter": 0.029 / 0.43,
    "tiktok": 2.50 / 0.43,
}
_MAX_EXPECTED = 0.25
"""No platform's expectation goes above a quarter of followers engaging with every post."""


def expected_engagement_rate(followers: int, platform: str) -> float:
    """What an account of this size typically gets per post on `platform` (engagements / followers)."""
    x = math.log10(max(followers, 1))
    anchors = [(math.log10(f), rate) for f, rate in _SIZE_CURVE]
    if x <= anchors[0][0]:
        base = anchors[0][1]
    elif x >= anchors[-1][0]:
        base = anchors[-1][1]
    else:
        base = anchors[-1][1]
        for (x0, r0), (x1, r1) in itertools.pairwise(anchors):
            if x0 <= x <= x1:
                base = r0 + (r1 - r0) * (x - x0) / (x1 - x0)
                break
    return min(_MAX_EXPECTED, base * _PLATFORM_FACTOR.get(platform, 1.0))


Direction = Literal["below", "above"]


class Signal(BaseModel):
    """One authenticity check: its value, the threshold, and whether it was measurable at all."""

    model_config = WIRE

    name: str
    measured: bool
    flagged: bool
    value: float | None
    threshold: float
    flagged_when: Direction
    """The signal is raised when the value is below (or above) the threshold."""
    penalty: float
    """Share of the score taken away when flagged."""
    sample: int
    """How many posts, observations or comments it was measured on."""
    detail: str


@dataclass(frozen=True, kw_only=True)
class PostSample:
    """One post of an author (a mention of the brand, or a post from their profile)."""

    text: str
    created_at: datetime
    followers: int
    """The author's followers when the post was seen."""
    engagements: int
    likes: int | None = None
    comments: int | None = None
    """Likes and comments separately, when the source gives them (stored mentions only keep the sum)."""


# Thresholds and penalties. A flagged signal multiplies the score by (1 - penalty).
LOW_ENGAGEMENT_RATIO = 0.2
"""Flag when the median engagement rate is under a fifth of the size-conditioned expectation."""
LOW_ENGAGEMENT_MIN_POSTS = 3
"""One quiet post says nothing; the median of three starts to."""
FOLLOWER_JUMP = 0.25
"""Flag a gain of more than 25% between two observations at most 30 days apart (bought followers
arrive in steps; organic growth of an established account is a few percent a month)."""
FOLLOWER_JUMP_WINDOW = timedelta(days=30)
FOLLOWER_JUMP_MIN_BASE = 100
"""Below this, a few follows are a big percentage and mean nothing."""
BURST_SHARE = 0.5
"""Flag when one post carries more than half the engagement of at least BURST_MIN_POSTS posts."""
BURST_MIN_POSTS = 5
COMMENT_LIKE_RATIO = 0.01
"""Flag fewer than 1 comment per 100 likes (organic posts typically get several per 100)."""
COMMENT_RATIO_MIN_LIKES = 50
DUPLICATE_COMMENT_SHARE = 0.3
"""Flag when more than 30% of comments are near-copies of another comment (pods, bots)."""
DUPLICATE_MIN_COMMENTS = 10
DUPLICATE_JACCARD = 0.8

_PENALTY = {
    "low_engagement_for_size": 0.35,
    "follower_jump": 0.3,
    "engagement_concentration": 0.2,
    "low_comment_to_like_ratio": 0.25,
    "duplicate_comments": 0.3,
}


def _signal(
    name: str,
    *,
    value: float | None,
    threshold: float,
    when: Direction,
    sample: int,
    detail: str,
) -> Signal:
    measured = value is not None
    flagged = measured and ((value < threshold) if when == "below" else (value > threshold))  # type: ignore[operator]
    return Signal(
        name=name,
        measured=measured,
        flagged=bool(flagged),
        value=round(value, 5) if value is not None else None,
        threshold=threshold,
        flagged_when=when,
        penalty=_PENALTY[name],
        sample=sample,
        detail=detail,
    )


def engagement_rates(posts: Sequence[PostSample]) -> list[float]:
    """Engagements / followers of each post whose author had followers when it was seen."""
    return [p.engagements / p.followers for p in posts if p.followers > 0]


def low_engagement(posts: Sequence[PostSample], *, followers: int, platform: str) -> Signal:
    """Median engagement rate against what accounts of this size get on this platform."""
    rates = engagement_rates(posts)
    expected = expected_engagement_rate(followers, platform)
    if len(rates) < LOW_ENGAGEMENT_MIN_POSTS:
        return _signal(
            "low_engagement_for_size",
            value=None,
            threshold=LOW_ENGAGEMENT_RATIO,
            when="below",
            sample=len(rates),
            detail=f"needs at least {LOW_ENGAGEMENT_MIN_POSTS} posts with a known follower count, "
            f"has {len(rates)}",
        )
    median = statistics.median(rates)
    ratio = median / expected
    return _signal(
        "low_engagement_for_size",
        value=ratio,
        threshold=LOW_ENGAGEMENT_RATIO,
        when="below",
        sample=len(rates),
        detail=f"median engagement rate {median:.4%} vs {expected:.4%} expected for "
        f"{followers:,} followers on {platform} (ratio {ratio:.2f})",
    )


def follower_jump(observations: Sequence[tuple[datetime, int]]) -> Signal:
    """Largest relative follower gain between consecutive observations close enough in time."""
    seen = sorted(observations)
    best: tuple[float, tuple[datetime, int], tuple[datetime, int]] | None = None
    pairs = 0
    for before, after in itertools.pairwise(seen):
        if before[1] < FOLLOWER_JUMP_MIN_BASE or after[0] - before[0] > FOLLOWER_JUMP_WINDOW:
            continue
        if after[0] == before[0] and after[1] == before[1]:
            continue
        pairs += 1
        gain = (after[1] - before[1]) / before[1]
        if best is None or gain > best[0]:
            best = (gain, before, after)
    if best is None:
        return _signal(
            "follower_jump",
            value=None,
            threshold=FOLLOWER_JUMP,
            when="above",
            sample=0,
            detail="fewer than two follower observations within 30 days",
        )
    gain, (t0, f0), (t1, f1) = best
    return _signal(
        "follower_jump",
        value=gain,
        threshold=FOLLOWER_JUMP,
        when="above",
        sample=pairs,
        detail=f"followers {f0:,} -> {f1:,} ({gain:+.0%}) between {t0.date().isoformat()} "
        f"and {t1.date().isoformat()}",
    )


def engagement_concentration(posts: Sequence[PostSample]) -> Signal:
    """Share of all engagement carried by the single best post."""
    total = sum(p.engagements for p in posts)
    if len(posts) < BURST_MIN_POSTS or total <= 0:
        return _signal(
            "engagement_concentration",
            value=None,
            threshold=BURST_SHARE,
            when="above",
            sample=len(posts),
            detail=f"needs at least {BURST_MIN_POSTS} posts with engagement, has {len(posts)}",
        )
    top = max(posts, key=lambda p: p.engagements)
    share = top.engagements / total
    return _signal(
        "engagement_concentration",
        value=share,
        threshold=BURST_SHARE,
        when="above",
        sample=len(posts),
        detail=f"the best of {len(posts)} posts ({top.created_at.date().isoformat()}) has "
        f"{share:.0%} of all {total:,} engagements",
    )


def comment_to_like_ratio(posts: Sequence[PostSample]) -> Signal:
    """Comments per like over the posts whose likes and comments are known separately."""
    known = [p for p in posts if p.likes is not None and p.comments is not None]
    likes = sum(p.likes or 0 for p in known)
    comments = sum(p.comments or 0 for p in known)
    if likes < COMMENT_RATIO_MIN_LIKES:
        return _signal(
            "low_comment_to_like_ratio",
            value=None,
            threshold=COMMENT_LIKE_RATIO,
            when="below",
            sample=len(known),
            detail=f"needs likes and comments per post (at least {COMMENT_RATIO_MIN_LIKES} likes), "
            f"has {likes:,} likes on {len(known)} posts",
        )
    ratio = comments / likes
    return _signal(
        "low_comment_to_like_ratio",
        value=ratio,
        threshold=COMMENT_LIKE_RATIO,
        when="below",
        sample=len(known),
        detail=f"{comments:,} comments for {likes:,} likes on {len(known)} posts",
    )


_WORD = re.compile(r"[a-z0-9\u00c0-\uffff']+")


def _words(text: str) -> frozenset[str]:
    return frozenset(_WORD.findall(text.lower()))


def duplicate_comments(comments: Sequence[str]) -> Signal:
    """Share of comments that are a near-copy (same words, Jaccard >= 0.8) of another comment."""
    if len(comments) < DUPLICATE_MIN_COMMENTS:
        return _signal(
            "duplicate_comments",
            value=None,
            threshold=DUPLICATE_COMMENT_SHARE,
            when="above",
            sample=len(comments),
            detail=f"needs at least {DUPLICATE_MIN_COMMENTS} comment texts, has {len(comments)}",
        )
    sets = [_words(c) for c in comments]
    copies = 0
    for i, words in enumerate(sets):
        for j, other in enumerate(sets):
            if i == j or not words or not other:
                continue
            if len(words & other) / len(words | other) >= DUPLICATE_JACCARD:
                copies += 1
                break
    share = copies / len(comments)
    return _signal(
        "duplicate_comments",
        value=share,
        threshold=DUPLICATE_COMMENT_SHARE,
        when="above",
        sample=len(comments),
        detail=f"{copies} of {len(comments)} comments are near-copies of another",
    )


def authenticity_factor(signals: Sequence[Signal]) -> float:
    """The multiplier flagged signals leave on the score (1.0 when none is flagged)."""
    factor = 1.0
    for s in signals:
        if s.flagged:
            factor *= 1.0 - s.penalty
    return factor

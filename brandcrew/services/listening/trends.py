"""Trending topics and hashtags: growth against each topic's own baseline, not raw volume.

A topic trends when it is "talked about more right now than it was previously": its count in the
current window is compared with its average count per window-length over the baseline period, as a
smoothed ratio ``(now + alpha) / (expected + alpha)`` (so a brand-new hashtag needs real volume, not
one mention) and a Poisson z-score. Floors on the count and on unique authors keep one spammer from
making a trend. Related topics are the ones that co-occur most with the trend in the current window.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

__all__ = ["Trend", "TrendConfig", "TrendTracker", "extract_topics", "find_trends"]

_STOPWORDS_TEXT = """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most my
    myself no nor not now of off on once only or other our ours ourselves out over own same she should so
    some such than that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would you your yours
    yourself yourselves rt amp via im dont cant wont get got gets like one new today day just lol u ur"""
_STOPWORDS = frozenset(_STOPWORDS_TEXT.split())
_HASHTAG = re.compile(r"(?<![\w#])#(\w{2,})", re.UNICODE)
_URL = re.compile(r"https?://\S+")
_HANDLE = re.compile(r"(?<!\w)@\w+")
_WORD = re.compile(r"[^\W\d_][\w']{2,}", re.UNICODE)


def extract_topics(text: str, *, terms: bool = True) -> set[str]:
    """Hashtags (`#tag`, lower-cased) and, with `terms`, content words of a text."""
    topics = {"#" + m.group(1).casefold() for m in _HASHTAG.finditer(text)}
    if terms:
        cleaned = _HANDLE.sub(" ", _URL.sub(" ", _HASHTAG.sub(" ", text)))
        for m in _WORD.finditer(cleaned):
            word = m.group(0).casefold().strip("'")
            if len(word) >= 3 and word not in _STOPWORDS:
                topics.add(word)
    return topics


@dataclass(frozen=True, kw_only=True)
class TrendConfig:
    """How trends are found."""

    window: timedelta = timedelta(hours=1)
    """The "now" window."""
    baseline: timedelta = timedelta(days=7)
    """The period before the window that sets each topic's expected count."""
    min_count: int = 10
    min_unique_authors: int = 5
    min_growth: float = 2.0
    """Smoothed ratio of now to expected needed to trend."""
    min_z: float = 3.0
    alpha: float = 5.0
    """Smoothing added to both sides of the ratio."""
    kinds: frozenset[Literal["hashtag", "term"]] = frozenset({"hashtag", "term"})
    related_limit: int = 5


@dataclass(frozen=True, kw_only=True)
class Trend:
    """A topic that grows against its own baseline."""

    topic: str
    kind: Literal["hashtag", "term"]
    count: int
    expected: float
    growth: float
    z: float
    unique_authors: int
    related: list[str] = field(default_factory=list)

    @property
    def reason(self) -> str:
        """Why it trends, in one line."""
        return (
            f"{self.topic}: {self.count} mentions by {self.unique_authors} authors vs {self.expected:.1f} "
            f"expected (x{self.growth:.1f}, z {self.z:.1f})"
        )


@dataclass(frozen=True)
class _Item:
    at: datetime
    author: str
    topics: frozenset[str]


def _kind(topic: str) -> Literal["hashtag", "term"]:
    return "hashtag" if topic.startswith("#") else "term"


def _rank(
    current: Sequence[_Item], baseline_counts: Counter[str], baseline_windows: float, config: TrendConfig
) -> list[Trend]:
    counts: Counter[str] = Counter()
    authors: dict[str, set[str]] = defaultdict(set)
    for item in current:
        for topic in item.topics:
            if _kind(topic) in config.kinds:
                counts[topic] += 1
                authors[topic].add(item.author)
    found: list[Trend] = []
    for topic, count in counts.items():
        if count < config.min_count or len(authors[topic]) < config.min_unique_authors:
            continue
        expected = baseline_counts.get(topic, 0) / baseline_windows if baseline_windows > 0 else 0.0
        growth = (count + config.alpha) / (expected + config.alpha)
        z = (count - expected) / math.sqrt(expected + 1.0)
        if growth < config.min_growth or z < config.min_z:
            continue
        found.append(
            Trend(
                topic=topic,
                kind=_kind(topic),
                count=count,
                expected=expected,
                growth=growth,
                z=z,
                unique_authors=len(authors[topic]),
            )
        )
    found.sort(key=lambda t: (t.growth, t.z, t.count), reverse=True)
    return [_with_related(t, current, counts, config) for t in found]


def _with_related(trend: Trend, current: Sequence[_Item], counts: Counter[str], config: TrendConfig) -> Trend:
    together: Counter[str] = Counter()
    for item in current:
        if trend.topic in item.topics:
            together.update(t for t in item.topics if t != trend.topic)
    # Rank by how much of the trend's conversation they share, then by their own specificity.
    ranked = sorted(
        (t for t, n in together.items() if n >= 2),
        key=lambda t: (together[t] / trend.count, together[t] / counts[t]),
        reverse=True,
    )
    return Trend(**{**trend.__dict__, "related": ranked[: config.related_limit]})


def find_trends(
    mentions: Iterable[tuple[datetime, str, str]], *, now: datetime, config: TrendConfig | None = None
) -> list[Trend]:
    """Trends among `(created_at, author, text)` mentions at time `now`, strongest growth first."""
    tracker = TrendTracker(config)
    for at, author, text in mentions:
        tracker.add(at=at, author=author, text=text)
    return tracker.trends(now=now)


class TrendTracker:
    """Keeps the recent mentions needed to rank trends at any moment."""

    def __init__(self, config: TrendConfig | None = None) -> None:
        """Start empty."""
        self.config = config or TrendConfig()
        self._items: list[_Item] = []

    def add(self, *, at: datetime, author: str, text: str) -> None:
        """Record one mention."""
        terms = "term" in self.config.kinds
        self._items.append(_Item(at=at, author=author, topics=frozenset(extract_topics(text, terms=terms))))

    def prune(self, now: datetime) -> None:
        """Forget mentions older than the baseline period."""
        oldest = now - self.config.window - self.config.baseline
        self._items = [i for i in self._items if i.at >= oldest]

    def trends(self, *, now: datetime) -> list[Trend]:
        """The topics trending in the window ending at `now`."""
        cfg = self.config
        start = now - cfg.window
        base_start = start - cfg.baseline
        current = [i for i in self._items if start <= i.at < now]
        baseline_counts: Counter[str] = Counter()
        first_seen = min((i.at for i in self._items), default=start)
        for item in self._items:
            if base_start <= item.at < start:
                baseline_counts.update(item.topics)
        # Expected count per window = baseline count / number of windows the baseline really covers.
        covered = max(timedelta(0), start - max(base_start, first_seen))
        baseline_windows = covered / cfg.window
        return _rank(current, baseline_counts, baseline_windows, cfg)

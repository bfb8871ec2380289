"""Crisis detection over 5-minute buckets: volume spikes, sentiment drops and influential authors.

The detector is online: feed it one `BucketStats` per query per bucket (oldest first) and it returns
the alerts that bucket raised. Every alert says why it fired (observed value, baseline, threshold).

Rules, each configurable per query through `CrisisConfig`:

- **volume spike**: the mention count is smoothed (moving averages over 15 min and 1 h) and measured
  on the log scale against what is normal *for this time of day*: the median of the smoothed counts in
  the same half-hour slot on each of the previous 7 days, with the robust spread (1.4826 x MAD) of the
  last week's log residuals. Until two days of history exist it falls back to a trailing baseline
  (median and MAD of the log counts over the previous `baseline_hours`). A baseline always ends before
  the current averaging window, so a spike never raises its own baseline. It fires when the smoothed
  count is `spike_sigmas` robust sigmas above the expectation **and** at least `min_increase` mentions
  per bucket above it **and** at least `min_ratio` times it, so a near-silent series does not page on
  a handful of mentions.
- **sentiment drop**: the negative share over the last `sentiment_window_buckets` against the
  negative share of the trailing baseline, with a minimum volume, a minimum absolute rise and a
  binomial z-test.
- **influential authors**: negative mentions from authors with at least `influencer_followers`. The
  rule is kept per query, not per author: one alert names every such author of its bucket (most
  followed first, with their mention counts), and the ones who follow within the cooldown join it
  (the poller extends the stored alert's details) instead of raising an alert each.

An alert is edge-triggered (it fires when its condition becomes true, not in every bucket while it
stays true) and then waits `cooldown_minutes` before the same rule may fire again for the query. When a
volume spike and a sentiment drop hold in the same bucket, one `crisis` alert is raised instead.

How the defaults were chosen: the thresholds were fixed from first principles before any scoring —
5 robust sigmas (rare on 5-minute data even with heavy tails), the "2x the baseline" rule of thumb
that Wizikey and ThirdEye document, a floor of +10 mentions per 5 minutes, one alert per incident
(edge trigger and a 6-hour cooldown). The baseline design (log scale, seasonal, one week) replaced a
linear one-day trailing baseline after the development series showed daily cycles and heavy tails;
`evals/crisis.py` records each step's score and a sanity check of neighbouring thresholds. No
threshold was searched to maximise the score.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

import numpy as np

__all__ = [
    "AlertKind",
    "AuthorSignal",
    "BucketStats",
    "CrisisAlert",
    "CrisisConfig",
    "CrisisDetector",
    "CrisisMonitor",
    "InfluentialAuthor",
    "MentionBucketer",
    "detect_series",
    "influencer_alert_text",
    "influential_authors",
]

AlertKind = Literal["volume_spike", "sentiment_drop", "influencer", "crisis"]

_MAD_TO_SIGMA = 1.4826
_SPREAD_REFRESH = 12


@dataclass(frozen=True, kw_only=True)
class CrisisConfig:
    """Thresholds, windows and cooldowns of the crisis detector for one query."""

    bucket_minutes: int = 5
    smoothing_buckets: tuple[int, ...] = (3, 12)
    """Moving-average lengths of the smoothed counts, one time scale each: 3 x 5 min = 15 min catches
    a burst, 12 x 5 min = 1 h a sustained rise. A spike at any scale fires."""
    baseline_hours: float = 168.0
    """Trailing window for the spread of the residuals, the trailing fallback and the sentiment baseline."""
    min_history_hours: float = 6.0
    """No volume or sentiment alert before this much history has been seen."""
    baseline: Literal["seasonal", "trailing"] = "seasonal"
    """`seasonal`: expect what this time of day looked like on previous days (median over
    `seasonal_days`, a `seasonal_slot_minutes` slot), and measure the spread on the log residuals of
    the trailing baseline; falls back to `trailing` until two days of history exist. `trailing`: the
    median and MAD of the smoothed counts over the trailing `baseline_hours`."""
    seasonal_days: int = 7
    seasonal_slot_minutes: int = 30
    scale: Literal["log", "linear"] = "log"
    """Scale of the robust z-score. Mention counts are bursty and multiplicative, so the default
    measures the spike on log(1 + count): a jump from 10 to 40 and one from 100 to 400 look alike."""
    spike_sigmas: float = 5.0
    min_increase: float = 10.0
    """Smoothed mentions per bucket above the baseline median needed for a spike."""
    min_ratio: float = 2.0
    """Smoothed count must be at least this multiple of the baseline median."""
    sigma_floor: float = 0.1
    """Smallest robust sigma, in the units of `scale` (0.1 on the log scale = a 10% change)."""
    sentiment_window_buckets: int = 12
    """Window (12 x 5 min = 1 h) over which the current negative share is measured."""
    min_sentiment_volume: int = 20
    """Mentions needed in that window before a sentiment drop can fire."""
    negative_share_rise: float = 0.15
    """Absolute rise of the negative share over its baseline needed for a drop."""
    sentiment_z: float = 3.0
    influencer_followers: int = 100_000
    influencer_max_score: float = -0.3
    """Sentiment score at or below which an influencer's mention counts as negative."""
    cooldown_minutes: float = 360.0
    enabled: frozenset[str] = frozenset({"volume_spike", "sentiment_drop", "influencer", "crisis"})

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> CrisisConfig:
        """Build a config from a query's stored `alert_config` dict, ignoring unknown keys."""
        known = set(cls.__dataclass_fields__)
        kwargs = {k: v for k, v in values.items() if k in known}
        if "enabled" in kwargs:
            kwargs["enabled"] = frozenset(kwargs["enabled"])
        if "smoothing_buckets" in kwargs:
            kwargs["smoothing_buckets"] = tuple(kwargs["smoothing_buckets"])
        return cls(**kwargs)

    @property
    def baseline_buckets(self) -> int:
        """The trailing baseline's length in buckets."""
        return max(1, round(self.baseline_hours * 60 / self.bucket_minutes))

    @property
    def min_history_buckets(self) -> int:
        """The warm-up length in buckets."""
        return max(1, round(self.min_history_hours * 60 / self.bucket_minutes))


@dataclass(frozen=True, kw_only=True)
class AuthorSignal:
    """One author's mention inside a bucket, for the influential-author rule."""

    author: str
    followers: int
    sentiment_score: float
    text: str = ""


@dataclass(kw_only=True)
class BucketStats:
    """What one query saw during one bucket."""

    start: datetime
    mentions: int
    negative: int = 0
    unique_authors: int = 0
    influencers: list[AuthorSignal] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class CrisisAlert:
    """An alert and the evidence behind it."""

    kind: AlertKind
    at: datetime
    """Start of the bucket that raised the alert."""
    query_id: str
    severity: Literal["low", "medium", "high"]
    reason: str
    details: dict[str, float | int | str] = field(default_factory=dict)


@dataclass
class _VolumeCheck:
    fired: bool
    buckets: int
    smoothed: float
    median: float
    sigma: float
    z: float
    basis: str


class _Scale:
    """The moving average of one time scale, its history and its seasonal residuals."""

    def __init__(self, buckets: int, config: CrisisConfig) -> None:
        self.buckets = buckets
        self.baseline_buckets = config.baseline_buckets
        self.period = max(1, round(24 * 60 / config.bucket_minutes))
        self.seasonal_days = config.seasonal_days
        self.slot_halfwidth = max(0, round(config.seasonal_slot_minutes / 2 / config.bucket_minutes))
        self.keep = self.baseline_buckets + buckets + self.period * self.seasonal_days + self.slot_halfwidth
        self.recent: deque[float] = deque(maxlen=buckets)
        self.total = 0.0
        self.values: list[float] = []
        """Smoothed values, oldest first, the current one last."""
        self.residuals: list[float] = []
        """Log residuals against the seasonal expectation, one per bucket that had one."""
        self._spread: float | None = None
        self._since_spread = 0

    def push(self, count: float) -> float:
        if len(self.recent) == self.recent.maxlen:
            self.total -= self.recent[0]
        self.recent.append(count)
        self.total += count
        smoothed = self.total / len(self.recent)
        self.values.append(smoothed)
        if len(self.values) > 2 * self.keep:
            del self.values[: -self.keep]
        return smoothed

    def trailing(self) -> np.ndarray:
        """Smoothed values of the trailing baseline, ending before the current averaging window."""
        history = self.values[: -self.buckets]
        return np.asarray(history[-self.baseline_buckets :], dtype=float)

    def seasonal_expected(self) -> float | None:
        """Median of the smoothed values at this time of day on previous days, if two days are known."""
        n = len(self.values)
        samples: list[float] = []
        days = 0
        for d in range(1, self.seasonal_days + 1):
            centre = d * self.period
            if centre + self.slot_halfwidth >= n:
                break
            days += 1
            samples.extend(
                self.values[n - 1 - centre - j] for j in range(-self.slot_halfwidth, self.slot_halfwidth + 1)
            )
        return float(statistics.median(samples)) if days >= 2 else None

    def record_residual(self, residual: float) -> None:
        self.residuals.append(residual)
        if len(self.residuals) > 2 * self.keep:
            del self.residuals[: -self.keep]

    def residual_sigma(self) -> float | None:
        """Robust spread (1.4826 x MAD) of past residuals, before the current averaging window.

        A week's spread barely moves in an hour, so it is recomputed every `_SPREAD_REFRESH` buckets.
        """
        self._since_spread += 1
        if self._spread is None or self._since_spread >= _SPREAD_REFRESH:
            past = self.residuals[: -self.buckets][-self.baseline_buckets :]
            if len(past) < self.period:
                return None
            arr = np.asarray(past, dtype=float)
            self._spread = _MAD_TO_SIGMA * float(np.median(np.abs(arr - np.median(arr))))
            self._since_spread = 0
        return self._spread


class _CountWindow:
    """Mention and negative counts over the last `size` buckets, with running totals."""

    def __init__(self, size: int) -> None:
        self.items: deque[tuple[int, int]] = deque()
        self.size = size
        self.mentions = 0
        self.negative = 0

    def push(self, mentions: int, negative: int) -> tuple[int, int] | None:
        """Add a bucket; return the bucket that fell out of the window, if any."""
        self.items.append((mentions, negative))
        self.mentions += mentions
        self.negative += negative
        if len(self.items) > self.size:
            old = self.items.popleft()
            self.mentions -= old[0]
            self.negative -= old[1]
            return old
        return None


class CrisisDetector:
    """Online crisis detector for one query: call `observe` once per bucket, oldest first."""

    def __init__(self, config: CrisisConfig | None = None, *, query_id: str = "default") -> None:
        """Start with an empty history."""
        self.config = config or CrisisConfig()
        self.query_id = query_id
        cfg = self.config
        self._scales = [_Scale(b, cfg) for b in cfg.smoothing_buckets]
        self._sent_recent = _CountWindow(cfg.sentiment_window_buckets)
        self._sent_baseline = _CountWindow(cfg.baseline_buckets)
        self._seen = 0
        self._last_start: datetime | None = None
        self._was_active: dict[str, bool] = {}
        self._last_fired: dict[str, datetime] = {}

    @property
    def buckets_seen(self) -> int:
        """How many buckets (including filled gaps) the detector has observed."""
        return self._seen

    def observe(self, bucket: BucketStats) -> list[CrisisAlert]:
        """Add one bucket; return the alerts it raised (empty most of the time)."""
        step = timedelta(minutes=self.config.bucket_minutes)
        if self._last_start is not None:
            gap = bucket.start - self._last_start
            if gap < step:
                raise ValueError(f"buckets must be at least {step} apart and in order; got {bucket.start}")
            # Empty buckets the caller skipped count as zero mentions.
            missing = min(int(gap / step) - 1, self.config.baseline_buckets)
            for k in range(missing):
                self._advance(BucketStats(start=self._last_start + step * (k + 1), mentions=0))
        self._last_start = bucket.start
        return self._advance(bucket)

    def observe_many(self, buckets: Iterable[BucketStats]) -> list[CrisisAlert]:
        """Observe buckets in order and return every alert raised."""
        alerts: list[CrisisAlert] = []
        for bucket in buckets:
            alerts.extend(self.observe(bucket))
        return alerts

    # -- machinery -------------------------------------------------------------------------------

    def _advance(self, bucket: BucketStats) -> list[CrisisAlert]:
        cfg = self.config
        self._seen += 1
        smoothed = [scale.push(float(bucket.mentions)) for scale in self._scales]
        leaving = self._sent_recent.push(bucket.mentions, bucket.negative)
        warm = self._seen > cfg.min_history_buckets

        alerts: list[CrisisAlert] = []
        volume = self._check_volumes(smoothed) if warm else None
        sentiment = self._check_sentiment() if warm else None
        spike = volume is not None and volume.fired
        drop = sentiment is not None and sentiment[0]
        if spike and drop and "crisis" in cfg.enabled:
            assert volume is not None and sentiment is not None
            alert = self._fire(
                "crisis",
                bucket.start,
                active=True,
                severity="high",
                reason=f"{self._volume_reason(volume)}; and {sentiment[1]}",
                details={**self._volume_details(volume), **sentiment[2]},
            )
            if alert:
                alerts.append(alert)
            # A crisis covers both rules: they share its edge and cooldown.
            self._was_active["volume_spike"] = self._was_active["sentiment_drop"] = True
        else:
            if volume is not None and "volume_spike" in cfg.enabled:
                alert = self._fire(
                    "volume_spike",
                    bucket.start,
                    active=volume.fired,
                    severity="medium",
                    reason=self._volume_reason(volume),
                    details=self._volume_details(volume),
                )
                if alert:
                    alerts.append(alert)
            if sentiment is not None and "sentiment_drop" in cfg.enabled:
                alert = self._fire(
                    "sentiment_drop",
                    bucket.start,
                    active=sentiment[0],
                    severity="medium",
                    reason=sentiment[1],
                    details=sentiment[2],
                )
                if alert:
                    alerts.append(alert)
            self._was_active["crisis"] = False
        if "influencer" in cfg.enabled:
            alerts.extend(self._check_influencers(bucket))

        # Sentiment counts join the baseline only once they have left the current window.
        if leaving is not None:
            self._sent_baseline.push(*leaving)
        return alerts

    def _check_volumes(self, smoothed: Sequence[float]) -> _VolumeCheck | None:
        """The strongest spike over all time scales (or the strongest non-spike when none fires)."""
        checks = [
            self._check_volume(scale, value) for scale, value in zip(self._scales, smoothed, strict=True)
        ]
        found = [c for c in checks if c is not None]
        if not found:
            return None
        return max(found, key=lambda c: (c.fired, c.z))

    def _check_volume(self, scale: _Scale, smoothed: float) -> _VolumeCheck | None:
        cfg = self.config
        expected = scale.seasonal_expected() if cfg.baseline == "seasonal" else None
        if expected is not None:
            residual = math.log1p(smoothed) - math.log1p(expected)
            spread = scale.residual_sigma()
            scale.record_residual(residual)
            if spread is not None:
                sigma = max(spread, cfg.sigma_floor)
                return self._judge(scale, smoothed, expected, sigma, residual / sigma, "seasonal")
        base = scale.trailing()
        if base.size == 0:
            return None
        median = float(np.median(base))
        if cfg.scale == "log":
            logs = np.log1p(base)
            center = float(np.median(logs))
            mad = float(np.median(np.abs(logs - center)))
            value = math.log1p(smoothed)
        else:
            center, mad, value = median, float(np.median(np.abs(base - median))), smoothed
        sigma = max(_MAD_TO_SIGMA * mad, cfg.sigma_floor)
        return self._judge(scale, smoothed, median, sigma, (value - center) / sigma, "trailing")

    def _judge(
        self, scale: _Scale, smoothed: float, expected: float, sigma: float, z: float, basis: str
    ) -> _VolumeCheck:
        cfg = self.config
        fired = (
            z >= cfg.spike_sigmas
            and smoothed - expected >= cfg.min_increase
            and smoothed >= cfg.min_ratio * expected
        )
        return _VolumeCheck(
            fired=fired,
            buckets=scale.buckets,
            smoothed=smoothed,
            median=expected,
            sigma=sigma,
            z=z,
            basis=basis,
        )

    def _basis_text(self, v: _VolumeCheck) -> str:
        cfg = self.config
        if v.basis == "seasonal":
            return f"the same time of day over the last {cfg.seasonal_days} days"
        return f"the median of the last {cfg.baseline_hours:g} h ({cfg.scale} scale)"

    def _volume_reason(self, v: _VolumeCheck) -> str:
        cfg = self.config
        ratio = v.smoothed / v.median if v.median > 0 else math.inf
        return (
            f"volume spike: {v.smoothed:.1f} mentions per {cfg.bucket_minutes} min "
            f"(averaged over {v.buckets * cfg.bucket_minutes} min) vs {self._basis_text(v)} "
            f"of {v.median:.1f}; {v.z:.1f} robust sigmas (threshold {cfg.spike_sigmas:g}), "
            f"x{ratio:.1f} (threshold x{cfg.min_ratio:g}), +{v.smoothed - v.median:.1f} "
            f"(threshold +{cfg.min_increase:g})"
        )

    def _volume_details(self, v: _VolumeCheck) -> dict[str, float | int | str]:
        return {
            "window_minutes": v.buckets * self.config.bucket_minutes,
            "basis": v.basis,
            "smoothed": round(v.smoothed, 3),
            "baseline_median": round(v.median, 3),
            "baseline_sigma": round(v.sigma, 3),
            "z": round(v.z, 3),
        }

    def _check_sentiment(self) -> tuple[bool, str, dict[str, float | int | str]] | None:
        cfg = self.config
        total, negative = self._sent_recent.mentions, self._sent_recent.negative
        base_total, base_negative = self._sent_baseline.mentions, self._sent_baseline.negative
        if total == 0 or base_total == 0:
            return None
        share = negative / total
        base_share = base_negative / base_total
        # Binomial z of the current share against the baseline share (floored so p=0 still works).
        p = min(max(base_share, 0.02), 0.98)
        z = (share - base_share) / math.sqrt(p * (1 - p) / total)
        fired = (
            total >= cfg.min_sentiment_volume
            and share - base_share >= cfg.negative_share_rise
            and z >= cfg.sentiment_z
        )
        window = cfg.sentiment_window_buckets * cfg.bucket_minutes
        reason = (
            f"sentiment drop: {share:.0%} negative of {total} mentions in the last {window} min vs "
            f"{base_share:.0%} in the {cfg.baseline_hours:g} h baseline (+{share - base_share:.0%}, "
            f"threshold +{cfg.negative_share_rise:.0%}; z {z:.1f}, threshold {cfg.sentiment_z:g}; "
            f"min volume {cfg.min_sentiment_volume})"
        )
        details: dict[str, float | int | str] = {
            "negative_share": round(share, 4),
            "baseline_negative_share": round(base_share, 4),
            "window_mentions": total,
            "sentiment_z": round(z, 3),
        }
        return fired, reason, details

    def _check_influencers(self, bucket: BucketStats) -> list[CrisisAlert]:
        """One alert for the bucket's negative influential authors, once per cooldown for the query."""
        authors = influential_authors(bucket.influencers, self.config)
        if not authors or not self._cooled_down("influencer", bucket.start):
            return []
        self._last_fired["influencer"] = bucket.start
        severity, reason, details = influencer_alert_text(authors, self.config)
        return [
            CrisisAlert(
                kind="influencer",
                at=bucket.start,
                query_id=self.query_id,
                severity=severity,
                reason=reason,
                details=details,
            )
        ]

    def _cooled_down(self, key: str, at: datetime) -> bool:
        last = self._last_fired.get(key)
        return last is None or at - last >= timedelta(minutes=self.config.cooldown_minutes)

    def _fire(
        self,
        kind: AlertKind,
        at: datetime,
        *,
        active: bool,
        severity: Literal["low", "medium", "high"],
        reason: str,
        details: dict[str, float | int | str],
    ) -> CrisisAlert | None:
        was_active = self._was_active.get(kind, False)
        self._was_active[kind] = active
        if not active or was_active or not self._cooled_down(kind, at):
            return None
        self._last_fired[kind] = at
        return CrisisAlert(
            kind=kind, at=at, query_id=self.query_id, severity=severity, reason=reason, details=details
        )


@dataclass(frozen=True, kw_only=True)
class InfluentialAuthor:
    """One author's negative influential mentions, grouped for an influencer alert."""

    author: str
    followers: int
    mentions: int
    sentiment_score: float
    """The lowest score of their mentions."""
    text: str
    """The text of their most negative mention."""


def influential_authors(signals: Iterable[AuthorSignal], config: CrisisConfig) -> list[InfluentialAuthor]:
    """The authors of the negative influential mentions among `signals`, most followed first.

    Ties are broken by mention count, then name, so the order is the same on every rebuild.
    """
    grouped: dict[str, list[AuthorSignal]] = {}
    for signal in signals:
        if (
            signal.followers >= config.influencer_followers
            and signal.sentiment_score <= config.influencer_max_score
        ):
            grouped.setdefault(signal.author, []).append(signal)
    authors = []
    for author, items in grouped.items():
        worst = min(items, key=lambda s: (s.sentiment_score, s.text))
        authors.append(
            InfluentialAuthor(
                author=author,
                followers=max(s.followers for s in items),
                mentions=len(items),
                sentiment_score=worst.sentiment_score,
                text=worst.text,
            )
        )
    return sorted(authors, key=lambda a: (-a.followers, -a.mentions, a.author))


def influencer_alert_text(
    authors: Sequence[InfluentialAuthor], config: CrisisConfig, *, listed: int = 5
) -> tuple[Literal["low", "medium", "high"], str, dict[str, float | int | str]]:
    """Severity, reason and details of one alert about `authors` (most followed first, not empty).

    High when the most followed one has ten times `influencer_followers`; the reason names the first
    `listed` authors with their followers and mention counts.
    """
    top = authors[0]
    mentions = sum(a.mentions for a in authors)
    severity: Literal["low", "medium", "high"] = (
        "high" if top.followers >= 10 * config.influencer_followers else "medium"
    )
    more = f" and {len(authors) - listed} more" if len(authors) > listed else ""
    if len(authors) == 1:
        what = "a negative mention" if top.mentions == 1 else f"{top.mentions} negative mentions"
        score = "score" if top.mentions == 1 else "lowest score"
        reason = (
            f"influential author @{top.author} ({top.followers:,} followers, threshold "
            f"{config.influencer_followers:,}) posted {what} ({score} {top.sentiment_score:+.2f}, "
            f"threshold {config.influencer_max_score:+.2f})"
        )
    else:
        names = ", ".join(
            f"@{a.author} ({a.followers:,} followers"
            + (f", {a.mentions} mentions)" if a.mentions > 1 else ")")
            for a in authors[:listed]
        )
        reason = (
            f"{len(authors)} influential authors posted {mentions} negative mentions: {names}{more} "
            f"(thresholds: {config.influencer_followers:,} followers, score "
            f"{config.influencer_max_score:+.2f})"
        )
    details: dict[str, float | int | str] = {
        "author": top.author,
        "followers": top.followers,
        "sentiment_score": round(top.sentiment_score, 3),
        "text": top.text[:280],
        "influential_authors": len(authors),
        "influential_mentions": mentions,
        "authors": ", ".join(f"@{a.author} x{a.mentions}" for a in authors[:listed]) + more,
    }
    return severity, reason, details


class CrisisMonitor:
    """One detector per listening query, each with its own `CrisisConfig`."""

    def __init__(
        self, configs: Mapping[str, CrisisConfig] | None = None, default: CrisisConfig | None = None
    ) -> None:
        """Use `configs[query_id]` when given, else `default`."""
        self._configs = dict(configs or {})
        self._default = default or CrisisConfig()
        self._detectors: dict[str, CrisisDetector] = {}

    def detector(self, query_id: str) -> CrisisDetector:
        """The detector of a query, created on first use."""
        if query_id not in self._detectors:
            self._detectors[query_id] = CrisisDetector(
                self._configs.get(query_id, self._default), query_id=query_id
            )
        return self._detectors[query_id]

    def configure(self, query_id: str, config: CrisisConfig) -> None:
        """Replace a query's config; its detector restarts with an empty history."""
        self._configs[query_id] = config
        self._detectors.pop(query_id, None)

    def observe(self, query_id: str, bucket: BucketStats) -> list[CrisisAlert]:
        """Feed one bucket of one query."""
        return self.detector(query_id).observe(bucket)


class MentionBucketer:
    """Group a time-ordered stream of scored mentions into `BucketStats` of fixed width."""

    def __init__(self, *, bucket_minutes: int = 5, influencer_followers: int = 100_000) -> None:
        """Buckets are aligned to multiples of `bucket_minutes` since the epoch."""
        self.bucket_minutes = bucket_minutes
        self.influencer_followers = influencer_followers
        self._current: BucketStats | None = None
        self._authors: set[str] = set()

    def _bucket_start(self, at: datetime) -> datetime:
        width = self.bucket_minutes * 60
        ts = at.timestamp()
        return datetime.fromtimestamp(ts - ts % width, tz=at.tzinfo)

    def add(
        self,
        *,
        at: datetime,
        author: str,
        negative: bool,
        sentiment_score: float = 0.0,
        followers: int = 0,
        text: str = "",
    ) -> list[BucketStats]:
        """Add one mention; return the buckets it closed (zero or one)."""
        start = self._bucket_start(at)
        closed: list[BucketStats] = []
        if self._current is not None and start != self._current.start:
            if start < self._current.start:
                raise ValueError("mentions must arrive in time order")
            closed.append(self._close())
        if self._current is None:
            self._current = BucketStats(start=start, mentions=0)
        bucket = self._current
        bucket.mentions += 1
        bucket.negative += int(negative)
        if author not in self._authors:
            self._authors.add(author)
            bucket.unique_authors += 1
        if followers >= self.influencer_followers:
            bucket.influencers.append(
                AuthorSignal(author=author, followers=followers, sentiment_score=sentiment_score, text=text)
            )
        return closed

    def flush(self) -> list[BucketStats]:
        """Close and return the open bucket, if any."""
        return [self._close()] if self._current is not None else []

    def _close(self) -> BucketStats:
        assert self._current is not None
        bucket = replace(self._current)
        self._current = None
        self._authors = set()
        return bucket


def detect_series(
    counts: Sequence[float], starts: Sequence[datetime], config: CrisisConfig | None = None
) -> list[CrisisAlert]:
    """Run a fresh detector over a plain count series (volume only) and return its alerts."""
    detector = CrisisDetector(config)
    alerts: list[CrisisAlert] = []
    for start, count in zip(starts, counts, strict=True):
        alerts.extend(detector.observe(BucketStats(start=start, mentions=round(count))))
    return alerts

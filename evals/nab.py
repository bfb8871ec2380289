"""The Numenta Anomaly Benchmark (NAB) scorer: window-based, earliest detection rewarded.

A re-implementation of NAB 1.x's scoring rules (`nab/sweeper.py`), checked against NAB's own committed
per-file raw scores (`tests/listening/test_nab.py`):

- every record gets a *sweep score*. Inside a labelled window ``[l, r]`` of width ``w = r - l + 1`` the
  record ``i`` scores ``S(-(r - i + 1) / w) * A_tp / S(-1)``, where ``S(x) = 2 * sigmoid(-5x) - 1`` (so the
  window's first record earns exactly ``A_tp`` and the score falls towards 0 at the right edge). Outside a
  window a record scores ``S(d) * A_fp`` with ``d = |r_prev - i| / (w_prev - 1)`` its distance past the
  previous window (``S(d) = -1`` for ``d >= 3`` and before any window), so a late detection just after a
  window costs less than a random one;
- the first 15% of the records (at most 750) are probationary and not scored;
- a window is worth the best (earliest) sweep score among its detections, or ``-A_fn`` when it has none;
  every detection outside the windows adds its (negative) sweep score;
- the normalised score of a corpus is ``100 * (raw - null) / (perfect - null)``, where *null* detects
  nothing and *perfect* detects every record of every window.
"""

from __future__ import annotations

import bisect
import csv
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

__all__ = [
    "PROFILES",
    "CostProfile",
    "FileScore",
    "NabSeries",
    "load_nab_folder",
    "normalized_score",
    "parse_timestamp",
    "perfect_detections",
    "probationary_length",
    "scaled_sigmoid",
    "score_file",
]


@dataclass(frozen=True, kw_only=True)
class CostProfile:
    """The weights of one NAB application profile."""

    tp: float = 1.0
    fp: float = 0.11
    fn: float = 1.0


PROFILES: dict[str, CostProfile] = {
    "standard": CostProfile(tp=1.0, fp=0.11, fn=1.0),
    "reward_low_FP_rate": CostProfile(tp=1.0, fp=0.22, fn=1.0),
    "reward_low_FN_rate": CostProfile(tp=1.0, fp=0.11, fn=2.0),
}


@dataclass(kw_only=True)
class FileScore:
    """The NAB outcome for one series and one set of detections."""

    raw: float
    windows_total: int
    windows_hit: int
    false_positives: int
    detections: int
    window_scores: list[float] = field(default_factory=list)


@dataclass(kw_only=True)
class NabSeries:
    """One NAB data file: timestamps, values and the labelled windows."""

    name: str
    timestamps: list[datetime]
    values: list[float]
    windows: list[tuple[datetime, datetime]]

    @property
    def days(self) -> float:
        """The length of the series in days."""
        if len(self.timestamps) < 2:
            return 0.0
        return (self.timestamps[-1] - self.timestamps[0]).total_seconds() / 86400.0


def parse_timestamp(text: str) -> datetime:
    """Parse NAB's `YYYY-MM-DD HH:MM:SS[.ffffff]` timestamps."""
    text = text.strip()
    fmt = "%Y-%m-%d %H:%M:%S.%f" if "." in text else "%Y-%m-%d %H:%M:%S"
    return datetime.strptime(text, fmt)


def scaled_sigmoid(position: float) -> float:
    """NAB's scaled sigmoid: ~1 at a window's left edge, 0 at its right edge, -1 far past it."""
    if position >= 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


def probationary_length(n_records: int, percent: float = 0.15) -> int:
    """Records at the start of a file that NAB does not score: 15% of the file, at most 750."""
    return int(min(math.floor(percent * n_records), percent * 5000))


def _window_indices(
    timestamps: Sequence[datetime], windows: Sequence[tuple[datetime, datetime]]
) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for start, end in sorted(windows):
        left = bisect.bisect_left(timestamps, start)
        right = bisect.bisect_right(timestamps, end) - 1
        if left <= right:
            spans.append((left, right))
    return spans


def _sweep_scores(
    n: int, spans: Sequence[tuple[int, int]], profile: CostProfile
) -> tuple[list[float], list[int]]:
    """Each record's sweep score, and the window id of each record (-1 outside windows)."""
    max_tp = scaled_sigmoid(-1.0)
    scores = [0.0] * n
    window_of = [-1] * n
    prev_right: int | None = None
    prev_width = 0.0
    k = 0
    i = 0
    while i < n:
        if k < len(spans) and i == spans[k][0]:
            left, right = spans[k]
            width = float(right - left + 1)
            for j in range(left, right + 1):
                scores[j] = scaled_sigmoid(-(right - j + 1) / width) * profile.tp / max_tp
                window_of[j] = k
            prev_right, prev_width = right, width
            k += 1
            i = right + 1
            continue
        if prev_right is None:
            position = 3.0
        else:
            # NAB divides by (width - 1); a one-record window would divide by zero there too.
            position = abs(prev_right - i) / (prev_width - 1) if prev_width > 1 else 3.0
        scores[i] = scaled_sigmoid(position) * profile.fp
        i += 1
    return scores, window_of


def score_file(
    timestamps: Sequence[datetime],
    detections: Iterable[datetime],
    windows: Sequence[tuple[datetime, datetime]],
    profile: CostProfile = PROFILES["standard"],
    *,
    probation_percent: float = 0.15,
) -> FileScore:
    """Score the detections (timestamps where a detector fired) on one series with NAB's rules."""
    n = len(timestamps)
    spans = _window_indices(timestamps, windows)
    sweep, window_of = _sweep_scores(n, spans, profile)
    probation = probationary_length(n, probation_percent)
    index = {t: i for i, t in enumerate(timestamps)}
    flagged = sorted({index[t] for t in detections if t in index})
    scored_windows = {window_of[i] for i in range(probation, n) if window_of[i] >= 0}
    best: dict[int, float] = {w: -profile.fn for w in scored_windows}
    hit: set[int] = set()
    fp_total = 0.0
    fp_count = 0
    scored_detections = 0
    for i in flagged:
        if i < probation:
            continue
        scored_detections += 1
        w = window_of[i]
        if w < 0:
            fp_total += sweep[i]
            fp_count += 1
        else:
            hit.add(w)
            best[w] = max(best[w], sweep[i])
    window_scores = [best[w] for w in sorted(best)]
    return FileScore(
        raw=fp_total + sum(window_scores),
        windows_total=len(scored_windows),
        windows_hit=len(hit),
        false_positives=fp_count,
        detections=scored_detections,
        window_scores=window_scores,
    )


def normalized_score(raw: float, null: float, perfect: float) -> float:
    """NAB's normalisation: 0 for a detector that never fires, 100 for a perfect one."""
    if perfect == null:
        return 0.0
    return 100.0 * (raw - null) / (perfect - null)


def perfect_detections(series: NabSeries) -> list[datetime]:
    """Every record inside a labelled window: NAB's *perfect* reference detector."""
    spans = _window_indices(series.timestamps, series.windows)
    return [series.timestamps[i] for left, right in spans for i in range(left, right + 1)]


def load_nab_folder(data_dir: Path) -> list[NabSeries]:
    """Read every CSV series of a folder laid out like NAB's (`windows.json` beside the CSV files)."""
    windows_raw: Mapping[str, list[list[str]]] = json.loads((data_dir / "windows.json").read_text())
    series: list[NabSeries] = []
    for name in sorted(windows_raw):
        path = data_dir / Path(name).name
        if not path.exists():
            continue
        timestamps: list[datetime] = []
        values: list[float] = []
        with path.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                timestamps.append(parse_timestamp(row["timestamp"]))
                values.append(float(row["value"]))
        windows = [(parse_timestamp(a), parse_timestamp(b)) for a, b in windows_raw[name]]
        series.append(NabSeries(name=Path(name).name, timestamps=timestamps, values=values, windows=windows))
    return series

"""The NAB scorer reproduces NAB's own committed per-file raw scores."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from evals.nab import (
    PROFILES,
    load_nab_folder,
    normalized_score,
    parse_timestamp,
    perfect_detections,
    probationary_length,
    scaled_sigmoid,
    score_file,
)


def test_scaled_sigmoid_matches_nab_reference_points() -> None:
    assert scaled_sigmoid(-1.0) == pytest.approx(0.98661, abs=1e-5)
    assert scaled_sigmoid(-0.5) == pytest.approx(0.84828, abs=1e-5)
    assert scaled_sigmoid(0.0) == 0.0
    assert scaled_sigmoid(1.0) == pytest.approx(-0.98661, abs=1e-5)
    assert scaled_sigmoid(3.0) == -1.0


def test_probationary_period_is_fifteen_percent_capped_at_750() -> None:
    assert probationary_length(1000) == 150
    assert probationary_length(15902) == 750


def test_toy_series_window_fp_and_probation_rules() -> None:
    t0 = datetime(2020, 1, 1)
    ts = [t0 + timedelta(minutes=5 * i) for i in range(100)]
    window = [(ts[50], ts[59])]
    std = PROFILES["standard"]
    assert score_file(ts, [], window, std).raw == -1.0
    first = score_file(ts, [ts[50]], window, std)
    assert first.raw == pytest.approx(1.0) and first.windows_hit == 1
    # Only the earliest detection in a window counts.
    assert score_file(ts, [ts[50], ts[55]], window, std).raw == pytest.approx(1.0)
    # A detection far from any window costs A_fp; one inside the probation is ignored.
    assert score_file(ts, [ts[50], ts[30]], window, std).raw == pytest.approx(1.0 - 0.11)
    assert score_file(ts, [ts[50], ts[5]], window, std).raw == pytest.approx(1.0)
    # Right after a window a false positive costs less than far away.
    near = score_file(ts, [ts[50], ts[60]], window, std).raw
    assert 1.0 - 0.11 < near < 1.0


def test_reproduces_published_per_file_scores(shared_data: Path) -> None:
    folder = shared_data / "nab-realtweets"
    published = json.loads((folder / "published-detections.json").read_text())
    series = {s.name: s for s in load_nab_folder(folder)}
    checked = 0
    for detector in ("numenta", "twitterADVec"):
        entry = published["detectors"][detector]
        for name, alerts in entry["alerts"].items():
            s = series[name]
            detections = [parse_timestamp(t) for t in alerts]
            for profile, expected in entry["published_raw_scores"][name].items():
                got = score_file(s.timestamps, detections, s.windows, PROFILES[profile]).raw
                assert round(got, 4) == round(expected, 4), (detector, name, profile, got, expected)
                checked += 1
    assert checked == 2 * 5 * 3


def test_normalisation_null_is_zero_and_perfect_is_hundred(shared_data: Path) -> None:
    s = load_nab_folder(shared_data / "nab-realtweets")[0]
    null = score_file(s.timestamps, [], s.windows).raw
    perfect = score_file(s.timestamps, perfect_detections(s), s.windows).raw
    assert perfect == pytest.approx(len(s.windows))
    assert normalized_score(null, null, perfect) == 0.0
    assert normalized_score(perfect, null, perfect) == 100.0

"""A fitted router classifier is kept on disk and reused by the next process with the same inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from brandcrew.agents.intent import IntentClassifier, named

LABELS = ["analytics", "content_creator"]
TEXTS = ["how did our reels do last month", "what was our reach", "draft a caption", "write three posts"]
TARGETS = [0, 0, 1, 1]


class Counting:
    """A toy embedding that counts the texts it is asked for."""

    def __init__(self) -> None:
        self.seen = 0

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.seen += len(texts)
        rows = np.asarray([[len(t), t.count(" ") + 1.0] for t in texts], dtype=np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _fit(embed: object) -> IntentClassifier:
    return IntentClassifier(LABELS, TEXTS, TARGETS, embed=embed, steps=50)  # type: ignore[arg-type]


def test_a_named_fit_is_reused_and_any_change_refits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRANDCREW_CACHE_DIR", str(tmp_path))
    counting = Counting()
    embed = named(counting, "toy-2d")
    first = _fit(embed)
    assert counting.seen == len(TEXTS) and len(list((tmp_path / "router").glob("*.npz"))) == 1
    again = _fit(embed)
    assert counting.seen == len(TEXTS)  # nothing embedded: the fit came from disk
    assert np.array_equal(again.weights, first.weights) and np.array_equal(again.bias, first.bias)
    assert again.predict_rows(["what was our reach"]) == first.predict_rows(["what was our reach"])
    before = counting.seen
    IntentClassifier(LABELS, [*TEXTS, "plan next month"], [*TARGETS, 1], embed=embed, steps=50)
    # New inputs: fitted afresh and kept beside the first; only the new text is embedded (the others'
    # vectors are kept too, see test_vector_store.py).
    assert counting.seen == before + 1
    assert len(list((tmp_path / "router").glob("*.npz"))) == 2


def test_unnamed_embeds_and_an_empty_cache_dir_always_fit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRANDCREW_CACHE_DIR", str(tmp_path))
    counting = Counting()
    _fit(counting)
    _fit(counting)
    assert counting.seen == 2 * len(TEXTS) and not (tmp_path / "router").exists()
    monkeypatch.setenv("BRANDCREW_CACHE_DIR", "")
    _fit(named(counting, "toy-2d"))
    assert counting.seen == 3 * len(TEXTS) and not (tmp_path / "router").exists()


def test_a_damaged_cache_file_is_refitted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRANDCREW_CACHE_DIR", str(tmp_path))
    counting = Counting()
    first = _fit(named(counting, "toy-2d"))
    (saved,) = (tmp_path / "router").glob("*.npz")
    saved.write_bytes(b"not a numpy archive")
    again = _fit(named(counting, "toy-2d"))
    # Refitted from the kept vectors (nothing embedded again), to the same weights.
    assert counting.seen == len(TEXTS) and np.array_equal(again.weights, first.weights)
    assert saved.read_bytes()[:2] == b"PK"  # replaced by a whole file


def test_a_router_fit_from_the_cache_loads_its_encoders_only_when_warmed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from brandcrew.agents import AgentSpec
    from brandcrew.agents.routing import FastRouter

    monkeypatch.setenv("BRANDCREW_CACHE_DIR", str(tmp_path))
    specs = [
        AgentSpec(name=label, description=f"Handles {label}.", prompt="", examples=TEXTS[2 * i : 2 * i + 2])
        for i, label in enumerate(LABELS)
    ]
    counting = Counting()
    embed = named(counting, "toy-2d")
    FastRouter(specs, embed=embed)
    fitted = counting.seen
    router = FastRouter(specs, embed=embed)  # what the next process does: the fit comes from disk
    assert counting.seen == fitted
    router.warm()
    assert counting.seen == fitted + 1
    FastRouter(specs).warm()  # by words alone there is nothing to load


def test_only_the_most_recent_fits_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from brandcrew.agents import intent

    monkeypatch.setenv("BRANDCREW_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(intent, "_KEEP_FITS", 3)
    embed = named(Counting(), "toy-2d")
    for n in range(5):
        IntentClassifier(LABELS, [*TEXTS, f"write {n} posts"], [*TARGETS, 1], embed=embed, steps=5)
    assert len(list((tmp_path / "router").glob("*.npz"))) == 3

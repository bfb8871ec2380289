"""The router's training vectors are kept on disk: a refit embeds only new texts, never routed requests."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from brandcrew.agents import AgentSpec
from brandcrew.agents.intent import IntentClassifier, named
from brandcrew.agents.routing import FastRouter
from brandcrew.agents.vector_store import VectorStore, embed_kept


class Recording:
    """A toy embedding that records every text it is asked for."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.asked.extend(texts)
        rows = np.asarray([[len(t), t.count(" ") + 1.0, t.count("o") + 1.0] for t in texts], dtype=np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


SPECS = [
    AgentSpec(name="analytics", description="Reports numbers.", prompt="", examples=["what was our reach"]),
    AgentSpec(name="content_creator", description="Writes posts.", prompt="", examples=["draft a caption"]),
]
EVENTS = AgentSpec(name="events", description="Promotes events.", prompt="", examples=["promote the tasting"])


def test_a_new_agent_refits_embedding_only_its_own_texts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRANDCREW_CACHE_DIR", str(tmp_path))
    recording = Recording()
    embed = named(recording, "toy-3d")
    first = FastRouter(SPECS, embed=embed, steps=20)
    assert sorted(recording.asked) == sorted(set(recording.asked))  # each training text once
    recording.asked.clear()
    # Another process (nothing in memory), one more agent: a new fit, from the kept vectors.
    FastRouter([*SPECS, EVENTS], embed=named(recording, "toy-3d"), steps=20)
    assert recording.asked and all("tasting" in t or "events" in t.lower() for t in recording.asked)
    # The vectors read back are the ones computed: the first router's fit is reproduced exactly.
    again = FastRouter(SPECS, embed=named(Recording(), "toy-3d"), steps=20)
    assert first.classifier is not None and again.classifier is not None
    assert np.array_equal(first.classifier.weights, again.classifier.weights)


def test_routed_requests_are_never_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRANDCREW_CACHE_DIR", str(tmp_path))
    recording = Recording()
    router = FastRouter(SPECS, embed=named(recording, "toy-3d"), steps=20)
    request = "my private launch plan for the secret product"
    router.route(request)
    assert request in recording.asked
    store = VectorStore(tmp_path / "router", "toy-3d")
    assert store.get([request]) == {} and store.get(["draft a caption"])


def test_an_unreadable_store_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRANDCREW_CACHE_DIR", str(tmp_path))
    store = VectorStore(tmp_path / "router", "toy-3d")
    store.path.parent.mkdir(parents=True)
    store.path.write_bytes(b"not a database, " * 64)
    recording = Recording()
    texts = ["what was our reach", "draft a caption"]
    assert embed_kept(recording, store, texts).shape == (2, 3)
    assert recording.asked == texts
    with pytest.raises(sqlite3.Error):
        store.get(texts)
    fit = IntentClassifier(["a", "b"], texts, [0, 1], embed=named(Recording(), "toy-3d"), steps=5)
    assert fit.predict_rows(texts)[0][0] > 0.5


def test_vectors_of_another_width_under_the_same_name_are_not_mixed(tmp_path: Path) -> None:
    store = VectorStore(tmp_path, "toy")
    store.put({"old text": np.ones(5, dtype=np.float32)})
    recording = Recording()
    rows = embed_kept(recording, store, ["old text", "new text"])
    assert rows.shape == (2, 3) and recording.asked == ["new text", "old text", "new text"]

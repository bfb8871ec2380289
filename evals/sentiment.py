"""`brandcrew eval sentiment`: each analyzer's macro-averaged recall on the TweetEval sentiment split.

Macro-averaged recall over negative/neutral/positive is TweetEval's official metric (chance = 33.3).
Figures are percentages. The MiniLM head was trained without the tweets of this split (see
`evals/train_sentiment_head.py`); nothing here is fitted to it. An analyzer whose extra is not
installed is reported as skipped with the reason.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from brandcrew.errors import ConfigError
from brandcrew.services.listening.sentiment import (
    LABELS,
    LexiconAnalyzer,
    MiniLMHeadAnalyzer,
    SentimentAnalyzer,
    TransformersAnalyzer,
)
from evals._data import find_shared_data

__all__ = ["ANCHORS", "macro_recall", "main", "print_sentiment_report", "run_sentiment_eval"]

ANCHORS = {
    "VADER (published, test split)": 57.0,
    "MiniLM + LR (published, test split)": 65.3,
    "SemEval-2017 winner (test split)": 68.1,
    "TimeLMs-2021 (test split)": 73.7,
}


def macro_recall(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str] = LABELS) -> float:
    """Mean over classes of the share of each class's items predicted as that class (0..1)."""
    recalls = []
    for label in labels:
        idx = [i for i, g in enumerate(gold) if g == label]
        if idx:
            recalls.append(sum(1 for i in idx if predicted[i] == label) / len(idx))
    return sum(recalls) / len(recalls) if recalls else 0.0


def _per_class_recall(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for label in LABELS:
        idx = [i for i, g in enumerate(gold) if g == label]
        out[label] = round(100 * sum(1 for i in idx if predicted[i] == label) / len(idx), 2) if idx else 0.0
    return out


def load_split(data_dir: Path) -> tuple[list[str], list[str]]:
    """Texts and gold labels of a TweetEval-style folder (`val_text.txt`, `val_labels.txt`)."""
    folder = data_dir if (data_dir / "val_text.txt").exists() else data_dir / "tweeteval-sentiment"
    texts = (folder / "val_text.txt").read_text(encoding="utf-8").splitlines()
    ids = [int(x) for x in (folder / "val_labels.txt").read_text().split()]
    if len(texts) != len(ids):
        raise ValueError(f"{folder}: {len(texts)} texts but {len(ids)} labels")
    return texts, [LABELS[i] for i in ids]


def _default_factories(transformers_model: Path | None) -> dict[str, Callable[[], SentimentAnalyzer]]:
    factories: dict[str, Callable[[], SentimentAnalyzer]] = {
        "lexicon": LexiconAnalyzer,
        "minilm": MiniLMHeadAnalyzer,
    }
    if transformers_model is not None:
        factories["transformers"] = lambda: TransformersAnalyzer(transformers_model)
    return factories


def run_sentiment_eval(
    data_dir: Path | None = None,
    *,
    analyzers: dict[str, Callable[[], SentimentAnalyzer]] | None = None,
    transformers_model: Path | None = None,
    batch_size: int = 256,
) -> dict[str, Any]:
    """Score each analyzer on the split; return macro recall (percent) per analyzer and the best one."""
    root = data_dir or find_shared_data()
    if root is None:
        raise FileNotFoundError("shared data not found; pass a folder or set BRANDCREW_SHARED_DATA")
    texts, gold = load_split(Path(root))
    results: dict[str, dict[str, Any]] = {}
    for name, factory in (analyzers or _default_factories(transformers_model)).items():
        started = time.perf_counter()
        predicted: list[str] = []
        try:
            analyzer = factory()
            for i in range(0, len(texts), batch_size):
                predicted.extend(r.label for r in analyzer.analyze_batch(texts[i : i + batch_size]))
        except (ImportError, ConfigError) as exc:  # an extra that is not installed, a missing model
            results[name] = {"skipped": f"{type(exc).__name__}: {exc}"}
            continue
        elapsed = time.perf_counter() - started
        results[name] = {
            "macro_recall": round(100 * macro_recall(gold, predicted), 2),
            "accuracy": round(100 * sum(p == g for p, g in zip(predicted, gold, strict=True)) / len(gold), 2),
            "recall_by_class": _per_class_recall(gold, predicted),
            "texts_per_s": round(len(texts) / elapsed, 1) if elapsed > 0 else None,
        }
    scored = {k: v["macro_recall"] for k, v in results.items() if "macro_recall" in v}
    best = max(scored, key=lambda k: scored[k]) if scored else None
    return {
        "analyzers": results,
        "best": best,
        "best_macro_recall": scored.get(best) if best else None,
        "n": len(texts),
        "anchors": ANCHORS,
    }


def print_sentiment_report(result: dict[str, Any]) -> None:
    """Print one row per analyzer, then the published anchors."""
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"Sentiment on TweetEval validation ({result['n']} tweets): macro-averaged recall",
        title_justify="left",
    )
    for col in ("analyzer", "macro recall", "accuracy", "neg", "neu", "pos", "texts/s"):
        table.add_column(col, justify="left" if col == "analyzer" else "right")
    for name, r in result["analyzers"].items():
        if "skipped" in r:
            table.add_row(name, "skipped", r["skipped"], "", "", "", "")
            continue
        c = r["recall_by_class"]
        table.add_row(
            name,
            f"{r['macro_recall']:.2f}",
            f"{r['accuracy']:.2f}",
            f"{c['negative']:.1f}",
            f"{c['neutral']:.1f}",
            f"{c['positive']:.1f}",
            f"{r['texts_per_s']}",
        )
    for name, value in result["anchors"].items():
        table.add_row(f"[dim]{name}[/dim]", f"[dim]{value:.1f}[/dim]", "", "", "", "", "")
    Console().print(table)


def main(
    data_dir: Path | None = None, *, as_json: bool = False, transformers_model: Path | None = None
) -> dict[str, Any]:
    """Run, print the table, and with `as_json` end with one JSON line of the figures."""
    result = run_sentiment_eval(data_dir, transformers_model=transformers_model)
    print_sentiment_report(result)
    if as_json:
        figures = {
            "analyzers": {
                k: {kk: vv for kk, vv in v.items() if kk != "recall_by_class"}
                for k, v in result["analyzers"].items()
            },
            "best": result["best"],
            "best_macro_recall": result["best_macro_recall"],
            "n": result["n"],
        }
        print(json.dumps(figures, sort_keys=True))
    return result


if __name__ == "__main__":
    import sys

    main(Path(sys.argv[1]) if len(sys.argv) > 1 else None, as_json=True)

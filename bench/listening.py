"""Listening throughput: mentions per second through query matching + sentiment + crisis detector.

    python -m bench.listening [--json] [--lexicon-n 20000] [--minilm-n 1024]

Mentions are synthetic but tweet-like (seeded): a brand name in most of them, product words, positive
and negative words, hashtags, handles and links, 20 to 40 per 5-minute bucket; a tenth carry no language
so the query's language filter detects it. Each analyzer runs the same `ListeningPipeline` (a boolean
query with an exclusion and a language filter, batched sentiment, 5-minute buckets into a fresh
`CrisisDetector`) over polls of 500 mentions. Model loading is timed apart and not counted.
Goals (issue): 5,000 mentions/s with the lexicon analyzer, 200/s with MiniLM.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bench._table import emit_json, percentile, print_table
from brandcrew.services.listening.crisis import CrisisDetector
from brandcrew.services.listening.pipeline import ListeningPipeline
from brandcrew.services.listening.query import QueryFilter
from brandcrew.services.listening.sentiment import LexiconAnalyzer, SentimentAnalyzer

POLL = 500
QUERY = '(acme OR "acme corp" OR #acme) -giveaway'


@dataclass(frozen=True)
class BenchMention:
    """A synthetic mention with the fields the pipeline reads."""

    text: str
    created_at: datetime
    author_username: str
    author_followers: int
    language: str | None


_SUBJECTS = ["acme", "Acme Corp", "#acme", "@acme", "ACME", "acme's", "my acme"]
_PRODUCTS = [
    "phone",
    "laptop",
    "headphones",
    "app",
    "update",
    "store",
    "delivery",
    "support",
    "battery",
    "camera",
]
_POSITIVE = ["love", "great", "amazing", "best", "awesome", "happy with", "recommend", "excellent", "nice"]
_NEGATIVE = ["hate", "terrible", "worst", "broken", "awful", "disappointed by", "refund for", "scam", "slow"]
_NEUTRAL = ["just got", "looking at", "anyone tried", "thinking about", "news about", "reading about"]
_FILLER = [
    "the",
    "and",
    "it",
    "was",
    "this",
    "morning",
    "after",
    "work",
    "so",
    "i",
    "think",
    "we",
    "should",
    "really",
    "try",
    "again",
    "tomorrow",
    "because",
    "everyone",
    "at",
    "home",
    "said",
    "that",
    "the",
    "price",
    "is",
    "fine",
    "but",
    "shipping",
    "took",
    "three",
    "days",
    "and",
    "nobody",
    "answered",
    "my",
    "email",
    "until",
    "friday",
    "when",
    "they",
    "finally",
    "sent",
    "a",
    "new",
    "one",
    "with",
    "a",
    "note",
]
_TAGS = [
    "#tech",
    "#gadgets",
    "#fail",
    "#win",
    "#newrelease",
    "#customerservice",
    "#deal",
    "#mondaymotivation",
]


def synthetic_mentions(n: int, *, seed: int = 7) -> list[BenchMention]:
    """`n` tweet-like mentions in time order, deterministic for a seed."""
    rng = random.Random(seed)
    at = datetime(2026, 3, 1, tzinfo=UTC)
    out: list[BenchMention] = []
    per_bucket = rng.randint(20, 40)
    in_bucket = 0
    for i in range(n):
        if in_bucket >= per_bucket:
            at += timedelta(minutes=5)
            per_bucket, in_bucket = rng.randint(20, 40), 0
        in_bucket += 1
        mood = rng.random()
        words = _POSITIVE if mood < 0.4 else _NEGATIVE if mood < 0.65 else _NEUTRAL
        subject = (
            rng.choice(_SUBJECTS) if rng.random() < 0.85 else rng.choice(["globex", "initech", "umbrella"])
        )
        parts = [rng.choice(words), subject, rng.choice(_PRODUCTS)]
        if rng.random() < 0.5:
            parts.append(rng.choice(_TAGS))
        if rng.random() < 0.3:
            parts.append(f"https://t.co/{rng.getrandbits(40):x}")
        if rng.random() < 0.05:
            parts.append("giveaway")
        if rng.random() < 0.3:
            parts.insert(0, f"@user{rng.randint(1, 5000)}")
        # Real tweets run about 26 tokens (median): pad with an ordinary sentence of 8 to 18 words.
        filler = " ".join(rng.choice(_FILLER) for _ in range(rng.randint(8, 18)))
        text = " ".join(parts) + rng.choice(["", "!", "!!", ".", " :)", " :(", "?"]) + " " + filler
        out.append(
            BenchMention(
                text=text,
                created_at=at + timedelta(seconds=in_bucket),
                author_username=f"user{rng.randint(1, 20000)}",
                author_followers=rng.choice([10, 150, 2_000, 40_000, 250_000]) if rng.random() < 0.2 else 50,
                language=None if i % 10 == 0 else "en",
            )
        )
    return out


def run_pipeline(analyzer: SentimentAnalyzer, mentions: list[BenchMention]) -> dict[str, Any]:
    """Time the whole pipeline over polls of `POLL` mentions."""
    from brandcrew.services.listening.sentiment import detect_language

    pipeline = ListeningPipeline(
        QueryFilter(query=QUERY, languages=["en"], detect_language=detect_language),
        analyzer,
        detector=CrisisDetector(),
    )
    poll_ms: list[float] = []
    matched = alerts = 0
    started = time.perf_counter()
    for i in range(0, len(mentions), POLL):
        t0 = time.perf_counter()
        result = pipeline.process(mentions[i : i + POLL])
        poll_ms.append((time.perf_counter() - t0) * 1000)
        matched += len(result.matched)
        alerts += len(result.alerts)
    alerts += len(pipeline.flush())
    elapsed = time.perf_counter() - started
    return {
        "mentions": len(mentions),
        "matched": matched,
        "alerts": alerts,
        "seconds": elapsed,
        "per_s": len(mentions) / elapsed if elapsed > 0 else float("inf"),
        "poll_p50_ms": percentile(poll_ms, 50),
        "poll_p95_ms": percentile(poll_ms, 95),
    }


def _load(factory: Callable[[], SentimentAnalyzer]) -> tuple[SentimentAnalyzer, float]:
    t0 = time.perf_counter()
    analyzer = factory()
    analyzer.analyze_batch(["warm up the model", "acme is great"])
    return analyzer, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print the table, optionally end with the JSON line."""
    parser = argparse.ArgumentParser(description="listening throughput")
    parser.add_argument("--json", action="store_true", help="end with one JSON line of the figures")
    parser.add_argument("--lexicon-n", type=int, default=20_000)
    parser.add_argument("--minilm-n", type=int, default=1_024)
    args = parser.parse_args(argv)

    rows: list[list[Any]] = []
    figures: dict[str, Any] = {}
    runs: list[tuple[str, Callable[[], SentimentAnalyzer], int, int]] = [
        ("lexicon", LexiconAnalyzer, args.lexicon_n, 5_000),
    ]
    try:
        import sentence_transformers  # noqa: F401  (the `ml` extra)

        from brandcrew.services.listening.sentiment import MiniLMHeadAnalyzer

        runs.append(("minilm", MiniLMHeadAnalyzer, args.minilm_n, 200))
    except ImportError:
        figures["minilm_per_s"] = None
        rows.append(["minilm", "skipped: needs the `ml` extra", "", "", "", "200"])
    for name, factory, n, goal in runs:
        analyzer, load_s = _load(factory)
        r = run_pipeline(analyzer, synthetic_mentions(n))
        figures[f"{name}_per_s"] = round(r["per_s"], 1)
        figures[f"{name}_load_s"] = round(load_s, 2)
        figures[f"{name}_scored_per_s"] = round(r["matched"] / r["seconds"], 1)
        encoder = getattr(analyzer, "encoder", None)
        if encoder is not None and hasattr(encoder, "uses_bf16"):
            figures[f"{name}_bf16"] = bool(encoder.uses_bf16)
            name = f"{name} ({'bf16' if encoder.uses_bf16 else 'fp32'})"
        rows.append(
            [
                name,
                f"{r['mentions']} ({r['matched']})",
                f"{r['per_s']:,.0f}",
                f"{r['matched'] / r['seconds']:,.0f}",
                f"{r['poll_p95_ms']:,.0f}",
                f"{goal:,}",
            ]
        )
    print_table(
        f"Listening throughput: query + sentiment + crisis detector, polls of {POLL}",
        ["analyzer", "mentions (matched)", "mentions/s", "scored/s", "poll p95 ms", "goal/s"],
        rows,
    )
    if args.json:
        emit_json(figures)
    return figures


if __name__ == "__main__":
    main()

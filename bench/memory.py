"""Benchmark of vector memory: sqlite-vec beside a numpy brute-force baseline, MiniLM ingestion, brand voice.

    python -m bench.memory [--json] [--sizes 10000 100000] [--queries 300] [--texts 2000]

(a) Search. For each size, that many 384-d unit vectors go into ONE workspace of a sqlite-vec
    index (a `vec0` partition in a fresh SQLite file) through the `VectorMemory` port. The data
    is clustered (a seeded mixture of 200 Gaussian clusters, like topics in real embeddings);
    queries are half perturbed stored vectors, half fresh draws from the mixture. Reported:
    recall@10 against exact float64 search over the same vectors, query p50/p99 over all
    queries (after a short warm-up), for sqlite-vec and for a numpy brute-force scan of the same
    matrix in memory, plus a filtered query (metadata `kind`, a third of the records) through the
    port. Ingest rate is vectors/s through `upsert` (batches of 10,000).
(b) Ingestion with an embedder: `--texts` short social posts (templated, seeded) embedded with
    MiniLM (or the hashing embedder when the `ml` extra is absent) and upserted: texts/s end to
    end, and for the embedding alone.
(c) Brand voice: trained on tests/memory/data/brand_voice_quillmoss.json (a fictional brand),
    scored on its held-out on-brand / off-brand drafts: ROC AUC with MiniLM and with hashing.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bench._table import console, emit_json, percentile, print_table
from brandcrew.memory import (
    Draft,
    Embedder,
    HashingEmbedder,
    MiniLMEmbedder,
    Record,
    SqliteVecMemory,
    minilm_available,
    roc_auc,
    score_drafts,
    train_brand_voice,
)

DIM = 384
TOP_K = 10
WORKSPACE = "ws_bench"
KINDS = ("post", "mention", "message")
VOICE_DATA = (
    Path(__file__).resolve().parent.parent / "tests" / "memory" / "data" / "brand_voice_quillmoss.json"
)

Matrix = npt.NDArray[np.float32]


# --------------------------------------------------------------------------------------------
# (a) search
# --------------------------------------------------------------------------------------------
def clustered(n: int, rng: np.random.Generator, centers: Matrix) -> Matrix:
    """`n` unit vectors drawn around random cluster centres (spread chosen so clusters overlap)."""
    which = rng.integers(0, len(centers), size=n)
    x = centers[which] + rng.standard_normal((n, DIM)).astype(np.float32) * 0.06
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def make_queries(data: Matrix, n: int, rng: np.random.Generator, centers: Matrix) -> Matrix:
    """Half perturbed stored vectors, half fresh samples from the mixture."""
    half = n // 2
    picked = data[rng.integers(0, len(data), size=half)]
    near = picked + rng.standard_normal(picked.shape).astype(np.float32) * 0.03
    near /= np.linalg.norm(near, axis=1, keepdims=True)
    return np.vstack([near, clustered(n - half, rng, centers)]).astype(np.float32)


def exact_top_k(data: Matrix, queries: Matrix, keep: npt.NDArray[np.bool_] | None = None) -> list[set[int]]:
    """Ground truth in float64: the ids of the k most similar vectors per query."""
    d64 = data.astype(np.float64)
    out = []
    for q in queries.astype(np.float64):
        sims = d64 @ q
        if keep is not None:
            sims = np.where(keep, sims, -np.inf)
        out.append(set(np.argsort(-sims, kind="stable")[:TOP_K].tolist()))
    return out


def recall(found: list[list[int]], truth: list[set[int]]) -> float:
    """Mean share of the true top-k found."""
    return float(np.mean([len(set(f) & t) / TOP_K for f, t in zip(found, truth, strict=True)]))


def bench_search(sizes: list[int], n_queries: int, workdir: Path) -> tuple[list[list[Any]], dict[str, Any]]:
    """Rows of the search table and the figures per size."""
    rows: list[list[Any]] = []
    figures: dict[str, Any] = {}
    for size in sizes:
        rng = np.random.default_rng(7)
        centers = rng.standard_normal((200, DIM)).astype(np.float32)
        centers /= np.linalg.norm(centers, axis=1, keepdims=True)
        data = clustered(size, rng, centers)
        queries = make_queries(data, n_queries, rng, centers)
        kinds = np.array([KINDS[i % 3] for i in range(size)])
        label = f"{size // 1000}k"

        mem = SqliteVecMemory(
            workdir / f"bench_{size}.db", index="bench", dimension=DIM, metadata_fields={"kind": "text"}
        )
        records = [Record(id=str(i), vector=data[i], metadata={"kind": str(kinds[i])}) for i in range(size)]
        console.log(f"{label}: upserting {size:,} vectors into sqlite-vec")
        t0 = time.perf_counter()
        for start in range(0, size, 10_000):
            mem.upsert(WORKSPACE, records[start : start + 10_000])
        ingest_s = time.perf_counter() - t0
        del records

        truth = exact_top_k(data, queries)
        truth_filtered = exact_top_k(data, queries, keep=kinds == "post")

        console.log(f"{label}: {n_queries} queries, sqlite-vec, numpy and filtered")
        for q in queries[:5]:  # warm-up: page cache, mmap, prepared statements
            mem.query(WORKSPACE, q, top_k=TOP_K)
        vec_ms, vec_found = [], []
        for q in queries:
            t0 = time.perf_counter()
            got = mem.query(WORKSPACE, q, top_k=TOP_K)
            vec_ms.append((time.perf_counter() - t0) * 1000)
            vec_found.append([int(m.id) for m in got])
        filt_ms, filt_found = [], []
        for q in queries:
            t0 = time.perf_counter()
            got = mem.query(WORKSPACE, q, top_k=TOP_K, filter={"kind": "post"})
            filt_ms.append((time.perf_counter() - t0) * 1000)
            filt_found.append([int(m.id) for m in got])
        np_ms, np_found = [], []
        for q in queries:
            t0 = time.perf_counter()
            sims = data @ q
            top = np.argpartition(-sims, TOP_K)[:TOP_K]
            top = top[np.argsort(-sims[top])]
            np_ms.append((time.perf_counter() - t0) * 1000)
            np_found.append(top.tolist())
        mem.close()

        r_vec, r_np, r_filt = (
            recall(vec_found, truth),
            recall(np_found, truth),
            recall(filt_found, truth_filtered),
        )
        rows += [
            [f"sqlite-vec, {label}", f"{r_vec:.3f}", f"{percentile(vec_ms, 50):.1f}", f"{percentile(vec_ms, 99):.1f}",
             f"{size / ingest_s:,.0f}"],
            [f"numpy exact, {label}", f"{r_np:.3f}", f"{percentile(np_ms, 50):.1f}", f"{percentile(np_ms, 99):.1f}",
             "in memory"],
            [f"sqlite-vec, kind=post, {label}", f"{r_filt:.3f}", f"{percentile(filt_ms, 50):.1f}",
             f"{percentile(filt_ms, 99):.1f}", ""],
        ]  # fmt: skip
        figures.update(
            {
                f"recall_at_10_{label}": round(r_vec, 4),
                f"query_p50_ms_{label}": round(percentile(vec_ms, 50), 2),
                f"query_p99_ms_{label}": round(percentile(vec_ms, 99), 2),
                f"baseline_recall_at_10_{label}": round(r_np, 4),
                f"baseline_p50_ms_{label}": round(percentile(np_ms, 50), 2),
                f"baseline_p99_ms_{label}": round(percentile(np_ms, 99), 2),
                f"filtered_recall_at_10_{label}": round(r_filt, 4),
                f"filtered_p50_ms_{label}": round(percentile(filt_ms, 50), 2),
                f"ingest_vectors_per_s_{label}": round(size / ingest_s),
            }
        )
    return rows, figures


# --------------------------------------------------------------------------------------------
# (b) ingestion with an embedder
# --------------------------------------------------------------------------------------------
_OPENERS = [
    "New in the shop:",
    "Ink test Tuesday:",
    "From the mill:",
    "Question for you:",
    "Restocked:",
    "Tip:",
]
_SUBJECTS = ["the Field Journal", "our Letter Set", "pocket notebooks", "refill signatures", "the 160 gsm sheet",
             "the drying loft", "letter club", "the send-back scheme", "Open Mill Day", "the Wayfarer cover"]  # fmt: skip
_ENDINGS = ["ships Monday.", "is back in stock.", "takes fountain pen ink well.", "is on Thursday.",
            "now comes in threes.", "got a little heavier.", "what do you think?", "thank you for the letters."]  # fmt: skip


def social_texts(n: int, seed: int = 3) -> list[str]:
    """`n` short, varied social posts."""
    rng = np.random.default_rng(seed)
    return [f"{rng.choice(_OPENERS)} {rng.choice(_SUBJECTS)} {rng.choice(_ENDINGS)} (#{i})" for i in range(n)]


def pick_embedder() -> Embedder:
    """MiniLM when installed, else hashing."""
    return MiniLMEmbedder() if minilm_available() else HashingEmbedder(DIM)


def bench_ingest(embedder: Embedder, n_texts: int, workdir: Path) -> tuple[list[list[Any]], dict[str, Any]]:
    """Embed and upsert short posts: texts/s end to end and for the embedding alone."""
    texts = social_texts(n_texts)
    embedder.embed(texts[:8])  # load the model outside the timing
    mem = SqliteVecMemory(workdir / "ingest.db", index="ingest", dimension=embedder.dimension)
    console.log(f"ingest: embedding {n_texts:,} texts with {embedder.name}")
    t0 = time.perf_counter()
    vectors = embedder.embed(texts)
    embed_s = time.perf_counter() - t0
    mem.upsert(
        WORKSPACE,
        [Record(id=f"t{i}", vector=v, text=t) for i, (t, v) in enumerate(zip(texts, vectors, strict=True))],
    )
    total_s = time.perf_counter() - t0
    mem.close()
    rows = [
        [
            embedder.name.split("/")[-1],
            f"{n_texts:,}",
            f"{n_texts / embed_s:,.0f}",
            f"{n_texts / total_s:,.0f}",
        ]
    ]
    return rows, {
        "ingest_per_s": round(n_texts / total_s, 1),
        "embed_per_s": round(n_texts / embed_s, 1),
        "embedder": embedder.name,
    }


# --------------------------------------------------------------------------------------------
# (c) brand voice
# --------------------------------------------------------------------------------------------
def bench_voice(embedders: list[Embedder]) -> tuple[list[list[Any]], dict[str, Any]]:
    """Held-out AUC of the brand-voice score, per embedder."""
    data = json.loads(VOICE_DATA.read_text(encoding="utf-8"))
    labels = [bool(d["on_brand"]) for d in data["held_out"]]
    drafts = [Draft(content=d["content"], platform=d["platform"]) for d in data["held_out"]]
    rows: list[list[Any]] = []
    figures: dict[str, Any] = {}
    for embedder in embedders:
        profile = train_brand_voice(data["train"], data["guidelines"], embedder=embedder)
        scores = [s.score for s in score_drafts(profile, drafts, embedder=embedder)]
        auc = roc_auc(scores, labels)
        on = [s for s, y in zip(scores, labels, strict=True) if y]
        off = [s for s, y in zip(scores, labels, strict=True) if not y]
        rows.append(
            [embedder.name.split("/")[-1], f"{len(data['train'])}/{len(drafts)}", f"{auc:.3f}", f"{np.median(on):.2f}",
             f"{np.median(off):.2f}"]
        )  # fmt: skip
        key = "minilm" if isinstance(embedder, MiniLMEmbedder) else "hashing"
        figures[f"brand_voice_auc_{key}"] = round(auc, 4)
    return rows, figures


def main() -> None:
    """Run the three parts and print their tables (and the JSON line with --json)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="end with one JSON line of the figures")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--texts", type=int, default=2000)
    args = parser.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    figures: dict[str, Any] = {"dimension": DIM, "queries": args.queries, "cpu_count": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="bc-bench-memory-") as tmp:
        workdir = Path(tmp)
        search_rows, search_figures = bench_search(sorted(args.sizes), args.queries, workdir)
        figures.update(search_figures)
        embedder = pick_embedder()
        ingest_rows, ingest_figures = bench_ingest(embedder, args.texts, workdir)
        figures.update(ingest_figures)
    voice_embedders: list[Embedder] = [embedder] if isinstance(embedder, MiniLMEmbedder) else []
    voice_rows, voice_figures = bench_voice([*voice_embedders, HashingEmbedder(DIM)])
    figures.update(voice_figures)

    print_table(
        f"(a) top-{TOP_K} search, {DIM}-d, one workspace, {args.queries} queries",
        ["engine", "recall@10", "p50 ms", "p99 ms", "ingest vec/s"],
        search_rows,
    )
    console.print(
        "    recall is against exact float64 search over the same vectors; sqlite-vec runs through the "
        "VectorMemory port (partition key, JSON decode of metadata), numpy scans an in-memory matrix."
    )
    print_table(
        "(b) ingestion with the embedder",
        ["embedder", "texts", "embed/s", "embed+upsert/s"],
        ingest_rows,
    )
    print_table(
        "(c) brand voice on held-out drafts (fictional brand)",
        ["embedder", "train/test", "AUC", "on median", "off median"],
        voice_rows,
    )
    if args.json:
        emit_json(figures)


if __name__ == "__main__":
    main()

"""SqliteVecMemory: exact filtered top-k, workspace partitions, dimension records, the app's SQLite file."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import text

from brandcrew.errors import UserError
from brandcrew.memory import (
    DimensionMismatchError,
    InvalidFilterError,
    Record,
    SqliteVecMemory,
    VectorMemory,
    validate_filter,
)
from brandcrew.memory import sqlite_vec as sqlite_vec_module
from brandcrew.memory._filters import matches


def _records(n: int, dim: int = 8, seed: int = 0) -> tuple[np.ndarray, list[Record]]:
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((n, dim)).astype(np.float32)
    records = []
    for i in range(n):
        meta: dict[str, Any] = {"kind": ["post", "mention", "message"][i % 3], "n": i, "ok": i % 5 == 0}
        if i % 4:  # every fourth record has no `x`: missing fields must behave as in Pinecone
            meta["x"] = round((i % 50) / 10, 1)
        meta["tag"] = f"t{i % 7}"  # not a declared column: always filtered in Python
        if i % 11 == 0:
            meta["labels"] = ["launch", f"wave{i % 3}"]
        records.append(Record(id=f"r{i}", vector=vectors[i], metadata=meta, text=f"text {i}"))
    return vectors, records


def _exact(vectors: np.ndarray, records: list[Record], query: np.ndarray, k: int, filt: Any) -> list[str]:
    """Brute force in numpy: cosine similarity over the records the filter admits."""
    canonical = validate_filter(filt)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    q = query / np.linalg.norm(query)
    keep = [i for i, r in enumerate(records) if matches(canonical, r.metadata)]
    sims = unit[keep] @ q
    order = np.argsort(-sims, kind="stable")[:k]
    return [records[keep[j]].id for j in order]


FILTERS = [
    None,
    {"kind": "post"},
    {"kind": {"$ne": "post"}},
    {"n": {"$gte": 100, "$lt": 400}},
    {"n": {"$in": [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]}},
    {"kind": {"$in": ["mention", "message"]}, "ok": True},
    {"x": {"$lte": 1.0}},  # rows without x hold a sentinel that SQL lets through: Python drops them
    {"x": {"$ne": 2.0}},  # ... and a missing x does satisfy $ne
    {"x": {"$nin": [0.0, 1.0, 2.0]}},
    {"ok": False},
    {"tag": "t3"},  # undeclared field: over-fetch, then post-filter
    {"tag": {"$in": ["t1", "t2"]}, "n": {"$gt": 50}},
    {"labels": "launch"},  # list-valued metadata matches on any element
    {"$or": [{"kind": "post", "n": {"$lt": 90}}, {"tag": "t6"}]},
    {"$and": [{"kind": "mention"}, {"x": {"$gt": 2.5}}]},
]


@pytest.mark.parametrize("filt", FILTERS, ids=[str(f) for f in FILTERS])
def test_filtered_query_is_the_exact_filtered_top_k(memory: SqliteVecMemory, filt: Any) -> None:
    vectors, records = _records(1200)
    memory.upsert("ws_a", records)
    rng = np.random.default_rng(1)
    for query in rng.standard_normal((3, 8)).astype(np.float32):
        got = [m.id for m in memory.query("ws_a", query, top_k=10, filter=filt)]
        assert got == _exact(vectors, records, query, 10, filt)


def test_selective_filter_falls_back_to_an_exact_scan(
    memory: SqliteVecMemory, monkeypatch: pytest.MonkeyPatch
) -> None:
    vectors, records = _records(600)
    memory.upsert("ws_a", records)
    # With the KNN ceiling at 32, a filter that keeps 1 record in 77 cannot be served by over-fetch.
    monkeypatch.setattr(sqlite_vec_module, "MAX_K", 32)
    filt = {"n": {"$in": list(range(0, 600, 77))}, "tag": "t0"}
    query = vectors[5]
    got = [m.id for m in memory.query("ws_a", query, top_k=5, filter=filt)]
    assert got == _exact(vectors, records, query, 5, filt)
    assert got  # the filter keeps some records


def test_scores_are_cosine_similarities(memory: SqliteVecMemory) -> None:
    vectors, records = _records(50)
    memory.upsert("ws_a", records)
    match = memory.query("ws_a", vectors[7], top_k=2, include_vectors=True)
    assert match[0].id == "r7"
    assert match[0].score == pytest.approx(1.0, abs=1e-5)
    expected = float(vectors[7] @ vectors[int(match[1].id[1:])]) / (
        np.linalg.norm(vectors[7]) * np.linalg.norm(vectors[int(match[1].id[1:])])
    )
    assert match[1].score == pytest.approx(expected, abs=1e-5)
    assert match[0].text == "text 7"
    assert match[0].vector is not None and len(match[0].vector) == 8


def test_workspaces_do_not_see_each_other(memory: SqliteVecMemory) -> None:
    vectors, records = _records(30)
    memory.upsert("ws_a", records[:20])
    memory.upsert("ws_b", records[20:])
    assert {m.id for m in memory.query("ws_a", vectors[25], top_k=50)} == {f"r{i}" for i in range(20)}
    assert {m.id for m in memory.query("ws_b", vectors[5], top_k=50)} == {f"r{i}" for i in range(20, 30)}
    assert memory.namespaces() == ["ws_a", "ws_b"]
    # the same id in two workspaces is two records
    memory.upsert("ws_b", [Record(id="r0", vector=vectors[0], metadata={"kind": "post"})])
    assert memory.fetch("ws_a", ["r0"])[0].metadata["n"] == 0
    assert "n" not in memory.fetch("ws_b", ["r0"])[0].metadata
    memory.delete_namespace("ws_b")
    assert memory.count("ws_b") == 0 and memory.count("ws_a") == 20


def test_upsert_replaces_by_id_and_delete_by_id_or_filter(memory: SqliteVecMemory) -> None:
    vectors, records = _records(30)
    memory.upsert("ws_a", records)
    memory.upsert(
        "ws_a", [Record(id="r3", vector=vectors[9], metadata={"kind": "post", "n": 999}, text="new")]
    )
    assert memory.count("ws_a") == 30
    (r3,) = memory.fetch("ws_a", ["r3"])
    assert (r3.metadata, r3.text) == ({"kind": "post", "n": 999}, "new")
    assert memory.query("ws_a", vectors[9], top_k=2)[1].id in {"r3", "r9"}

    memory.delete("ws_a", ids=["r3", "missing"])
    assert memory.fetch("ws_a", ["r3"]) == []
    memory.delete("ws_a", filter={"kind": "mention"})
    assert memory.count("ws_a") == 19
    assert all(r.metadata["kind"] != "mention" for r in memory.scan("ws_a"))
    assert [r.id for r in memory.scan("ws_a", filter={"n": {"$lt": 10}}, limit=3)] == ["r0", "r2", "r5"]


def test_index_records_its_dimension_and_refuses_another(vec_path: Path, memory: SqliteVecMemory) -> None:
    with pytest.raises(DimensionMismatchError) as err:
        SqliteVecMemory(vec_path, index="t", dimension=384)
    assert (err.value.expected, err.value.got) == (8, 384)
    assert "8-dimension" in str(err.value)
    with pytest.raises(DimensionMismatchError):
        memory.upsert("ws_a", [Record(id="a", vector=[0.1] * 7)])
    with pytest.raises(DimensionMismatchError):
        memory.query("ws_a", [0.1] * 9)
    # another index in the same file may have its own dimension
    other = SqliteVecMemory(vec_path, index="other", dimension=384)
    assert other.index.dimension == 384
    other.close()


def test_invalid_inputs_are_clear_errors(memory: SqliteVecMemory) -> None:
    with pytest.raises(InvalidFilterError, match=r"\$regex"):
        memory.query("ws_a", [1.0] * 8, filter={"kind": {"$regex": "p.*"}})
    with pytest.raises(InvalidFilterError, match="non-empty list"):
        memory.query("ws_a", [1.0] * 8, filter={"kind": {"$in": "post"}})
    with pytest.raises(UserError, match="integer column"):
        memory.upsert("ws_a", [Record(id="a", vector=[1.0] * 8, metadata={"n": "seven"})])
    with pytest.raises(InvalidFilterError, match="JSON string"):
        memory.upsert("ws_a", [Record(id="a", vector=[1.0] * 8, metadata={"nested": {"a": 1}})])
    with pytest.raises(UserError, match="zero vector"):
        memory.upsert("ws_a", [Record(id="a", vector=[0.0] * 8)])
    with pytest.raises(UserError, match="workspace"):
        memory.query("", [1.0] * 8)
    with pytest.raises(UserError, match="database file"):
        SqliteVecMemory(":memory:", dimension=8)


def test_lives_in_the_application_database_file(sqlite_engine: Any) -> None:
    mem = SqliteVecMemory.from_engine(sqlite_engine, index="memory", dimension=8)
    assert mem.path == sqlite_engine.url.database
    _, records = _records(20)
    mem.upsert("ws_a", records)
    assert isinstance(mem, VectorMemory)
    with sqlite_engine.connect() as conn:
        # the app's stdlib-sqlite3 connections keep working on the same file (they just never
        # touch the vec0 table), and see the index registry
        names = {row[0] for row in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))}
        assert {"brandcrew_vec_indexes", "vec_memory"} <= names
        row = conn.execute(
            text("SELECT dimension, metric FROM brandcrew_vec_indexes WHERE name = 'memory'")
        ).one()
        assert tuple(row) == (8, "cosine")
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    mem.close()


def test_concurrent_writers_and_readers_on_their_own_connections(memory: SqliteVecMemory) -> None:
    _, records = _records(400)
    errors: list[BaseException] = []

    def write(part: list[Record]) -> None:
        try:
            for start in range(0, len(part), 10):
                memory.upsert("ws_a", part[start : start + 10])
                memory.query("ws_a", part[start].vector, top_k=3)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(records[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert memory.count("ws_a") == 400


def test_euclidean_scores_are_negative_distances(vec_path: Path) -> None:
    mem = SqliteVecMemory(vec_path, index="l2", dimension=2, metric="euclidean")
    mem.upsert("ws", [Record(id="a", vector=[0.0, 0.0]), Record(id="b", vector=[3.0, 4.0])])
    got = mem.query("ws", [0.0, 0.0], top_k=2)
    assert [(m.id, round(m.score, 5)) for m in got] == [("a", 0.0), ("b", -5.0)]
    mem.close()

"""The `VectorMemory` port as a LangGraph `BaseStore`: agents' long-term memory and the supervisor's store.

Mapping:
- the first label of a LangGraph namespace is the workspace id, so it becomes the port's
  namespace (a sqlite-vec partition or a Pinecone namespace): `("ws_1", "memories", "writer")`;
- an item is one record, id = sha256 of (namespace, key) (Pinecone ids must be ASCII);
- the item's value is kept whole as JSON in metadata `_value`, and its top-level scalar fields
  are copied to `v_<field>` so that `search(filter=...)` runs as a metadata filter;
- the namespace is kept as `_ns` ("a.b.c"; labels cannot contain dots) and as prefixes `_ns2`,
  `_ns3`, ... so that a namespace-prefix search is an equality filter on both backends.

With an embedder, `put` embeds the configured fields (`"$"`, the whole value, by default; or
the `index=[...]` paths given to `put`, joined into one text) and `search(query=...)` is a
semantic search. Items stored with `index=False`, or without an embedder, are found by filter
only. TTLs are not supported.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from langgraph.store.base import (
    BaseStore,
    GetOp,
    Item,
    ListNamespacesOp,
    MatchCondition,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
)
from langgraph.store.base.embed import get_text_at_path

from brandcrew.memory._filters import LOGICAL_OPS, OPERATORS, InvalidFilterError
from brandcrew.memory.embedders import Embedder
from brandcrew.memory.port import Record, VectorMemory, check_dimension
from brandcrew.memory.sqlite_vec import FieldType, SqliteVecMemory

__all__ = ("STORE_METADATA_FIELDS", "VectorMemoryStore")

STORE_METADATA_FIELDS: dict[str, FieldType] = {
    "_ns": "text",
    "_ns2": "text",
    "_ns3": "text",
    "_indexed": "boolean",
    "_updated_at": "float",
}
"""Columns a sqlite-vec index for the store declares, so prefix and recency filters run in SQL."""


def _item_id(namespace: tuple[str, ...], key: str) -> str:
    return hashlib.sha256(json.dumps([list(namespace), key]).encode("utf-8")).hexdigest()


def _when(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool))


class VectorMemoryStore(BaseStore):
    """A LangGraph store over any `VectorMemory` (sqlite-vec by default, Pinecone at scale)."""

    def __init__(
        self,
        memory: VectorMemory,
        *,
        embedder: Embedder | None = None,
        fields: Sequence[str] = ("$",),
    ) -> None:
        if embedder is not None:
            check_dimension(memory.index, embedder.dimension, what=f"embedder {embedder.name!r}")
        self.memory = memory
        self.embedder = embedder
        self.fields = list(fields)

    @classmethod
    def sqlite(
        cls,
        database: str | Path,
        *,
        embedder: Embedder | None = None,
        index: str = "store",
        dimension: int | None = None,
    ) -> VectorMemoryStore:
        """A store in a SQLite file, in its own `vec0` index."""
        dim = embedder.dimension if embedder is not None else (dimension or 384)
        memory = SqliteVecMemory(database, index=index, dimension=dim, metadata_fields=STORE_METADATA_FIELDS)
        return cls(memory, embedder=embedder)

    # ------------------------------------------------------------------ BaseStore
    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Run gets, searches and namespace listings, then the puts (last write per item wins)."""
        ops = list(ops)
        results: list[Result] = [None] * len(ops)
        puts: dict[tuple[tuple[str, ...], str], PutOp] = {}
        for i, op in enumerate(ops):
            if isinstance(op, GetOp):
                results[i] = self._get(op)
            elif isinstance(op, SearchOp):
                results[i] = self._search(op)
            elif isinstance(op, ListNamespacesOp):
                results[i] = self._list_namespaces(op)
            elif isinstance(op, PutOp):
                puts[(tuple(op.namespace), op.key)] = op
            else:
                raise TypeError(f"unknown store operation {type(op).__name__}")
        if puts:
            self._put(list(puts.values()))
        return results

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """`batch` in a worker thread: the port is synchronous (SQLite, the Pinecone HTTP client)."""
        return await asyncio.to_thread(self.batch, list(ops))

    # ------------------------------------------------------------------ operations
    def _to_item(self, meta: dict[str, Any]) -> Item:
        return Item(**_item_fields(meta))

    def _to_search_item(self, meta: dict[str, Any], score: float | None = None) -> SearchItem:
        return SearchItem(score=score, **_item_fields(meta))

    def _get(self, op: GetOp) -> Item | None:
        _check_namespace(op.namespace)
        found = self.memory.fetch(op.namespace[0], [_item_id(tuple(op.namespace), op.key)])
        return self._to_item(found[0].metadata) if found else None

    def _put(self, ops: list[PutOp]) -> None:
        by_workspace: dict[str, list[PutOp]] = {}
        for op in ops:
            _check_namespace(op.namespace)
            if op.ttl is not None:
                raise NotImplementedError("VectorMemoryStore does not support TTLs")
            by_workspace.setdefault(op.namespace[0], []).append(op)
        now = time.time()
        for workspace, group in by_workspace.items():
            deletes = [_item_id(tuple(op.namespace), op.key) for op in group if op.value is None]
            writes = [op for op in group if op.value is not None]
            if deletes:
                self.memory.delete(workspace, ids=deletes)
            if not writes:
                continue
            ids = [_item_id(tuple(op.namespace), op.key) for op in writes]
            created = {rec.id: rec.metadata.get("_created_at") for rec in self.memory.fetch(workspace, ids)}
            texts: dict[int, str] = {}
            for i, op in enumerate(writes):
                paths = self.fields if op.index is None else (op.index or [])
                if self.embedder is not None and paths:
                    text = "\n".join(
                        t for path in paths for t in get_text_at_path(dict(op.value or {}), path)
                    )
                    if text:
                        texts[i] = text
            vectors = self.embedder.embed(list(texts.values())) if (self.embedder and texts) else None
            row_of = {i: n for n, i in enumerate(texts)}
            # Items without an embedding still need a vector (vec0 and Pinecone both require one);
            # a fixed unit vector does, and `_indexed = False` keeps it out of semantic search.
            blank = np.zeros(self.memory.index.dimension, dtype=np.float32)
            blank[0] = 1.0
            records = []
            for i, (op, rid) in enumerate(zip(writes, ids, strict=True)):
                namespace = tuple(op.namespace)
                value = dict(op.value or {})
                meta: dict[str, Any] = {
                    "_ns": ".".join(namespace),
                    "_key": op.key,
                    "_value": json.dumps(value, ensure_ascii=False, default=str),
                    "_created_at": created.get(rid) or now,
                    "_updated_at": now,
                    "_indexed": i in texts,
                }
                for depth in range(2, len(namespace) + 1):
                    meta[f"_ns{depth}"] = ".".join(namespace[:depth])
                for field, v in value.items():
                    if _is_scalar(v) or (isinstance(v, list) and v and all(isinstance(x, str) for x in v)):
                        meta[f"v_{field}"] = v
                vector = vectors[row_of[i]] if vectors is not None and i in texts else blank
                records.append(Record(id=rid, vector=vector, metadata=meta, text=texts.get(i, "")))
            self.memory.upsert(workspace, records)

    def _filter(self, op: SearchOp) -> dict[str, Any]:
        prefix = tuple(op.namespace_prefix)
        out: dict[str, Any] = {}
        if len(prefix) >= 2:
            out[f"_ns{len(prefix)}"] = {"$eq": ".".join(prefix)}
        for field, cond in (op.filter or {}).items():
            if field in LOGICAL_OPS:
                raise InvalidFilterError(
                    "store filters combine fields with an implicit AND; $and/$or are not supported"
                )
            if isinstance(cond, dict) and not all(k in OPERATORS for k in cond):
                raise InvalidFilterError(
                    f"store filter on {field!r}: nested-object matching is not supported; filter on top-level fields"
                )
            out[f"v_{field}"] = cond
        return out

    def _workspaces(self, prefix: tuple[str, ...]) -> list[str]:
        return [prefix[0]] if prefix else self.memory.namespaces()

    def _search(self, op: SearchOp) -> list[SearchItem]:
        prefix = tuple(op.namespace_prefix)
        if prefix:
            _check_namespace(prefix)
        filt = self._filter(op)
        want = op.offset + op.limit
        if op.query and self.embedder is not None:
            vector = self.embedder.embed([op.query])[0]
            matches = []
            for workspace in self._workspaces(prefix):
                matches += self.memory.query(workspace, vector, top_k=want, filter={**filt, "_indexed": True})
            matches.sort(key=lambda m: -m.score)
            return [self._to_search_item(m.metadata, m.score) for m in matches[op.offset : want]]
        records: list[Record] = []
        for workspace in self._workspaces(prefix):
            records += self.memory.scan(workspace, filter=filt or None)
        records.sort(key=lambda r: -float(r.metadata.get("_updated_at", 0.0)))
        return [self._to_search_item(r.metadata) for r in records[op.offset : want]]

    def _list_namespaces(self, op: ListNamespacesOp) -> list[tuple[str, ...]]:
        found: set[tuple[str, ...]] = set()
        for workspace in self.memory.namespaces():
            found |= {tuple(str(r.metadata["_ns"]).split(".")) for r in self.memory.scan(workspace)}
        names = [ns for ns in found if all(_does_match(c, ns) for c in op.match_conditions or ())]
        if op.max_depth is not None:
            names = list({ns[: op.max_depth] for ns in names})
        return sorted(names)[op.offset : op.offset + op.limit]


def _item_fields(meta: dict[str, Any]) -> dict[str, Any]:
    return {
        "namespace": tuple(str(meta["_ns"]).split(".")),
        "key": str(meta["_key"]),
        "value": json.loads(str(meta["_value"])),
        "created_at": _when(float(meta["_created_at"])),
        "updated_at": _when(float(meta["_updated_at"])),
    }


def _check_namespace(namespace: Sequence[str]) -> None:
    from langgraph.store.base import InvalidNamespaceError

    if not namespace:
        raise InvalidNamespaceError("namespace cannot be empty: its first label is the workspace id")
    for label in namespace:
        if not isinstance(label, str) or not label or "." in label:
            raise InvalidNamespaceError(f"invalid namespace label {label!r} in {tuple(namespace)}")


def _does_match(condition: MatchCondition, namespace: tuple[str, ...]) -> bool:
    path = tuple(condition.path)
    if len(namespace) < len(path):
        return False
    part = (
        namespace[: len(path)]
        if condition.match_type == "prefix"
        else namespace[len(namespace) - len(path) :]
    )
    return all(p == "*" or p == n for p, n in zip(path, part, strict=True))

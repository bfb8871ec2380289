"""`VectorMemory` on Pinecone (package `pinecone`, 10.x): one namespace per workspace.

The index must exist (create it once with `pc.indexes.create(...)` or in the console); opening
it reads its description (`GET /indexes/{name}`), takes the data-plane host from there and
compares the dense field's dimension with the embedder's, so a mismatch fails at start-up
with a clear error rather than as a 400 on the first upsert.

Filters are validated with the same rules as sqlite-vec and then sent as they are: Pinecone's
filter language is the one the port speaks. A record's text travels in the metadata field
`_text` (Pinecone has no separate text column) and is stripped from `Match.metadata`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from brandcrew.errors import UserError
from brandcrew.memory._filters import Filter, matches, validate_filter
from brandcrew.memory.port import (
    IndexSpec,
    Match,
    Metric,
    Record,
    VectorLike,
    as_matrix,
    check_dimension,
    check_metadata,
    check_namespace,
)

if TYPE_CHECKING:
    from pinecone import Index, Pinecone

__all__ = ("TEXT_KEY", "PineconeMemory")

TEXT_KEY = "_text"
"""Metadata field holding a record's source text."""
UPSERT_BATCH = 100
"""Pinecone recommends about 100 vectors per upsert request (2 MB limit)."""
FETCH_BATCH = 100


def _dense_field(description: Any) -> tuple[int, str]:
    """Dimension and metric of an index's single dense-vector field (API 2026-07 `schema`)."""
    from pinecone import DenseVectorField

    fields = getattr(getattr(description, "schema", None), "fields", None) or {}
    dense = [f for f in fields.values() if isinstance(f, DenseVectorField)]
    if len(dense) != 1:
        raise UserError(
            f"Pinecone index {description.name!r} must have exactly one dense vector field, found {len(dense)}"
        )
    return int(dense[0].dimension), str(dense[0].metric).lower()


class PineconeMemory:
    """Vector memory in a Pinecone index, a namespace per workspace."""

    def __init__(
        self,
        index: str,
        *,
        dimension: int,
        api_key: str | None = None,
        client: Pinecone | None = None,
        host: str | None = None,
    ) -> None:
        if client is None:
            from pinecone import Pinecone

            key = api_key or os.environ.get("PINECONE_API_KEY")
            if not key:
                raise UserError("the Pinecone backend needs PINECONE_API_KEY (or api_key=...)")
            client = Pinecone(api_key=key)
        self._client = client
        description = client.indexes.describe(index)
        actual_dimension, metric = _dense_field(description)
        if metric not in ("cosine", "euclidean", "dotproduct"):
            raise UserError(f"Pinecone index {index!r} uses an unknown metric {metric!r}")
        self._index = IndexSpec(name=index, dimension=actual_dimension, metric=cast(Metric, metric))
        check_dimension(self._index, dimension)
        resolved = host or description.host
        if not resolved:
            raise UserError(f"Pinecone index {index!r} has no host yet: it is still initializing")
        self._data: Index = client.index(host=resolved)

    @property
    def index(self) -> IndexSpec:
        """The Pinecone index (name, dimension and metric as Pinecone describes it)."""
        return self._index

    def upsert(self, namespace: str, records: Sequence[Record]) -> int:
        """Insert or replace records by id, 100 per request; returns how many were written."""
        check_namespace(namespace)
        if not records:
            return 0
        latest = list({rec.id: rec for rec in records}.values())
        matrix = as_matrix(self._index, [rec.vector for rec in latest])
        written = 0
        for start in range(0, len(latest), UPSERT_BATCH):
            batch = []
            for rec, row in zip(
                latest[start : start + UPSERT_BATCH], matrix[start : start + UPSERT_BATCH], strict=True
            ):
                meta = check_metadata(rec.metadata)
                if rec.text:
                    meta[TEXT_KEY] = rec.text
                item: dict[str, Any] = {"id": rec.id, "values": [float(v) for v in row]}
                if meta:
                    item["metadata"] = meta
                batch.append(item)
            response = self._data.upsert(vectors=batch, namespace=namespace)
            written += int(response.upserted_count)
        return written

    def query(
        self,
        namespace: str,
        vector: VectorLike,
        *,
        top_k: int = 10,
        filter: Filter | None = None,
        include_vectors: bool = False,
    ) -> list[Match]:
        """The `top_k` nearest records that pass `filter` (Pinecone evaluates it), closest first."""
        check_namespace(namespace)
        if top_k <= 0:
            return []
        query = as_matrix(self._index, [vector])[0]
        canonical = validate_filter(filter)
        response = self._data.query(
            top_k=top_k,
            vector=[float(v) for v in query],
            namespace=namespace,
            filter=canonical or None,
            include_metadata=True,
            include_values=include_vectors,
        )
        out = []
        for m in response.matches:
            meta = dict(m.metadata or {})
            text = str(meta.pop(TEXT_KEY, ""))
            score = float(m.score)
            out.append(
                Match(
                    id=m.id,
                    # Pinecone's euclidean score is a distance (lower is closer); the port's is a similarity.
                    score=-score if self._index.metric == "euclidean" else score,
                    metadata=meta,
                    text=text,
                    vector=[float(v) for v in m.values] if include_vectors else None,
                )
            )
        return out

    def fetch(self, namespace: str, ids: Sequence[str]) -> list[Record]:
        """The records with these ids, in the order asked (missing ids are skipped)."""
        check_namespace(namespace)
        wanted = list(dict.fromkeys(ids))
        found: dict[str, Record] = {}
        for start in range(0, len(wanted), FETCH_BATCH):
            response = self._data.fetch(ids=wanted[start : start + FETCH_BATCH], namespace=namespace)
            for vid, vec in response.vectors.items():
                meta = dict(vec.metadata or {})
                text = str(meta.pop(TEXT_KEY, ""))
                found[vid] = Record(id=vid, vector=[float(v) for v in vec.values], metadata=meta, text=text)
        return [found[i] for i in wanted if i in found]

    def scan(self, namespace: str, *, filter: Filter | None = None, limit: int | None = None) -> list[Record]:
        """Records passing `filter` in id order: lists ids (serverless indexes), fetches, filters here."""
        check_namespace(namespace)
        canonical = validate_filter(filter)
        ids: list[str] = []
        for page in self._data.list(namespace=namespace):
            ids.extend(str(item.id) for item in page.vectors if item.id)
        out = [rec for rec in self.fetch(namespace, sorted(ids)) if matches(canonical, rec.metadata)]
        return out if limit is None else out[:limit]

    def delete(
        self, namespace: str, *, ids: Sequence[str] | None = None, filter: Filter | None = None
    ) -> None:
        """Delete records by id or by filter (exactly one of the two)."""
        check_namespace(namespace)
        if (ids is None) == (filter is None):
            raise UserError("delete takes ids or a filter, not both or neither")
        if ids is not None:
            ids = list(ids)
            for start in range(0, len(ids), 1000):
                self._data.delete(ids=ids[start : start + 1000], namespace=namespace)
        else:
            self._data.delete(filter=validate_filter(filter), namespace=namespace)

    def delete_namespace(self, namespace: str) -> None:
        """Delete every record of one workspace."""
        check_namespace(namespace)
        self._data.delete(delete_all=True, namespace=namespace)

    def namespaces(self) -> list[str]:
        """The workspaces holding at least one record."""
        names: list[str] = []
        for page in self._data.list_namespaces():
            names.extend(str(ns.name) for ns in page.namespaces if ns.name)
        return sorted(names)

    def close(self) -> None:
        """Release the HTTP connections."""
        self._data.close()

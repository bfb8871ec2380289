"""The `VectorMemory` port: what every vector backend (sqlite-vec, Pinecone) offers.

A memory is one *index* of fixed dimension and metric. Inside it, every call names a
*namespace*, which is the workspace id: sqlite-vec keeps it as a `vec0` partition key and
Pinecone as a namespace, so one tenant's scan never touches another's vectors.

Scores are similarities, higher is closer: cosine similarity for `cosine`, the dot product for
`dotproduct`, and minus the euclidean distance for `euclidean`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from brandcrew.errors import UserError
from brandcrew.memory._filters import Filter, InvalidFilterError, check_metadata, matches, validate_filter

__all__ = (
    "DimensionMismatchError",
    "Filter",
    "IndexSpec",
    "InvalidFilterError",
    "Match",
    "Metric",
    "Record",
    "VectorLike",
    "VectorMemory",
    "as_matrix",
    "check_dimension",
    "check_metadata",
    "check_namespace",
    "matches",
    "validate_filter",
)

Metric = Literal["cosine", "euclidean", "dotproduct"]
VectorLike = Sequence[float] | npt.NDArray[np.floating[Any]]


class DimensionMismatchError(UserError):
    """A vector, an embedder or an index disagree on the embedding dimension."""

    def __init__(self, message: str, *, index: str, expected: int, got: int) -> None:
        super().__init__(message)
        self.index = index
        self.expected = expected
        """The dimension the index was created with."""
        self.got = got


@dataclass(frozen=True, kw_only=True, slots=True)
class IndexSpec:
    """Name, dimension and metric of one vector index, as recorded when it was created."""

    name: str
    dimension: int
    metric: Metric = "cosine"


# Records and matches are dataclasses rather than pydantic models: the bench moves 100k of them
# and validating 384 floats per record would cost more than the insert itself.
@dataclass(kw_only=True, slots=True)
class Record:
    """One stored vector: id (unique in its namespace), values, filterable metadata and source text."""

    id: str
    vector: VectorLike
    metadata: dict[str, Any] = field(default_factory=dict)
    text: str = ""


@dataclass(kw_only=True, slots=True)
class Match:
    """One query result; `score` is a similarity (higher is closer)."""

    id: str
    score: float
    metadata: dict[str, Any] = field(default_factory=dict)
    text: str = ""
    vector: list[float] | None = None


@runtime_checkable
class VectorMemory(Protocol):
    """Upsert, query, fetch and delete vectors, one namespace (workspace) at a time."""

    @property
    def index(self) -> IndexSpec:
        """The index this memory reads and writes."""
        ...

    def upsert(self, namespace: str, records: Sequence[Record]) -> int:
        """Insert or replace records by id; returns how many were written."""
        ...

    def query(
        self,
        namespace: str,
        vector: VectorLike,
        *,
        top_k: int = 10,
        filter: Filter | None = None,
        include_vectors: bool = False,
    ) -> list[Match]:
        """The `top_k` nearest records that pass `filter`, closest first."""
        ...

    def fetch(self, namespace: str, ids: Sequence[str]) -> list[Record]:
        """The records with these ids (missing ids are skipped)."""
        ...

    def scan(self, namespace: str, *, filter: Filter | None = None, limit: int | None = None) -> list[Record]:
        """Records passing `filter` in id order, without a query vector."""
        ...

    def delete(
        self, namespace: str, *, ids: Sequence[str] | None = None, filter: Filter | None = None
    ) -> None:
        """Delete records by id or by filter."""
        ...

    def delete_namespace(self, namespace: str) -> None:
        """Delete every record of one namespace."""
        ...

    def namespaces(self) -> list[str]:
        """The namespaces holding at least one record."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def check_namespace(namespace: str) -> str:
    """A namespace (workspace id) must be a non-empty string."""
    if not isinstance(namespace, str) or not namespace:
        raise UserError(f"namespace (workspace id) must be a non-empty string, got {namespace!r}")
    return namespace


def as_matrix(index: IndexSpec, vectors: Sequence[VectorLike] | npt.NDArray[Any]) -> npt.NDArray[np.float32]:
    """Stack vectors as float32 rows, checking the dimension; cosine indexes get unit rows."""
    matrix = np.asarray(vectors, dtype=np.float32)
    if matrix.ndim == 1:
        matrix = matrix.reshape(1, -1)
    if matrix.ndim != 2:
        raise UserError(f"vectors must be a 2-D array, got shape {matrix.shape}")
    if matrix.shape[0] and matrix.shape[1] != index.dimension:
        raise DimensionMismatchError(
            f"index {index.name!r} holds {index.dimension}-dimension vectors, got {matrix.shape[1]}: "
            "the embedder does not match the one the index was built with",
            index=index.name,
            expected=index.dimension,
            got=int(matrix.shape[1]),
        )
    if not np.isfinite(matrix).all():
        raise UserError("vectors must be finite (no NaN or infinity)")
    if index.metric == "cosine" and matrix.shape[0]:
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        if (norms == 0).any():
            raise UserError("a zero vector has no direction: it cannot be stored in or query a cosine index")
        matrix = matrix / norms
    return np.ascontiguousarray(matrix, dtype=np.float32)


def check_dimension(index: IndexSpec, dimension: int, *, what: str = "embedder") -> None:
    """Raise a clear error when `dimension` is not the index's."""
    if dimension != index.dimension:
        raise DimensionMismatchError(
            f"index {index.name!r} was created for {index.dimension}-dimension vectors but the {what} "
            f"makes {dimension}; use the embedder the index was built with, or a new index name",
            index=index.name,
            expected=index.dimension,
            got=dimension,
        )

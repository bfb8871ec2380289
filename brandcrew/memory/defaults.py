"""The process's default vector memory and store: sqlite-vec in the application database, Pinecone when configured.

Which backend is a setting, not a code path: `PINECONE_API_KEY` selects Pinecone, with one
Pinecone index per brandcrew index named `<BRANDCREW_PINECONE_INDEX_PREFIX>-<index>` (prefix
`brandcrew` by default: `brandcrew-memory`, `brandcrew-store`). Otherwise the vectors live in
the same SQLite file as the rest of the data. A PostgreSQL deployment without Pinecone has no
embedded vector store and gets a clear error.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from brandcrew.errors import UserError
from brandcrew.memory.embedders import Embedder, default_embedder
from brandcrew.memory.port import VectorMemory
from brandcrew.memory.remember import MEMORY_METADATA_FIELDS
from brandcrew.memory.sqlite_vec import FieldType
from brandcrew.memory.store import STORE_METADATA_FIELDS, VectorMemoryStore
from brandcrew.settings import Settings

__all__ = ("open_memory", "open_store")


def open_memory(
    settings: Settings | None = None,
    *,
    embedder: Embedder | None = None,
    index: str = "memory",
    metadata_fields: Mapping[str, FieldType] | None = None,
) -> VectorMemory:
    """The configured `VectorMemory` for `index`, sized for `embedder` (the default embedder if None)."""
    embedder = embedder or default_embedder()
    if os.environ.get("PINECONE_API_KEY"):
        from brandcrew.memory.pinecone_backend import PineconeMemory

        prefix = os.environ.get("BRANDCREW_PINECONE_INDEX_PREFIX", "brandcrew")
        return PineconeMemory(f"{prefix}-{index.replace('_', '-')}", dimension=embedder.dimension)
    from brandcrew.memory.sqlite_vec import SqliteVecMemory
    from brandcrew.store.engine import get_engine

    engine = get_engine(settings)
    if engine.dialect.name != "sqlite":
        raise UserError("vector memory on PostgreSQL needs Pinecone: set PINECONE_API_KEY")
    fields = metadata_fields if metadata_fields is not None else MEMORY_METADATA_FIELDS
    return SqliteVecMemory.from_engine(
        engine, index=index, dimension=embedder.dimension, metadata_fields=fields
    )


def open_store(settings: Settings | None = None, *, embedder: Embedder | None = None) -> VectorMemoryStore:
    """The LangGraph store for agents' long-term memory and the supervisor, semantic with `embedder`."""
    embedder = embedder or default_embedder()
    memory = open_memory(settings, embedder=embedder, index="store", metadata_fields=STORE_METADATA_FIELDS)
    return VectorMemoryStore(memory, embedder=embedder)

"""The process's default vector memory: sqlite-vec in the application database, Pinecone when configured.

Which backend is a setting, not a code path: `PINECONE_API_KEY` (with `BRANDCREW_PINECONE_INDEX`,
default `brandcrew-memory`) selects Pinecone; otherwise the vectors live in the same SQLite file
as the rest of the data. A PostgreSQL deployment without Pinecone has no embedded vector store
and gets a clear error.
"""

from __future__ import annotations

import os

from brandcrew.errors import UserError
from brandcrew.memory.embedders import Embedder, default_embedder
from brandcrew.memory.port import VectorMemory
from brandcrew.memory.remember import MEMORY_METADATA_FIELDS
from brandcrew.settings import Settings

__all__ = ("open_memory",)


def open_memory(
    settings: Settings | None = None, *, embedder: Embedder | None = None, index: str = "memory"
) -> VectorMemory:
    """The configured `VectorMemory` for `index`, sized for `embedder` (the default embedder if None)."""
    embedder = embedder or default_embedder()
    if os.environ.get("PINECONE_API_KEY"):
        from brandcrew.memory.pinecone_backend import PineconeMemory

        name = os.environ.get("BRANDCREW_PINECONE_INDEX", "brandcrew-memory")
        return PineconeMemory(name, dimension=embedder.dimension)
    from brandcrew.memory.sqlite_vec import SqliteVecMemory
    from brandcrew.store.engine import get_engine

    engine = get_engine(settings)
    if engine.dialect.name != "sqlite":
        raise UserError(
            "vector memory on PostgreSQL needs Pinecone: set PINECONE_API_KEY and BRANDCREW_PINECONE_INDEX"
        )
    return SqliteVecMemory.from_engine(
        engine, index=index, dimension=embedder.dimension, metadata_fields=MEMORY_METADATA_FIELDS
    )

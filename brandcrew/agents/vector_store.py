"""Sentence vectors of the router's training texts, kept on disk between processes.

Embedding a few thousand examples with two encoders takes about a minute and a half on two cores: a
router fit whose inputs changed (an edited example, an added agent) would pay it again for every
text. With the vectors kept, it embeds only the texts it has not seen. Only training texts are
kept here, never the requests being routed (they are the users' words, and a store of them would only
grow).
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Sequence
from contextlib import closing, suppress
from pathlib import Path

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float32]

_MAX_ROWS = 200_000
"""Above this many vectors the store starts again (each edit of the examples adds a few)."""


def _key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class VectorStore:
    """Vectors of one named encoder, by text, in a SQLite file."""

    def __init__(self, directory: Path, encoder: str) -> None:
        self.path = directory / f"vectors-{_key(encoder)[:16]}.sqlite"

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
        return db

    def get(self, texts: Sequence[str]) -> dict[str, Matrix]:
        """The kept vectors of those texts that have one."""
        keys = {_key(t): t for t in texts}
        found: dict[str, Matrix] = {}
        with closing(self._open()) as db:
            listed = list(keys)
            for start in range(0, len(listed), 500):  # SQLite's limit on bound parameters
                chunk = listed[start : start + 500]
                marks = ",".join("?" * len(chunk))
                query = f"SELECT key, vector FROM vectors WHERE key IN ({marks})"
                for key, blob in db.execute(query, chunk):
                    found[keys[key]] = np.frombuffer(blob, dtype=np.float32).copy()
        return found

    def put(self, vectors: dict[str, Matrix]) -> None:
        """Keep these vectors (a text already kept keeps its first vector)."""
        with closing(self._open()) as db, db:
            (count,) = db.execute("SELECT count(*) FROM vectors").fetchone()
            if count + len(vectors) > _MAX_ROWS:
                db.execute("DELETE FROM vectors")
            db.executemany(
                "INSERT OR IGNORE INTO vectors (key, vector) VALUES (?, ?)",
                [(_key(t), np.asarray(v, dtype=np.float32).tobytes()) for t, v in vectors.items()],
            )


def embed_kept(embed: Callable[[list[str]], Matrix], store: VectorStore | None, texts: list[str]) -> Matrix:
    """`embed(texts)`, taking the vectors the store keeps and keeping the ones it had to compute; a
    store that cannot be read or written (a read-only home, a damaged file) is only skipped."""
    if store is None or not texts:
        return np.asarray(embed(texts), dtype=np.float32)
    unique = list(dict.fromkeys(texts))
    try:
        known = store.get(unique)
    except (sqlite3.Error, OSError):
        known = {}
    missing = [t for t in unique if t not in known]
    if missing:
        fresh = dict(zip(missing, np.asarray(embed(missing), dtype=np.float32), strict=True))
        with suppress(sqlite3.Error, OSError):
            store.put(fresh)
        known.update(fresh)
    widths = {v.shape[0] for v in known.values()}
    if len(widths) != 1:  # vectors of another shape under this name: the encoder changed, embed afresh
        return np.asarray(embed(texts), dtype=np.float32)
    return np.stack([known[t] for t in texts]).astype(np.float32)

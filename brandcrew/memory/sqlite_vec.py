"""`VectorMemory` on sqlite-vec: a `vec0` table per index, inside the application's SQLite file.

Layout of one index named `memory`:

    vec_memory USING vec0(
        workspace_id text partition key,        -- one shard per workspace
        key text primary key,                   -- "<workspace>\\x1f<record id>"
        embedding float[D] distance_metric=l2,
        m_<field> <type>, ...                   -- declared filterable metadata (at most 16)
        +record_id text, +text text, +metadata text   -- auxiliary: id, source text, all metadata as JSON
    )

and a row in `brandcrew_vec_indexes` recording its dimension, metric and declared fields, so a
process with a different embedder gets a `DimensionMismatchError` instead of silently mixing
spaces. Cosine indexes store unit vectors and search by L2, which ranks exactly as cosine does
(|a-b|^2 = 2 - 2cos) and is the faster of sqlite-vec's two scans.

Filters: conditions `vec0` can evaluate on declared columns run in SQL, inside the KNN scan;
everything is then re-checked in Python. When part of a filter stays in Python, the KNN asks
for more candidates (over-fetch) and widens until top-k is filled, falling back to an exact
scan of the workspace, so results are always the exact filtered top-k.

Stdlib `sqlite3` here cannot load extensions (see DESIGN "Offline facts"), so connections come
from `pysqlite3` when it is installed; one connection per thread.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np
import numpy.typing as npt

from brandcrew.errors import UserError
from brandcrew.memory._filters import Filter, matches, op_matches, validate_filter
from brandcrew.memory.port import (
    DimensionMismatchError,
    IndexSpec,
    Match,
    Metric,
    Record,
    VectorLike,
    as_matrix,
    check_metadata,
    check_namespace,
)
from brandcrew.store.engine import sqlite_module

if TYPE_CHECKING:
    from sqlalchemy import Engine

__all__ = ("FieldType", "SqliteVecMemory", "connect_vec")

FieldType = Literal["text", "integer", "float", "boolean"]

REGISTRY_TABLE = "brandcrew_vec_indexes"
MAX_K = 4096
"""sqlite-vec 0.1.9 refuses a KNN `k` above 4096."""
MAX_METADATA_COLUMNS = 16
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_SEP = "\x1f"

# vec0 metadata columns cannot hold NULL, so a record without the field stores a sentinel. The
# pushdown below never lets a sentinel decide a result: it only pushes a condition when missing
# rows are treated as the Python evaluator treats them, and re-checks in Python otherwise.
_SENTINELS: dict[str, Any] = {
    "text": "",
    "integer": -(2**63),
    "float": -1.7976931348623157e308,
    "boolean": False,
}
_SQL_OPS = {"$eq": "=", "$ne": "!=", "$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}


def connect_vec(path: str, *, busy_timeout_ms: int = 60_000, mmap_size: int = 1 << 30) -> Any:
    """A DBAPI connection to `path` with sqlite-vec loaded, WAL, busy timeout and memory-mapped reads."""
    # The module the application's engine uses too (`sqlite_module`): one SQLite library per process.
    module: Any = sqlite_module()
    if module is None:  # platforms where the stdlib module can load extensions
        import sqlite3 as module
    import sqlite_vec

    conn = module.connect(path, timeout=busy_timeout_ms / 1000, isolation_level=None, check_same_thread=False)
    if not hasattr(conn, "enable_load_extension"):
        raise UserError(
            "this Python's sqlite3 cannot load extensions; install pysqlite3-binary (Linux) or sqlean-py"
        )
    conn.enable_load_extension(True)
    sqlite_vec.load(conn)
    conn.enable_load_extension(False)
    conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    # KNN in vec0 is a brute-force scan of the vector chunks; reading them through mmap instead
    # of the page cache takes about a third off a 100k-vector query.
    conn.execute(f"PRAGMA mmap_size={int(mmap_size)}")
    return conn


def _fits(kind: str, value: Any) -> bool:
    if kind == "text":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _param(kind: str, value: Any) -> Any:
    if kind == "float":
        return float(value)
    if kind == "boolean":
        return int(value)
    return value


class SqliteVecMemory:
    """Vector memory in a SQLite file through sqlite-vec, one `vec0` partition per workspace."""

    def __init__(
        self,
        database: str | Path,
        *,
        index: str = "memory",
        dimension: int,
        metric: Metric = "cosine",
        metadata_fields: Mapping[str, FieldType] | None = None,
        busy_timeout_ms: int = 60_000,
        mmap_size: int = 1 << 30,
    ) -> None:
        path = str(database)
        if not path or path == ":memory:" or path.startswith("file::memory:"):
            # Each thread opens its own connection, and in-memory databases are per connection.
            raise UserError("sqlite-vec memory needs a database file, not an in-memory database")
        if not _NAME.match(index):
            raise UserError(f"index name {index!r} must match {_NAME.pattern}")
        if metric not in ("cosine", "euclidean"):
            raise UserError(f"sqlite-vec supports the cosine and euclidean metrics, not {metric!r}")
        if dimension <= 0:
            raise UserError(f"dimension must be positive, got {dimension}")
        fields = dict(metadata_fields or {})
        if len(fields) > MAX_METADATA_COLUMNS:
            raise UserError(f"vec0 allows at most {MAX_METADATA_COLUMNS} metadata columns, got {len(fields)}")
        for name, kind in fields.items():
            if not _FIELD.match(name) or kind not in _SENTINELS:
                raise UserError(
                    f"metadata field {name!r}: type must be one of {sorted(_SENTINELS)}, got {kind!r}"
                )
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._mmap_size = mmap_size
        self._local = threading.local()
        self._connections: list[Any] = []
        self._connections_lock = threading.Lock()
        self._table = f"vec_{index}"
        self._index, self._fields = self._open_index(
            IndexSpec(name=index, dimension=dimension, metric=metric), fields
        )

    @classmethod
    def from_engine(cls, engine: Engine, **kwargs: Any) -> SqliteVecMemory:
        """Open the vector memory in the same SQLite file as the application's engine."""
        if engine.dialect.name != "sqlite" or not engine.url.database:
            raise UserError(
                f"sqlite-vec lives in the application's SQLite file; the engine is {engine.dialect.name} "
                "(use the Pinecone backend with PostgreSQL)"
            )
        return cls(engine.url.database, **kwargs)

    @property
    def index(self) -> IndexSpec:
        """The index this memory reads and writes."""
        return self._index

    @property
    def metadata_fields(self) -> dict[str, FieldType]:
        """The metadata fields stored as `vec0` columns (filters on them run inside the scan)."""
        return dict(self._fields)

    @property
    def path(self) -> str:
        """The SQLite file."""
        return self._path

    # ------------------------------------------------------------------ connections
    def _conn(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect_vec(self._path, busy_timeout_ms=self._busy_timeout_ms, mmap_size=self._mmap_size)
            self._local.conn = conn
            with self._connections_lock:
                self._connections.append(conn)
        return conn

    @contextmanager
    def _write(self) -> Iterator[Any]:
        conn = self._conn()
        # IMMEDIATE takes the write lock up front, so a concurrent writer waits on busy_timeout
        # instead of failing later when a read lock cannot be upgraded.
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        """Close every connection this memory opened."""
        with self._connections_lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()
        self._local = threading.local()

    # ------------------------------------------------------------------ schema
    def _open_index(
        self, spec: IndexSpec, fields: Mapping[str, str]
    ) -> tuple[IndexSpec, dict[str, FieldType]]:
        with self._write() as conn:
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {REGISTRY_TABLE} (name TEXT PRIMARY KEY, dimension INTEGER NOT NULL, "
                "metric TEXT NOT NULL, fields TEXT NOT NULL, created_at TEXT NOT NULL DEFAULT (datetime('now')))"
            )
            row = conn.execute(
                f"SELECT dimension, metric, fields FROM {REGISTRY_TABLE} WHERE name = ?", (spec.name,)
            ).fetchone()
            if row is not None:
                dimension, metric, stored_fields = int(row[0]), str(row[1]), json.loads(row[2])
                if dimension != spec.dimension:
                    raise DimensionMismatchError(
                        f"index {spec.name!r} in {self._path} was created for {dimension}-dimension vectors, "
                        f"but {spec.dimension} were asked for: the embedder changed. Re-embed into a new "
                        "index name, or use the embedder the index was built with",
                        index=spec.name,
                        expected=dimension,
                        got=spec.dimension,
                    )
                if metric != spec.metric:
                    raise UserError(f"index {spec.name!r} uses the {metric} metric, not {spec.metric}")
                # The columns of an existing table are fixed; filters on other fields still work
                # (checked in Python), so adopt what is there rather than fail.
                return spec, cast(dict[str, FieldType], stored_fields)
            columns = [
                "workspace_id text partition key",
                "key text primary key",
                f"embedding float[{spec.dimension}] distance_metric=l2",
                *(f"m_{name} {kind}" for name, kind in fields.items()),
                "+record_id text",
                "+text text",
                "+metadata text",
            ]
            conn.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {self._table} USING vec0({', '.join(columns)})")
            conn.execute(
                f"INSERT INTO {REGISTRY_TABLE} (name, dimension, metric, fields) VALUES (?, ?, ?, ?)",
                (spec.name, spec.dimension, spec.metric, json.dumps(fields)),
            )
        return spec, cast(dict[str, FieldType], dict(fields))

    def drop(self) -> None:
        """Delete the index: its table and its registry row."""
        with self._write() as conn:
            conn.execute(f"DROP TABLE IF EXISTS {self._table}")
            conn.execute(f"DELETE FROM {REGISTRY_TABLE} WHERE name = ?", (self._index.name,))

    # ------------------------------------------------------------------ writes
    def upsert(self, namespace: str, records: Sequence[Record]) -> int:
        """Insert or replace records by id; returns how many were written."""
        check_namespace(namespace)
        if not records:
            return 0
        latest = {rec.id: rec for rec in records}  # the last write of an id in one batch wins
        unique = list(latest.values())
        matrix = as_matrix(self._index, [rec.vector for rec in unique])
        rows = []
        for rec, vector in zip(unique, matrix, strict=True):
            if not isinstance(rec.id, str) or not rec.id:
                raise UserError(f"record ids must be non-empty strings, got {rec.id!r}")
            meta = check_metadata(rec.metadata)
            rows.append(
                (
                    namespace,
                    f"{namespace}{_SEP}{rec.id}",
                    vector.tobytes(),
                    *(self._column_value(name, kind, meta.get(name)) for name, kind in self._fields.items()),
                    rec.id,
                    rec.text,
                    json.dumps(meta, ensure_ascii=False),
                )
            )
        cols = [
            "workspace_id",
            "key",
            "embedding",
            *(f"m_{n}" for n in self._fields),
            "record_id",
            "text",
            "metadata",
        ]
        insert = f"INSERT INTO {self._table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        with self._write() as conn:
            # vec0 has no UPSERT: delete, then insert, in one transaction.
            conn.executemany(f"DELETE FROM {self._table} WHERE key = ?", ((row[1],) for row in rows))
            conn.executemany(insert, rows)
        return len(rows)

    def _column_value(self, name: str, kind: str, value: Any) -> Any:
        if value is None:
            return _SENTINELS[kind]
        if not _fits(kind, value):
            raise UserError(
                f"metadata {name!r} is a {kind} column of index {self._index.name!r}, got {value!r}"
            )
        return _param(kind, value)

    def delete(
        self, namespace: str, *, ids: Sequence[str] | None = None, filter: Filter | None = None
    ) -> None:
        """Delete records by id or by filter (exactly one of the two)."""
        check_namespace(namespace)
        if (ids is None) == (filter is None):
            raise UserError("delete takes ids or a filter, not both or neither")
        if filter is not None:
            ids = [
                rec.id for rec in self._iter_partition(namespace, validate_filter(filter), with_vectors=False)
            ]
        keys = [(f"{namespace}{_SEP}{i}",) for i in ids or ()]
        if keys:
            with self._write() as conn:
                conn.executemany(f"DELETE FROM {self._table} WHERE key = ?", keys)

    def delete_namespace(self, namespace: str) -> None:
        """Delete every record of one workspace."""
        check_namespace(namespace)
        with self._write() as conn:
            conn.execute(f"DELETE FROM {self._table} WHERE workspace_id = ?", (namespace,))

    # ------------------------------------------------------------------ reads
    def count(self, namespace: str) -> int:
        """How many records a workspace holds."""
        check_namespace(namespace)
        row = (
            self._conn()
            .execute(f"SELECT count(*) FROM {self._table} WHERE workspace_id = ?", (namespace,))
            .fetchone()
        )
        return int(row[0])

    def namespaces(self) -> list[str]:
        """The workspaces holding at least one record."""
        rows = self._conn().execute(f"SELECT DISTINCT workspace_id FROM {self._table}").fetchall()
        return sorted(str(r[0]) for r in rows)

    def fetch(self, namespace: str, ids: Sequence[str]) -> list[Record]:
        """The records with these ids, in the order asked (missing ids are skipped)."""
        check_namespace(namespace)
        found: dict[str, Record] = {}
        ids = list(dict.fromkeys(ids))
        conn = self._conn()
        for start in range(0, len(ids), 500):
            chunk = [f"{namespace}{_SEP}{i}" for i in ids[start : start + 500]]
            sql = (
                f"SELECT record_id, embedding, text, metadata FROM {self._table} "
                f"WHERE key IN ({', '.join('?' * len(chunk))})"
            )
            for rec in map(self._record, conn.execute(sql, chunk).fetchall()):
                found[rec.id] = rec
        return [found[i] for i in ids if i in found]

    def scan(self, namespace: str, *, filter: Filter | None = None, limit: int | None = None) -> list[Record]:
        """Records passing `filter`, in id order, without a query vector."""
        check_namespace(namespace)
        out = sorted(
            self._iter_partition(namespace, validate_filter(filter), with_vectors=True), key=lambda r: r.id
        )
        return out if limit is None else out[:limit]

    def _iter_partition(
        self, namespace: str, canonical: Filter | None, *, with_vectors: bool
    ) -> Iterator[Record]:
        where, params, _ = self._pushdown(canonical)
        sql = (
            f"SELECT record_id, {'embedding' if with_vectors else 'NULL'}, text, metadata FROM {self._table} "
            f"WHERE {' AND '.join(['workspace_id = ?', *where])}"
        )
        for row in self._conn().execute(sql, [namespace, *params]):
            rec = self._record(row)
            if matches(canonical, rec.metadata):
                yield rec

    def _record(self, row: Sequence[Any]) -> Record:
        vector: VectorLike = np.frombuffer(row[1], dtype=np.float32) if row[1] is not None else []
        return Record(id=row[0], vector=vector, text=row[2] or "", metadata=json.loads(row[3] or "{}"))

    def query(
        self,
        namespace: str,
        vector: VectorLike,
        *,
        top_k: int = 10,
        filter: Filter | None = None,
        include_vectors: bool = False,
    ) -> list[Match]:
        """The exact `top_k` nearest records in a workspace that pass `filter`, closest first."""
        check_namespace(namespace)
        if top_k <= 0:
            return []
        query = as_matrix(self._index, [vector])[0]
        canonical = validate_filter(filter)
        where, params, exact = self._pushdown(canonical)
        if top_k > MAX_K:
            return self._exact_query(namespace, query, top_k, canonical, include_vectors)
        # Over-fetch when Python must drop candidates the SQL kept.
        k = top_k if exact else min(MAX_K, max(4 * top_k, 64))
        sql = (
            f"SELECT record_id, distance, text, metadata{', embedding' if include_vectors else ''} "
            f"FROM {self._table} WHERE {' AND '.join(['embedding MATCH ?', 'k = ?', 'workspace_id = ?', *where])} "
            "ORDER BY distance"
        )
        conn = self._conn()
        blob = query.tobytes()
        while True:
            rows = conn.execute(sql, [blob, k, namespace, *params]).fetchall()
            out = []
            for row in rows:
                meta = json.loads(row[3] or "{}")
                if exact or matches(canonical, meta):
                    out.append(
                        Match(
                            id=row[0],
                            score=self._score(float(row[1])),
                            metadata=meta,
                            text=row[2] or "",
                            vector=np.frombuffer(row[4], dtype=np.float32).tolist()
                            if include_vectors
                            else None,
                        )
                    )
                    if len(out) == top_k:
                        return out
            if len(rows) < k:
                return out  # the workspace has no more candidates
            if k >= MAX_K:
                return self._exact_query(namespace, query, top_k, canonical, include_vectors)
            k = min(MAX_K, k * 4)

    def _exact_query(
        self,
        namespace: str,
        query: npt.NDArray[np.float32],
        top_k: int,
        canonical: Filter | None,
        include_vectors: bool,
    ) -> list[Match]:
        # The filter is too selective for KNN over-fetch: filter the whole workspace first, then
        # rank the survivors exactly in numpy.
        recs = list(self._iter_partition(namespace, canonical, with_vectors=True))
        if not recs:
            return []
        matrix = np.stack([np.asarray(r.vector, dtype=np.float32) for r in recs])
        dist = np.sqrt(np.maximum(((matrix - query) ** 2).sum(axis=1), 0.0))
        order = np.argsort(dist, kind="stable")[:top_k]
        return [
            Match(
                id=recs[i].id,
                score=self._score(float(dist[i])),
                metadata=recs[i].metadata,
                text=recs[i].text,
                vector=np.asarray(recs[i].vector).tolist() if include_vectors else None,
            )
            for i in order
        ]

    def _score(self, l2: float) -> float:
        if self._index.metric == "cosine":
            return 1.0 - l2 * l2 / 2.0  # unit vectors: |a-b|^2 = 2 - 2cos(a, b)
        return -l2

    def _pushdown(self, canonical: Filter | None) -> tuple[list[str], list[Any], bool]:
        """SQL conditions vec0 can evaluate, their parameters, and whether they decide the filter alone."""
        if not canonical:
            return [], [], True
        where: list[str] = []
        params: list[Any] = []
        exact = True
        for field, cond in canonical.items():
            if field == "$and":
                for sub in cond:
                    w, p, e = self._pushdown(sub)
                    where += w
                    params += p
                    exact = exact and e
                continue
            kind = self._fields.get(field)
            if field == "$or" or kind is None:
                exact = False
                continue
            sentinel = _SENTINELS[kind]
            for op, target in cond.items():
                targets = target if op in ("$in", "$nin") else [target]
                if op == "$nin" or not all(_fits(kind, t) for t in targets):
                    exact = False
                    continue
                if op == "$in":
                    if kind not in ("text", "integer"):  # vec0 0.1.9: IN only on these
                        exact = False
                        continue
                    where.append(f"m_{field} IN ({', '.join('?' * len(targets))})")
                    params += [_param(kind, t) for t in targets]
                elif op == "$ne":
                    if not op_matches(op, sentinel, target):
                        # rows without the field hold the sentinel and SQL would drop them, yet
                        # a missing field satisfies $ne: leave this one to Python
                        exact = False
                        continue
                    where.append(f"m_{field} != ?")
                    params.append(_param(kind, target))
                    continue
                else:
                    where.append(f"m_{field} {_SQL_OPS[op]} ?")
                    params.append(_param(kind, target))
                if op_matches(op, sentinel, target):
                    exact = False  # rows without the field pass the SQL; Python drops them
        return where, params, exact

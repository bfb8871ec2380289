"""Database engines: a SQLite file (WAL) by default, PostgreSQL when `DATABASE_URL` says so."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session

from brandcrew.settings import Settings, get_settings
from brandcrew.store.write_lock import FileWriteLock, WriterLock, background_writes_marked

_BUSY_TIMEOUT_S = 60.0
"""How long a SQLite writer waits for the write lock before failing."""
_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def is_sqlite(engine: Engine) -> bool:
    """True when the engine talks to SQLite."""
    return engine.dialect.name == "sqlite"


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from pysqlite so that we can issue BEGIN IMMEDIATE
        # where a transaction must hold the write lock from its first statement.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(_BUSY_TIMEOUT_S * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    # One writer at a time: per process a Python lock (a request's writers before background ones),
    # then across processes a lock on a file beside the database. SQLite's own busy handler sleeps
    # between retries (1 ms growing to 100 ms), so a writer that waits there is woken late and every
    # waiting writer gets a long tail; these wake a waiter as soon as the writer before it is done.
    # SQLite's locking still guarantees correctness (other programs may write without these locks).
    # A writer that cannot get the process lock within the busy timeout goes on without either.
    writer = WriterLock()
    database = engine.url.database
    across = FileWriteLock(f"{database}.writer-lock") if database and database != ":memory:" else None
    holders: set[int] = set()
    dialect = engine.dialect
    base_commit, base_rollback = dialect.do_commit, dialect.do_rollback

    def _release(dbapi_connection: Any) -> None:
        # The pool resets a returned connection through its proxy: key by the DB-API connection.
        key = id(getattr(dbapi_connection, "dbapi_connection", dbapi_connection))
        if key in holders:
            holders.discard(key)
            try:
                if across is not None:
                    across.release()
            finally:
                writer.release()

    def _commit(dbapi_connection: Any) -> None:
        try:
            base_commit(dbapi_connection)
        finally:
            _release(dbapi_connection)

    def _rollback(dbapi_connection: Any) -> None:
        try:
            base_rollback(dbapi_connection)
        finally:
            _release(dbapi_connection)

    def _closing(base: Any) -> Any:
        def close(dbapi_connection: Any) -> None:  # an invalidated connection never rolls back
            try:
                base(dbapi_connection)
            finally:
                _release(dbapi_connection)

        return close

    dialect.do_commit = _commit  # type: ignore[method-assign]
    dialect.do_rollback = _rollback  # type: ignore[method-assign]
    dialect.do_close = _closing(dialect.do_close)  # type: ignore[method-assign]
    dialect.do_terminate = _closing(dialect.do_terminate)  # type: ignore[method-assign]

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Reads use deferred transactions (WAL readers never block). A read-modify-write must take
        # the write lock up front (`session_scope`, `write_transaction`): a deferred transaction that
        # reads, then writes after another writer committed, fails at once with SQLITE_BUSY.
        options = conn.get_execution_options()
        if options.get("sqlite_autocommit_reads", False):
            return  # each read statement sees the latest commit on its own; nothing to roll back
        if not options.get("sqlite_immediate", False):
            conn.exec_driver_sql("BEGIN")
            return
        dbapi_connection = conn.connection.dbapi_connection
        if id(dbapi_connection) not in holders and writer.acquire(
            timeout=_BUSY_TIMEOUT_S, urgent=not background_writes_marked()
        ):
            holders.add(id(dbapi_connection))
            if across is not None:
                try:
                    across.acquire()
                except BaseException:
                    holders.discard(id(dbapi_connection))
                    writer.release()
                    raise
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _release(dbapi_connection)
            raise


def sqlite_module() -> Any | None:
    """The DB-API module for SQLite files: pysqlite3 when installed, else None (the stdlib module)."""
    try:
        import pysqlite3.dbapi2 as module  # type: ignore[import-not-found, import-untyped, unused-ignore]
    except ImportError:
        return None
    return module


def make_engine(url: str, **kwargs: Any) -> Engine:
    """A new engine for `url`, with the SQLite pragmas brandcrew relies on."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        connect_args = {"check_same_thread": False, "timeout": 60}
        # A pool as large as the server's thread pool: a connection opened past `pool_size` is
        # closed again after one use, and opening one (with its pragmas) costs more than the query.
        # One SQLite library per process: sqlite-vec's connections to this same file need pysqlite3
        # (the stdlib module here cannot load extensions), and two copies of SQLite in one process
        # break each other's POSIX locks and WAL shared memory (SQLite's "How To Corrupt Your Database
        # Files", 2.2.1) -- seen here as a Bus error while a vector connection opened the file.
        module = sqlite_module()
        if module is not None:
            kwargs.setdefault("module", module)
        engine = create_engine(url, connect_args=connect_args, pool_size=40, max_overflow=40, **kwargs)
        _configure_sqlite(engine)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        # psycopg 3 is the driver the `postgres` extra installs.
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return create_engine(url, pool_size=10, max_overflow=40, pool_pre_ping=True, **kwargs)


def get_engine(settings: Settings | None = None) -> Engine:
    """The process-wide engine for the configured database, migrated to the latest schema."""
    settings = settings or get_settings()
    url = settings.resolved_database_url()
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            from brandcrew.store.migrate import upgrade

            engine = make_engine(url)
            upgrade(engine)
            _engines[url] = engine
        return engine


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A read-modify-write session: holds the write lock from its start (SQLite), commits on success."""
    bind = engine.execution_options(sqlite_immediate=True) if is_sqlite(engine) else engine
    with Session(bind, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that holds the write lock from its start (SQLite: BEGIN IMMEDIATE)."""
    with engine.connect() as conn:
        if is_sqlite(engine):
            conn = conn.execution_options(sqlite_immediate=True)
        with conn.begin():
            yield conn

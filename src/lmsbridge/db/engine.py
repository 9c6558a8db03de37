"""The engine behind the store: SQLite in WAL mode with write transactions that take the lock up
front, or PostgreSQL through psycopg. Callers get a connection inside a transaction from
`Store.read()` or `Store.write()`; the transaction belongs to the boundary that opened it."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from lmsbridge.errors import StoreUnavailableError

_WRITE = "lmsbridge_write"
# How long a SQLite connection waits for another's lock before "database is locked".
_SQLITE_BUSY_SECONDS = 30.0


def normalise_url(url: str) -> str:
    """Accept `postgresql://` and `postgres://` as psycopg 3 URLs; leave SQLite URLs alone."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _switch_to_wal(cursor: Any) -> None:
    """Put the file in WAL mode (a no-op once it is). The first connections to a new file race to
    switch it; SQLite answers a loser that already reads the file while another connection holds
    the write lock "database is locked" at once, without waiting on the busy timeout (waiting
    could deadlock). So the switch is retried here until the busy timeout has passed: processes
    that start together on a new store wait for each other instead of failing."""
    deadline = time.monotonic() + _SQLITE_BUSY_SECONDS
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() >= deadline:
                raise
        time.sleep(0.005)


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": _SQLITE_BUSY_SECONDS},
        pool_size=8,
        max_overflow=16,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module so BEGIN is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        _switch_to_wal(cursor)
        # FULL: a 200 that names a task survives a power cut too, not only a crashed process.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(_SQLITE_BUSY_SECONDS * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the write lock at BEGIN, so two writers queue on busy_timeout instead of
        # one failing with "database is locked" when it upgrades a read lock.
        write = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _is_outage(error: DBAPIError, dialect: str) -> bool:
    if error.connection_invalidated:
        return True
    if dialect == "postgresql":
        return isinstance(error, OperationalError)
    return isinstance(error, OperationalError) and "locked" in str(error.orig)


class Store:
    """The store of one process: a pooled engine and the transaction boundaries."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = normalise_url(url)
        self.dialect = make_url(self.url).get_backend_name()
        if self.dialect == "sqlite":
            self.engine = _sqlite_engine(self.url)
        elif self.dialect == "postgresql":
            self.engine = create_engine(
                self.url,
                pool_size=pool_size,
                max_overflow=pool_size,
                pool_pre_ping=True,
                pool_timeout=10,
                connect_args={"connect_timeout": 5},
            )
        else:
            raise ValueError(f"unsupported database URL {url!r}: use sqlite:///PATH or postgresql://")

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @contextmanager
    def _transaction(self, write: bool) -> Iterator[Connection]:
        try:
            with self.engine.connect() as conn:
                if write:
                    conn.execution_options(**{_WRITE: True})
                with conn.begin():
                    yield conn
        except DBAPIError as error:
            if _is_outage(error, self.dialect):
                raise StoreUnavailableError("The store is unreachable; try again shortly.") from error
            raise

    def read(self) -> Any:
        """A read transaction (a consistent snapshot on both dialects)."""
        return self._transaction(write=False)

    def write(self) -> Any:
        """A write transaction, committed when the block ends without an exception."""
        return self._transaction(write=True)

    def ping(self) -> bool:
        try:
            with self.read() as conn:
                conn.exec_driver_sql("SELECT 1")
            return True
        except Exception:
            return False

    def dispose(self) -> None:
        self.engine.dispose()


def open_store(url: str | None = None) -> Store:
    from lmsbridge.config import get_settings

    settings = get_settings()
    return Store(url or settings.database_url, pool_size=settings.db_pool_size)

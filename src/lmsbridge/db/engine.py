"""The engine behind the store: SQLite in WAL mode with write transactions that take the lock up
front, or PostgreSQL through psycopg. Callers get a connection inside a transaction from
`Store.read()` or `Store.write()`; the transaction belongs to the boundary that opened it.
`Store.read_one()` runs a single statement without an explicit transaction, for the API's hot
reads."""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InvalidatePoolError, OperationalError

from lmsbridge.db import access_changes, json_text
from lmsbridge.db.driver_reads import DriverRead
from lmsbridge.errors import StoreUnavailableError

_WRITE = "lmsbridge_write"
_BUSY_SECONDS = 30.0
_NO_BEGIN = "lmsbridge_no_begin"
# A pooled PostgreSQL connection used less than this long ago is handed out without a ping.
PING_IDLE_SECONDS = 1.0
_LAST_USED = "lmsbridge_last_used"


def normalise_url(url: str) -> str:
    """Accept `postgresql://` and `postgres://` as psycopg 3 URLs; leave SQLite URLs alone."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


_JSON = {"json_serializer": json_text.dumps, "json_deserializer": json_text.loads}


def _switch_to_wal(cursor: Any) -> None:
    """Put the file in WAL mode (a no-op once it is). The first connections to a new file race to
    switch it; SQLite answers a loser that already reads the file while another connection holds
    the write lock "database is locked" at once, without waiting on the busy timeout (waiting
    could deadlock). So the switch is retried here until the busy timeout has passed: processes
    that start together on a new store wait for each other instead of failing."""
    deadline = time.monotonic() + _BUSY_SECONDS
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() >= deadline:
                raise
        time.sleep(0.005)


def _sqlite_engine(url: str, pool_size: int) -> Engine:
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": _BUSY_SECONDS},
        # As on PostgreSQL: `pool_size` kept open, as many again opened (and closed) under a burst.
        pool_size=pool_size,
        max_overflow=pool_size,
        **_JSON,
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
        cursor.execute(f"PRAGMA busy_timeout={int(_BUSY_SECONDS * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the write lock at BEGIN, so two writers queue on busy_timeout instead of
        # one failing with "database is locked" when it upgrades a read lock.
        options = conn.get_execution_options()
        if options.get(_NO_BEGIN, False):
            return  # one statement, in SQLite's own implicit transaction (`Store.read_one`)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get(_WRITE, False) else "BEGIN")

    return engine


def has_news(dbapi_connection: Any) -> bool:
    """Whether the server said something on an idle connection: a terminated backend's FATAL
    notice, or the end of the stream when the server went away (a restart, a crash). One poll of
    the socket, no round trip."""
    try:
        readable, _, _ = select.select([dbapi_connection.fileno()], [], [], 0)
    except (OSError, ValueError):
        return True  # closed already
    return bool(readable)


def _ping_when_stale(engine: Engine) -> None:
    """The pool's pre-ping, but only where a connection may have died unseen: one idle for
    `PING_IDLE_SECONDS` or more, or one whose socket has news (`has_news`). A busy connection is
    handed out as it is, saving a round trip on nearly every checkout. A failed ping invalidates
    the pool as `pool_pre_ping` does, and the checkout goes on with a new connection."""

    @event.listens_for(engine, "connect")
    def _on_connect(_dbapi_connection: Any, record: Any) -> None:
        record.info[_LAST_USED] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_LAST_USED] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        last_used = record.info.get(_LAST_USED)
        if (
            last_used is not None
            and time.monotonic() - last_used < PING_IDLE_SECONDS
            and not has_news(dbapi_connection)
        ):
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise InvalidatePoolError(f"ping failed: {error}") from error
        record.info[_LAST_USED] = time.monotonic()


class _WriteTurns:
    """Writers of one SQLite file take turns through an flock on a file beside it, in every
    process (`serve`'s API and its worker, a CLI command). SQLite's own wait for its write lock
    sleeps up to 100 ms between tries, so a process that writes in a loop (the worker) wins the
    lock again and again while another waits; a waiter here tries every millisecond, and gets the
    lock in the writer's first pause. After `busy_timeout` it goes on to SQLite's own wait."""

    POLL_SECONDS = 0.001

    def __init__(self, database: str, timeout: float) -> None:
        self.path = f"{database}-writers.lock"
        self.timeout = timeout
        self._mine = threading.local()  # one open file per thread: flock excludes between them

    def _fd(self) -> int | None:
        fd: int | None = getattr(self._mine, "fd", None)
        if fd is None:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError:
                return None  # a read-only directory: SQLite's own lock still orders writers
            self._mine.fd = fd
        return fd

    @contextmanager
    def turn(self) -> Iterator[None]:
        fd = self._fd()
        held = False
        if fd is not None:
            deadline = time.monotonic() + self.timeout
            while not held:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    held = True
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(self.POLL_SECONDS)
        try:
            yield
        finally:
            if held and fd is not None:
                fcntl.flock(fd, fcntl.LOCK_UN)


def _is_outage(error: DBAPIError, dialect: str) -> bool:
    if error.connection_invalidated:
        return True
    if dialect == "postgresql":
        return isinstance(error, OperationalError)
    return isinstance(error, OperationalError) and "locked" in str(error.orig)


class _ConnectionLost(Exception):
    """A driver read's connection turned out dead (its cause is the driver's error)."""


class Store:
    """The store of one process: a pooled engine and the transaction boundaries."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = normalise_url(url)
        self.dialect = make_url(self.url).get_backend_name()
        self._write_turns: _WriteTurns | None = None
        if self.dialect == "sqlite":
            self.engine = _sqlite_engine(self.url, pool_size)
            database = make_url(self.url).database
            if database and database != ":memory:" and not database.startswith("file:"):
                self._write_turns = _WriteTurns(database, timeout=_BUSY_SECONDS)
        elif self.dialect == "postgresql":
            self.engine = create_engine(
                self.url,
                pool_size=pool_size,
                max_overflow=pool_size,
                pool_timeout=10,
                connect_args={"connect_timeout": 5},
                **_JSON,
            )
            _ping_when_stale(self.engine)
        else:
            raise ValueError(f"unsupported database URL {url!r}: use sqlite:///PATH or postgresql://")

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @contextmanager
    def _transaction(self, write: bool, single: bool = False) -> Iterator[Connection]:
        turn = self._write_turns.turn() if write and self._write_turns else contextlib.nullcontext()
        try:
            with turn, self.engine.connect() as conn:
                if write:
                    conn.execution_options(**{_WRITE: True})
                elif single:
                    # No BEGIN and no COMMIT: round trips saved on PostgreSQL, statements on SQLite.
                    conn.execution_options(
                        **({_NO_BEGIN: True} if self.is_sqlite else {"isolation_level": "AUTOCOMMIT"})
                    )
                with conn.begin():
                    yield conn
                if conn.info.pop(access_changes.CHANGED, False):
                    # Committed: what was read while it was in flight is out of date now. (A
                    # rolled-back change leaves the mark, and a later commit moves on for nothing.)
                    access_changes.move_on()
        except DBAPIError as error:
            if _is_outage(error, self.dialect):
                raise StoreUnavailableError() from error
            raise

    def read(self) -> Any:
        """A read transaction (a consistent snapshot on both dialects)."""
        return self._transaction(write=False)

    def read_one(self) -> Any:
        """A connection for ONE read statement, run outside an explicit transaction: a single
        statement sees a consistent snapshot on its own (SQLite and PostgreSQL alike), so the
        BEGIN and COMMIT a `read()` adds are saved. Two statements in it may see different data."""
        return self._transaction(write=False, single=True)

    def driver_read(self, read: DriverRead, **params: Any) -> list[tuple[Any, ...]]:
        """The rows of one SELECT run on a pooled connection's driver cursor, outside a
        transaction (`db/driver_reads.py`); an outage raises StoreUnavailableError as `read()`.
        A connection found dead by the read itself (lost since its last use, too recently used
        to be pinged) is replaced and the read run once more: a read can be repeated safely."""
        compiled = read.compiled_for(self.engine.dialect)
        values = compiled.parameters(params)
        try:
            return compiled.convert(self._driver_rows(compiled.sql, values))
        except _ConnectionLost:
            pass
        try:
            return compiled.convert(self._driver_rows(compiled.sql, values))
        except _ConnectionLost as lost:
            raise StoreUnavailableError() from lost.__cause__

    def _driver_rows(self, sql: str, values: Any) -> list[Any]:
        try:
            raw = self.engine.raw_connection()  # the pool's checkout (`_ping_when_stale`)
        except DBAPIError as error:
            if _is_outage(error, self.dialect):
                raise StoreUnavailableError() from error
            raise
        driver = raw.driver_connection
        cursor = None
        try:
            if not self.is_sqlite:  # SQLite's connections already leave transactions to us
                driver.autocommit = True  # type: ignore[union-attr]  # no BEGIN round trip
            cursor = raw.cursor()
            cursor.execute(sql, values)
            return list(cursor.fetchall())
        except self.engine.dialect.loaded_dbapi.Error as error:
            if self.engine.dialect.is_disconnect(error, driver, cursor):
                raw.invalidate(error)
                raise _ConnectionLost from error
            # As `_is_outage` decides for the same error wrapped by SQLAlchemy.
            operational = isinstance(error, self.engine.dialect.loaded_dbapi.OperationalError)
            if operational and (not self.is_sqlite or "locked" in str(error)):
                raise StoreUnavailableError() from error
            raise
        finally:
            if cursor is not None:
                cursor.close()
            if not self.is_sqlite and raw.is_valid:
                driver.autocommit = False  # type: ignore[union-attr]
            raw.close()  # back to the pool

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

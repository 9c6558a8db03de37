"""Driver reads (`db/driver_reads.py`) on the event loop itself, for PostgreSQL: a few psycopg
async connections of their own, in autocommit, so the API's hottest read (a task status poll)
waits for the server without blocking the loop and without a trip through a worker thread, which
costs the API process more CPU than the read (a thread wake-up and two GIL handoffs).

A connection is handed out as the store's pool hands out its own (db/engine.py
`_ping_when_stale`): pinged first only when idle for `PING_IDLE_SECONDS` or when its socket has
news; a read whose connection turns out dead is run once more on a new one; an outage raises
StoreUnavailableError. A set belongs to the event loop that made it (the API's lifespan) and is
closed with it."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import psycopg

from lmsbridge.db.driver_reads import DriverRead
from lmsbridge.db.engine import PING_IDLE_SECONDS, Store, has_news
from lmsbridge.errors import StoreUnavailableError

_CONNECT_TIMEOUT_SECONDS = 5


class LoopReads:
    def __init__(self, store: Store, size: int) -> None:
        self.dialect = store.engine.dialect
        # The store's own connection arguments (its psycopg adapters included), so values come
        # back as the columns' result processors expect them.
        self._args, self._kwargs = self.dialect.create_connect_args(store.engine.url)
        self._idle: list[tuple[psycopg.AsyncConnection[Any], float]] = []  # (connection, last used)
        self._turns = asyncio.Semaphore(max(1, size))  # at most `size` reads at once

    async def rows(self, read: DriverRead, **params: Any) -> list[tuple[Any, ...]]:
        compiled = read.compiled_for(self.dialect)
        values = compiled.parameters(params)
        async with self._turns:
            for attempt in (1, 2):
                conn = await self._checkout()
                try:
                    cursor = conn.cursor()
                    await cursor.execute(compiled.sql, values)
                    rows = await cursor.fetchall()
                except psycopg.Error as error:
                    if conn.broken or conn.closed:
                        await _close(conn)
                        if attempt == 1:
                            continue  # dead since its last use: once more, on a new connection
                        raise StoreUnavailableError() from error
                    self._idle.append((conn, time.monotonic()))
                    if isinstance(error, psycopg.OperationalError):
                        raise StoreUnavailableError() from error
                    raise
                except BaseException:
                    await _close(conn)  # cancelled mid-read: its state is unknown
                    raise
                self._idle.append((conn, time.monotonic()))
                return compiled.convert(list(rows))
        raise AssertionError("unreachable")

    async def _checkout(self) -> psycopg.AsyncConnection[Any]:
        while self._idle:
            conn, last_used = self._idle.pop()
            if time.monotonic() - last_used < PING_IDLE_SECONDS and not has_news(conn):
                return conn
            try:
                await conn.execute("SELECT 1")
                return conn
            except psycopg.Error:
                await _close(conn)
        try:
            return await psycopg.AsyncConnection.connect(
                *self._args,
                **{"connect_timeout": _CONNECT_TIMEOUT_SECONDS, **self._kwargs},
                autocommit=True,
            )
        except psycopg.OperationalError as error:
            raise StoreUnavailableError() from error

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for conn, _ in idle:
            await _close(conn)


async def _close(conn: psycopg.AsyncConnection[Any]) -> None:
    try:
        await conn.close()
    except Exception:  # closing a broken connection: nothing left to release
        pass

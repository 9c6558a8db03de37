"""A pooled PostgreSQL connection whose backend is gone (terminated by an operator, or a server
restarted since) is replaced without the caller noticing, although the pool no longer pings a
connection it used less than a second ago (db/engine.py `_ping_when_stale`); the same for the
API's reads on the event loop (db/loop_reads.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import psycopg
import pytest

from lmsbridge.db import Store
from lmsbridge.db.engine import PING_IDLE_SECONDS
from lmsbridge.db.loop_reads import LoopReads
from lmsbridge.errors import StoreUnavailableError
from lmsbridge.tasks.repository import STATUS_READ
from tests.conftest import free_port, fresh_store


@pytest.fixture
def pg_store(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    if db_kind != "postgres":
        pytest.skip("PostgreSQL backends only")
    with fresh_store(db_kind, tmp_path_factory, "dropped") as store:
        yield store


def _terminate_every_backend(store: Store) -> int:
    """Ends every backend connected to the store's database, and waits until they have exited."""
    url = store.url.replace("postgresql+psycopg://", "postgresql://")
    mine = "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    with psycopg.connect(url, autocommit=True) as admin:
        pids = [row[0] for row in admin.execute(mine).fetchall()]
        for pid in pids:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        deadline = time.monotonic() + 10
        while admin.execute(mine).fetchall() and time.monotonic() < deadline:
            time.sleep(0.01)
    return len(pids)


def _use_the_pool(store: Store) -> None:
    with store.read() as conn:
        assert conn.exec_driver_sql("SELECT 1").scalar() == 1
    assert store.driver_read(STATUS_READ, task_id="no-such-task") == []


def test_a_terminated_backend_is_replaced_on_the_next_checkout(pg_store: Store) -> None:
    _use_the_pool(pg_store)
    started = time.monotonic()
    assert _terminate_every_backend(pg_store) >= 1
    # Used a moment ago: only the socket's news tells the pool the connection is dead.
    assert time.monotonic() - started < PING_IDLE_SECONDS
    _use_the_pool(pg_store)
    with pg_store.write() as conn:
        assert conn.exec_driver_sql("SELECT 1").scalar() == 1


def test_a_driver_read_survives_its_connection_dying_unseen(
    pg_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use_the_pool(pg_store)
    # As if the death were not visible yet when the connection was handed out.
    monkeypatch.setattr("lmsbridge.db.engine.has_news", lambda _connection: False)
    _terminate_every_backend(pg_store)
    assert pg_store.driver_read(STATUS_READ, task_id="no-such-task") == []


def test_the_apis_reads_on_the_event_loop_replace_a_dead_connection_too(
    pg_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scenario() -> None:
        reads = LoopReads(pg_store, size=2)
        try:
            assert await reads.rows(STATUS_READ, task_id="no-such-task") == []
            _terminate_every_backend(pg_store)
            assert await reads.rows(STATUS_READ, task_id="no-such-task") == []  # the socket's news
            monkeypatch.setattr("lmsbridge.db.loop_reads.has_news", lambda _connection: False)
            _terminate_every_backend(pg_store)
            assert await reads.rows(STATUS_READ, task_id="no-such-task") == []  # read once more
        finally:
            await reads.close()

    asyncio.run(scenario())


def test_the_apis_reads_on_the_event_loop_answer_unavailable_without_a_server(pg_store: Store) -> None:
    nowhere = Store(f"postgresql://postgres@127.0.0.1:{free_port()}/nothing")

    async def scenario() -> None:
        reads = LoopReads(nowhere, size=2)
        with pytest.raises(StoreUnavailableError):
            await reads.rows(STATUS_READ, task_id="no-such-task")
        await reads.close()

    asyncio.run(scenario())
    nowhere.dispose()

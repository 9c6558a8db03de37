"""Change stamps that a client polling with `updated_after` can trust.

A write of synced records takes the integration's stamp lock exclusively and stamps its changes
with the time it holds the lock; a read of synced records first passes the same lock in shared
mode. So a change is either committed before a read begins (the read sees it) or stamped after
the read began (the next poll with `updated_after` = the start of this read returns it); a change
stamped earlier but committed later, which a plain timestamp would let slip, cannot happen.

PostgreSQL: transaction-scoped advisory locks. SQLite: every write transaction already holds the
one write lock from BEGIN IMMEDIATE; a read passes it by taking and releasing it."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import Connection, func, select

from lmsbridge.clock import utc_now
from lmsbridge.db import Store


def _lock_key(integration_id: str) -> int:
    return int.from_bytes(
        hashlib.sha256(b"stamp:" + integration_id.encode()).digest()[:8], "big", signed=True
    )


def take_stamp(conn: Connection, integration_id: str) -> datetime:
    """Inside a write transaction: hold the stamp lock until commit and return the stamp."""
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(_lock_key(integration_id))))
        stamp = conn.scalar(select(func.clock_timestamp()))
        assert isinstance(stamp, datetime)
        return stamp
    return utc_now()


def store_now(conn: Connection) -> datetime:
    """The time on the clock stamps are taken from (the database's, on PostgreSQL), so a sync's
    start and the stamps it compares with it come from one clock even across machines."""
    if conn.dialect.name == "postgresql":
        now = conn.scalar(select(func.clock_timestamp()))
        assert isinstance(now, datetime)
        return now
    return utc_now()


def pass_barrier(store: Store) -> None:
    """SQLite, before a read transaction: wait for any write in flight to commit."""
    if store.is_sqlite:
        with store.write():
            pass


def share_barrier(conn: Connection, integration_id: str) -> None:
    """PostgreSQL, first statement of a read transaction: wait for stamp holders, then read."""
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock_shared(_lock_key(integration_id))))

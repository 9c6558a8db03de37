"""Pacing of remote calls: one token bucket per integration, kept in the store, so that every
worker process together stays under the rate the integration's remote allows, and slows down
further when the remote answers 429 (honouring Retry-After).

Each call takes a token in a short write transaction on the bucket's row (SELECT ... FOR UPDATE
on PostgreSQL; SQLite's write lock serialises it). Tokens may go negative: a caller reserves the
next free slot and sleeps until it comes, outside the transaction. A caller whose slot is further
away than `max_wait` takes nothing and raises `PacingDeferred`: its job goes back to the queue
until then, so a worker thread never sits long on one integration while others have work."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects import postgresql, sqlite

from lmsbridge.connectors.pacing import Pace, PacingDeferred
from lmsbridge.db import Store
from lmsbridge.db.tables import remote_pacing
from lmsbridge.jobs import JobDeferred

log = logging.getLogger("lmsbridge.remote_pacing")

# After a 429 the rate halves (down to this share) and recovers by RECOVERY of the full rate per
# second without a 429: a remote that throttles below its declared limit is followed, not fought.
MIN_SLOWDOWN = 0.05
RECOVERY_PER_SECOND = 0.02
# A 429 without Retry-After blocks the integration for this long.
DEFAULT_BLOCK_SECONDS = 1.0


class StorePacingDeferred(PacingDeferred, JobDeferred):
    """A pacing deferral the worker understands: the job is requeued for when the slot comes."""

    def __init__(self, delay_seconds: float, reason: str = "") -> None:
        JobDeferred.__init__(self, delay_seconds, reason)


@dataclass
class _Bucket:
    tokens: float
    updated_at: float
    blocked_until: float
    slowdown: float

    def refill(self, now: float, pace: Pace) -> float:
        """Bring the bucket to `now`; returns the effective rate (None-rate buckets: 0)."""
        elapsed = max(0.0, now - self.updated_at)
        self.slowdown = min(1.0, self.slowdown + RECOVERY_PER_SECOND * elapsed)
        rate = (pace.rate or 0.0) * self.slowdown
        self.tokens = min(pace.burst, self.tokens + elapsed * rate)
        self.updated_at = now
        return rate


class StorePacer:
    """The pacer of worker processes: buckets shared through the store."""

    def __init__(
        self,
        store: Store,
        *,
        max_wait: float = 2.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store = store
        self.max_wait = max_wait
        self.clock = clock
        self.sleep = sleep

    def acquire(self, key: str, pace: Pace) -> None:
        if pace.rate is None:
            self._wait_out_block(key)
            return
        with self.store.write() as conn:
            bucket = self._lock(conn, key, pace)
            now = self.clock()
            rate = bucket.refill(now, pace)
            # The slot of this call: after any block, once the bucket holds a token again.
            deficit = 1.0 - bucket.tokens
            wait = max(0.0, bucket.blocked_until - now) + (max(0.0, deficit) / rate if rate > 0 else 0.0)
            if wait > self.max_wait:
                raise StorePacingDeferred(wait, f"integration {key} is paced; next slot in {wait:.2f}s")
            bucket.tokens -= 1.0
            self._save(conn, key, bucket)
        if wait > 0:
            self.sleep(wait)

    def _wait_out_block(self, key: str) -> None:
        """No declared rate: only a pause a 429 started holds the call (a read, no lock)."""
        with self.store.read() as conn:
            until = conn.scalar(select(remote_pacing.c.blocked_until).where(remote_pacing.c.pace_key == key))
        wait = float(until) - self.clock() if until is not None else 0.0
        if wait > self.max_wait:
            raise StorePacingDeferred(wait, f"integration {key} is throttled; next slot in {wait:.2f}s")
        if wait > 0:
            self.sleep(wait)

    def throttled(self, key: str, pace: Pace, retry_after: float | None) -> None:
        block = retry_after if retry_after is not None else DEFAULT_BLOCK_SECONDS
        with self.store.write() as conn:
            bucket = self._lock(conn, key, pace)
            now = self.clock()
            bucket.refill(now, pace)
            bucket.slowdown = max(MIN_SLOWDOWN, bucket.slowdown / 2)
            bucket.blocked_until = max(bucket.blocked_until, now + block)
            bucket.tokens = min(bucket.tokens, 0.0)
            self._save(conn, key, bucket)
        log.info(
            "integration %s throttled by its remote: paused %.2fs, rate x%.2f", key, block, bucket.slowdown
        )

    def _lock(self, conn: Connection, key: str, pace: Pace) -> _Bucket:
        query = select(remote_pacing).where(remote_pacing.c.pace_key == key).with_for_update()
        row = conn.execute(query).first()
        if row is None:
            insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
            conn.execute(
                insert(remote_pacing)
                .values(
                    pace_key=key, tokens=pace.burst, updated_at=self.clock(), blocked_until=0.0, slowdown=1.0
                )
                .on_conflict_do_nothing(index_elements=["pace_key"])
            )
            row = conn.execute(query).one()
        return _Bucket(
            float(row.tokens), float(row.updated_at), float(row.blocked_until), float(row.slowdown)
        )

    @staticmethod
    def _save(conn: Connection, key: str, bucket: _Bucket) -> None:
        conn.execute(
            update(remote_pacing)
            .where(remote_pacing.c.pace_key == key)
            .values(
                tokens=bucket.tokens,
                updated_at=bucket.updated_at,
                blocked_until=bucket.blocked_until,
                slowdown=bucket.slowdown,
            )
        )

"""Job rows and every statement that moves them between states (`states.JobState`):

    queued --claim--> running --complete--> succeeded
                         |----fail--------> failed
                         |----retry/release--> queued
    running with an expired lease is claimable again (its worker died).

Every state change names the worker holding the lease in its WHERE clause, so a worker that lost
its lease can no longer change the job. Times come from the queue's clock (`utc_now` unless one is
given), so tests move leases and retries forward without waiting."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, or_, select, update

from lmsbridge.clock import utc_now
from lmsbridge.db import Store
from lmsbridge.db.tables import jobs
from lmsbridge.jobs.states import JobState

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Job:
    id: int
    queue: str
    kind: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int


def _runnable(queues: tuple[str, ...], now: datetime) -> Any:
    """The ids of jobs a worker may claim now, best first: queued and due, or running on a lease
    that expired (its worker died)."""
    return (
        select(jobs.c.id)
        .where(
            jobs.c.queue.in_(queues),
            or_(
                and_(jobs.c.state == JobState.QUEUED, jobs.c.run_after <= now),
                and_(jobs.c.state == JobState.RUNNING, jobs.c.locked_until < now),
            ),
        )
        .order_by(jobs.c.priority.desc(), jobs.c.run_after, jobs.c.id)
        .limit(1)
    )


def claim_statement(worker_id: str, lease_seconds: float, queues: tuple[str, ...], now: datetime) -> Any:
    """The UPDATE ... RETURNING that `JobQueue.claim` runs: it leases the best runnable job (or
    one whose lease expired), picked by a subquery with FOR UPDATE SKIP LOCKED (SQLite drops it)."""
    candidate = _runnable(queues, now).with_for_update(skip_locked=True).scalar_subquery()
    return (
        update(jobs)
        .where(jobs.c.id == candidate)
        .values(
            state=JobState.RUNNING,
            locked_by=worker_id,
            locked_until=now + timedelta(seconds=lease_seconds),
            attempts=jobs.c.attempts + 1,
        )
        .returning(
            jobs.c.id,
            jobs.c.queue,
            jobs.c.kind,
            jobs.c.payload,
            jobs.c.attempts,
            jobs.c.max_attempts,
        )
    )


def enqueue(
    conn: Connection,
    kind: str,
    payload: dict[str, Any],
    *,
    queue: str = "default",
    priority: int = 0,
    run_after: datetime | None = None,
    max_attempts: int = 10,
    now: datetime | None = None,
) -> int:
    """Add a job inside the caller's transaction: a rolled-back caller leaves no job behind.
    Call `jobs.wake_workers()` after the transaction commits."""
    now = now or utc_now()
    job_id = conn.execute(
        jobs.insert()
        .values(
            queue=queue,
            kind=kind,
            payload=payload,
            state=JobState.QUEUED,
            priority=priority,
            attempts=0,
            max_attempts=max_attempts,
            run_after=run_after or now,
            created_at=now,
        )
        .returning(jobs.c.id)
    ).scalar_one()
    return int(job_id)


class JobQueue:
    def __init__(self, store: Store, *, max_attempts: int = 10, clock: Clock = utc_now) -> None:
        self.store = store
        self.max_attempts = max_attempts
        self.clock = clock

    def enqueue(
        self,
        conn: Connection,
        kind: str,
        payload: dict[str, Any],
        *,
        queue: str = "default",
        priority: int = 0,
        run_after: datetime | None = None,
    ) -> int:
        return enqueue(
            conn,
            kind,
            payload,
            queue=queue,
            priority=priority,
            run_after=run_after,
            max_attempts=self.max_attempts,
            now=self.clock(),
        )

    def claim(
        self, worker_id: str, lease_seconds: float, queues: tuple[str, ...] = ("default",)
    ) -> Job | None:
        """Lease the next runnable job, or one whose lease expired. On PostgreSQL the candidate
        row is locked with SKIP LOCKED, so concurrent workers never claim the same job; on SQLite
        the write transaction itself serialises claimers.

        A read-only look comes first, so an idle worker polling an empty queue never takes a
        write lock (SQLite has one for the whole store) nor writes to PostgreSQL."""
        now = self.clock()
        with self.store.read() as conn:
            if conn.scalar(_runnable(queues, now)) is None:
                return None
        stmt = claim_statement(worker_id, lease_seconds, queues, now)
        with self.store.write() as conn:
            row = conn.execute(stmt).first()
        if row is None:
            return None
        return Job(row.id, row.queue, row.kind, dict(row.payload), row.attempts, row.max_attempts)

    def _held(self, job_id: int, worker_id: str) -> Any:
        return and_(jobs.c.id == job_id, jobs.c.locked_by == worker_id, jobs.c.state == JobState.RUNNING)

    def heartbeat(self, job_ids: list[int], worker_id: str, lease_seconds: float) -> set[int]:
        """Renew the leases of jobs this worker holds; returns the ids it still holds."""
        if not job_ids:
            return set()
        until = self.clock() + timedelta(seconds=lease_seconds)
        with self.store.write() as conn:
            rows = conn.execute(
                update(jobs)
                .where(
                    jobs.c.id.in_(job_ids), jobs.c.locked_by == worker_id, jobs.c.state == JobState.RUNNING
                )
                .values(locked_until=until)
                .returning(jobs.c.id)
            )
            return {row.id for row in rows}

    def complete(self, job_id: int, worker_id: str) -> bool:
        return self._finish(job_id, worker_id, state=JobState.SUCCEEDED, error=None)

    def fail(self, job_id: int, worker_id: str, error: str) -> bool:
        return self._finish(job_id, worker_id, state=JobState.FAILED, error=error)

    def _finish(self, job_id: int, worker_id: str, *, state: JobState, error: str | None) -> bool:
        assert JobState.RUNNING.can_become(state)
        with self.store.write() as conn:
            result = conn.execute(
                update(jobs)
                .where(self._held(job_id, worker_id))
                .values(
                    state=state, last_error=error, finished_at=self.clock(), locked_by=None, locked_until=None
                )
            )
            return bool(result.rowcount == 1)

    def retry(self, job_id: int, worker_id: str, error: str, delay_seconds: float) -> bool:
        with self.store.write() as conn:
            result = conn.execute(
                update(jobs)
                .where(self._held(job_id, worker_id))
                .values(
                    state=JobState.QUEUED,
                    last_error=error,
                    run_after=self.clock() + timedelta(seconds=delay_seconds),
                    locked_by=None,
                    locked_until=None,
                )
            )
            return bool(result.rowcount == 1)

    def release(self, job_id: int, worker_id: str, delay_seconds: float = 0.0) -> bool:
        """Hand a job back untouched (the worker is stopping, or the job must wait `delay_seconds`
        before it can go on); the attempt does not count."""
        values: dict[str, Any] = {
            "state": JobState.QUEUED,
            "attempts": jobs.c.attempts - 1,
            "locked_by": None,
            "locked_until": None,
        }
        if delay_seconds > 0:
            values["run_after"] = self.clock() + timedelta(seconds=delay_seconds)
        with self.store.write() as conn:
            result = conn.execute(update(jobs).where(self._held(job_id, worker_id)).values(**values))
            return bool(result.rowcount == 1)

    def counts(self) -> dict[str, int]:
        from sqlalchemy import func

        with self.store.read() as conn:
            rows = conn.execute(select(jobs.c.state, func.count()).group_by(jobs.c.state))
            return {row[0]: int(row[1]) for row in rows}

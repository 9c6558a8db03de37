"""JobQueue against the real store (SQLite, or PostgreSQL with --db=postgres): transactional
enqueue, leases, lost leases, retry, release, concurrent claims, and the claim's SQL. The queue
runs on a clock the tests move, so leases expire and retries come due without sleeping."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.dialects import postgresql

from lmsbridge.clock import utc_now
from lmsbridge.db import Store
from lmsbridge.db.tables import jobs
from lmsbridge.jobs.queue import Job, JobQueue, claim_statement
from tests.conftest import wipe

# A queue of its own: a worker of the session's `server` fixture, if one runs, claims only
# "default" and so never takes these tests' jobs.
QUEUE = "jobs-tests"
QUEUES = (QUEUE,)
LONG = 60.0  # a lease that does not expire during a test


class FakeClock:
    """A clock that stands still until a test moves it."""

    def __init__(self) -> None:
        self.now = utc_now()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def queue(store: Store, clock: FakeClock) -> JobQueue:
    wipe(store)
    return JobQueue(store, max_attempts=5, clock=clock)


def enqueue(queue: JobQueue, n: int = 1, **kwargs: object) -> list[int]:
    with queue.store.write() as conn:
        return [
            queue.enqueue(conn, "test.kind", {"n": i}, queue=QUEUE, **kwargs)  # type: ignore[arg-type]
            for i in range(n)
        ]


def row(queue: JobQueue, job_id: int) -> object:
    with queue.store.read() as conn:
        return conn.execute(select(jobs).where(jobs.c.id == job_id)).one()


def claim(queue: JobQueue, worker: str, lease: float = LONG) -> Job | None:
    return queue.claim(worker, lease, QUEUES)


def test_enqueue_in_a_rolled_back_transaction_leaves_no_job(queue: JobQueue) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom), queue.store.write() as conn:
        queue.enqueue(conn, "test.kind", {"n": 1}, queue=QUEUE)
        raise Boom
    with queue.store.read() as conn:
        assert conn.execute(select(jobs.c.id)).all() == []
    assert claim(queue, "w1") is None


def test_claim_returns_the_job_and_a_live_lease_keeps_others_out(queue: JobQueue, clock: FakeClock) -> None:
    [job_id] = enqueue(queue)
    job = claim(queue, "w1")
    assert job is not None
    assert (job.id, job.queue, job.kind, job.payload, job.attempts, job.max_attempts) == (
        job_id,
        QUEUE,
        "test.kind",
        {"n": 0},
        1,
        5,
    )
    stored = row(queue, job_id)
    assert stored.state == "running"
    assert stored.locked_by == "w1"
    assert stored.locked_until == clock.now + timedelta(seconds=LONG)

    clock.advance(LONG - 1)
    assert claim(queue, "w2") is None
    assert claim(queue, "w1") is None


def test_claim_ignores_other_queues(queue: JobQueue) -> None:
    with queue.store.write() as conn:
        queue.enqueue(conn, "test.kind", {}, queue="elsewhere")
    assert claim(queue, "w1") is None


def test_an_expired_lease_makes_the_job_claimable_by_another_worker(
    queue: JobQueue, clock: FakeClock
) -> None:
    [job_id] = enqueue(queue)
    first = claim(queue, "w1", lease=10)
    assert first is not None and first.attempts == 1
    clock.advance(9.9)
    assert claim(queue, "w2") is None  # still leased
    clock.advance(0.2)
    second = claim(queue, "w2")
    assert second is not None
    assert second.id == job_id
    assert second.attempts == 2
    stored = row(queue, job_id)
    assert (stored.state, stored.locked_by, stored.attempts) == ("running", "w2", 2)


def test_heartbeat_extends_the_lease_of_its_holder_only(queue: JobQueue, clock: FakeClock) -> None:
    [job_id] = enqueue(queue)
    assert claim(queue, "w1", lease=10) is not None
    before = row(queue, job_id).locked_until

    assert queue.heartbeat([job_id], "w2", LONG) == set()  # not the holder: no effect
    assert row(queue, job_id).locked_until == before

    clock.advance(5)
    assert queue.heartbeat([job_id], "w1", LONG) == {job_id}
    after = row(queue, job_id).locked_until
    assert after == clock.now + timedelta(seconds=LONG)
    clock.advance(LONG - 1)  # far past the original lease, within the renewed one
    assert claim(queue, "w2") is None
    clock.advance(2)
    assert claim(queue, "w2") is not None  # the renewed lease ran out too
    assert queue.heartbeat([], "w1", LONG) == set()


def test_a_worker_that_lost_its_lease_can_no_longer_change_the_job(queue: JobQueue, clock: FakeClock) -> None:
    [job_id] = enqueue(queue)
    assert claim(queue, "old", lease=10) is not None
    clock.advance(11)
    taken = claim(queue, "new")
    assert taken is not None and taken.id == job_id

    assert queue.heartbeat([job_id], "old", LONG) == set()
    assert queue.complete(job_id, "old") is False
    assert queue.retry(job_id, "old", "boom", 0) is False
    assert queue.fail(job_id, "old", "boom") is False
    assert queue.release(job_id, "old") is False
    stored = row(queue, job_id)
    assert (stored.state, stored.locked_by, stored.attempts, stored.last_error) == ("running", "new", 2, None)

    assert queue.complete(job_id, "new") is True
    stored = row(queue, job_id)
    assert (stored.state, stored.locked_by, stored.locked_until) == ("succeeded", None, None)
    assert stored.finished_at is not None
    assert queue.complete(job_id, "new") is False  # already finished
    assert claim(queue, "new") is None


def test_fail_records_the_error_and_ends_the_job(queue: JobQueue) -> None:
    [job_id] = enqueue(queue)
    assert claim(queue, "w1") is not None
    assert queue.fail(job_id, "w1", "no way") is True
    stored = row(queue, job_id)
    assert (stored.state, stored.last_error, stored.locked_by) == ("failed", "no way", None)
    assert claim(queue, "w1") is None


def test_retry_puts_the_job_back_after_a_delay(queue: JobQueue, clock: FakeClock) -> None:
    [job_id] = enqueue(queue)
    assert claim(queue, "w1") is not None
    assert queue.retry(job_id, "w1", "try later", 30.0) is True
    stored = row(queue, job_id)
    assert (stored.state, stored.last_error, stored.locked_by, stored.locked_until) == (
        "queued",
        "try later",
        None,
        None,
    )
    assert stored.run_after == clock.now + timedelta(seconds=30)
    clock.advance(29.9)
    assert claim(queue, "w2") is None  # not yet runnable

    clock.advance(0.1)
    again = claim(queue, "w2")
    assert again is not None
    assert again.id == job_id
    assert again.attempts == 2


def test_release_with_a_delay_makes_the_job_wait_without_counting_the_attempt(
    queue: JobQueue, clock: FakeClock
) -> None:
    [job_id] = enqueue(queue)
    assert claim(queue, "w1") is not None
    assert queue.release(job_id, "w1", delay_seconds=5) is True
    assert row(queue, job_id).run_after == clock.now + timedelta(seconds=5)
    assert claim(queue, "w2") is None
    clock.advance(5)
    again = claim(queue, "w2")
    assert again is not None and again.attempts == 1


def test_release_hands_the_job_back_without_counting_the_attempt(queue: JobQueue) -> None:
    [job_id] = enqueue(queue)
    assert claim(queue, "w1") is not None
    assert queue.release(job_id, "w1") is True
    stored = row(queue, job_id)
    assert (stored.state, stored.attempts, stored.locked_by, stored.locked_until) == ("queued", 0, None, None)
    assert queue.release(job_id, "w1") is False  # no longer held

    again = claim(queue, "w2")
    assert again is not None
    assert (again.id, again.attempts) == (job_id, 1)


def test_claims_follow_priority_then_run_after(queue: JobQueue, clock: FakeClock) -> None:
    earlier = clock.now - timedelta(seconds=10)
    [low] = enqueue(queue)
    [old] = enqueue(queue, run_after=earlier)
    [high] = enqueue(queue, priority=5)
    order = [claim(queue, "w") for _ in range(3)]
    assert [job.id for job in order if job] == [high, old, low]


def test_concurrent_workers_claim_every_job_exactly_once(queue: JobQueue) -> None:
    expected = set(enqueue(queue, 200))
    claimed: dict[str, list[int]] = {f"worker-{n}": [] for n in range(4)}
    errors: list[BaseException] = []
    start = threading.Barrier(len(claimed))

    def work(worker_id: str) -> None:
        try:
            start.wait(10)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                job = queue.claim(worker_id, LONG, QUEUES)
                if job is None:
                    return
                claimed[worker_id].append(job.id)
                assert queue.complete(job.id, worker_id)
            raise AssertionError(f"{worker_id} did not drain the queue in time")
        except BaseException as error:  # re-raised in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=work, args=(w,)) for w in claimed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []

    all_claims = [job_id for ids in claimed.values() for job_id in ids]
    duplicates = [job_id for job_id, n in Counter(all_claims).items() if n > 1]
    assert duplicates == []
    assert set(all_claims) == expected
    assert len(all_claims) == 200
    with queue.store.read() as conn:
        states = Counter(conn.scalars(select(jobs.c.state).where(jobs.c.queue == QUEUE)))
    assert states == {"succeeded": 200}


def test_the_claim_locks_its_candidate_with_skip_locked_on_postgresql() -> None:
    stmt = claim_statement("w1", 30.0, ("default",), utc_now())
    sql = str(stmt.compile(dialect=postgresql.psycopg.dialect()))
    assert "FOR UPDATE SKIP LOCKED" in sql
    assert sql.startswith("UPDATE jobs SET")
    assert "RETURNING" in sql


def test_an_idle_claim_takes_no_write_lock(queue: JobQueue) -> None:
    """Polling an empty queue only reads: on SQLite it goes on while another transaction holds
    the store's one write lock (a claim that took it would wait for it, up to busy_timeout)."""
    if not queue.store.is_sqlite:
        pytest.skip("SQLite's single write lock; PostgreSQL claims lock rows, not the store")
    answers: list[Job | None] = []
    with queue.store.write():  # held until the idle claim has answered
        poller = threading.Thread(target=lambda: answers.append(claim(queue, "idle")))
        poller.start()
        poller.join(10)
        assert not poller.is_alive(), "the idle claim waited for the write lock"
    assert answers == [None]
    [job_id] = enqueue(queue)
    job = claim(queue, "w")
    assert job is not None and job.id == job_id

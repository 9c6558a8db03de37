"""A job that ended well is not reported as a lost lease: a heartbeat that runs just after its
row left `running` (the window in which it used to warn "lease lost; stopping it" 3 ms after a
success) knows the job was settled by its own worker."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

from lmsbridge.db import Store
from lmsbridge.jobs.queue import Job, JobQueue
from lmsbridge.jobs.worker import JobContext, JobKind, JobReleased, Worker
from tests.conftest import wipe

QUEUE = "settled-jobs-tests"  # no other worker claims from it
LONG = 60.0


class Quick:
    def __init__(self, outcome: type[Exception] | None = None) -> None:
        self.outcome = outcome

    def run(self, job: Job, ctx: JobContext) -> None:
        if self.outcome is not None:
            raise self.outcome("on purpose")

    def give_up(self, job: Job, error: str) -> None:
        pass


def run_with_a_heartbeat_right_after_settling(store: Store, handler: Quick) -> JobContext:
    """Claim one job as the worker would, run it, and beat the heart right after each statement
    that ends the job's `running` state: the race the worker's own heartbeat thread can lose."""
    wipe(store)
    worker = Worker(store, [JobKind("settle.test", handler)], lease_seconds=LONG)
    queue = worker.queue
    with store.write() as conn:
        queue.enqueue(conn, "settle.test", {}, queue=QUEUE)
    job = queue.claim(worker.worker_id, LONG, (QUEUE,))
    assert job is not None

    def then_heartbeat(original: Any) -> Any:
        def settle(*args: Any) -> Any:
            result = original(*args)
            worker.heartbeat()
            return result

        return settle

    for name in ("complete", "retry", "release", "fail"):
        setattr(queue, name, then_heartbeat(getattr(JobQueue, name).__get__(queue)))
    ctx = JobContext(job, worker.stopping)
    with worker._lock:
        worker._running[job.id] = ctx
    worker._execute(job, ctx)
    return ctx


@pytest.mark.parametrize(
    "outcome", [None, RuntimeError, JobReleased], ids=["succeeded", "retried", "released"]
)
def test_a_settled_job_is_not_reported_as_a_lost_lease(
    store: Store, outcome: type[Exception] | None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="lmsbridge.worker"):
        ctx = run_with_a_heartbeat_right_after_settling(store, Quick(outcome))
    assert not ctx.lease_lost
    assert "lease lost" not in caplog.text


def test_a_lease_taken_by_another_worker_is_still_reported(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    wipe(store)
    worker = Worker(store, [], lease_seconds=LONG)
    with store.write() as conn:
        worker.queue.enqueue(conn, "settle.test", {}, queue=QUEUE)
    job = worker.queue.claim(worker.worker_id, 0.01, (QUEUE,))
    assert job is not None
    time.sleep(0.05)
    other = worker.queue.claim("another-worker", LONG, (QUEUE,))  # the lease expired: taken over
    assert other is not None and other.id == job.id
    ctx = JobContext(job, worker.stopping)
    with worker._lock:
        worker._running[job.id] = ctx
    with caplog.at_level(logging.WARNING, logger="lmsbridge.worker"):
        worker.heartbeat()
    assert ctx.lease_lost
    assert f"job {job.id}: lease lost" in caplog.text

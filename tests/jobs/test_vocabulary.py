"""The job vocabulary: the state machines of jobs, sync runs and tasks, the retry policy that reads
a failure's intent, and a real worker on a real store applying it per job kind, on a clock the test
moves (a retry comes due without waiting for it)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from lmsbridge.clock import utc_now
from lmsbridge.connectors.errors import AuthenticationInvalidError, ConnectorError, ItemError
from lmsbridge.db import Store
from lmsbridge.db.tables import jobs
from lmsbridge.errors import Intent, StoreUnavailableError, intent_of
from lmsbridge.integration_store.credentials import SecretKeyMissingError
from lmsbridge.jobs import (
    Job,
    JobContext,
    JobKind,
    JobState,
    RetryPolicy,
    WakeUp,
    Worker,
    enqueue,
)
from lmsbridge.syncs.states import SYNC_TRANSITIONS, SyncRunState
from lmsbridge.tasks.states import TASK_TRANSITIONS, TaskStatus
from tests.conftest import fresh_store
from tests.waiting import wait_until

# --- states ------------------------------------------------------------------------------------


def test_jobs_move_only_along_the_queue_s_edges() -> None:
    assert JobState.QUEUED.can_become(JobState.RUNNING)
    assert not JobState.QUEUED.can_become(JobState.SUCCEEDED)
    assert {s for s in JobState if JobState.RUNNING.can_become(s)} == set(JobState)
    assert [s for s in JobState if s.finished] == [JobState.SUCCEEDED, JobState.FAILED]
    assert not any(JobState.FAILED.can_become(s) or JobState.SUCCEEDED.can_become(s) for s in JobState)
    assert [s.value for s in JobState] == ["queued", "running", "succeeded", "failed"]  # stored as before


def test_sync_runs_end_once_and_never_start_again() -> None:
    assert set(SYNC_TRANSITIONS) == set(SyncRunState)
    assert [s for s in SyncRunState if s.active] == [SyncRunState.QUEUED, SyncRunState.RUNNING]
    for state in SyncRunState:
        if not state.active:
            assert not any(state.can_become(other) for other in SyncRunState), state
    assert SyncRunState.QUEUED.can_become(SyncRunState.FAILED)  # given up before it ran
    assert not SyncRunState.RUNNING.can_become(SyncRunState.QUEUED)
    assert [s for s in SyncRunState if s.completed] == [SyncRunState.SUCCEEDED, SyncRunState.PARTIALLY_FAILED]


def test_tasks_leave_pending_once() -> None:
    assert set(TASK_TRANSITIONS) == set(TaskStatus)
    assert {s for s in TaskStatus if TaskStatus.PENDING.can_become(s)} == {
        TaskStatus.COMPLETED,
        TaskStatus.FAILED,
    }
    assert not TaskStatus.COMPLETED.can_become(TaskStatus.FAILED)
    assert TaskStatus.PENDING == "PENDING"  # the wire value, as before


# --- the retry policy ----------------------------------------------------------------------------


def test_errors_say_what_trying_again_can_do() -> None:
    assert intent_of(AuthenticationInvalidError("rejected")) is Intent.CONFIGURATION
    assert intent_of(SecretKeyMissingError("wrong key")) is Intent.CONFIGURATION
    assert intent_of(StoreUnavailableError("down")) is Intent.TRANSIENT
    assert intent_of(ConnectorError("HTTP 502")) is Intent.TRANSIENT
    assert intent_of(ItemError("refused")) is Intent.TRANSIENT
    assert intent_of(ValueError("a bug")) is None


def test_a_configuration_failure_ends_the_job_at_once_and_others_back_off() -> None:
    policy = RetryPolicy(first_delay_seconds=2, max_delay_seconds=60)
    assert policy.after_failure(AuthenticationInvalidError("rejected"), 1, 10) is None
    assert [policy.after_failure(StoreUnavailableError("down"), n, 10) for n in (1, 2, 3, 6, 9)] == [
        2,
        4,
        8,
        60,
        60,
    ]
    assert policy.after_failure(StoreUnavailableError("down"), 10, 10) is None  # attempts used up
    assert policy.after_failure(ValueError("a bug"), 1, 10) == 2
    assert RetryPolicy(retry_unknown=False).after_failure(ValueError("a bug"), 1, 10) is None
    assert RetryPolicy(retry_unknown=False).after_failure(StoreUnavailableError("down"), 1, 10) == 2


# --- a worker applies its kinds' policies ---------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = utc_now()
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += timedelta(seconds=seconds)


class Scripted:
    """A handler that raises the given failures, one per run, then succeeds."""

    def __init__(self, *failures: BaseException) -> None:
        self.failures = list(failures)
        self.runs = 0
        self.given_up: list[str] = []

    def run(self, job: Job, ctx: JobContext) -> None:
        self.runs += 1
        if self.failures:
            raise self.failures.pop(0)

    def give_up(self, job: Job, error: str) -> None:
        self.given_up.append(error)


@pytest.fixture
def store(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    # A store of its own: the session server's worker must not claim these jobs.
    with fresh_store(db_kind, tmp_path_factory, "vocabulary") as store:
        yield store


def the_job(store: Store, job_id: int) -> Any:
    with store.read() as conn:
        return conn.execute(select(jobs).where(jobs.c.id == job_id)).one()


def test_a_worker_retries_a_transient_failure_later_and_fails_a_configuration_one_now(store: Store) -> None:
    clock, wakeup = FakeClock(), WakeUp()
    flaky = Scripted(StoreUnavailableError("the store blinked"))
    misconfigured = Scripted(AuthenticationInvalidError("the token was rejected"))
    worker = Worker(
        store,
        [
            JobKind("test.flaky", flaky, RetryPolicy(first_delay_seconds=30)),
            JobKind("test.misconfigured", misconfigured),
        ],
        concurrency=1,
        poll_seconds=0.05,
        max_attempts=5,
        wakeup=wakeup,
        clock=clock,
    )
    with store.write() as conn:
        flaky_id = enqueue(conn, "test.flaky", {}, max_attempts=5, now=clock())
        misconfigured_id = enqueue(conn, "test.misconfigured", {}, max_attempts=5, now=clock())
    worker.start()
    try:
        failed = wait_until(
            lambda: (row := the_job(store, misconfigured_id)).state == JobState.FAILED and row,
            message="the misconfigured job did not fail",
        )
        assert (failed.attempts, failed.last_error) == (
            1,
            "AuthenticationInvalidError: the token was rejected",
        )
        assert misconfigured.runs == 1 and misconfigured.given_up == [failed.last_error]

        retried = wait_until(
            lambda: (row := the_job(store, flaky_id)).last_error and row,
            message="the flaky job was not retried",
        )
        assert (retried.state, retried.attempts) == (JobState.QUEUED, 1)
        assert retried.run_after == clock() + timedelta(seconds=30)
        assert flaky.runs == 1

        clock.advance(30)
        wakeup.notify()
        done = wait_until(
            lambda: (row := the_job(store, flaky_id)).state == JobState.SUCCEEDED and row,
            message="the flaky job did not run again when its retry came due",
        )
        assert (done.attempts, flaky.runs, flaky.given_up) == (2, 2, [])
    finally:
        worker.stop(5)

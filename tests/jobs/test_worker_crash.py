"""Real `lmsbridge worker` processes: one is SIGKILLed in the middle of a task and a second one
finishes it without losing or duplicating an item; one gets SIGTERM, hands its job back and exits
cleanly, and a new worker finishes the task.

The workers run with the default flush size (`task_flush_items`) and flush on size only, so the
kill lands after one full flush, with a flush's worth of items written to the remote but not yet
recorded: the exact-once check covers the largest batch a worker can lose.

These tests run on a store of their own (a fresh SQLite file, or a fresh PostgreSQL database
with --db=postgres) and an API server without a worker: the session `server` fixture's
in-process worker, if an earlier test started it, must not be able to claim these jobs."""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from lmsbridge.app import create_app
from lmsbridge.auth.service import create_key
from lmsbridge.config import Settings
from lmsbridge.db import Store
from lmsbridge.db.migrations import migrate
from lmsbridge.db.tables import jobs, sandbox_courses, task_items
from lmsbridge.ids import derived_id
from lmsbridge.integration_store.credentials import CredentialBox, load_secret_key
from lmsbridge.integrations.service import create_integration
from lmsbridge.tasks.service import RUN_TASK_JOB
from tests.conftest import fresh_database, make_settings, running, wipe
from tests.processes import Processes, worker_env
from tests.waiting import wait_until

pytestmark = pytest.mark.slow

FLUSH = Settings.model_fields["task_flush_items"].default  # the size the workers run with
TOTAL = 3 * FLUSH
LEASE_SECONDS = 2


@dataclass
class Stack:
    """A store and an API server with no worker in it; workers are processes the tests start."""

    database_url: str
    url: str
    store: Store
    settings: Settings
    box: CredentialBox
    tmp: Path


@dataclass
class Tenant:
    key: str
    integration: str


@pytest.fixture(scope="module")
def own_database_url(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with fresh_database(db_kind, tmp_path_factory, "crash") as url:
        yield url


@pytest.fixture(scope="module")
def stack(own_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("crash")
    settings = make_settings(own_database_url, tmp)
    store = Store(settings.database_url)
    migrate(store)
    box = CredentialBox(load_secret_key(settings, create=True))
    # The API only, with no worker: the workers are the processes this module starts and kills.
    with running(create_app(store, settings)) as url:
        yield Stack(own_database_url, url, store, settings, box, tmp)
    store.dispose()


@pytest.fixture
def tenant(stack: Stack) -> Tenant:
    wipe(stack.store)
    with stack.store.write() as conn:
        key = create_key(conn, name="crash-test", environment="default")
        integration = create_integration(
            # 1 ms per item: the Sandbox takes 250 items a call, so a flush takes FLUSH ms.
            conn,
            stack.box,
            tool="sandbox",
            environment="default",
            settings={"latency_ms": 1},
        )
    return Tenant(key.secret, integration.id)


@pytest.fixture
def api(stack: Stack, tenant: Tenant) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {tenant.key}", "X-Integration-Id": tenant.integration}
    with httpx.Client(base_url=stack.url, headers=headers, timeout=30) as client:
        yield client


@pytest.fixture
def workers(stack: Stack, tmp_path: Path) -> Iterator[Processes]:
    env = worker_env(
        stack.database_url,
        str(stack.settings.secret_key),
        tmp_path,
        LMSBRIDGE_JOB_LEASE_SECONDS=str(LEASE_SECONDS),
        LMSBRIDGE_TASK_FLUSH_SECONDS="600",  # outcomes are committed FLUSH at a time, not by time
    )
    started = Processes(env, tmp_path)
    try:
        yield started
    finally:
        started.stop_all()


def courses(total: int) -> list[dict[str, Any]]:
    return [
        {
            "origin_id": f"course-{n:04d}",
            "course": {
                "type": "EXTERNAL",
                "title": f"Course {n}",
                "course_url": f"https://learning.example.com/courses/{n}",
            },
        }
        for n in range(total)
    ]


def submit(api: httpx.Client, total: int) -> str:
    response = api.post("/v1/lms/courses/bulk", json={"items": courses(total)})
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["task_id"])


def outcomes(store: Store, task_id: str) -> int:
    with store.read() as conn:
        return int(
            conn.scalar(
                select(func.count())
                .select_from(task_items)
                .where(task_items.c.task_id == task_id, task_items.c.status.is_not(None))
            )
            or 0
        )


def the_job(store: Store, task_id: str) -> Any:
    """The job that runs the task (workers may also hold other jobs, e.g. scheduled syncs)."""
    with store.read() as conn:
        rows = conn.execute(select(jobs).where(jobs.c.kind == RUN_TASK_JOB)).all()
    [job] = [row for row in rows if row.payload["task_id"] == task_id]
    return job


def wait_for(
    condition: Callable[[], bool], timeout: float, what: str, workers: Processes, interval: float = 0.02
) -> None:
    def holds() -> bool:
        workers.check_alive()
        return condition()

    wait_until(
        holds, timeout=timeout, message=lambda: f"waiting for {what}\n{workers.logs()}", interval=interval
    )


def sandbox_rows(store: Store, integration_id: str) -> int:
    with store.read() as conn:
        return int(
            conn.scalar(
                select(func.count())
                .select_from(sandbox_courses)
                .where(sandbox_courses.c.integration_id == integration_id)
            )
            or 0
        )


def wait_until_mid_task(store: Store, task_id: str, integration_id: str, workers: Processes) -> None:
    """Until one flush of outcomes is committed, at most half of the items have one, and the
    remote holds items whose outcomes are still in the worker's buffer."""

    def started() -> bool:
        done = outcomes(store, task_id)
        if done > TOTAL // 2:
            pytest.fail(
                f"{done} of {TOTAL} items done before the test could interrupt the worker\n{workers.logs()}"
            )
        return done >= FLUSH and sandbox_rows(store, integration_id) > done

    wait_for(started, 60, "the first worker to record outcomes", workers)


def wait_completed(api: httpx.Client, task_id: str, workers: Processes) -> dict[str, Any]:
    view: dict[str, Any] = {}

    def completed() -> bool:
        nonlocal view
        response = api.get(f"/v1/lms/courses/bulk/{task_id}")
        assert response.status_code == 200, response.text
        view = response.json()["data"]
        assert view["status"] != "FAILED", view
        return bool(view["status"] == "COMPLETED")

    wait_for(completed, 60, f"task {task_id} to complete", workers, interval=0.2)
    return view


def assert_every_item_once(stack: Stack, tenant: Tenant, view: dict[str, Any]) -> None:
    results = view["data"]
    assert len(results) == TOTAL
    assert view["progress"] == {"total": TOTAL, "succeeded": TOTAL, "failed": 0, "percent": 100}
    assert Counter(r["status"] for r in results) == {"SUCCEEDED": TOTAL}
    origin_ids = [r["origin_id"] for r in results]
    assert len(set(origin_ids)) == TOTAL
    assert set(origin_ids) == {item["origin_id"] for item in courses(TOTAL)}

    with stack.store.read() as conn:
        rows = conn.execute(
            select(sandbox_courses.c.origin_id, sandbox_courses.c.remote_id).where(
                sandbox_courses.c.integration_id == tenant.integration
            )
        ).all()
    assert len(rows) == TOTAL  # the remote system holds one record per item: no duplicates
    remote_ids = dict(rows)
    assert len(remote_ids) == TOTAL
    assert set(remote_ids) == set(origin_ids)
    for result in results:
        expected = derived_id(tenant.integration, "lms_courses", remote_ids[result["origin_id"]])
        assert result["data"] == {"id": expected, "course_id": expected}, result


def test_a_killed_worker_s_task_is_finished_by_another_without_loss_or_duplicates(
    stack: Stack, tenant: Tenant, api: httpx.Client, workers: Processes
) -> None:
    task_id = submit(api, TOTAL)
    first = workers.worker(concurrency=1)
    wait_until_mid_task(stack.store, task_id, tenant.integration, workers)

    workers.signal(first, signal.SIGKILL)
    assert first.wait(10) == -signal.SIGKILL
    done_when_killed = outcomes(stack.store, task_id)
    assert done_when_killed == FLUSH, "outcomes are committed FLUSH at a time"
    # Items the remote system already holds but that have no outcome yet: the next worker
    # writes them again, which must update those records rather than duplicate them.
    assert sandbox_rows(stack.store, tenant.integration) > done_when_killed
    job = the_job(stack.store, task_id)
    assert (job.state, job.attempts) == ("running", 1)  # the dead worker still holds the lease
    dead_worker = job.locked_by

    second = workers.worker(concurrency=1)
    view = wait_completed(api, task_id, workers)

    assert_every_item_once(stack, tenant, view)
    job = the_job(stack.store, task_id)
    assert job.state == "succeeded", workers.logs()
    assert job.attempts == 2  # claimed again after the dead worker's lease expired
    assert job.locked_by is None
    assert second.poll() is None, workers.logs()  # the second worker is still up, idle
    assert dead_worker is not None


def test_sigterm_hands_the_job_back_and_exits_cleanly(
    stack: Stack, tenant: Tenant, api: httpx.Client, workers: Processes
) -> None:
    task_id = submit(api, TOTAL)
    first = workers.worker(concurrency=1)
    wait_until_mid_task(stack.store, task_id, tenant.integration, workers)

    signalled = time.monotonic()
    workers.signal(first, signal.SIGTERM)
    try:
        code = first.wait(10)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the worker did not exit within 10s of SIGTERM\n{workers.logs()}")
    assert code == 0, workers.logs()
    assert time.monotonic() - signalled < 5, workers.logs()

    job = the_job(stack.store, task_id)
    done = outcomes(stack.store, task_id)
    if job.state == "queued":  # released at a safe point: the attempt does not count
        assert (job.attempts, job.locked_by, job.locked_until) == (0, None, None)
        assert done < TOTAL
    else:  # the task happened to finish before the worker reached a safe point
        assert job.state == "succeeded", (job, workers.logs())
        assert done == TOTAL

    workers.worker(concurrency=1)
    view = wait_completed(api, task_id, workers)

    assert_every_item_once(stack, tenant, view)
    job = the_job(stack.store, task_id)
    assert (job.state, job.attempts, job.locked_by) == ("succeeded", 1, None), workers.logs()

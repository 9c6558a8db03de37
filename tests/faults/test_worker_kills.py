"""A kill -9 loop: worker processes are SIGKILLed at random moments, again and again, while bulk
tasks (Sandbox with latency) and full syncs run on several integrations, and restarted each time.
Afterwards every accepted task has completed with one outcome per item, the Sandbox holds one
record per item whose id is the one the item's result names, and no sync marked deleted a record
that still exists remotely (nothing is ever removed from these Sandboxes)."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from lmsbridge.app import create_app
from lmsbridge.auth.service import create_key
from lmsbridge.db import Store
from lmsbridge.db.migrations import migrate
from lmsbridge.db.tables import jobs, sandbox_courses, sync_runs
from lmsbridge.db.tables import tasks as tasks_table
from lmsbridge.ids import derived_id
from lmsbridge.integration_store.credentials import CredentialBox, load_secret_key
from lmsbridge.integrations.service import create_integration
from lmsbridge.records.registry import TABLES
from tests.conftest import fresh_database, make_settings, running
from tests.processes import FAST_WORKER, Processes, wait_for, worker_env

pytestmark = pytest.mark.slow

KILLS = 20
INTEGRATIONS = 3
TASKS_PER_INTEGRATION = 2
ITEMS = 800
WORKERS = 2


def courses(prefix: str, total: int) -> list[dict[str, Any]]:
    return [
        {
            "origin_id": f"{prefix}-{n:04d}",
            "course": {
                "type": "EXTERNAL",
                "title": f"Course {prefix} {n}",
                "course_url": f"https://learning.example.com/{prefix}/{n}",
            },
        }
        for n in range(total)
    ]


def pending_tasks(store: Store) -> int:
    with store.read() as conn:
        return int(
            conn.scalar(
                select(func.count()).select_from(tasks_table).where(tasks_table.c.status == "PENDING")
            )
            or 0
        )


def holds_a_job(store: Store, pid: int) -> bool:
    """Whether the worker process `pid` holds a running job (worker ids are host:pid:random)."""
    with store.read() as conn:
        holders = conn.scalars(select(jobs.c.locked_by).where(jobs.c.state == "running")).all()
    return any(holder and holder.split(":")[-2] == str(pid) for holder in holders)


@pytest.fixture
def database_url(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with fresh_database(db_kind, tmp_path_factory, "kills") as url:
        yield url


def test_a_kill_9_loop_of_workers_loses_and_duplicates_nothing(database_url: str, tmp_path: Path) -> None:
    rng = random.Random(20261123)
    settings = make_settings(database_url, tmp_path, job_max_attempts=100)
    store = Store(database_url)
    migrate(store)
    box = CredentialBox(load_secret_key(settings, create=True))
    with store.write() as conn:
        key = create_key(conn, name="kills", environment="default").secret
        integrations = [
            create_integration(
                conn,
                box,
                tool="sandbox",
                environment="default",
                settings={
                    "latency_ms": 4,
                    "users": 200,
                    "courses": 40,
                    "progressions": 2000,
                    "page_size": 100,
                },
            ).id
            for _ in range(INTEGRATIONS)
        ]
    # Each claim counts as an attempt, and a job gives up after the max_attempts its enqueuer set
    # (LMSBRIDGE_JOB_MAX_ATTEMPTS, 10): with 10 of the 20 kills on one job, its task's remaining
    # items would fail with PLATFORM.UNKNOWN_ERROR. Giving up is another test's subject; this one
    # allows 100 attempts (`settings` above is the API's, which enqueues the jobs).
    processes = Processes(
        worker_env(database_url, str(settings.secret_key), tmp_path, **FAST_WORKER), tmp_path
    )
    try:
        with running(create_app(store, settings)) as url:
            clients = {
                i: httpx.Client(
                    base_url=url,
                    headers={"Authorization": f"Bearer {key}", "X-Integration-Id": i},
                    timeout=30,
                )
                for i in integrations
            }
            tasks: dict[str, tuple[str, str]] = {}  # task id -> (integration, prefix)

            def submit(integration: str) -> None:
                prefix = f"t{len(tasks)}"
                response = clients[integration].post(
                    "/v1/lms/courses/bulk", json={"items": courses(prefix, ITEMS)}
                )
                assert response.status_code == 200, response.text
                tasks[response.json()["data"]["task_id"]] = (integration, prefix)

            for integration in integrations:
                for _ in range(TASKS_PER_INTEGRATION):
                    submit(integration)

            workers = [processes.worker() for _ in range(WORKERS)]
            busy: list[int] = []

            def some_worker_busy() -> bool:
                busy[:] = [n for n, w in enumerate(workers) if holds_a_job(store, w.pid)]
                return bool(busy)

            kills = mid_job = forced = 0
            while kills < KILLS:
                # Keep work under way: top up the tasks, force a full sync now and then.
                if pending_tasks(store) < 3:
                    submit(rng.choice(integrations))
                if rng.random() < 0.3:
                    integration = rng.choice(integrations)
                    response = clients[integration].post("/v1/force-sync", json={"type": "FULL"})
                    assert response.status_code == 200, response.text
                    forced += 1
                # A worker in the middle of a job, killed at a random moment of it.
                wait_for(some_worker_busy, 30, "a worker to claim a job", processes, 0.05)
                time.sleep(rng.uniform(0.0, 0.6))
                victim = rng.choice(busy)
                mid_job += holds_a_job(store, workers[victim].pid)
                processes.kill(workers[victim])
                kills += 1
                workers[victim] = processes.worker()
            # Let the survivors finish: leases of the killed ones expire after 2s.
            views: dict[str, dict[str, Any]] = {}

            def all_completed() -> bool:
                for task_id, (integration, _) in tasks.items():
                    if task_id in views:
                        continue
                    response = clients[integration].get(f"/v1/lms/courses/bulk/{task_id}")
                    assert response.status_code == 200, response.text
                    view = response.json()["data"]
                    assert view["status"] != "FAILED", view
                    if view["status"] == "COMPLETED":
                        views[task_id] = view
                return len(views) == len(tasks)

            wait_for(all_completed, 180, "every task to complete after the kills", processes, 0.5)

            def syncs_done() -> bool:
                with store.read() as conn:
                    active = conn.scalar(
                        select(func.count())
                        .select_from(sync_runs)
                        .where(sync_runs.c.state.in_(("QUEUED", "RUNNING")))
                    )
                return not active

            wait_for(syncs_done, 180, "every sync to end", processes, 0.5)
            for client in clients.values():
                client.close()
    finally:
        processes.stop_all()

    print(
        f"\n{kills} SIGKILLs ({mid_job} of a worker holding a job), {forced} forced syncs, {len(tasks)} tasks"
    )
    with store.read() as conn:
        sandbox = {
            (row.integration_id, row.origin_id): row.remote_id
            for row in conn.execute(
                select(
                    sandbox_courses.c.integration_id, sandbox_courses.c.origin_id, sandbox_courses.c.remote_id
                )
            )
        }
        deleted = {
            model: int(
                conn.scalar(
                    select(func.count()).select_from(table).where(table.c.remote_deleted_at.is_not(None))
                )
                or 0
            )
            for model, table in TABLES.items()
        }
        runs = Counter(row.state for row in conn.execute(select(sync_runs.c.state)))
        attempts = [row.attempts for row in conn.execute(select(jobs.c.attempts))]
    store.dispose()

    # Every task: one outcome per item, all SUCCEEDED, each naming the remote record it wrote.
    for task_id, (integration, prefix) in tasks.items():
        view = views[task_id]
        assert view["progress"] == {"total": ITEMS, "succeeded": ITEMS, "failed": 0, "percent": 100}
        results = view["data"]
        assert sorted(r["origin_id"] for r in results) == [c["origin_id"] for c in courses(prefix, ITEMS)]
        for result in results:
            remote_id = sandbox[(integration, result["origin_id"])]
            expected = derived_id(integration, "lms_courses", remote_id)
            assert result["data"] == {"id": expected, "course_id": expected}, result
    # The remote holds exactly the items written: no extra record from a redone item.
    assert len(sandbox) == len(tasks) * ITEMS, (len(sandbox), len(tasks))
    # Nothing was removed from the Sandboxes, so no sync may have marked anything deleted.
    assert deleted == dict.fromkeys(TABLES, 0), deleted
    assert set(runs) <= {"SUCCEEDED", "PARTIALLY_FAILED", "FAILED"}, runs
    assert runs["SUCCEEDED"] >= INTEGRATIONS, runs
    assert max(attempts) > 1, "no job was ever resumed after a kill"
    assert mid_job >= KILLS * 3 // 4, f"only {mid_job} of {kills} kills hit a worker in the middle of a job"

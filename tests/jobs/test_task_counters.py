"""A task's `succeeded` and `failed` counters are kept running (each transaction that stores
outcomes adds what it stored), not recounted: they must still equal the items' statuses when an
outcome is recorded twice (a worker redoing a batch another one stored), when outcomes of both
kinds come in one batch, and when the pending items are failed at the end."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from lmsbridge.auth.service import create_key
from lmsbridge.db import Store
from lmsbridge.db.tables import task_items
from lmsbridge.integration_store.credentials import CredentialBox, load_secret_key
from lmsbridge.integrations.service import create_integration
from lmsbridge.jobs import JobQueue
from lmsbridge.tasks import service
from lmsbridge.tasks.repository import Outcome, TaskRepository
from lmsbridge.tasks.states import ItemStatus
from tests.conftest import make_settings, wipe

ITEMS = 10


@pytest.fixture
def task_id(store: Store, tmp_path_factory: pytest.TempPathFactory) -> str:
    wipe(store)
    settings = make_settings(store.url, tmp_path_factory.mktemp("counters"))
    box = CredentialBox(load_secret_key(settings, create=True))
    items = [{"origin_id": f"o-{n}", "course": {"title": f"C {n}"}} for n in range(ITEMS)]
    with store.write() as conn:
        create_key(conn, name="counters", environment="default")
        integration = create_integration(conn, box, tool="sandbox", environment="default", settings={})
        created, _ = service.submit(
            conn,
            JobQueue(store),
            settings,
            integration=integration,
            kind=service.COURSES_BULK,
            items=items,
            idempotency_key=None,
            public_url="http://lmsbridge.test",
        )
    return created


def ok(position: int) -> Outcome:
    return Outcome(position, ItemStatus.SUCCEEDED, result_id=f"r{position}", remote_id=f"x{position}")


def failed(position: int) -> Outcome:
    return Outcome(position, ItemStatus.FAILED, error_code="REMOTE.INPUT_INVALID", error_message="no")


def counters_and_statuses(store: Store, task_id: str) -> tuple[tuple[int, int], tuple[int, int]]:
    with store.read() as conn:
        task = TaskRepository(conn).get(task_id)
        statuses = Counter(
            conn.scalars(select(task_items.c.status).where(task_items.c.task_id == task_id)).all()
        )
    assert task is not None
    return (task.succeeded, task.failed), (statuses[ItemStatus.SUCCEEDED], statuses[ItemStatus.FAILED])


def record(store: Store, task_id: str, outcomes: list[Outcome]) -> None:
    with store.write() as conn:
        TaskRepository(conn).record_outcomes(task_id, outcomes)


def test_counters_count_each_item_once_whoever_records_it(store: Store, task_id: str) -> None:
    record(store, task_id, [ok(0), ok(1), failed(2)])
    assert counters_and_statuses(store, task_id) == ((2, 1), (2, 1))

    # A second worker redoes the batch and more: only the items without an outcome count, and
    # an item that failed first stays failed even when the redo succeeds.
    record(store, task_id, [ok(0), ok(1), ok(2), ok(3), failed(4)])
    assert counters_and_statuses(store, task_id) == ((3, 2), (3, 2))

    record(store, task_id, [])
    assert counters_and_statuses(store, task_id) == ((3, 2), (3, 2))


def test_failing_the_pending_items_adds_them_to_failed(store: Store, task_id: str) -> None:
    record(store, task_id, [ok(0), failed(1)])
    with store.write() as conn:
        repo = TaskRepository(conn)
        repo.fail_pending_items(task_id, "TASK.TIMED_OUT", "late")
        repo.fail_pending_items(task_id, "TASK.TIMED_OUT", "late")  # nothing left: adds nothing
        assert repo.complete_if_done(task_id)
    assert counters_and_statuses(store, task_id) == ((1, ITEMS - 1), (1, ITEMS - 1))

"""The schedule: `schedule_due_syncs` queues a FULL sync for an integration never fully synced or
whose full interval passed, a DELTA once the delta interval passed, and nothing otherwise; never
two runs for one integration, however many workers ask at once. On a quiet store (no worker), so
what is queued stays queued."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lmsbridge.auth.repository import AuthRepository
from lmsbridge.clock import utc_now
from lmsbridge.config import Settings
from lmsbridge.db import Store
from lmsbridge.db.tables import jobs, sync_runs
from lmsbridge.ids import integration_id
from lmsbridge.integration_store.repository import Integration, IntegrationRepository
from lmsbridge.syncs.repository import SyncRepository
from lmsbridge.syncs.service import RUN_SYNC_JOB, schedule_due_syncs
from tests.conftest import make_settings

FULL_EVERY = 3600.0
DELTA_EVERY = 600.0


@pytest.fixture
def settings(quiet_database: str, tmp_path: Path) -> Settings:
    return make_settings(
        quiet_database,
        tmp_path,
        sync_full_interval_seconds=FULL_EVERY,
        sync_delta_interval_seconds=DELTA_EVERY,
    )


def add_integration(store: Store, status: str = "ACTIVE") -> str:
    """An integration as it stands before anything was queued for it: no run, no sync state."""
    with store.write() as conn:
        environment = AuthRepository(conn).environment_id("default", create=True)
        assert environment is not None
        integration = Integration(
            id=integration_id("sandbox"),
            environment_id=environment,
            tool="sandbox",
            name="Scheduled",
            settings={},
            credentials="",
            status=status,
            created_at=utc_now(),
        )
        IntegrationRepository(conn).insert(integration)
    return integration.id


def synced(store: Store, integration: str, *, full_ago: float, delta_ago: float | None = None) -> None:
    """Record that the last full sync began `full_ago` seconds ago (and the last delta `delta_ago`)."""
    now = utc_now()
    with store.write() as conn:
        SyncRepository(conn).save_state(
            integration,
            first_synced_at=now - timedelta(seconds=full_ago - 1),
            last_full_started_at=now - timedelta(seconds=full_ago),
            last_delta_started_at=None if delta_ago is None else now - timedelta(seconds=delta_ago),
            delta_cursor=now - timedelta(seconds=min(full_ago, delta_ago or full_ago)),
        )


def runs(store: Store, integration: str | None = None) -> list[tuple[str, str, str]]:
    """(integration, type, state) of every run."""
    query = select(sync_runs.c.integration_id, sync_runs.c.type, sync_runs.c.state)
    if integration is not None:
        query = query.where(sync_runs.c.integration_id == integration)
    with store.read() as conn:
        return [tuple(row) for row in conn.execute(query)]


def test_an_integration_never_fully_synced_gets_a_full_sync(quiet_store: Store, settings: Settings) -> None:
    integration = add_integration(quiet_store)

    assert schedule_due_syncs(quiet_store, settings) == 1

    assert runs(quiet_store) == [(integration, "FULL", "QUEUED")]
    with quiet_store.read() as conn:
        [job] = list(conn.execute(select(jobs)))
        run_id = conn.scalar(select(sync_runs.c.id))
    assert (job.kind, job.state, job.payload) == (RUN_SYNC_JOB, "queued", {"sync_id": run_id})


def test_a_delta_sync_is_queued_once_the_delta_interval_passed(
    quiet_store: Store, settings: Settings
) -> None:
    integration = add_integration(quiet_store)
    synced(quiet_store, integration, full_ago=DELTA_EVERY + 60)

    assert schedule_due_syncs(quiet_store, settings) == 1

    assert runs(quiet_store) == [(integration, "DELTA", "QUEUED")]


def test_the_delta_interval_counts_from_the_latest_sync_of_either_type(
    quiet_store: Store, settings: Settings
) -> None:
    recent_delta = add_integration(quiet_store)
    synced(quiet_store, recent_delta, full_ago=DELTA_EVERY * 3, delta_ago=DELTA_EVERY / 2)
    old_delta = add_integration(quiet_store)
    synced(quiet_store, old_delta, full_ago=DELTA_EVERY * 3, delta_ago=DELTA_EVERY * 2)

    assert schedule_due_syncs(quiet_store, settings) == 1

    assert runs(quiet_store) == [(old_delta, "DELTA", "QUEUED")]


def test_a_full_sync_is_queued_once_the_full_interval_passed(quiet_store: Store, settings: Settings) -> None:
    integration = add_integration(quiet_store)
    synced(quiet_store, integration, full_ago=FULL_EVERY + 60, delta_ago=10)

    assert schedule_due_syncs(quiet_store, settings) == 1

    assert runs(quiet_store) == [(integration, "FULL", "QUEUED")]


def test_nothing_is_queued_when_no_sync_is_due(quiet_store: Store, settings: Settings) -> None:
    integration = add_integration(quiet_store)
    synced(quiet_store, integration, full_ago=DELTA_EVERY / 2)

    assert schedule_due_syncs(quiet_store, settings) == 0

    assert runs(quiet_store) == []


def test_a_sync_that_finished_after_the_schedule_looked_is_not_queued_again(
    quiet_store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    integration = add_integration(quiet_store)
    synced(quiet_store, integration, full_ago=10)
    # The schedule read its snapshot of sync states while that sync still ran: none yet.
    monkeypatch.setattr(SyncRepository, "all_states", lambda self: {})

    assert schedule_due_syncs(quiet_store, settings) == 0

    assert runs(quiet_store) == []


def test_an_integration_with_a_sync_queued_gets_no_other(quiet_store: Store, settings: Settings) -> None:
    integration = add_integration(quiet_store)
    assert schedule_due_syncs(quiet_store, settings) == 1

    assert schedule_due_syncs(quiet_store, settings) == 0

    assert runs(quiet_store) == [(integration, "FULL", "QUEUED")]


def test_an_inactive_integration_is_never_scheduled(quiet_store: Store, settings: Settings) -> None:
    add_integration(quiet_store, status="INACTIVE")
    assert schedule_due_syncs(quiet_store, settings) == 0
    assert runs(quiet_store) == []


def test_schedulers_running_at_once_never_queue_two_runs_for_one_integration(
    quiet_store: Store, settings: Settings
) -> None:
    integrations = [add_integration(quiet_store) for _ in range(12)]
    schedulers = 4
    start = threading.Barrier(schedulers)
    queued: list[int] = []
    failures: list[BaseException] = []

    def schedule() -> None:
        try:
            start.wait(10)
            queued.append(schedule_due_syncs(quiet_store, settings))
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=schedule) for _ in range(schedulers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads), "a scheduler hung"

    assert not failures, failures
    assert sum(queued) == len(integrations)
    assert sorted(runs(quiet_store)) == sorted((i, "FULL", "QUEUED") for i in integrations)
    with quiet_store.read() as conn:
        assert len(list(conn.execute(select(jobs.c.id)))) == len(integrations)


def test_the_store_refuses_a_second_queued_or_running_run_for_one_integration(quiet_store: Store) -> None:
    integration = add_integration(quiet_store)
    with quiet_store.write() as conn:
        first = SyncRepository(conn).insert_run(integration, "FULL", "http://127.0.0.1")
    with pytest.raises(IntegrityError), quiet_store.write() as conn:
        SyncRepository(conn).insert_run(integration, "DELTA", "http://127.0.0.1")

    with quiet_store.write() as conn:
        repo = SyncRepository(conn)
        repo.start_run(first.id, utc_now())
    with pytest.raises(IntegrityError), quiet_store.write() as conn:
        SyncRepository(conn).insert_run(integration, "DELTA", "http://127.0.0.1")

    # Finished runs do not count: a new one may be queued beside them.
    with quiet_store.write() as conn:
        SyncRepository(conn).finish_run(first.id, "SUCCEEDED", {}, None)
    with quiet_store.write() as conn:
        SyncRepository(conn).insert_run(integration, "DELTA", "http://127.0.0.1")
    assert sorted(runs(quiet_store, integration)) == [
        (integration, "DELTA", "QUEUED"),
        (integration, "FULL", "SUCCEEDED"),
    ]

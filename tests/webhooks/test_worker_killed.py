"""A real `lmsbridge worker` process is SIGKILLed while a receiver holds its delivery open; a
second worker delivers the event again with the same event id: no event lost, none delivered as
two different events. This module's store has no in-process worker: the workers are the
processes it starts."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from lmsbridge.app import create_app
from lmsbridge.auth.service import create_key
from lmsbridge.db import Store
from lmsbridge.db.migrations import migrate
from lmsbridge.db.tables import events, jobs, webhook_attempts, webhook_deliveries
from lmsbridge.integration_store.credentials import CredentialBox, load_secret_key
from lmsbridge.integrations.service import create_integration
from lmsbridge.webhooks.service import DELIVER_JOB
from tests.conftest import fresh_database, make_settings, running
from tests.processes import Processes, worker_env
from tests.waiting import wait_until
from tests.webhooks.conftest import Stack
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.slow

LEASE_SECONDS = 2


@pytest.fixture(scope="module")
def bare_stack(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with fresh_database(db_kind, tmp_path_factory, "webhookcrash") as url:
        settings = make_settings(url, tmp_path_factory.mktemp("webhookcrash"))
        store = Store(settings.database_url)
        migrate(store)
        box = CredentialBox(load_secret_key(settings, create=True))
        try:
            with running(create_app(store, settings)) as base:
                yield Stack(base, store, settings, box)
        finally:
            store.dispose()


@pytest.fixture
def workers(bare_stack: Stack, tmp_path: Path) -> Iterator[Processes]:
    env = worker_env(
        bare_stack.settings.database_url,
        str(bare_stack.settings.secret_key),
        tmp_path,
        LMSBRIDGE_JOB_LEASE_SECONDS=str(LEASE_SECONDS),
        LMSBRIDGE_WEBHOOK_FANOUT_SECONDS="0.1",
        # Longer than the receiver hangs: the worker is killed while it waits.
        LMSBRIDGE_WEBHOOK_TIMEOUT_SECONDS="30",
        LMSBRIDGE_WEBHOOK_RETRY_BASE_SECONDS="0.2",
    )
    started = Processes(env, tmp_path)
    try:
        yield started
    finally:
        started.stop_all()


def test_a_worker_killed_mid_delivery_loses_no_event_and_the_redelivery_keeps_its_id(
    bare_stack: Stack, workers: Processes
) -> None:
    receiver = Receiver(hang_first=1, hang_seconds=8.0)
    with running(receiver) as base:
        with bare_stack.store.write() as conn:
            key = create_key(conn, name="crash", environment="default")
            integration = create_integration(conn, bare_stack.box, tool="sandbox", environment="default")
        headers = {"Authorization": f"Bearer {key.secret}", "X-Integration-Id": integration.id}
        with httpx.Client(base_url=bare_stack.url, headers=headers, timeout=30) as api:
            created = api.post("/v1/webhooks", json={"url": f"{base}/hook", "events": ["task-completed"]})
            assert created.status_code == 200, created.text
            endpoint_id = created.json()["data"]["id"]
            submitted = api.post(
                "/v1/hris/skills/bulk", json={"items": [{"origin_id": "s-1", "name": "Python"}]}
            )
            assert submitted.status_code == 200, submitted.text
            task_id = submitted.json()["data"]["task_id"]

        first = workers.worker(concurrency=1)
        try:
            receiver.wait_for(lambda: len(receiver.requests) == 1, 60, "the first delivery to arrive")
        except AssertionError:
            pytest.fail(workers.logs())
        time.sleep(0.2)
        first.send_signal(signal.SIGKILL)
        assert first.wait(10) == -signal.SIGKILL
        assert receiver.requests[0].answered is None  # killed while the receiver held the request

        with bare_stack.store.read() as conn:
            [delivery] = conn.execute(
                select(webhook_deliveries).where(webhook_deliveries.c.endpoint_id == endpoint_id)
            ).all()
            assert (delivery.state, delivery.attempts) == ("pending", 0)
            [job] = list(conn.execute(select(jobs).where(jobs.c.kind == DELIVER_JOB)))
            assert job.state == "running"  # the dead worker's lease, until it expires

        workers.worker(concurrency=1)
        try:
            receiver.wait_for(
                lambda: any(r.answered == 200 for r in receiver.requests), 60, "the redelivery to succeed"
            )
        except AssertionError:
            pytest.fail(workers.logs())

        ids = {r.event["id"] for r in receiver.requests}
        assert len(ids) == 1, receiver.requests  # duplicates only ever with the same id
        [event_id] = ids
        assert receiver.requests[-1].event["data"]["task_id"] == task_id
        with bare_stack.store.read() as conn:
            task_events = conn.execute(select(events).where(events.c.type == "task-completed")).all()
        assert [e.id for e in task_events] == [event_id]

        def the_delivery() -> Any:
            with bare_stack.store.read() as conn:
                return conn.execute(
                    select(webhook_deliveries).where(webhook_deliveries.c.endpoint_id == endpoint_id)
                ).one()

        delivery = wait_until(
            lambda: (found := the_delivery()).state == "delivered" and found,
            timeout=10,
            message=lambda: f"the delivery is still {the_delivery().state}",
        )
        assert (delivery.event_id, delivery.state, delivery.attempts) == (event_id, "delivered", 1)
        with bare_stack.store.read() as conn:
            attempts = conn.execute(
                select(webhook_attempts).where(webhook_attempts.c.delivery_id == delivery.id)
            ).all()
        assert [(a.number, a.status_code) for a in attempts] == [(1, 200)]

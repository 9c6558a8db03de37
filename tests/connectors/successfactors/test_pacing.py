"""OCN's one-course-per-window pace, held in the store: two workers (the test's own and a
`lmsbridge worker` process) running tasks of one integration together post no faster than the pace
(read from the emulator's times of the posts it accepted); a connector built afresh, as after a
restart, still waits for the slot its predecessor took; a direct deactivation is refused rather
than held for minutes; and a paced task whose next slot comes after its deadline ends its
unreached items with PLATFORM.TASK_TIMED_OUT while the posted ones succeed, its progress showing
the items waiting meanwhile. Runs on the store `--db` names."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import select

from lmsbridge.auth.service import create_key
from lmsbridge.connectors.base import ConnectorContext, CourseUpsert, WriteAction
from lmsbridge.connectors.errors import ConnectorError
from lmsbridge.connectors.pacing import PacingDeferred
from lmsbridge.connectors.successfactors.connector import SuccessFactorsConnector
from lmsbridge.db import Store
from lmsbridge.db.tables import jobs
from lmsbridge.errors import ErrorCode
from lmsbridge.integrations.service import create_integration
from lmsbridge.jobs import wake_workers
from lmsbridge.remote_pacing import StorePacer
from lmsbridge.tasks.service import RUN_TASK_JOB
from lmsbridge.testing.emulators.successfactors import create_app, seeded_site
from lmsbridge.testing.emulators.successfactors.pair import QUICK
from lmsbridge.testing.emulators.successfactors.site import SuccessFactorsSite
from tests.api.helpers import courses, poll, submit, wait
from tests.conftest import Server, running
from tests.processes import Processes, wait_for

CLIENT = ("sf-pacing-client", "sf-pacing-secret-1a2b3c")
# The pacer hands out slots exactly a pace apart; a post reaches the emulator a request's latency
# after its slot (a store transaction for the integration's general bucket, then HTTP), and that
# latency varies by tens of milliseconds on a loaded machine: this much of it is allowed per gap.
JITTER = 0.15


@contextmanager
def tenant(server: Server, pace: float) -> Iterator[tuple[SuccessFactorsSite, str, str, str]]:
    """An emulated tenant enforcing 0.8 x `pace` (429 below it), an integration posting at `pace`,
    and an API key: (site, its URL, integration id, key)."""
    site = seeded_site(
        seed=6, client_id=CLIENT[0], client_secret=CLIENT[1], users=3, courses=2, ocn_pace_seconds=pace * 0.8
    )
    with running(create_app(site)) as url:
        with server.store.write() as conn:
            integration = create_integration(
                conn,
                server.box,
                tool="successfactors",
                environment="default",
                settings={**settings(url, pace), "rate_limit_per_second": 50},
                credentials={"client_id": CLIENT[0], "client_secret": CLIENT[1]},
            )
            key = create_key(conn, name="pacing", environment="default").secret
        yield site, url, integration.id, key


def settings(url: str, pace: float) -> dict[str, Any]:
    return {"learning_url": url, "company_id": "ACME01", "ocn_pace_seconds": pace, **QUICK}


def gaps(site: SuccessFactorsSite) -> list[float]:
    times = sorted(site.ocn_posted_at)
    return [b - a for a, b in itertools.pairwise(times)]


def ocn_statuses(site: SuccessFactorsSite) -> list[int]:
    return [call.status for call in site.calls.of("POST OcnCourses")]


def task_holders(store: Store) -> set[str]:
    """The processes (by pid) holding a running bulk-task job now."""
    with store.read() as conn:
        holders = conn.scalars(
            select(jobs.c.locked_by).where(jobs.c.state == "running", jobs.c.kind == RUN_TASK_JOB)
        ).all()
    return {holder.split(":")[-2] for holder in holders if holder}


@pytest.mark.slow  # starts a worker process
def test_two_workers_post_to_ocn_no_faster_than_the_pace(clean_server: Server, processes: Processes) -> None:
    pace = 1.0
    processes.worker(concurrency=1)
    log = processes.procs[-1][1]
    wait_for(lambda: "started with" in log.read_text(), 60, "the worker process to start", processes)
    with tenant(clean_server, pace) as (site, _, integration_id, key):
        wake_workers()
        with clean_server.client(key, integration_id) as api:
            tasks = [submit(api, courses(2, prefix=f"w{n}")) for n in range(4)]
            holders: set[str] = set()
            deadline = time.monotonic() + 60
            while any(poll(api, t)["status"] == "PENDING" for t in tasks):
                holders |= task_holders(clean_server.store)
                assert time.monotonic() < deadline, processes.logs()
                time.sleep(0.05)
            views = [wait(api, t) for t in tasks]
        assert all(v["status"] == "COMPLETED" for v in views), views
        assert {r["status"] for v in views for r in v["data"]} == {"SUCCEEDED"}, (views, ocn_statuses(site))
        # Both runtimes ran tasks of this integration at the same time, each with its own pacer.
        assert len(holders) >= 2, (holders, processes.logs())
        assert len(site.ocn_posted_at) == 8
        assert set(ocn_statuses(site)) == {200}  # never below the emulator's 0.8 x pace
        spaced = gaps(site)
        assert min(spaced) >= pace - JITTER, spaced
        assert sum(spaced) >= len(spaced) * pace - JITTER, spaced  # on the whole, no faster than the pace


def test_the_pace_outlives_the_connector_that_took_the_slot(clean_server: Server) -> None:
    """A connector with a pacer of its own, on a Store of its own (as a restarted process would
    build it), waits for the slot the previous one took; a deactivation is refused meanwhile."""
    pace = 30.0
    stores: list[Store] = []
    with tenant(clean_server, pace) as (site, url, integration_id, _):

        def connector() -> SuccessFactorsConnector:
            store = Store(clean_server.settings.database_url)
            stores.append(store)
            credentials = {"client_id": CLIENT[0], "client_secret": CLIENT[1]}
            pacer = StorePacer(store)
            context = ConnectorContext(integration_id, settings(url, pace), credentials, pacer=pacer)
            return SuccessFactorsConnector(context)

        try:
            item = CourseUpsert(origin_id="slot-1", title="Slot", course_url="https://c.example.com/s")
            (outcome,) = list(connector().write(WriteAction.UPSERT_COURSES, [item]))
            assert outcome.error is None and outcome.remote_id == "OCN:slot-1"
            again = CourseUpsert(origin_id="slot-2", title="Slot 2", course_url="https://c.example.com/t")
            with pytest.raises(PacingDeferred) as deferred:
                list(connector().write(WriteAction.UPSERT_COURSES, [again]))
            assert pace - 5 < deferred.value.delay_seconds <= pace
            with pytest.raises(ConnectorError) as refused:
                connector().deactivate_course("OCN:slot-1")
            assert refused.value.code == ErrorCode.REMOTE_RATE_LIMIT_EXCEEDED
            assert "OCN" in refused.value.message
            assert ocn_statuses(site) == [200]  # one post; the others never left
        finally:
            for store in stores:
                store.dispose()


def test_items_the_pace_cannot_reach_before_the_deadline_time_out(
    clean_server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 3-s pace (longer than a worker waits in place, so the task's job is deferred between
    posts, as with SAP's 500 s) and a 5-s deadline: two posts fit, the other items time out."""
    pace = 3.0
    monkeypatch.setattr(clean_server.settings, "task_deadline_seconds", 5.0)
    with tenant(clean_server, pace) as (site, _, integration_id, key):
        wake_workers()
        with clean_server.client(key, integration_id) as api:
            started = time.monotonic()
            task_id = submit(api, courses(4, prefix="late"))
            seen: list[dict[str, Any]] = []
            while (view := poll(api, task_id))["status"] == "PENDING":
                seen.append(view["progress"])
                assert time.monotonic() - started < 30, view
                time.sleep(0.05)
            took = time.monotonic() - started
    # While the items waited for OCN's next slot, the task's progress showed how far it got.
    assert {"total": 4, "succeeded": 1, "failed": 0, "percent": 25} in seen, seen
    assert view["status"] == "COMPLETED", view
    statuses = [(r["status"], (r.get("error") or {}).get("code")) for r in view["data"]]
    assert statuses == [("SUCCEEDED", None)] * 2 + [("FAILED", "PLATFORM.TASK_TIMED_OUT")] * 2, view
    assert view["progress"] == {"total": 4, "succeeded": 2, "failed": 2, "percent": 100}
    # Timed out when the third slot proved to lie past the deadline, not after waiting for it.
    assert took < 2 * pace + 1.0, took
    assert len(site.ocn_posted_at) == 2 and gaps(site)[0] >= pace - JITTER
    assert set(ocn_statuses(site)) == {200}

"""Pacing of remote calls through the store: many callers (threads of several pacers, as several
workers would be) stay under an integration's rate together; a 429 pauses every caller of that
integration and no other; a caller whose slot is far away is deferred rather than kept waiting;
and, end to end, an integration its remote keeps throttling does not hold up another's tasks."""

from __future__ import annotations

import bisect
import itertools
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import update

from lmsbridge.auth.service import create_key
from lmsbridge.connectors.moodle import functions as fn
from lmsbridge.connectors.pacing import Pace, PacingDeferred
from lmsbridge.db import Store
from lmsbridge.db.tables import jobs
from lmsbridge.integrations.service import create_integration
from lmsbridge.jobs import wake_workers
from lmsbridge.remote_pacing import StorePacer
from lmsbridge.testing.emulators.moodle import Fault, create_app, seeded_site
from tests.api.helpers import courses, submit
from tests.conftest import Server, fresh_store, running
from tests.faults.test_remote_faults import SETTINGS, TOKEN, finished


@pytest.fixture(scope="module")
def store(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with fresh_store(db_kind, tmp_path_factory, "pacing") as store:
        yield store


@dataclass
class Slot:
    at: float  # the time the pacer gave the caller: when it read its clock, plus the wait
    waited: bool  # the bucket was empty: the caller had to wait for this slot
    woke: float  # when the caller's acquire returned


class SlotRecorder:
    """A clock and a sleep for StorePacer that remember, per thread, what the pacer decided: the
    time of the slot it gave, whatever the scheduler then did to the thread."""

    def __init__(self) -> None:
        self.local = threading.local()

    def clock(self) -> float:
        self.local.now = time.time()
        return float(self.local.now)

    def sleep(self, seconds: float) -> None:
        self.local.wait = seconds
        time.sleep(seconds)

    def acquire(self, pacer: StorePacer, key: str, pace: Pace) -> Slot:
        self.local.wait = 0.0
        pacer.acquire(key, pace)
        return Slot(self.local.now + self.local.wait, self.local.wait > 0, time.time())


def hammer(
    pacers: list[StorePacer], recorder: SlotRecorder, key: str, pace: Pace, threads: int
) -> list[Slot]:
    """Threads that take slots as fast as they are given for a while; the slots they got."""
    got: list[Slot] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + 2.0

    def run(pacer: StorePacer) -> None:
        while time.monotonic() < stop_at:
            try:
                slot = recorder.acquire(pacer, key, pace)
            except PacingDeferred as deferred:
                time.sleep(min(deferred.delay_seconds, 0.05))
                continue
            with lock:
                got.append(slot)

    workers = [threading.Thread(target=run, args=(pacers[n % len(pacers)],)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sorted(got, key=lambda slot: slot.at)


def test_callers_of_several_workers_stay_under_the_rate_together(store: Store) -> None:
    """Checked on the slots the pacers gave, not on when the threads woke: a busy machine delays
    the threads, never the slots. So the checks are exact: no second holds more than the rate
    plus the burst, and a caller that had to wait got the slot right after the one before (the
    rate is used in full while callers queue)."""
    recorder = SlotRecorder()
    pacers = [StorePacer(store, clock=recorder.clock, sleep=recorder.sleep) for _ in range(2)]
    pace = Pace(rate=20, burst=2)
    slots = hammer(pacers, recorder, "moodle:rate", pace, threads=8)
    times = [slot.at for slot in slots]
    worst = max(bisect.bisect_left(times, start + 1.0) - n for n, start in enumerate(times))
    assert worst <= 20 + 2, worst
    # A caller that waited got its slot at most 1/rate after the slot before; exactly 1/rate when
    # that one waited too (time.time() is exact to about 1e-6 s).
    queued = [(before, slot) for before, slot in itertools.pairwise(slots) if slot.waited]
    assert len(queued) >= 20, f"the callers did not queue for a second's worth of slots: {len(queued)}"
    assert all(slot.at - before.at <= 1 / 20 + 1e-6 for before, slot in queued)
    assert all(abs(slot.at - before.at - 1 / 20) < 1e-6 for before, slot in queued if before.waited)
    assert all(slot.woke >= slot.at - 0.01 for slot in slots), "a caller went before its slot"


def test_a_429_pauses_that_integration_for_its_retry_after_and_no_other(store: Store) -> None:
    pacer = StorePacer(store, max_wait=5.0)
    pace = Pace(rate=50)
    pacer.acquire("moodle:a", pace)
    pacer.throttled("moodle:a", pace, 1.0)
    started = time.monotonic()
    pacer.acquire("moodle:b", pace)
    assert time.monotonic() - started < 0.5  # another integration goes on at once
    pacer.acquire("moodle:a", pace)
    assert time.monotonic() - started >= 0.9  # this one waited out the Retry-After


def test_a_slot_further_than_max_wait_defers_instead_of_waiting(store: Store) -> None:
    pacer = StorePacer(store, max_wait=0.5)
    pace = Pace(rate=1, burst=1)
    pacer.acquire("moodle:slow", pace)
    started = time.monotonic()
    with pytest.raises(PacingDeferred) as deferred:
        pacer.acquire("moodle:slow", pace)
    assert time.monotonic() - started < 0.3
    assert 0.5 < deferred.value.delay_seconds <= 1.1
    pacer.throttled("moodle:none", Pace(rate=None), 3.0)  # no declared rate: only 429s pace it
    with pytest.raises(PacingDeferred):
        pacer.acquire("moodle:none", Pace(rate=None))


def test_an_integration_its_remote_keeps_throttling_does_not_hold_up_another(clean_server: Server) -> None:
    throttled_site = seeded_site(token=TOKEN, completion_task_interval=None, courses=1, users=1)
    healthy_site = seeded_site(token=TOKEN, completion_task_interval=None, courses=1, users=1)
    throttled_site.add_fault(Fault(kind="http_status", status=429, retry_after="30", times=None))
    with (
        running(create_app(throttled_site)) as throttled_url,
        running(create_app(healthy_site)) as healthy_url,
    ):
        clients: dict[str, httpx.Client] = {}
        with clean_server.store.write() as conn:
            key = create_key(conn, name="pacing", environment="default").secret
            for name, url in (("throttled", throttled_url), ("healthy", healthy_url)):
                integration = create_integration(
                    conn,
                    clean_server.box,
                    tool="moodle",
                    environment="default",
                    settings={"site_url": url, **SETTINGS, "rate_limit_per_second": 50},
                    credentials={"token": TOKEN},
                )
                clients[name] = clean_server.client(key, integration.id)
        wake_workers()
        try:
            # More throttled tasks than the worker has threads, submitted first.
            stuck = [submit(clients["throttled"], courses(5, prefix=f"s{n}")) for n in range(4)]
            time.sleep(0.5)
            started = time.monotonic()
            view = finished(clients["healthy"], submit(clients["healthy"], courses(12, prefix="ok")))
            took = time.monotonic() - started
            assert view["status"] == "COMPLETED", view
            assert {r["status"] for r in view["data"]} == {"SUCCEEDED"}
            assert took < 15, f"the healthy integration's task took {took:.1f}s"
            for task_id in stuck:
                status = clients["throttled"].get(f"/v1/lms/courses/bulk/{task_id}").json()["data"]["status"]
                assert status == "PENDING"  # deferred until its remote lets it in again
            creates = [c for c in throttled_site.calls if c.function == fn.CREATE_COURSES]
            assert not creates
        finally:
            for client in clients.values():
                client.close()
            _cancel_pending(clean_server)


def _cancel_pending(server: Server) -> None:
    """Leave no deferred job behind for the next test's worker (the store is wiped next)."""
    with server.store.write() as conn:
        conn.execute(update(jobs).where(jobs.c.state == "queued").values(state="failed"))

"""Remote faults between the workers and a Moodle site (the emulator): bursts of 429 with
Retry-After, 5xx answers, answers slower than the timeout, connections dropped mid-answer, each
as a short burst the retries ride out and as a lasting outage. Every item ends SUCCEEDED, or
FAILED with the REMOTE.* code that says what happened; no task stays PENDING; and the site never
holds two courses for one origin_id (a timed-out create that Moodle carried out is found again,
not repeated)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from lmsbridge.auth.service import create_key
from lmsbridge.connectors.moodle import functions as fn
from lmsbridge.ids import derived_id
from lmsbridge.integrations.service import create_integration
from lmsbridge.jobs import wake_workers
from lmsbridge.testing.emulators.moodle import Fault, MoodleSite, create_app, seeded_site
from tests.api.helpers import courses, submit
from tests.conftest import Server, running
from tests.contract import checked
from tests.waiting import wait_until

TOKEN = "5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b"
ITEMS = 12
# Short timeouts and retry delays keep each scenario to seconds; 4 attempts per call.
SETTINGS = {
    "timeout_seconds": 1.0,
    "max_attempts": 4,
    "retry_base_delay_seconds": 0.05,
    "write_batch_size": 5,
}
TASK_TIMEOUT = 60.0


@pytest.fixture(scope="module")
def emulator() -> Iterator[tuple[str, Any]]:
    app = create_app(MoodleSite())
    with running(app) as url:
        yield url, app


@pytest.fixture
def site(emulator: tuple[str, Any]) -> MoodleSite:
    _, app = emulator
    fresh = seeded_site(token=TOKEN, completion_task_interval=None, courses=2, users=2)
    app.state.site = fresh
    return fresh


@pytest.fixture
def moodle_api(clean_server: Server, emulator: tuple[str, Any], site: MoodleSite) -> Iterator[httpx.Client]:
    url, _ = emulator
    with clean_server.store.write() as conn:
        key = create_key(conn, name="faults", environment="default")
        integration = create_integration(
            conn,
            clean_server.box,
            tool="moodle",
            environment="default",
            settings={"site_url": url, **SETTINGS},
            credentials={"token": TOKEN},
        )
    wake_workers()
    with clean_server.client(key.secret, integration.id) as api:
        yield api


def create(**fault: Any) -> Fault:
    return Fault(function=fn.CREATE_COURSES, **fault)


# (name, faults, the outcome every item must end with)
BURSTS = [
    ("429 burst with Retry-After", [create(kind="http_status", status=429, retry_after="1", times=3)]),
    (
        "429 with a Retry-After longer than a worker waits",
        [create(kind="http_status", status=429, retry_after="3")],
    ),
    ("5xx burst", [create(kind="http_status", status=503, times=2), create(kind="http_status", status=502)]),
    ("answers slower than the timeout", [create(kind="latency", seconds=1.5, times=2)]),
    ("connections reset mid-answer", [create(kind="reset", times=3)]),
]
OUTAGES = [
    (
        "lasting 429",
        create(kind="http_status", status=429, retry_after="1", times=None),
        "REMOTE.RATE_LIMIT_EXCEEDED",
    ),
    ("lasting 503", create(kind="http_status", status=503, times=None), "REMOTE.SERVICE_UNAVAILABLE"),
    ("lasting timeouts", create(kind="timeout", seconds=1.5, times=None), "REMOTE.SERVICE_UNAVAILABLE"),
    ("lasting resets", create(kind="reset", times=None), "REMOTE.SERVICE_UNAVAILABLE"),
]


def finished(api: httpx.Client, task_id: str) -> dict[str, Any]:

    def ended() -> dict[str, Any] | None:
        response = checked(api.get(f"/v1/lms/courses/bulk/{task_id}"))
        assert response.status_code == 200, response.text
        view: dict[str, Any] = response.json()["data"]
        return view if view["status"] != "PENDING" else None

    return wait_until(ended, timeout=TASK_TIMEOUT, message=f"task {task_id} still PENDING", interval=0.1)


def assert_one_course_per_item(site: MoodleSite, api: httpx.Client, view: dict[str, Any]) -> None:
    integration = str(api.headers["X-Integration-Id"])
    with site.lock:
        by_idnumber = Counter(c.idnumber for c in site.courses.values() if c.idnumber)
        ids = {c.idnumber: c.id for c in site.courses.values() if c.idnumber}
    assert all(n == 1 for n in by_idnumber.values()), by_idnumber
    for result in view["data"]:
        if result["status"] == "SUCCEEDED":
            expected = derived_id(integration, "lms_courses", str(ids[result["origin_id"]]))
            assert result["data"]["id"] == expected, result


@pytest.mark.parametrize(("name", "faults"), BURSTS, ids=[b[0] for b in BURSTS])
def test_a_burst_of_remote_faults_is_ridden_out(
    site: MoodleSite, moodle_api: httpx.Client, name: str, faults: list[Fault]
) -> None:
    for fault in faults:
        site.add_fault(fault)
    task_id = submit(moodle_api, courses(ITEMS, prefix="burst"))
    view = finished(moodle_api, task_id)
    assert view["status"] == "COMPLETED", view
    assert Counter(r["status"] for r in view["data"]) == {"SUCCEEDED": ITEMS}, view["data"]
    assert not site.faults, f"{name}: the injected faults were not all met"
    assert_one_course_per_item(site, moodle_api, view)


@pytest.mark.parametrize(("name", "fault", "code"), OUTAGES, ids=[o[0] for o in OUTAGES])
def test_a_lasting_remote_fault_fails_items_with_its_code(
    site: MoodleSite, moodle_api: httpx.Client, name: str, fault: Fault, code: str
) -> None:
    site.add_fault(fault)
    task_id = submit(moodle_api, courses(ITEMS, prefix="outage"))
    view = finished(moodle_api, task_id)
    site.clear_faults()
    assert view["status"] == "COMPLETED", view
    assert view["progress"]["total"] == ITEMS
    with site.lock:
        created = {c.idnumber for c in site.courses.values() if c.idnumber.startswith("outage")}
    # A slow Moodle carries a create out though its answer never arrives: such a course exists,
    # and its item says so (found again by ID number) rather than failing (issue 11, C4).
    assert not created or name == "lasting timeouts", created
    for result in view["data"]:
        if result["origin_id"] in created:
            assert result["status"] == "SUCCEEDED", result
        else:
            assert result["status"] == "FAILED", result
            assert result["error"]["code"] == code, (name, result)
    assert_one_course_per_item(site, moodle_api, view)

"""Each failure TalentLMS documents, seen through lmsbridge's own API: the answer carries the
contract's error code (and validates against the contract), and a sync ends in the right state."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from lmsbridge.auth.service import create_key
from lmsbridge.integrations.service import create_integration
from lmsbridge.jobs import wake_workers
from lmsbridge.syncs.repository import SyncRepository, SyncRun
from lmsbridge.testing.emulators.kit import Fault
from lmsbridge.testing.emulators.talentlms.pair import QUICK, TalentLmsPair
from lmsbridge.testing.emulators.talentlms.site import TalentLmsSite, seeded_site
from tests.conftest import Server
from tests.contract import checked

KEY = "tlms-failures-5e6f7a8b9c0d1e2f"
V1_JSON = "application/json"


class Setup:
    def __init__(self, server: Server, site: TalentLmsSite, url: str) -> None:
        self.server, self.site = server, site
        with server.store.write() as conn:
            key = create_key(conn, name="failures", environment="default")
            self.integration = create_integration(
                conn,
                server.box,
                tool="talentlms",
                environment="default",
                settings={"site_url": url, **QUICK},
                credentials={"api_key": KEY},
            )
        wake_workers()
        self.api = server.client(key.secret, self.integration.id)

    def sync(self, after: str | None = None) -> SyncRun:
        deadline = time.monotonic() + 60
        while True:
            with self.server.store.read() as conn:
                runs = SyncRepository(conn).latest_runs(self.integration.id, 1)
            run = runs[0] if runs else None
            if run is not None and run.id != after and run.state not in ("QUEUED", "RUNNING"):
                return run
            assert time.monotonic() < deadline, run
            time.sleep(0.05)

    def force_sync(self, previous: SyncRun) -> SyncRun:
        checked(self.api.post("/v1/force-sync", json={"type": "FULL"}))
        wake_workers()
        return self.sync(after=previous.id)

    def first(self, path: str) -> dict[str, Any]:
        response = checked(self.api.get(path))
        result: dict[str, Any] = response.json()["data"]["results"][0]
        return result

    def error(self, response: httpx.Response) -> dict[str, Any]:
        checked(response)
        assert response.status_code >= 400, response.text
        error: dict[str, Any] = response.json()["error"]
        return error


@pytest.fixture
def setup(clean_server: Server) -> Iterator[Setup]:
    served = TalentLmsPair.shared()
    site = served.use(seeded_site(seed=9, api_key=KEY))
    made = Setup(clean_server, site, served.url)
    assert made.sync().state == "SUCCEEDED"
    yield made
    made.api.close()
    served.use(TalentLmsSite())


def test_an_enrolment_of_a_user_talentlms_no_longer_has_is_remote_input_invalid(setup: Setup) -> None:
    user = setup.first("/v1/lms/users")
    course = setup.first("/v1/lms/courses")
    setup.site.users[int(user["remote_id"])].deleted = True
    response = setup.api.post(
        "/v1/lms/course-progressions",
        json={"user_id": user["id"], "course_revision_id": course["revisions"][0]["id"]},
    )
    error = setup.error(response)
    assert error["code"] == "REMOTE.INPUT_INVALID"
    assert "The requested user is no longer available" in error["message"]


def test_a_deactivation_during_a_lasting_outage_is_service_unavailable(setup: Setup) -> None:
    course = setup.first("/v1/lms/courses")
    setup.site.faults.add(Fault("status", None, None, 503))
    error = setup.error(setup.api.post(f"/v1/lms/courses/{course['id']}/deactivate"))
    assert error["code"] == "REMOTE.SERVICE_UNAVAILABLE"


def test_a_lasting_429_on_an_action_is_rate_limit_exceeded(setup: Setup) -> None:
    course = setup.first("/v1/lms/courses")
    body = '{"error": {"type": "api_error", "message": "Rate limit exceeded"}}'
    setup.site.faults.add(Fault("status", None, None, 429, body=body, content_type=V1_JSON))
    error = setup.error(setup.api.post(f"/v1/lms/courses/{course['id']}/deactivate"))
    assert error["code"] == "REMOTE.RATE_LIMIT_EXCEEDED"


def test_api_access_turned_off_fails_the_sync_as_a_missing_permission(setup: Setup) -> None:
    first = setup.sync()
    body = '{"type": "invalid_request_error", "message": "API access is disabled"}'
    setup.site.faults.add(Fault("status", None, None, 403, body=body, content_type=V1_JSON))
    run = setup.force_sync(first)
    assert run.state in ("FAILED", "PARTIALLY_FAILED"), run
    assert run.error is not None and "Integrations > API" in run.error, run


def test_a_revoked_key_fails_the_sync_as_authentication(setup: Setup) -> None:
    first = setup.sync()
    setup.site.api_key = "rotated-" + KEY
    assert setup.force_sync(first).state == "AUTHENTICATION_FAILED"

"""The lifecycle of an integration through the API: rejected credentials make it INVALID and an
update plus a successful sync ACTIVE again; pause and resume; delete, after which nothing of it
is left in any table; each change of state with Kombo's events; reads before the first complete
sync answer 409 with a message that names the failure and the fix."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from lmsbridge.db.tables import (
    events,
    integration_sync_state,
    integrations,
    jobs,
    metadata,
    sync_runs,
    tasks,
)
from lmsbridge.ids import new_id
from lmsbridge.jobs import wake_workers
from lmsbridge.syncs.service import first_sync_retry_delay, schedule_due_syncs
from tests.api.helpers import courses, submit, wait
from tests.conftest import Server, Tenant, make_tenant
from tests.contract import checked, validate
from tests.syncs.helpers import runs_of, synced_tenant, wait_for_run, wait_until_idle

END_USER_KEYS = {"organization_name", "creator_email", "origin_id"}
STATE_CHANGED_KEYS = {
    "integration_tool",
    "integration_id",
    "integration_category",
    "end_user",
    "qa_status",
    "setup_status",
    "state",
    "updated_at",
}


@pytest.fixture
def live(clean_server: Server) -> Any:
    yield clean_server
    wait_until_idle(clean_server)


def details(server: Server, tenant: Tenant) -> dict[str, Any]:
    with server.client(tenant.key) as api:
        response = checked(api.get(f"/v1/integrations/{tenant.integration}"))
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def integration_events(server: Server, type_: str, integration: str) -> list[dict[str, Any]]:
    with server.store.read() as conn:
        rows = conn.execute(select(events).where(events.c.type == type_).order_by(events.c.created_at))
        payloads = [dict(row.payload) for row in rows]
    return [p for p in payloads if integration in (p["data"].get("integration_id"), p["data"].get("id"))]


def states_announced(server: Server, integration: str) -> list[str]:
    announced = integration_events(server, "integration-state-changed", integration)
    for event in announced:
        assert set(event["data"]) == STATE_CHANGED_KEYS
        assert set(event["data"]["end_user"]) == END_USER_KEYS
        assert event["data"]["integration_category"] == "LMS"
        assert event["data"]["qa_status"] == "PASSED"
        assert event["data"]["updated_at"].endswith("Z")
    return [event["data"]["state"] for event in announced]


def latest_run(server: Server, integration: str) -> Any:
    return wait_for_run(server, runs_of(server, integration)[-1].id)


def patch(server: Server, tenant: Tenant, body: Any) -> httpx.Response:
    with server.client(tenant.key) as api:
        response = api.patch(f"/v1/integrations/{tenant.integration}", json=body)
    if response.status_code == 200:
        # The integration as `GET /integrations/{id}` answers it.
        validate("GET", f"/integrations/{tenant.integration}", 200, response.json())
    else:
        checked(response)
    wake_workers()
    return response


def set_enabled(server: Server, tenant: Tenant, body: Any, **kwargs: Any) -> httpx.Response:
    with server.client(tenant.key) as api:
        response = api.put(f"/v1/integrations/{tenant.integration}/enabled", json=body, **kwargs)
    if response.status_code == 200:
        # The integration as `GET /integrations/{id}` answers it.
        validate("GET", f"/integrations/{tenant.integration}", 200, response.json())
    else:
        checked(response)
    wake_workers()
    return response


# -- creation --------------------------------------------------------------------------------------
def test_creating_an_integration_announces_it_with_its_end_user(live: Server) -> None:
    tenant = make_tenant(live)
    [created] = integration_events(live, "integration-created", tenant.integration)
    assert created["data"] == {
        "id": tenant.integration,
        "tool": "sandbox",
        "category": "LMS",
        "end_user": {"organization_name": "Sandbox integration", "creator_email": None, "origin_id": None},
    }


# -- rejected credentials, update, recovery --------------------------------------------------------
def test_rejected_credentials_make_the_integration_invalid_until_an_update_and_a_successful_sync(
    live: Server,
) -> None:
    tenant = make_tenant(live, auth_invalid=True)
    wake_workers()
    assert latest_run(live, tenant.integration).state == "AUTHENTICATION_FAILED"
    assert details(live, tenant)["status"] == "INVALID"
    assert details(live, tenant)["setup_status"] == "FINAL_SYNC_PENDING"
    assert states_announced(live, tenant.integration) == ["INVALID"]

    # Reads say what is wrong and how to fix it, not "wait".
    with live.client(tenant.key, tenant.integration) as api:
        read = checked(api.get("/v1/lms/users"))
    assert read.status_code == 409
    error = read.json()["error"]
    assert error["code"] == "INTEGRATION.AUTHENTICATION_INVALID"
    assert "rejected its credentials" in error["message"]
    assert f"integrations update {tenant.integration}" in error["message"]
    assert f"PATCH /v1/integrations/{tenant.integration}" in error["message"]

    # An update the remote still refuses is not saved: the preflight answers first.
    refused = patch(live, tenant, {"settings": {"auth_invalid": True, "users": 7}})
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "INTEGRATION.AUTHENTICATION_INVALID"
    assert "credentials" in refused.json()["error"]["message"]
    assert details(live, tenant)["status"] == "INVALID"

    fixed = patch(live, tenant, {"settings": {"auth_invalid": False}})
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["data"]["status"] == "INVALID"  # until the sync it queued succeeds
    assert fixed.json()["warnings"] == []
    assert latest_run(live, tenant.integration).state == "SUCCEEDED"
    now = details(live, tenant)
    assert (now["status"], now["setup_status"]) == ("ACTIVE", "COMPLETED")
    assert states_announced(live, tenant.integration) == ["INVALID", "ACTIVE"]
    with live.client(tenant.key, tenant.integration) as api:
        assert checked(api.get("/v1/lms/users")).status_code == 200


def test_an_update_checks_its_body_and_answers_other_environments_with_404(live: Server) -> None:
    tenant = synced_tenant(live)
    for body in ({"settings": {"users": "many"}}, {"credentails": {}}, {"settings": {"no_such": 1}}):
        response = patch(live, tenant, body)
        assert response.status_code == 400, body
        assert response.json()["error"]["code"] == "PLATFORM.INPUT_INVALID"
    other = make_tenant(live, environment="other")
    with live.client(other.key) as api:
        response = checked(api.patch(f"/v1/integrations/{tenant.integration}", json={"name": "x"}))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "PLATFORM.INTEGRATION_NOT_FOUND"


def test_a_task_that_failed_as_a_whole_is_not_returned_again_after_an_update(live: Server) -> None:
    tenant = make_tenant(live, auth_invalid=True)
    wake_workers()
    latest_run(live, tenant.integration)
    with live.client(tenant.key, tenant.integration) as api:
        failed = submit(api, courses(2))
        assert wait(api, failed)["status"] == "FAILED"
        assert submit(api, courses(2)) == failed  # the same body, no update: the same task
        assert patch(live, tenant, {"settings": {"auth_invalid": False}}).status_code == 200
        retried = submit(api, courses(2))
        assert retried != failed
        assert wait(api, retried)["status"] == "COMPLETED"


# -- failures that say what to do ------------------------------------------------------------------
def test_a_sync_in_which_no_model_succeeded_is_failed_and_leaves_setup_pending(live: Server) -> None:
    every = "lms_users,lms_course_providers,lms_courses,lms_skills,lms_course_progressions,hris_skills"
    tenant = make_tenant(live, fail_read_models=every, page_size=1)
    wake_workers()
    run = latest_run(live, tenant.integration)
    assert run.state == "FAILED", run.error
    assert details(live, tenant)["setup_status"] == "FINAL_SYNC_PENDING"
    assert details(live, tenant)["status"] == "ACTIVE"
    with live.client(tenant.key, tenant.integration) as api:
        read = checked(api.get("/v1/lms/courses"))
    assert read.status_code == 409
    message = read.json()["error"]["message"]
    assert read.json()["error"]["code"] == "INTEGRATION.SETUP_SYNC_PENDING"
    assert "did not read every model (FAILED" in message
    assert "fail_read_models" in message  # the remote's own reason
    assert "retried automatically" in message
    assert "--setting KEY=VALUE" in message


def test_a_partial_first_sync_does_not_complete_the_setup(live: Server) -> None:
    tenant = make_tenant(live, fail_read_models="lms_skills", page_size=1)
    wake_workers()
    run = latest_run(live, tenant.integration)
    assert run.state == "PARTIALLY_FAILED"
    assert details(live, tenant)["setup_status"] == "FINAL_SYNC_PENDING"
    with live.client(tenant.key, tenant.integration) as api:
        read = checked(api.get("/v1/lms/users"))
    assert read.status_code == 409
    assert "PARTIALLY_FAILED" in read.json()["error"]["message"]


def test_a_read_during_the_first_sync_says_it_is_still_running(live: Server) -> None:
    tenant = make_tenant(live, users=20_000, page_size=50)
    wake_workers()
    deadline = time.monotonic() + 30
    while runs_of(live, tenant.integration)[-1].state != "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    with live.client(tenant.key, tenant.integration) as api:
        read = checked(api.get("/v1/lms/users"))
    if read.status_code == 409:  # unless the sync won the race
        assert read.json()["error"]["code"] == "INTEGRATION.SETUP_SYNC_PENDING"
        assert "still running" in read.json()["error"]["message"]


def test_a_failed_first_sync_is_retried_with_backoff_within_minutes(live: Server) -> None:
    # The first retry waits 1s here (60s by default), then 2s, 4s, ... up to 15 minutes; the
    # schedule, which a worker runs every 30s, is called here as that worker would.
    live.settings.first_sync_retry_seconds = 1.0
    every = "lms_users,lms_course_providers,lms_courses,lms_skills,lms_course_progressions,hris_skills"
    tenant = make_tenant(live, fail_read_models=every, page_size=1)
    try:
        wake_workers()
        first = latest_run(live, tenant.integration)
        assert first.state == "FAILED"
        # The Sandbox recovers; the retry comes from the schedule, without a force-sync.
        with live.store.write() as conn:
            conn.execute(
                update(integrations)
                .where(integrations.c.id == tenant.integration)
                .values(settings={"fail_read_models": [], "page_size": 1000})
            )
        assert schedule_due_syncs(live.store, live.settings) == 0  # not at once, in a loop
        deadline = time.monotonic() + 30
        while schedule_due_syncs(live.store, live.settings) == 0:
            assert time.monotonic() < deadline, "the failed first sync was not retried"
            time.sleep(0.1)
        second = latest_run(live, tenant.integration)
        assert second.state == "SUCCEEDED"
        assert second.created_at - first.started_at >= timedelta(seconds=0.9)
        assert details(live, tenant)["setup_status"] == "COMPLETED"
    finally:
        live.settings.first_sync_retry_seconds = 60


def test_first_sync_retries_back_off_up_to_fifteen_minutes() -> None:
    delays = [first_sync_retry_delay(n, 60) for n in range(1, 8)]
    assert delays == [60, 120, 240, 480, 900, 900, 900]


# -- pause and resume ------------------------------------------------------------------------------
def test_a_paused_integration_syncs_nothing_and_its_writes_answer_inactive(live: Server) -> None:
    tenant = synced_tenant(live)
    for body in ({"value": "false"}, {}, {"value": False, "extra": 1}, None):
        response = set_enabled(live, tenant, body)
        assert response.status_code == 400, body
    paused = set_enabled(live, tenant, {"value": False})
    assert paused.status_code == 200, paused.text
    assert paused.json()["data"]["status"] == "INACTIVE"
    assert details(live, tenant)["status"] == "INACTIVE"

    with live.client(tenant.key, tenant.integration) as api:
        for response in (
            api.post("/v1/force-sync", json={"type": "FULL"}),
            api.post("/v1/lms/course-progressions", json={"user_id": "remote:u1", "course_revision_id": "x"}),
            api.post("/v1/passthrough/sandbox/v1", json={"method": "GET", "path": "/users"}),
            api.post("/v1/hris/skills", json={"name": "Paused skill"}),
        ):
            checked(response)
            assert response.status_code == 403, response.text
            assert response.json()["error"]["code"] == "INTEGRATION.INACTIVE"
            assert "integrations activate" in response.json()["error"]["message"]
        task = wait(api, submit(api, courses(1)))
        assert task["status"] == "FAILED"
        assert task["error"]["code"] == "INTEGRATION.INACTIVE"
        # Its data stays readable.
        assert checked(api.get("/v1/lms/users")).status_code == 200

    resumed = set_enabled(live, tenant, {"value": True})
    assert resumed.json()["data"]["status"] == "ACTIVE"
    assert latest_run(live, tenant.integration).state == "SUCCEEDED"
    assert states_announced(live, tenant.integration) == ["INACTIVE", "ACTIVE"]
    # Pausing twice changes nothing and announces nothing.
    set_enabled(live, tenant, {"value": True})
    assert states_announced(live, tenant.integration) == ["INACTIVE", "ACTIVE"]


def test_the_schedule_skips_a_paused_integration(live: Server) -> None:
    tenant = synced_tenant(live)
    assert set_enabled(live, tenant, {"value": False}).status_code == 200
    with live.store.write() as conn:
        conn.execute(
            update(integration_sync_state)
            .where(integration_sync_state.c.integration_id == tenant.integration)
            .values(last_full_started_at=None)
        )
    assert schedule_due_syncs(live.store, live.settings) == 0


# -- delete ----------------------------------------------------------------------------------------
def rows_of(server: Server, integration: str) -> dict[str, int]:
    """Rows naming the integration, in every table that has an integration_id column."""
    found = {}
    with server.store.read() as conn:
        for table in metadata.sorted_tables:
            if "integration_id" in table.c:
                count = conn.scalar(
                    select(func.count()).select_from(table).where(table.c.integration_id == integration)
                )
                if count:
                    found[table.name] = count
    return found


def test_deleting_an_integration_leaves_nothing_of_it_in_any_table(live: Server) -> None:
    tenant = synced_tenant(live)
    keep = synced_tenant(live)
    with live.client(tenant.key, tenant.integration) as api:
        assert wait(api, submit(api, courses(3)))["status"] == "COMPLETED"
        assert checked(api.post("/v1/hris/skills", json={"name": "Doomed skill"})).status_code == 200
    with live.store.read() as conn:
        owned = {
            "syncs": set(
                conn.scalars(select(sync_runs.c.id).where(sync_runs.c.integration_id == tenant.integration))
            ),
            "tasks": set(
                conn.scalars(select(tasks.c.id).where(tasks.c.integration_id == tenant.integration))
            ),
        }
    before = rows_of(live, tenant.integration)
    assert {"lms_users", "lms_courses", "hris_skills", "sync_runs", "tasks", "sandbox_records"} <= set(before)
    kept_before = rows_of(live, keep.integration)

    other = make_tenant(live, environment="other")
    with live.client(other.key) as api:
        response = checked(api.delete(f"/v1/integrations/{tenant.integration}"))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "PLATFORM.INTEGRATION_NOT_FOUND"

    with live.client(tenant.key) as api:
        response = checked(api.delete(f"/v1/integrations/{tenant.integration}"))
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "success", "data": {}}
    assert rows_of(live, tenant.integration) == {}
    assert rows_of(live, keep.integration) == kept_before
    with live.store.read() as conn:
        payloads = [row.payload for row in conn.execute(select(jobs.c.payload))]
    assert not [
        p for p in payloads if p.get("sync_id") in owned["syncs"] or p.get("task_id") in owned["tasks"]
    ]

    with live.client(tenant.key) as api:
        gone = checked(api.get(f"/v1/integrations/{tenant.integration}"))
        assert gone.status_code == 404
        assert gone.json()["error"]["code"] == "PLATFORM.INTEGRATION_NOT_FOUND"
        assert checked(api.delete(f"/v1/integrations/{tenant.integration}")).status_code == 404
    with live.client(tenant.key, tenant.integration) as api:
        assert checked(api.get("/v1/lms/users")).status_code == 404
    [deleted] = integration_events(live, "integration-deleted", tenant.integration)
    assert deleted["data"] == {
        "id": tenant.integration,
        "tool": "sandbox",
        "category": "LMS",
        "end_user": {"organization_name": "Sandbox integration", "creator_email": None, "origin_id": None},
    }


def test_deleting_an_integration_stops_its_running_sync_and_queued_task(live: Server) -> None:
    tenant = make_tenant(live, users=50_000, page_size=100, latency_ms=5)
    wake_workers()
    deadline = time.monotonic() + 30
    while runs_of(live, tenant.integration)[-1].state != "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    with live.client(tenant.key, tenant.integration) as api:
        task = submit(api, courses(50))
    with live.client(tenant.key) as api:
        assert checked(api.delete(f"/v1/integrations/{tenant.integration}")).status_code == 200
    # The running sync notices at its next page and writes nothing more; the task never runs.
    time.sleep(2.0)
    assert rows_of(live, tenant.integration) == {}
    with live.client(tenant.key, tenant.integration) as api:
        assert checked(api.get(f"/v1/lms/courses/bulk/{task}")).status_code == 404


def test_delete_accepts_no_body_or_a_json_object_only(live: Server) -> None:
    tenant = make_tenant(live)
    with live.client(tenant.key) as api:
        for body in (b"null", b"[1]", b"\x00\xffrandom"):
            response = checked(api.request("DELETE", f"/v1/integrations/{tenant.integration}", content=body))
            assert response.status_code == 400, body
        response = checked(api.request("DELETE", f"/v1/integrations/{tenant.integration}", json={}))
        assert response.status_code == 200
        assert checked(api.delete(f"/v1/integrations/{new_id()}")).status_code == 404

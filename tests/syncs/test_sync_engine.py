"""The sync engine end to end on the Sandbox: the server's worker runs every sync, and the tests
compare the store's records with the Sandbox's "remote" ones (sandbox_records)."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest

from lmsbridge.ids import derived_id
from lmsbridge.jobs import wake_workers
from lmsbridge.sandbox.generator import SandboxSize
from lmsbridge.sandbox.repository import SandboxStateRepository
from lmsbridge.syncs import runner as sync_runner
from tests.api.helpers import course, submit, wait
from tests.conftest import Server, make_tenant
from tests.contract import checked
from tests.syncs.helpers import (
    RECORD_MODELS,
    HookAfterCourses,
    deleted_remote_ids,
    expected_sizes,
    finished_event,
    request_sync,
    runs_of,
    sandbox_age,
    sandbox_edit,
    sandbox_remote_ids,
    sandbox_remove,
    set_sandbox_settings,
    snapshot,
    stored,
    sync,
    synced_tenant,
    total,
    wait_for_run,
    worker_paused,
)

SIZE = SandboxSize(users=37, courses=11, progressions=90, seed=7)
DEFAULT_SIZE = SandboxSize(users=50, courses=20, progressions=200, seed=1)
# The models a sync reads from sandbox_records (revisions arrive inside their courses).
REMOTE_MODELS = ("lms_users", "lms_courses", "lms_course_progressions", "lms_skills", "lms_course_providers")


def setup_status(server: Server, key: str, integration: str) -> str:
    with server.client(key) as api:
        response = checked(api.get(f"/v1/integrations/{integration}"))
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["setup_status"])


# -- the first full sync ---------------------------------------------------------------------------
def test_the_first_full_sync_brings_every_sandbox_record_into_the_store(live: Server) -> None:
    with worker_paused(live):
        tenant = make_tenant(
            live, users=SIZE.users, courses=SIZE.courses, progressions=SIZE.progressions, seed=SIZE.seed
        )
        assert setup_status(live, tenant.key, tenant.integration) == "FINAL_SYNC_PENDING"
        [first] = runs_of(live, tenant.integration)
        assert (first.type, first.state) == ("FULL", "QUEUED")
    run = wait_for_run(live, first.id)
    assert run.state == "SUCCEEDED", run.error

    expected = expected_sizes(SIZE)
    for model, size in expected.items():
        assert len(stored(live, model, tenant.integration)) == size, model
    for model in REMOTE_MODELS:
        assert set(stored(live, model, tenant.integration)) == sandbox_remote_ids(
            live, tenant.integration, model
        ), model
    assert set(run.counts) == set(RECORD_MODELS) - {"lms_course_revisions"}
    for model, counts in run.counts.items():
        assert counts == {"added": expected[model], "updated": 0, "unchanged": 0, "deleted": 0}, model
    assert setup_status(live, tenant.key, tenant.integration) == "COMPLETED"


def test_records_keep_ids_derived_from_integration_model_and_remote_id(live: Server) -> None:
    tenant = synced_tenant(live)
    before = snapshot(live, tenant.integration)
    for model, rows in before.items():
        assert rows, model
        for record_id, (remote_id, *_) in rows.items():
            assert record_id == derived_id(tenant.integration, model, remote_id), model

    assert sync(live, tenant).state == "SUCCEEDED"
    after = snapshot(live, tenant.integration)
    assert {model: set(rows) for model, rows in after.items()} == {
        model: set(rows) for model, rows in before.items()
    }


def test_the_same_remote_record_has_a_different_id_in_another_integration(live: Server) -> None:
    one, two = synced_tenant(live), synced_tenant(live)
    ids_one = {row.id for row in stored(live, "lms_users", one.integration).values()}
    ids_two = {row.id for row in stored(live, "lms_users", two.integration).values()}
    assert set(stored(live, "lms_users", one.integration)) == set(stored(live, "lms_users", two.integration))
    assert not ids_one & ids_two


def test_a_second_full_sync_without_remote_changes_changes_nothing(live: Server) -> None:
    tenant = synced_tenant(live)
    before = snapshot(live, tenant.integration)

    run = sync(live, tenant)

    assert run.state == "SUCCEEDED"
    assert snapshot(live, tenant.integration) == before  # changed_at, updated_stamp, deletions
    for model, counts in run.counts.items():
        assert counts == {"added": 0, "updated": 0, "unchanged": len(before[model]), "deleted": 0}, model


# -- changed_at ------------------------------------------------------------------------------------
def moved(
    before: dict[str, dict[str, tuple[Any, ...]]], after: dict[str, dict[str, tuple[Any, ...]]], at: int
) -> set[tuple[str, str]]:
    """(model, remote_id) of the records whose field `at` of the snapshot differs."""
    return {
        (model, row[0])
        for model, rows in after.items()
        for record_id, row in rows.items()
        if before[model].get(record_id, (None,) * 4)[at] != row[at]
    }


CHANGED_AT, UPDATED_STAMP = 1, 2


def test_changed_at_moves_only_for_the_record_whose_own_fields_changed(live: Server) -> None:
    tenant = synced_tenant(live)
    before = snapshot(live, tenant.integration)
    sandbox_edit(live, tenant.integration, "lms_users", "user-3", last_name="Renamed")

    run = sync(live, tenant)

    after = snapshot(live, tenant.integration)
    assert moved(before, after, CHANGED_AT) == {("lms_users", "user-3")}
    # A progression of that user does not move either: its user is a related record.
    assert moved(before, after, UPDATED_STAMP) == {("lms_users", "user-3")}
    assert after["lms_users"][derived_id(tenant.integration, "lms_users", "user-3")][CHANGED_AT] > max(
        row[CHANGED_AT] for row in before["lms_users"].values()
    )
    assert stored(live, "lms_users", tenant.integration)["user-3"].last_name == "Renamed"
    assert run.counts["lms_users"] == {
        "added": 0,
        "updated": 1,
        "unchanged": DEFAULT_SIZE.users - 1,
        "deleted": 0,
    }


def test_a_revision_edit_moves_the_revision_changed_at_and_only_the_updated_stamp_of_its_course(
    live: Server,
) -> None:
    tenant = synced_tenant(live)
    before = snapshot(live, tenant.integration)
    data = SandboxStateRepository(live.store).get(tenant.integration, "lms_courses", "course-2")
    assert data is not None and len(data["revisions"]) == 1
    data["revisions"][0]["title"] = "A new title"
    sandbox_edit(live, tenant.integration, "lms_courses", "course-2", revisions=data["revisions"])

    run = sync(live, tenant)

    after = snapshot(live, tenant.integration)
    assert moved(before, after, CHANGED_AT) == {("lms_course_revisions", "course-2-r1")}
    assert moved(before, after, UPDATED_STAMP) == {
        ("lms_course_revisions", "course-2-r1"),
        ("lms_courses", "course-2"),
    }
    assert stored(live, "lms_course_revisions", tenant.integration)["course-2-r1"].title == "A new title"
    assert run.counts["lms_courses"]["updated"] == 1


# -- deletions: full and delta ---------------------------------------------------------------------
def test_a_delta_sync_after_evolve_reads_only_changed_records_and_deletes_nothing(live: Server) -> None:
    tenant = synced_tenant(live)
    # The Sandbox's data predates the first sync by an hour, as a real LMS's would.
    sandbox_age(live, tenant.integration, 3600)
    done = SandboxStateRepository(live.store).evolve(tenant.integration, 20, DEFAULT_SIZE)
    assert done["removed"] and done["updated"] + done["added"], done

    run = sync(live, tenant, "DELTA")

    assert (run.type, run.state) == ("DELTA", "SUCCEEDED")
    read = total(run.counts, "added", "updated", "unchanged")
    assert 0 < read <= done["updated"] + done["added"]
    assert total(run.counts, "added") + total(run.counts, "updated") > 0
    assert total(run.counts, "deleted") == 0
    for model in RECORD_MODELS:
        assert deleted_remote_ids(live, model, tenant.integration) == set(), model
    removed = {
        (model, remote_id)
        for model in REMOTE_MODELS
        for remote_id in set(stored(live, model, tenant.integration))
        - sandbox_remote_ids(live, tenant.integration, model)
    }
    assert len(removed) == done["removed"]


def test_a_full_sync_marks_exactly_the_records_removed_from_the_sandbox_as_deleted(live: Server) -> None:
    tenant = synced_tenant(live)
    sandbox_remove(live, tenant.integration, "lms_users", "user-7")
    sandbox_remove(live, tenant.integration, "lms_courses", "course-5")  # a course with two revisions
    sandbox_remove(live, tenant.integration, "lms_course_progressions", "prog-9")
    SandboxStateRepository(live.store).evolve(tenant.integration, 20, DEFAULT_SIZE)

    run = sync(live, tenant)

    assert run.state == "SUCCEEDED"
    for model in REMOTE_MODELS:
        remote = sandbox_remote_ids(live, tenant.integration, model)
        records = stored(live, model, tenant.integration)
        assert set(records) >= remote, model
        assert deleted_remote_ids(live, model, tenant.integration) == set(records) - remote, model
        assert run.counts[model]["deleted"] == len(set(records) - remote), model
    assert {"user-7"} <= deleted_remote_ids(live, "lms_users", tenant.integration)
    assert {"prog-9"} <= deleted_remote_ids(live, "lms_course_progressions", tenant.integration)
    deleted_courses = deleted_remote_ids(live, "lms_courses", tenant.integration)
    assert "course-5" in deleted_courses
    revisions = stored(live, "lms_course_revisions", tenant.integration)
    course_remote = {
        row.id: row.remote_id for row in stored(live, "lms_courses", tenant.integration).values()
    }
    for remote_id, row in revisions.items():
        assert (row.remote_deleted_at is not None) == (course_remote[row.course_id] in deleted_courses), (
            remote_id
        )
    assert revisions["course-5-r1"].remote_deleted_at is not None
    assert revisions["course-5-r2"].remote_deleted_at is not None
    user = stored(live, "lms_users", tenant.integration)["user-7"]
    assert user.remote_deleted_at == user.changed_at
    assert user.remote_deleted_at >= run.started_at


def test_a_record_that_reappears_in_the_sandbox_is_no_longer_deleted(live: Server) -> None:
    tenant = synced_tenant(live)
    sandbox = SandboxStateRepository(live.store)
    data = sandbox.get(tenant.integration, "lms_users", "user-4")
    assert data is not None
    sandbox_remove(live, tenant.integration, "lms_users", "user-4")
    assert sync(live, tenant).state == "SUCCEEDED"
    assert deleted_remote_ids(live, "lms_users", tenant.integration) == {"user-4"}

    sandbox.put(tenant.integration, "lms_users", "user-4", data)
    run = sync(live, tenant)

    assert deleted_remote_ids(live, "lms_users", tenant.integration) == set()
    assert run.counts["lms_users"]["updated"] == 1


def test_a_full_sync_that_fails_part_way_through_a_model_marks_nothing_of_that_model_deleted(
    live: Server,
) -> None:
    tenant = synced_tenant(live, page_size=10)
    set_sandbox_settings(live, tenant.integration, fail_read_models=["lms_users"])
    # user-0 sits on the first page (remote ids sort as text), user-42 on a page never read.
    sandbox_remove(live, tenant.integration, "lms_users", "user-0", "user-42")
    sandbox_remove(live, tenant.integration, "lms_course_progressions", "prog-5")

    run = sync(live, tenant)

    assert run.state == "PARTIALLY_FAILED"
    assert "lms_users" in run.error
    assert run.counts["lms_users"]["deleted"] == 0
    assert run.counts["lms_users"]["unchanged"] == 10  # the first page was read
    assert deleted_remote_ids(live, "lms_users", tenant.integration) == set()
    # Every model read in full is reconciled as usual.
    assert deleted_remote_ids(live, "lms_course_progressions", tenant.integration) == {"prog-5"}


def test_a_sync_whose_credentials_are_rejected_ends_authentication_failed_and_deletes_nothing(
    live: Server,
) -> None:
    tenant = synced_tenant(live)
    set_sandbox_settings(live, tenant.integration, auth_invalid=True)
    sandbox_remove(live, tenant.integration, "lms_users", "user-1")
    sandbox_remove(live, tenant.integration, "lms_courses", "course-1")
    sandbox_remove(live, tenant.integration, "lms_course_progressions", "prog-1")
    before = snapshot(live, tenant.integration)

    run = sync(live, tenant)

    assert run.state == "AUTHENTICATION_FAILED"
    assert "credentials" in run.error
    assert snapshot(live, tenant.integration) == before


def test_a_first_sync_that_fails_leaves_the_integration_final_sync_pending(live: Server) -> None:
    tenant = make_tenant(live, auth_invalid=True)
    wake_workers()
    [first] = runs_of(live, tenant.integration)
    assert wait_for_run(live, first.id).state == "AUTHENTICATION_FAILED"
    assert setup_status(live, tenant.key, tenant.integration) == "FINAL_SYNC_PENDING"
    with live.client(tenant.key, tenant.integration) as api:
        response = checked(api.get("/v1/lms/users"))
    assert response.status_code == 409
    # Not "wait": the credentials were rejected, and the message says how to replace them.
    error = response.json()["error"]
    assert error["code"] == "INTEGRATION.AUTHENTICATION_INVALID"
    assert "integrations update" in error["message"]


# -- writes during a sync --------------------------------------------------------------------------
def test_a_course_written_by_a_bulk_task_during_a_full_sync_is_not_marked_deleted_by_it(
    live: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = synced_tenant(live)
    results: list[dict[str, Any]] = []
    failures: list[BaseException] = []

    def write_a_course() -> None:
        # Runs in the sync's worker thread; the bulk task runs in the worker's other thread.
        try:
            with live.client(tenant.key, tenant.integration) as api:
                results.append(wait(api, submit(api, [course("written-mid-sync")])))
        except BaseException as error:
            failures.append(error)

    build = sync_runner.connector_for
    monkeypatch.setattr(
        sync_runner, "connector_for", lambda *args: HookAfterCourses(build(*args), write_a_course)
    )
    run = sync(live, tenant)
    monkeypatch.undo()

    assert not failures, failures
    assert run.state == "SUCCEEDED"
    [task] = results
    assert task["data"][0]["status"] == "SUCCEEDED"
    course_id = task["data"][0]["data"]["id"]
    courses = {row.id: row for row in stored(live, "lms_courses", tenant.integration).values()}
    assert courses[course_id].remote_deleted_at is None
    assert courses[course_id].origin_id == "written-mid-sync"
    revisions = [
        row
        for row in stored(live, "lms_course_revisions", tenant.integration).values()
        if row.course_id == course_id
    ]
    assert len(revisions) == 1
    assert revisions[0].remote_deleted_at is None
    assert run.counts["lms_courses"]["deleted"] == 0

    # The next full sync reads it from the Sandbox like any other course.
    again = sync(live, tenant)
    assert again.counts["lms_courses"] == {
        "added": 0,
        "updated": 0,
        "unchanged": DEFAULT_SIZE.courses + 1,
        "deleted": 0,
    }
    assert deleted_remote_ids(live, "lms_course_revisions", tenant.integration) == set()


# -- the log page ----------------------------------------------------------------------------------
def test_the_log_url_of_a_sync_shows_the_run(live: Server) -> None:
    tenant = synced_tenant(live)
    run = sync(live, tenant)
    log_url = finished_event(live, tenant.integration, run.id)["data"]["log_url"]
    assert log_url == f"{live.url}/logs/syncs/{run.id}"

    page = httpx.get(log_url, timeout=10)

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    for shown in (run.id, tenant.integration, "FULL", "SUCCEEDED", "lms_users", "unchanged"):
        assert shown in page.text, shown
    assert httpx.get(f"{live.url}/logs/syncs/{'x' * 24}", timeout=10).status_code == 404


def test_the_log_page_of_a_failed_sync_shows_its_error(live: Server) -> None:
    tenant = synced_tenant(live)
    set_sandbox_settings(live, tenant.integration, auth_invalid=True)
    run = sync(live, tenant)
    page = httpx.get(f"{live.url}/logs/syncs/{run.id}", timeout=10)
    assert page.status_code == 200
    assert "AUTHENTICATION_FAILED" in page.text
    assert "auth_invalid" in page.text


def test_a_running_sync_shows_as_running_on_its_log_page(
    live: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = synced_tenant(live)
    reading, release = threading.Event(), threading.Event()

    def hold() -> None:
        reading.set()
        release.wait(30)

    build = sync_runner.connector_for
    monkeypatch.setattr(sync_runner, "connector_for", lambda *args: HookAfterCourses(build(*args), hold))
    try:
        data = request_sync(live, tenant)
        assert reading.wait(30), "the sync never reached its courses"
        page = httpx.get(f"{live.url}/logs/syncs/{data['sync_id']}", timeout=10)
        assert page.status_code == 200
        assert "RUNNING" in page.text
    finally:
        release.set()
    assert wait_for_run(live, data["sync_id"]).state == "SUCCEEDED"

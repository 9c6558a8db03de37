"""The Sandbox behaves as the README says an LMS does: a deactivated course takes no new
enrolments, and enrolling a user where the LMS already holds their progression returns that one."""

from __future__ import annotations

from lmsbridge.jobs import wake_workers
from tests.actions.test_direct_actions import (
    COURSES,
    ENROL,
    PROGRESSIONS,
    deactivate_path,
    error_of,
    ok,
    wait_first_sync,
)
from tests.conftest import Server, make_tenant


def test_a_deactivated_course_refuses_new_enrolments(clean_server: Server) -> None:
    tenant = make_tenant(clean_server, users=5, courses=3, progressions=1)
    wake_workers()
    with clean_server.client(tenant.key, tenant.integration) as api:
        wait_first_sync(api, tenant.integration)
        course = ok(api.get(COURSES, params={"remote_ids": "course-2"}))["data"]["results"][0]
        revision = course["revisions"][-1]["id"]
        ok(api.post(deactivate_path(course["id"])))
        refused = error_of(
            api.post(ENROL, json={"user_id": "remote:user-4", "course_revision_id": revision}),
            400,
            "REMOTE.INPUT_INVALID",
        )
        assert "deactivated" in refused["message"]
        listed = ok(api.get(PROGRESSIONS, params={"course_ids": course["id"]}))["data"]["results"]
        assert not [p for p in listed if str(p["remote_id"]).startswith("enr-user-4-")]


def test_enrolling_where_a_progression_exists_returns_it_instead_of_a_second(clean_server: Server) -> None:
    tenant = make_tenant(clean_server, users=5, courses=3, progressions=10)
    wake_workers()
    with clean_server.client(tenant.key, tenant.integration) as api:
        wait_first_sync(api, tenant.integration)
        before = ok(api.get(PROGRESSIONS, params={"page_size": 250}))["data"]["results"]
        generated = before[0]
        enrolled = ok(
            api.post(
                ENROL,
                json={"user_id": generated["user_id"], "course_revision_id": generated["course_revision_id"]},
            )
        )["data"]
        assert enrolled["id"] == generated["id"]
        assert enrolled["remote_id"] == generated["remote_id"]
        after = ok(api.get(PROGRESSIONS, params={"page_size": 250}))["data"]["results"]
        pairs = [(p["user_id"], p["course_revision_id"]) for p in after]
        assert len(pairs) == len(set(pairs)) == len(before)

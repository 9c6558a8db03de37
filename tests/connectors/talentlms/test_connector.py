"""The TalentLMS connector against its emulator over real HTTP: what each model reads, the delta
filter, the writes and their read-back, the calls it makes, and every documented vendor failure
ending in the right contract code."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lmsbridge.connectors.base import CourseUpsert, WriteAction
from lmsbridge.connectors.errors import (
    AuthenticationInvalidError,
    ConnectorError,
    ItemError,
    PermissionMissingError,
)
from lmsbridge.connectors.records import CourseRecord, ProgressionRecord, UserRecord
from lmsbridge.connectors.talentlms.client import v1_target
from lmsbridge.connectors.talentlms.connector import TalentLmsConnector
from lmsbridge.connectors.talentlms.mapping import split_link
from lmsbridge.errors import ErrorCode
from lmsbridge.testing.emulators.kit import Fault
from tests.connectors.talentlms.conftest import KEY, Portal, read_all


def outcomes(connector: TalentLmsConnector, items: list[CourseUpsert]) -> list[Any]:
    return list(connector.upsert_courses(items))


# -- capabilities -----------------------------------------------------------------------------------
def test_capabilities_say_what_talentlms_can_and_cannot_do() -> None:
    caps = TalentLmsConnector.capabilities
    assert caps.supports_delta
    assert caps.can(WriteAction.UPSERT_COURSES) and caps.can(WriteAction.ENROL)
    assert caps.can(WriteAction.DEACTIVATE_COURSE)
    assert caps.write_actions[WriteAction.COMPLETE].value == "UNSUPPORTED"
    assert caps.write_actions[WriteAction.UPSERT_SKILLS].value == "UNSUPPORTED"
    for model in ("lms_course_providers", "lms_skills", "lms_skill_assignments", "hris_skills"):
        assert caps.read_models[model].coverage.value == "UNSUPPORTED"
    assert caps.reads("lms_course_revisions")
    assert not caps.has_field("lms_courses", "provider_id")
    assert TalentLmsConnector.passthrough_apis == {"v1": "{site_url}/api/v1", "v2": "{site_url}/api/v2"}
    assert "Integrations > API" in TalentLmsConnector.setup_text
    assert TalentLmsConnector.credentials_model.model_json_schema()["required"] == ["api_key"]


def test_v1_arguments_are_sorted_and_encoded() -> None:
    assert v1_target("users") == "users"
    assert v1_target("getuserstatusincourse", {"user_id": 7, "course_id": 4}) == (
        "getuserstatusincourse/course_id:4,user_id:7"
    )
    assert v1_target("users", {"email": "a,b:c@x.io"}) == "users/email:a%2Cb%3Ac%40x.io"


# -- reads ------------------------------------------------------------------------------------------
def test_users_read_from_v2_with_their_creation_moment(portal: Portal) -> None:
    users: list[UserRecord] = read_all(portal.connector(), "lms_users")
    listed = portal.site.listed_users()
    assert sorted(u.remote_id for u in users) == sorted(str(u.id) for u in listed)
    deleted = next(u for u in portal.site.users.values() if u.deleted)
    assert str(deleted.id) not in {u.remote_id for u in users}
    by_id = {u.remote_id: u for u in users}
    for user in listed:
        record = by_id[str(user.id)]
        assert (record.first_name, record.last_name, record.work_email) == (
            user.name,
            user.surname,
            user.email,
        )
        assert record.status == ("ACTIVE" if user.status == "active" else "INACTIVE")
        assert record.remote_created_at == user.registration
    assert {c.target for c in portal.site.calls.all()} == {"GET /api/v2/users"}


def test_a_delta_asks_only_for_users_changed_since(portal: Portal) -> None:
    connector = portal.connector()
    user = portal.site.listed_users()[4]
    portal.site.touch_user(user)
    since = datetime.now(UTC) - timedelta(minutes=5)
    changed = [r for page in connector.read("lms_users", since) for r in page]
    assert [r.remote_id for r in changed] == [str(user.id)]
    # Courses have no change filter: a delta reads them whole.
    assert len([r for page in connector.read("lms_courses", since) for r in page]) == len(portal.site.courses)


def test_courses_read_from_v1_with_one_revision_each(portal: Portal) -> None:
    courses: list[CourseRecord] = read_all(portal.connector(), "lms_courses")
    assert len(courses) == len(portal.site.courses)
    for record in courses:
        course = portal.site.courses[int(record.remote_id)]
        (revision,) = record.revisions
        assert revision.remote_id == record.remote_id and revision.title == course.name
        assert revision.status == ("ACTIVE" if course.status == "active" else "INACTIVE")
        assert record.remote_created_at == course.creation_date  # parsed from the portal's date format
        assert record.origin_id is None and revision.remote_url is None  # not written by lmsbridge
        assert record.provider_remote_id is None
    assert {"v1 courses", "v1 siteinfo"} == {c.target for c in portal.site.calls.all()}


def test_progressions_are_read_per_user_and_course(portal: Portal) -> None:
    records: list[ProgressionRecord] = read_all(portal.connector(), "lms_course_progressions")
    site = portal.site
    expected = {
        f"{u}:{c}": en
        for (u, c), en in site.enrolments.items()
        if en.role == "learner" and not site.users[u].deleted
    }
    assert {r.remote_id for r in records} == set(expected)
    for record in records:
        en = expected[record.remote_id]
        assert record.revision_remote_id == record.course_remote_id == str(en.course_id)
        assert record.enrolled_at == en.enrolled_on
        assert record.completed_at == en.completed_on
        want = "COMPLETED" if en.completed_on else "IN_PROGRESS" if en.completion_percentage else "ENROLLED"
        assert record.status == want
    assert {r.status for r in records} == {"COMPLETED", "IN_PROGRESS", "ENROLLED"}
    calls = [c.target for c in site.calls.all()]
    pairs = sum(1 for (u, _), en in site.enrolments.items() if not site.users[u].deleted)
    assert calls.count("v1 getuserstatusincourse") == pairs  # one call per user-course pair
    assert calls.count("GET /api/v2/users/{id}/courses") == len(site.listed_users())


# -- writes -----------------------------------------------------------------------------------------
def test_upserted_courses_keep_their_origin_and_link_through_a_rename(portal: Portal) -> None:
    connector = portal.connector()
    items = [
        CourseUpsert("ext-1", "Negotiation basics", "https://content.example.com/1", "Learn to agree."),
        CourseUpsert("ext-2", "Second course", "https://content.example.com/2"),
    ]
    first = outcomes(connector, items)
    assert [o.error for o in first] == [None, None]
    ids = {o.origin_id: o.remote_id for o in first}
    course = portal.site.courses[int(ids["ext-1"])]
    assert course.code == "ext-1" and course.description.endswith(
        "\nCourse link: https://content.example.com/1"
    )
    renamed = outcomes(
        connector, [CourseUpsert("ext-1", "Negotiation, renamed", "https://content.example.com/1b")]
    )
    assert renamed[0].remote_id == ids["ext-1"]
    record = renamed[0].record
    assert record.origin_id == "ext-1"
    (revision,) = record.revisions
    assert (revision.title, revision.remote_url, revision.description) == (
        "Negotiation, renamed",
        "https://content.example.com/1b",
        None,
    )
    read = {r.remote_id: r for r in read_all(connector, "lms_courses")}
    assert read[ids["ext-2"]].origin_id == "ext-2"
    assert read[ids["ext-2"]].revisions[0].remote_url == "https://content.example.com/2"
    assert sum(1 for c in portal.site.courses.values() if c.code == "ext-1") == 1


def test_enrolment_is_a_learner_and_enrolling_again_is_no_error(portal: Portal) -> None:
    connector = portal.connector()
    user = portal.site.listed_users()[2]
    course = next(c for c in portal.site.courses.values() if (user.id, c.id) not in portal.site.enrolments)
    record = connector.enrol(str(user.id), str(course.id))
    assert record.remote_id == f"{user.id}:{course.id}" and record.status == "ENROLLED"
    assert record.enrolled_at is not None
    assert portal.site.enrolments[(user.id, course.id)].role == "learner"
    assert connector.enrol(str(user.id), str(course.id)).remote_id == record.remote_id


def test_deactivating_a_course_goes_through_the_batch_upsert(portal: Portal) -> None:
    connector = portal.connector()
    course = next(c for c in portal.site.courses.values() if c.status == "active")
    record = connector.deactivate_course(str(course.id))
    assert record.revisions[0].status == "INACTIVE" and portal.site.courses[course.id].status == "inactive"
    assert "POST /api/v2/batch/courses" in [c.target for c in portal.site.calls.all()]


def test_completion_and_skills_are_refused_before_any_call(portal: Portal) -> None:
    connector = portal.connector()
    with pytest.raises(ConnectorError) as refused:
        connector.complete("1:1", datetime.now(UTC), None)
    assert refused.value.code is ErrorCode.INTEGRATION_ACTION_NOT_AVAILABLE
    with pytest.raises(ConnectorError):
        list(connector.upsert_skills([]))
    assert portal.site.calls.all() == []


# -- failures ---------------------------------------------------------------------------------------
def test_a_refused_or_missing_key_is_authentication_invalid(portal: Portal) -> None:
    with pytest.raises(AuthenticationInvalidError, match="Integrations > API"):
        read_all(portal.connector(key="wrong"), "lms_users")
    with pytest.raises(AuthenticationInvalidError, match="key was refused"):
        read_all(portal.connector(key="wrong"), "lms_courses")  # v1 answers 401 too
    with pytest.raises(AuthenticationInvalidError):
        read_all(portal.connector(key=None), "lms_users")


def test_api_access_off_is_a_missing_permission(portal: Portal) -> None:
    body = '{"error": {"type": "invalid_request_error", "message": "API access is disabled"}}'
    portal.site.faults.add(Fault("status", "v1 courses", 1, 403, body=body, content_type="application/json"))
    with pytest.raises(PermissionMissingError) as error:
        read_all(portal.connector(), "lms_courses")
    assert error.value.code is ErrorCode.INTEGRATION_PERMISSION_MISSING


def test_unknown_users_and_courses_fail_the_item_with_the_vendors_message(portal: Portal) -> None:
    connector = portal.connector()
    course_id = str(min(portal.site.courses))
    with pytest.raises(ItemError, match="The requested user does not exist") as error:
        connector.enrol("999999", course_id)
    assert error.value.code is ErrorCode.REMOTE_INPUT_INVALID
    with pytest.raises(ItemError, match="The requested course does not exist"):
        connector.enrol(str(portal.site.listed_users()[1].id), "999999")
    with pytest.raises(ItemError, match="does not exist"):
        connector.deactivate_course("999999")
    with pytest.raises(ItemError, match="not a TalentLMS user id"):
        connector.enrol("abc", course_id)


def test_throttling_waits_for_the_reset_then_goes_on(portal: Portal) -> None:
    portal.site.limiter.set(2.0, 2)
    records = read_all(portal.connector(max_attempts=4), "lms_courses")
    assert len(records) == len(portal.site.courses)


def test_a_lasting_429_is_rate_limit_exceeded(portal: Portal) -> None:
    body = '{"type": "api_error", "message": "Rate limit exceeded"}'
    portal.site.faults.add(
        Fault(
            "status",
            None,
            None,
            429,
            body=body,
            content_type="application/json",
            headers={"X-RateLimit-Reset": "1"},
        )
    )
    with pytest.raises(ConnectorError) as error:
        read_all(portal.connector(), "lms_users")
    assert error.value.code is ErrorCode.REMOTE_RATE_LIMIT_EXCEEDED


def test_a_lasting_5xx_is_service_unavailable_and_a_non_json_answer_unknown(portal: Portal) -> None:
    portal.site.faults.add(Fault("status", None, None, 500))
    with pytest.raises(ConnectorError) as down:
        read_all(portal.connector(), "lms_users")
    assert down.value.code is ErrorCode.REMOTE_SERVICE_UNAVAILABLE
    portal.site.faults.clear()
    portal.site.faults.add(Fault("status", "v1 courses", 1, 200, body="<html>maintenance</html>"))
    with pytest.raises(ConnectorError) as odd:
        read_all(portal.connector(), "lms_courses")
    assert odd.value.code is ErrorCode.REMOTE_UNKNOWN_HTTP_ERROR


def test_a_refused_batch_fails_its_items_and_a_stuck_task_times_out(portal: Portal) -> None:
    body = '{"type": "invalid_request_error", "message": "The courses field is required."}'
    portal.site.faults.add(
        Fault("status", "POST /api/v2/batch/courses", 1, 400, body=body, content_type="application/json")
    )
    (refused,) = outcomes(portal.connector(), [CourseUpsert("r-1", "Refused", "https://x.example/1")])
    assert refused.error is not None and refused.error.code is ErrorCode.REMOTE_INPUT_INVALID
    assert "The courses field is required." in refused.error.message
    portal.site.task_polls = 1000
    (stuck,) = outcomes(
        portal.connector(task_timeout_seconds=0.2), [CourseUpsert("s-1", "Stuck", "https://x.example/2")]
    )
    assert stuck.error is not None and stuck.error.code is ErrorCode.REMOTE_SERVICE_UNAVAILABLE


def test_preflight_proves_both_apis_and_warns_on_a_low_quota(portal: Portal) -> None:
    assert portal.connector().preflight() == []
    assert {c.target for c in portal.site.calls.all()} == {"v1 ratelimit", "GET /api/v2/users"}
    portal.site.used_this_hour = portal.site.hourly_limit - 5
    (warning,) = portal.connector().preflight()
    assert "5 of this hour's 10000" in warning
    with pytest.raises(AuthenticationInvalidError):
        portal.connector(key="wrong").preflight()


def test_passthrough_reaches_both_apis_with_the_key_added(portal: Portal) -> None:
    class Request:
        def __init__(self, method: str, path: str, **extra: Any) -> None:
            self.method, self.path = method, path
            self.headers: dict[str, str] = extra.get("headers", {})
            self.params: dict[str, str] = extra.get("params", {})
            self.data = extra.get("data")
            self.response_as_base64 = extra.get("response_as_base64", False)

    connector = portal.connector()
    v1 = connector.passthrough("v1", Request("GET", "/siteinfo"))
    assert v1.status == 200 and v1.data["date_format"] == "DDMMYYYY" and v1.url.endswith("/api/v1/siteinfo")
    v2 = connector.passthrough("v2", Request("GET", "users", params={"page[size]": "2"}))
    assert v2.status == 200 and len(v2.data["_data"]) == 2
    user = portal.site.listed_users()[1]
    course = next(c for c in portal.site.courses.values() if (user.id, c.id) not in portal.site.enrolments)
    enrol = connector.passthrough(
        "v1", Request("POST", "addusertocourse", data={"user_id": user.id, "course_id": course.id})
    )
    assert enrol.status == 200 and (user.id, course.id) in portal.site.enrolments
    missing = connector.passthrough("v1", Request("GET", "users/id:999999"))
    assert missing.status == 404 and missing.data["error"]["message"] == "The requested user does not exist"
    as_bytes = connector.passthrough("v1", Request("GET", "ratelimit", response_as_base64=True))
    assert base64.b64decode(as_bytes.data).startswith(b"{")
    assert KEY not in str(v1) + str(v2) + str(as_bytes)
    for refused_path in (
        "http://elsewhere.example/api",
        "//elsewhere.example/x",
        "../../admin",
        "users/../../x",
    ):
        with pytest.raises(ConnectorError, match="path") as refused:
            connector.passthrough("v2", Request("GET", refused_path))
        assert refused.value.code is ErrorCode.INPUT_INVALID
    with pytest.raises(ConnectorError, match="v1 or v2"):
        connector.passthrough("v3", Request("GET", "users"))


def test_the_description_link_line_is_split_off() -> None:
    assert split_link("Intro\nCourse link: https://x.example/a") == ("Intro", "https://x.example/a")
    assert split_link("Course link: https://x.example/a") == (None, "https://x.example/a")
    assert split_link("No link here") == ("No link here", None)
    assert split_link(None) == (None, None)

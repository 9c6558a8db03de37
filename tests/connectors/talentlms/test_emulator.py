"""The TalentLMS emulator speaks the vendor's protocols as the vendor's own clients use them:
v1's `key:value` path arguments (with or without a trailing slash, values URL-encoded), Basic
auth with the key as user name, form POSTs, wrapped errors with the vendor's messages; v2's
headers, paging, filters, batch tasks and top-level errors; 429s in each API's shape; and every
v2 answer the vendor's OpenAPI file describes validates against it."""

from __future__ import annotations

import time
from urllib.parse import quote

import pytest

from lmsbridge.testing.emulators.kit import Fault
from lmsbridge.testing.emulators.registry import DEFAULT_PORTS, EMULATORS
from lmsbridge.testing.emulators.talentlms.spec import SpecCheck, SpecViolation
from tests.connectors.talentlms.conftest import KEY, Portal


def learner_pair(portal: Portal) -> tuple[int, int]:
    return next(
        (u, c)
        for (u, c), en in sorted(portal.site.enrolments.items())
        if en.role == "learner" and not portal.site.users[u].deleted
    )


# -- v1 ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", ["", "/"])
def test_v1_arguments_in_the_path_with_or_without_a_trailing_slash(portal: Portal, suffix: str) -> None:
    user_id, course_id = learner_pair(portal)
    one = portal.v1(f"users/id:{user_id}{suffix}")
    assert one.status_code == 200 and one.json()["id"] == str(user_id)
    assert {c["id"] for c in one.json()["courses"]} >= {str(course_id)}
    both = portal.v1(f"getuserstatusincourse/course_id:{course_id},user_id:{user_id}{suffix}")
    assert both.status_code == 200 and both.json()["role"] == "learner"
    unsorted = portal.v1(f"getuserstatusincourse/user_id:{user_id},course_id:{course_id}{suffix}")
    assert unsorted.json() == both.json()
    assert portal.v1(f"users{suffix}").status_code == 200
    as_query = portal.v1(
        f"getuserstatusincourse{suffix}", params={"user_id": user_id, "course_id": course_id}
    )
    assert as_query.json() == both.json()


def test_v1_values_are_url_encoded_and_pages_are_path_arguments(portal: Portal) -> None:
    user = portal.site.listed_users()[3]
    by_email = portal.v1(f"users/email:{quote(user.email, safe='')}")
    assert by_email.status_code == 200 and by_email.json()["login"] == user.login
    everyone = [u["id"] for u in portal.v1("users").json()]
    second = portal.v1("users/page_size:5,page_number:2").json()
    assert [u["id"] for u in second] == everyone[5:10]
    assert all(isinstance(u["id"], str) for u in second)  # v1 answers strings


def test_v1_authentication_and_the_vendors_error_messages(portal: Portal) -> None:
    bare = portal.v1("users", key=None)
    assert bare.status_code == 401 and "text/html" in bare.headers["content-type"]
    wrong = portal.v1("users", key="nope")
    assert wrong.status_code == 401 and set(wrong.json()["error"]) == {"type", "message"}
    missing = portal.v1("users/id:999999")
    assert missing.status_code == 404
    assert missing.json() == {
        "error": {"type": "invalid_request_error", "message": "The requested user does not exist"}
    }
    deleted = next(u for u in portal.site.users.values() if u.deleted)
    assert deleted.id not in {int(u["id"]) for u in portal.v1("users").json()}
    gone = portal.v1(f"users/id:{deleted.id}")
    assert gone.json()["error"]["message"] == "The requested user is no longer available"
    assert portal.v1("nosuchaction").json()["error"]["message"] == "The requested API action does not exist"
    assert portal.v1("users/id").json()["error"]["message"] == "Invalid arguments provided"


def test_v1_enrolment_is_a_form_post(portal: Portal) -> None:
    user = portal.site.listed_users()[2]
    course = next(c for c in portal.site.courses.values() if (user.id, c.id) not in portal.site.enrolments)
    form = {"user_id": str(user.id), "course_id": str(course.id), "role": "learner"}
    first = portal.v1("addusertocourse", method="POST", data=form)
    assert first.status_code == 200
    assert first.json() == [{"user_id": str(user.id), "course_id": str(course.id), "role": "learner"}]
    again = portal.v1("addusertocourse/", method="POST", data=form)
    assert again.status_code == 400
    assert again.json()["error"]["message"] == "The requested user is already enrolled in this course"
    created = portal.v1("createcourse", method="POST", data={"name": "From v1", "code": "V1-1"})
    assert (
        created.status_code == 200
        and created.json()["code"] == "V1-1"
        and created.json()["status"] == "active"
    )
    assert portal.v1("createcourse", method="POST", data={"name": "Again", "code": "V1-1"}).status_code == 400


# -- v2 ---------------------------------------------------------------------------------------------
def test_v2_headers_paging_and_the_change_filter(portal: Portal) -> None:
    assert portal.v2("GET", "users", key=None).json()["type"] == "invalid_request_error"
    no_version = portal.v2("GET", "users", headers={"X-API-Version": ""})
    assert no_version.status_code == 400
    page = portal.v2("GET", "users", params={"page[number]": 2, "page[size]": 4})
    body = page.json()
    assert page.headers["X-RateLimit-Limit"] and page.headers["X-RateLimit-Remaining"]
    assert body["_meta"]["pagination"]["page"] == 2 and len(body["_data"]) == 4
    assert {"self", "first", "last", "prev", "next"} <= set(body["_links"])
    assert portal.v2("GET", "users", params={"page[size]": 101}).status_code == 422
    user = portal.site.listed_users()[1]
    portal.site.touch_user(user)
    changed = portal.v2("GET", "users", params={"filter[last_updated][gte]": "2030-01-01T00:00:00Z"})
    assert changed.json()["_data"] == []
    recent = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 60))
    since = portal.v2("GET", "users", params={"filter[last_updated][gte]": recent}).json()["_data"]
    assert [u["id"] for u in since] == [user.id]


def test_v2_batch_upsert_answers_a_task_to_poll(portal: Portal) -> None:
    body = {"courses": [{"name": "Batch one", "code": "B-1", "description": "d", "is_active": True}]}
    task_id = portal.v2("POST", "batch/courses", json=body).json()["_data"]["task_id"]
    first = portal.v2("GET", f"tasks/{task_id}").json()["_data"]
    assert first["status"] == "in_progress"
    done = portal.v2("GET", f"tasks/{task_id}").json()["_data"]
    assert done["status"] == "completed" and done["results"][0]["status"] == "completed"
    renamed = {"courses": [{"name": "Batch renamed", "code": "B-1"}]}
    portal.v2("POST", "batch/courses", json=renamed)
    matches = [c for c in portal.site.courses.values() if c.code == "B-1"]
    assert [c.name for c in matches] == ["Batch renamed"]  # matched by code, not created twice
    too_many = {"courses": [{"name": f"n{i}", "code": f"n{i}"} for i in range(101)]}
    assert portal.v2("POST", "batch/courses", json=too_many).status_code == 422


def test_throttled_answers_take_each_apis_shape(portal: Portal) -> None:
    portal.site.limiter.set(0.5, 1)
    portal.v2("GET", "health")  # unauthenticated, yet counted like any call
    v2 = portal.v2("GET", "users")
    v1 = portal.v1("users")
    assert v2.status_code == v1.status_code == 429
    assert set(v2.json()) == {"type", "message"} and set(v1.json()) == {"error"}
    assert int(v2.headers["X-RateLimit-Reset"]) >= int(time.time())
    assert v2.headers["X-RateLimit-Remaining"] == "0"


def test_faults_are_matched_by_api_target(portal: Portal) -> None:
    portal.site.faults.add(Fault("status", "v1 courses", 1, 503))
    assert portal.v1("courses").status_code == 503
    assert portal.v1("courses").status_code == 200
    assert [c.target for c in portal.site.calls.all()][-2:] == ["v1 courses", "v1 courses"]


# -- the vendor's OpenAPI file ----------------------------------------------------------------------
def test_every_described_v2_answer_validates_against_the_vendor_spec(portal: Portal) -> None:
    check = portal.site.spec_check
    if check is None:
        pytest.skip("the TalentLMS OpenAPI file (../shared/reference/vendor-specs/talentlms) is absent")
    user_id, _ = learner_pair(portal)
    for method, path, params in (
        ("GET", "users", {"page[size]": 5}),
        ("GET", "users", {"page[number]": 3, "page[size]": 5}),
        ("GET", f"users/{user_id}", None),
        ("GET", f"users/{user_id}/courses", None),
        ("GET", "courses", None),
        ("GET", "tasks/none", None),
    ):
        response = portal.v2(method, path, params=params)
        assert response.status_code in (200, 404), response.text  # a 500 is an answer off the spec
    described = set(check.checked)
    assert described == {("GET", "/users"), ("GET", "/users/{id}"), ("GET", "/users/{id}/courses")}
    assert check.schema("GET", "/courses", 200) is None  # undescribed by the vendor


def test_the_spec_check_catches_an_off_spec_answer() -> None:
    check = SpecCheck.load()
    if check is None:
        pytest.skip("the TalentLMS OpenAPI file is absent")
    with pytest.raises(SpecViolation, match="status"):
        check.check("GET", "/users/{id}", 200, {"_data": {"id": 1, "status": "archived"}})
    with pytest.raises(SpecViolation):
        check.check("GET", "/users/{id}/courses", 200, {"_data": {"courses": [{"id": "7"}]}})


# -- lmsbridge emulate talentlms --------------------------------------------------------------------
def test_the_emulator_is_registered_with_its_connection() -> None:
    emulation = EMULATORS["talentlms"](4, "http://127.0.0.1:9013", KEY, {})
    assert emulation.connection.as_json() == {
        "tool": "talentlms",
        "settings": {"site_url": "http://127.0.0.1:9013"},
        "credentials": {"api_key": KEY},
    }
    assert emulation.app is not None and DEFAULT_PORTS["talentlms"] == 9013
    with pytest.raises(ValueError, match="unknown setting"):
        EMULATORS["talentlms"](4, "http://127.0.0.1:9013", KEY, {"version": "1"})

"""Direct write actions through the public API, on the Sandbox: enrol a user, complete a
progression, deactivate a course; remote failures, the concurrency limit and tenant isolation."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.api.helpers import course, submit, wait
from tests.conftest import Server, Tenant, make_tenant
from tests.contract import checked
from tests.waiting import wait_until

ENROL = "/v1/lms/course-progressions"
PROGRESSIONS = "/v1/lms/course-progressions"
COURSES = "/v1/lms/courses"
USERS = "/v1/lms/users"


def complete_path(progression_id: str) -> str:
    return f"/v1/lms/course-progressions/{progression_id}/complete"


def deactivate_path(course_id: str) -> str:
    return f"/v1/lms/courses/{course_id}/deactivate"


def wait_first_sync(api: httpx.Client, integration: str, timeout: float = 30.0) -> None:
    """Poll the integration until its first sync completed (bounded)."""

    def completed() -> bool:
        response = checked(api.get(f"/v1/integrations/{integration}"))
        assert response.status_code == 200, response.text
        return bool(response.json()["data"]["setup_status"] == "COMPLETED")

    wait_until(completed, timeout=timeout, message="the first sync did not finish")


def ok(response: httpx.Response) -> dict[str, Any]:
    checked(response)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == "success"
    return body


def error_of(response: httpx.Response, status: int, code: str | None) -> dict[str, Any]:
    checked(response)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == "error"
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    error: dict[str, Any] = body["error"]
    return error


def listed(api: httpx.Client, path: str, **params: str) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = ok(api.get(path, params={"page_size": "250", **params}))["data"][
        "results"
    ]
    return results


def all_of(api: httpx.Client, path: str) -> list[dict[str, Any]]:
    """Every record of a list endpoint, page by page (bounded)."""
    results: list[dict[str, Any]] = []
    params = {"page_size": "250"}
    for _ in range(100):
        data = ok(api.get(path, params=params))["data"]
        results.extend(data["results"])
        if data["next"] is None:
            return results
        params = {"page_size": "250", "cursor": data["next"]}
    raise AssertionError(f"{path} did not end within 100 pages")


def enrol(api: httpx.Client, user_id: str, revision_id: str) -> httpx.Response:
    return api.post(ENROL, json={"user_id": user_id, "course_revision_id": revision_id})


def wire_now() -> str:
    """Now in the wire format, rounded down to the millisecond."""
    moment = datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_wire(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.fixture
def synced(clean_server: Server, tenant: Tenant, api: httpx.Client) -> httpx.Client:
    """The tenant's client once its initial full sync has completed."""
    wait_first_sync(api, tenant.integration)
    return api


@pytest.fixture
def pair(synced: httpx.Client) -> tuple[dict[str, Any], dict[str, Any]]:
    """A user and a course revision (with its course) that have no progression yet: the Sandbox's
    generated progressions cover some pairs, and enrolling creates its own progression."""
    taken = {(p["user_id"], p["course_revision_id"]) for p in all_of(synced, PROGRESSIONS)}
    revisions = [dict(r, course=c) for c in listed(synced, COURSES) for r in c["revisions"]]
    for user_ in listed(synced, USERS):
        for revision_ in revisions:
            if (user_["id"], revision_["id"]) not in taken:
                return user_, revision_
    raise AssertionError("every user is enrolled in every revision")


@pytest.fixture
def user(pair: tuple[dict[str, Any], dict[str, Any]]) -> dict[str, Any]:
    return pair[0]


@pytest.fixture
def revision(pair: tuple[dict[str, Any], dict[str, Any]]) -> dict[str, Any]:
    return pair[1]


@pytest.fixture
def enrolled(synced: httpx.Client, user: dict[str, Any], revision: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = ok(enrol(synced, user["id"], revision["id"]))["data"]
    return data


# -- enrol -----------------------------------------------------------------------------------------


def test_enrol_returns_the_progression_with_warnings_and_concurrency_headers(
    synced: httpx.Client, clean_server: Server, user: dict[str, Any], revision: dict[str, Any]
) -> None:
    response = enrol(synced, user["id"], revision["id"])
    body = ok(response)
    assert body["warnings"] == []
    data = body["data"]
    assert len(data["id"]) == 24
    assert data["remote_id"]
    assert data["status"] == "ENROLLED"
    assert data["user_id"] == user["id"]
    assert data["course_revision_id"] == revision["id"]
    assert data["enrolled_at"] is not None
    assert data["completed_at"] is None
    assert data["user"] == {
        "id": user["id"],
        "remote_id": user["remote_id"],
        "first_name": user["first_name"],
        "last_name": user["last_name"],
        "work_email": user["work_email"],
    }
    assert data["course_revision"] == {
        "id": revision["id"],
        "remote_id": revision["remote_id"],
        "title": revision["title"],
        "course": {"id": revision["course"]["id"], "remote_id": revision["course"]["remote_id"]},
    }
    limit = str(clean_server.settings.action_concurrency_limit)
    assert response.headers["Concurrency-Limit"] == limit
    assert response.headers["Concurrency-Remaining"] == str(int(limit) - 1)


def test_an_enrolment_is_readable_at_once(
    synced: httpx.Client, user: dict[str, Any], enrolled: dict[str, Any]
) -> None:
    results = listed(synced, PROGRESSIONS, user_ids=user["id"])
    assert enrolled["id"] in [r["id"] for r in results]
    found = next(r for r in results if r["id"] == enrolled["id"])
    assert found == enrolled


def test_enrolling_again_returns_the_same_progression(
    synced: httpx.Client, user: dict[str, Any], revision: dict[str, Any], enrolled: dict[str, Any]
) -> None:
    again = ok(enrol(synced, user["id"], revision["id"]))["data"]
    assert again["id"] == enrolled["id"]
    assert again["enrolled_at"] == enrolled["enrolled_at"]
    mine = [
        r
        for r in listed(synced, PROGRESSIONS, user_ids=user["id"])
        if r["course_revision_id"] == revision["id"]
    ]
    assert [r["id"] for r in mine] == [enrolled["id"]]


def test_remote_ids_work_for_both_fields(
    synced: httpx.Client, user: dict[str, Any], revision: dict[str, Any], enrolled: dict[str, Any]
) -> None:
    by_remote = ok(enrol(synced, f"remote:{user['remote_id']}", f"remote:{revision['remote_id']}"))["data"]
    assert by_remote["id"] == enrolled["id"]
    assert by_remote["user_id"] == user["id"]
    assert by_remote["course_revision_id"] == revision["id"]
    mixed = ok(enrol(synced, user["id"], f"remote:{revision['remote_id']}"))["data"]
    assert mixed["id"] == enrolled["id"]


def test_a_first_enrolment_by_remote_ids(
    synced: httpx.Client, user: dict[str, Any], revision: dict[str, Any]
) -> None:
    data = ok(enrol(synced, f"remote:{user['remote_id']}", f"remote:{revision['remote_id']}"))["data"]
    assert data["status"] == "ENROLLED"
    assert data["user"]["id"] == user["id"]
    assert data["course_revision"]["id"] == revision["id"]
    assert data["course_revision"]["course"]["id"] == revision["course"]["id"]
    assert [r["id"] for r in listed(synced, PROGRESSIONS, ids=data["id"])] == [data["id"]]


@pytest.mark.parametrize("field", ["user_id", "course_revision_id"])
def test_an_unknown_lmsbridge_id_is_refused_as_input_invalid(
    synced: httpx.Client, user: dict[str, Any], revision: dict[str, Any], field: str
) -> None:
    body = {"user_id": user["id"], "course_revision_id": revision["id"], field: "0" * 24}
    error = error_of(synced.post(ENROL, json=body), 400, "PLATFORM.INPUT_INVALID")
    assert field in error["message"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"user_id": "remote:user-1"},
        {"course_revision_id": "remote:course-1-r1"},
        {"user_id": "", "course_revision_id": "remote:course-1-r1"},
        {"user_id": 1, "course_revision_id": "remote:course-1-r1"},
        {"user_id": "remote:", "course_revision_id": "remote:course-1-r1"},
    ],
)
def test_missing_or_malformed_fields_are_refused(synced: httpx.Client, body: dict[str, Any]) -> None:
    error_of(synced.post(ENROL, json=body), 400, "PLATFORM.INPUT_INVALID")


def test_enrolling_without_a_body_is_refused(synced: httpx.Client) -> None:
    error_of(synced.post(ENROL), 400, "PLATFORM.INPUT_INVALID")


def test_enrolling_an_unknown_remote_user_fails_as_remote_input_invalid(
    synced: httpx.Client, revision: dict[str, Any]
) -> None:
    response = enrol(synced, "remote:nope", revision["id"])
    error = error_of(response, 400, "REMOTE.INPUT_INVALID")
    assert "nope" in error["message"]
    assert error["title"]


def test_enrolling_an_unknown_remote_revision_fails_as_remote_input_invalid(
    synced: httpx.Client, user: dict[str, Any]
) -> None:
    error = error_of(enrol(synced, user["id"], "remote:nope"), 400, "REMOTE.INPUT_INVALID")
    assert "nope" in error["message"]


# -- complete --------------------------------------------------------------------------------------


def test_complete_with_a_date_and_score(synced: httpx.Client, enrolled: dict[str, Any]) -> None:
    response = synced.post(complete_path(enrolled["id"]), json={"completed_at": "2024-04-15", "score": 93})
    body = ok(response)
    assert body["warnings"] == []
    assert response.headers["Concurrency-Limit"]
    assert response.headers["Concurrency-Remaining"]
    data = body["data"]
    assert data["id"] == enrolled["id"]
    assert data["status"] == "COMPLETED"
    assert data["completed_at"] == "2024-04-15T00:00:00.000Z"
    assert data["enrolled_at"] == enrolled["enrolled_at"]
    assert data["user"] == enrolled["user"]
    assert data["course_revision"] == enrolled["course_revision"]


def test_complete_with_a_date_time(synced: httpx.Client, enrolled: dict[str, Any]) -> None:
    data = ok(synced.post(complete_path(enrolled["id"]), json={"completed_at": "2024-04-15T10:20:30Z"}))[
        "data"
    ]
    assert data["completed_at"] == "2024-04-15T10:20:30.000Z"


@pytest.mark.parametrize("send", ["nothing", "empty object"])
def test_complete_without_a_date_completes_now(
    synced: httpx.Client, enrolled: dict[str, Any], send: str
) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    path = complete_path(enrolled["id"])
    response = synced.post(path) if send == "nothing" else synced.post(path, json={})
    data = ok(response)["data"]
    after = datetime.now(UTC) + timedelta(seconds=1)
    assert data["status"] == "COMPLETED"
    assert before <= parse_wire(data["completed_at"]) <= after


@pytest.mark.parametrize(
    "body",
    [
        {"score": 101},
        {"score": -1},
        {"score": "93"},
        {"score": 93.5},
        {"completed_at": "yesterday"},
        {"completed_at": "2024-13-45"},
        {"completed_at": 20240415},
    ],
)
def test_a_bad_score_or_date_is_refused(
    synced: httpx.Client, enrolled: dict[str, Any], body: dict[str, Any]
) -> None:
    error_of(synced.post(complete_path(enrolled["id"]), json=body), 400, "PLATFORM.INPUT_INVALID")
    still = listed(synced, PROGRESSIONS, ids=enrolled["id"])
    assert [r["status"] for r in still] == ["ENROLLED"]


@pytest.mark.parametrize("score", [0, 100])
def test_scores_at_the_bounds_are_accepted(
    synced: httpx.Client, enrolled: dict[str, Any], score: int
) -> None:
    data = ok(synced.post(complete_path(enrolled["id"]), json={"score": score}))["data"]
    assert data["status"] == "COMPLETED"


def test_completing_an_unknown_progression_is_not_found(synced: httpx.Client) -> None:
    error_of(synced.post(complete_path("0" * 24), json={"score": 50}), 404, "PLATFORM.INPUT_INVALID")


def test_completing_an_unknown_remote_progression_fails_as_remote_input_invalid(
    synced: httpx.Client,
) -> None:
    error_of(synced.post(complete_path("remote:nope"), json={}), 400, "REMOTE.INPUT_INVALID")


def test_complete_by_remote_id(synced: httpx.Client, enrolled: dict[str, Any]) -> None:
    data = ok(synced.post(complete_path(f"remote:{enrolled['remote_id']}"), json={"score": 70}))["data"]
    assert data["id"] == enrolled["id"]
    assert data["status"] == "COMPLETED"


def test_complete_a_synced_progression(synced: httpx.Client) -> None:
    target = next(r for r in listed(synced, PROGRESSIONS) if r["status"] != "COMPLETED")
    data = ok(synced.post(complete_path(target["id"]), json={"completed_at": "2024-04-15"}))["data"]
    assert data["id"] == target["id"]
    assert data["status"] == "COMPLETED"
    assert data["completed_at"] == "2024-04-15T00:00:00.000Z"


def test_a_completion_is_visible_with_updated_after(synced: httpx.Client, enrolled: dict[str, Any]) -> None:
    since = wire_now()
    ok(synced.post(complete_path(enrolled["id"]), json={"completed_at": "2024-04-15", "score": 93}))
    changed = listed(synced, PROGRESSIONS, updated_after=since)
    assert [r["id"] for r in changed] == [enrolled["id"]]
    assert changed[0]["status"] == "COMPLETED"
    assert changed[0]["completed_at"] == "2024-04-15T00:00:00.000Z"
    assert parse_wire(changed[0]["changed_at"]) >= parse_wire(since)


# -- deactivate ------------------------------------------------------------------------------------


def assert_inactive(course_: dict[str, Any]) -> None:
    assert course_["revisions"], "a course with no revisions"
    assert {r["status"] for r in course_["revisions"]} == {"INACTIVE"}


def test_deactivate_a_synced_course(synced: httpx.Client) -> None:
    all_courses = listed(synced, COURSES)
    target = next(c for c in all_courses if len(c["revisions"]) > 1)
    assert {r["status"] for r in target["revisions"]} != {"INACTIVE"}
    since = wire_now()
    response = synced.post(deactivate_path(target["id"]))
    body = ok(response)
    assert body["warnings"] == []
    assert response.headers["Concurrency-Limit"] and response.headers["Concurrency-Remaining"]
    data = body["data"]
    assert data["id"] == target["id"]
    assert data["remote_id"] == target["remote_id"]
    assert [r["id"] for r in data["revisions"]] == [r["id"] for r in target["revisions"]]
    assert_inactive(data)
    listed_again = listed(synced, COURSES, ids=target["id"])
    assert len(listed_again) == 1
    assert_inactive(listed_again[0])
    assert [c["id"] for c in listed(synced, COURSES, updated_after=since)] == [target["id"]]
    others = [c for c in listed(synced, COURSES) if c["id"] != target["id"]]
    assert any(r["status"] == "ACTIVE" for c in others for r in c["revisions"])


def test_deactivate_by_remote_id(synced: httpx.Client) -> None:
    target = listed(synced, COURSES)[0]
    data = ok(synced.post(deactivate_path(f"remote:{target['remote_id']}")))["data"]
    assert data["id"] == target["id"]
    assert_inactive(data)


def test_deactivate_keeps_existing_progress(synced: httpx.Client, enrolled: dict[str, Any]) -> None:
    course_id = enrolled["course_revision"]["course"]["id"]
    assert_inactive(ok(synced.post(deactivate_path(course_id)))["data"])
    kept = listed(synced, PROGRESSIONS, ids=enrolled["id"])
    assert [r["status"] for r in kept] == ["ENROLLED"]


def test_deactivate_a_course_written_by_a_bulk_task(synced: httpx.Client) -> None:
    task = wait(synced, submit(synced, [course("deactivate-me", "Deactivate me")]))
    assert task["status"] == "COMPLETED"
    result = task["data"][0]
    assert result["status"] == "SUCCEEDED", result
    course_id = result["data"]["id"]
    before = listed(synced, COURSES, ids=course_id)
    assert len(before) == 1 and before[0]["origin_id"] == "deactivate-me"
    assert {r["status"] for r in before[0]["revisions"]} == {"ACTIVE"}
    data = ok(synced.post(deactivate_path(course_id)))["data"]
    assert data["id"] == course_id
    assert data["origin_id"] == "deactivate-me"
    assert_inactive(data)
    assert_inactive(listed(synced, COURSES, ids=course_id)[0])


def test_deactivating_an_unknown_course_is_not_found(synced: httpx.Client) -> None:
    error_of(synced.post(deactivate_path("0" * 24)), 404, "PLATFORM.INPUT_INVALID")


def test_deactivating_an_unknown_remote_course_fails_as_remote_input_invalid(
    synced: httpx.Client,
) -> None:
    error_of(synced.post(deactivate_path("remote:nope")), 400, "REMOTE.INPUT_INVALID")


# -- remote failures -------------------------------------------------------------------------------


@pytest.fixture
def rejected(clean_server: Server) -> Iterator[httpx.Client]:
    """A Sandbox whose credentials the remote rejects (its first sync fails too)."""
    tenant = make_tenant(clean_server, auth_invalid="true")
    with clean_server.client(tenant.key, tenant.integration) as client:
        yield client


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (ENROL, {"user_id": "remote:user-1", "course_revision_id": "remote:course-1-r1"}),
        (complete_path("remote:enr-user-1-course-1-r1"), {"score": 50}),
        (deactivate_path("remote:course-1"), None),
    ],
)
def test_rejected_credentials_fail_the_action_as_authentication_invalid(
    rejected: httpx.Client, path: str, body: dict[str, Any] | None
) -> None:
    response = rejected.post(path, json=body) if body is not None else rejected.post(path)
    error = error_of(response, 403, "INTEGRATION.AUTHENTICATION_INVALID")
    assert error["title"]
    assert error["log_url"]
    assert httpx.get(error["log_url"]).status_code == 200


# -- concurrency limit -----------------------------------------------------------------------------


def test_actions_over_the_concurrency_limit_are_refused_with_429(
    clean_server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert clean_server.app is not None
    limiter = clean_server.app.state.action_limiter
    monkeypatch.setattr(limiter, "limit", 2)
    tenant = make_tenant(clean_server, latency_ms=300)
    with clean_server.client(tenant.key, tenant.integration) as api:
        wait_first_sync(api, tenant.integration)
        users = listed(api, USERS)[:5]
        revision = listed(api, COURSES)[0]["revisions"][0]

    start = threading.Barrier(len(users))
    responses: list[httpx.Response | BaseException] = [RuntimeError("not run")] * len(users)

    def fire(n: int) -> None:
        try:
            with clean_server.client(tenant.key, tenant.integration) as client:
                start.wait(timeout=10)
                responses[n] = client.post(
                    ENROL, json={"user_id": users[n]["id"], "course_revision_id": revision["id"]}
                )
        except BaseException as error:  # reported below
            responses[n] = error

    threads = [threading.Thread(target=fire, args=(n,)) for n in range(len(users))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
        assert not thread.is_alive(), "an enrol request did not finish"
    answered = [r for r in responses if isinstance(r, httpx.Response)]
    assert len(answered) == len(users), responses
    refused = [r for r in answered if r.status_code == 429]
    accepted = [r for r in answered if r.status_code == 200]
    assert len(refused) + len(accepted) == len(users), [r.text for r in answered]
    assert refused, "no request was refused over the limit"
    # A refusal means two actions held the slots, and both of them succeeded.
    assert 2 <= len(accepted) <= len(users) - 1
    for response in refused:
        error_of(response, 429, "PLATFORM.CONCURRENCY_LIMIT_EXCEEDED")
        assert response.headers["Concurrency-Limit"] == "2"
        assert response.headers["Concurrency-Remaining"] == "0"
    for response in accepted:
        # ENROLLED, or the status of the progression the Sandbox already held for that user there.
        assert ok(response)["data"]["course_revision_id"] == revision["id"]
        assert response.headers["Concurrency-Limit"] == "2"
        assert response.headers["Concurrency-Remaining"] in {"0", "1"}

    # Slots free as actions finish: the next action is accepted again.
    with clean_server.client(tenant.key, tenant.integration) as api:
        again = enrol(api, users[0]["id"], revision["id"])
        ok(again)
        assert again.headers["Concurrency-Remaining"] == "1"
    assert not limiter._in_flight


def test_a_failed_action_frees_its_slot(
    synced: httpx.Client, clean_server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert clean_server.app is not None
    monkeypatch.setattr(clean_server.app.state.action_limiter, "limit", 1)
    for _ in range(2):
        refused = enrol(synced, "remote:nope", "remote:course-1-r1")
        error_of(refused, 400, "REMOTE.INPUT_INVALID")
        error_of(synced.post(complete_path("0" * 24)), 404, "PLATFORM.INPUT_INVALID")
    accepted = enrol(synced, "remote:user-1", "remote:course-1-r1")
    ok(accepted)
    assert accepted.headers["Concurrency-Limit"] == "1"
    assert accepted.headers["Concurrency-Remaining"] == "0"


def test_the_limit_is_per_integration(clean_server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    assert clean_server.app is not None
    monkeypatch.setattr(clean_server.app.state.action_limiter, "limit", 1)
    slow = make_tenant(clean_server, latency_ms=600)
    fast = make_tenant(clean_server)
    with (
        clean_server.client(slow.key, slow.integration) as slow_api,
        clean_server.client(fast.key, fast.integration) as fast_api,
    ):
        wait_first_sync(slow_api, slow.integration)
        wait_first_sync(fast_api, fast.integration)
        holder: list[httpx.Response] = []
        thread = threading.Thread(
            target=lambda: holder.append(enrol(slow_api, "remote:user-1", "remote:course-1-r1"))
        )
        thread.start()
        time.sleep(0.2)
        other = enrol(fast_api, "remote:user-1", "remote:course-1-r1")
        thread.join(30)
        assert not thread.is_alive()
        ok(other)
        assert other.headers["Concurrency-Limit"] == "1"
        assert other.headers["Concurrency-Remaining"] == "0"
        ok(holder[0])


# -- tenant isolation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (ENROL, {"user_id": "remote:user-1", "course_revision_id": "remote:course-1-r1"}),
        (complete_path("remote:enr-user-1-course-1-r1"), {"score": 50}),
        (deactivate_path("remote:course-1"), None),
    ],
)
def test_another_environments_key_cannot_act_on_the_integration(
    synced: httpx.Client, clean_server: Server, tenant: Tenant, path: str, body: dict[str, Any] | None
) -> None:
    other = make_tenant(clean_server, environment="other")
    with clean_server.client(other.key, tenant.integration) as foreign:
        response = foreign.post(path, json=body) if body is not None else foreign.post(path)
    error_of(response, 404, "PLATFORM.INTEGRATION_NOT_FOUND")
    assert listed(synced, PROGRESSIONS, remote_ids="enr-user-1-course-1-r1") == []
    assert {r["status"] for r in listed(synced, COURSES, remote_ids="course-1")[0]["revisions"]} != {
        "INACTIVE"
    }

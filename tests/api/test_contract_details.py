"""Contract details found by fuzzing Kombo's OpenAPI document against lmsbridge: years below
1000, whole numbers written as floats, 405 with Allow and HEAD on GET routes, bodies that must be
an object or nothing, bodies of any content type read as JSON, RFC 3339 offsets normalised to UTC,
and one code and wording for what is not found."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.helpers import course, submit, wait
from tests.conftest import Server
from tests.contract import checked
from tests.syncs.helpers import synced_tenant, wait_until_idle


@pytest.fixture
def api(clean_server: Server) -> Any:
    tenant = synced_tenant(clean_server, users=5, courses=3, progressions=6)
    with clean_server.client(tenant.key, tenant.integration) as client:
        yield client
    wait_until_idle(clean_server)


def first_progression(api: httpx.Client) -> dict[str, Any]:
    results = checked(api.get("/v1/lms/course-progressions")).json()["data"]["results"]
    assert results
    first: dict[str, Any] = results[0]
    return first


def complete(api: httpx.Client, progression_id: str, body: Any = None, **kwargs: Any) -> httpx.Response:
    path = f"/v1/lms/course-progressions/{progression_id}/complete"
    return checked(api.post(path, json=body, **kwargs) if body is not None else api.post(path, **kwargs))


def test_a_year_below_1000_is_written_padded_and_reads_back(api: httpx.Client) -> None:
    progression = first_progression(api)
    done = complete(api, progression["id"], {"completed_at": "0999-12-31"})
    assert done.status_code == 200, done.text
    assert done.json()["data"]["completed_at"] == "0999-12-31T00:00:00.000Z"
    again = checked(api.get("/v1/lms/course-progressions", params={"ids": progression["id"]}))
    assert again.status_code == 200, again.text
    assert again.json()["data"]["results"][0]["completed_at"] == "0999-12-31T00:00:00.000Z"


def test_whole_numbers_written_as_floats_are_integers(api: httpx.Client) -> None:
    progression = first_progression(api)
    assert complete(api, progression["id"], {"score": 93.0}).status_code == 200
    fraction = complete(api, progression["id"], {"score": 93.5})
    assert fraction.status_code == 400
    assert "score" in fraction.json()["error"]["message"]
    task = wait(api, submit(api, [course("float-duration", duration=45.0)]))
    assert task["status"] == "COMPLETED"
    assert task["data"][0]["status"] == "SUCCEEDED"
    refused = checked(api.post("/v1/lms/courses/bulk", json={"items": [course("half", duration=45.5)]}))
    assert refused.status_code == 400


def test_a_405_names_the_allowed_methods_and_head_answers_on_get_routes(
    clean_server: Server, api: httpx.Client
) -> None:
    refused = checked(api.delete("/v1/check-api-key"))
    assert refused.status_code == 405
    assert refused.headers["allow"] == "GET, HEAD"
    integration = api.headers["X-Integration-Id"]
    several = checked(api.put(f"/v1/integrations/{integration}"))
    assert several.status_code == 405
    assert several.headers["allow"] == "DELETE, GET, HEAD, PATCH"
    head = api.head("/v1/lms/users")
    assert head.status_code == 200
    assert head.content == b""
    assert int(head.headers["content-length"]) == len(api.get("/v1/lms/users").content)
    assert api.head("/v1/check-api-key").status_code == 200


def test_bodies_that_must_be_an_object_or_nothing(api: httpx.Client) -> None:
    course_id = checked(api.get("/v1/lms/courses")).json()["data"]["results"][0]["id"]
    deactivate = f"/v1/lms/courses/{course_id}/deactivate"
    for body in (b"\x01\x02random", b"null", b"[]", b'"x"', b"{not json"):
        response = checked(api.post(deactivate, content=body))
        assert response.status_code == 400, body
        assert response.json()["error"]["code"] == "PLATFORM.INPUT_INVALID"
    for path in ("/v1/force-sync", f"/v1/lms/course-progressions/{first_progression(api)['id']}/complete"):
        response = checked(api.post(path, content=b"null"))
        assert response.status_code == 400, path
        assert "not null" in response.json()["error"]["message"]
    assert checked(api.post("/v1/force-sync")).status_code == 200
    assert checked(api.post(deactivate, json={})).status_code == 200


def test_a_bulk_body_sent_as_text_plain_is_read_as_json(api: httpx.Client) -> None:
    response = checked(
        api.post(
            "/v1/lms/courses/bulk",
            content=b'{"items": [{"origin_id": "plain", "course": {"type": "EXTERNAL", "title": "T", '
            b'"course_url": "https://x.example.com/c"}}]}',
            headers={"Content-Type": "text/plain"},
        )
    )
    assert response.status_code == 200, response.text
    assert wait(api, response.json()["data"]["task_id"])["status"] == "COMPLETED"


@pytest.mark.parametrize(
    "value",
    ["2020-01-01T01:00:00+01:00", "2020-01-01T01:00:00.5+01:00", "2020-01-01T00:00:00Z", "2020-01-01"],
)
def test_updated_after_takes_rfc_3339_offsets(api: httpx.Client, value: str) -> None:
    everything = checked(api.get("/v1/lms/users")).json()["data"]["results"]
    response = checked(api.get("/v1/lms/users", params={"updated_after": value}))
    assert response.status_code == 200, response.text
    assert len(response.json()["data"]["results"]) == len(everything)


def test_an_unencoded_plus_in_updated_after_still_reads_as_an_offset(api: httpx.Client) -> None:
    response = checked(api.get("/v1/lms/users?updated_after=2020-01-01T01:00:00+01:00"))
    assert response.status_code == 200, response.text


def test_refused_dates_get_one_message_that_names_the_accepted_forms(api: httpx.Client) -> None:
    for value in ("yesterday", "2020-01-01T01:00", "2020-13-01"):
        response = checked(api.get("/v1/lms/users", params={"updated_after": value}))
        assert response.status_code == 400
        assert response.json()["error"]["message"].startswith("updated_after: ")
    response = checked(api.get("/v1/lms/users", params={"updated_after": "soon"}))
    assert "RFC 3339" in response.json()["error"]["message"]
    progression = first_progression(api)
    response = complete(api, progression["id"], {"completed_at": "31/12/2020"})
    assert response.status_code == 400
    assert "RFC 3339" in response.json()["error"]["message"]
    shifted = complete(api, progression["id"], {"completed_at": "2021-06-01T12:00:00+02:00"})
    assert shifted.json()["data"]["completed_at"] == "2021-06-01T10:00:00.000Z"


def test_what_is_not_found_has_the_nearest_code_and_one_wording(api: httpx.Client) -> None:
    for path, what in (
        (
            "/v1/lms/courses/bulk/nosuchtask",
            "No Upsert courses task with id 'nosuchtask' in this integration.",
        ),
        (
            "/v1/hris/skills/bulk/nosuchtask",
            "No Upsert skills task with id 'nosuchtask' in this integration.",
        ),
        ("/v1/syncs/nosuchsync", "No sync with id 'nosuchsync' in this integration."),
    ):
        response = checked(api.get(path))
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "PLATFORM.INPUT_INVALID"
        assert response.json()["error"]["message"] == what
    response = complete(api, "nosuchprogression", {})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "PLATFORM.INPUT_INVALID"
    assert response.json()["error"]["message"] == (
        "No course progression with id 'nosuchprogression' in this integration."
    )

"""The 360Learning emulator speaks the vendor's protocol: the JSON token grant and its errors, the
version header, Link-header paging of bare arrays, LHS-bracket filters, bulk operations through
their statuses and results, the three-operation limit; and every answer it gives, webhooks
included, validates against 360Learning's own OpenAPI files."""

from __future__ import annotations

import time
from typing import Any

import pytest

from lmsbridge.testing.emulators.threesixtylearning.app import ROUTES
from lmsbridge.testing.emulators.threesixtylearning.spec import SpecCheck
from tests.connectors.threesixtylearning.conftest import CLIENT_ID, SPEC, Tenant

pytestmark = pytest.mark.skipif(SPEC is None, reason="360Learning's OpenAPI files are not at hand")


def pages(tenant: Tenant, token: str, path: str, **params: Any) -> list[list[dict[str, Any]]]:
    found = []
    response = tenant.call("GET", path, token, params=params)
    while True:
        assert response.status_code == 200, response.text
        found.append(response.json())
        following = response.links.get("next", {}).get("url")
        if following is None:
            return found
        response = tenant.call("GET", following.removeprefix(tenant.url), token)


def settle(tenant: Tenant, token: str, location: str) -> dict[str, Any]:
    seen = []
    while True:
        body = tenant.call("GET", location, token).json()
        seen.append(body["status"])
        if body["status"] in ("completed", "error"):
            body["seen"] = seen
            return body
        time.sleep(0.01)


def test_token_grant_and_its_errors(tenant: Tenant) -> None:
    token_path = "/api/v2/oauth2/token"
    good = {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": "test-secret-5a6978"}
    answer = tenant.call("POST", token_path, json=good)
    assert answer.status_code == 200 and answer.json()["expires_in"] == 3600
    assert tenant.call("POST", token_path, json={**good, "client_secret": "no"}).json() == {
        "error": "invalid_client"
    }
    unsupported = tenant.call("POST", token_path, json={**good, "grant_type": "password"})
    assert unsupported.status_code == 400 and unsupported.json() == {"error": "unsupported_grant_type"}
    assert tenant.call("POST", token_path, json={"grant_type": "client_credentials"}).status_code == 400
    assert tenant.call("GET", "/api/v2/users", "not-a-token").json() == {"error": "invalid_token"}


def test_paging_by_link_header_and_filters(tenant: Tenant) -> None:
    token = tenant.token()
    tenant.company.page_sizes["users"] = 5
    users = pages(tenant, token, "/api/v2/users")
    assert [len(p) for p in users][:-1] == [5] * (len(users) - 1) and len(users) > 1
    assert len({u["_id"] for p in users for u in p}) == len(tenant.company.users)
    deleted = [u for p in users for u in p if u["status"] == "deleted"]
    assert deleted and all(u["deletedAt"] for u in deleted)
    # A filter travels in the next link as it was given.
    invited = pages(tenant, token, "/api/v2/users", **{"status[eq]": "active"})
    assert all(u["status"] == "active" for p in invited for u in p)
    later = pages(tenant, token, "/api/v2/courses", **{"modifiedAt[gte]": "2999-01-01T00:00:00.000Z"})
    assert later == [[]]
    some = tenant.company.attempts[0]
    mine = pages(
        tenant,
        token,
        "/api/v2/courses/stats",
        **{"courseId[eq]": some["courseId"], "userId[eq]": some["userId"]},
    )
    assert {a["_id"] for p in mine for a in p} >= {some["_id"]}


def test_the_version_header_is_required(tenant: Tenant) -> None:
    answer = tenant.call("GET", "/api/v2/users", tenant.token(), headers={"360-api-version": "v1"})
    assert answer.status_code == 400


def test_a_bulk_operation_runs_through_its_statuses_and_the_limit_is_three(tenant: Tenant) -> None:
    token = tenant.token()
    integration = tenant.company.integrations[0]["_id"]
    path = f"/api/v2/bulk/integrations/{integration}/courses"
    course = {
        "externalId": "x-1",
        "name": "X",
        "launchUrl": "https://x.example/1",
        "defaultLang": "en",
        "sources": [{"name": "X"}],
        "subjects": [],
    }
    locations = []
    for _ in range(3):
        answer = tenant.call("PUT", path, token, json={"input": [course]})
        assert answer.status_code == 202 and answer.content == b""
        locations.append(answer.headers["Location"])
    early = tenant.call("GET", locations[0] + "/results", token)
    assert early.status_code in (200, 400)
    fourth = tenant.call("PUT", path, token, json={"input": [course]})
    assert fourth.status_code in (202, 429)
    if fourth.status_code == 429:
        assert fourth.json()["error"]["code"] == "bulkOperationsConcurrencyLimitReached"
    ended = settle(tenant, token, locations[0])
    assert ended["status"] == "completed" and ended["endedAt"]
    results = tenant.call("GET", locations[0] + "/results", token).json()
    assert results[0]["status"] == "success" and results[0]["input"]["externalId"] == "x-1"
    missing = tenant.call(
        "PUT", "/api/v2/bulk/integrations/ffffffffffffffffffffffff/courses", token, json={"input": []}
    )
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "integrationNotFound"
    too_long = tenant.call("DELETE", path, token, json={"input": [{"externalId": "x"}] * 1001})
    assert too_long.status_code == 400 and too_long.json()["error"]["code"] == "inputTooLong"


def test_bulk_operations_pending_then_completed_seen_by_polls(tenant: Tenant) -> None:
    token = tenant.token()
    answer = tenant.call(
        "PUT",
        "/api/v2/bulk/skills",
        token,
        json={"input": [{"externalId": "s1", "name": "S", "parentExternalIds": []}]},
    )
    ended = settle(tenant, token, answer.headers["Location"])
    assert ended["status"] == "completed" and ended["seen"][-1] == "completed"
    assert any(s.get("externalId") == "s1" for s in tenant.company.skills)


def test_every_answer_and_webhook_validates_against_the_vendor_files(tenant: Tenant) -> None:
    """Drives every route the emulator serves (and some of its errors); each answer went through
    the spec check, which turns an off-spec answer into a 500: none happened."""
    assert SPEC is not None
    SPEC.checked.clear()
    company, token = tenant.company, tenant.token()
    user, course, integration = (
        company.users[0]["_id"],
        company.courses[0]["_id"],
        company.integrations[0]["_id"],
    )
    tenant.call(
        "POST",
        "/api/v2/oauth2/token",
        json={"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"},
    )
    for path in (
        "/api/v2/users",
        f"/api/v2/users/{user}",
        "/api/v2/courses",
        f"/api/v2/courses/{course}",
        "/api/v2/courses/stats",
        "/api/v2/skills",
        "/api/v2/integrations",
        "/api/v2/users/ffffffffffffffffffffffff",
    ):
        assert tenant.call("GET", path, token).status_code != 500
    assert tenant.call("GET", "/api/v2/users", "expired").status_code == 401
    assert (
        tenant.call("PUT", f"/api/v2/courses/{course}/archive", token, json={"archived": True}).status_code
        == 200
    )
    made = tenant.call(
        "POST",
        "/api/v2/integrations",
        token,
        json={"externalPlatform": "Z", "authorId": company.admin_id, "groupId": company.group_id},
    )
    assert made.status_code == 201
    assert (
        tenant.call(
            "POST",
            "/api/v2/integrations",
            token,
            json={"externalPlatform": "Z", "authorId": company.admin_id, "groupId": company.group_id},
        ).status_code
        == 400
    )
    ext = {
        "externalId": "v-1",
        "name": "V",
        "launchUrl": "https://v.example",
        "defaultLang": "en",
        "sources": [{"name": "V"}],
        "subjects": [],
    }
    stat = {
        "courseIdentifier": {"type": "externalId", "value": "v-1"},
        "userIdentifier": {"type": "internalId", "value": user},
        "progress": 100,
        "timeSpent": 1000,
        "firstActivityAt": "2026-01-01T00:00:00.000Z",
        "lastActivityAt": "2026-01-01T01:00:00.000Z",
    }
    for method, path, inputs in (
        ("PUT", f"/api/v2/bulk/integrations/{integration}/courses", [ext]),
        ("POST", f"/api/v2/bulk/integrations/{integration}/stats", [stat]),
        ("DELETE", f"/api/v2/bulk/integrations/{integration}/courses", [{"externalId": "v-1"}]),
        ("PUT", "/api/v2/bulk/skills", [{"externalId": "v-s", "name": "V", "parentExternalIds": []}]),
    ):
        answer = tenant.call(method, path, token, json={"input": inputs})
        assert answer.status_code == 202, answer.text
        assert settle(tenant, token, answer.headers["Location"])["status"] == "completed"
        assert tenant.call("GET", answer.headers["Location"] + "/results", token).status_code == 200
    assert tenant.call("GET", "/api/v2/bulk/operations/ffffffffffffffffffffffff", token).status_code == 404
    for event, payload in company.webhooks:
        SPEC.check_webhook(event, payload)
    served = {(method, template) for method, template, _ in ROUTES} | {("POST", "/api/v2/oauth2/token")}
    validated = {(method, path) for method, path, _ in SPEC.checked if method != "WEBHOOK"}
    assert validated == served, served - validated
    print(
        f"\n360Learning emulator: {len(served)} operations served, {len(validated)} validated "
        f"({len(SPEC.checked)} (operation, status) answers, webhooks included)"
    )


def test_an_off_spec_answer_is_a_loud_500(tenant: Tenant) -> None:
    tenant.company.users[0]["status"] = "frozen"  # not in the vendor's enum
    answer = tenant.call("GET", "/api/v2/users", tenant.token())
    assert answer.status_code == 500 and "emulatorOffSpec" in answer.text


def test_spec_check_is_loadable() -> None:
    assert isinstance(SPEC, SpecCheck)

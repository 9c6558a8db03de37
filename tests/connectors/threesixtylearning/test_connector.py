"""The 360Learning connector against its emulator over real HTTP: reads and their delta filters,
the token cached and renewed once on a 401, bulk writes paced on the three-operation limit,
every documented vendor failure to its contract code, preflight and passthrough."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from lmsbridge.connectors.base import CourseUpsert, SkillUpsert
from lmsbridge.connectors.errors import ConnectorError
from lmsbridge.errors import ErrorCode
from lmsbridge.testing.emulators.kit import Fault
from tests.connectors.sessions import check_client_credentials_session
from tests.connectors.threesixtylearning.conftest import Tenant, read_all


def vendor_fault(target: str | None, status: int, body: object, times: int | None = 1) -> Fault:
    return Fault("status", target, times, status, body=json.dumps(body), content_type="application/json")


def test_reads_every_model_and_the_vendor_oddities(tenant: Tenant) -> None:
    c = tenant.connector()
    users = read_all(c, "lms_users")
    assert len(users) == len(tenant.company.users)
    by_status = {u.remote_data["status"]: u.status for u in users}
    assert by_status["deleted"] == "INACTIVE" and by_status["active"] == "ACTIVE"
    providers = read_all(c, "lms_course_providers")
    assert [p.name for p in providers] == ["Acme Academy"]
    courses = read_all(c, "lms_courses")
    assert len(courses) == len(tenant.company.courses)
    external = [x for x in courses if x.remote_data["type"] == "external"]
    assert external and all(x.provider_remote_id == providers[0].remote_id for x in external)
    assert {x.revisions[0].remote_data["currentVersionNumber"] for x in courses} >= {1, 3}
    progressions = read_all(c, "lms_course_progressions")
    assert len(progressions) == len(tenant.company.attempts)
    assert {p.status for p in progressions} >= {"COMPLETED", "IN_PROGRESS"}
    assert len(read_all(c, "lms_skills")) == len(read_all(c, "hris_skills")) == len(tenant.company.skills)


def test_delta_reads_send_the_vendor_filters(tenant: Tenant) -> None:
    c = tenant.connector()
    later = datetime.now(UTC) + timedelta(hours=1)
    for model in ("lms_courses", "lms_course_progressions", "lms_skills"):
        assert read_all(c, model, later) == []
    assert len(read_all(c, "lms_users", later)) == len(tenant.company.users)  # no filter: read whole


def test_the_token_is_fetched_once_and_renewed_once_on_401(tenant: Tenant) -> None:
    c = tenant.connector()
    with c.session(None) as api:
        api.all("/api/v2/users")
        api.all("/api/v2/courses")
        assert api.auth.fetched == 1
        tenant.company.issuer.revoke_all()
        api.all("/api/v2/users")
        assert api.auth.fetched == 2


def test_wrong_credentials_end_in_authentication_invalid(tenant: Tenant) -> None:
    with pytest.raises(ConnectorError) as caught:
        read_all(tenant.connector(secret="wrong"), "lms_users")
    assert caught.value.code == ErrorCode.INTEGRATION_AUTHENTICATION_INVALID
    with pytest.raises(ConnectorError) as missing:
        read_all(tenant.connector(secret=None), "lms_users")
    assert missing.value.code == ErrorCode.INTEGRATION_AUTHENTICATION_INVALID


def test_a_missing_scope_ends_in_permission_missing(tenant: Tenant) -> None:
    body = {"error": {"code": "invalid_scope", "message": "Missing scope users:read"}}
    tenant.company.faults.add(vendor_fault("GET /api/v2/users", 403, body))
    with pytest.raises(ConnectorError) as caught:
        read_all(tenant.connector(), "lms_users")
    assert caught.value.code == ErrorCode.INTEGRATION_PERMISSION_MISSING
    assert "users:read" in caught.value.message


def test_skills_off_ends_in_permission_missing(tenant: Tenant) -> None:
    body = {"error": {"code": "skillSolutionNotEnabled", "message": "Skills are not enabled."}}
    tenant.company.faults.add(vendor_fault("GET /api/v2/skills", 400, body))
    with pytest.raises(ConnectorError) as caught:
        read_all(tenant.connector(), "lms_skills")
    assert caught.value.code == ErrorCode.INTEGRATION_PERMISSION_MISSING


def test_lasting_throttle_ends_in_rate_limit_exceeded(tenant: Tenant) -> None:
    tenant.company.faults.add(vendor_fault("GET /api/v2/courses", 429, {"error": "tooManyRequests"}, None))
    with pytest.raises(ConnectorError) as caught:
        read_all(tenant.connector(), "lms_courses")
    assert caught.value.code == ErrorCode.REMOTE_RATE_LIMIT_EXCEEDED


def test_bulk_api_disabled_ends_in_service_unavailable(tenant: Tenant) -> None:
    body = {"error": {"code": "bulkAPIDisabled", "message": "The bulk API is disabled."}}
    tenant.company.faults.add(vendor_fault("PUT /api/v2/bulk/skills", 503, body, None))
    outcomes = list(tenant.connector().upsert_skills([SkillUpsert("s-1", "S")]))
    assert outcomes[0].error is not None and outcomes[0].error.code == ErrorCode.REMOTE_SERVICE_UNAVAILABLE


def test_the_three_operation_limit_is_waited_out_not_failed(tenant: Tenant) -> None:
    body = {"error": {"code": "bulkOperationsConcurrencyLimitReached", "message": "3 running."}}
    tenant.company.faults.add(vendor_fault("PUT /api/v2/bulk/skills", 429, body, 5))
    outcomes = list(tenant.connector().upsert_skills([SkillUpsert("s-1", "Negotiation")]))
    assert outcomes[0].error is None and outcomes[0].remote_id
    refused = [call for call in tenant.company.calls.of("PUT /api/v2/bulk/skills") if call.status == 429]
    assert len(refused) == 5


def test_course_upserts_create_the_integration_then_match_on_external_id(tenant: Tenant) -> None:
    c = tenant.connector()
    items = [CourseUpsert(f"o-{i}", f"Course {i}", f"https://x.example/{i}", duration=20) for i in range(3)]
    first = list(c.upsert_courses(items))
    assert all(o.error is None for o in first)
    assert [i["externalPlatform"] for i in tenant.company.integrations] == ["Acme Academy", "lmsbridge"]
    again = list(tenant.connector().upsert_courses([CourseUpsert("o-0", "Renamed", "https://x.example/0")]))
    assert again[0].remote_id == first[0].remote_id
    course = tenant.company.course(str(first[0].remote_id))
    assert course is not None and course["name"] == "Renamed"
    invalid = list(c.upsert_courses([CourseUpsert("bad", " ", "https://x.example")]))
    assert invalid[0].error is not None and invalid[0].error.code == ErrorCode.REMOTE_INPUT_INVALID


def test_no_integration_and_no_way_to_create_one_is_a_configuration_error(tenant: Tenant) -> None:
    c = tenant.connector(author_id=None, group_id=None)
    with pytest.raises(ConnectorError) as caught:
        list(c.upsert_courses([CourseUpsert("o", "C", "https://x.example")]))
    assert caught.value.code == ErrorCode.INTEGRATION_PERMISSION_MISSING


def test_a_bulk_operation_ending_in_error_fails_its_items(tenant: Tenant) -> None:
    tenant.company.fail_next_operation = "Internal error while importing."
    outcomes = list(tenant.connector().upsert_skills([SkillUpsert("a", "A"), SkillUpsert("b", "B")]))
    assert [o.error.code if o.error else None for o in outcomes] == [ErrorCode.REMOTE_UNKNOWN_HTTP_ERROR] * 2
    assert outcomes[0].error is not None and "Internal error" in outcomes[0].error.message


def test_an_unknown_integration_is_refused_per_item(tenant: Tenant) -> None:
    c = tenant.connector(integration_id="ffffffffffffffffffffffff")
    outcomes = list(c.upsert_courses([CourseUpsert("o", "C", "https://x.example")]))
    assert outcomes[0].error is not None and outcomes[0].error.code == ErrorCode.REMOTE_INPUT_INVALID
    assert "integrationNotFound" in outcomes[0].error.message


def test_deactivate_archives_and_a_missing_course_is_input_invalid(tenant: Tenant) -> None:
    c = tenant.connector()
    course_id = tenant.company.courses[0]["_id"]
    record = c.deactivate_course(course_id)
    assert record.revisions[0].status == "INACTIVE" and tenant.company.courses[0]["status"] == "archived"
    with pytest.raises(ConnectorError) as caught:
        c.deactivate_course("ffffffffffffffffffffffff")
    assert caught.value.code == ErrorCode.REMOTE_INPUT_INVALID and "courseNotFound" in caught.value.message


def test_enrol_is_refused_before_any_call(tenant: Tenant) -> None:
    with pytest.raises(ConnectorError) as caught:
        tenant.connector().enrol("a" * 24, "b" * 24)
    assert caught.value.code == ErrorCode.INTEGRATION_ACTION_NOT_AVAILABLE
    assert tenant.company.calls.all() == []


def test_preflight_and_passthrough(tenant: Tenant) -> None:
    c = tenant.connector(author_id=None, group_id=None)
    warnings = c.preflight()
    assert any("lmsbridge" in w for w in warnings)
    answer = c.passthrough("v2", SimpleNamespace(method="GET", path="users", params={}, data=None))
    assert answer.status == 200 and len(answer.data) == len(tenant.company.users)
    with pytest.raises(ConnectorError):
        c.passthrough(
            "v2",
            SimpleNamespace(method="GET", path="https://evil.example/x", params={}, data=None),
        )
    with pytest.raises(ConnectorError) as bad:
        tenant.connector(secret="wrong").preflight()
    assert bad.value.code == ErrorCode.INTEGRATION_AUTHENTICATION_INVALID


def test_a_session_needs_both_credentials_and_shares_one_client_until_it_ends(tenant: Tenant) -> None:
    check_client_credentials_session(
        refused=[tenant.connector(None), tenant.connector(" ")],
        connector=tenant.connector(),
        calls=lambda: len(tenant.company.calls.all()),
        asks_for="360Learning API key",
        label="360Learning",
    )

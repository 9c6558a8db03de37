"""The SuccessFactors connector against its emulator over real HTTP: the mapping of each model,
the customer-configured completion statuses, both token flows, token expiry, OCN's staging, and
every documented failure ending in the right contract code."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lmsbridge.connectors.base import CourseUpsert, WriteAction
from lmsbridge.connectors.errors import ConnectorError
from lmsbridge.connectors.successfactors.streams import HISTORY, TODO
from lmsbridge.errors import ErrorCode
from lmsbridge.testing.emulators.kit import Fault
from lmsbridge.testing.emulators.successfactors.site import FAILED_STATUS
from tests.connectors.successfactors.conftest import CLIENT, Tenant, read_all


def test_every_model_maps(tenant: Tenant) -> None:
    c = tenant.connector()
    with c.session(None):
        users = read_all(c, "lms_users")
        courses = read_all(c, "lms_courses")
        providers = read_all(c, "lms_course_providers")
        progressions = read_all(c, "lms_course_progressions")
    assert {u.remote_id for u in users} == {s["studentID"] for s in tenant.site.students}
    assert any(u.status == "INACTIVE" for u in users)
    assert {c_.remote_id for c_ in courses} == {f"COURSE:{i['itemID']}" for i in tenant.site.items}
    revision = courses[0].revisions[0]
    assert revision.remote_id.startswith(courses[0].remote_id + ":") and "deeplink_redirect.jsp" in (
        revision.remote_url or ""
    )
    assert {p.remote_id for p in providers} == {i["Provider"] for i in tenant.site.items}
    by_status = {p.status for p in progressions}
    assert {"ENROLLED", "COMPLETED"} <= by_status
    failed = [p for p in progressions if (p.remote_data or {}).get("completionStatusID") == FAILED_STATUS]
    assert failed and all(p.status == "IN_PROGRESS" and p.warnings and p.completed_at is None for p in failed)


def test_a_customer_status_named_as_passed_is_completed(tenant: Tenant) -> None:
    c = tenant.connector(completed_status_ids=["COMPLETE", FAILED_STATUS])
    with c.session(None):
        progressions = read_all(c, "lms_course_progressions")
    assert all(
        p.status == "COMPLETED" for p in progressions if (p.remote_data or {}).get("completionStatusID")
    )


def test_an_expired_token_is_renewed(tenant: Tenant) -> None:
    c = tenant.connector()
    with c.session(None):
        read_all(c, "lms_users")
        tenant.site.issuer.revoke_all()
        assert read_all(c, "lms_users")
    assert tenant.site.issuer.issued == 2


def test_the_saml_bearer_flow(tenant: Tenant) -> None:
    creds = {"client_id": CLIENT[0], "saml_assertion": tenant.site.saml_assertion}
    c = tenant.connector(creds, token_flow="saml_bearer")
    assert c.preflight() == []
    assert tenant.site.platform_issuer.issued == 1 and tenant.site.issuer.issued == 0
    with pytest.raises(ConnectorError) as refused:
        tenant.connector({**creds, "saml_assertion": "x"}, token_flow="saml_bearer").preflight()
    assert refused.value.code == ErrorCode.INTEGRATION_AUTHENTICATION_INVALID


def test_preflight_warns_of_the_deprecated_token_server(tenant: Tenant) -> None:
    assert "deprecated" in tenant.connector().preflight()[0]


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, ErrorCode.REMOTE_INPUT_INVALID),
        (403, ErrorCode.INTEGRATION_PERMISSION_MISSING),
        (404, ErrorCode.REMOTE_INPUT_INVALID),
        (429, ErrorCode.REMOTE_RATE_LIMIT_EXCEEDED),
        (503, ErrorCode.REMOTE_SERVICE_UNAVAILABLE),
    ],
)
def test_odata_errors_end_in_contract_codes(tenant: Tenant, status: int, code: ErrorCode) -> None:
    tenant.site.faults.add(Fault("error_body", "GET Students", None, status, body="Refused by the test"))
    c = tenant.connector()
    with pytest.raises(ConnectorError) as raised, c.session(None):
        read_all(c, "lms_users")
    assert raised.value.code == code


def test_wrong_secret_ends_in_authentication_invalid(tenant: Tenant) -> None:
    with pytest.raises(ConnectorError) as raised:
        tenant.connector({"client_id": CLIENT[0], "client_secret": "wrong"}).preflight()
    assert raised.value.code == ErrorCode.INTEGRATION_AUTHENTICATION_INVALID


def test_an_ocn_course_not_yet_imported_is_reported_under_its_future_id(tenant: Tenant) -> None:
    tenant.site.import_on_post = False
    c = tenant.connector()
    item = CourseUpsert(origin_id="ext-1", title="External", course_url="https://c.example.com/1")
    (outcome,) = list(c.write(WriteAction.UPSERT_COURSES, [item]))
    assert outcome.error is None and outcome.remote_id == "OCN:ext-1"
    assert "ext-1" in tenant.site.ocn_courses and tenant.site.item("OCN", "ext-1") is None
    tenant.site.run_ocn_import()
    assert tenant.site.item("OCN", "ext-1") is not None


def test_complete_posts_an_ocn_learning_event(tenant: Tenant) -> None:
    c = tenant.connector()
    user_id = next(u for u, rows in tenant.site.todos.items() if rows)
    row = tenant.site.todos[user_id][0]
    remote_id = f"{user_id}|{row['componentTypeID']}:{row['componentID']}|{row['revisionDate']}"
    done = c.complete(remote_id, datetime(2026, 5, 1, tzinfo=UTC), 90)
    assert done.status == "COMPLETED" and done.completed_at == datetime(2026, 5, 1, tzinfo=UTC)
    event = tenant.site.learning_events[-1]
    assert event["userID"] == user_id and event["courseCompleted"] is True and event["grade"] == "90"


def test_passthrough_reaches_odata_v4_with_the_token(tenant: Tenant) -> None:
    from types import SimpleNamespace

    from lmsbridge.connectors.passthrough import PassthroughRefusedError as PassthroughRefused

    c = tenant.connector()
    request = SimpleNamespace(
        method="GET", path="searchStudent/v1/Students", params={"$top": "2"}, headers={}
    )
    answer = c.passthrough("lms-odata-v4", request)
    assert answer.status == 200 and len(answer.data["value"]) == 2
    assert CLIENT[1] not in answer.url
    for path in ("https://elsewhere.example.com/x", "../oauth-api/rest/v1/token"):
        with pytest.raises(PassthroughRefused):
            c.passthrough("lms-odata-v4", SimpleNamespace(method="GET", path=path, params={}, headers={}))


def test_no_search_results_is_an_empty_page_and_no_other_404_is(tenant: Tenant) -> None:
    """Learning answers an empty per-learner search with an error saying "No search results"
    (reference 1.3): the connector reads it as a page with no rows; a 404 saying anything else
    stays an error."""
    c = tenant.connector()
    nobody = {"$filter": "criteria/targetUserID eq 'NOBODY'"}
    with c.session(None) as api:
        assert list(api.pages(HISTORY, nobody)) == []
        assert list(api.pages(TODO, nobody)) == []
        with pytest.raises(ConnectorError) as raised:
            list(api.pages("public/user/userlearning-service/v1/NoSuchSet", nobody))
    assert raised.value.code == ErrorCode.REMOTE_INPUT_INVALID
    answered = [call.status for call in tenant.site.calls.of("GET learninghistorys")]
    assert answered == [404]  # the emulator did answer with the error, as SAP does

"""Moodle's failure modes and what each becomes: Moodle answers errors with HTTP 200 and an
exception body; proxies in front of it answer 429 and 5xx, or nothing at all."""

from __future__ import annotations

import time

import pytest

from lmsbridge.connectors.base import CourseUpsert
from lmsbridge.connectors.errors import (
    AuthenticationInvalidError,
    ConnectorError,
    IntegrationError,
    ItemError,
    PermissionMissingError,
)
from lmsbridge.connectors.moodle import functions as fn
from lmsbridge.errors import ErrorCode
from lmsbridge.testing.emulators.moodle import Fault
from tests.connectors.moodle.conftest import TOKEN, Moodle, read_all


def items(n: int) -> list[CourseUpsert]:
    return [CourseUpsert(f"c-{i}", f"Course {i}", f"https://content.example.com/{i}") for i in range(n)]


def test_an_unknown_token_is_authentication_invalid_and_nothing_runs(moodle: Moodle) -> None:
    connector = moodle.connector(token="0" * 32)
    with pytest.raises(AuthenticationInvalidError) as raised:
        read_all(connector, "lms_users")
    assert raised.value.code == ErrorCode.INTEGRATION_AUTHENTICATION_INVALID
    assert "invalidtoken" in raised.value.message
    with pytest.raises(AuthenticationInvalidError):
        list(moodle.connector(token="0" * 32).upsert_courses(items(2)))
    assert {c.function for c in moodle.site.calls} == {fn.GET_SITE_INFO}


def test_missing_credentials_are_authentication_invalid_without_a_call(moodle: Moodle) -> None:
    with pytest.raises(AuthenticationInvalidError) as raised:
        moodle.connector(token=None).enrol("9", "2")
    assert "token" in raised.value.message
    assert moodle.site.calls == []


def test_an_expired_token_or_a_suspended_token_user_is_authentication_invalid(moodle: Moodle) -> None:
    moodle.site.add_token("e" * 32, validuntil=1)
    with pytest.raises(AuthenticationInvalidError) as expired:
        read_all(moodle.connector(token="e" * 32), "lms_users")
    assert "token expired" in expired.value.message
    moodle.site.users[2].suspended = True
    with pytest.raises(AuthenticationInvalidError) as suspended:
        read_all(moodle.connector(), "lms_users")
    assert "suspended" in suspended.value.message


def test_a_function_missing_from_the_service_is_permission_missing_naming_it(moodle: Moodle) -> None:
    moodle.site.disable_function(fn.GET_ENROLLED_USERS)
    with pytest.raises(PermissionMissingError) as raised:
        read_all(moodle.connector(), "lms_course_progressions")
    assert raised.value.code == ErrorCode.INTEGRATION_PERMISSION_MISSING
    assert fn.GET_ENROLLED_USERS in raised.value.message
    assert "External services" in raised.value.message
    moodle.site.enable_function(fn.GET_ENROLLED_USERS)
    moodle.site.disable_function(fn.ENROL_USERS)
    moodle.site.disable_function(fn.LIST_FRAMEWORKS)
    with pytest.raises(PermissionMissingError) as enrol:
        moodle.connector().enrol("9", "2")
    assert fn.ENROL_USERS in enrol.value.message and fn.LIST_FRAMEWORKS not in enrol.value.message


def test_a_function_removed_while_a_connector_works_is_permission_missing_naming_it(moodle: Moodle) -> None:
    connector = moodle.connector()
    read_all(connector, "lms_users")  # the service was checked, with every function in it
    moodle.site.disable_function(fn.GET_USERS)
    with pytest.raises(PermissionMissingError) as raised:
        read_all(connector, "lms_users")
    assert f"Add the function {fn.GET_USERS}" in raised.value.message


def test_site_info_missing_from_the_service_is_permission_missing_naming_it(moodle: Moodle) -> None:
    moodle.site.disable_function(fn.GET_SITE_INFO)
    with pytest.raises(PermissionMissingError) as raised:
        moodle.connector().deactivate_course("2")
    assert fn.GET_SITE_INFO in raised.value.message


def test_a_capability_the_token_user_lacks_is_permission_missing(moodle: Moodle) -> None:
    moodle.site.tokens[TOKEN].missing_capabilities.add("moodle/course:create")
    with pytest.raises(PermissionMissingError) as raised:
        list(moodle.connector().upsert_courses(items(1)))
    assert "moodle/course:create" in raised.value.message


def test_web_services_switched_off_answer_403_and_that_is_permission_missing(moodle: Moodle) -> None:
    moodle.site.rest_enabled = False
    with pytest.raises(PermissionMissingError) as raised:
        read_all(moodle.connector(), "lms_users")
    assert "HTTP 403" in raised.value.message and "REST" in raised.value.message


def test_a_site_url_that_is_not_moodle_fails_the_integration(moodle: Moodle) -> None:
    with pytest.raises(IntegrationError) as raised:
        read_all(moodle.connector(site_url=f"{moodle.url}/elsewhere"), "lms_users")
    assert "HTTP 404" in raised.value.message and "site_url" in raised.value.message


def test_5xx_answers_are_retried_and_the_call_succeeds(moodle: Moodle) -> None:
    moodle.site.add_fault(Fault("http_status", function=fn.GET_USERS, status=503, times=2))
    assert len(read_all(moodle.connector(), "lms_users")) == 9
    assert moodle.site.faults == []


def test_a_429_with_retry_after_is_waited_for_then_retried(moodle: Moodle) -> None:
    moodle.site.add_fault(Fault("http_status", function=fn.GET_USERS, status=429, retry_after="1"))
    started = time.monotonic()
    assert len(read_all(moodle.connector(), "lms_users")) == 9
    assert time.monotonic() - started >= 1.0


def test_5xx_that_persist_end_in_service_unavailable(moodle: Moodle) -> None:
    moodle.site.add_fault(Fault("http_status", function=fn.GET_USERS, status=502, times=None))
    with pytest.raises(ConnectorError) as raised:
        read_all(moodle.connector(), "lms_users")
    assert not isinstance(
        raised.value, IntegrationError
    )  # a sync marks the model failed, and deletes nothing
    assert raised.value.code == ErrorCode.REMOTE_SERVICE_UNAVAILABLE
    assert "HTTP 502 after 3 attempts" in raised.value.message


def test_timeouts_are_retried_then_end_in_service_unavailable_in_bounded_time(moodle: Moodle) -> None:
    moodle.site.add_fault(Fault("timeout", function=fn.GET_USERS, seconds=1.0, times=None))
    started = time.monotonic()
    with pytest.raises(ConnectorError) as raised:
        read_all(moodle.connector(timeout_seconds=0.2), "lms_users")
    assert raised.value.code == ErrorCode.REMOTE_SERVICE_UNAVAILABLE
    assert "did not answer in time after 3 attempts" in raised.value.message
    assert time.monotonic() - started < 5


def test_an_unreachable_moodle_fails_a_bulk_task_as_a_whole(moodle: Moodle) -> None:
    moodle.site.add_fault(Fault("http_status", status=503, times=None))
    with pytest.raises(IntegrationError) as raised:
        list(moodle.connector().upsert_courses(items(3)))
    assert raised.value.code == ErrorCode.REMOTE_SERVICE_UNAVAILABLE


def test_moodle_failing_mid_task_fails_those_items_and_does_not_try_the_rest(moodle: Moodle) -> None:
    moodle.site.add_fault(Fault("http_status", function=fn.CREATE_COURSES, status=500, times=None))
    outcomes = list(moodle.connector(write_batch_size=2).upsert_courses(items(5)))
    assert [o.origin_id for o in outcomes] == [f"c-{i}" for i in range(5)]
    assert all(o.error is not None and o.error.code == ErrorCode.REMOTE_SERVICE_UNAVAILABLE for o in outcomes)
    assert "Not attempted" in (outcomes[4].error.message if outcomes[4].error else "")
    # Only the first chunk reached Moodle: 3 attempts of one create call.
    assert moodle.site.faults[0].times is None


def test_a_moodle_error_body_on_one_action_is_an_input_error(moodle: Moodle) -> None:
    moodle.site.add_fault(
        Fault(
            "moodle_error", function=fn.ENROL_USERS, exception="moodle_exception", errorcode="wscannotenrol"
        )
    )
    with pytest.raises(ItemError) as raised:
        moodle.connector().enrol("9", "2")
    assert raised.value.code == ErrorCode.REMOTE_INPUT_INVALID and "wscannotenrol" in raised.value.message


def test_a_database_failure_inside_moodle_is_service_unavailable_for_the_item(moodle: Moodle) -> None:
    moodle.site.add_fault(
        Fault(
            "moodle_error",
            function=fn.UPDATE_COURSES,
            exception="dml_write_exception",
            errorcode="dmlwriteexception",
        )
    )
    with pytest.raises(ItemError) as raised:
        moodle.connector().deactivate_course("2")
    assert raised.value.code == ErrorCode.REMOTE_SERVICE_UNAVAILABLE


def test_the_token_never_travels_in_a_url_nor_appears_in_an_error(moodle: Moodle) -> None:
    moodle.site.add_fault(Fault("http_status", function=fn.GET_USERS, status=503, times=None))
    with pytest.raises(ConnectorError) as raised:
        read_all(moodle.connector(), "lms_users")
    assert TOKEN not in str(raised.value)
    assert moodle.site.calls and not any(c.token_in_query for c in moodle.site.calls)
    assert all("wstoken" not in c.params for c in moodle.site.calls)

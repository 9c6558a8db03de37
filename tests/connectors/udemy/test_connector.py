"""The Udemy connector against its emulator over real HTTP: every model, the status inference,
the report-based delta, every documented failure to its contract code, preflight, passthrough,
and the refusal of every write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from lmsbridge.connectors.base import WriteAction
from lmsbridge.connectors.errors import ConnectorError
from lmsbridge.connectors.udemy.connector import UdemyConnector
from lmsbridge.errors import ErrorCode
from lmsbridge.testing.emulators.kit import Fault
from tests.connectors.sessions import check_client_credentials_session
from tests.connectors.udemy.conftest import Org, read_all


def test_users_come_from_the_activity_report_without_status_or_creation(org: Org) -> None:
    users = read_all(org.connector(page_size=5), "lms_users")
    people = [le for le in org.site.learners if le.email]
    assert sorted(u.remote_id for u in users) == sorted(le.email.lower() for le in people)
    assert all(u.remote_created_at is None for u in users)
    deactivated = {le.email.lower() for le in people if le.deactivated}
    assert {u.remote_id for u in users if u.status == "INACTIVE"} == deactivated
    assert not any(u.first_name == "Anonymized User" for u in users)


def test_courses_have_one_revision_with_their_category_skills(org: Org) -> None:
    courses = read_all(org.connector(), "lms_courses")
    listed = org.site.listed_courses()
    assert sorted(c.remote_id for c in courses) == sorted(str(c.id) for c in listed)
    assert len(listed) < len(org.site.courses) or all(not c.retired for c in org.site.courses)
    for course in courses:
        (revision,) = course.revisions
        assert revision.status == "ACTIVE" and revision.remote_url.endswith("/")
        assert revision.skill_remote_ids
    skills = read_all(org.connector(), "lms_skills")
    assert {s.remote_id for s in skills} == {i for c in courses for i in c.revisions[0].skill_remote_ids}


def test_progression_statuses_follow_the_report(org: Org) -> None:
    records = {p.remote_id: p for p in read_all(org.connector(), "lms_course_progressions")}
    rows = [a for a in org.site.activities if a.email]
    assert len(records) == len(rows)
    for row in rows:
        record = records[f"{row.email.lower()}:{row.course_id}"]
        expected = "COMPLETED" if row.completed else "IN_PROGRESS" if row.started or row.ratio else "ENROLLED"
        assert record.status == expected
        assert record.enrolled_at is not None
        assert (record.completed_at is not None) == (row.completed is not None)


def test_a_delta_reads_the_report_from_its_date_and_narrows_to_the_moment(org: Org) -> None:
    connector = org.connector()
    since = datetime.now(UTC) - timedelta(minutes=1)
    assert read_all(connector, "lms_course_progressions", since) == []
    touched = [a for a in org.site.activities if a.email][:2]
    for activity in touched:
        org.site.touch(activity)
    found = read_all(connector, "lms_course_progressions", since)
    assert sorted(p.remote_id for p in found) == sorted(f"{a.email.lower()}:{a.course_id}" for a in touched)
    calls = [c for c in org.site.calls.all() if c.target == "GET analytics/user-course-activity"]
    assert calls
    # With Udemy's lag, a delta reads further back and finds the late rows too.
    lagged = org.connector(report_lag_hours=6)
    assert len(read_all(lagged, "lms_course_progressions", since)) >= 2


@pytest.mark.parametrize(
    ("status", "body", "code"),
    [
        (401, '{"detail": "Invalid username/password."}', ErrorCode.INTEGRATION_AUTHENTICATION_INVALID),
        (403, '{"detail": "You do not have permission."}', ErrorCode.INTEGRATION_PERMISSION_MISSING),
        (404, '{"detail": "Not found."}', ErrorCode.REMOTE_INPUT_INVALID),
        (429, '{"detail": "Request was throttled."}', ErrorCode.REMOTE_RATE_LIMIT_EXCEEDED),
        (503, None, ErrorCode.REMOTE_SERVICE_UNAVAILABLE),
    ],
)
def test_every_documented_failure_ends_in_its_code(
    org: Org, status: int, body: str | None, code: ErrorCode
) -> None:
    org.site.faults.add(
        Fault(
            "status",
            "GET courses/list",
            None,
            status,
            retry_after="1" if status == 429 else None,
            body=body,
            content_type="application/json",
        )
    )
    with pytest.raises(ConnectorError) as raised:
        read_all(org.connector(max_attempts=2), "lms_courses")
    assert raised.value.code == code
    org.site.faults.clear()


def test_wrong_secret_and_wrong_account(org: Org) -> None:
    with pytest.raises(ConnectorError) as raised:
        read_all(org.connector(("udemy-test-client", "nope")), "lms_users")
    assert raised.value.code == ErrorCode.INTEGRATION_AUTHENTICATION_INVALID
    with pytest.raises(ConnectorError) as raised:
        org.connector(account_id="999").preflight()
    assert raised.value.code == ErrorCode.INTEGRATION_PERMISSION_MISSING
    with pytest.raises(ConnectorError) as raised:
        org.connector(None).preflight()
    assert raised.value.code == ErrorCode.INTEGRATION_AUTHENTICATION_INVALID


def test_a_429_with_retry_after_is_waited_out(org: Org) -> None:
    org.site.faults.add(Fault("status", "GET courses/list", 1, 429, retry_after="1"))
    assert read_all(org.connector(), "lms_courses")


def test_preflight_and_passthrough(org: Org) -> None:
    connector = org.connector()
    assert connector.preflight() == []
    answer = connector.passthrough(
        "learning",
        SimpleNamespace(method="GET", path="courses/list/?page_size=2", headers={}, params={}, data=None),
    )
    assert answer.status == 200 and len(answer.data["results"]) == 2
    assert "udemy-test-secret" not in str(answer)
    with pytest.raises(ConnectorError):
        connector.passthrough(
            "learning", SimpleNamespace(method="GET", path="https://evil.example/", headers={})
        )


def test_every_write_is_refused_before_any_call(org: Org) -> None:
    caps = UdemyConnector.capabilities
    assert all(caps.write_actions[action].value == "UNSUPPORTED" for action in WriteAction)
    connector = org.connector()
    before = len(org.site.calls.all())
    for call in (
        lambda: connector.enrol("a@example.com", "1"),
        lambda: connector.complete("a@example.com:1", datetime.now(UTC), None),
        lambda: connector.deactivate_course("1"),
    ):
        with pytest.raises(ConnectorError) as raised:
            call()
        assert raised.value.code == ErrorCode.INTEGRATION_ACTION_NOT_AVAILABLE
    assert len(org.site.calls.all()) == before


def test_a_session_needs_both_credentials_and_shares_one_client_until_it_ends(org: Org) -> None:
    check_client_credentials_session(
        refused=[org.connector(None), org.connector(("udemy-test-client", "  "))],
        connector=org.connector(),
        calls=lambda: len(org.site.calls.all()),
        asks_for="Udemy Business API client",
        label="Udemy Business",
    )

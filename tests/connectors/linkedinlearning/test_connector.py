"""The LinkedIn Learning connector against its emulator over real HTTP: every model, the
status inferences, the delta on lastModifiedAfter and startedAt, token reuse and renewal, every
documented failure to its contract code, preflight, passthrough, and the refusal of every write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from lmsbridge.connectors.base import WriteAction
from lmsbridge.connectors.errors import ConnectorError
from lmsbridge.connectors.linkedinlearning.connector import LinkedInLearningConnector
from lmsbridge.errors import ErrorCode
from lmsbridge.testing.emulators.kit import Fault
from tests.connectors.linkedinlearning.conftest import Account, read_all
from tests.connectors.sessions import check_client_credentials_session


def test_courses_skills_and_their_assignments(account: Account) -> None:
    connector = account.connector(page_size=3)
    courses = {c.remote_id: c for c in read_all(connector, "lms_courses")}
    english = {a.urn: a for a in account.site.assets if a.language == "en"}
    assert set(courses) == set(english)
    for urn, course in courses.items():
        (revision,) = course.revisions
        assert revision.status == ("INACTIVE" if english[urn].retired else "ACTIVE")
        assert revision.remote_url and revision.remote_url.startswith("https://www.linkedin.com/learning/")
        assert all(s.startswith("urn:li:lyndaCategory:") for s in revision.skill_remote_ids)
    skills = {s.remote_id for s in read_all(connector, "lms_skills")}
    assert skills == {c.urn for c in account.site.classifications if c.type == "SKILL"}
    assert {s for c in courses.values() for s in c.revisions[0].skill_remote_ids} <= skills


def test_users_and_progressions_from_the_reports(account: Account) -> None:
    connector = account.connector()
    users = read_all(connector, "lms_users")
    reported = {a.learner for a in account.site.activities}
    assert {u.remote_id for u in users} == reported
    assert any(u.work_email is None for u in users) or all(
        le.email for le in account.site.learners if le.unique_id in reported
    )
    progressions = {p.remote_id: p for p in read_all(connector, "lms_course_progressions")}
    assert len(progressions) == len(account.site.activities)
    for activity in account.site.activities:
        record = progressions[f"{activity.learner}:{activity.asset}"]
        assert record.status == ("COMPLETED" if activity.completed else "IN_PROGRESS")
        assert (record.completed_at is not None) == activity.completed
        assert record.enrolled_at is not None


def test_delta_uses_last_modified_after_and_the_report_window(account: Account) -> None:
    connector = account.connector()
    since = datetime.now(UTC) - timedelta(minutes=1)
    for model in ("lms_courses", "lms_users", "lms_course_progressions"):
        assert read_all(connector, model, since) == [], model
    account.site.edit(account.site.assets[0])
    account.site.touch(account.site.activities[0])
    assert [c.remote_id for c in read_all(connector, "lms_courses", since)] == [account.site.assets[0].urn]
    assert len(read_all(connector, "lms_course_progressions", since)) == 1


def test_one_token_serves_every_call_and_a_revoked_one_is_renewed(account: Account) -> None:
    connector = account.connector()
    read_all(connector, "lms_courses")
    with connector.session(None):  # the token is per session; a sync's reads share one
        read_all(connector, "lms_skills")
        read_all(connector, "lms_courses")
        account.site.issuer.revoke_all()
        assert read_all(connector, "lms_skills")
    assert account.site.issuer.issued >= 2


@pytest.mark.parametrize(
    ("status", "body", "code"),
    [
        (
            401,
            '{"message": "Invalid access token", "serviceErrorCode": 65600, "status": 401}',
            ErrorCode.INTEGRATION_AUTHENTICATION_INVALID,
        ),
        (
            403,
            '{"message": "Not enough permissions", "serviceErrorCode": 100, "status": 403}',
            ErrorCode.INTEGRATION_PERMISSION_MISSING,
        ),
        (400, '{"message": "Invalid query", "status": 400}', ErrorCode.REMOTE_INPUT_INVALID),
        (404, '{"message": "Not found", "status": 404}', ErrorCode.REMOTE_INPUT_INVALID),
        (
            429,
            '{"message": "Resource level throttle APPLICATION DAY limit", "status": 429}',
            ErrorCode.REMOTE_RATE_LIMIT_EXCEEDED,
        ),
        (503, None, ErrorCode.REMOTE_SERVICE_UNAVAILABLE),
    ],
)
def test_every_documented_failure_ends_in_its_code(
    account: Account, status: int, body: str | None, code: ErrorCode
) -> None:
    account.site.faults.add(
        Fault("status", "GET learningAssets", None, status, body=body, content_type="application/json")
    )
    with pytest.raises(ConnectorError) as raised:
        read_all(account.connector(max_attempts=2), "lms_courses")
    assert raised.value.code == code
    account.site.faults.clear()


def test_refused_credentials_and_missing_reporting(account: Account) -> None:
    with pytest.raises(ConnectorError) as raised:
        read_all(account.connector(("li-test-client", "nope")), "lms_courses")
    assert raised.value.code == ErrorCode.INTEGRATION_AUTHENTICATION_INVALID
    with pytest.raises(ConnectorError) as raised:
        account.connector(None).preflight()
    assert raised.value.code == ErrorCode.INTEGRATION_AUTHENTICATION_INVALID
    account.site.reporting_enabled = False
    with pytest.raises(ConnectorError) as raised:
        account.connector().preflight()
    assert raised.value.code == ErrorCode.INTEGRATION_PERMISSION_MISSING


def test_preflight_and_passthrough(account: Account) -> None:
    connector = account.connector()
    assert connector.preflight() == []
    answer = connector.passthrough(
        "v2",
        SimpleNamespace(
            method="GET",
            path="/v2/learningClassifications?q=localeAndType&type=SKILL",
            headers={},
            params={},
            data=None,
        ),
    )
    assert answer.status == 200 and answer.data["elements"]
    assert "li-test-secret" not in str(answer)
    with pytest.raises(ConnectorError):
        connector.passthrough("v2", SimpleNamespace(method="GET", path="//evil.example/x", headers={}))


def test_every_write_is_refused_before_any_call(account: Account) -> None:
    caps = LinkedInLearningConnector.capabilities
    assert all(caps.write_actions[action].value == "UNSUPPORTED" for action in WriteAction)
    connector = account.connector()
    for call in (
        lambda: connector.enrol("u", "urn:li:lyndaCourse:1"),
        lambda: connector.complete("u:urn:li:lyndaCourse:1", datetime.now(UTC), None),
        lambda: connector.deactivate_course("urn:li:lyndaCourse:1"),
    ):
        with pytest.raises(ConnectorError) as raised:
            call()
        assert raised.value.code == ErrorCode.INTEGRATION_ACTION_NOT_AVAILABLE
    assert account.site.calls.all() == []


def test_a_session_needs_both_credentials_and_shares_one_client_until_it_ends(account: Account) -> None:
    check_client_credentials_session(
        refused=[account.connector(None), account.connector(("li-test-client", "  "))],
        connector=account.connector(),
        calls=lambda: len(account.site.calls.all()),
        asks_for="LinkedIn Learning API client",
        label="LinkedIn Learning",
    )

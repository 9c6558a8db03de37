"""What real Moodle 4.4 and 4.5 sites showed (`reference/moodle-real`, C1 to C9), through the
emulator answering as the matching version: hidden courses, capabilities the token's user lacks,
withheld names, expired tokens, missing users, courses it cannot enter, namespaced classes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lmsbridge.connectors.errors import AuthenticationInvalidError, ItemError, PermissionMissingError
from lmsbridge.connectors.moodle import functions as fn
from lmsbridge.connectors.records import CourseRecord, ProgressionRecord, UserRecord
from lmsbridge.errors import ErrorCode
from lmsbridge.testing.emulators.moodle import STUDENT, Fault, seeded_site
from tests.connectors.moodle.conftest import TOKEN, Moodle, read_all

VERSIONS = ["4.4", "4.5"]
NAMES_CAPABILITY = "moodle/site:viewfullnames"


def at_version(moodle: Moodle, version: str) -> Moodle:
    moodle.use(seeded_site(token=TOKEN, completion_task_interval=None, version=version))
    return moodle


def progressions(moodle: Moodle) -> dict[str, ProgressionRecord]:
    return {p.remote_id: p for p in read_all(moodle.connector(), "lms_course_progressions")}


@pytest.mark.parametrize("version", VERSIONS)
def test_hiding_a_course_keeps_its_learners_progress_as_it_was(moodle: Moodle, version: str) -> None:
    """C1: Moodle leaves hidden courses out of a learner's courses; deactivating rewrites nothing."""
    at_version(moodle, version)
    every = progressions(moodle)
    course_id = next(int(p.course_remote_id or 0) for p in every.values() if p.status == "COMPLETED")
    before = {k: p for k, p in every.items() if p.course_remote_id == str(course_id)}
    assert {p.status for p in before.values()} >= {"COMPLETED", "IN_PROGRESS"}
    moodle.connector().deactivate_course(str(course_id))
    assert moodle.site.courses[course_id].visible == 0
    after = {k: p for k, p in progressions(moodle).items() if p.course_remote_id == str(course_id)}
    assert after == before
    assert all(a.completed_at == before[k].completed_at for k, a in after.items())


@pytest.mark.parametrize("version", VERSIONS)
def test_a_learner_of_a_hidden_course_can_be_enrolled_and_completed(moodle: Moodle, version: str) -> None:
    at_version(moodle, version)
    hidden = next(c for c in moodle.site.courses.values() if c.visible == 0)
    learner = next(
        u for u in moodle.site.users.values() if u.id > 2 and (u.id, hidden.id) not in moodle.site.enrolments
    )
    enrolled = moodle.connector().enrol(str(learner.id), str(hidden.id))
    assert enrolled.status == "ENROLLED"
    done = moodle.connector().complete(f"{learner.id}:{hidden.id}", datetime.now(UTC), None)
    assert done.status == "COMPLETED" and done.completed_at is not None


@pytest.mark.parametrize("version", VERSIONS)
def test_a_token_user_without_viewdetails_is_caught_by_the_preflight(moodle: Moodle, version: str) -> None:
    """C2: without moodle/user:viewdetails, Moodle silently leaves users out; no error."""
    at_version(moodle, version)
    moodle.site.tokens[TOKEN].userid = moodle.site.add_user("lmsbridge", "LMS", "Bridge", "l@example.com").id
    assert moodle.connector().preflight() == []
    moodle.site.tokens[TOKEN].missing_capabilities.add("moodle/user:viewdetails")
    users = read_all(moodle.connector(), "lms_users")
    # What a sync alone would believe: the token's user and the course contacts, no one else.
    assert [u.work_email for u in users] == ["admin@example.com", "l@example.com"]
    with pytest.raises(PermissionMissingError) as raised:
        moodle.connector().preflight()
    assert "moodle/user:viewdetails" in raised.value.message


@pytest.mark.parametrize(("version", "names"), [("4.4", False), ("4.5", True)])
def test_names_follow_viewfullnames_by_version_and_their_absence_is_a_warning(
    moodle: Moodle, version: str, names: bool
) -> None:
    """C3: 4.4 withholds first and last names without moodle/site:viewfullnames."""
    at_version(moodle, version)
    connector = moodle.connector()
    assert all(u.first_name for u in read_all(connector, "lms_users") if isinstance(u, UserRecord))
    moodle.site.tokens[TOKEN].missing_capabilities.add(NAMES_CAPABILITY)
    connector = moodle.connector()
    users = [u for u in read_all(connector, "lms_users") if isinstance(u, UserRecord)]
    assert all(bool(u.first_name and u.last_name) is names for u in users)
    warned = [w for w in connector.sync_warnings + moodle.connector().preflight() if NAMES_CAPABILITY in w]
    assert bool(warned) is not names


def test_created_courses_are_reported_with_their_ids_when_the_site_drops_after_the_create(
    moodle: Moodle,
) -> None:
    """C4: the read-back after the create fails; the courses exist, and say so."""
    from tests.connectors.moodle.test_writes import course

    moodle.site.add_fault(Fault("reset", function=fn.GET_COURSES, after=1, times=None))
    outcomes = list(moodle.connector().upsert_courses([course("drop-1"), course("drop-2")]))
    assert all(o.error is None and o.remote_id for o in outcomes), outcomes
    created = {c.idnumber: c.id for c in moodle.site.courses.values()}
    assert {o.origin_id: int(o.remote_id or 0) for o in outcomes} == {
        "drop-1": created["drop-1"],
        "drop-2": created["drop-2"],
    }


@pytest.mark.parametrize("version", VERSIONS)
def test_an_expired_token_on_a_production_site_is_authentication_invalid(
    moodle: Moodle, version: str
) -> None:
    """C5: no debuginfo in production; Moodle deletes the token on that call."""
    at_version(moodle, version)
    moodle.site.debug = False
    moodle.site.tokens[TOKEN].validuntil = 1
    with pytest.raises(AuthenticationInvalidError) as raised:
        read_all(moodle.connector(), "lms_users")
    assert raised.value.code == ErrorCode.INTEGRATION_AUTHENTICATION_INVALID
    assert "expired" in raised.value.message and "core_webservice_get_site_info" not in raised.value.message


@pytest.mark.parametrize(("version", "answer"), [("4.4", "codingerror"), ("4.5", "invaliduser")])
def test_enrolling_a_user_moodle_does_not_have_is_an_input_error(
    moodle: Moodle, version: str, answer: str
) -> None:
    """C6: 4.4 answers a coding_exception, 4.5 dml_missing_record_exception/invaliduser."""
    at_version(moodle, version)
    with pytest.raises(ItemError) as raised:
        moodle.connector().enrol("999999", "2")
    assert moodle.site.calls_of(fn.ENROL_USERS)[-1].errorcode == answer
    assert raised.value.code == ErrorCode.REMOTE_INPUT_INVALID
    assert "999999" in raised.value.message
    gone = moodle.site.users[3]
    moodle.site.delete_user(gone.id)
    with pytest.raises(ItemError) as deleted:
        moodle.connector().enrol(str(gone.id), "2")
    assert deleted.value.code == ErrorCode.REMOTE_INPUT_INVALID


@pytest.mark.parametrize("version", VERSIONS)
def test_a_course_the_token_user_cannot_enter_is_permission_missing(moodle: Moodle, version: str) -> None:
    """C7: Moodle answers errorcoursecontextnotvalid (course reads) or requireloginerror (enrol)."""
    at_version(moodle, version)
    moodle.site.tokens[TOKEN].missing_capabilities.add("moodle/course:view")
    with pytest.raises(PermissionMissingError) as read:
        read_all(moodle.connector(), "lms_courses")
    assert moodle.site.calls_of(fn.GET_COURSES)[-1].errorcode == "errorcoursecontextnotvalid"
    assert "moodle/course:view" in read.value.message
    with pytest.raises(PermissionMissingError) as enrol:
        moodle.connector().enrol("3", "3")  # the token's user teaches course 2, not 3
    assert moodle.site.calls_of(fn.ENROL_USERS)[-1].errorcode == "requireloginerror"
    assert "moodle/course:view" in enrol.value.message
    with pytest.raises(PermissionMissingError):
        moodle.connector().preflight()


@pytest.mark.parametrize("version", ["4.5", "5.0", "5.1"])
def test_namespaced_exception_classes_are_understood(moodle: Moodle, version: str) -> None:
    """C8: from 4.5, core\\exception\\coding_exception and friends; a coding error is Moodle's
    failure (REMOTE.UNKNOWN_HTTP_ERROR), not a refusal of the input."""
    at_version(moodle, version)
    moodle.site.add_fault(
        Fault("moodle_error", function=fn.ENROL_USERS, exception="coding_exception", errorcode="codingerror")
    )
    with pytest.raises(ItemError) as raised:
        moodle.connector().enrol("3", "2")
    assert raised.value.code == ErrorCode.REMOTE_UNKNOWN_HTTP_ERROR
    assert "core\\exception\\coding_exception" in raised.value.message


def test_the_emulator_enrols_only_roles_the_token_user_may_assign(moodle: Moodle) -> None:
    moodle.site.tokens[TOKEN].assignable_roles = {STUDENT}
    with pytest.raises(ItemError) as raised:
        moodle.connector(student_role_id=1).enrol("3", "2")
    assert "wsusercannotassign" in raised.value.message
    assert isinstance(moodle.connector().enrol("3", "2"), ProgressionRecord)
    assert isinstance(read_all(moodle.connector(), "lms_courses")[0], CourseRecord)


def test_the_emulate_command_takes_the_version_as_a_setting() -> None:
    from click.testing import CliRunner

    from lmsbridge.cli.main import cli

    refused = CliRunner().invoke(cli, ["emulate", "moodle", "--setting", "version=3.9"])
    assert refused.exit_code != 0 and "4.4, 4.5, 5.0, 5.1" in refused.output
    unknown = CliRunner().invoke(cli, ["emulate", "moodle", "--setting", "colour=blue"])
    assert unknown.exit_code != 0 and "unknown setting 'colour'" in unknown.output


def test_the_preflight_fails_on_a_missing_read_function_and_warns_on_a_write_one(moodle: Moodle) -> None:
    moodle.site.disable_function(fn.ENROL_USERS)
    [warning] = moodle.connector().preflight()
    assert fn.ENROL_USERS in warning
    moodle.site.disable_function(fn.GET_USERS)
    with pytest.raises(PermissionMissingError) as raised:
        moodle.connector().preflight()
    assert fn.GET_USERS in raised.value.message

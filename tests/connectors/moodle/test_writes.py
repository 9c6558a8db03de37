"""Writing to a Moodle site: each write action, its outcome, and its effect on the emulated site."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lmsbridge.connectors.base import CourseUpsert, ItemOutcome
from lmsbridge.connectors.errors import ItemError
from lmsbridge.connectors.moodle import functions as fn
from lmsbridge.connectors.records import CourseRecord, ProgressionRecord
from lmsbridge.errors import ErrorCode
from lmsbridge.testing.emulators.moodle import STUDENT, Course, Fault
from tests.connectors.moodle.conftest import Moodle, read_all

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def course(origin_id: str, title: str | None = None, description: str | None = "About it.") -> CourseUpsert:
    return CourseUpsert(
        origin_id=origin_id,
        title=title or f"Course {origin_id}",
        course_url=f'https://content.example.com/courses/{origin_id}?ref=lms&x="1"',
        description=description,
    )


def outcomes(moodle: Moodle, items: list[CourseUpsert], **settings: object) -> dict[str, ItemOutcome]:
    return {o.origin_id: o for o in moodle.connector(**settings).upsert_courses(items)}


def moodle_course(moodle: Moodle, idnumber: str) -> Course:
    (found,) = [c for c in moodle.site.courses.values() if c.idnumber == idnumber]
    return found


def test_upsert_creates_external_courses_keyed_by_origin_id_with_the_link_in_the_summary(
    moodle: Moodle,
) -> None:
    results = outcomes(
        moodle, [course("cyber-101", "Intro to Cybersecurity"), course("privacy-1", description=None)]
    )
    cyber = moodle_course(moodle, "cyber-101")
    assert cyber.shortname == "cyber-101"
    assert cyber.fullname == "Intro to Cybersecurity"
    assert cyber.categoryid == 1 and cyber.visible == 1
    assert 'href="https://content.example.com/courses/cyber-101?ref=lms&amp;x=&quot;1&quot;"' in cyber.summary
    outcome = results["cyber-101"]
    assert outcome.error is None and outcome.remote_id == str(cyber.id)
    record = outcome.record
    assert isinstance(record, CourseRecord)
    assert record.origin_id == "cyber-101"
    (revision,) = record.revisions
    assert revision.title == "Intro to Cybersecurity"
    assert revision.description == "About it."
    assert revision.remote_url == 'https://content.example.com/courses/cyber-101?ref=lms&x="1"'
    assert revision.status == "ACTIVE"
    # The record a write returns is the record a sync reads.
    synced = {c.remote_id: c for c in read_all(moodle.connector(), "lms_courses")}
    assert synced[record.remote_id] == record
    assert synced[results["privacy-1"].remote_id].revisions[0].description is None


def test_upsert_again_updates_the_same_course_and_makes_it_visible(moodle: Moodle) -> None:
    first = outcomes(moodle, [course("cyber-101", "Intro")])["cyber-101"]
    moodle.site.update_course(int(first.remote_id or 0), visible=0)
    again = outcomes(moodle, [course("cyber-101", "Intro, second edition")])["cyber-101"]
    assert again.remote_id == first.remote_id
    assert [c.fullname for c in moodle.site.courses.values() if c.idnumber == "cyber-101"] == [
        "Intro, second edition"
    ]
    assert isinstance(again.record, CourseRecord) and again.record.revisions[0].status == "ACTIVE"
    assert len(moodle.site.calls_of(fn.UPDATE_COURSES)) == 1


def test_an_item_moodle_refuses_fails_alone_and_the_others_are_written(moodle: Moodle) -> None:
    # Another course holds the short name b-2 (lmsbridge's short name is the origin_id): the
    # whole create call is refused, so each course is retried alone to find the one at fault.
    moodle.site.add_course("Someone else's", "b-2")
    results = outcomes(moodle, [course("a-1"), course("b-2"), course("c-3")])
    assert results["a-1"].error is None and results["c-3"].error is None
    error = results["b-2"].error
    assert error is not None and error.code == ErrorCode.REMOTE_INPUT_INVALID
    assert "short name 'b-2'" in error.message
    assert {c.idnumber for c in moodle.site.courses.values()} >= {"a-1", "c-3"}
    assert "b-2" not in {c.idnumber for c in moodle.site.courses.values()}


def test_a_title_with_markup_is_refused_before_any_call_with_a_plain_message(moodle: Moodle) -> None:
    # C9: a production Moodle answers only "Invalid parameter value detected" for markup.
    moodle.site.debug = False
    results = outcomes(moodle, [course("a-1"), course("b-2", "<b>Bold</b> title")])
    error = results["b-2"].error
    assert results["a-1"].error is None
    assert error is not None and error.code == ErrorCode.REMOTE_INPUT_INVALID
    assert "plain text" in error.message
    assert len(moodle.site.calls_of(fn.CREATE_COURSES)) == 1  # the create carried a-1 alone


def test_items_moodle_could_not_hold_fail_before_any_call(moodle: Moodle) -> None:
    results = outcomes(moodle, [course("x" * 101), course("long", "T" * 255)])
    assert all(
        o.error is not None and o.error.code == ErrorCode.REMOTE_INPUT_INVALID for o in results.values()
    )
    assert "100 characters" in (results["x" * 101].error.message if results["x" * 101].error else "")
    assert moodle.site.calls == []


def test_a_short_name_taken_by_another_course_fails_that_item(moodle: Moodle) -> None:
    moodle.site.add_course("Someone else's", "taken-1")
    result = outcomes(moodle, [course("taken-1")])["taken-1"]
    assert result.error is not None and result.error.code == ErrorCode.REMOTE_INPUT_INVALID
    assert "short name 'taken-1'" in result.error.message


def test_a_create_whose_answer_was_lost_is_not_duplicated(moodle: Moodle) -> None:
    # Moodle creates the course but the answer never arrives; the retry finds the short name
    # (the origin_id) taken, and the connector updates that course instead of failing or
    # duplicating it.
    moodle.site.add_fault(Fault("timeout", function=fn.CREATE_COURSES, seconds=0.6))
    result = outcomes(moodle, [course("slow-1")], timeout_seconds=0.3, retry_base_delay_seconds=1.0)["slow-1"]
    assert result.error is None
    assert [c.id for c in moodle.site.courses.values() if c.idnumber == "slow-1"] == [
        int(result.remote_id or 0)
    ]
    assert [c.errorcode for c in moodle.site.calls_of(fn.CREATE_COURSES)] == [None, "shortnametaken"]
    assert moodle.site.calls_of(fn.UPDATE_COURSES)


def test_enrol_makes_a_manual_student_enrolment_and_enrolling_again_changes_nothing(moodle: Moodle) -> None:
    connector = moodle.connector()
    record = connector.enrol("9", "2")
    assert isinstance(record, ProgressionRecord)
    assert (record.remote_id, record.status, record.enrolled_at) == ("9:2", "ENROLLED", None)
    enrolment = moodle.site.enrolments[(9, 2)]
    assert (enrolment.roleid, enrolment.status) == (STUDENT, 0)
    assert connector.enrol("9", "2") == record
    assert sum(1 for key in moodle.site.enrolments if key == (9, 2)) == 1


def test_enrolling_a_dropped_learner_again_reactivates_the_enrolment(moodle: Moodle) -> None:
    assert moodle.connector().enrol("3", "3").status == "ENROLLED"
    assert moodle.site.enrolments[(3, 3)].status == 0


@pytest.mark.parametrize(
    ("user", "course", "why"),
    [
        ("999", "2", "no user 999"),
        ("9", "999", "Context does not exist"),
        ("9", "1", "front page"),
        ("nobody", "2", "not a Moodle user id"),
    ],
)
def test_enrol_refusals_are_input_errors(moodle: Moodle, user: str, course: str, why: str) -> None:
    with pytest.raises(ItemError) as raised:
        moodle.connector().enrol(user, course)
    assert raised.value.code == ErrorCode.REMOTE_INPUT_INVALID
    assert why in raised.value.message


def test_enrol_in_a_course_without_manual_enrolment_is_refused(moodle: Moodle) -> None:
    closed = moodle.site.add_course("Closed", "CLOSED", manual_enrol=False)
    with pytest.raises(ItemError) as raised:
        moodle.connector().enrol("9", str(closed.id))
    assert raised.value.code == ErrorCode.REMOTE_INPUT_INVALID and "wsnoinstance" in raised.value.message


def test_complete_marks_every_tracked_activity_and_moodle_completes_the_course_on_its_task(
    moodle: Moodle,
) -> None:
    connector = moodle.connector()
    record = connector.complete("5:2", NOW, 90)
    # Moodle aggregates the course completion of that learner when the last criterion is
    # overridden (as the real sites did), not only in its completion task.
    states = [moodle.site.activity_states[(cm, 5)] for cm in moodle.site.courses[2].criteria]
    assert record.status == "COMPLETED"
    assert record.completed_at == datetime.fromtimestamp(max(s.timemodified for s in states), UTC)
    assert record.remote_data == {"active": True, "progress": 100, "completed": True}
    assert all(s.state == 1 for s in states)
    assert [s.overrideby for s in states] == [None, 2]  # the learner did one; the token's user the other
    assert len(moodle.site.calls_of(fn.OVERRIDE_ACTIVITY_COMPLETION)) == 1
    # Moodle cannot store the score or the requested time: the answer's warnings say so.
    assert any("score 90 was not stored" in w for w in record.warnings)
    assert any("completed_at" in w for w in record.warnings)
    done = moodle.connector().complete("5:2", NOW, None)
    assert done.status == "COMPLETED" and not any("score" in w for w in done.warnings)
    assert len(moodle.site.calls_of(fn.OVERRIDE_ACTIVITY_COMPLETION)) == 1  # nothing more to mark


def test_complete_reads_completed_at_once_the_task_runs_on_every_request(moodle: Moodle) -> None:
    moodle.site.completion_task_interval = 0
    record = moodle.connector().complete("7:5", NOW, None)
    assert record.status == "COMPLETED" and record.completed_at is not None


@pytest.mark.parametrize(
    ("progression", "why"),
    [
        ("8:4", "no activity with completion tracking"),  # completion off in that course
        ("9:2", "no active enrolment"),
        ("3:3", "no active enrolment"),  # dropped
        ("9", "not a Moodle course id"),
    ],
)
def test_complete_refusals_are_input_errors(moodle: Moodle, progression: str, why: str) -> None:
    with pytest.raises(ItemError) as raised:
        moodle.connector().complete(progression, NOW, None)
    assert raised.value.code == ErrorCode.REMOTE_INPUT_INVALID
    assert why in raised.value.message


def test_deactivate_hides_the_course_and_keeps_its_enrolments(moodle: Moodle) -> None:
    enrolled = {k for k in moodle.site.enrolments if k[1] == 2}
    record = moodle.connector().deactivate_course("2")
    assert isinstance(record, CourseRecord)
    assert record.revisions[0].status == "INACTIVE"
    assert record.revisions[0].skill_remote_ids == ("2", "5")
    assert moodle.site.courses[2].visible == 0
    assert {k for k in moodle.site.enrolments if k[1] == 2} == enrolled


@pytest.mark.parametrize(("course", "why"), [("999", "invalidrecord"), ("1", "front page")])
def test_deactivate_refusals_are_input_errors(moodle: Moodle, course: str, why: str) -> None:
    with pytest.raises(ItemError) as raised:
        moodle.connector().deactivate_course(course)
    assert raised.value.code == ErrorCode.REMOTE_INPUT_INVALID
    assert why in raised.value.message

"""Reading a Moodle site: every model a sync asks for, the records it yields, and a second read
that sees what changed on the site and what was deleted."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from lmsbridge.connectors.moodle import functions as fn
from lmsbridge.connectors.records import CourseRecord, ProgressionRecord, SkillRecord, UserRecord
from lmsbridge.testing.emulators.moodle import SEED_EPOCH
from tests.connectors.moodle.conftest import Moodle, read_all


def by_id(records: list[Any]) -> dict[str, Any]:
    return {r.remote_id: r for r in records}


def test_users_are_every_account_but_the_guest_with_suspension_as_inactive(moodle: Moodle) -> None:
    users = by_id(read_all(moodle.connector(), "lms_users"))
    assert set(users) == {str(i) for i in range(2, 11)}  # admin and 8 learners; no guest (id 1)
    ada = users["3"]
    assert isinstance(ada, UserRecord)
    assert (ada.first_name, ada.last_name, ada.work_email) == ("Ada", "Okafor", "ada.okafor0@example.com")
    assert ada.status == "ACTIVE"
    assert ada.remote_created_at is None  # Moodle does not expose it
    assert ada.remote_data is not None and ada.remote_data["idnumber"] == "EMP1000"
    assert "lastaccess" not in ada.remote_data  # a login must not count as a change
    suspended = users["10"]
    assert isinstance(suspended, UserRecord) and suspended.status == "INACTIVE"


def test_courses_have_one_revision_each_and_leave_out_the_front_page(moodle: Moodle) -> None:
    courses = by_id(read_all(moodle.connector(), "lms_courses"))
    assert set(courses) == {"2", "3", "4", "5", "6"}  # course 1 is the site itself
    safety = courses["2"]
    assert isinstance(safety, CourseRecord)
    (revision,) = safety.revisions
    assert revision.remote_id == "2"
    assert revision.title == "Workplace Safety"
    assert revision.description == "<p>Workplace Safety: a course of the emulated site.</p>"
    assert revision.remote_url == f"{moodle.url}/course/view.php?id=2"
    assert revision.status == "ACTIVE"
    assert revision.remote_created_at == datetime.fromtimestamp(SEED_EPOCH, UTC)
    assert revision.skill_remote_ids == ("2", "5")  # the course's competencies, in their order
    assert safety.origin_id is None  # no ID number: not written through lmsbridge
    hidden = courses["6"]
    assert isinstance(hidden, CourseRecord) and hidden.revisions[0].status == "INACTIVE"


def test_progressions_carry_moodle_enrolment_and_completion_state(moodle: Moodle) -> None:
    progressions = by_id(read_all(moodle.connector(), "lms_course_progressions"))
    assert len(progressions) == len(moodle.site.enrolments)

    def status(user: int, course: int) -> str | None:
        record = progressions[f"{user}:{course}"]
        assert isinstance(record, ProgressionRecord)
        assert record.user_remote_id == str(user)
        assert record.revision_remote_id == record.course_remote_id == str(course)
        assert record.enrolled_at is None  # unsupported: no core function returns it
        return record.status

    assert status(3, 6) == "COMPLETED"  # every activity done, and the completion task ran
    assert status(3, 3) == "DROPPED"  # a suspended enrolment
    assert status(5, 2) == "IN_PROGRESS"  # one activity of two done
    assert status(9, 6) == "IN_PROGRESS"  # also in a hidden course
    assert status(6, 3) == "ENROLLED"
    assert status(8, 4) == "ENROLLED"  # a course without completion tracking
    assert status(2, 2) == "ENROLLED"  # the admin teaches there: Moodle does not track teachers

    completed = progressions["3:6"]
    assert isinstance(completed, ProgressionRecord)
    times = [moodle.site.activity_states[(cm, 3)].timemodified for cm in moodle.site.courses[6].criteria]
    assert completed.completed_at == datetime.fromtimestamp(max(times), UTC)
    dropped = progressions["3:3"]
    assert isinstance(dropped, ProgressionRecord) and dropped.completed_at is None


def test_skills_are_the_competencies_of_every_framework(moodle: Moodle) -> None:
    skills = read_all(moodle.connector(), "lms_skills")
    assert all(isinstance(s, SkillRecord) for s in skills)
    assert [s.name for s in skills] == [
        "Communication",
        "Teamwork",
        "Problem solving",
        "Leadership",
        "Data literacy",
        "Security",
    ]
    first = skills[0]
    assert first.remote_id == "1"
    assert first.remote_created_at == datetime.fromtimestamp(SEED_EPOCH, UTC)
    assert first.remote_data == {
        "idnumber": "CORE-0",
        "parentid": 0,
        "competencyframeworkid": 1,
        "framework": "Core skills",
    }


def test_models_moodle_cannot_give_yield_nothing(moodle: Moodle) -> None:
    connector = moodle.connector()
    assert read_all(connector, "lms_course_providers") == []
    assert read_all(connector, "hris_skills") == []


def test_small_pages_walk_moodles_paged_functions_to_the_end(moodle: Moodle) -> None:
    connector = moodle.connector(page_size=2)
    pages = list(connector.read("lms_users", None))
    assert [len(p) for p in pages] == [2, 2, 2, 2, 1]
    progressions = read_all(connector, "lms_course_progressions")
    assert len(progressions) == len(moodle.site.enrolments)
    assert len(read_all(connector, "lms_skills")) == 6
    enrolled_calls = moodle.site.calls_of(fn.GET_ENROLLED_USERS)
    assert len(enrolled_calls) > len(moodle.site.courses) - 1  # several pages per course
    assert {o["name"]: o["value"] for o in enrolled_calls[1].params["options"].values()}["limitfrom"] == "2"


def test_a_connector_checks_the_token_and_its_service_once(moodle: Moodle) -> None:
    connector = moodle.connector()
    for model in ("lms_skills", "lms_users", "lms_courses", "lms_course_progressions"):
        read_all(connector, model)
    assert len(moodle.site.calls_of(fn.GET_SITE_INFO)) == 1


def test_with_competencies_off_the_site_offers_no_skills(moodle: Moodle) -> None:
    moodle.site.competencies_enabled = False
    connector = moodle.connector()
    assert read_all(connector, "lms_skills") == []
    courses = read_all(connector, "lms_courses")
    assert all(c.revisions[0].skill_remote_ids == () for c in courses)


def test_a_second_read_sees_changes_and_deletions(moodle: Moodle) -> None:
    connector = moodle.connector()
    before = {
        m: by_id(read_all(connector, m)) for m in ("lms_users", "lms_courses", "lms_course_progressions")
    }
    site = moodle.site
    site.users[3].lastname = "Okafor-Smith"
    site.delete_user(4)
    newcomer = site.add_user("nia.new", "Nia", "New", "nia@example.com")
    site.update_course(2, fullname="Workplace Safety (2026)")
    site.delete_course(5)
    fresh = site.add_course("Onboarding", "ONB", activities=1)
    site.enrol(newcomer.id, fresh.id)
    site.unenrol(6, 3)
    site.set_enrolment_status(5, 2, 1)
    site.set_enrolment_status(3, 3, 0)
    for cmid in site.courses[2].criteria:
        site.complete_activity(cmid, 5, at=SEED_EPOCH + 100)
    site.set_enrolment_status(5, 2, 0)
    site.run_completion_task()

    after = {m: by_id(read_all(moodle.connector(), m)) for m in before}
    users, courses, progressions = after["lms_users"], after["lms_courses"], after["lms_course_progressions"]
    assert users["3"].last_name == "Okafor-Smith"
    assert "4" not in users and str(newcomer.id) in users
    assert courses["2"].revisions[0].title == "Workplace Safety (2026)"
    assert "5" not in courses and str(fresh.id) in courses
    gone = set(before["lms_course_progressions"]) - set(progressions)
    assert gone >= {"6:3", "4:2", "4:3", "4:5"}  # unenrolled, deleted user, deleted course
    assert not any(key.endswith(":5") for key in progressions)
    assert progressions[f"{newcomer.id}:{fresh.id}"].status == "ENROLLED"
    assert progressions["3:3"].status == "ENROLLED"  # reactivated
    completed = progressions["5:2"]
    assert isinstance(completed, ProgressionRecord)
    assert completed.status == "COMPLETED"
    assert completed.completed_at == datetime.fromtimestamp(SEED_EPOCH + 100, UTC)

"""Moodle's records as lmsbridge's unified records. A course written through lmsbridge keeps its
origin_id in the course ID number and its deep link in the summary, where learners see it; the
same functions read both back, so a written course and a synced one are the same record."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import escape, unescape
from typing import Any

from lmsbridge.connectors.records import (
    CourseRecord,
    ProgressionRecord,
    RevisionRecord,
    SkillRecord,
    UserRecord,
)

LINK_CLASS = "lmsbridge-course-link"
LINK_TEXT = "Open the course"
_WRITTEN_SUMMARY = re.compile(
    r'\A(?:<p>(?P<description>.*?)</p>\n)?<p class="'
    + LINK_CLASS
    + r'"><a href="(?P<url>[^"]*)">[^<]*</a></p>\Z',
    re.DOTALL,
)
_USER_FIELDS = (
    "username",
    "idnumber",
    "auth",
    "suspended",
    "confirmed",
    "department",
    "institution",
    "city",
    "country",
    "lang",
    "timezone",
)
_COURSE_FIELDS = ("shortname", "idnumber", "categoryid", "format", "startdate", "enddate", "enablecompletion")


def moment(timestamp: Any) -> datetime | None:
    """Moodle's Unix seconds; 0 (or nothing) means never."""
    if isinstance(timestamp, int | float) and not isinstance(timestamp, bool) and timestamp > 0:
        return datetime.fromtimestamp(timestamp, UTC)
    return None


def course_summary(description: str | None, course_url: str) -> str:
    """The summary of a course written through lmsbridge: its description, then the deep link."""
    link = f'<p class="{LINK_CLASS}"><a href="{escape(course_url)}">{LINK_TEXT}</a></p>'
    return f"<p>{escape(description)}</p>\n{link}" if description else link


def read_summary(summary: str | None) -> tuple[str | None, str | None]:
    """(description, deep link) from a summary; the link is None unless lmsbridge wrote it."""
    found = _WRITTEN_SUMMARY.match(summary or "")
    if found is None:
        return (summary or None), None
    description = found.group("description")
    return (unescape(description) if description is not None else None), unescape(found.group("url"))


def user_record(user: dict[str, Any]) -> UserRecord:
    inactive = bool(user.get("suspended")) or user.get("auth") == "nologin"
    return UserRecord(
        remote_id=str(user["id"]),
        first_name=user.get("firstname") or None,
        last_name=user.get("lastname") or None,
        work_email=user.get("email") or None,
        status="INACTIVE" if inactive else "ACTIVE",
        remote_created_at=None,  # Moodle's web services do not expose when a user was created
        remote_data={k: user[k] for k in _USER_FIELDS if k in user},
    )


def course_record(course: dict[str, Any], site_url: str, skill_ids: tuple[str, ...]) -> CourseRecord:
    """One course, one revision (Moodle has no revisions; the revision's id is the course's)."""
    remote_id = str(course["id"])
    description, link = read_summary(course.get("summary"))
    created = moment(course.get("timecreated"))
    return CourseRecord(
        remote_id=remote_id,
        origin_id=course.get("idnumber") or None,
        remote_created_at=created,
        revisions=(
            RevisionRecord(
                remote_id=remote_id,
                title=course.get("fullname"),
                description=description,
                remote_url=link or f"{site_url}/course/view.php?id={remote_id}",
                status="ACTIVE" if course.get("visible", 1) else "INACTIVE",
                remote_created_at=created,
                skill_remote_ids=skill_ids,
            ),
        ),
        remote_data={k: course[k] for k in _COURSE_FIELDS if k in course},
    )


def progression_status(active: dict[str, Any] | None) -> str:
    """DROPPED: enrolled but not active (suspended, ended, or its enrolment method disabled);
    COMPLETED: Moodle recorded the course completion; IN_PROGRESS: some activity completed or the
    course visited; ENROLLED otherwise."""
    if active is None:
        return "DROPPED"
    if active.get("completed"):
        return "COMPLETED"
    if (active.get("progress") or 0) > 0 or active.get("lastaccess"):
        return "IN_PROGRESS"
    return "ENROLLED"


def progression_record(
    user_id: int, course_id: int, active: dict[str, Any] | None, completed_at: datetime | None
) -> ProgressionRecord:
    remote_data = (
        {"active": True, "progress": active.get("progress"), "completed": active.get("completed")}
        if active is not None
        else {"active": False}
    )
    return ProgressionRecord(
        remote_id=progression_id(user_id, course_id),
        user_remote_id=str(user_id),
        revision_remote_id=str(course_id),
        course_remote_id=str(course_id),
        status=progression_status(active),
        enrolled_at=None,  # no core web service function returns when a user was enrolled
        completed_at=completed_at,
        remote_data=remote_data,
    )


def progression_id(user_id: int, course_id: int) -> str:
    return f"{user_id}:{course_id}"


def completion_time(status: dict[str, Any]) -> datetime | None:
    """When Moodle recorded the course complete: the time its last met criterion was met (as
    Moodle's completion task dates it), from core_completion_get_course_completion_status."""
    times = [
        c.get("timecompleted")
        for c in status.get("completionstatus", {}).get("completions", [])
        if c.get("complete") and c.get("timecompleted")
    ]
    return moment(max(times)) if times else None


def skill_record(competency: dict[str, Any], framework: dict[str, Any]) -> SkillRecord:
    return SkillRecord(
        remote_id=str(competency["id"]),
        name=competency.get("shortname"),
        remote_created_at=moment(competency.get("timecreated")),
        remote_data={
            "idnumber": competency.get("idnumber"),
            "parentid": competency.get("parentid"),
            "competencyframeworkid": framework.get("id"),
            "framework": framework.get("shortname"),
        },
    )

"""Udemy Business's shapes mapped to unified records. Users are keyed by e-mail (the reports
have no other id that every row carries); their status comes from the report's
`user_is_deactivated` (Kombo leaves status empty, but the contract's enum admits no null), and
they have no creation moment (`user_joined_date` is the licence's start, a day without a time,
so it is kept in remote_data only). A course has one revision. Statuses of
progressions are an inference from the report's dates and completion ratio (reference 4.5)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from lmsbridge.connectors.records import (
    CourseRecord,
    ProgressionRecord,
    RevisionRecord,
    SkillRecord,
    UserRecord,
)

ANONYMIZED = "Anonymized User"  # GDPR-erased learners keep their rows under this name


def moment(value: Any) -> datetime | None:
    """An ISO date or date-time of a report row (dates read as midnight UTC)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        found = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def is_anonymized(row: dict[str, Any]) -> bool:
    return row.get("user_name") == ANONYMIZED or not row.get("user_email")


def user(row: dict[str, Any]) -> UserRecord | None:
    """An `analytics/user-activity` row."""
    if is_anonymized(row):
        return None
    return UserRecord(
        remote_id=str(row["user_email"]).lower(),
        first_name=row.get("user_name") or None,
        last_name=row.get("user_surname") or None,
        work_email=row.get("user_email") or None,
        status="INACTIVE" if row.get("user_is_deactivated") is True else "ACTIVE",
        remote_data=row,
    )


def category_ids(raw: dict[str, Any]) -> tuple[str, ...]:
    found = []
    for key in ("primary_category", "primary_subcategory"):
        value = raw.get(key)
        if isinstance(value, dict) and value.get("id") is not None:
            found.append(str(value["id"]))
    return tuple(dict.fromkeys(found))


def course(raw: dict[str, Any]) -> CourseRecord:
    """A `courses/list` item. Retired courses drop out of the list, so every listed course is
    ACTIVE; `last_update_date` is the moment of its one revision's content."""
    remote_id = str(raw["id"])
    return CourseRecord(
        remote_id=remote_id,
        revisions=(
            RevisionRecord(
                remote_id=remote_id,
                title=raw.get("title"),
                description=raw.get("description") or None,
                remote_url=raw.get("url") or None,
                status="ACTIVE",
                remote_created_at=moment(raw.get("last_update_date")),
                skill_remote_ids=category_ids(raw),
            ),
        ),
        remote_data=raw,
    )


def skills(raw: dict[str, Any]) -> list[SkillRecord]:
    """A course's category and subcategory (Udemy's taxonomy, as skills)."""
    found = []
    for key in ("primary_category", "primary_subcategory"):
        value = raw.get(key)
        if isinstance(value, dict) and value.get("id") is not None:
            found.append(SkillRecord(remote_id=str(value["id"]), name=value.get("title"), remote_data=value))
    return found


def last_activity(row: dict[str, Any]) -> datetime | None:
    moments = [
        moment(row.get(key))
        for key in (
            "course_enroll_date",
            "course_start_date",
            "course_completion_date",
            "course_last_accessed_date",
        )
    ]
    present = [m for m in moments if m is not None]
    return max(present) if present else None


def progression(row: dict[str, Any]) -> ProgressionRecord | None:
    """An `analytics/user-course-activity` row: COMPLETED when it has a completion date,
    IN_PROGRESS when started or partly done, ENROLLED otherwise (DROPPED is not expressible)."""
    if is_anonymized(row) or row.get("course_id") is None:
        return None
    email = str(row["user_email"]).lower()
    course_id = str(row["course_id"])
    completed_at = moment(row.get("course_completion_date"))
    try:
        ratio = float(row.get("completion_ratio") or 0)
    except (TypeError, ValueError):
        ratio = 0.0
    if completed_at is not None:
        status = "COMPLETED"
    elif row.get("course_start_date") or ratio > 0:
        status = "IN_PROGRESS"
    else:
        status = "ENROLLED"
    return ProgressionRecord(
        remote_id=f"{email}:{course_id}",
        user_remote_id=email,
        revision_remote_id=course_id,
        course_remote_id=course_id,
        status=status,
        enrolled_at=moment(row.get("course_enroll_date")) or moment(row.get("course_start_date")),
        completed_at=completed_at,
        remote_data=row,
    )

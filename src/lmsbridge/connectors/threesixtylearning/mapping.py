"""360Learning's shapes mapped to unified records (reference section 3.4; where the mapping is an
inference, docs/connectors/360learning.md says so). Dates are ISO 8601 in UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from lmsbridge.connectors.records import (
    CourseRecord,
    HrisSkillRecord,
    ProgressionRecord,
    ProviderRecord,
    RevisionRecord,
    SkillRecord,
    UserRecord,
)

COMPLETE = 100


def moment(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def user(raw: dict[str, Any]) -> UserRecord:
    """`invited` users count as ACTIVE (their account exists and can be assigned courses);
    `deleted` users are soft-deleted in 360Learning and still listed: INACTIVE."""
    status = str(raw.get("status"))
    return UserRecord(
        remote_id=str(raw["_id"]),
        first_name=raw.get("firstName") or None,
        last_name=raw.get("lastName") or None,
        work_email=raw.get("mail") or None,
        status="INACTIVE" if status == "deleted" else "ACTIVE",
        remote_created_at=None,  # 360Learning gives no creation date for users
        remote_data=raw,
    )


def provider(raw: dict[str, Any]) -> ProviderRecord:
    """An external-course integration: the platform its courses come from."""
    return ProviderRecord(
        remote_id=str(raw["_id"]), name=raw.get("externalPlatform") or None, remote_data=raw
    )


def course(raw: dict[str, Any], providers: dict[str, str]) -> CourseRecord:
    """One revision per course: 360Learning lists only a course's current version
    (`currentVersionNumber`), kept in the revision's remote data. Deleted courses are listed with
    `status: "deleted"`; they read as INACTIVE."""
    course_id = str(raw["_id"])
    status = "ACTIVE" if raw.get("status") == "published" else "INACTIVE"
    revision = RevisionRecord(
        remote_id=course_id,
        title=raw.get("name") or None,
        description=raw.get("description") or None,
        remote_url=None,
        status=status,
        remote_created_at=moment(raw.get("createdAt")),
        remote_data={
            "currentVersionNumber": raw.get("currentVersionNumber"),
            "modifiedAt": raw.get("modifiedAt"),
        },
    )
    platform = raw.get("externalPlatform")
    return CourseRecord(
        remote_id=course_id,
        revisions=(revision,),
        provider_remote_id=providers.get(platform) if isinstance(platform, str) else None,
        remote_created_at=moment(raw.get("createdAt")),
        remote_data=raw,
    )


def progression_id(raw: dict[str, Any]) -> str:
    """`courseId:userId:attemptId`: completing needs the course and user, and 360Learning has no
    read of one attempt by its id."""
    return f"{raw['courseId']}:{raw['userId']}:{raw['_id']}"


def progression(raw: dict[str, Any]) -> ProgressionRecord:
    """An attempt: COMPLETED with `completedAt` (or progress 100), IN_PROGRESS with progress,
    ENROLLED at 0 (an inference: 360Learning has no enrolment status on attempts)."""
    progress = int(raw.get("progress") or 0)
    completed = moment(raw.get("completedAt"))
    if completed is not None or progress >= COMPLETE:
        status = "COMPLETED"
    elif progress > 0:
        status = "IN_PROGRESS"
    else:
        status = "ENROLLED"
    return ProgressionRecord(
        remote_id=progression_id(raw),
        user_remote_id=str(raw["userId"]),
        revision_remote_id=str(raw["courseId"]),
        course_remote_id=str(raw["courseId"]),
        status=status,
        enrolled_at=moment(raw.get("firstActivityAt")),
        completed_at=completed,
        remote_data=raw,
    )


def skill(raw: dict[str, Any]) -> SkillRecord:
    return SkillRecord(
        remote_id=str(raw["_id"]),
        name=raw.get("name") or None,
        remote_created_at=moment(raw.get("createdAt")),
        remote_data=raw,
    )


def hris_skill(raw: dict[str, Any]) -> HrisSkillRecord:
    return HrisSkillRecord(
        remote_id=str(raw["_id"]),
        name=str(raw.get("name") or ""),
        description=raw.get("description") or None,
        remote_data=raw,
    )

"""Cornerstone's shapes mapped to unified records [reference 2.7]. Users are Employee API
records keyed by their numeric `id` (the Reporting API's `user_id`/`transc_user_id`; see the
doc's known limits). A learning object is a course and each of its versions a revision: every
version is its own `vw_rpt_training` row with its own `lo_object_id`, `related_lo_id` naming the
original version (the course's id) and `is_latest_training_version` the current one (Cornerstone's
reporting column descriptions). A transcript row (`reg_num`) is a progression on the version the
learner took (`transc_object_id`); its status comes from the status group id, else from an English
status name; a translated name that matches neither gives no status, as Kombo does."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from lmsbridge.connectors.records import (
    CourseRecord,
    ProgressionRecord,
    ProviderRecord,
    RevisionRecord,
    SkillRecord,
    UserRecord,
)

# user_lo_status_group_id [reference 2.5: 11 completed; 12/13 the not-completed groups]
STATUS_GROUPS = {11: "COMPLETED", 12: "ENROLLED", 13: "IN_PROGRESS"}
STATUS_NAMES = {
    "registered": "ENROLLED",
    "not started": "ENROLLED",
    "pending": "ENROLLED",
    "in progress": "IN_PROGRESS",
    "started": "IN_PROGRESS",
    "completed": "COMPLETED",
    "removed": "DROPPED",
    "withdrawn": "DROPPED",
    "cancelled": "DROPPED",
}


def moment(value: Any) -> datetime | None:
    """A Cornerstone moment: ISO with or without offset (`+0000` too); no offset reads as UTC."""
    if not isinstance(value, str) or not value:
        return None
    text = value.replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = f"{text[:-2]}:{text[-2:]}"
    try:
        found = datetime.fromisoformat(text)
    except ValueError:
        return None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def user(raw: dict[str, Any]) -> UserRecord:
    status = (raw.get("workerStatus") or {}).get("active")
    return UserRecord(
        remote_id=str(raw["id"]),
        first_name=raw.get("firstName") or None,
        last_name=raw.get("lastName") or None,
        work_email=raw.get("primaryEmail") or None,
        status="ACTIVE" if status is True else "INACTIVE" if status is False else None,
        remote_created_at=moment((raw.get("employeeMetaData") or {}).get("createdDate")),
        remote_data=raw,
    )


def provider(row: dict[str, Any]) -> ProviderRecord:
    return ProviderRecord(remote_id=str(row["lo_provider_id"]), name=row.get("lo_provider"), remote_data=row)


def deep_link(site_url: str, lo_id: str) -> str:
    return f"{site_url}/DeepLink/ProcessRedirect.aspx?module=lodetails&lo={lo_id}"


def root(row: dict[str, Any]) -> str:
    """The course a `vw_rpt_training` row is a version of: its original version's id."""
    return str(row.get("related_lo_id") or row["lo_object_id"])


def active(value: Any) -> bool:
    """`lo_active`: "Y"/"N" in Cornerstone's reporting objects (a string in the view's field list)."""
    return str(value).strip().upper() in ("Y", "1", "TRUE")


def _version_order(row: dict[str, Any]) -> tuple[bool, str, str]:
    start = str(row.get("training_version_start_dt") or row.get("lo_create_dt") or "")
    return (bool(row.get("is_latest_training_version")), start, str(row.get("lo_version") or ""))


def course(
    rows: list[dict[str, Any]], site_url: str, skills: dict[str, tuple[str, ...]] | None = None
) -> CourseRecord:
    """The `vw_rpt_training` rows of one learning object's versions, oldest first."""
    versions = sorted(rows, key=_version_order)
    latest, original = versions[-1], next((r for r in versions if root(r) == r["lo_object_id"]), versions[0])
    provider_id = latest.get("lo_provider_id")
    revisions = tuple(
        RevisionRecord(
            remote_id=str(row["lo_object_id"]),
            title=row.get("lo_title"),
            remote_url=deep_link(site_url, str(row["lo_object_id"])),
            status="ACTIVE" if active(row.get("lo_active")) else "INACTIVE",
            remote_created_at=moment(row.get("training_version_start_dt")) or moment(row.get("lo_create_dt")),
            skill_remote_ids=(skills or {}).get(str(row["lo_object_id"]), ()),
            remote_data=row,
        )
        for row in versions
    )
    return CourseRecord(
        remote_id=root(latest),
        revisions=revisions,
        provider_remote_id=str(provider_id) if provider_id is not None else None,
        origin_id=latest.get("lo_ref") or original.get("lo_ref") or None,
        remote_created_at=moment(original.get("lo_create_dt")),
        remote_data=latest,
    )


def skill(row: dict[str, Any]) -> SkillRecord:
    """A `vw_rpt_lo_competencies_local` row."""
    return SkillRecord(remote_id=str(row["competency_id"]), name=row.get("competency_title"), remote_data=row)


def status(row: dict[str, Any]) -> str | None:
    if row.get("is_removed") in (1, True, "true", "True"):
        return "DROPPED"
    group = row.get("user_lo_status_group_id")
    if isinstance(group, int) and group in STATUS_GROUPS:
        return STATUS_GROUPS[group]
    name = row.get("user_lo_status")
    return STATUS_NAMES.get(name.strip().lower()) if isinstance(name, str) else None


def progression(row: dict[str, Any], courses: dict[str, str]) -> ProgressionRecord:
    """A `vw_rpt_transcript` row; `courses` maps a version's `lo_object_id` to its course's."""
    lo_id = str(row["transc_object_id"])
    return ProgressionRecord(
        remote_id=str(row["reg_num"]),
        user_remote_id=str(row["transc_user_id"]),
        revision_remote_id=lo_id,
        course_remote_id=courses.get(lo_id.lower(), lo_id),
        status=status(row),
        enrolled_at=moment(row.get("user_lo_reg_dt")) or moment(row.get("user_lo_assigned_dt")),
        completed_at=moment(row.get("user_lo_comp_dt")),
        remote_data=row,
    )

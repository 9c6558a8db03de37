"""SuccessFactors Learning's rows mapped to unified records (reference 1.7). Moments are epoch
milliseconds. A course is `{itemTypeID}:{itemID}`, its revision `{type}:{id}:{revisionDate}`; a
progression `{studentID}|{type}:{id}|{revisionDate}`. To-do items are ENROLLED (assignedDate),
history rows COMPLETED (completionDate) when their customer-configured completion status is one
the settings name as passed, otherwise IN_PROGRESS with a warning (the status may mean failed)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from lmsbridge.connectors.records import (
    CourseRecord,
    ProgressionRecord,
    ProviderRecord,
    RevisionRecord,
    UserRecord,
)


def epoch_ms(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return datetime.fromtimestamp(value / 1000, UTC)


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def user(row: dict[str, Any]) -> UserRecord | None:
    if not row.get("studentID"):
        return None
    inactive = str(row.get("notActive") or "").lower() in ("yes", "y", "true")
    return UserRecord(
        remote_id=str(row["studentID"]),
        first_name=row.get("firstName") or None,
        last_name=row.get("lastName") or None,
        work_email=row.get("emailAddr") or None,
        status="INACTIVE" if inactive else "ACTIVE",
        remote_created_at=epoch_ms(row.get("hireDate")),
        remote_data=row,
    )


def course_key(type_id: Any, item_id: Any) -> str:
    return f"{type_id}:{item_id}"


def split_course(remote_id: str) -> tuple[str, str] | None:
    type_id, sep, item_id = remote_id.partition(":")
    return (type_id, item_id) if sep and type_id and item_id else None


def provider(row: dict[str, Any]) -> ProviderRecord | None:
    name = row.get("Provider")
    return (
        ProviderRecord(remote_id=str(name), name=str(name), remote_data={"Provider": name}) if name else None
    )


def deeplink(learning_url: str, type_id: Any, item_id: Any, revision: Any) -> str:
    return (
        f"{learning_url}/learning/user/deeplink_redirect.jsp?linkId=ITEM_DETAILS&componentID={item_id}"
        f"&componentTypeID={type_id}&revisionDate={revision}&fromSF=Y"
    )


def course(row: dict[str, Any], learning_url: str) -> CourseRecord:
    key = course_key(row["itemTypeID"], row["itemID"])
    revision = row.get("revisionDate")
    return CourseRecord(
        remote_id=key,
        provider_remote_id=str(row["Provider"]) if row.get("Provider") else None,
        origin_id=str(row["itemID"]) if row.get("sourceID") == "OCN" else None,
        remote_created_at=epoch_ms(row.get("createDate")),
        revisions=(
            RevisionRecord(
                remote_id=f"{key}:{revision}",
                title=row.get("itemTitle") or None,
                description=row.get("Descr") or None,
                remote_url=deeplink(learning_url, row["itemTypeID"], row["itemID"], revision),
                status="ACTIVE" if row.get("active", True) else "INACTIVE",
                remote_created_at=epoch_ms(revision),
            ),
        ),
        remote_data=row,
    )


def _ids(user_id: str, row: dict[str, Any]) -> tuple[str, str, str]:
    key = course_key(row.get("componentTypeID"), row.get("componentID"))
    revision = row.get("revisionDate")
    return f"{user_id}|{key}|{revision}", key, f"{key}:{revision}"


def enrolled(user_id: str, row: dict[str, Any]) -> ProgressionRecord | None:
    if not row.get("componentID"):
        return None
    remote_id, course_id, revision_id = _ids(user_id, row)
    return ProgressionRecord(
        remote_id=remote_id,
        user_remote_id=user_id,
        revision_remote_id=revision_id,
        course_remote_id=course_id,
        status="ENROLLED",
        enrolled_at=epoch_ms(row.get("assignedDate")),
        remote_data=row,
    )


def history(user_id: str, row: dict[str, Any], passed: list[str]) -> ProgressionRecord | None:
    if not row.get("componentID"):
        return None
    remote_id, course_id, revision_id = _ids(user_id, row)
    status_id = str(row.get("completionStatusID") or "")
    done = status_id in passed
    return ProgressionRecord(
        remote_id=remote_id,
        user_remote_id=user_id,
        revision_remote_id=revision_id,
        course_remote_id=course_id,
        status="COMPLETED" if done else "IN_PROGRESS",
        completed_at=epoch_ms(row.get("completionDate")) if done else None,
        remote_data=row,
        warnings=()
        if done
        else (f"completion status {status_id!r} is not one of completed_status_ids; read as IN_PROGRESS",),
    )

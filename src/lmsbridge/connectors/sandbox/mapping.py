"""The Sandbox's own record shapes mapped to unified records, as a real connector maps a real API."""

from __future__ import annotations

from datetime import datetime
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


def _dt(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _status(active: bool) -> str:
    return "ACTIVE" if active else "INACTIVE"


def user(remote_id: str, data: dict[str, Any]) -> UserRecord:
    return UserRecord(
        remote_id,
        data["first_name"],
        data["last_name"],
        data["email"],
        _status(data.get("active", True)),
        _dt(data.get("created")),
    )


def provider(remote_id: str, data: dict[str, Any]) -> ProviderRecord:
    return ProviderRecord(remote_id, data["name"], _dt(data.get("created")))


def skill(remote_id: str, data: dict[str, Any]) -> SkillRecord:
    return SkillRecord(remote_id, data["name"], _dt(data.get("created")))


def hris_skill(remote_id: str, data: dict[str, Any]) -> HrisSkillRecord:
    return HrisSkillRecord(
        remote_id, data["name"], data.get("description"), tuple(data.get("levels") or ()) or None
    )


def written_hris_skill(remote_id: str, data: dict[str, Any]) -> HrisSkillRecord:
    return HrisSkillRecord(remote_id, data["name"], remote_data={"status": data.get("status")})


def written_course(
    remote_id: str, origin_id: str, data: dict[str, Any], active: bool, created: datetime
) -> CourseRecord:
    """A course written through the API, as the Sandbox shows it: one revision, the deep link kept."""
    extra = {k: data.get(k) for k in ("thumbnail_url", "duration", "languages") if data.get(k) is not None}
    return CourseRecord(
        remote_id=remote_id,
        origin_id=origin_id,
        remote_created_at=created,
        revisions=(
            RevisionRecord(
                remote_id=f"{remote_id}-r1",
                title=data["title"],
                description=data.get("description"),
                remote_url=data["course_url"],
                status=_status(active),
                remote_created_at=created,
                remote_data=extra or None,
            ),
        ),
    )


def generated_course(remote_id: str, data: dict[str, Any]) -> CourseRecord:
    return CourseRecord(
        remote_id=remote_id,
        provider_remote_id=data.get("provider"),
        remote_created_at=_dt(data.get("created")),
        revisions=tuple(
            RevisionRecord(
                remote_id=r["id"],
                title=r["title"],
                description=r.get("description"),
                remote_url=r.get("url"),
                status=_status(r.get("active", True)),
                remote_created_at=_dt(r.get("created")),
                skill_remote_ids=tuple(r.get("skills", ())),
            )
            for r in data["revisions"]
        ),
    )


def progression(remote_id: str, data: dict[str, Any]) -> ProgressionRecord:
    return ProgressionRecord(
        remote_id=remote_id,
        user_remote_id=data["user"],
        revision_remote_id=data["revision"],
        course_remote_id=data.get("course"),
        status=data.get("state"),
        enrolled_at=_dt(data.get("enrolled")),
        completed_at=_dt(data.get("completed")),
    )

"""LinkedIn Learning's shapes mapped to unified records (reference 5.7). Moments are epoch
milliseconds. Users exist only as the activity reports reveal them (`learnerDetails`), keyed by
`uniqueUserId` (e-mail when absent). Statuses are inferences: a learner the reports list is
ACTIVE; a course whose `availability` is RETIRED is INACTIVE; a progression is COMPLETED with a
completion or 100 %, IN_PROGRESS with any progress or engagement, ENROLLED otherwise."""

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


def epoch_ms(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return datetime.fromtimestamp(value / 1000, UTC)


def text(value: Any) -> str | None:
    if isinstance(value, dict):
        found = value.get("value")
        return found if isinstance(found, str) and found else None
    return value if isinstance(value, str) and value else None


def learner_id(details: dict[str, Any]) -> str | None:
    found = details.get("uniqueUserId") or details.get("email")
    return str(found) if found else None


def user(row: dict[str, Any]) -> UserRecord | None:
    details = row.get("learnerDetails") or {}
    remote_id = learner_id(details)
    if remote_id is None:
        return None
    name = str(details.get("name") or "").strip()
    first, _, last = name.partition(" ")
    return UserRecord(
        remote_id=remote_id,
        first_name=first or None,
        last_name=last or None,
        work_email=details.get("email") or None,
        status="ACTIVE",
        remote_data=details,
    )


def skill_urns(asset: dict[str, Any]) -> tuple[str, ...]:
    found = []
    for item in (asset.get("details") or {}).get("classifications") or []:
        classification = (item or {}).get("associatedClassification") or {}
        if classification.get("type") == "SKILL" and classification.get("urn"):
            found.append(str(classification["urn"]))
    return tuple(dict.fromkeys(found))


def course(asset: dict[str, Any]) -> CourseRecord:
    details = asset.get("details") or {}
    urn = str(asset["urn"])
    urls = details.get("urls") or {}
    retired = str(details.get("availability") or "").upper() == "RETIRED"
    return CourseRecord(
        remote_id=urn,
        remote_created_at=epoch_ms(details.get("publishedAt")),
        revisions=(
            RevisionRecord(
                remote_id=urn,
                title=text(asset.get("title")),
                description=text(details.get("description")),
                remote_url=urls.get("webLaunch") or None,
                status="INACTIVE" if retired else "ACTIVE",
                remote_created_at=epoch_ms(details.get("lastUpdatedAt")),
                skill_remote_ids=skill_urns(asset),
            ),
        ),
        remote_data=asset,
    )


def skill(element: dict[str, Any]) -> SkillRecord | None:
    if element.get("type") != "SKILL" or not element.get("urn"):
        return None
    return SkillRecord(remote_id=str(element["urn"]), name=text(element.get("name")), remote_data=element)


def engagement(row: dict[str, Any], kind: str) -> tuple[float, datetime | None, datetime | None]:
    for activity in row.get("activities") or []:
        if activity.get("engagementType") == kind:
            value = activity.get("engagementValue")
            amount = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0
            return amount, epoch_ms(activity.get("firstEngagedAt")), epoch_ms(activity.get("lastEngagedAt"))
    return 0.0, None, None


def progression(row: dict[str, Any]) -> ProgressionRecord | None:
    details, content = row.get("learnerDetails") or {}, row.get("contentDetails") or {}
    user_id, urn = learner_id(details), content.get("contentUrn")
    if user_id is None or not urn:
        return None
    completions, _, completed_at = engagement(row, "COMPLETIONS")
    progress, _, _ = engagement(row, "PROGRESS_PERCENTAGE")
    firsts = [
        epoch_ms(a.get("firstEngagedAt")) for a in row.get("activities") or [] if a.get("firstEngagedAt")
    ]
    started = min((m for m in firsts if m is not None), default=None)
    engaged = any(
        (a.get("engagementValue") or 0) > 0
        for a in row.get("activities") or []
        if a.get("engagementType") != "COMPLETIONS"
    )
    if completions >= 1 or progress >= 100:
        status = "COMPLETED"
    elif progress > 0 or engaged:
        status = "IN_PROGRESS"
    else:
        status = "ENROLLED"
    return ProgressionRecord(
        remote_id=f"{user_id}:{urn}",
        user_remote_id=user_id,
        revision_remote_id=str(urn),
        course_remote_id=str(urn),
        status=status,
        enrolled_at=started,
        completed_at=completed_at if status == "COMPLETED" else None,
        remote_data=row,
    )

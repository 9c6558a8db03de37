"""TalentLMS's shapes mapped to unified records. v2 users carry ISO dates; v1 courses carry the
portal's date format (`siteinfo.date_format`) with no time zone, read as UTC; v1 progress carries
unix-second strings. Courses lmsbridge writes keep their deep link as the description's last line
(`Course link: <url>`), since no TalentLMS course field can hold a URL through the API."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from lmsbridge.connectors.records import CourseRecord, ProgressionRecord, RevisionRecord, UserRecord

LINK_PREFIX = "Course link: "
_LINK = re.compile(r"(?:\A|\n)Course link: (\S+)\s*\Z")

# siteinfo.date_format -> strptime pattern of dates such as "25/12/2019, 03:58:40"
DATE_FORMATS = {
    "DDMMYYYY": "%d/%m/%Y, %H:%M:%S",
    "MMDDYYYY": "%m/%d/%Y, %H:%M:%S",
    "YYYYMMDD": "%Y/%m/%d, %H:%M:%S",
}


def iso_datetime(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def unix_datetime(value: Any) -> datetime | None:
    text = str(value) if value is not None else ""
    return datetime.fromtimestamp(int(text), UTC) if text.isdigit() and int(text) > 0 else None


def portal_datetime(value: Any, date_format: str) -> datetime | None:
    """A date in the portal's format; unknown formats and odd values give None, not a guess."""
    pattern = DATE_FORMATS.get(date_format)
    if not isinstance(value, str) or not value or pattern is None:
        return None
    try:
        return datetime.strptime(value, pattern).replace(tzinfo=UTC)
    except ValueError:
        return None


def user(raw: dict[str, Any]) -> UserRecord:
    """A v2 `GET /users` item."""
    return UserRecord(
        remote_id=str(raw["id"]),
        first_name=raw.get("name") or None,
        last_name=raw.get("surname") or None,
        work_email=raw.get("email") or None,
        status={"active": "ACTIVE", "inactive": "INACTIVE"}.get(str(raw.get("status")).lower()),
        remote_created_at=iso_datetime(raw.get("registration")),
        remote_data=raw,
    )


def with_link(description: str | None, url: str) -> str:
    """The description TalentLMS keeps for a course written with a deep link."""
    text = (description or "").rstrip()
    return f"{text}\n{LINK_PREFIX}{url}" if text else f"{LINK_PREFIX}{url}"


def split_link(description: str | None) -> tuple[str | None, str | None]:
    """(description without the link line, the link) of a course's description."""
    if not description:
        return None, None
    found = _LINK.search(description)
    if found is None:
        return description, None
    rest = description[: found.start()].rstrip()
    return rest or None, found.group(1)


def course(raw: dict[str, Any], date_format: str) -> CourseRecord:
    """A v1 `GET /courses` item: one course, one revision (TalentLMS keeps no versions). The
    origin id is the course code of courses lmsbridge wrote (those that carry the link line)."""
    remote_id = str(raw["id"])
    description, link = split_link(raw.get("description"))
    created = portal_datetime(raw.get("creation_date"), date_format)
    code = raw.get("code") or None
    return CourseRecord(
        remote_id=remote_id,
        origin_id=code if link is not None else None,
        remote_created_at=created,
        revisions=(
            RevisionRecord(
                remote_id=remote_id,
                title=raw.get("name"),
                description=description,
                remote_url=link,
                status="ACTIVE" if raw.get("status") == "active" else "INACTIVE",
                remote_created_at=created,
            ),
        ),
        remote_data=raw,
    )


def progression_id(user_id: str, course_id: str) -> str:
    return f"{user_id}:{course_id}"


def progression(user_id: str, course_id: str, raw: dict[str, Any]) -> ProgressionRecord:
    """A v1 `getuserstatusincourse` answer. COMPLETED when TalentLMS says so or has a completion
    moment; IN_PROGRESS when some of the course is done; ENROLLED otherwise (an inference: the
    vendor documents no full list of completion statuses)."""
    completed_at = unix_datetime(raw.get("completed_on_timestamp"))
    percentage = str(raw.get("completion_percentage") or "0")
    done = str(raw.get("completion_status", "")).lower() == "completed" or completed_at is not None
    if done:
        status = "COMPLETED"
    elif percentage.isdigit() and int(percentage) > 0:
        status = "IN_PROGRESS"
    else:
        status = "ENROLLED"
    return ProgressionRecord(
        remote_id=progression_id(user_id, course_id),
        user_remote_id=user_id,
        revision_remote_id=course_id,
        course_remote_id=course_id,
        status=status,
        enrolled_at=unix_datetime(raw.get("enrolled_on_timestamp")),
        completed_at=completed_at,
        remote_data={"user_id": user_id, "course_id": course_id, **raw},
    )

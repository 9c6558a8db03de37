"""Udemy Business's streams. Courses have no change filter (Udemy advises full catalog scans);
users come from the user-activity report (read whole: the report has no per-user change moment);
course progressions from the user-course-activity report with `from_date`, Udemy's own change
filter, read back `report_lag_hours` further (late rows) and narrowed to the moment in the
connector since the remote filters by day; skills are the categories the courses carry."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from lmsbridge.connectors.base import Coverage, ModelCoverage
from lmsbridge.connectors.records import Record
from lmsbridge.connectors.streams import Stream
from lmsbridge.connectors.udemy import mapping

if TYPE_CHECKING:
    from lmsbridge.connectors.udemy.connector import UdemyConnector

U = Coverage.UNSUPPORTED


class Users(Stream[Any, dict[str, Any]]):
    connector: UdemyConnector
    model: ClassVar[str] = "lms_users"
    fields: ClassVar[dict[str, Coverage]] = {"remote_created_at": U}

    def pages(self, since: datetime | None) -> Iterator[Sequence[dict[str, Any]]]:
        seen: set[str] = set()
        for page in self.connector.api.pages("analytics/user-activity/"):
            fresh = []
            for row in page:  # one row per user and period: a user is listed once
                email = str(row.get("user_email") or "").lower()
                if email and email not in seen:
                    seen.add(email)
                    fresh.append(row)
            yield fresh

    def to_record(self, raw: dict[str, Any]) -> Record | None:
        return mapping.user(raw)


class Courses(Stream[Any, dict[str, Any]]):
    connector: UdemyConnector
    model: ClassVar[str] = "lms_courses"
    fields: ClassVar[dict[str, Coverage]] = {"provider_id": U, "origin_id": U, "remote_created_at": U}
    covers: ClassVar[dict[str, ModelCoverage]] = {
        "lms_course_revisions": ModelCoverage(Coverage.SUPPORTED),
        "lms_skill_assignments": ModelCoverage(Coverage.SUPPORTED),
    }

    def pages(self, since: datetime | None) -> Iterator[Sequence[dict[str, Any]]]:
        yield from self.connector.api.pages("courses/list/")

    def to_record(self, raw: dict[str, Any]) -> Record:
        return mapping.course(raw)


class Skills(Stream[Any, Any]):
    connector: UdemyConnector
    model: ClassVar[str] = "lms_skills"
    fields: ClassVar[dict[str, Coverage]] = {"remote_created_at": U}

    def pages(self, since: datetime | None) -> Iterator[Sequence[Any]]:
        seen: set[str] = set()
        fields = {"fields[course]": "id,primary_category,primary_subcategory"}
        for page in self.connector.api.pages("courses/list/", fields):
            fresh = []
            for raw in page:
                for skill in mapping.skills(raw):
                    if skill.remote_id not in seen:
                        seen.add(skill.remote_id)
                        fresh.append(skill)
            yield fresh

    def to_record(self, raw: Any) -> Record:
        record: Record = raw
        return record


class Progressions(Stream[Any, dict[str, Any]]):
    connector: UdemyConnector
    model: ClassVar[str] = "lms_course_progressions"
    supports_since: ClassVar[bool] = True

    def pages(self, since: datetime | None) -> Iterator[Sequence[dict[str, Any]]]:
        params: dict[str, Any] = {}
        start: datetime | None = None
        if since is not None:
            start = since.astimezone(UTC) - timedelta(hours=self.connector.settings.report_lag_hours)
            params = {
                "from_date": start.date().isoformat(),
                "to_date": (datetime.now(UTC) + timedelta(days=1)).date().isoformat(),
            }
        for page in self.connector.api.pages("analytics/user-course-activity/", params):
            if start is None:
                yield page
                continue
            # The remote filters by day; rows last active before the moment are not news.
            yield [row for row in page if (mapping.last_activity(row) or start) >= start]

    def to_record(self, raw: dict[str, Any]) -> Record | None:
        return mapping.progression(raw)

"""Cornerstone's streams. Users come from the Employee API v2 (no change filter is documented
for its list, so every sync reads them whole); learning objects, transcripts and competencies
from the Reporting API's views, a delta filtering on `_last_touched_dt_utc ge <moment>`
[reference 2.5]. A course is read with all its versions (one `vw_rpt_training` row each): a
delta finds the courses with a touched version, then reads every version of those, since a
course record carries its whole set of revisions. Providers and skills are the distinct ones
the views name."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from lmsbridge.connectors.base import Coverage, ModelCoverage
from lmsbridge.connectors.cornerstoneondemand import mapping
from lmsbridge.connectors.records import Record
from lmsbridge.connectors.streams import Stream

if TYPE_CHECKING:
    from lmsbridge.connectors.cornerstoneondemand.connector import CornerstoneConnector

U = Coverage.UNSUPPORTED


def touched_since(since: datetime | None) -> str | None:
    if since is None:
        return None
    return f"_last_touched_dt_utc ge {since.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}"


class Users(Stream[Any, dict[str, Any]]):
    connector: CornerstoneConnector
    model: ClassVar[str] = "lms_users"

    def pages(self, since: datetime | None) -> Iterator[Sequence[dict[str, Any]]]:
        yield from self.connector.api.employees()

    def to_record(self, raw: dict[str, Any]) -> Record:
        return mapping.user(raw)


class Providers(Stream[Any, dict[str, Any]]):
    connector: CornerstoneConnector
    model: ClassVar[str] = "lms_course_providers"
    fields: ClassVar[dict[str, Coverage]] = {"remote_created_at": U}

    def pages(self, since: datetime | None) -> Iterator[Sequence[dict[str, Any]]]:
        seen: set[str] = set()
        for page in self.connector.api.view("vw_rpt_training"):
            fresh = []
            for row in page:
                key = row.get("lo_provider_id")
                if key is not None and str(key) not in seen:
                    seen.add(str(key))
                    fresh.append(row)
            yield fresh

    def to_record(self, raw: dict[str, Any]) -> Record:
        return mapping.provider(raw)


class Courses(Stream[Any, list[dict[str, Any]]]):
    """One raw item per course: the `vw_rpt_training` rows of its versions."""

    connector: CornerstoneConnector
    model: ClassVar[str] = "lms_courses"
    supports_since: ClassVar[bool] = True
    covers: ClassVar[dict[str, ModelCoverage]] = {
        # vw_rpt_training's field list has no description (it lives in the localized training
        # objects, whose view name is not captured): not read.
        "lms_course_revisions": ModelCoverage(Coverage.SUPPORTED, {"description": U}),
        "lms_skill_assignments": ModelCoverage(Coverage.SUPPORTED),
    }

    def pages(self, since: datetime | None) -> Iterator[Sequence[list[dict[str, Any]]]]:
        api = self.connector.api
        self.skills = self.connector.skills_by_lo()
        if since is None:
            rows = api.rows("vw_rpt_training")
        else:
            touched = {mapping.root(row) for row in api.rows("vw_rpt_training", touched_since(since))}
            rows = self.connector.versions(sorted(touched)) if touched else []
        courses: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            courses.setdefault(mapping.root(row).lower(), []).append(row)
        grouped = list(courses.values())
        size = self.connector.settings.page_size
        for start in range(0, len(grouped), size):
            yield grouped[start : start + size]

    def to_record(self, raw: list[dict[str, Any]]) -> Record:
        return mapping.course(raw, self.connector.settings.site_url, self.skills)


class Skills(Stream[Any, dict[str, Any]]):
    connector: CornerstoneConnector
    model: ClassVar[str] = "lms_skills"
    fields: ClassVar[dict[str, Coverage]] = {"remote_created_at": U}

    def pages(self, since: datetime | None) -> Iterator[Sequence[dict[str, Any]]]:
        seen: set[str] = set()
        for page in self.connector.api.view("vw_rpt_lo_competencies_local"):
            fresh = []
            for row in page:
                if str(row["competency_id"]) not in seen:
                    seen.add(str(row["competency_id"]))
                    fresh.append(row)
            yield fresh

    def to_record(self, raw: dict[str, Any]) -> Record:
        return mapping.skill(raw)


class Progressions(Stream[Any, dict[str, Any]]):
    connector: CornerstoneConnector
    model: ClassVar[str] = "lms_course_progressions"
    supports_since: ClassVar[bool] = True

    def pages(self, since: datetime | None) -> Iterator[Sequence[dict[str, Any]]]:
        self.courses = self.connector.course_ids()
        yield from self.connector.api.view("vw_rpt_transcript", touched_since(since))

    def to_record(self, raw: dict[str, Any]) -> Record:
        return mapping.progression(raw, self.courses)

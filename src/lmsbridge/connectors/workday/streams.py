"""Workday's streams: workers from Human_Resources `Get_Workers` (the only read with a change
filter, `Transaction_Log_Criteria_Data/Transaction_Date_Range_Data`); digital and blended courses
from Learning, and the skills and providers tagged on them; learning enrollments from
`Get_Learning_Enrollments`."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from lmsbridge.connectors.base import Coverage, ModelCoverage
from lmsbridge.connectors.records import Record
from lmsbridge.connectors.streams import Stream
from lmsbridge.connectors.workday import mapping

if TYPE_CHECKING:
    from lmsbridge.connectors.workday.connector import WorkdayConnector

U = Coverage.UNSUPPORTED
# Each course operation and the element of its rows (the v31.2 Learning WSDL names the blended
# rows `Learning_Course`).
COURSE_ROWS = (
    ("Get_Learning_Digital_Courses", "Learning_Digital_Course"),
    ("Get_Learning_Blended_Courses", "Learning_Course"),
)


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class Users(Stream[Any, ET.Element]):
    connector: WorkdayConnector
    model: ClassVar[str] = "lms_users"
    supports_since: ClassVar[bool] = True
    fields: ClassVar[dict[str, Coverage]] = {"remote_created_at": U}

    def pages(self, since: datetime | None) -> Iterator[Sequence[ET.Element]]:
        criteria = ""
        if since is not None:
            criteria = (
                "<bsvc:Request_Criteria><bsvc:Transaction_Log_Criteria_Data><bsvc:Transaction_Date_Range_Data>"
                f"<bsvc:Updated_From>{stamp(since)}</bsvc:Updated_From>"
                f"<bsvc:Updated_Through>{stamp(datetime.now(UTC))}</bsvc:Updated_Through>"
                "</bsvc:Transaction_Date_Range_Data></bsvc:Transaction_Log_Criteria_Data></bsvc:Request_Criteria>"
            )
        yield from self.connector.api.pages("Human_Resources", "Get_Workers", criteria, "Worker")

    def to_record(self, raw: ET.Element) -> Record:
        return mapping.user(raw)


def course_pages(connector: WorkdayConnector) -> Iterator[list[ET.Element]]:
    for operation, row in COURSE_ROWS:
        yield from connector.api.pages("Learning", operation, "", row)


class Courses(Stream[Any, ET.Element]):
    connector: WorkdayConnector
    model: ClassVar[str] = "lms_courses"
    # Course data has no creation moment; each revision has its version's Effective_Date.
    fields: ClassVar[dict[str, Coverage]] = {"remote_created_at": U}
    covers: ClassVar[dict[str, ModelCoverage]] = {
        "lms_course_revisions": ModelCoverage(Coverage.SUPPORTED),
        "lms_skill_assignments": ModelCoverage(Coverage.SUPPORTED),
    }

    def pages(self, since: datetime | None) -> Iterator[Sequence[ET.Element]]:
        yield from course_pages(self.connector)

    def to_record(self, raw: ET.Element) -> Record:
        return mapping.course(raw)


class Skills(Stream[Any, Any]):
    connector: WorkdayConnector
    model: ClassVar[str] = "lms_skills"
    fields: ClassVar[dict[str, Coverage]] = {"remote_created_at": U}

    def pages(self, since: datetime | None) -> Iterator[Sequence[Any]]:
        seen: set[str] = set()
        for page in course_pages(self.connector):
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


class Providers(Stream[Any, Any]):
    connector: WorkdayConnector
    model: ClassVar[str] = "lms_course_providers"
    fields: ClassVar[dict[str, Coverage]] = {"remote_created_at": U}

    def pages(self, since: datetime | None) -> Iterator[Sequence[Any]]:
        seen: set[str] = set()
        for page in course_pages(self.connector):
            fresh = []
            for raw in page:
                found = mapping.provider(raw)
                if found is not None and found.remote_id not in seen:
                    seen.add(found.remote_id)
                    fresh.append(found)
            yield fresh

    def to_record(self, raw: Any) -> Record:
        record: Record = raw
        return record


class Progressions(Stream[Any, ET.Element]):
    connector: WorkdayConnector
    model: ClassVar[str] = "lms_course_progressions"

    def pages(self, since: datetime | None) -> Iterator[Sequence[ET.Element]]:
        yield from self.connector.api.pages("Learning", "Get_Learning_Enrollments", "", "Learning_Enrollment")

    def to_record(self, raw: ET.Element) -> Record:
        return mapping.progression(raw)

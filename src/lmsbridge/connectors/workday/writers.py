"""Course upserts through `Manage_Learning_Course`: a `Put_Learning_Digital_Course_Request` whose
data `ID` is the item's origin id (Workday's reference ID of the course, type
`Learning_Course_ID`), with the course's WID as `Learning_Digital_Course_Reference` when a course
with that ID exists, so Workday changes it instead of creating another; the link is the course's
external-content lesson. The written courses are then read back from
`Get_Learning_Digital_Courses` for their WIDs and versions. Element names and order follow the
code generated from the v31.2 Learning WSDL (see docs/connectors/workday.md)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from lmsbridge.connectors.base import CourseUpsert, ItemOutcome
from lmsbridge.connectors.errors import ItemError
from lmsbridge.connectors.workday import mapping
from lmsbridge.connectors.workday.client import BSVC, NS, escape, first_id
from lmsbridge.connectors.writers import CourseWriter
from lmsbridge.errors import ErrorCode

if TYPE_CHECKING:
    from lmsbridge.connectors.workday.connector import WorkdayConnector

# Put_Learning_{kind}_Course_Request: its reference and data elements.
PUT_NAMES = {
    "Digital": ("Learning_Digital_Course_Reference", "Learning_Digital_Course_Data"),
    "Blended": ("Learning_Blended_Course_Reference", "Learning_Course_Data"),
}


def id_of(ref: ET.Element) -> tuple[str, str] | None:
    """A reference's reference ID (any type but WID) or else its WID, as (type, value)."""
    ids = [(i.get(f"{{{BSVC}}}type") or "", (i.text or "").strip()) for i in ref.findall("wd:ID", NS)]
    return next((i for i in ids if i[0] != "WID" and i[1]), None) or next((i for i in ids if i[1]), None)


@dataclass(frozen=True)
class CourseData:
    """What lmsbridge sends of a course: a Put sends the whole course, so a change of one field
    (deactivation) resends the others as they are."""

    origin_id: str
    title: str
    description: str
    url: str | None
    inactive: bool
    topics: tuple[tuple[str, str], ...] = ()  # (ID type, value) of each Topic_Reference
    kind: str = "Digital"
    wid: str | None = None

    @classmethod
    def of(cls, raw: ET.Element) -> CourseData:
        """The course as Workday lists it."""
        data = mapping.course_data(raw)
        return cls(
            origin_id=data.findtext("wd:ID", "", NS) or first_id(raw, None, "Learning_Course_ID"),
            title=data.findtext("wd:Course_Title", "", NS) or "",
            description=data.findtext("wd:Description", "", NS) or "",
            url=mapping.course_url(data),
            inactive=data.findtext("wd:Inactive", "0", NS) in ("1", "true"),
            topics=tuple(topic for ref in data.findall("wd:Topic_Reference", NS) if (topic := id_of(ref))),
            kind=mapping.kind_of(raw),
            wid=first_id(raw, None, "WID"),
        )

    def request(self) -> str:
        """The body of a Manage_Learning_Course request (data first, then the business process
        parameters, as the WSDL orders them)."""
        reference, data = PUT_NAMES[self.kind]
        topics = "".join(
            f'<bsvc:Topic_Reference><bsvc:ID bsvc:type="{escape(kind)}">{escape(value)}</bsvc:ID>'
            "</bsvc:Topic_Reference>"
            for kind, value in self.topics
        )
        lesson = (
            "<bsvc:Course_Lesson_Data><bsvc:Lesson_Order>1</bsvc:Lesson_Order>"
            "<bsvc:External_Content_Lesson_Data>"
            f"<bsvc:External_Content_URL>{escape(self.url)}</bsvc:External_Content_URL>"
            f"<bsvc:Learning_Course_Lesson_Title>{escape(self.title)}</bsvc:Learning_Course_Lesson_Title>"
            "</bsvc:External_Content_Lesson_Data></bsvc:Course_Lesson_Data>"
            if self.url
            else ""
        )
        known = (
            f'<bsvc:{reference}><bsvc:ID bsvc:type="WID">{escape(self.wid)}</bsvc:ID></bsvc:{reference}>'
            if self.wid
            else ""
        )
        return (
            f"<bsvc:Manage_Learning_Course_Data><bsvc:Put_Learning_{self.kind}_Course_Request>{known}"
            f"<bsvc:{data}><bsvc:ID>{escape(self.origin_id)}</bsvc:ID>"
            f"<bsvc:Inactive>{'true' if self.inactive else 'false'}</bsvc:Inactive>"
            f"<bsvc:Course_Title>{escape(self.title)}</bsvc:Course_Title>"
            f"<bsvc:Description>{escape(self.description)}</bsvc:Description>"
            f"{topics}{lesson}</bsvc:{data}></bsvc:Put_Learning_{self.kind}_Course_Request>"
            "</bsvc:Manage_Learning_Course_Data>"
            "<bsvc:Business_Process_Parameters><bsvc:Auto_Complete>true</bsvc:Auto_Complete>"
            "</bsvc:Business_Process_Parameters>"
        )


class WorkdayCourses(CourseWriter[Any]):
    connector: WorkdayConnector
    batch_size: ClassVar[int] = 20

    def invalid(self, item: CourseUpsert) -> str | None:
        if not item.title.strip():
            return "Workday needs a course title."
        return None

    def write_batch(self, batch: Sequence[CourseUpsert]) -> Iterator[ItemOutcome]:
        c = self.connector
        failed: dict[str, ItemError] = {}
        existing = c.digital_courses_by_origin()
        topic = c.settings.course_topic_id
        for item in batch:
            known = CourseData.of(existing[item.origin_id]) if item.origin_id in existing else None
            course = CourseData(
                origin_id=item.origin_id,
                title=item.title,
                description=item.description or "",
                url=item.course_url,
                inactive=False,
                topics=(("Learning_Topic_ID", topic),) if topic else known.topics if known else (),
                wid=known.wid if known else None,
            )
            try:
                c.api.call("Learning", "Manage_Learning_Course", course.request())
            except ItemError as error:
                failed[item.origin_id] = error
        by_origin = c.digital_courses_by_origin()
        for item in batch:
            if item.origin_id in failed:
                yield ItemOutcome(item.origin_id, error=failed[item.origin_id])
                continue
            raw = by_origin.get(item.origin_id)
            if raw is None:
                yield ItemOutcome(
                    item.origin_id,
                    error=ItemError(
                        "Workday accepted the course but does not list it.",
                        code=ErrorCode.REMOTE_UNKNOWN_HTTP_ERROR,
                    ),
                )
                continue
            record = mapping.course(raw)
            yield ItemOutcome(item.origin_id, remote_id=record.remote_id, record=record)

"""Course upserts through `Manage_Learning_Course` (a digital course keyed by its
`Learning_Course_ID`, the item's origin id: Workday changes the course that has it, or creates
one), the course link as `External_Content_URL`. The written courses are then read back from
`Get_Learning_Digital_Courses` for their WIDs and versions."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from lmsbridge.connectors.base import CourseUpsert, ItemOutcome
from lmsbridge.connectors.errors import ItemError
from lmsbridge.connectors.workday import mapping
from lmsbridge.connectors.workday.client import escape
from lmsbridge.connectors.writers import CourseWriter
from lmsbridge.errors import ErrorCode

if TYPE_CHECKING:
    from lmsbridge.connectors.workday.connector import WorkdayConnector


def course_request(item: CourseUpsert) -> str:
    return (
        "<bsvc:Business_Process_Parameters><bsvc:Auto_Complete>true</bsvc:Auto_Complete>"
        "</bsvc:Business_Process_Parameters><bsvc:Manage_Learning_Course_Data><bsvc:Learning_Digital_Course_Data>"
        f"<bsvc:Learning_Course_ID>{escape(item.origin_id)}</bsvc:Learning_Course_ID>"
        f"<bsvc:Course_Title>{escape(item.title)}</bsvc:Course_Title>"
        f"<bsvc:Description>{escape(item.description or '')}</bsvc:Description>"
        f"<bsvc:External_Content_URL>{escape(item.course_url)}</bsvc:External_Content_URL>"
        "<bsvc:Inactive>false</bsvc:Inactive>"
        "</bsvc:Learning_Digital_Course_Data></bsvc:Manage_Learning_Course_Data>"
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
        for item in batch:
            try:
                c.api.call("Learning", "Manage_Learning_Course", course_request(item))
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

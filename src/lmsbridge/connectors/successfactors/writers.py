"""Course upserts through the Open Content Network (`POST public/admin/ocn/v1/OcnCourses`,
reference 1.5): one course per post, paced at `ocn_pace_seconds` (SAP accepts one course every
500 seconds). The posts go through the API's OCN client, whose bucket in the context's pacer is
the integration's own OCN key, so the pace holds across tasks, worker processes and restarts
(the store keeps it). A slot further away than the pacer will wait raises `PacingDeferred`: the
task's job goes back to the queue until then, with the items done so far recorded (its
`progress` shows them); what the task's deadline cuts off ends as the task's timeout. The course
id is the item's origin id; OCN courses reach the catalog (searchItem, type OCN) once Learning's
import job has run, and are read back from there."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from lmsbridge.connectors.base import CourseUpsert, ItemOutcome
from lmsbridge.connectors.errors import ItemError
from lmsbridge.connectors.records import CourseRecord, RevisionRecord
from lmsbridge.connectors.successfactors import mapping
from lmsbridge.connectors.writers import CourseWriter
from lmsbridge.errors import ErrorCode

if TYPE_CHECKING:
    from lmsbridge.connectors.successfactors.connector import SuccessFactorsConnector

OCN_TYPE = "OCN"  # the item type Learning's OCN import gives the courses it brings in
LAUNCH_NEW_WINDOW = 3


def ocn_course(
    connector: SuccessFactorsConnector, course_id: str, title: str, **extra: Any
) -> dict[str, Any]:
    s = connector.settings
    return {
        "courseID": course_id,
        "providerID": s.provider_id,
        "status": "ACTIVE",
        "title": [{"locale": s.locale, "value": title}],
        **extra,
    }


def post_ocn(connector: SuccessFactorsConnector, course: dict[str, Any]) -> None:
    connector.api.post_ocn_courses([course])


class SuccessFactorsCourses(CourseWriter[Any]):
    connector: SuccessFactorsConnector
    batch_size: ClassVar[int] = 1

    def invalid(self, item: CourseUpsert) -> str | None:
        if not item.title.strip():
            return "SuccessFactors needs a course title."
        if len(item.origin_id) > 90 or "'" in item.origin_id:
            return "The origin_id becomes the OCN courseID: at most 90 characters, no quotes."
        return None

    def write_batch(self, batch: Sequence[CourseUpsert]) -> Iterator[ItemOutcome]:
        c = self.connector
        s = c.settings
        for item in batch:
            course = ocn_course(
                c,
                item.origin_id,
                item.title,
                description=[{"locale": s.locale, "value": item.description or ""}],
                content=[
                    {
                        "providerID": s.provider_id,
                        "launchURL": item.course_url,
                        "contentTitle": item.title,
                        "contentID": item.origin_id,
                        "launchType": LAUNCH_NEW_WINDOW,
                        "mobileEnabled": True,
                    }
                ],
                **({"thumbnailURI": item.thumbnail_url} if item.thumbnail_url else {}),
            )
            try:
                post_ocn(c, course)
            except ItemError as error:
                yield ItemOutcome(item.origin_id, error=error)
                continue
            record = c.catalog_course(OCN_TYPE, item.origin_id) or pending(item, s.provider_id)
            yield ItemOutcome(item.origin_id, remote_id=record.remote_id, record=record)


def pending(item: CourseUpsert, provider_id: str) -> CourseRecord:
    """An OCN course Learning has not imported yet: what was sent, under the id it will get."""
    key = mapping.course_key(OCN_TYPE, item.origin_id)
    return CourseRecord(
        remote_id=key,
        provider_remote_id=provider_id,
        origin_id=item.origin_id,
        revisions=(
            RevisionRecord(
                remote_id=f"{key}:pending",
                title=item.title,
                description=item.description,
                remote_url=item.course_url,
                status="ACTIVE",
            ),
        ),
    )


def not_found(course_remote_id: str) -> ItemError:
    return ItemError(
        f"SuccessFactors has no catalog item {course_remote_id!r}.", code=ErrorCode.REMOTE_INPUT_INVALID
    )

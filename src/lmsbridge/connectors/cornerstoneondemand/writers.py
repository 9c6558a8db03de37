"""Course upserts through the Learning Object API's Material create (a URL learning object).
Cornerstone cannot update a learning object made this way [reference 2.6], so an origin id
the portal already holds (the LO's `lo_ref`, looked up in `vw_rpt_training`) is answered with
the item error LMS.COURSE_UPDATE_NOT_SUPPORTED and nothing is sent."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from lmsbridge.connectors.base import CourseUpsert, ItemOutcome
from lmsbridge.connectors.cornerstoneondemand import mapping
from lmsbridge.connectors.cornerstoneondemand.client import LO_CREATE, is_guid, odata_guid, odata_text
from lmsbridge.connectors.errors import ItemError
from lmsbridge.connectors.writers import CourseWriter
from lmsbridge.errors import ErrorCode

if TYPE_CHECKING:
    from lmsbridge.connectors.cornerstoneondemand.connector import CornerstoneConnector


class Courses(CourseWriter[Any]):
    connector: CornerstoneConnector
    batch_size: ClassVar[int] = 1  # the create takes one learning object

    def invalid(self, item: CourseUpsert) -> str | None:
        if not item.title.strip():
            return "Cornerstone needs a learning object title."
        if not item.course_url.startswith(("https://", "http://")):
            return "Cornerstone's material needs an http(s) course_url."
        return None

    def write_batch(self, batch: Sequence[CourseUpsert]) -> Iterator[ItemOutcome]:
        api = self.connector.api
        for item in batch:
            existing = api.rows("vw_rpt_training", f"lo_ref eq {odata_text(item.origin_id)}")
            if existing:
                yield ItemOutcome(
                    item.origin_id,
                    error=ItemError(
                        f"Cornerstone learning object {existing[0]['lo_object_id']} already has origin id "
                        f"{item.origin_id!r}, and Cornerstone's API cannot update a learning object.",
                        code=ErrorCode.COURSE_UPDATE_NOT_SUPPORTED,
                    ),
                )
                continue
            body: dict[str, Any] = {
                "title": item.title,
                "url": item.course_url,
                "externalId": item.origin_id,
                "providerName": self.connector.settings.provider_name,
            }
            if item.description:
                body["description"] = item.description
            if item.duration is not None:
                body["duration"] = item.duration
            if item.languages:
                body["languages"] = list(item.languages)
            try:
                created = api.call("POST", LO_CREATE, body) or {}
                lo_id = str((created.get("data") or {}).get("id") or "")
            except ItemError:
                # A create whose answer was lost is refused as a duplicate when retried: find it.
                again = api.rows("vw_rpt_training", f"lo_ref eq {odata_text(item.origin_id)}")
                if not again:
                    raise
                lo_id = str(again[0]["lo_object_id"])
            if not is_guid(lo_id):
                yield ItemOutcome(
                    item.origin_id,
                    error=ItemError(
                        f"Cornerstone answered no learning object id ({lo_id!r}).",
                        code=ErrorCode.REMOTE_UNKNOWN_HTTP_ERROR,
                    ),
                )
                continue
            rows = api.rows("vw_rpt_training", f"lo_object_id eq {odata_guid(lo_id)}")
            record = mapping.course(rows, self.connector.settings.site_url) if rows else None
            yield ItemOutcome(item.origin_id, remote_id=lo_id, record=record)

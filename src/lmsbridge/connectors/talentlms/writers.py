"""Course upserts through v2's batch upsert (`POST /batch/courses`, at most 100 courses, matched
by code): the course code is the item's origin id, so a renamed course is still found, and the
deep link is the description's last line. The batch is answered by a background task, polled
until it ends; the courses are then read back from v1 for their ids and records."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from lmsbridge.connectors.base import CourseUpsert, ItemOutcome
from lmsbridge.connectors.errors import ConnectorError, ItemError
from lmsbridge.connectors.talentlms import mapping
from lmsbridge.connectors.writers import CourseWriter
from lmsbridge.errors import ErrorCode

if TYPE_CHECKING:
    from lmsbridge.connectors.talentlms.connector import TalentLmsConnector

FAILED_TASK = frozenset({"failed", "error", "cancelled"})
DONE_TASK = frozenset({"completed", "finished", "done", "succeeded"}) | FAILED_TASK


class TalentLmsCourses(CourseWriter[Any]):
    connector: TalentLmsConnector
    batch_size: ClassVar[int] = 100

    def batch_size_for(self) -> int:
        return self.connector.settings.write_batch_size

    def invalid(self, item: CourseUpsert) -> str | None:
        if not item.title.strip():
            return "TalentLMS needs a course name."
        if any(ch in item.origin_id for ch in "\r\n"):
            return "The origin_id becomes the TalentLMS course code and may not hold line breaks."
        return None

    def write_batch(self, batch: Sequence[CourseUpsert]) -> Iterator[ItemOutcome]:
        c = self.connector
        body = {
            "courses": [
                {
                    "name": item.title,
                    "code": item.origin_id,
                    "description": mapping.with_link(item.description, item.course_url),
                    "is_active": True,
                }
                for item in batch
            ]
        }
        results = c.run_batch("batch/courses", body)
        by_code = c.courses_by_code()
        for index, item in enumerate(batch):
            result = results.get(index, {})
            if str(result.get("status", "")).lower() in FAILED_TASK:
                message = result.get("message") or "the course was refused"
                yield ItemOutcome(
                    item.origin_id,
                    error=ItemError(f"TalentLMS: {message}", code=ErrorCode.REMOTE_INPUT_INVALID),
                )
                continue
            raw = by_code.get(item.origin_id)
            if raw is None:
                yield ItemOutcome(
                    item.origin_id,
                    error=ItemError(
                        "TalentLMS reported the batch done but has no course with this code.",
                        code=ErrorCode.REMOTE_UNKNOWN_HTTP_ERROR,
                    ),
                )
                continue
            record = mapping.course(raw, c.date_format())
            yield ItemOutcome(item.origin_id, remote_id=record.remote_id, record=record)


def poll_task(connector: TalentLmsConnector, task_id: str) -> dict[str, Any]:
    """`GET /tasks/{id}` until the task ends; its last `_data`."""
    s = connector.settings
    deadline = time.monotonic() + s.task_timeout_seconds
    while True:
        data = (connector.api.v2_get(f"tasks/{task_id}") or {}).get("_data") or {}
        status = str(data.get("status", "")).lower()
        if status in DONE_TASK:
            if status in FAILED_TASK and not data.get("results"):
                raise ConnectorError(
                    f"TalentLMS's background task {task_id} ended as {status!r}.",
                    code=ErrorCode.REMOTE_UNKNOWN_HTTP_ERROR,
                )
            return data
        if time.monotonic() > deadline:
            raise ConnectorError(
                f"TalentLMS's background task {task_id} did not end within {s.task_timeout_seconds:g}s.",
                code=ErrorCode.REMOTE_SERVICE_UNAVAILABLE,
            )
        time.sleep(s.task_poll_seconds)

"""TalentLMS's streams. Users come from v2 (paged, with the `last_updated` change filter: the
only real one TalentLMS offers); courses from v1 (v2's course list has no published shape);
progressions per user and course, as Kombo reads them: each user's courses from v2, then each
pair's status from v1 `getuserstatusincourse` (its shape is known, and it carries the enrolment
moment that v2's course-progress is not documented to have)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from lmsbridge.connectors.base import Coverage, ModelCoverage
from lmsbridge.connectors.errors import ItemError
from lmsbridge.connectors.http.paging import PagingLoopError
from lmsbridge.connectors.records import Record
from lmsbridge.connectors.streams import PartitionedStream, Stream
from lmsbridge.connectors.talentlms import mapping

if TYPE_CHECKING:
    from lmsbridge.connectors.talentlms.connector import TalentLmsConnector


class Users(Stream[Any, dict[str, Any]]):
    connector: TalentLmsConnector
    model: ClassVar[str] = "lms_users"
    supports_since: ClassVar[bool] = True

    def pages(self, since: datetime | None) -> Iterator[Sequence[dict[str, Any]]]:
        yield from v2_user_pages(self.connector, since)

    def to_record(self, raw: dict[str, Any]) -> Record:
        return mapping.user(raw)


class Courses(Stream[Any, dict[str, Any]]):
    connector: TalentLmsConnector
    model: ClassVar[str] = "lms_courses"
    fields: ClassVar[dict[str, Coverage]] = {"provider_id": Coverage.UNSUPPORTED}
    covers: ClassVar[dict[str, ModelCoverage]] = {
        "lms_course_revisions": ModelCoverage(Coverage.SUPPORTED, {"skill_ids": Coverage.UNSUPPORTED})
    }

    def pages(self, since: datetime | None) -> Iterator[Sequence[dict[str, Any]]]:
        rows = self.connector.api.v1_get("courses")
        if rows:
            yield rows

    def to_record(self, raw: dict[str, Any]) -> Record:
        return mapping.course(raw, self.connector.date_format())


class Progressions(PartitionedStream[Any, str, tuple[str, str, dict[str, Any]]]):
    connector: TalentLmsConnector
    model: ClassVar[str] = "lms_course_progressions"

    def partitions(self) -> Iterator[str]:
        for page in v2_user_pages(self.connector, None):
            for raw in page:
                yield str(raw["id"])

    def partition_pages(
        self, user_id: str, since: datetime | None
    ) -> Iterator[Sequence[tuple[str, str, dict[str, Any]]]]:
        api = self.connector.api
        try:
            courses = api.v2_get(f"users/{user_id}/courses")["_data"]["courses"]
        except ItemError:  # the user went away between the list and this call
            return
        rows = []
        for course in courses:
            course_id = str(course["id"])
            try:
                status = api.v1_get("getuserstatusincourse", {"course_id": course_id, "user_id": user_id})
            except ItemError:  # unenrolled meanwhile
                continue
            if str(status.get("role", "learner")).lower() == "learner":  # instructors are no learners
                rows.append((user_id, course_id, status))
        if rows:
            yield rows

    def to_record(self, raw: tuple[str, str, dict[str, Any]]) -> Record:
        return mapping.progression(*raw)


def v2_user_pages(
    connector: TalentLmsConnector, since: datetime | None
) -> Iterator[Sequence[dict[str, Any]]]:
    """Every page of v2 `GET /users`, with `filter[last_updated][gte]` on a delta. Pages are
    numbered, so a remote that answers the same page twice is caught by its rows: a page whose
    every user was already read stops the read with `PagingLoopError`."""
    size = connector.settings.page_size
    params: dict[str, Any] = {"page[size]": size}
    if since is not None:
        params["filter[last_updated][gte]"] = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    seen: set[str] = set()
    number = 1
    while True:
        body = connector.api.v2_get("users", {**params, "page[number]": number})
        rows = body.get("_data") or []
        ids = {str(row["id"]) for row in rows}
        if rows and ids <= seen:
            raise PagingLoopError(f"TalentLMS answered users already read for page {number}; paging stopped.")
        seen |= ids
        if rows:
            yield rows
        pagination = (body.get("_meta") or {}).get("pagination") or {}
        last = int(pagination.get("total_pages") or number)
        if not rows or number >= last:
            return
        number += 1

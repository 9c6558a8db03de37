"""Moodle's course writer: each item matched to a course by origin_id (the course ID number),
updated if found, created otherwise; the index is read once before the first batch."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from lmsbridge.connectors.base import CourseUpsert, ItemOutcome
from lmsbridge.connectors.writers import CourseWriter

if TYPE_CHECKING:
    from lmsbridge.connectors.moodle.connector import MoodleConnector


class MoodleCourses(CourseWriter[Any]):
    connector: MoodleConnector

    def batch_size_for(self) -> int:
        return self.connector.settings.write_batch_size

    def invalid(self, item: CourseUpsert) -> str | None:
        return self.connector._invalid(item)

    def prepare(self, items: Sequence[CourseUpsert]) -> None:
        self.index = self.connector._courses_by_idnumber(self.connector.moodle)

    def write_batch(self, batch: Sequence[CourseUpsert]) -> Iterator[ItemOutcome]:
        return self.connector._upsert_chunk(self.connector.moodle, batch, self.index)

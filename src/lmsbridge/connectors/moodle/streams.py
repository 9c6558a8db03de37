"""Moodle's streams. Moodle has no change filter (every read is full) and pages only some of its
functions, so each stream drives the connector's own reading of that model (`MoodleConnector`
`_read_*`), which maps as it reads: its rows are already unified records."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from lmsbridge.connectors.base import Coverage, ModelCoverage
from lmsbridge.connectors.records import Record
from lmsbridge.connectors.streams import Stream

if TYPE_CHECKING:
    from lmsbridge.connectors.moodle.connector import MoodleConnector

S, U = Coverage.SUPPORTED, Coverage.UNSUPPORTED


class MoodleStream(Stream[Any, Record]):
    connector: MoodleConnector

    def to_record(self, raw: Record) -> Record:
        return raw


class Users(MoodleStream):
    model: ClassVar[str] = "lms_users"
    fields: ClassVar[dict[str, Coverage]] = {
        "first_name": S,
        "last_name": S,
        "work_email": S,
        "status": S,
        "remote_created_at": U,
    }

    def pages(self, since: datetime | None) -> Iterator[Sequence[Record]]:
        return self.connector._read_users()


class Courses(MoodleStream):
    model: ClassVar[str] = "lms_courses"
    fields: ClassVar[dict[str, Coverage]] = {"provider_id": U, "origin_id": S, "remote_created_at": S}
    covers: ClassVar[dict[str, ModelCoverage]] = {
        "lms_course_revisions": ModelCoverage(
            S, {"title": S, "description": S, "remote_url": S, "status": S, "remote_created_at": S}
        ),
        "lms_skill_assignments": ModelCoverage(S),
    }

    def pages(self, since: datetime | None) -> Iterator[Sequence[Record]]:
        return self.connector._read_courses()


class Progressions(MoodleStream):
    model: ClassVar[str] = "lms_course_progressions"
    fields: ClassVar[dict[str, Coverage]] = {
        "user_id": S,
        "course_id": S,
        "course_revision_id": S,
        "status": S,
        "enrolled_at": U,
        "completed_at": S,
    }

    def pages(self, since: datetime | None) -> Iterator[Sequence[Record]]:
        return self.connector._read_progressions()


class Skills(MoodleStream):
    model: ClassVar[str] = "lms_skills"
    fields: ClassVar[dict[str, Coverage]] = {"name": S, "remote_created_at": S}

    def pages(self, since: datetime | None) -> Iterator[Sequence[Record]]:
        return self.connector._read_skills()

"""360Learning's streams. Users have no change filter (360Learning gives them no modification
date), so every sync reads them whole; courses filter on `modifiedAt[gte]`, skills on
`updatedAt[gte]` and course attempts on `completedAt[gte]` (a delta sees new completions, not
progress on attempts still open)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from lmsbridge.connectors.base import Coverage, ModelCoverage
from lmsbridge.connectors.records import Record
from lmsbridge.connectors.streams import Stream
from lmsbridge.connectors.threesixtylearning import mapping
from lmsbridge.connectors.threesixtylearning.client import iso

if TYPE_CHECKING:
    from lmsbridge.connectors.threesixtylearning.connector import ThreeSixtyLearningConnector

U = Coverage.UNSUPPORTED


class Users(Stream[Any, dict[str, Any]]):
    connector: ThreeSixtyLearningConnector
    model: ClassVar[str] = "lms_users"
    fields: ClassVar[dict[str, Coverage]] = {"remote_created_at": U}

    def pages(self, since: datetime | None) -> Iterator[Sequence[dict[str, Any]]]:
        yield from self.connector.api.pages("/api/v2/users")

    def to_record(self, raw: dict[str, Any]) -> Record:
        return mapping.user(raw)


class Providers(Stream[Any, dict[str, Any]]):
    connector: ThreeSixtyLearningConnector
    model: ClassVar[str] = "lms_course_providers"
    fields: ClassVar[dict[str, Coverage]] = {"remote_created_at": U}

    def pages(self, since: datetime | None) -> Iterator[Sequence[dict[str, Any]]]:
        yield from self.connector.api.pages("/api/v2/integrations")

    def to_record(self, raw: dict[str, Any]) -> Record:
        return mapping.provider(raw)


class Courses(Stream[Any, dict[str, Any]]):
    connector: ThreeSixtyLearningConnector
    model: ClassVar[str] = "lms_courses"
    supports_since: ClassVar[bool] = True
    covers: ClassVar[dict[str, ModelCoverage]] = {
        "lms_course_revisions": ModelCoverage(Coverage.SUPPORTED, {"remote_url": U, "skill_ids": U})
    }

    def pages(self, since: datetime | None) -> Iterator[Sequence[dict[str, Any]]]:
        params = {"modifiedAt[gte]": iso(since)} if since is not None else None
        yield from self.connector.api.pages("/api/v2/courses", params)

    def to_record(self, raw: dict[str, Any]) -> Record:
        return mapping.course(raw, self.connector.providers_by_platform())


class Progressions(Stream[Any, dict[str, Any]]):
    connector: ThreeSixtyLearningConnector
    model: ClassVar[str] = "lms_course_progressions"
    supports_since: ClassVar[bool] = True

    def pages(self, since: datetime | None) -> Iterator[Sequence[dict[str, Any]]]:
        params = {"completedAt[gte]": iso(since)} if since is not None else None
        yield from self.connector.api.pages("/api/v2/courses/stats", params)

    def to_record(self, raw: dict[str, Any]) -> Record:
        return mapping.progression(raw)


class Skills(Stream[Any, dict[str, Any]]):
    connector: ThreeSixtyLearningConnector
    model: ClassVar[str] = "lms_skills"
    supports_since: ClassVar[bool] = True

    def pages(self, since: datetime | None) -> Iterator[Sequence[dict[str, Any]]]:
        params = {"updatedAt[gte]": iso(since)} if since is not None else None
        yield from self.connector.api.pages("/api/v2/skills", params)

    def to_record(self, raw: dict[str, Any]) -> Record:
        return mapping.skill(raw)


class HrisSkills(Skills):
    model: ClassVar[str] = "hris_skills"
    fields: ClassVar[dict[str, Coverage]] = {"ordered_levels": U}

    def to_record(self, raw: dict[str, Any]) -> Record:
        return mapping.hris_skill(raw)

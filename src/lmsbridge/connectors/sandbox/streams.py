"""The Sandbox's streams: every model is read page by page from its state, honouring `since`
(the state stamps each change). Courses and HRIS skills written through the API follow the
generated ones."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from lmsbridge.connectors.base import Coverage, ModelCoverage
from lmsbridge.connectors.errors import ConnectorError
from lmsbridge.connectors.records import Record
from lmsbridge.connectors.sandbox import mapping
from lmsbridge.connectors.streams import Stream
from lmsbridge.errors import ErrorCode

if TYPE_CHECKING:
    from lmsbridge.connectors.sandbox.connector import SandboxConnector

Row = tuple[str, dict[str, Any]]
WRITTEN_PAGE = 1000


class SandboxStream(Stream[Any, Any]):
    connector: SandboxConnector
    supports_since: ClassVar[bool] = True
    written_table: ClassVar[str | None] = None

    def pages(self, since: datetime | None) -> Iterator[Sequence[Any]]:
        c = self.connector
        c.state.ensure_generated(c.integration_id, c.size())
        for number, page in enumerate(
            c.state.pages(c.integration_id, self.model, since, c.settings.page_size)
        ):
            if number and self.model in c.settings.fail_read_models:
                raise ConnectorError(
                    f"The Sandbox failed while reading {self.model} (setting fail_read_models).",
                    code=ErrorCode.REMOTE_SERVICE_UNAVAILABLE,
                )
            yield page
        if self.written_table is not None:
            rows = c.state.written(self.written_table, c.integration_id, since)
            for start in range(0, len(rows), WRITTEN_PAGE):
                yield rows[start : start + WRITTEN_PAGE]


class Users(SandboxStream):
    model: ClassVar[str] = "lms_users"

    def to_record(self, raw: Row) -> Record:
        return mapping.user(*raw)


class Providers(SandboxStream):
    model: ClassVar[str] = "lms_course_providers"

    def to_record(self, raw: Row) -> Record:
        return mapping.provider(*raw)


class Skills(SandboxStream):
    model: ClassVar[str] = "lms_skills"
    covers: ClassVar[dict[str, ModelCoverage]] = {"lms_skill_assignments": ModelCoverage(Coverage.SUPPORTED)}

    def to_record(self, raw: Row) -> Record:
        return mapping.skill(*raw)


class Courses(SandboxStream):
    model: ClassVar[str] = "lms_courses"
    written_table: ClassVar[str | None] = "courses"
    covers: ClassVar[dict[str, ModelCoverage]] = {"lms_course_revisions": ModelCoverage(Coverage.SUPPORTED)}

    def to_record(self, raw: Any) -> Record:
        if isinstance(raw, tuple):
            return mapping.generated_course(*raw)
        return mapping.written_course(raw.remote_id, raw.origin_id, raw.data, raw.active, raw.created_at)


class Progressions(SandboxStream):
    model: ClassVar[str] = "lms_course_progressions"

    def to_record(self, raw: Row) -> Record:
        return mapping.progression(*raw)


class HrisSkills(SandboxStream):
    model: ClassVar[str] = "hris_skills"
    written_table: ClassVar[str | None] = "skills"

    def to_record(self, raw: Any) -> Record:
        if isinstance(raw, tuple):
            return mapping.hris_skill(*raw)
        return mapping.written_hris_skill(raw.remote_id, raw.data)

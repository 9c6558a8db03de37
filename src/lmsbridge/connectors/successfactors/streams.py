"""SuccessFactors Learning's streams. No service offers a changed-since criterion (reference
1.4), so every read is full. Progressions are read per learner (the to-do and history services
take one `criteria/targetUserID` each): a history row wins over a to-do row for the same item."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from lmsbridge.connectors.base import Coverage, ModelCoverage
from lmsbridge.connectors.records import Record
from lmsbridge.connectors.streams import Stream
from lmsbridge.connectors.successfactors import mapping

if TYPE_CHECKING:
    from lmsbridge.connectors.successfactors.connector import SuccessFactorsConnector

U = Coverage.UNSUPPORTED
STUDENTS = "searchStudent/v1/Students"
ITEMS = "public/admin/searchItem/v1/Items"
TODO = "public/user/learningplan-service/v1/UserTodoLearningItems"
HISTORY = "public/user/userlearning-service/v1/learninghistorys"


def quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class Users(Stream[Any, dict[str, Any]]):
    connector: SuccessFactorsConnector
    model: ClassVar[str] = "lms_users"

    def pages(self, since: datetime | None) -> Iterator[Sequence[dict[str, Any]]]:
        yield from self.connector.api.pages(STUDENTS)

    def to_record(self, raw: dict[str, Any]) -> Record | None:
        return mapping.user(raw)


class Courses(Stream[Any, dict[str, Any]]):
    connector: SuccessFactorsConnector
    model: ClassVar[str] = "lms_courses"
    covers: ClassVar[dict[str, ModelCoverage]] = {"lms_course_revisions": ModelCoverage(Coverage.SUPPORTED)}

    def pages(self, since: datetime | None) -> Iterator[Sequence[dict[str, Any]]]:
        yield from self.connector.api.pages(ITEMS)

    def to_record(self, raw: dict[str, Any]) -> Record:
        return mapping.course(raw, self.connector.settings.learning_url)


class Providers(Stream[Any, dict[str, Any]]):
    connector: SuccessFactorsConnector
    model: ClassVar[str] = "lms_course_providers"
    fields: ClassVar[dict[str, Coverage]] = {"remote_created_at": U}

    def pages(self, since: datetime | None) -> Iterator[Sequence[dict[str, Any]]]:
        seen: set[str] = set()
        for page in self.connector.api.pages(ITEMS):
            fresh = []
            for row in page:
                name = str(row.get("Provider") or "")
                if name and name not in seen:
                    seen.add(name)
                    fresh.append(row)
            yield fresh

    def to_record(self, raw: dict[str, Any]) -> Record | None:
        return mapping.provider(raw)


class Progressions(Stream[Any, tuple[str, str, dict[str, Any]]]):
    connector: SuccessFactorsConnector
    model: ClassVar[str] = "lms_course_progressions"

    def pages(self, since: datetime | None) -> Iterator[Sequence[tuple[str, str, dict[str, Any]]]]:
        api = self.connector.api
        for students in api.pages(STUDENTS, {"$select": "studentID"}):
            for student in students:
                user_id = str(student.get("studentID") or "")
                if not user_id:
                    continue
                target = {"$filter": f"criteria/targetUserID eq {quoted(user_id)}"}
                done = [row for page in api.pages(HISTORY, target) for row in page]
                finished = {(r.get("componentTypeID"), r.get("componentID")) for r in done}
                todo = [
                    row
                    for page in api.pages(TODO, target)
                    for row in page
                    if (row.get("componentTypeID"), row.get("componentID")) not in finished
                ]
                rows = [(user_id, "todo", r) for r in todo] + [(user_id, "history", r) for r in done]
                if rows:
                    yield rows

    def to_record(self, raw: tuple[str, str, dict[str, Any]]) -> Record | None:
        user_id, kind, row = raw
        if kind == "todo":
            return mapping.enrolled(user_id, row)
        return mapping.history(user_id, row, self.connector.settings.completed_status_ids)

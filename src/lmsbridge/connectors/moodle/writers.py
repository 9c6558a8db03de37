"""Moodle's course writer: each item matched to a course by origin_id (the course ID number),
updated if found, created otherwise; the index is read once before the first batch. The base
runs the loop (and its "remote became unavailable" rule); this says how one batch is written."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from lmsbridge.connectors.base import CourseUpsert, ItemOutcome
from lmsbridge.connectors.errors import ConnectorError, IntegrationError, ItemError
from lmsbridge.connectors.moodle import functions as fn
from lmsbridge.connectors.moodle.client import MoodleCallError, MoodleClient, MoodleFault, classify
from lmsbridge.connectors.moodle.mapping import course_record, course_summary
from lmsbridge.connectors.records import CourseRecord
from lmsbridge.connectors.writers import CourseWriter
from lmsbridge.errors import ErrorCode

if TYPE_CHECKING:
    from lmsbridge.connectors.moodle.connector import MoodleConnector

IDNUMBER_MAX = 100  # course.idnumber is varchar(100) in Moodle's schema
FULLNAME_MAX = 254  # course.fullname is varchar(254)
# What Moodle's PARAM_TEXT refuses in a title (it would strip a tag): "<" opening a tag, a
# closing tag, a comment or a declaration. Moodle then answers only "Invalid parameter value".
_MARKUP = re.compile(r"<[A-Za-z/!?]")


def item_error(error: Any) -> ItemError:
    return error if isinstance(error, ItemError) else ItemError(error.message, code=ErrorCode(error.code))


def warning_error(function: str, warning: dict[str, Any]) -> ItemError:
    fault = MoodleFault(
        function, "moodle_exception", str(warning.get("warningcode")), str(warning.get("message"))
    )
    return item_error(classify(fault))


class MoodleCourses(CourseWriter[Any]):
    connector: MoodleConnector

    def batch_size_for(self) -> int:
        return self.connector.settings.write_batch_size

    def invalid(self, item: CourseUpsert) -> str | None:
        return self._invalid(item)

    def prepare(self, items: Sequence[CourseUpsert]) -> None:
        self.index = self._courses_by_idnumber(self.connector.moodle)

    def write_batch(self, batch: Sequence[CourseUpsert]) -> Iterator[ItemOutcome]:
        return self._upsert_chunk(self.connector.moodle, batch, self.index)

    @staticmethod
    def _invalid(item: CourseUpsert) -> str | None:
        if len(item.origin_id) > IDNUMBER_MAX:
            return (
                f"Moodle keeps the origin_id in the course ID number, which holds at most {IDNUMBER_MAX} "
                f"characters; this one has {len(item.origin_id)}."
            )
        if not item.title.strip():
            return "Moodle needs a course title."
        if len(item.title) > FULLNAME_MAX:
            return f"A Moodle course name holds at most {FULLNAME_MAX} characters, not {len(item.title)}."
        if _MARKUP.search(item.title):
            return (
                "Moodle course titles are plain text: remove the markup (a '<' followed by a letter, '/', "
                "'!' or '?') from the title."
            )
        return None

    def _courses_by_idnumber(self, moodle: MoodleClient) -> dict[str, int]:
        return {
            str(c["idnumber"]): int(c["id"]) for c in self.connector._courses(moodle) if c.get("idnumber")
        }

    def _upsert_chunk(
        self, moodle: MoodleClient, chunk: Sequence[CourseUpsert], index: dict[str, int]
    ) -> Iterator[ItemOutcome]:
        """Writes one chunk, then reads its courses back as a sync would. Raises ConnectorError
        (not an item's error) when Moodle cannot be reached."""
        written: dict[str, tuple[int, bool]] = {}  # origin_id -> (course id, created)
        failed: dict[str, ItemError] = {}
        updates = [(item, index[item.origin_id]) for item in chunk if item.origin_id in index]
        for (item, course_id), error in self._update(moodle, updates):
            if error is None:
                written[item.origin_id] = (course_id, False)
            else:
                failed[item.origin_id] = error
        creates = [item for item in chunk if item.origin_id not in index]
        try:
            for item, outcome in self._create(moodle, creates, index):
                if isinstance(outcome, ItemError):
                    failed[item.origin_id] = outcome
                else:
                    written[item.origin_id] = outcome
        except (IntegrationError, ItemError):
            raise
        except ConnectorError as error:
            # The answer was lost, but Moodle may have created the courses: look for them by ID
            # number (once Moodle answers again) rather than report courses that exist as failed.
            found = self._courses_by_idnumber(moodle)
            if not any(item.origin_id in found for item in creates):
                raise
            for item in creates:
                if item.origin_id in written or item.origin_id in failed:
                    continue
                if item.origin_id in found:
                    index[item.origin_id] = found[item.origin_id]
                    written[item.origin_id] = (found[item.origin_id], True)
                else:
                    failed[item.origin_id] = item_error(error)
        records = self._read_back(moodle, written)
        for item in chunk:
            if item.origin_id in failed:
                yield ItemOutcome(item.origin_id, error=failed[item.origin_id])
            else:
                course_id = written[item.origin_id][0]
                yield ItemOutcome(item.origin_id, remote_id=str(course_id), record=records.get(course_id))

    @staticmethod
    def _fields(item: CourseUpsert) -> dict[str, Any]:
        return {
            "fullname": item.title,
            "summary": course_summary(item.description, item.course_url),
            "summaryformat": 1,  # HTML
            "visible": 1,
        }

    def _update(
        self, moodle: MoodleClient, updates: Sequence[tuple[CourseUpsert, int]]
    ) -> Iterator[tuple[tuple[CourseUpsert, int], ItemError | None]]:
        """core_course_update_courses answers per-course failures as warnings; a refusal of the
        whole call (an invalid parameter) is retried course by course to find the culprit."""
        if not updates:
            return
        try:
            body = moodle.call(
                fn.UPDATE_COURSES, {"courses": [{"id": cid, **self._fields(item)} for item, cid in updates]}
            )
        except MoodleCallError as error:
            if len(updates) == 1:
                yield updates[0], error
                return
            for pair in updates:
                yield from self._update(moodle, [pair])
            return
        warned = {int(w["itemid"]): w for w in body.get("warnings", []) if w.get("itemid") is not None}
        for pair in updates:
            warning = warned.get(pair[1])
            yield pair, (warning_error(fn.UPDATE_COURSES, warning) if warning else None)

    def _create(
        self, moodle: MoodleClient, items: Sequence[CourseUpsert], index: dict[str, int]
    ) -> Iterator[tuple[CourseUpsert, tuple[int, bool] | ItemError]]:
        """core_course_create_courses runs in one transaction, so one refused course refuses them
        all: then each is created alone, to fail only the culprit."""
        if not items:
            return
        s = self.connector.settings
        courses = [
            {
                **self._fields(item),
                "shortname": item.origin_id,
                "categoryid": s.category_id,
                "idnumber": item.origin_id,
            }
            for item in items
        ]
        try:
            created = moodle.call(fn.CREATE_COURSES, {"courses": courses})
        except MoodleCallError as error:
            if len(items) > 1:
                for item in items:
                    yield from self._create(moodle, [item], index)
                return
            yield items[0], self._created_meanwhile(moodle, items[0], error, index)
            return
        for item, course in zip(items, created, strict=True):
            index[item.origin_id] = int(course["id"])
            yield item, (int(course["id"]), True)

    def _created_meanwhile(
        self, moodle: MoodleClient, item: CourseUpsert, error: MoodleCallError, index: dict[str, int]
    ) -> tuple[int, bool] | ItemError:
        """A course with this ID number may have appeared since the index was read (another task,
        or an earlier attempt whose answer was lost; Moodle checks the short name, which is the
        origin_id too, first): then it is updated instead of failing or being duplicated."""
        if error.fault.errorcode not in ("courseidnumbertaken", "shortnametaken"):
            return error
        index.update(self._courses_by_idnumber(moodle))
        course_id = index.get(item.origin_id)
        if course_id is None:
            if error.fault.errorcode == "shortnametaken":
                return ItemError(
                    f"Another Moodle course already uses the short name {item.origin_id!r} (lmsbridge "
                    "gives the courses it creates their origin_id as short name).",
                    code=ErrorCode.REMOTE_INPUT_INVALID,
                )
            return error
        for _, failure in self._update(moodle, [(item, course_id)]):
            if failure is not None:
                return failure
        return course_id, False

    def _read_back(
        self, moodle: MoodleClient, written: dict[str, tuple[int, bool]]
    ) -> dict[int, CourseRecord]:
        """The written courses as a sync reads them; if Moodle fails now, the writes still stand
        and the next sync brings the records."""
        if not written:
            return {}
        try:
            courses = self.connector._courses(moodle, [cid for cid, _ in written.values()])
            created = {cid for cid, new in written.values() if new}
            return {
                int(c["id"]): (
                    course_record(c, self.connector.settings.site_url, ())
                    if int(c["id"]) in created
                    else self.connector._course_record(moodle, c)
                )
                for c in courses
            }
        except (IntegrationError, ItemError):
            return {}
        except ConnectorError:
            return {}  # the site went away after the writes: they stand, the next sync reads them

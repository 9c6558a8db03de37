"""How the Moodle connector reads each model (its streams drive these) and the lookups its
writes and actions share: courses without the front page, a course's competencies, who is
enrolled and how each enrolment stands."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, TypeVar

from lmsbridge.connectors.moodle import functions as fn
from lmsbridge.connectors.moodle.client import MoodleCallError, MoodleClient
from lmsbridge.connectors.moodle.mapping import (
    completion_time,
    course_record,
    progression_record,
    skill_record,
    user_record,
)
from lmsbridge.connectors.moodle.settings import MoodleSettings
from lmsbridge.connectors.records import CourseRecord, ProgressionRecord, Record

_T = TypeVar("_T")

NAMES_CAPABILITY = "moodle/site:viewfullnames"
NAMES_MISSING = (
    "Moodle returned the users without first and last names: give the lmsbridge user's role the "
    f"capability {NAMES_CAPABILITY} (Moodle 4.4 and earlier return names only with it; later versions "
    "also follow the site's full name format)."
)


def _chunks(items: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class MoodleReading:
    """Mixed into `MoodleConnector`, which provides what is declared here."""

    settings: MoodleSettings
    sync_warnings: list[str]
    _competencies_off: bool

    @property
    def _site_id(self) -> int:
        raise NotImplementedError

    def _session(self, needs: Iterable[str], *, fatal: bool = False) -> AbstractContextManager[MoodleClient]:
        raise NotImplementedError

    def _read_users(self) -> Iterator[Sequence[Record]]:
        with self._session(fn.READS) as moodle:
            body = moodle.call(fn.GET_USERS, {"criteria": [{"key": "email", "value": "%"}]})
            # The guest account is Moodle's stand-in for anonymous visitors, not a person.
            people = [u for u in body["users"] if u.get("username") != "guest"]
            users = [user_record(u) for u in people]
        if people and all("firstname" not in u for u in people) and NAMES_MISSING not in self.sync_warnings:
            self.sync_warnings.append(NAMES_MISSING)
        yield from _chunks(users, self.settings.page_size)

    def _courses(self, moodle: MoodleClient, ids: Sequence[int] = ()) -> list[dict[str, Any]]:
        """Courses (all, or these), without the site's front page."""
        params = {"options": {"ids": list(ids)}} if ids else {}
        courses = moodle.call(fn.GET_COURSES, params, raw=True)
        return [c for c in courses if c["id"] != self._site_id and c.get("format") != "site"]

    def _course_skills(self, moodle: MoodleClient, course_id: int) -> tuple[str, ...]:
        if self._competencies_off:
            return ()
        try:
            links = moodle.call(fn.LIST_COURSE_COMPETENCIES, {"id": course_id})
        except MoodleCallError as error:
            if error.fault.errorcode == "competenciesarenotenabled":
                self._competencies_off = True
                return ()
            if error.fault.errorcode == "invalidrecord":  # deleted while we read
                return ()
            raise
        return tuple(str(link["competency"]["id"]) for link in links)

    def _course_record(self, moodle: MoodleClient, course: dict[str, Any]) -> CourseRecord:
        return course_record(course, self.settings.site_url, self._course_skills(moodle, int(course["id"])))

    def _read_courses(self) -> Iterator[Sequence[Record]]:
        with self._session(fn.READS) as moodle:
            for chunk in _chunks(self._courses(moodle), self.settings.page_size):
                yield [self._course_record(moodle, course) for course in chunk]

    def _enrolled_user_ids(self, moodle: MoodleClient, course_id: int) -> list[int]:
        """Everyone enrolled, whatever the enrolment's state, page by page."""
        return list(self._enrolled(moodle, course_id, [{"name": "userfields", "value": "id,fullname"}]))

    def _active_in_hidden(self, moodle: MoodleClient, course_id: int) -> dict[int, int]:
        """The active enrolments of a hidden course, with each learner's last access to it."""
        options: list[dict[str, Any]] = [
            {"name": "onlyactive", "value": 1},
            {"name": "userfields", "value": "id,lastcourseaccess"},
        ]
        return self._enrolled(moodle, course_id, options)

    def _enrolled(
        self, moodle: MoodleClient, course_id: int, options: list[dict[str, Any]]
    ) -> dict[int, int]:
        """User id -> last access to the course, page by page."""
        size, start = self.settings.page_size, 0
        found: dict[int, int] = {}
        while True:
            paged = [
                *options,
                {"name": "limitfrom", "value": start},
                {"name": "limitnumber", "value": size},
            ]
            try:
                users = moodle.call(fn.GET_ENROLLED_USERS, {"courseid": course_id, "options": paged})
            except MoodleCallError as error:
                if error.fault.errorcode == "invalidrecord":  # the course was deleted while we read
                    return found
                raise
            found.update((int(u["id"]), int(u.get("lastcourseaccess") or 0)) for u in users)
            if len(users) < size:
                return found
            start += size

    def _hidden_standing(
        self, moodle: MoodleClient, user_id: int, course_id: int, last_access: int
    ) -> dict[str, Any]:
        """A learner's standing in a hidden course, which core_enrol_get_users_courses leaves out
        for learners: completion from the completion status, progress from the activities, as
        Moodle computes it for a visible course (so hiding a course rewrites no progression)."""
        completed = False
        try:
            status = moodle.call(fn.GET_COURSE_COMPLETION_STATUS, {"courseid": course_id, "userid": user_id})
            completed = bool(status["completionstatus"]["completed"])
        except MoodleCallError:
            pass  # no criteria, not tracked, or not viewable: not completed as far as Moodle says
        progress: float | int | None = None
        try:
            body = moodle.call(fn.GET_ACTIVITIES_COMPLETION, {"courseid": course_id, "userid": user_id})
            tracked = [s for s in body["statuses"] if s.get("tracking")]
            if tracked:
                done = sum(1 for s in tracked if s.get("state") in (1, 2))
                percent = 100.0 * done / len(tracked)
                progress = int(percent) if percent.is_integer() else percent
        except MoodleCallError:
            pass
        return {"completed": completed, "progress": progress, "lastaccess": last_access or None}

    def _standing(
        self, moodle: MoodleClient, user_id: int, course_id: int, active: dict[int, dict[str, Any]]
    ) -> dict[str, Any] | None:
        """For a direct action: the user's active enrolment, looked for in the course itself
        when the course is hidden (then absent from the user's courses)."""
        if course_id in active:
            return active[course_id]
        found = self._courses(moodle, [course_id])
        if not found or found[0].get("visible", 1):
            return None
        enrolled = self._active_in_hidden(moodle, course_id)
        if user_id not in enrolled:
            return None
        return self._hidden_standing(moodle, user_id, course_id, enrolled[user_id])

    def _active_courses(self, moodle: MoodleClient, user_id: int) -> dict[int, dict[str, Any]]:
        """The user's active enrolments, with Moodle's completion state of each."""
        entries = moodle.call(fn.GET_USERS_COURSES, {"userid": user_id, "returnusercount": False})
        return {int(e["id"]): e for e in entries}

    def _completed_at(self, moodle: MoodleClient, course_id: int, user_id: int) -> datetime | None:
        try:
            status = moodle.call(fn.GET_COURSE_COMPLETION_STATUS, {"courseid": course_id, "userid": user_id})
        except MoodleCallError:
            return None  # no criteria, not tracked, or not viewable: Moodle gives no time
        return completion_time(status)

    def _progression(
        self,
        moodle: MoodleClient,
        user_id: int,
        course_id: int,
        active: dict[int, dict[str, Any]],
        entry: dict[str, Any] | None = None,
    ) -> ProgressionRecord:
        entry = entry if entry is not None else active.get(course_id)
        completed = (
            self._completed_at(moodle, course_id, user_id) if entry and entry.get("completed") else None
        )
        return progression_record(user_id, course_id, entry, completed)

    def _read_progressions(self) -> Iterator[Sequence[Record]]:
        with self._session(fn.READS) as moodle:
            enrolled: dict[int, list[int]] = defaultdict(list)
            hidden: dict[int, dict[int, int]] = {}  # hidden course -> its active learners
            for course in self._courses(moodle):
                course_id = int(course["id"])
                for user_id in self._enrolled_user_ids(moodle, course_id):
                    enrolled[user_id].append(course_id)
                if not course.get("visible", 1):
                    hidden[course_id] = self._active_in_hidden(moodle, course_id)
            page: list[Record] = []
            for user_id in sorted(enrolled):
                active = self._active_courses(moodle, user_id)
                for cid in sorted(enrolled[user_id]):
                    entry = None
                    if cid not in active and user_id in hidden.get(cid, {}):
                        entry = self._hidden_standing(moodle, user_id, cid, hidden[cid][user_id])
                    page.append(self._progression(moodle, user_id, cid, active, entry))
                if len(page) >= self.settings.page_size:
                    yield page
                    page = []
            if page:
                yield page

    def _paged(self, moodle: MoodleClient, function: str, params: dict[str, Any]) -> Iterator[list[Any]]:
        size, skip = self.settings.page_size, 0
        while True:
            rows = moodle.call(function, {**params, "skip": skip, "limit": size})
            if rows:
                yield rows
            if len(rows) < size:
                return
            skip += size

    def _read_skills(self) -> Iterator[Sequence[Record]]:
        with self._session(fn.READS) as moodle:
            system = {"contextlevel": "system", "instanceid": 0}
            try:
                frameworks = [
                    f
                    for page in self._paged(moodle, fn.LIST_FRAMEWORKS, {"sort": "id", "context": system})
                    for f in page
                ]
            except MoodleCallError as error:
                if error.fault.errorcode == "competenciesarenotenabled":
                    return  # with competencies off, the site offers no skills
                raise
            for framework in frameworks:
                params = {
                    "filters": [{"column": "competencyframeworkid", "value": framework["id"]}],
                    "sort": "id",
                }
                for rows in self._paged(moodle, fn.LIST_COMPETENCIES, params):
                    yield [skill_record(competency, framework) for competency in rows]

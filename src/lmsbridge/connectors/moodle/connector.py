"""The Moodle connector: reads users, courses, course progressions and skills (competencies)
through Moodle's core web service functions, and writes external courses, enrolments,
completions and course visibility. Every call goes through `MoodleClient`; nothing here knows
the store or the API."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from lmsbridge.connectors.base import (
    Capabilities,
    ConnectorContext,
    ConnectorSettings,
    CourseUpsert,
    Coverage,
    ItemOutcome,
    ModelCoverage,
    SkillUpsert,
    WriteAction,
)
from lmsbridge.connectors.errors import (
    AuthenticationInvalidError,
    ConnectorError,
    IntegrationError,
    ItemError,
    PermissionMissingError,
)
from lmsbridge.connectors.http import RetryPolicy
from lmsbridge.connectors.moodle import functions as fn
from lmsbridge.connectors.moodle.client import (
    EXTERNAL_SERVICES_PAGE,
    AccessRefusedError,
    MoodleCallError,
    MoodleClient,
    MoodleFault,
    UnexpectedAnswerError,
    classify,
)
from lmsbridge.connectors.moodle.mapping import (
    completion_time,
    course_record,
    course_summary,
    progression_record,
    skill_record,
    user_record,
)
from lmsbridge.connectors.pacing import Pace
from lmsbridge.connectors.records import CourseRecord, ProgressionRecord, Record
from lmsbridge.errors import ErrorCode

_T = TypeVar("_T")

S, U, N = Coverage.SUPPORTED, Coverage.UNSUPPORTED, Coverage.NOT_IMPLEMENTED

IDNUMBER_MAX = 100  # course.idnumber is varchar(100) in Moodle's schema
FULLNAME_MAX = 254  # course.fullname is varchar(254)
# What Moodle's PARAM_TEXT refuses in a title (it would strip a tag): "<" opening a tag, a
# closing tag, a comment or a declaration. Moodle then answers only "Invalid parameter value".
_MARKUP = re.compile(r"<[A-Za-z/!?]")
NAMES_CAPABILITY = "moodle/site:viewfullnames"
DETAILS_CAPABILITY = "moodle/user:viewdetails"
NAMES_MISSING = (
    "Moodle returned the users without first and last names: give the lmsbridge user's role the "
    f"capability {NAMES_CAPABILITY} (Moodle 4.4 and earlier return names only with it; later versions "
    "also follow the site's full name format)."
)


class MoodleSettings(ConnectorSettings):
    site_url: str = Field(
        description="The Moodle site's address (its wwwroot), e.g. https://lms.example.com."
    )
    category_id: int = Field(1, ge=1, description="The course category where upserted courses are created.")
    student_role_id: int = Field(
        5,
        ge=1,
        description="The role given to users enrolled through lmsbridge (5 is Student on a standard site).",
    )
    page_size: int = Field(
        200, ge=1, le=5000, description="Records per call where Moodle pages (enrolled users, competencies)."
    )
    write_batch_size: int = Field(50, ge=1, le=500, description="Courses per create or update call.")
    timeout_seconds: float = Field(30.0, gt=0, le=600, description="Seconds to wait for one answer.")
    max_attempts: int = Field(4, ge=1, le=10, description="Attempts per call on timeouts, 429 and 5xx.")
    retry_base_delay_seconds: float = Field(
        1.0, ge=0, le=60, description="First retry delay; each next one doubles, with jitter."
    )
    rate_limit_per_second: float | None = Field(
        None,
        gt=0,
        le=10_000,
        description="Calls per second the site accepts from lmsbridge, all workers together. Core "
        "Moodle declares no limit (a web server or WAF in front may): unset, calls are paced only "
        "by the 429s the site answers.",
    )
    rate_limit_burst: float = Field(1.0, ge=1, le=10_000, description="Calls that may go at once.")

    @field_validator("site_url")
    @classmethod
    def _site_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError("must be the site's http(s) address, such as https://lms.example.com")
        return value


@dataclass(frozen=True)
class SiteInfo:
    functions: frozenset[str]
    site_id: int
    release: str
    user_id: int = 0
    is_admin: bool = False


@contextmanager
def _unexpected_shapes() -> Iterator[None]:
    """An answer that is not shaped as the function declares is Moodle's failure, not ours."""
    try:
        yield
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
        raise UnexpectedAnswerError(
            f"Moodle answered in a shape lmsbridge does not expect ({type(error).__name__}: {error})."
        ) from error


def _chunks(items: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _moodle_id(remote_id: str, what: str) -> int:
    if not remote_id.isdigit() or int(remote_id) <= 0:
        raise ItemError(f"{remote_id!r} is not a Moodle {what} id.", code=ErrorCode.REMOTE_INPUT_INVALID)
    return int(remote_id)


def _item_error(error: ConnectorError) -> ItemError:
    return error if isinstance(error, ItemError) else ItemError(error.message, code=ErrorCode(error.code))


class MoodleConnector:
    tool: ClassVar[str] = "moodle"
    label: ClassVar[str] = "Moodle"
    settings_model: ClassVar[type[ConnectorSettings]] = MoodleSettings
    capabilities: ClassVar[Capabilities] = Capabilities(
        read_models={
            "lms_users": ModelCoverage(
                S,
                {"first_name": S, "last_name": S, "work_email": S, "status": S, "remote_created_at": U},
            ),
            "lms_course_providers": ModelCoverage(U),
            "lms_courses": ModelCoverage(S, {"provider_id": U, "origin_id": S, "remote_created_at": S}),
            "lms_course_revisions": ModelCoverage(
                S,
                {"title": S, "description": S, "remote_url": S, "status": S, "remote_created_at": S},
            ),
            "lms_skills": ModelCoverage(S, {"name": S, "remote_created_at": S}),
            "lms_skill_assignments": ModelCoverage(S),
            "lms_course_progressions": ModelCoverage(
                S,
                {
                    "user_id": S,
                    "course_id": S,
                    "course_revision_id": S,
                    "status": S,
                    "enrolled_at": U,
                    "completed_at": S,
                },
            ),
            "hris_skills": ModelCoverage(N),
        },
        write_actions={
            WriteAction.UPSERT_COURSES: S,
            WriteAction.UPSERT_SKILLS: N,
            WriteAction.ENROL: S,
            WriteAction.COMPLETE: S,
            WriteAction.DEACTIVATE_COURSE: S,
        },
        # No core function answers "changed since": every sync reads everything.
        supports_delta=False,
    )

    def __init__(self, context: ConnectorContext) -> None:
        self.settings = MoodleSettings.model_validate(context.settings)
        self._pacer = context.pacer
        self._integration_id = context.integration_id
        token = context.credentials.get("token")
        self._token = token.strip() if isinstance(token, str) and token.strip() else None
        self._site: SiteInfo | None = None
        self._competencies_off = False
        # What a sync should tell the operator though nothing failed (names Moodle withheld).
        self.sync_warnings: list[str] = []

    # -- sessions ------------------------------------------------------------------------------------
    @contextmanager
    def _session(self, needs: Iterable[str], *, fatal: bool = False) -> Iterator[MoodleClient]:
        """A client for one operation, after checking (once per connector) that the token works and
        that its service holds every function the operation `needs`. With `fatal`, a remote that
        cannot be reached before anything ran fails the whole operation."""
        if self._token is None:
            raise AuthenticationInvalidError(
                'The integration has no Moodle web service token: give credentials as {"token": "..."}.'
            )
        s = self.settings
        client = MoodleClient(
            s.site_url,
            self._token,
            timeout=s.timeout_seconds,
            retry=RetryPolicy(attempts=s.max_attempts, base_delay=s.retry_base_delay_seconds),
            pacer=self._pacer,
            pace_key=self._integration_id,
            pace=Pace(s.rate_limit_per_second, s.rate_limit_burst),
        )
        try:
            try:
                self._check(client, needs)
            except UnexpectedAnswerError as error:
                raise IntegrationError(error.message) from None
            except IntegrationError:
                raise
            except ConnectorError as error:
                if fatal:
                    raise IntegrationError(error.message, code=ErrorCode(error.code)) from None
                raise
            with _unexpected_shapes():
                yield client
        finally:
            client.close()

    def _check(self, client: MoodleClient, needs: Iterable[str]) -> None:
        if self._site is None:
            with _unexpected_shapes():
                info = self._site_info(client)
                self._site = SiteInfo(
                    frozenset(str(f["name"]) for f in info.get("functions", [])),
                    int(info.get("siteid", 1)),
                    str(info.get("release", "")),
                    int(info.get("userid", 0)),
                    bool(info.get("userissiteadmin", False)),
                )
        missing = [name for name in needs if name not in self._site.functions]
        if missing:
            raise PermissionMissingError(
                f"The Moodle external service of this token lacks {len(missing)} function"
                f"{'s' if len(missing) > 1 else ''} lmsbridge needs: {', '.join(missing)}. Add "
                f"{'them' if len(missing) > 1 else 'it'} in {EXTERNAL_SERVICES_PAGE} > Functions."
            )

    @staticmethod
    def _site_info(client: MoodleClient) -> Any:
        """Site info, telling an expired token from a refused function: a production site answers
        an expired token only with "Access control exception", and deletes it on that call, so
        asking again answers invalidtoken."""
        try:
            return client.call(fn.GET_SITE_INFO)
        except AccessRefusedError as refused:
            try:
                return client.call(fn.GET_SITE_INFO)
            except AuthenticationInvalidError:
                raise AuthenticationInvalidError(
                    "Moodle refused the web service token, then no longer knew it: the token has "
                    "expired (Moodle deletes an expired token when it is used). Create a new token for "
                    "the lmsbridge service (Site administration > Server > Web services > Manage "
                    "tokens) and update the integration's credentials."
                ) from None
            except AccessRefusedError:
                raise refused from None

    def preflight(self) -> list[str]:
        """Proves what it can before any data is trusted: the token, the functions of its service
        (missing read functions fail; missing write functions are warnings), that the token's user
        can enter the courses, and that it sees the other users (without moodle/user:viewdetails
        Moodle leaves them out, silently); warns when names are withheld."""
        warnings: list[str] = []
        with self._session(fn.READS, fatal=True) as moodle:
            assert self._site is not None
            missing = [name for name in fn.ALL if name not in self._site.functions]
            if missing:
                them = "them" if len(missing) > 1 else "it"
                warnings.append(
                    f"The token's external service lacks {', '.join(missing)}: the writes that need "
                    f"{them} will fail. Add {them} in {EXTERNAL_SERVICES_PAGE} > Functions."
                )
            courses = self._courses(moodle)
            body = moodle.call(fn.GET_USERS, {"criteria": [{"key": "email", "value": "%"}]})
            people = [u for u in body["users"] if u.get("username") != "guest"]
            others = [u for u in people if int(u["id"]) != self._site.user_id]
            if not self._site.is_admin and (not others or self._hides_users(moodle, people)):
                raise PermissionMissingError(
                    "Moodle hides users from the lmsbridge user (it sees no one else, or a course counts "
                    "more enrolled users than it lists), so a sync would read them as deleted: give its "
                    f"role the capability {DETAILS_CAPABILITY} (with moodle/user:viewalldetails and "
                    "moodle/site:viewuseridentity), allowed in the System context."
                )
            if others and all("firstname" not in u for u in others):
                warnings.append(NAMES_MISSING)
            if courses:
                options = [{"name": "userfields", "value": "id"}, {"name": "limitnumber", "value": 1}]
                moodle.call(fn.GET_ENROLLED_USERS, {"courseid": int(courses[0]["id"]), "options": options})
        return warnings

    def _hides_users(self, moodle: MoodleClient, people: list[dict[str, Any]]) -> bool:
        """Without moodle/user:viewdetails Moodle lists only some users, silently; but it counts
        every enrolled user of a course. A course of a user we see that lists fewer than it
        counts gives the loss away (a few calls: the first visible users with courses)."""
        for person in people[:5]:
            entries = moodle.call(
                fn.GET_USERS_COURSES, {"userid": int(person["id"]), "returnusercount": True}
            )
            for entry in entries[:1]:
                counted = int(entry.get("enrolledusercount") or 0)
                listed = self._enrolled_user_ids(moodle, int(entry["id"]))
                return len(listed) < counted
        return False

    @property
    def _site_id(self) -> int:
        return self._site.site_id if self._site is not None else 1

    # -- reads ---------------------------------------------------------------------------------------
    def read(self, model: str, since: datetime | None) -> Iterator[Sequence[Record]]:
        """Full reads only (`since` is ignored: Moodle cannot say what changed)."""
        if model == "lms_users":
            yield from self._read_users()
        elif model == "lms_courses":
            yield from self._read_courses()
        elif model == "lms_course_progressions":
            yield from self._read_progressions()
        elif model == "lms_skills":
            yield from self._read_skills()

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

    # -- bulk writes ---------------------------------------------------------------------------------
    def upsert_skills(self, items: Sequence[SkillUpsert]) -> Iterator[ItemOutcome]:
        """Not offered (the capabilities say so, and the API refuses such tasks before they exist)."""
        refused = ItemError(
            "Upserting skills is not implemented for Moodle.", code=ErrorCode.INTEGRATION_ACTION_NOT_AVAILABLE
        )
        for item in items:
            yield ItemOutcome(item.origin_id, error=refused)

    def upsert_courses(self, items: Sequence[CourseUpsert]) -> Iterator[ItemOutcome]:
        """Each item matched to a course by origin_id (the course ID number): updated if found,
        created otherwise. Items fail one by one; once Moodle is unreachable, the rest are not tried."""
        valid: list[CourseUpsert] = []
        for item in items:
            problem = self._invalid(item)
            if problem is None:
                valid.append(item)
            else:
                yield ItemOutcome(
                    item.origin_id, error=ItemError(problem, code=ErrorCode.REMOTE_INPUT_INVALID)
                )
        if not valid:
            return
        with self._session(fn.UPSERT, fatal=True) as moodle:
            try:
                index = self._courses_by_idnumber(moodle)
            except IntegrationError:
                raise
            except ConnectorError as error:  # nothing ran: the task fails as a whole
                raise IntegrationError(error.message, code=ErrorCode(error.code)) from None
            unavailable: ConnectorError | None = None
            for chunk in _chunks(valid, self.settings.write_batch_size):
                if unavailable is None:
                    try:
                        yield from self._upsert_chunk(moodle, chunk, index)
                        continue
                    except IntegrationError:
                        raise
                    except ItemError as error:
                        failure = error
                    except ConnectorError as error:
                        unavailable = error
                        failure = _item_error(error)
                else:
                    failure = ItemError(
                        f"Not attempted: Moodle was unavailable earlier in this task ({unavailable.message})",
                        code=ErrorCode(unavailable.code),
                    )
                for item in chunk:
                    yield ItemOutcome(item.origin_id, error=failure)

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
        return {str(c["idnumber"]): int(c["id"]) for c in self._courses(moodle) if c.get("idnumber")}

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
                    failed[item.origin_id] = _item_error(error)
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
            yield pair, (self._warning_error(fn.UPDATE_COURSES, warning) if warning else None)

    @staticmethod
    def _warning_error(function: str, warning: dict[str, Any]) -> ItemError:
        fault = MoodleFault(
            function, "moodle_exception", str(warning.get("warningcode")), str(warning.get("message"))
        )
        return _item_error(classify(fault))

    def _create(
        self, moodle: MoodleClient, items: Sequence[CourseUpsert], index: dict[str, int]
    ) -> Iterator[tuple[CourseUpsert, tuple[int, bool] | ItemError]]:
        """core_course_create_courses runs in one transaction, so one refused course refuses them
        all: then each is created alone, to fail only the culprit."""
        if not items:
            return
        s = self.settings
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
            courses = self._courses(moodle, [cid for cid, _ in written.values()])
            created = {cid for cid, new in written.values() if new}
            return {
                int(c["id"]): (
                    course_record(c, self.settings.site_url, ())
                    if int(c["id"]) in created
                    else self._course_record(moodle, c)
                )
                for c in courses
            }
        except (IntegrationError, ItemError):
            return {}
        except ConnectorError:
            return {}  # the site went away after the writes: they stand, the next sync reads them

    # -- direct actions ------------------------------------------------------------------------------
    def _course_id(self, remote_id: str, what: str) -> int:
        course_id = _moodle_id(remote_id, what)
        if course_id == self._site_id:
            raise ItemError(
                f"Moodle course {course_id} is the site's front page, not a course.",
                code=ErrorCode.REMOTE_INPUT_INVALID,
            )
        return course_id

    def enrol(self, user_remote_id: str, revision_remote_id: str) -> ProgressionRecord:
        """A manual enrolment with the student role; enrolling again reactivates, never duplicates."""
        user_id = _moodle_id(user_remote_id, "user")
        with self._session(fn.ENROL) as moodle:
            course_id = self._course_id(revision_remote_id, "course")
            enrolment = {"roleid": self.settings.student_role_id, "userid": user_id, "courseid": course_id}
            try:
                moodle.call(fn.ENROL_USERS, {"enrolments": [enrolment]})
            except MoodleCallError as error:
                if error.fault.errorcode in ("invaliduser", "codingerror") and (
                    error.fault.errorcode == "invaliduser" or "User ID does not exist" in error.fault.message
                ):
                    raise ItemError(
                        f"Moodle has no user {user_id} (it does not exist or is deleted): sync again to "
                        "refresh the users, then enrol an existing one.",
                        code=ErrorCode.REMOTE_INPUT_INVALID,
                    ) from None
                raise
            active = self._active_courses(moodle, user_id)
            entry = self._standing(moodle, user_id, course_id, active)
            return self._progression(moodle, user_id, course_id, active, entry)

    def complete(
        self, progression_remote_id: str, completed_at: datetime, score: int | None
    ) -> ProgressionRecord:
        """Moodle's web services record completion for another user only through activities: every
        activity with completion tracking is marked complete (an override by the token's user).
        Moodle then records the course completion when its completion task runs; until then the
        progression reads IN_PROGRESS. Moodle keeps its own time; `completed_at` and `score`
        cannot be stored."""
        user_part, _, course_part = progression_remote_id.partition(":")
        user_id = _moodle_id(user_part, "user")
        with self._session(fn.COMPLETE) as moodle:
            course_id = self._course_id(course_part, "course")
            active = self._active_courses(moodle, user_id)
            entry = self._standing(moodle, user_id, course_id, active)
            if entry is None:
                raise ItemError(
                    f"Moodle user {user_id} has no active enrolment in course {course_id}.",
                    code=ErrorCode.REMOTE_INPUT_INVALID,
                )
            if not entry.get("completed"):
                self._complete_activities(moodle, user_id, course_id)
                active = self._active_courses(moodle, user_id)
                entry = self._standing(moodle, user_id, course_id, active)
            record = self._progression(moodle, user_id, course_id, active, entry)
        return replace(record, warnings=self._unstored(record, completed_at, score))

    @staticmethod
    def _unstored(record: ProgressionRecord, completed_at: datetime, score: int | None) -> tuple[str, ...]:
        """What the request asked for that Moodle's web services cannot store."""
        warnings = []
        if score is not None:
            warnings.append(
                f"Moodle cannot store a score through its web services: score {score} was not stored."
            )
        stored = record.completed_at
        if stored is None or abs((stored - completed_at).total_seconds()) > 60:
            when = (
                f"it dates the completion {stored.isoformat()}" if stored else "it has not dated a completion"
            )
            warnings.append(
                f"Moodle keeps its own completion time: completed_at {completed_at.isoformat()} was not "
                f"stored ({when})."
            )
        return tuple(warnings)

    def _complete_activities(self, moodle: MoodleClient, user_id: int, course_id: int) -> None:
        body = moodle.call(fn.GET_ACTIVITIES_COMPLETION, {"courseid": course_id, "userid": user_id})
        tracked = [s for s in body["statuses"] if s.get("tracking")]
        if not tracked:
            raise ItemError(
                f"Moodle course {course_id} has no activity with completion tracking (or completion is "
                "off for the course): Moodle's web services can mark a course complete for another "
                "user only through its activities.",
                code=ErrorCode.REMOTE_INPUT_INVALID,
            )
        for status in tracked:
            if status.get("state") not in (1, 2):
                moodle.call(
                    fn.OVERRIDE_ACTIVITY_COMPLETION,
                    {"userid": user_id, "cmid": int(status["cmid"]), "newstate": 1},
                )

    def deactivate_course(self, course_remote_id: str) -> CourseRecord:
        """Hides the course from learners (visible = 0); enrolments and progress are kept."""
        with self._session(fn.DEACTIVATE) as moodle:
            course_id = self._course_id(course_remote_id, "course")
            body = moodle.call(fn.UPDATE_COURSES, {"courses": [{"id": course_id, "visible": 0}]})
            for warning in body.get("warnings", []):
                raise self._warning_error(fn.UPDATE_COURSES, warning)
            found = self._courses(moodle, [course_id])
            if not found:
                raise ItemError(f"Moodle has no course {course_id}.", code=ErrorCode.REMOTE_INPUT_INVALID)
            return self._course_record(moodle, found[0])

"""The Moodle connector: reads users, courses, course progressions and skills (competencies)
through Moodle's core web service functions, and writes external courses, enrolments,
completions and course visibility. Every call goes through `MoodleClient`; nothing here knows
the store or the API."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, ClassVar, TypeVar
from urllib.parse import parse_qsl

from lmsbridge.connectors.base import (
    ConnectorContext,
    ConnectorSettings,
    Coverage,
    ModelCoverage,
    PassthroughRequest,
    PassthroughResponse,
    WriteAction,
)
from lmsbridge.connectors.connector import BaseConnector
from lmsbridge.connectors.errors import (
    AuthenticationInvalidError,
    ConnectorError,
    IntegrationError,
    ItemError,
    PermissionMissingError,
)
from lmsbridge.connectors.http import RetryPolicy
from lmsbridge.connectors.moodle import functions as fn
from lmsbridge.connectors.moodle import streams
from lmsbridge.connectors.moodle.client import (
    EXTERNAL_SERVICES_PAGE,
    REST_PATH,
    AccessRefusedError,
    MoodleCallError,
    MoodleClient,
    UnexpectedAnswerError,
    php_form,
)
from lmsbridge.connectors.moodle.reading import NAMES_MISSING, MoodleReading
from lmsbridge.connectors.moodle.settings import MoodleSettings
from lmsbridge.connectors.moodle.writers import MoodleCourses, warning_error
from lmsbridge.connectors.pacing import Pace
from lmsbridge.connectors.passthrough import caller_headers, relay, target_url, unknown_api
from lmsbridge.connectors.records import CourseRecord, ProgressionRecord
from lmsbridge.errors import ErrorCode

_T = TypeVar("_T")

U = Coverage.UNSUPPORTED
# What each operation needs in the token's external service.
_NEEDS: dict[WriteAction | None, tuple[str, ...]] = {
    None: fn.READS,
    WriteAction.UPSERT_COURSES: fn.UPSERT,
    WriteAction.ENROL: fn.ENROL,
    WriteAction.COMPLETE: fn.COMPLETE,
    WriteAction.DEACTIVATE_COURSE: fn.DEACTIVATE,
}

DETAILS_CAPABILITY = "moodle/user:viewdetails"


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


def _moodle_id(remote_id: str, what: str) -> int:
    if not remote_id.isdigit() or int(remote_id) <= 0:
        raise ItemError(f"{remote_id!r} is not a Moodle {what} id.", code=ErrorCode.REMOTE_INPUT_INVALID)
    return int(remote_id)


class MoodleConnector(MoodleReading, BaseConnector[MoodleSettings]):
    tool: ClassVar[str] = "moodle"
    label: ClassVar[str] = "Moodle"
    settings_model: ClassVar[type[ConnectorSettings]] = MoodleSettings
    # No core function answers "changed since": no stream supports `since`, every sync is full.
    streams = (streams.Users, streams.Courses, streams.Progressions, streams.Skills)
    writers = (MoodleCourses,)
    model_coverage: ClassVar[dict[str, ModelCoverage]] = {"lms_course_providers": ModelCoverage(U)}

    passthrough_apis: ClassVar[dict[str, str]] = {"rest": "{site_url}" + REST_PATH}

    def __init__(self, context: ConnectorContext) -> None:
        super().__init__(context)
        self._open: MoodleClient | None = None
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
        if self._open is not None:  # inside the operation's session: one client, checked once
            self._check(self._open, needs)
            yield self._open
            return
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

    @contextmanager
    def session(self, operation: WriteAction | None) -> Iterator[MoodleClient]:
        """The operation's client, its token and functions checked; the helpers it runs reuse it."""
        with self._session(_NEEDS[operation]) as moodle:
            self._open = moodle
            try:
                yield moodle
            finally:
                self._open = None

    @property
    def moodle(self) -> MoodleClient:
        """The client of the operation under way (streams and writers call through it)."""
        if self._open is None:
            raise RuntimeError("no Moodle session is open")
        return self._open

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

    def passthrough(self, api: str, request: PassthroughRequest) -> PassthroughResponse:
        """A call of Moodle's REST server with the integration's token added (in the form body,
        or the query of a GET); an object or array `data` is sent as Moodle reads it, a PHP-style
        form. Answers are relayed as they come, Moodle's exceptions included."""
        if api not in self.passthrough_apis:
            raise unknown_api(api, self.passthrough_apis, self.label)
        if self._token is None:
            raise AuthenticationInvalidError(
                'The integration has no Moodle web service token: give credentials as {"token": "..."}.'
            )
        base = self.passthrough_apis[api].format(site_url=self.settings.site_url)
        params = dict(request.params)
        params.setdefault("moodlewsrestformat", "json")
        form: list[tuple[str, str]] = []
        if isinstance(request.data, str):
            form = parse_qsl(request.data, keep_blank_values=True)
        elif request.data is not None:
            form = php_form(request.data if isinstance(request.data, dict) else {"data": request.data})
        if request.method in ("GET", "DELETE"):
            params["wstoken"] = self._token
        else:
            form = [("wstoken", self._token), *form]
        url = target_url(base, request.path, params)
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
            response = client.http.request(
                request.method,
                url,
                data=form or None,
                headers=caller_headers(request),
            )
            return relay(response, client.http.redactor, as_base64=request.response_as_base64)
        finally:
            client.close()

    @property
    def _site_id(self) -> int:
        return self._site.site_id if self._site is not None else 1

    # -- direct actions ------------------------------------------------------------------------------
    def _course_id(self, remote_id: str, what: str) -> int:
        course_id = _moodle_id(remote_id, what)
        if course_id == self._site_id:
            raise ItemError(
                f"Moodle course {course_id} is the site's front page, not a course.",
                code=ErrorCode.REMOTE_INPUT_INVALID,
            )
        return course_id

    def perform_enrol(self, user_remote_id: str, revision_remote_id: str) -> ProgressionRecord:
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

    def perform_complete(
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

    def perform_deactivate_course(self, course_remote_id: str) -> CourseRecord:
        """Hides the course from learners (visible = 0); enrolments and progress are kept."""
        with self._session(fn.DEACTIVATE) as moodle:
            course_id = self._course_id(course_remote_id, "course")
            body = moodle.call(fn.UPDATE_COURSES, {"courses": [{"id": course_id, "visible": 0}]})
            for warning in body.get("warnings", []):
                raise warning_error(fn.UPDATE_COURSES, warning)
            found = self._courses(moodle, [course_id])
            if not found:
                raise ItemError(f"Moodle has no course {course_id}.", code=ErrorCode.REMOTE_INPUT_INVALID)
            return self._course_record(moodle, found[0])

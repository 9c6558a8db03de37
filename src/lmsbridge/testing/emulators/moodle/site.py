"""One emulated Moodle site: its state, the changes tests make to it, rate limits and faults,
and `serve`, which authenticates a call and dispatches it to its function."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from html import escape
from typing import Any

from lmsbridge.testing.emulators.kit.limiter import RateLimiter
from lmsbridge.testing.emulators.moodle.calls import FUNCTIONS
from lmsbridge.testing.emulators.moodle.errors import (
    MoodleError,
    access_exception,
    capability_missing,
    invalid_parameter,
    missing_record,
    moodle_exception,
)
from lmsbridge.testing.emulators.moodle.params import Single, decode_php_form, php_json, validate, xmlize
from lmsbridge.testing.emulators.moodle.protocol import (
    EDITING_TEACHER,
    NAMESPACED,
    NEWEST,
    SEED_EPOCH,
    SERVICE,
    STUDENT,
    VERSIONS,
    VIEW_COURSE,
    VIEW_FULL_NAMES,
    VIEW_HIDDEN_COURSES,
    VIEW_USER_DETAILS,
)
from lmsbridge.testing.emulators.moodle.records import (
    Activity,
    ActivityState,
    Call,
    Competency,
    Course,
    CourseCompetency,
    Ctx,
    Enrolment,
    Fault,
    Framework,
    Service,
    Token,
    User,
)


class MoodleSite:
    """The state of one emulated Moodle site. Every change goes through `lock` (requests are
    served on another thread than a test's). `completion_task_interval` is how often the course
    completion task runs (seconds; 0 runs it before every request; None only on demand)."""

    def __init__(
        self,
        *,
        sitename: str = "Emulated Moodle",
        completion_task_interval: float | None = 60.0,
        debug: bool = False,
        clock: Callable[[], float] = time.time,
        version: str = NEWEST,
    ) -> None:
        if version not in VERSIONS:
            raise ValueError(f"version must be one of {', '.join(VERSIONS)}, not {version!r}")
        self.lock = threading.RLock()
        self.version = version
        self.release, self.version_number = VERSIONS[version]
        # Moodle's fullnamedisplay setting; "language" (the default) shows first and last names.
        self.fullname_format = "language"
        self.sitename = sitename
        self.completion_task_interval = completion_task_interval
        self.debug = debug
        self.clock = clock
        self.site_id = 1
        self.webservices_enabled = True
        self.rest_enabled = True
        self.completion_enabled = True
        self.competencies_enabled = True
        self.maintenance = False
        self.categories: dict[int, str] = {1: "Category 1"}
        self.users: dict[int, User] = {}
        self.courses: dict[int, Course] = {}
        self.activities: dict[int, Activity] = {}
        self.enrolments: dict[tuple[int, int], Enrolment] = {}
        self.activity_states: dict[tuple[int, int], ActivityState] = {}
        self.course_completions: dict[tuple[int, int], int] = {}
        self.course_access: dict[tuple[int, int], int] = {}
        self.frameworks: dict[int, Framework] = {}
        self.competencies: dict[int, Competency] = {}
        self.course_competencies: dict[int, CourseCompetency] = {}
        self.services: dict[str, Service] = {SERVICE: Service(SERVICE, "lmsbridge", set(FUNCTIONS))}
        self.tokens: dict[str, Token] = {}
        self.faults: list[Fault] = []
        self.calls: list[Call] = []
        self.latency_seconds = 0.0
        self.limiter = RateLimiter()  # per token; the 429 itself is answered by app.py
        self._next: dict[str, int] = {}
        self._completion_task_ran = clock()
        self.courses[self.site_id] = Course(
            self.site_id,
            sitename,
            "moodle",
            categoryid=0,
            format="site",
            enablecompletion=0,
            manual_enrol=False,
            timecreated=self.now(),
            timemodified=self.now(),
        )
        self._bump("course", self.site_id)
        self.add_user("guest", "Guest user", " ", "root@localhost", user_id=1)
        self.add_user("admin", "Admin", "User", "admin@example.com", user_id=2)

    # -- time and ids --------------------------------------------------------------------------------
    def now(self) -> int:
        return int(self.clock())

    def _bump(self, kind: str, used: int) -> None:
        self._next[kind] = max(self._next.get(kind, 1), used + 1)

    def _new_id(self, kind: str) -> int:
        value = self._next.get(kind, 1)
        self._next[kind] = value + 1
        return value

    # -- building and changing the site (what an administrator or a learner would do) ----------------
    def add_token(self, token: str, userid: int = 2, service: str = SERVICE, **options: Any) -> str:
        with self.lock:
            self.tokens[token] = Token(userid, service, **options)
        return token

    def add_user(
        self,
        username: str,
        firstname: str,
        lastname: str,
        email: str,
        user_id: int | None = None,
        **fields: Any,
    ) -> User:
        with self.lock:
            uid = user_id if user_id is not None else self._new_id("user")
            self._bump("user", uid)
            user = User(uid, username, firstname, lastname, email, **fields)
            self.users[uid] = user
            return user

    def delete_user(self, user_id: int) -> None:
        """As Moodle deletes: the row stays, renamed and flagged, and the user's enrolments go."""
        with self.lock:
            user = self.users[user_id]
            user.deleted = True
            user.username = f"{user.email}.{self.now()}"
            user.idnumber = ""
            for key in [k for k in self.enrolments if k[0] == user_id]:
                del self.enrolments[key]

    def add_course(self, fullname: str, shortname: str, activities: int = 0, **fields: Any) -> Course:
        with self.lock:
            cid = self._new_id("course")
            now = self.now()
            course = Course(cid, fullname, shortname, timecreated=now, timemodified=now, **fields)
            self.courses[cid] = course
            for n in range(activities):
                cm = self.add_activity(cid, ("page", "quiz", "url")[n % 3], f"{fullname}: part {n + 1}")
                course.criteria.append(cm.id)
            return course

    def add_activity(self, course_id: int, modname: str, name: str, completion: int = 1) -> Activity:
        with self.lock:
            cm = Activity(self._new_id("cm"), course_id, modname, self._new_id(modname), name, completion)
            self.activities[cm.id] = cm
            return cm

    def update_course(self, course_id: int, **fields: Any) -> None:
        with self.lock:
            course = self.courses[course_id]
            for name, value in fields.items():
                setattr(course, name, value)
            course.timemodified = self.now()

    def delete_course(self, course_id: int) -> None:
        with self.lock:
            del self.courses[course_id]
            for key in [k for k in self.enrolments if k[1] == course_id]:
                del self.enrolments[key]
            for key in [k for k in self.course_completions if k[0] == course_id]:
                del self.course_completions[key]
            for cc in [c for c in self.course_competencies.values() if c.courseid == course_id]:
                del self.course_competencies[cc.id]
            for cm in [a for a in self.activities.values() if a.course == course_id]:
                del self.activities[cm.id]

    def enrol(self, user_id: int, course_id: int, roleid: int = STUDENT, status: int = 0) -> Enrolment:
        with self.lock:
            enrolment = Enrolment(user_id, course_id, roleid, status, timecreated=self.now())
            self.enrolments[(user_id, course_id)] = enrolment
            return enrolment

    def unenrol(self, user_id: int, course_id: int) -> None:
        with self.lock:
            del self.enrolments[(user_id, course_id)]

    def set_enrolment_status(self, user_id: int, course_id: int, status: int) -> None:
        with self.lock:
            self.enrolments[(user_id, course_id)].status = status

    def complete_activity(self, cmid: int, user_id: int, state: int = 1, at: int | None = None) -> None:
        """A learner completing an activity (the course completes when the completion task runs)."""
        with self.lock:
            self.activity_states[(cmid, user_id)] = ActivityState(state, at if at is not None else self.now())

    def visit_course(self, user_id: int, course_id: int, at: int | None = None) -> None:
        with self.lock:
            self.course_access[(user_id, course_id)] = at if at is not None else self.now()

    def add_framework(self, shortname: str, idnumber: str, **fields: Any) -> Framework:
        with self.lock:
            now = self.now()
            fw = Framework(
                self._new_id("framework"), shortname, idnumber, timecreated=now, timemodified=now, **fields
            )
            self.frameworks[fw.id] = fw
            return fw

    def add_competency(self, framework_id: int, shortname: str, idnumber: str, **fields: Any) -> Competency:
        with self.lock:
            now = self.now()
            sortorder = sum(1 for c in self.competencies.values() if c.frameworkid == framework_id)
            comp = Competency(
                self._new_id("competency"),
                framework_id,
                shortname,
                idnumber,
                sortorder=sortorder,
                timecreated=now,
                timemodified=now,
                **fields,
            )
            self.competencies[comp.id] = comp
            return comp

    def delete_competency(self, competency_id: int) -> None:
        with self.lock:
            del self.competencies[competency_id]
            for cc in [c for c in self.course_competencies.values() if c.competencyid == competency_id]:
                del self.course_competencies[cc.id]

    def add_course_competency(self, course_id: int, competency_id: int) -> CourseCompetency:
        with self.lock:
            sortorder = sum(1 for c in self.course_competencies.values() if c.courseid == course_id)
            cc = CourseCompetency(
                self._new_id("coursecompetency"), course_id, competency_id, sortorder, self.now()
            )
            self.course_competencies[cc.id] = cc
            return cc

    def disable_function(self, function: str, service: str = SERVICE) -> None:
        """Remove a function from an external service, as an administrator may."""
        with self.lock:
            self.services[service].functions.discard(function)

    def enable_function(self, function: str, service: str = SERVICE) -> None:
        with self.lock:
            self.services[service].functions.add(function)

    def limit_rate(self, per_second: float | None, burst: float | None = None) -> None:
        """Answer 429 (Retry-After in whole seconds, as proxies send it) to the calls of a token
        beyond `per_second`, with bursts of up to `burst` (default: one second's worth)."""
        self.limiter.set(per_second, burst)

    def admit(self, token: str | None) -> float | None:
        """None when the call may go on; otherwise the seconds its caller should wait."""
        return self.limiter.wait_for(token or "")

    @property
    def admitted(self) -> int:
        """Calls the rate limit let through (since it was last set)."""
        return self.limiter.admitted

    @property
    def throttled(self) -> int:
        """Calls the rate limit answered 429 (since it was last set)."""
        return self.limiter.throttled

    def add_fault(self, fault: Fault) -> Fault:
        with self.lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def take_fault(self, function: str | None) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.function is None or fault.function == function:
                    if fault.after > 0:
                        fault.after -= 1
                        continue
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self.faults.remove(fault)
                    return fault
        return None

    def calls_of(self, function: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.function == function]

    # -- course completion --------------------------------------------------------------------------
    def is_active(self, enrolment: Enrolment) -> bool:
        course = self.courses.get(enrolment.courseid)
        now = self.now()
        return (
            enrolment.status == 0
            and course is not None
            and course.manual_enrol
            and enrolment.timestart <= now
            and (enrolment.timeend == 0 or enrolment.timeend > now)
        )

    def is_tracked(self, user_id: int, course_id: int) -> bool:
        """Moodle tracks completion of learners (students) with an active enrolment."""
        enrolment = self.enrolments.get((user_id, course_id))
        return enrolment is not None and enrolment.roleid == STUDENT and self.is_active(enrolment)

    def aggregate_completion(self, user_id: int, course_id: int) -> bool:
        """Mark the course complete for one tracked learner whose criteria are met, at the time
        the last criterion was met; True when it was marked now."""
        with self.lock:
            course = self.courses.get(course_id)
            if course is None or not course.enablecompletion or not course.criteria:
                return False
            if (course_id, user_id) in self.course_completions or not self.is_tracked(user_id, course_id):
                return False
            times = []
            met = []
            for cmid in course.criteria:
                state = self.activity_states.get((cmid, user_id))
                done = state is not None and state.state in (1, 2)
                met.append(done)
                if done and state is not None:
                    times.append(state.timemodified)
            if all(met) if course.aggregation == 1 else any(met):
                self.course_completions[(course_id, user_id)] = max(times)
                return True
            return False

    def run_completion_task(self) -> int:
        """What Moodle's completion task does: aggregate every tracked learner's course
        completion (for completions not aggregated at once). Returns how many it marked."""
        marked = 0
        with self.lock:
            for user_id, course_id in list(self.enrolments):
                marked += self.aggregate_completion(user_id, course_id)
            self._completion_task_ran = self.clock()
        return marked

    def _completion_task_if_due(self) -> None:
        interval = self.completion_task_interval
        if interval is not None and self.clock() - self._completion_task_ran >= interval:
            self.run_completion_task()

    # -- the REST server ----------------------------------------------------------------------------
    def serve(
        self, query: list[tuple[str, str]], form: list[tuple[str, str]], wwwroot: str
    ) -> tuple[int, str, str]:
        """One call of server.php: returns (HTTP status, content type, body)."""
        params = {**decode_php_form(query), **decode_php_form(form)}
        for setting in ("raw", "fileurl", "filter", "lang", "timezone"):
            params.pop(f"moodlewssetting{setting}", None)
        fmt = "json" if params.pop("moodlewsrestformat", None) == "json" else "xml"
        if not (self.webservices_enabled and self.rest_enabled):
            return 403, "text/html", ""
        token = params.pop("wstoken", None)
        named = params.pop("wsfunction", None)
        wsfunction = named if isinstance(named, str) else None
        token_in_query = any(k == "wstoken" for k, _ in query)
        with self.lock:
            self._completion_task_if_due()
            try:
                result = self._call(token, wsfunction, params, wwwroot)
            except MoodleError as error:
                self.calls.append(Call(wsfunction, params, 200, error.errorcode, token_in_query))
                return 200, _content_type(fmt), self.error_body(error, fmt)
            self.calls.append(Call(wsfunction, params, 200, None, token_in_query))
        if fmt == "json":
            return 200, _content_type(fmt), php_json(result)
        return (
            200,
            _content_type(fmt),
            f'<?xml version="1.0" encoding="UTF-8" ?>\n<RESPONSE>\n{xmlize(result)}</RESPONSE>\n',
        )

    def exception_class(self, name: str) -> str:
        """The class name as this version reports it (namespaced from 4.5 on)."""
        if self.version != "4.4" and name in NAMESPACED:
            return f"core\\exception\\{name}"
        return name

    def error_body(self, error: MoodleError, fmt: str) -> str:
        exception = self.exception_class(error.exception)
        if fmt == "json":
            body: dict[str, Any] = {
                "exception": exception,
                "errorcode": error.errorcode,
                "message": error.message,
            }
            if self.debug and error.debuginfo is not None:
                body["debuginfo"] = error.debuginfo
            return php_json(body)
        parts = [
            f'<EXCEPTION class="{exception}">',
            f"<ERRORCODE>{escape(error.errorcode)}</ERRORCODE>",
        ]
        parts.append(f"<MESSAGE>{escape(error.message)}</MESSAGE>")
        if self.debug and error.debuginfo is not None:
            parts.append(f"<DEBUGINFO>{escape(error.debuginfo)}</DEBUGINFO>")
        return '<?xml version="1.0" encoding="UTF-8" ?>\n' + "\n".join(parts) + "\n</EXCEPTION>\n"

    def _authenticate(self, token: Any) -> tuple[User, Token]:
        found = self.tokens.get(token) if isinstance(token, str) else None
        if found is None:
            raise moodle_exception("invalidtoken", "Invalid token - token not found")
        if found.validuntil and found.validuntil < self.now():
            del self.tokens[token]
            raise access_exception("Invalid token - token expired - check validuntil time for the token")
        user = self.users[found.userid]
        if user.deleted:
            raise moodle_exception("wsaccessuserdeleted", f"The user {user.username} is deleted.")
        if not user.confirmed:
            raise moodle_exception("wsaccessuserunconfirmed", f"The user {user.username} is not confirmed.")
        if user.suspended:
            raise moodle_exception(
                "wsaccessusersuspended", f"Refused web service access for suspended username: {user.username}"
            )
        if user.auth == "nologin":
            raise moodle_exception("wsaccessusernologin", f"The user {user.username} may not log in.")
        if self.maintenance:
            raise moodle_exception("sitemaintenance", "The site is undergoing maintenance.")
        if "webservice/rest:use" in found.missing_capabilities:
            raise access_exception(
                "You are not allowed to use the rest protocol (missing capability: webservice/rest:use)"
            )
        return user, found

    def _call(self, token: Any, wsfunction: str | None, params: dict[str, Any], wwwroot: str) -> Any:
        user, found = self._authenticate(token)
        if not wsfunction:
            raise invalid_parameter("Missing function name")
        spec = FUNCTIONS.get(wsfunction)
        if spec is None:
            raise missing_record("external_functions")
        service = self.services.get(found.service)
        if service is None or not service.enabled or wsfunction not in service.functions:
            raise access_exception(
                f"Access to the function {wsfunction}() is not allowed. The service of the token may lack "
                "the function, be disabled, or be restricted to other users or addresses."
            )
        args = validate(Single(spec.params), params)
        return spec.handler(self, Ctx(user, found, wwwroot), **args)

    def require(self, ctx: Ctx, capability: str) -> None:
        if capability in ctx.token.missing_capabilities:
            raise capability_missing(capability)

    def lacks(self, ctx: Ctx, capability: str) -> bool:
        return capability in ctx.token.missing_capabilities

    def can_enter(self, ctx: Ctx, course: Course) -> bool:
        """require_login as a web service runs it: the token's user enters a course by being
        enrolled in it or with moodle/course:view, and a hidden one only with
        moodle/course:viewhiddencourses."""
        if course.id == self.site_id:
            return True
        if not course.visible and self.lacks(ctx, VIEW_HIDDEN_COURSES):
            return False
        enrolment = self.enrolments.get((ctx.user.id, course.id))
        return not self.lacks(ctx, VIEW_COURSE) or (enrolment is not None and self.is_active(enrolment))

    def can_see_user(self, ctx: Ctx, user: User) -> bool:
        """Without moodle/user:viewdetails, Moodle leaves out (silently) every user but the token's
        own and the course contacts (editing teachers)."""
        if user.id == ctx.user.id or not self.lacks(ctx, VIEW_USER_DETAILS):
            return True
        return any(e.userid == user.id and e.roleid == EDITING_TEACHER for e in self.enrolments.values())

    def shows_names(self, ctx: Ctx) -> bool:
        """4.4 returns first and last names only with moodle/site:viewfullnames; from 4.5 also
        when the site's full-name format contains them."""
        if not self.lacks(ctx, VIEW_FULL_NAMES):
            return True
        if self.version == "4.4":
            return False
        return self.fullname_format == "language" or "firstname" in self.fullname_format

    # -- records as the functions return them ------------------------------------------------------
    def user_details(
        self, user: User, wwwroot: str, *, names: bool = True, account: bool = True, own: bool = False
    ) -> dict[str, Any]:
        """user_get_user_details' shape: names only when the caller may see them, account fields
        (auth, lang, ...) in the system context, preferences for the caller's own record."""
        details: dict[str, Any] = {"id": user.id, "username": user.username}
        if names:
            details.update(firstname=user.firstname, lastname=user.lastname)
        details.update(
            fullname=f"{user.firstname} {user.lastname}",
            email=user.email,
            department=user.department,
            firstaccess=user.firstaccess,
            lastaccess=user.lastaccess,
        )
        if account:
            details.update(
                auth=user.auth,
                suspended=user.suspended,
                confirmed=user.confirmed,
                lang=user.lang,
                theme="",
                timezone=user.timezone,
                mailformat=1,
                trackforums=0,
            )
        for name in ("idnumber", "institution", "city", "country"):
            if getattr(user, name):
                details[name] = getattr(user, name)
        details["profileimageurlsmall"] = f"{wwwroot}/theme/image.php/boost/core/1/u/f2"
        details["profileimageurl"] = f"{wwwroot}/theme/image.php/boost/core/1/u/f1"
        if own:
            details["preferences"] = [{"name": "auth_manual_passwordupdatetime", "value": str(SEED_EPOCH)}]
        return details

    def course_record(self, course: Course) -> dict[str, Any]:
        """core_course_get_courses' shape, for a caller with moodle/course:update (managers' fields)."""
        return {
            "id": course.id,
            "shortname": course.shortname,
            "categoryid": course.categoryid,
            "categorysortorder": 10000 + course.id,
            "fullname": course.fullname,
            "displayname": course.fullname,
            "idnumber": course.idnumber,
            "summary": course.summary,
            "summaryformat": course.summaryformat,
            "format": course.format,
            "showgrades": course.showgrades,
            "newsitems": course.newsitems,
            "startdate": course.startdate,
            "enddate": course.enddate,
            "numsections": 1 if course.format == "site" else 4,
            "maxbytes": course.maxbytes,
            "showreports": course.showreports,
            "visible": course.visible,
            "groupmode": course.groupmode,
            "groupmodeforce": course.groupmodeforce,
            "defaultgroupingid": course.defaultgroupingid,
            "timecreated": course.timecreated,
            "timemodified": course.timemodified,
            "enablecompletion": course.enablecompletion,
            "completionnotify": course.completionnotify,
            "lang": course.lang,
            "forcetheme": "",
            "courseformatoptions": [
                {"name": "hiddensections", "value": 1},
                {"name": "coursedisplay", "value": 0},
            ],
            "showactivitydates": False,
            "showcompletionconditions": True if course.enablecompletion else None,
            "hiddensections": 1,
        }

    def progress(self, user_id: int, course: Course) -> int | float | None:
        if not course.enablecompletion or not self.is_tracked(user_id, course.id):
            return None
        tracked = [a for a in self.activities.values() if a.course == course.id and a.completion]
        if not tracked:
            return None
        done = 0
        for activity in tracked:
            state = self.activity_states.get((activity.id, user_id))
            done += 1 if state is not None and state.state in (1, 2) else 0
        percent = 100.0 * done / len(tracked)
        # PHP's json_encode writes a whole float as an integer.
        return int(percent) if percent.is_integer() else percent

    def competency_record(self, comp: Competency) -> dict[str, Any]:
        return {
            "shortname": comp.shortname,
            "idnumber": comp.idnumber,
            "description": comp.description,
            "descriptionformat": 1,
            "sortorder": comp.sortorder,
            "parentid": comp.parentid,
            "path": f"/{comp.parentid}/",
            "ruleoutcome": 0,
            "ruletype": None,
            "ruleconfig": None,
            "scaleid": None,
            "scaleconfiguration": None,
            "competencyframeworkid": comp.frameworkid,
            "id": comp.id,
            "timecreated": comp.timecreated,
            "timemodified": comp.timemodified,
            "usermodified": 2,
        }

    def course_or_missing(self, course_id: int) -> Course:
        course = self.courses.get(course_id)
        if course is None:
            raise missing_record("course")
        return course

    def active_user(self, user_id: int) -> User:
        """core_user::get_user(MUST_EXIST) then core_user::require_active_user()."""
        user = self.users.get(user_id)
        if user is None:
            raise missing_record("user")
        if user.deleted:
            raise moodle_exception("userdeleted", "The user account has been deleted.")
        if not user.confirmed:
            raise moodle_exception("usernotconfirmed", f"The user {user.username} is not confirmed.")
        if user.username == "guest":
            raise moodle_exception("guestsarenotallowed", "The guest user may not do this.")
        return user

    def require_competencies(self) -> None:
        if not self.competencies_enabled:
            raise moodle_exception("competenciesarenotenabled", "Competencies are not enabled on this site.")


def _content_type(fmt: str) -> str:
    return "application/json" if fmt == "json" else "application/xml; charset=utf-8"

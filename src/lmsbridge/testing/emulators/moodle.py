"""A Moodle site behind Moodle's REST web service protocol (`/webservice/rest/server.php`), for
the Moodle connector's tests and for trying lmsbridge without a Moodle.

It follows the protocol as Moodle's own server does: parameters from the query string and a
form body (POST wins), PHP bracket encoding of arrays (`courses[0][fullname]=...`), control
parameters `wstoken`, `wsfunction`, `moodlewsrestformat` (JSON, else XML) and
`moodlewssetting*`; authentication by token; the function checked against the token's external
service; parameters validated against each function's declared structure with Moodle's rules
and debug messages; every function error answered with HTTP 200 and an
`{exception, errorcode, message[, debuginfo]}` body; HTTP 403 with an empty body when web
services or the REST protocol are off. It answers as one Moodle version (`MoodleSite(version=...)`:
4.4, 4.5, 5.0 or 5.1), which decides exception class names, when names are shown and how a missing
user is refused, and applies the token user's capabilities as Moodle does (users left out silently,
courses it cannot enter, roles it may not assign). Course completion is aggregated at once when an
override meets the last criterion, and otherwise by a completion task, as Moodle's scheduled task does.
Its answers were checked against recordings of real 4.4 and 4.5 sites (tests/connectors/moodle/
test_replay.py).

Fault injection (`Fault`) stands in for what sits in front of a real site: HTTP errors from a
proxy (with Retry-After), slow answers, timeouts, connections dropped mid-answer, and functions
removed from the service. `MoodleSite.limit_rate` puts a rate limiter in front (a token bucket
per token answering 429 with Retry-After), and `latency_seconds` delays every answer.
Messages are Moodle's en strings where the recordings showed them, else this emulator's wording;
exception classes, error codes and shapes are Moodle's.
"""

from __future__ import annotations

import json
import math
import random
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from html import escape
from typing import Any
from urllib.parse import parse_qsl

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

REST_PATH = "/webservice/rest/server.php"
SERVICE = "lmsbridge"
# Moodle versions the emulator answers as (`MoodleSite(version=...)`): release and version number.
VERSIONS = {
    "4.4": ("4.4.3+ (Build: 20240910)", "2024042203.03"),
    "4.5": ("4.5.6 (Build: 20250811)", "2024100706"),
    "5.0": ("5.0.2 (Build: 20250811)", "2025041402.02"),
    "5.1": ("5.1 (Build: 20251006)", "2025100600"),
}
NEWEST = "5.1"
RELEASE, VERSION = VERSIONS[NEWEST]
# From 4.5, core's exception classes live in the core\exception namespace, and their names reach
# the client with it; plugin and dml_* classes keep their old names.
NAMESPACED = frozenset(
    [
        "moodle_exception",
        "coding_exception",
        "invalid_parameter_exception",
        "required_capability_exception",
        "require_login_exception",
    ]
)
VIEW_FULL_NAMES = "moodle/site:viewfullnames"
VIEW_USER_DETAILS = "moodle/user:viewdetails"
VIEW_COURSE = "moodle/course:view"
VIEW_HIDDEN_COURSES = "moodle/course:viewhiddencourses"
STUDENT, TEACHER, EDITING_TEACHER, MANAGER = 5, 4, 3, 1
ROLES = {
    MANAGER: ("Manager", "manager", 1),
    EDITING_TEACHER: ("Teacher", "editingteacher", 3),
    TEACHER: ("Non-editing teacher", "teacher", 4),
    STUDENT: ("Student", "student", 5),
}
CRITERIA_TYPE_ACTIVITY = 4

# ---------------------------------------------------------------------------------------------------
# Errors, as Moodle's exceptions reach the client
# ---------------------------------------------------------------------------------------------------


class MoodleError(Exception):
    def __init__(self, exception: str, errorcode: str, message: str, debuginfo: str | None = None) -> None:
        super().__init__(message)
        self.exception = exception
        self.errorcode = errorcode
        self.message = message
        self.debuginfo = debuginfo


def invalid_parameter(debuginfo: str) -> MoodleError:
    return MoodleError(
        "invalid_parameter_exception", "invalidparameter", "Invalid parameter value detected", debuginfo
    )


def moodle_exception(errorcode: str, message: str, debuginfo: str | None = None) -> MoodleError:
    return MoodleError("moodle_exception", errorcode, message, debuginfo)


def missing_record(table: str) -> MoodleError:
    return MoodleError(
        "dml_missing_record_exception",
        "invalidrecord",
        f"Can't find data record in database table {table}.",
        f"SELECT * FROM {{{table}}} WHERE id = ?",
    )


def access_exception(debuginfo: str) -> MoodleError:
    return MoodleError(
        "webservice_access_exception", "accessexception", "Access control exception", debuginfo
    )


# How Moodle's en strings name the capabilities the emulated functions check.
_CAPABILITY_NAMES = {
    "moodle/course:create": "Create courses",
    "moodle/course:update": "Update course settings",
    "moodle/course:visibility": "Hide/show courses",
    "moodle/course:viewparticipants": "View participants",
    "moodle/course:enrolreview": "Review course enrolments",
    "enrol/manual:enrol": "Enrol users",
    "moodle/course:overridecompletion": "Override activity completion status",
    "moodle/competency:competencyview": "View competency frameworks",
    "moodle/competency:coursecompetencyview": "View course competencies",
}


def capability_missing(capability: str) -> MoodleError:
    return MoodleError(
        "required_capability_exception",
        "nopermissions",
        "Sorry, but you do not currently have permissions to do that "
        f"({_CAPABILITY_NAMES.get(capability, capability)}).",
    )


def coding_error(detail: str, debuginfo: str | None = None) -> MoodleError:
    return MoodleError(
        "coding_exception",
        "codingerror",
        f"Coding error detected, it must be fixed by a programmer: {detail}",
        debuginfo,
    )


def course_context_invalid(course_id: int) -> MoodleError:
    """What a course read answers when the token's user cannot enter the course (validate_context
    failing inside the function, rethrown with the course id)."""
    return moodle_exception(
        "errorcoursecontextnotvalid",
        f"You cannot execute functions in the course context (course id:{course_id}). The context "
        "error message was: Course or activity not accessible.",
    )


def login_required() -> MoodleError:
    return MoodleError(
        "require_login_exception", "requireloginerror", "Course or activity not accessible.", "Not enrolled"
    )


# ---------------------------------------------------------------------------------------------------
# Parameter descriptions and Moodle's validation rules (external_api::validate_parameters)
# ---------------------------------------------------------------------------------------------------

REQUIRED, DEFAULT, OPTIONAL = 1, 0, 2
INT, FLOAT, BOOL, RAW, RAW_TRIMMED, TEXT, NOTAGS = (
    "int",
    "float",
    "bool",
    "raw",
    "raw_trimmed",
    "text",
    "notags",
)
ALPHA, ALPHANUM, ALPHANUMEXT, PLUGIN, SAFEDIR, LANG = (
    "alpha",
    "alphanum",
    "alphanumext",
    "plugin",
    "safedir",
    "lang",
)

_PATTERNS = {
    ALPHA: re.compile(r"[A-Za-z]*"),
    ALPHANUM: re.compile(r"[A-Za-z0-9]*"),
    ALPHANUMEXT: re.compile(r"[A-Za-z0-9_-]*"),
    PLUGIN: re.compile(r"(?:[a-z][a-z0-9_]*[a-z0-9])?|[a-z]"),
    SAFEDIR: re.compile(r"[A-Za-z0-9_-]*"),
    LANG: re.compile(r"|en"),
}
# What PHP's strip_tags would remove: "<" opening a tag, a closing tag, a comment or a declaration.
_TAG = re.compile(r"<[A-Za-z/!?]")


@dataclass(frozen=True)
class Value:
    type: str
    required: int = REQUIRED
    default: Any = None


@dataclass(frozen=True, eq=False)
class Single:
    keys: dict[str, Desc]
    required: int = REQUIRED
    default: Any = None


@dataclass(frozen=True, eq=False)
class Multiple:
    content: Desc
    required: int = REQUIRED
    default: Any = None


Desc = Value | Single | Multiple


def _clean(kind: str, value: Any) -> Any:
    text = ("1" if value else "0") if isinstance(value, bool) else str(value)
    if kind == BOOL and (isinstance(value, bool) or text in ("0", "1")):
        return text == "1"
    if kind == INT and re.fullmatch(r"-?\d+", text) and str(int(text)) == text:
        return int(text)
    if kind == FLOAT and re.fullmatch(r"[+-]?\d*\.?\d*(?:[eE][-+]?\d+)?", text) and text not in ("", "."):
        return float(text)
    if kind == RAW:
        return text
    if kind == RAW_TRIMMED and text == text.strip():
        return text
    if kind in (TEXT, NOTAGS) and not _TAG.search(text):
        return text
    pattern = _PATTERNS.get(kind)
    if pattern is not None and pattern.fullmatch(text):
        return text
    raise invalid_parameter(
        f'Invalid external api parameter: the value is "{text}", the server was expecting "{kind}" type'
    )


def validate(desc: Desc, value: Any) -> Any:
    """Moodle's validation: missing required keys, unexpected keys, and type cleaning, with the
    path to a faulty key built as "key => message: debuginfo"."""
    if isinstance(desc, Value):
        if isinstance(value, dict | list):
            raise invalid_parameter("Scalar type expected, array or object received.")
        return _clean(desc.type, value)
    if isinstance(desc, Single):
        if not isinstance(value, dict):
            raise invalid_parameter(f"Only arrays accepted. The bad value is: '{value}'")
        rest = dict(value)
        result: dict[str, Any] = {}
        for key, sub in desc.keys.items():
            if key not in rest:
                if sub.required == REQUIRED:
                    raise invalid_parameter(f"Missing required key in single structure: {key}")
                if sub.required == OPTIONAL:
                    continue
            try:
                result[key] = validate(sub, rest.pop(key) if key in rest else sub.default)
            except MoodleError as error:
                raise invalid_parameter(f"{key} => {error.message}: {error.debuginfo}") from None
        if rest:
            raise invalid_parameter(f"Unexpected keys ({', '.join(rest)}) detected in parameter array.")
        return result
    if not isinstance(value, dict | list):
        raise invalid_parameter(f"Only arrays accepted. The bad value is: '{value}'")
    items = value.values() if isinstance(value, dict) else value
    return [validate(desc.content, item) for item in items]


_BRACKETS = re.compile(r"\[([^\[\]]*)\]")


def decode_php_form(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Form pairs into nested arrays as PHP builds $_GET/$_POST: `a[0][b]=1` -> {"a": {"0": {"b": "1"}}}."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        cut = key.find("[")
        if cut <= 0 or not key.endswith("]"):
            root[key] = value
            continue
        path = [key[:cut], *_BRACKETS.findall(key[cut:])]
        node = root
        for part in path[:-1]:
            name = part or str(len(node))
            child = node.get(name)
            if not isinstance(child, dict):
                child = {}
                node[name] = child
            node = child
        node[path[-1] or str(len(node))] = value
    return root


def php_json(value: Any) -> str:
    """JSON as PHP's json_encode writes it: ASCII only, and "/" escaped."""
    return json.dumps(value, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/")


def xmlize(value: Any) -> str:
    if isinstance(value, dict):
        keys = "".join(f'<KEY name="{escape(str(k))}">{xmlize(v)}</KEY>\n' for k, v in value.items())
        return f"<SINGLE>\n{keys}</SINGLE>\n"
    if isinstance(value, list):
        return "<MULTIPLE>\n" + "".join(xmlize(v) for v in value) + "</MULTIPLE>\n"
    if value is None:
        return '<VALUE null="null"/>\n'
    if isinstance(value, bool):
        value = int(value)
    return f"<VALUE>{escape(str(value), quote=False)}</VALUE>\n"


# ---------------------------------------------------------------------------------------------------
# The site
# ---------------------------------------------------------------------------------------------------


@dataclass
class User:
    id: int
    username: str
    firstname: str
    lastname: str
    email: str
    idnumber: str = ""
    auth: str = "manual"
    suspended: bool = False
    confirmed: bool = True
    deleted: bool = False
    firstaccess: int = 0
    lastaccess: int = 0
    department: str = ""
    institution: str = ""
    city: str = ""
    country: str = ""
    lang: str = "en"
    timezone: str = "99"


@dataclass
class Activity:
    id: int
    course: int
    modname: str
    instance: int
    name: str
    completion: int = 1  # 0 none, 1 manual, 2 automatic


@dataclass
class Course:
    id: int
    fullname: str
    shortname: str
    categoryid: int = 1
    idnumber: str = ""
    summary: str = ""
    summaryformat: int = 1
    format: str = "topics"
    visible: int = 1
    startdate: int = 0
    enddate: int = 0
    timecreated: int = 0
    timemodified: int = 0
    enablecompletion: int = 1
    completionnotify: int = 0
    showgrades: int = 1
    newsitems: int = 5
    maxbytes: int = 0
    showreports: int = 0
    groupmode: int = 0
    groupmodeforce: int = 0
    defaultgroupingid: int = 0
    lang: str = ""
    manual_enrol: bool = True  # the course has an enabled manual enrolment instance
    criteria: list[int] = field(default_factory=list)  # activities the course completion requires
    aggregation: int = 1  # 1 all criteria, 2 any


@dataclass
class Enrolment:
    userid: int
    courseid: int
    roleid: int = STUDENT
    status: int = 0  # 0 active, 1 suspended
    timestart: int = 0
    timeend: int = 0
    timecreated: int = 0


@dataclass
class ActivityState:
    state: int  # 0 incomplete, 1 complete, 2 complete-pass, 3 complete-fail
    timemodified: int
    overrideby: int | None = None


@dataclass
class Framework:
    id: int
    shortname: str
    idnumber: str
    description: str = ""
    visible: bool = True
    timecreated: int = 0
    timemodified: int = 0


@dataclass
class Competency:
    id: int
    frameworkid: int
    shortname: str
    idnumber: str
    description: str = ""
    parentid: int = 0
    sortorder: int = 0
    timecreated: int = 0
    timemodified: int = 0


@dataclass
class CourseCompetency:
    id: int
    courseid: int
    competencyid: int
    sortorder: int = 0
    timecreated: int = 0


@dataclass
class Token:
    userid: int
    service: str = SERVICE
    validuntil: int = 0
    # The capabilities the token's user lacks (everything else is allowed, as for an administrator).
    missing_capabilities: set[str] = field(default_factory=set)
    # The roles the token's user may assign on enrolment (None: every role, as an administrator).
    assignable_roles: set[int] | None = None


@dataclass
class Service:
    shortname: str
    name: str
    functions: set[str]
    enabled: bool = True


@dataclass
class Fault:
    """Something going wrong before or instead of Moodle answering. `function` None matches every
    call; `times` None applies until cleared.

    kinds: "http_status" (an HTTP error from a proxy, with an optional Retry-After), "timeout"
    (no answer for `seconds`), "latency" (answer after `seconds`), "moodle_error" (Moodle's error
    body, HTTP 200), "reset" (the connection closes half-way through the answer's body)."""

    kind: str
    function: str | None = None
    times: int | None = 1
    after: int = 0  # matching calls answered normally before the fault applies
    status: int = 503
    retry_after: str | None = None
    seconds: float = 0.0
    exception: str = "moodle_exception"
    errorcode: str = "generalexceptionmessage"
    message: str = "An injected error."


@dataclass(frozen=True)
class Call:
    """One request as the emulator received it (the token is never kept)."""

    function: str | None
    params: dict[str, Any]
    status: int
    errorcode: str | None
    token_in_query: bool


@dataclass(frozen=True)
class Ctx:
    user: User
    token: Token
    wwwroot: str


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
        self.rate_limit: tuple[float, float] | None = None  # (calls per second, burst) per token
        self._buckets: dict[str, tuple[float, float]] = {}  # token -> (tokens, at)
        self.admitted = 0
        self.throttled = 0
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
        with self.lock:
            self.rate_limit = None if per_second is None else (per_second, burst or per_second)
            self._buckets.clear()
            self.admitted = self.throttled = 0

    def admit(self, token: str | None) -> float | None:
        """None when the call may go on; otherwise the seconds its caller should wait."""
        with self.lock:
            if self.rate_limit is None:
                self.admitted += 1
                return None
            rate, burst = self.rate_limit
            now = time.monotonic()
            tokens, at = self._buckets.get(token or "", (burst, now))
            tokens = min(burst, tokens + (now - at) * rate)
            if tokens >= 1.0:
                self._buckets[token or ""] = (tokens - 1.0, now)
                self.admitted += 1
                return None
            self._buckets[token or ""] = (tokens, now)
            self.throttled += 1
            return (1.0 - tokens) / rate

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


# ---------------------------------------------------------------------------------------------------
# The functions (parameters as each function's execute_parameters declares them)
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunctionSpec:
    params: dict[str, Desc]
    handler: Callable[..., Any]


FUNCTIONS: dict[str, FunctionSpec] = {}


def function(name: str, params: dict[str, Desc]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(handler: Callable[..., Any]) -> Callable[..., Any]:
        FUNCTIONS[name] = FunctionSpec(params, handler)
        return handler

    return register


_OPTION = Single({"name": Value(ALPHANUMEXT), "value": Value(RAW)})
_WARNING_FREE: dict[str, Any] = {"warnings": []}


@function("core_webservice_get_site_info", {"serviceshortnames": Multiple(Value(ALPHANUMEXT), DEFAULT, [])})
def get_site_info(site: MoodleSite, ctx: Ctx, serviceshortnames: list[str]) -> dict[str, Any]:
    service = site.services[ctx.token.service]
    user = ctx.user
    return {
        "sitename": site.sitename,
        "username": user.username,
        "firstname": user.firstname,
        "lastname": user.lastname,
        "fullname": f"{user.firstname} {user.lastname}",
        "lang": "en",
        "userid": user.id,
        "siteurl": ctx.wwwroot,
        "userpictureurl": f"{ctx.wwwroot}/theme/image.php/boost/core/1/u/f1",
        "functions": [{"name": name, "version": site.version_number} for name in sorted(service.functions)],
        "downloadfiles": 0,
        "uploadfiles": 0,
        "release": site.release,
        "version": site.version_number,
        "mobilecssurl": "",
        "advancedfeatures": [
            {"name": "enablecompletion", "value": int(site.completion_enabled)},
            {"name": "enablecompetencies", "value": int(site.competencies_enabled)},
        ],
        "usercanmanageownfiles": True,
        "userquota": 0,
        "usermaxuploadfilesize": -1,
        "userhomepage": 1,
        "userprivateaccesskey": f"{user.id:032x}",
        "siteid": site.site_id,
        "sitecalendartype": "gregorian",
        "usercalendartype": "gregorian",
        "userissiteadmin": user.id == 2,
        "theme": "boost",
        "limitconcurrentlogins": 0,
        "policyagreed": 0,
    }


_USER_KEYS = {"id", "lastname", "firstname", "idnumber", "username", "email", "auth"}


def _criterion(key: str, value: str) -> Callable[[User], bool]:
    """Exact matches, but SQL LIKE (case-insensitive, % and _ wildcards) on email and names."""
    if key == "id":
        return lambda user: str(user.id) == value.strip()
    if key in ("email", "firstname", "lastname"):
        return lambda user: _like(value, str(getattr(user, key)))
    return lambda user: bool(getattr(user, key) == value)


def _like(pattern: str, value: str) -> bool:
    regex = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE | re.DOTALL) is not None


@function(
    "core_user_get_users",
    {"criteria": Multiple(Single({"key": Value(ALPHA), "value": Value(RAW)}))},
)
def get_users(site: MoodleSite, ctx: Ctx, criteria: list[dict[str, str]]) -> dict[str, Any]:
    used: set[str] = set()
    warnings = []
    checks: list[Callable[[User], bool]] = []
    for criterion in criteria:
        key, value = criterion["key"], criterion["value"]
        if key in used:
            raise moodle_exception(
                "keyalreadyset", "A search key was sent twice.", f"The key {key} was sent twice"
            )
        used.add(key)
        if key not in _USER_KEYS:
            warnings.append(
                {
                    "item": key,
                    "warningcode": "invalidfieldparameter",
                    "message": f"'{key}' is not a search key.",
                }
            )
        else:
            checks.append(_criterion(key, value))
    names = site.shows_names(ctx)
    users = [
        site.user_details(u, ctx.wwwroot, names=names, own=u.id == ctx.user.id)
        for u in sorted(site.users.values(), key=lambda u: u.id)
        if not u.deleted and all(check(u) for check in checks) and site.can_see_user(ctx, u)
    ]
    return {"users": users, "warnings": warnings}


@function(
    "core_course_get_courses",
    {"options": Single({"ids": Multiple(Value(INT), OPTIONAL)}, DEFAULT, {})},
)
def get_courses(site: MoodleSite, ctx: Ctx, options: dict[str, Any]) -> list[dict[str, Any]]:
    ids = options.get("ids")
    chosen = sorted(site.courses) if not ids else sorted({i for i in ids if i in site.courses})
    for course_id in chosen:
        if not site.can_enter(ctx, site.courses[course_id]):
            raise course_context_invalid(course_id)
    return [site.course_record(site.courses[i]) for i in chosen]


_COURSE_FIELDS: dict[str, Desc] = {
    "idnumber": Value(RAW, OPTIONAL),
    "summary": Value(RAW, OPTIONAL),
    "summaryformat": Value(INT, DEFAULT, 1),
    "format": Value(PLUGIN, DEFAULT, "topics"),
    "showgrades": Value(INT, DEFAULT, 1),
    "newsitems": Value(INT, DEFAULT, 5),
    "startdate": Value(INT, OPTIONAL),
    "enddate": Value(INT, OPTIONAL),
    "numsections": Value(INT, OPTIONAL),
    "maxbytes": Value(INT, DEFAULT, 0),
    "showreports": Value(INT, DEFAULT, 0),
    "visible": Value(INT, OPTIONAL),
    "hiddensections": Value(INT, OPTIONAL),
    "groupmode": Value(INT, DEFAULT, 0),
    "groupmodeforce": Value(INT, DEFAULT, 0),
    "defaultgroupingid": Value(INT, DEFAULT, 0),
    "enablecompletion": Value(INT, OPTIONAL),
    "completionnotify": Value(INT, OPTIONAL),
    "lang": Value(SAFEDIR, OPTIONAL),
    "forcetheme": Value(PLUGIN, OPTIONAL),
    "courseformatoptions": Multiple(Single({"name": Value(ALPHANUMEXT), "value": Value(RAW)}), OPTIONAL),
    "customfields": Multiple(Single({"shortname": Value(ALPHANUMEXT), "value": Value(RAW)}), OPTIONAL),
}
_UPDATABLE = (
    "fullname",
    "shortname",
    "idnumber",
    "summary",
    "summaryformat",
    "format",
    "showgrades",
    "newsitems",
    "startdate",
    "enddate",
    "maxbytes",
    "showreports",
    "visible",
    "groupmode",
    "groupmodeforce",
    "defaultgroupingid",
    "enablecompletion",
    "completionnotify",
    "lang",
)


def _check_course_names(site: MoodleSite, data: dict[str, Any], course_id: int | None) -> None:
    for name in ("fullname", "shortname"):
        if name in data and data[name].strip() == "":
            raise moodle_exception("errorinvalidparam", f'The parameter "{name}" is not valid.')
    if "lang" in data and data["lang"] not in ("", "en"):
        raise moodle_exception("errorinvalidparam", 'The parameter "lang" is not valid.')
    others = [c for c in site.courses.values() if c.id != course_id]
    if data.get("shortname") and any(c.shortname == data["shortname"] for c in others):
        raise moodle_exception(
            "shortnametaken", f"Short name is already used for another course ({data['shortname']})"
        )
    if data.get("idnumber") and any(c.idnumber == data["idnumber"] for c in others):
        raise moodle_exception(
            "courseidnumbertaken", f"Another course already uses the ID number {data['idnumber']}."
        )
    too_long = (
        len(data.get("fullname", "")) > 254
        or len(data.get("shortname", "")) > 255
        or len(data.get("idnumber") or "") > 100
    )
    if too_long:
        raise MoodleError("dml_write_exception", "dmlwriteexception", "Writing to the database failed.")


@function(
    "core_course_create_courses",
    {
        "courses": Multiple(
            Single(
                {
                    "fullname": Value(TEXT),
                    "shortname": Value(TEXT),
                    "categoryid": Value(INT),
                    **_COURSE_FIELDS,
                }
            )
        )
    },
)
def create_courses(site: MoodleSite, ctx: Ctx, courses: list[dict[str, Any]]) -> list[dict[str, Any]]:
    staged: list[Course] = []
    created: list[dict[str, Any]] = []
    try:  # one transaction: the first error rolls every course of the call back
        for data in courses:
            if data["categoryid"] not in site.categories:
                raise moodle_exception(
                    "errorcatcontextnotvalid",
                    f"Category {data['categoryid']} does not exist: functions cannot run in its context.",
                )
            site.require(ctx, "moodle/course:create")
            _check_course_names(site, data, None)
            now = site.now()
            completion = data.get("enablecompletion", 1) if site.completion_enabled else 0
            # Without moodle/course:visibility a new course takes its category's visibility.
            can_hide = "moodle/course:visibility" not in ctx.token.missing_capabilities
            copied = ("idnumber", "summary", "summaryformat", "format", "startdate", "enddate", "lang")
            course = Course(
                site._new_id("course"),
                data["fullname"],
                data["shortname"],
                categoryid=data["categoryid"],
                timecreated=now,
                timemodified=now,
                enablecompletion=completion,
                visible=data.get("visible", 1) if can_hide else 1,
                **{k: data[k] for k in copied if k in data},
            )
            site.courses[course.id] = course
            staged.append(course)
            created.append({"id": course.id, "shortname": course.shortname})
    except MoodleError:
        for course in staged:
            del site.courses[course.id]
        raise
    return created


@function(
    "core_course_update_courses",
    {
        "courses": Multiple(
            Single(
                {
                    "id": Value(INT),
                    "fullname": Value(TEXT, OPTIONAL),
                    "shortname": Value(TEXT, OPTIONAL),
                    "categoryid": Value(INT, OPTIONAL),
                    **{
                        k: Value(v.type, OPTIONAL) if isinstance(v, Value) else v
                        for k, v in _COURSE_FIELDS.items()
                    },
                }
            )
        )
    },
)
def update_courses(site: MoodleSite, ctx: Ctx, courses: list[dict[str, Any]]) -> dict[str, Any]:
    warnings = []
    for data in courses:
        try:  # each course on its own: a failure is a warning, the others go on
            course = site.course_or_missing(data["id"])
            site.require(ctx, "moodle/course:update")
            if "visible" in data and data["visible"] != course.visible:
                site.require(ctx, "moodle/course:visibility")
            if "categoryid" in data and data["categoryid"] not in site.categories:
                raise missing_record("course_categories")
            _check_course_names(site, data, course.id)
            for name in _UPDATABLE:
                if name in data:
                    setattr(course, name, data[name])
            if "categoryid" in data:
                course.categoryid = data["categoryid"]
            course.timemodified = site.now()
        except MoodleError as error:
            warnings.append(
                {
                    "item": "course",
                    "itemid": data["id"],
                    "warningcode": error.errorcode,
                    "message": error.message,
                }
            )
    return {"warnings": warnings}


@function(
    "core_enrol_get_enrolled_users", {"courseid": Value(INT), "options": Multiple(_OPTION, DEFAULT, [])}
)
def get_enrolled_users(site: MoodleSite, ctx: Ctx, courseid: int, options: list[dict[str, str]]) -> list[Any]:
    course = site.course_or_missing(courseid)
    if not site.can_enter(ctx, course):
        raise course_context_invalid(course.id)
    onlyactive = onlysuspended = False
    userfields: list[str] = []
    limitfrom = limitnumber = 0
    sortby, descending = "id", False
    for option in options:
        name, value = option["name"], option["value"]
        if name == "onlyactive":
            onlyactive = bool(value) and value != "0"
        elif name == "onlysuspended":
            onlysuspended = bool(value) and value != "0"
        elif name == "userfields":
            userfields = [
                f for f in (p.strip() for p in value.split(",")) if re.fullmatch(r"[A-Za-z0-9_-]+", f)
            ]
            unknown = [f for f in userfields if f not in _USER_FIELDS]
            if unknown:
                raise moodle_exception("invaliduserfield", f"{unknown[0]} is not a user field.")
        elif name == "limitfrom":
            limitfrom = _int_or_zero(value)
        elif name == "limitnumber":
            limitnumber = _int_or_zero(value)
        elif name == "sortby":
            if value not in ("id", "firstname", "lastname", "siteorder"):
                raise invalid_parameter(
                    f"sortby must be one of id, firstname, lastname, siteorder, not {value}"
                )
            sortby = "id" if value == "siteorder" else value
        elif name == "sortdirection":
            if value.upper() not in ("ASC", "DESC"):
                raise invalid_parameter(f"sortdirection must be ASC or DESC, not {value}")
            descending = value.upper() == "DESC"
    if onlyactive and onlysuspended:
        raise coding_error("onlyactive and onlysuspended cannot both be set.")
    if onlyactive or onlysuspended:
        site.require(ctx, "moodle/course:enrolreview")
    site.require(ctx, "moodle/course:viewparticipants")
    rows = []
    for (user_id, course_id), enrolment in site.enrolments.items():
        user = site.users.get(user_id)
        if course_id != course.id or user is None or user.deleted or not site.can_see_user(ctx, user):
            continue
        active = site.is_active(enrolment)
        if (onlyactive and not active) or (onlysuspended and active):
            continue
        rows.append((user, enrolment))
    rows.sort(key=lambda r: getattr(r[0], sortby), reverse=descending)
    rows = rows[limitfrom : limitfrom + limitnumber] if limitnumber > 0 else rows[limitfrom:]
    result = []
    names = site.shows_names(ctx)
    for user, enrolment in rows:
        full = site.user_details(user, ctx.wwwroot, names=names, account=False, own=user.id == ctx.user.id)
        full.update(
            lastcourseaccess=site.course_access.get((user.id, course.id), 0),
            roles=[_role(enrolment.roleid)],
            enrolledcourses=[
                {"id": c.id, "fullname": c.fullname, "shortname": c.shortname}
                for (uid, cid) in sorted(site.enrolments)
                if uid == user.id and (c := site.courses.get(cid)) is not None
            ],
        )
        if userfields:
            full = {k: v for k, v in full.items() if k in {"id", "fullname", *userfields}}
        result.append(full)
    return result


# The fields core_enrol_get_enrolled_users can be asked for (its `userfields` option).
_USER_FIELDS = frozenset(
    [
        "id",
        "username",
        "fullname",
        "firstname",
        "lastname",
        "email",
        "address",
        "phone1",
        "phone2",
        "department",
        "institution",
        "interests",
        "firstaccess",
        "lastaccess",
        "lastcourseaccess",
        "auth",
        "suspended",
        "confirmed",
        "idnumber",
        "lang",
        "theme",
        "timezone",
        "mailformat",
        "trackforums",
        "description",
        "descriptionformat",
        "city",
        "country",
        "profileimageurlsmall",
        "profileimageurl",
        "customfields",
        "groups",
        "roles",
        "preferences",
        "enrolledcourses",
        "initials",
    ]
)


def _int_or_zero(value: str) -> int:
    return int(value) if re.fullmatch(r"-?\d+", value.strip()) else 0


def _role(roleid: int) -> dict[str, Any]:
    """A standard role has no name of its own (Moodle answers ""; its display name is a string)."""
    _, shortname, _ = ROLES.get(roleid, (f"Role {roleid}", f"role{roleid}", roleid))
    name = "" if roleid in ROLES else f"Role {roleid}"
    return {"roleid": roleid, "name": name, "shortname": shortname, "sortorder": 0}


@function(
    "core_enrol_get_users_courses", {"userid": Value(INT), "returnusercount": Value(BOOL, DEFAULT, True)}
)
def get_users_courses(site: MoodleSite, ctx: Ctx, userid: int, returnusercount: bool) -> list[dict[str, Any]]:
    result = []
    for (user_id, course_id), enrolment in sorted(site.enrolments.items()):
        course = site.courses.get(course_id)
        if user_id != userid or course is None or course_id == site.site_id or not site.is_active(enrolment):
            continue
        if not course.visible and enrolment.roleid in (STUDENT,):
            continue  # left out unless the learner may see hidden courses (students never may)
        tracked = site.is_tracked(userid, course_id)
        entry: dict[str, Any] = {
            "id": course.id,
            "shortname": course.shortname,
            "fullname": course.fullname,
            "displayname": course.fullname,
            "idnumber": course.idnumber,
            "visible": course.visible,
            "summary": course.summary,
            "summaryformat": course.summaryformat,
            "format": course.format,
            "courseimage": f"{ctx.wwwroot}/course/generated/{course.id}.svg",
            "showgrades": bool(course.showgrades),
            "lang": course.lang,
            "enablecompletion": bool(course.enablecompletion),
            "completionhascriteria": bool(course.criteria),
            "completionusertracked": tracked,
            "category": course.categoryid,
            "progress": site.progress(userid, course),
            "completed": ((course.id, userid) in site.course_completions) if tracked else None,
            "startdate": course.startdate,
            "enddate": course.enddate,
            "marker": 0,
            "lastaccess": site.course_access.get((userid, course.id)),
            "isfavourite": False,
            "hidden": False,
            "overviewfiles": [],
            "showactivitydates": False,
            "showcompletionconditions": True if course.enablecompletion else None,
            "timemodified": course.timemodified,
        }
        if returnusercount:
            entry["enrolledusercount"] = sum(1 for (_, c) in site.enrolments if c == course.id)
        result.append(entry)
    return result


_ENROLMENT = Single(
    {
        "roleid": Value(INT),
        "userid": Value(INT),
        "courseid": Value(INT),
        "timestart": Value(INT, OPTIONAL),
        "timeend": Value(INT, OPTIONAL),
        "suspend": Value(INT, OPTIONAL),
    }
)


@function("enrol_manual_enrol_users", {"enrolments": Multiple(_ENROLMENT)})
def enrol_users(site: MoodleSite, ctx: Ctx, enrolments: list[dict[str, Any]]) -> None:
    planned = []
    for data in enrolments:  # one transaction: every enrolment is checked before any is made
        course = site.courses.get(data["courseid"])
        if course is None:
            raise invalid_parameter("Context does not exist")
        if not site.can_enter(ctx, course):
            raise login_required()
        site.require(ctx, "enrol/manual:enrol")
        assignable = ctx.token.assignable_roles
        if data["roleid"] not in ROLES or (assignable is not None and data["roleid"] not in assignable):
            raise moodle_exception(
                "wsusercannotassign",
                f"You don't have the permission to assign this role ({data['roleid']}) to this user "
                f"({data['userid']}) in this course ({course.id}).",
            )
        user = site.users.get(data["userid"])
        if user is None or user.deleted:
            # 4.4 fails in enrol_plugin::enrol_user; 4.5 looks the user up first.
            if site.version == "4.4":
                raise coding_error("User ID does not exist or is deleted!", f"userid:{data['userid']}")
            raise MoodleError("dml_missing_record_exception", "invaliduser", "Invalid user")
        if not course.manual_enrol:
            raise moodle_exception(
                "wsnoinstance", f"Course {course.id} has no enabled manual enrolment method."
            )
        planned.append((user, course, data))
    for user, course, data in planned:
        existing = site.enrolments.get((user.id, course.id))
        status = 1 if data.get("suspend") else 0
        if existing is None:
            site.enrolments[(user.id, course.id)] = Enrolment(
                user.id,
                course.id,
                data["roleid"],
                status,
                data.get("timestart", 0),
                data.get("timeend", 0),
                site.now(),
            )
        else:
            existing.roleid = data["roleid"]
            existing.status = status
            existing.timestart = data.get("timestart", existing.timestart)
            existing.timeend = data.get("timeend", existing.timeend)


@function("core_completion_get_activities_completion_status", {"courseid": Value(INT), "userid": Value(INT)})
def get_activities_completion_status(
    site: MoodleSite, ctx: Ctx, courseid: int, userid: int
) -> dict[str, Any]:
    course = site.course_or_missing(courseid)
    if not site.can_enter(ctx, course):
        raise login_required()
    user = site.active_user(userid)
    if user.id != ctx.user.id:
        site.require(ctx, "report/progress:view")
    statuses = []
    if course.enablecompletion and site.completion_enabled:
        for activity in sorted(site.activities.values(), key=lambda a: a.id):
            if activity.course != course.id or not activity.completion:
                continue
            state = site.activity_states.get((activity.id, user.id))
            statuses.append(
                {
                    "cmid": activity.id,
                    "modname": activity.modname,
                    "instance": activity.instance,
                    "state": state.state if state else 0,
                    "timecompleted": state.timemodified if state else 0,
                    "tracking": activity.completion,
                    "overrideby": state.overrideby if state else None,
                    "valueused": False,
                    "hascompletion": True,
                    "isautomatic": activity.completion == 2,
                    "istrackeduser": site.is_tracked(user.id, course.id),
                    "uservisible": True,
                    "details": [],
                    "isoverallcomplete": state is not None and state.state in (1, 2),
                }
            )
    return {"statuses": statuses, **_WARNING_FREE}


@function(
    "core_completion_override_activity_completion_status",
    {"userid": Value(INT), "cmid": Value(INT), "newstate": Value(INT)},
)
def override_activity_completion_status(
    site: MoodleSite, ctx: Ctx, userid: int, cmid: int, newstate: int
) -> dict[str, Any]:
    activity = site.activities.get(cmid)
    if activity is None:
        raise missing_record("course_modules")
    course = site.courses[activity.course]
    if not (course.enablecompletion and site.completion_enabled):
        raise moodle_exception("completionnotenabled", "Completion is not enabled for this course.")
    site.require(ctx, "moodle/course:overridecompletion")
    if newstate not in (0, 1):
        raise coding_error(f"an override can only set a completion state of 0 or 1, not {newstate}.")
    if activity.completion:
        site.activity_states[(cmid, userid)] = ActivityState(newstate, site.now(), ctx.user.id)
        # Moodle aggregates the course completion of this one user at once (the task is for others).
        site.aggregate_completion(userid, course.id)
    state = site.activity_states.get((cmid, userid))
    return {
        "cmid": cmid,
        "userid": userid,
        "state": state.state if state else 0,
        "timecompleted": state.timemodified if state else 0,
        "overrideby": state.overrideby if state else None,
        "tracking": activity.completion,
    }


@function("core_completion_get_course_completion_status", {"courseid": Value(INT), "userid": Value(INT)})
def get_course_completion_status(site: MoodleSite, ctx: Ctx, courseid: int, userid: int) -> dict[str, Any]:
    course = site.course_or_missing(courseid)
    if not site.can_enter(ctx, course):
        raise login_required()
    user = site.active_user(userid)
    if not (course.enablecompletion and site.completion_enabled) or "report/completion:view" in (
        ctx.token.missing_capabilities
    ):
        raise moodle_exception("cannotviewreport", "You cannot view this report")
    if not site.is_tracked(user.id, course.id):
        raise moodle_exception("usernotenroled", "User is not enrolled in this course")
    if not course.criteria:
        raise moodle_exception("nocriteriaset", "This course has no completion criteria.")
    completions = []
    for cmid in course.criteria:
        activity = site.activities[cmid]
        state = site.activity_states.get((cmid, user.id))
        done = state is not None and state.state in (1, 2)
        completions.append(
            {
                "type": CRITERIA_TYPE_ACTIVITY,
                "title": f"Activity completion: {activity.name}",
                "status": "Yes" if done else "No",
                "complete": done,
                "timecompleted": state.timemodified if done and state else None,
                "details": {
                    "type": "Activity completion",
                    "criteria": activity.name,
                    "requirement": "Marking complete" if activity.completion == 1 else "Viewing",
                    "status": "",
                },
            }
        )
    return {
        "completionstatus": {
            "completed": (course.id, user.id) in site.course_completions,
            "aggregation": course.aggregation,
            "completions": completions,
        },
        **_WARNING_FREE,
    }


_CONTEXT = Single(
    {
        "contextid": Value(INT, DEFAULT, 0),
        "contextlevel": Value(ALPHANUM, DEFAULT, ""),
        "instanceid": Value(INT, DEFAULT, 0),
    }
)


def _page(rows: list[Any], skip: int, limit: int) -> list[Any]:
    return rows[skip : skip + limit] if limit > 0 else rows[skip:]


def _check_order(order: str) -> None:
    if order not in ("", "ASC", "DESC"):
        raise invalid_parameter("Invalid order param. Must be ASC, DESC or empty.")


@function(
    "core_competency_list_competency_frameworks",
    {
        "sort": Value(ALPHANUMEXT, DEFAULT, "shortname"),
        "order": Value(ALPHA, DEFAULT, ""),
        "skip": Value(INT, DEFAULT, 0),
        "limit": Value(INT, DEFAULT, 0),
        "context": _CONTEXT,
        "includes": Value(ALPHA, DEFAULT, "children"),
        "onlyvisible": Value(BOOL, DEFAULT, False),
        "query": Value(RAW, DEFAULT, ""),
    },
)
def list_competency_frameworks(
    site: MoodleSite,
    ctx: Ctx,
    sort: str,
    order: str,
    skip: int,
    limit: int,
    context: dict[str, Any],
    includes: str,
    onlyvisible: bool,
    query: str,
) -> list[dict[str, Any]]:
    if context["contextid"]:
        if context["contextid"] != 1:
            raise missing_record("context")
    elif context["contextlevel"] and context["contextlevel"] not in ("system", "10"):
        raise invalid_parameter(f"Invalid context level = {context['contextlevel']}")
    elif not context["contextlevel"]:
        raise invalid_parameter("Give a context id, or a context level with an instance id.")
    _check_order(order)
    site.require_competencies()
    site.require(ctx, "moodle/competency:competencyview")
    rows = [
        f
        for f in site.frameworks.values()
        if (f.visible or not onlyvisible)
        and (not query or query.lower() in (f.shortname + f.idnumber).lower())
    ]
    if sort not in ("id", "shortname", "idnumber", "timecreated", "timemodified", ""):
        raise MoodleError("dml_read_exception", "dmlreadexception", "Reading from the database failed.")
    rows.sort(key=lambda f: getattr(f, sort or "id"), reverse=order == "DESC")
    return [
        {
            "shortname": f.shortname,
            "idnumber": f.idnumber,
            "description": f.description,
            "descriptionformat": 1,
            "visible": f.visible,
            "scaleid": 2,
            "scaleconfiguration": '[{"scaleid":"2"},{"id":1,"scaledefault":1,"proficient":1}]',
            "contextid": 1,
            "taxonomies": "competency,competency,competency,competency",
            "id": f.id,
            "timecreated": f.timecreated,
            "timemodified": f.timemodified,
            "usermodified": 2,
            "canmanage": True,
            "competenciescount": sum(1 for c in site.competencies.values() if c.frameworkid == f.id),
            "contextname": "System",
            "contextnamenoprefix": "System",
        }
        for f in _page(rows, skip, limit)
    ]


@function(
    "core_competency_list_competencies",
    {
        "filters": Multiple(Single({"column": Value(ALPHANUMEXT), "value": Value(TEXT)})),
        "sort": Value(ALPHANUMEXT, DEFAULT, ""),
        "order": Value(ALPHA, DEFAULT, ""),
        "skip": Value(INT, DEFAULT, 0),
        "limit": Value(INT, DEFAULT, 0),
    },
)
def list_competencies(
    site: MoodleSite, ctx: Ctx, filters: list[dict[str, str]], sort: str, order: str, skip: int, limit: int
) -> list[dict[str, Any]]:
    _check_order(order)
    columns = {"id", "shortname", "description", "sortorder", "idnumber", "parentid", "competencyframeworkid"}
    wanted: dict[str, str] = {}
    for item in filters:
        if item["column"] not in columns:
            raise invalid_parameter("Filter column was invalid")
        wanted[item["column"]] = item["value"]
    site.require_competencies()
    if (
        "competencyframeworkid" in wanted
        and _int_or_zero(wanted["competencyframeworkid"]) not in site.frameworks
    ):
        raise missing_record("competency_framework")
    site.require(ctx, "moodle/competency:competencyview")

    def value_of(comp: Competency, column: str) -> Any:
        return comp.frameworkid if column == "competencyframeworkid" else getattr(comp, column)

    rows = [c for c in site.competencies.values() if all(str(value_of(c, k)) == v for k, v in wanted.items())]
    if sort and sort not in columns:
        raise MoodleError("dml_read_exception", "dmlreadexception", "Reading from the database failed.")
    rows.sort(key=lambda c: value_of(c, sort or "id"), reverse=order == "DESC")
    return [site.competency_record(c) for c in _page(rows, skip, limit)]


@function("core_competency_list_course_competencies", {"id": Value(INT)})
def list_course_competencies(site: MoodleSite, ctx: Ctx, id: int) -> list[dict[str, Any]]:
    course = site.course_or_missing(id)
    if not site.can_enter(ctx, course):
        raise login_required()
    site.require_competencies()
    site.require(ctx, "moodle/competency:coursecompetencyview")
    links = sorted(
        (c for c in site.course_competencies.values() if c.courseid == course.id), key=lambda c: c.sortorder
    )
    return [
        {
            "competency": site.competency_record(site.competencies[link.competencyid]),
            "coursecompetency": {
                "courseid": link.courseid,
                "competencyid": link.competencyid,
                "sortorder": link.sortorder,
                "ruleoutcome": 0,
                "id": link.id,
                "timecreated": link.timecreated,
                "timemodified": link.timecreated,
                "usermodified": 2,
            },
        }
        for link in links
    ]


# ---------------------------------------------------------------------------------------------------
# A seeded site
# ---------------------------------------------------------------------------------------------------

FIRST_NAMES = (
    "Ada",
    "Ben",
    "Chloé",
    "Dmitri",
    "Eva",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kemi",
    "Lars",
)
LAST_NAMES = (
    "Okafor",
    "Lindqvist",
    "Moreau",
    "Petrov",
    "Schmidt",
    "Haddad",
    "Hopper",
    "Tanaka",
    "Silva",
    "Berg",
)
TOPICS = (
    "Workplace Safety",
    "Data Privacy Basics",
    "Leadership Fundamentals",
    "Customer Care",
    "Project Management",
    "Presentation Skills",
    "Cybersecurity Awareness",
    "Negotiation",
)
SEED_EPOCH = 1_735_689_600  # 2025-01-01T00:00:00Z: seeded timestamps are stable from run to run


def seeded_site(
    *,
    seed: int = 1,
    users: int = 8,
    courses: int = 5,
    token: str | None = None,
    completion_task_interval: float | None = 60.0,
    debug: bool = False,
    clock: Callable[[], float] = time.time,
    version: str = NEWEST,
) -> MoodleSite:
    """A site with learners, courses (with activities, completion criteria, a hidden course and
    one without completion tracking), enrolments in every state, completions, and competency
    frameworks linked to courses. The same seed gives the same site."""
    rng = random.Random(seed)
    site = MoodleSite(
        completion_task_interval=completion_task_interval, debug=debug, clock=clock, version=version
    )
    if token is not None:
        site.add_token(token)
    learners = []
    for n in range(users):
        first, last = FIRST_NAMES[n % len(FIRST_NAMES)], LAST_NAMES[(n * 3) % len(LAST_NAMES)]
        handle = f"{first}.{last}{n}".lower().replace("é", "e")
        learners.append(
            site.add_user(
                handle,
                first,
                last,
                f"{handle}@example.com",
                idnumber=f"EMP{1000 + n}",
                department=("Sales", "Engineering", "Operations")[n % 3],
                suspended=n == users - 1,
                firstaccess=SEED_EPOCH + n * 3600,
                lastaccess=SEED_EPOCH + n * 7200,
            )
        )
    catalog = []
    for n in range(courses):
        topic = TOPICS[n % len(TOPICS)]
        course = site.add_course(
            topic if n < len(TOPICS) else f"{topic} {n // len(TOPICS) + 1}",
            f"C{100 + n}",
            activities=0 if n == 2 else 2 + n % 2,
            summary=f"<p>{topic}: a course of the emulated site.</p>",
            visible=0 if n == courses - 1 and courses > 2 else 1,
            enablecompletion=0 if n == 2 else 1,
            startdate=SEED_EPOCH,
        )
        course.timecreated = course.timemodified = SEED_EPOCH + n * 86_400
        catalog.append(course)
    framework = site.add_framework("Core skills", "CORE", description="Skills every employee builds.")
    other = site.add_framework("Digital skills", "DIGITAL")
    skills = [
        site.add_competency(framework.id, name, f"CORE-{i}")
        for i, name in enumerate(("Communication", "Teamwork", "Problem solving", "Leadership"))
    ] + [
        site.add_competency(other.id, name, f"DIG-{i}")
        for i, name in enumerate(("Data literacy", "Security"))
    ]
    for fw in site.frameworks.values():
        fw.timecreated = fw.timemodified = SEED_EPOCH
    for comp in skills:
        comp.timecreated = comp.timemodified = SEED_EPOCH
    for course in catalog:
        for comp in rng.sample(skills, 2):
            site.add_course_competency(course.id, comp.id).timecreated = SEED_EPOCH
    for user in learners:
        for course in rng.sample(catalog, min(len(catalog), 3)):
            enrolment = site.enrol(user.id, course.id)
            enrolment.timecreated = SEED_EPOCH
            roll = rng.random()
            criteria = course.criteria
            if roll < 0.15:
                enrolment.status = 1  # suspended: a dropped learner
            elif roll < 0.45 and criteria:
                for cmid in criteria:
                    site.complete_activity(cmid, user.id, at=SEED_EPOCH + rng.randrange(86_400, 90 * 86_400))
            elif roll < 0.7 and criteria:
                site.complete_activity(
                    criteria[0], user.id, at=SEED_EPOCH + rng.randrange(86_400, 30 * 86_400)
                )
                site.visit_course(user.id, course.id, SEED_EPOCH + 40 * 86_400)
    if courses:
        site.enrol(2, catalog[0].id, roleid=EDITING_TEACHER).timecreated = SEED_EPOCH
    site.run_completion_task()
    return site


# ---------------------------------------------------------------------------------------------------
# The ASGI app
# ---------------------------------------------------------------------------------------------------

_HEADERS = {
    "Cache-Control": "private, must-revalidate, pre-check=0, post-check=0, max-age=0",
    "Expires": "Thu, 01 Jan 1970 00:00:00 GMT",
    "Pragma": "no-cache",
    "Accept-Ranges": "none",
    "Access-Control-Allow-Origin": "*",
}


def _proxy_error(status: int) -> str:
    return f"<html><head><title>{status}</title></head><body><h1>HTTP {status}</h1></body></html>"


class _DroppedResponse(Response):
    """Headers that promise a body, half of it, then the connection closes (an ASGI error makes
    the server drop it): what a crashing proxy or a reset connection looks like to a client."""

    def __init__(self) -> None:
        super().__init__(b"")

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1000")]})
        await send({"type": "http.response.body", "body": b"{" * 500, "more_body": True})
        raise ConnectionResetError("the emulator drops this connection (fault 'reset')")


def create_app(site: MoodleSite) -> Starlette:
    """The emulator as an ASGI app: Moodle's REST endpoint, and a small control API under
    /_emulator for injecting faults while it runs as `lmsbridge emulate moodle`. The site is
    `app.state.site`; replacing it serves another site from the same server."""

    def site_of(request: Request) -> MoodleSite:
        current: MoodleSite = request.app.state.site
        return current

    async def rest(request: Request) -> Response:
        site = site_of(request)
        query = parse_qsl(request.url.query, keep_blank_values=True)
        body = await request.body()
        is_form = request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded")
        form = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True) if is_form else []
        wsfunction = dict(form).get("wsfunction") or dict(query).get("wsfunction")
        wait = site.admit(dict(form).get("wstoken") or dict(query).get("wstoken"))
        if wait is not None:
            retry_after = str(max(1, math.ceil(wait)))
            return Response(_proxy_error(429), 429, {"Retry-After": retry_after}, media_type="text/html")
        if site.latency_seconds > 0:
            await anyio.sleep(site.latency_seconds)
        fault = site.take_fault(wsfunction)
        if fault is not None:
            if fault.kind == "reset":
                return _DroppedResponse()
            if fault.kind in ("latency", "timeout"):
                await anyio.sleep(fault.seconds)
            if fault.kind == "http_status":
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                return Response(_proxy_error(fault.status), fault.status, headers, media_type="text/html")
            if fault.kind == "moodle_error":
                # The class as the site's version names it (core\\exception\\... from 4.5 on).
                error = MoodleError(fault.exception, fault.errorcode, fault.message)
                fmt = (
                    "json"
                    if "json" in (dict(form).get("moodlewsrestformat"), dict(query).get("moodlewsrestformat"))
                    else "xml"
                )
                with site.lock:
                    site.calls.append(Call(wsfunction, {}, 200, error.errorcode, False))
                return Response(site.error_body(error, fmt), 200, _HEADERS, media_type=_content_type(fmt))
        wwwroot = f"{request.url.scheme}://{request.url.netloc}"
        status, content_type, text = site.serve(query, form, wwwroot)
        headers = _HEADERS if status == 200 else {}
        return Response(text, status, headers, media_type=content_type)

    async def add_fault(request: Request) -> Response:
        fault = site_of(request).add_fault(Fault(**await request.json()))
        return JSONResponse(asdict(fault))

    async def clear_faults(request: Request) -> Response:
        site_of(request).clear_faults()
        return JSONResponse({"faults": []})

    async def toggle_function(request: Request) -> Response:
        name, action = request.path_params["name"], request.path_params["action"]
        site = site_of(request)
        if action == "disable":
            site.disable_function(name)
        else:
            site.enable_function(name)
        return JSONResponse({"functions": sorted(site.services[SERVICE].functions)})

    async def completion_task(request: Request) -> Response:
        return JSONResponse({"marked": site_of(request).run_completion_task()})

    app = Starlette(
        routes=[
            Route(REST_PATH, rest, methods=["GET", "POST"]),
            Route("/_emulator/faults", add_fault, methods=["POST"]),
            Route("/_emulator/faults", clear_faults, methods=["DELETE"]),
            Route("/_emulator/functions/{name}/{action:str}", toggle_function, methods=["POST"]),
            Route("/_emulator/tasks/completion", completion_task, methods=["POST"]),
        ]
    )
    app.state.site = site
    return app

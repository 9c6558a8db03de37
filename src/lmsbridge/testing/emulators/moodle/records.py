"""The records of an emulated site: users, courses, activities, enrolments, competencies,
tokens and services, the injected faults and the call log."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lmsbridge.testing.emulators.moodle.protocol import SERVICE, STUDENT

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
    body, HTTP 200), "reset" (the connection closes half-way through the answer's body),
    "drop_after_write" (the call is served, its answer lost: the kit's fault of that name)."""

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

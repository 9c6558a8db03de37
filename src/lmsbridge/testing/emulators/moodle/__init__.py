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

The package is split by concern: `protocol`, `errors`, `params`, `records`, `site`, `calls`
(the function registry), one module per group of functions, `seed` and `app`; the rate limiter,
dropped responses and proxy errors come from the emulator kit.
"""

from __future__ import annotations

# Importing the function modules registers their functions (FUNCTIONS).
from lmsbridge.testing.emulators.moodle.app import create_app
from lmsbridge.testing.emulators.moodle.calls import FUNCTIONS, FunctionSpec, function
from lmsbridge.testing.emulators.moodle.competencies import (
    list_competencies,
    list_competency_frameworks,
    list_course_competencies,
)
from lmsbridge.testing.emulators.moodle.completion import (
    get_activities_completion_status,
    get_course_completion_status,
    override_activity_completion_status,
)
from lmsbridge.testing.emulators.moodle.courses import create_courses, get_courses, update_courses
from lmsbridge.testing.emulators.moodle.enrolments import enrol_users, get_enrolled_users, get_users_courses
from lmsbridge.testing.emulators.moodle.errors import (
    MoodleError,
    access_exception,
    capability_missing,
    coding_error,
    course_context_invalid,
    invalid_parameter,
    login_required,
    missing_record,
    moodle_exception,
)
from lmsbridge.testing.emulators.moodle.params import (
    ALPHA,
    ALPHANUM,
    ALPHANUMEXT,
    BOOL,
    DEFAULT,
    FLOAT,
    INT,
    LANG,
    NOTAGS,
    OPTIONAL,
    PLUGIN,
    RAW,
    RAW_TRIMMED,
    REQUIRED,
    SAFEDIR,
    TEXT,
    Desc,
    Multiple,
    Single,
    Value,
    decode_php_form,
    php_json,
    validate,
    xmlize,
)
from lmsbridge.testing.emulators.moodle.protocol import (
    CRITERIA_TYPE_ACTIVITY,
    EDITING_TEACHER,
    MANAGER,
    NAMESPACED,
    NEWEST,
    RELEASE,
    REST_PATH,
    ROLES,
    SEED_EPOCH,
    SERVICE,
    STUDENT,
    TEACHER,
    VERSION,
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
from lmsbridge.testing.emulators.moodle.seed import FIRST_NAMES, LAST_NAMES, TOPICS, seeded_site
from lmsbridge.testing.emulators.moodle.site import MoodleSite
from lmsbridge.testing.emulators.moodle.users import get_site_info, get_users

__all__ = [
    "ALPHA",
    "ALPHANUM",
    "ALPHANUMEXT",
    "BOOL",
    "CRITERIA_TYPE_ACTIVITY",
    "DEFAULT",
    "EDITING_TEACHER",
    "FIRST_NAMES",
    "FLOAT",
    "FUNCTIONS",
    "INT",
    "LANG",
    "LAST_NAMES",
    "MANAGER",
    "NAMESPACED",
    "NEWEST",
    "NOTAGS",
    "OPTIONAL",
    "PLUGIN",
    "RAW",
    "RAW_TRIMMED",
    "RELEASE",
    "REQUIRED",
    "REST_PATH",
    "ROLES",
    "SAFEDIR",
    "SEED_EPOCH",
    "SERVICE",
    "STUDENT",
    "TEACHER",
    "TEXT",
    "TOPICS",
    "VERSION",
    "VERSIONS",
    "VIEW_COURSE",
    "VIEW_FULL_NAMES",
    "VIEW_HIDDEN_COURSES",
    "VIEW_USER_DETAILS",
    "Activity",
    "ActivityState",
    "Call",
    "Competency",
    "Course",
    "CourseCompetency",
    "Ctx",
    "Desc",
    "Enrolment",
    "Fault",
    "Framework",
    "FunctionSpec",
    "MoodleError",
    "MoodleSite",
    "Multiple",
    "Service",
    "Single",
    "Token",
    "User",
    "Value",
    "access_exception",
    "capability_missing",
    "coding_error",
    "course_context_invalid",
    "create_app",
    "create_courses",
    "decode_php_form",
    "enrol_users",
    "function",
    "get_activities_completion_status",
    "get_course_completion_status",
    "get_courses",
    "get_enrolled_users",
    "get_site_info",
    "get_users",
    "get_users_courses",
    "invalid_parameter",
    "list_competencies",
    "list_competency_frameworks",
    "list_course_competencies",
    "login_required",
    "missing_record",
    "moodle_exception",
    "override_activity_completion_status",
    "php_json",
    "seeded_site",
    "update_courses",
    "validate",
    "xmlize",
]

"""Moodle's exceptions as the web service layer reports them, and the constructors of the ones
the emulated functions raise."""

from __future__ import annotations

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

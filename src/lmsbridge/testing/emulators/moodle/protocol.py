"""The facts of Moodle's web service protocol the emulator answers by: the REST path, the
service, the versions it can answer as, capability and role names."""

from __future__ import annotations

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

SEED_EPOCH = 1_735_689_600  # 2025-01-01T00:00:00Z: seeded timestamps are stable from run to run

"""The Moodle web service functions the connector calls, and which operation needs which: the
external service of the integration's token must hold them (see docs/connectors/moodle.md)."""

from __future__ import annotations

GET_SITE_INFO = "core_webservice_get_site_info"
GET_USERS = "core_user_get_users"
GET_COURSES = "core_course_get_courses"
CREATE_COURSES = "core_course_create_courses"
UPDATE_COURSES = "core_course_update_courses"
GET_ENROLLED_USERS = "core_enrol_get_enrolled_users"
GET_USERS_COURSES = "core_enrol_get_users_courses"
ENROL_USERS = "enrol_manual_enrol_users"
GET_ACTIVITIES_COMPLETION = "core_completion_get_activities_completion_status"
OVERRIDE_ACTIVITY_COMPLETION = "core_completion_override_activity_completion_status"
GET_COURSE_COMPLETION_STATUS = "core_completion_get_course_completion_status"
LIST_FRAMEWORKS = "core_competency_list_competency_frameworks"
LIST_COMPETENCIES = "core_competency_list_competencies"
LIST_COURSE_COMPETENCIES = "core_competency_list_course_competencies"

# Every sync reads all models, so a sync checks for every read function at once: one message
# then names everything the administrator has to add.
READS = (
    GET_SITE_INFO,
    GET_USERS,
    GET_COURSES,
    LIST_COURSE_COMPETENCIES,
    GET_ENROLLED_USERS,
    GET_USERS_COURSES,
    GET_COURSE_COMPLETION_STATUS,
    GET_ACTIVITIES_COMPLETION,  # the progress of learners in hidden courses
    LIST_FRAMEWORKS,
    LIST_COMPETENCIES,
)
UPSERT = (GET_SITE_INFO, GET_COURSES, CREATE_COURSES, UPDATE_COURSES, LIST_COURSE_COMPETENCIES)
# A hidden course is absent from a learner's courses: it is then read through the course itself.
_HIDDEN = (GET_COURSES, GET_ENROLLED_USERS, GET_ACTIVITIES_COMPLETION)
ENROL = (GET_SITE_INFO, ENROL_USERS, GET_USERS_COURSES, GET_COURSE_COMPLETION_STATUS, *_HIDDEN)
COMPLETE = (
    GET_SITE_INFO,
    GET_USERS_COURSES,
    GET_COURSES,
    GET_ENROLLED_USERS,
    GET_ACTIVITIES_COMPLETION,
    OVERRIDE_ACTIVITY_COMPLETION,
    GET_COURSE_COMPLETION_STATUS,
)
DEACTIVATE = (GET_SITE_INFO, UPDATE_COURSES, GET_COURSES, LIST_COURSE_COMPETENCIES)

ALL = tuple(sorted({*READS, *UPSERT, *ENROL, *COMPLETE, *DEACTIVATE}))

"""core_enrol_get_enrolled_users, core_enrol_get_users_courses and enrol_manual_enrol_users."""

from __future__ import annotations

import re
from typing import Any

from lmsbridge.testing.emulators.moodle.calls import _OPTION, function
from lmsbridge.testing.emulators.moodle.errors import (
    MoodleError,
    coding_error,
    course_context_invalid,
    invalid_parameter,
    login_required,
    moodle_exception,
)
from lmsbridge.testing.emulators.moodle.params import BOOL, DEFAULT, INT, OPTIONAL, Multiple, Single, Value
from lmsbridge.testing.emulators.moodle.protocol import ROLES, STUDENT
from lmsbridge.testing.emulators.moodle.records import Ctx, Enrolment
from lmsbridge.testing.emulators.moodle.site import MoodleSite


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

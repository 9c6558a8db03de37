"""The completion functions: activities' statuses, the override, and course completion."""

from __future__ import annotations

from typing import Any

from lmsbridge.testing.emulators.moodle.calls import _WARNING_FREE, function
from lmsbridge.testing.emulators.moodle.errors import (
    coding_error,
    login_required,
    missing_record,
    moodle_exception,
)
from lmsbridge.testing.emulators.moodle.params import INT, Value
from lmsbridge.testing.emulators.moodle.protocol import CRITERIA_TYPE_ACTIVITY
from lmsbridge.testing.emulators.moodle.records import ActivityState, Ctx
from lmsbridge.testing.emulators.moodle.site import MoodleSite


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

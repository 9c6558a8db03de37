"""core_course_get_courses, core_course_create_courses and core_course_update_courses."""

from __future__ import annotations

from typing import Any

from lmsbridge.testing.emulators.moodle.calls import function
from lmsbridge.testing.emulators.moodle.errors import (
    MoodleError,
    course_context_invalid,
    missing_record,
    moodle_exception,
)
from lmsbridge.testing.emulators.moodle.params import (
    ALPHANUMEXT,
    DEFAULT,
    INT,
    OPTIONAL,
    PLUGIN,
    RAW,
    SAFEDIR,
    TEXT,
    Desc,
    Multiple,
    Single,
    Value,
)
from lmsbridge.testing.emulators.moodle.records import Course, Ctx
from lmsbridge.testing.emulators.moodle.site import MoodleSite


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

"""The competency functions: frameworks, competencies and a course's competencies."""

from __future__ import annotations

from typing import Any

from lmsbridge.testing.emulators.moodle.calls import function
from lmsbridge.testing.emulators.moodle.enrolments import _int_or_zero
from lmsbridge.testing.emulators.moodle.errors import (
    MoodleError,
    invalid_parameter,
    login_required,
    missing_record,
)
from lmsbridge.testing.emulators.moodle.params import (
    ALPHA,
    ALPHANUM,
    ALPHANUMEXT,
    BOOL,
    DEFAULT,
    INT,
    RAW,
    TEXT,
    Multiple,
    Single,
    Value,
)
from lmsbridge.testing.emulators.moodle.records import Competency, Ctx
from lmsbridge.testing.emulators.moodle.site import MoodleSite

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

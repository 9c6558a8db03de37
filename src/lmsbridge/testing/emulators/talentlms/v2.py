"""TalentLMS Public API v2 (`/api/v2/`): `X-API-Key` and `X-API-Version` headers, JSON bodies,
`page[number]`/`page[size]` paging answered as `{_data, _links, _meta}`, filters as
`filter[field][op]`, batch upserts answered by a background task, errors as top-level
`{type, message}`, and `X-RateLimit-Limit`/`X-RateLimit-Remaining` on every answer [reference
section 2.3, vendor-specs/talentlms]. Where the vendor's OpenAPI file describes a response
(users, a user, a user's courses) the shape is the file's and `SpecCheck` holds the emulator to
it; the others (courses, batch, tasks, course progress, enrolments) are described nowhere, and
their shapes are this emulator's reading of the reference (documented in
docs/connectors/talentlms.md)."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from lmsbridge.testing.emulators.kit.paging import page_slice, total_pages
from lmsbridge.testing.emulators.talentlms import errors as e
from lmsbridge.testing.emulators.talentlms.site import (
    BATCH_LIMIT,
    PAGE_SIZE_MAX,
    Course,
    Enrolment,
    TalentLmsSite,
    User,
    iso,
    now,
    unix,
)

Route = tuple[str, str, Callable[[TalentLmsSite, Request, dict[str, str]], Awaitable[Any]]]
DEFAULT_PAGE_SIZE = 10


def user_item(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "login": user.login,
        "name": user.name,
        "surname": user.surname,
        "email": user.email,
        "avatar": {
            "default": "https://d3j0t7vrtr92dk.cloudfront.net/images/avatar/default.png",
            "sm": "https://d3j0t7vrtr92dk.cloudfront.net/images/avatar/sm.png",
            "md": "https://d3j0t7vrtr92dk.cloudfront.net/images/avatar/md.png",
            "lg": "https://d3j0t7vrtr92dk.cloudfront.net/images/avatar/lg.png",
            "xl": "https://d3j0t7vrtr92dk.cloudfront.net/images/avatar/xl.png",
        },
        "timezone": "UTC",
        "language": "en",
        "type": user.user_type,
        "registration": iso(user.registration),
        "last_login": None,
        "status": user.status,
        "last_updated": iso(user.last_updated),
        "integration_user_id": None,
    }


def course_item(course: Course) -> dict[str, Any]:
    return {
        "id": course.id,
        "name": course.name,
        "code": course.code or None,
        "description": course.description,
        "is_active": course.status == "active",
        "hide_from_catalog": course.hide_from_catalog,
        "creation_date": iso(course.creation_date),
        "last_update_on": iso(course.last_update_on),
    }


def _paged(request: Request, rows: list[Any], *, repeat_first: bool = False) -> dict[str, Any]:
    q = request.query_params
    number = _int(q.get("page[number]", "1"), "page[number]")
    size = _int(q.get("page[size]", str(DEFAULT_PAGE_SIZE)), "page[size]")
    if size > PAGE_SIZE_MAX:
        raise e.TalentLmsError(422, f"The page[size] may not be greater than {PAGE_SIZE_MAX}.")
    shown = 1 if repeat_first else number
    pages = total_pages(len(rows), size)
    base = f"{request.url.scheme}://{request.url.netloc}{request.url.path}"
    other = [(k, v) for k, v in q.multi_items() if not k.startswith("page[")]

    def link(n: int) -> str:
        return f"{base}?{urlencode([*other, ('page[number]', n), ('page[size]', size)])}"

    links = {"self": link(number), "first": link(1), "last": link(pages)}
    if number > 1:
        links["prev"] = link(number - 1)
    if number < pages:
        links["next"] = link(number + 1)
    return {
        "_data": page_slice(rows, shown, size),
        "_links": links,
        "_meta": {
            "pagination": {
                "page": number,
                "page_size": size,
                "total_items": len(rows),
                "total_pages": pages,
                "total_results": len(rows),
            }
        },
    }


def _int(raw: str, name: str) -> int:
    if not raw.isdigit() or int(raw) < 1:
        raise e.TalentLmsError(400, f"The {name} must be a positive integer.")
    return int(raw)


def _moment(raw: str, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise e.TalentLmsError(400, f"The {name} must be an ISO 8601 date.") from None
    if moment.tzinfo is None:
        raise e.TalentLmsError(400, f"The {name} must carry a time zone.")
    return moment


def _user(site: TalentLmsSite, raw: str) -> User:
    user = site.users.get(int(raw)) if raw.isdigit() else None
    if user is None or user.deleted:
        raise e.TalentLmsError(404, "User not found.")
    return user


def _course(site: TalentLmsSite, raw: Any) -> Course:
    course = site.courses.get(int(raw)) if str(raw).isdigit() else None
    if course is None:
        raise e.TalentLmsError(404, "Course not found.")
    return course


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        raise e.TalentLmsError(400, "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise e.TalentLmsError(400, "The request body must be a JSON object.")
    return body


# -- handlers ----------------------------------------------------------------------------------------
async def list_users(site: TalentLmsSite, request: Request, _: dict[str, str]) -> Any:
    q = request.query_params
    rows = site.listed_users()
    if "filter[status][eq]" in q:
        rows = [u for u in rows if u.status == q["filter[status][eq]"]]
    if "filter[email][eq]" in q:
        rows = [u for u in rows if u.email == q["filter[email][eq]"]]
    if "filter[login][eq]" in q:
        rows = [u for u in rows if u.login == q["filter[login][eq]"]]
    if "filter[keyword][like]" in q:
        word = q["filter[keyword][like]"].lower()
        rows = [u for u in rows if word in f"{u.login} {u.name} {u.surname} {u.email}".lower()]
    if "filter[last_updated][gte]" in q:
        since = _moment(q["filter[last_updated][gte]"], "filter[last_updated][gte]")
        rows = [u for u in rows if u.last_updated >= since]
    if "filter[last_updated][lte]" in q:
        until = _moment(q["filter[last_updated][lte]"], "filter[last_updated][lte]")
        rows = [u for u in rows if u.last_updated <= until]
    return _paged(request, [user_item(u) for u in rows], repeat_first=site.repeat_first_page)


async def get_user(site: TalentLmsSite, request: Request, path: dict[str, str]) -> Any:
    user = _user(site, path["id"])
    return {
        "_data": {
            "id": user.id,
            "login": user.login,
            "name": user.name,
            "surname": user.surname,
            "email": user.email,
            "credits": None,
            "description": None,
            "avatar": None,
            "custom_fields": [],
            "email_notifications": True,
            "timezone": "UTC",
            "locale": "en",
            "user_type": {"id": 1, "name": user.user_type, "is_default": True},
            "status": user.status,
            "deactivation_date": None,
            "available_types": [{"id": 1, "name": user.user_type, "is_default": True}],
        }
    }


async def user_courses(site: TalentLmsSite, request: Request, path: dict[str, str]) -> Any:
    user = _user(site, path["id"])
    mine = sorted(en.course_id for en in site.enrolments.values() if en.user_id == user.id)
    return {"_data": {"courses": [{"id": cid, "name": site.courses[cid].name} for cid in mine]}}


async def list_courses(site: TalentLmsSite, request: Request, _: dict[str, str]) -> Any:
    rows = [course_item(c) for c in sorted(site.courses.values(), key=lambda c: c.id)]
    return _paged(request, rows)


async def get_course(site: TalentLmsSite, request: Request, path: dict[str, str]) -> Any:
    return {"_data": course_item(_course(site, path["id"]))}


async def course_progress(site: TalentLmsSite, request: Request, _: dict[str, str]) -> Any:
    q = request.query_params
    user = _user(site, q.get("user_id", ""))
    course = _course(site, q.get("course_id", ""))
    enrolment = site.enrolments.get((user.id, course.id))
    if enrolment is None:
        raise e.TalentLmsError(404, "The user is not enrolled in this course.")
    return {
        "_data": {
            "user_id": user.id,
            "course_id": course.id,
            "completion_status": "completed" if enrolment.completed_on else "incomplete",
            "completion_percentage": enrolment.completion_percentage,
            "completed_on": unix(enrolment.completed_on),
            "score": None,
        }
    }


async def enrol(site: TalentLmsSite, request: Request, _: dict[str, str]) -> Any:
    body = await _json(request)
    user = _user(site, str(body.get("user_id", "")))
    course = _course(site, body.get("course_id"))
    if (user.id, course.id) in site.enrolments:
        raise e.TalentLmsError(422, "The user is already enrolled in this course.")
    site.enrolments[(user.id, course.id)] = Enrolment(user.id, course.id, "learner", now(), 0, None)
    return {"_data": {"user_id": user.id, "course_id": course.id}}


def _upsert_course(site: TalentLmsSite, item: Any) -> dict[str, Any]:
    """One item of a batch upsert: by id, else by code; a new course needs a name."""
    if not isinstance(item, dict):
        return {"status": "failed", "message": "Each course must be an object."}
    course: Course | None = None
    if item.get("id") is not None:
        course = site.courses.get(int(item["id"])) if str(item["id"]).isdigit() else None
        if course is None:
            return {"status": "failed", "message": "Course not found."}
    elif item.get("code"):
        course = site.course_by_code(str(item["code"]))
    name = item.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        return {"status": "failed", "message": "The name must be a non-empty string."}
    code = item.get("code")
    if code is not None and not isinstance(code, str):
        return {"status": "failed", "message": "The code must be a string."}
    if course is None:
        if not name:
            return {"status": "failed", "message": "The name field is required."}
        moment = now()
        course = Course(site.next_course_id(), name, code or "", "", "active", moment, moment)
        site.courses[course.id] = course
    if name:
        course.name = name
    if code is not None:
        clash = site.course_by_code(code)
        if clash is not None and clash.id != course.id:
            return {"status": "failed", "message": "The code has already been taken."}
        course.code = code
    if item.get("description") is not None:
        course.description = str(item["description"])
    if item.get("is_active") is not None:
        course.status = "active" if item["is_active"] in (True, "true", 1, "1") else "inactive"
    course.last_update_on = now()
    return {"status": "completed", "id": course.id, "code": course.code or None}


async def batch_courses(site: TalentLmsSite, request: Request, _: dict[str, str]) -> Any:
    body = await _json(request)
    items = body.get("courses")
    if not isinstance(items, list) or not items:
        raise e.TalentLmsError(400, "The courses field is required and must be an array.")
    if len(items) > BATCH_LIMIT:
        raise e.TalentLmsError(422, f"The courses may not have more than {BATCH_LIMIT} items.")
    results = [{"index": i, **_upsert_course(site, item)} for i, item in enumerate(items)]
    task = site.new_task("courses", results)
    return {"_data": {"task_id": task.id, "status": "pending"}}


async def get_task(site: TalentLmsSite, request: Request, path: dict[str, str]) -> Any:
    task = site.tasks.get(path["id"])
    if task is None:
        raise e.TalentLmsError(404, "Task not found.")
    if task.polls_left > 0:
        task.polls_left -= 1
        return {"_data": {"id": task.id, "status": "in_progress", "progress": 50, "results": []}}
    return {"_data": {"id": task.id, "status": "completed", "progress": 100, "results": task.results}}


async def health(site: TalentLmsSite, request: Request, _: dict[str, str]) -> Any:
    return {"status": "ok"}


ROUTES: list[Route] = [
    ("GET", "/users", list_users),
    ("GET", "/users/{id}", get_user),
    ("GET", "/users/{id}/courses", user_courses),
    ("GET", "/courses", list_courses),
    ("GET", "/courses/{id}", get_course),
    ("GET", "/course-progress", course_progress),
    ("POST", "/enrollments", enrol),
    ("POST", "/batch/courses", batch_courses),
    ("GET", "/tasks/{id}", get_task),
    ("GET", "/health", health),
]
UNAUTHENTICATED = frozenset({"/health"})
_COMPILED = [
    (method, template, re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "/?$"), run)
    for method, template, run in ROUTES
]


def route(method: str, path: str) -> tuple[str, Any, dict[str, str]] | None:
    known_path = False
    for route_method, template, pattern, run in _COMPILED:
        found = pattern.match(path)
        if found is None:
            continue
        known_path = True
        if route_method == method:
            return template, run, found.groupdict()
    if known_path:
        raise e.TalentLmsError(405, "Method not allowed.")
    return None


async def handle(site: TalentLmsSite, request: Request) -> tuple[str | None, Response]:
    e.current_api.set("v2")
    path = request.url.path.removeprefix("/api/v2") or "/"
    try:
        found = route(request.method, path)
    except e.TalentLmsError as error:
        return None, e.answer(error)
    if found is None:
        return None, e.answer(e.TalentLmsError(404, "Route not found."))
    template, run, params = found
    target = f"{request.method} /api/v2{template}"

    async def served() -> Response:
        if template not in UNAUTHENTICATED:
            if request.headers.get("x-api-key") != site.api_key:
                return e.answer(e.TalentLmsError(401, "Unauthenticated."))
            if not request.headers.get("x-api-version"):
                return e.answer(e.TalentLmsError(400, "The X-API-Version header is required."))
        try:
            with site.lock:
                site.used_this_hour += 1
                body = await run(site, request, params)
        except e.TalentLmsError as error:
            return e.answer(error)
        if site.spec_check is not None:
            site.spec_check.check(request.method, template, 200, body)
        return JSONResponse(body)

    response = await site.guard(request, target, request.headers.get("x-api-key", ""), served)
    response.headers.setdefault("X-RateLimit-Limit", str(site.hourly_limit))
    response.headers.setdefault("X-RateLimit-Remaining", str(max(0, site.hourly_limit - site.used_this_hour)))
    return target, response

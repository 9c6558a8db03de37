"""TalentLMS API v1 (`/api/v1/`): HTTP Basic with the API key as user name, arguments as
`key:value` pairs joined by commas in the last path segment (values URL-encoded, with or without
a trailing slash), POST bodies form-encoded, almost every value a JSON string, errors wrapped in
`{"error": {...}}` [reference section 2.1-2.2]. The actions the connector uses, and those an
administrator reaches for through passthrough, are served; any other answers "The requested API
action does not exist"."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from lmsbridge.testing.emulators.talentlms import errors as e
from lmsbridge.testing.emulators.talentlms.site import (
    DATE_FORMAT,
    V1_PAGE_SIZE_MAX,
    Course,
    Enrolment,
    TalentLmsSite,
    User,
    now,
    portal_date,
    unix,
)

Args = dict[str, str]
Action = Callable[[TalentLmsSite, Args], Any]
PREFIX = "/api/v1/"


def parse_target(raw_path: str) -> tuple[str, Args]:
    """`/api/v1/users/id:7/` -> ("users", {"id": "7"}); values are decoded after the split, so
    an encoded comma or colon stays inside its value."""
    rest = raw_path[len(PREFIX) :].strip("/")
    action, _, argument = rest.partition("/")
    args: Args = {}
    for pair in filter(None, argument.split(",")):
        key, sep, value = pair.partition(":")
        if not sep:
            raise e.TalentLmsError(400, e.INVALID_ARGUMENTS)
        args[unquote(key)] = unquote(value)
    return unquote(action).lower(), args


def authorised(site: TalentLmsSite, request: Request) -> Response | None:
    header = request.headers.get("authorization", "")
    if not header.startswith("Basic "):
        return HTMLResponse("<html><body>You need a valid user and password</body></html>", 401)
    try:
        user = base64.b64decode(header[6:]).decode().partition(":")[0]
    except (ValueError, UnicodeDecodeError):
        user = ""
    if user != site.api_key:
        return e.answer(e.TalentLmsError(401, e.INVALID_KEY), "v1")
    return None


# -- shapes ------------------------------------------------------------------------------------------
def user_row(user: User) -> dict[str, Any]:
    return {
        "id": str(user.id),
        "login": user.login,
        "first_name": user.name,
        "last_name": user.surname,
        "email": user.email,
        "restrict_email": "0",
        "user_type": user.user_type,
        "timezone": "(GMT +00:00) UTC",
        "language": "en",
        "status": user.status,
        "deactivation_date": "",
        "level": "1",
        "points": "0",
        "created_on": portal_date(user.registration),
        "last_updated": portal_date(user.last_updated),
        "last_updated_timestamp": unix(user.last_updated),
        "avatar": "https://d3j0t7vrtr92dk.cloudfront.net/images/avatar/default.png",
        "bio": "",
        "login_key": f"/index/autologin/key:{user.id:08x}",
    }


def course_row(course: Course) -> dict[str, Any]:
    return {
        "id": str(course.id),
        "name": course.name,
        "code": course.code,
        "category_id": None,
        "description": course.description,
        "price": "&#36;0.00",
        "status": course.status,
        "creation_date": portal_date(course.creation_date),
        "last_update_on": portal_date(course.last_update_on),
        "creator_id": "1",
        "hide_from_catalog": "1" if course.hide_from_catalog else "0",
        "time_limit": "0",
        "start_datetime": None,
        "expiration_datetime": None,
        "level": None,
        "shared": 0,
        "shared_url": "",
        "avatar": "https://d3j0t7vrtr92dk.cloudfront.net/images/courses/default.png",
        "big_avatar": "https://d3j0t7vrtr92dk.cloudfront.net/images/courses/default_big.png",
        "certification": None,
        "certification_duration": None,
    }


def completion_status(enrolment: Enrolment) -> str:
    if enrolment.completed_on is not None:
        return "Completed"
    return "In progress" if enrolment.completion_percentage > 0 else "Not attempted"


def status_in_course(enrolment: Enrolment) -> dict[str, Any]:
    seconds = enrolment.completion_percentage * 36
    return {
        "role": enrolment.role,
        "enrolled_on": portal_date(enrolment.enrolled_on),
        "enrolled_on_timestamp": unix(enrolment.enrolled_on),
        "completion_status": completion_status(enrolment),
        "completion_percentage": str(enrolment.completion_percentage),
        "completed_on": portal_date(enrolment.completed_on) or "",
        "completed_on_timestamp": unix(enrolment.completed_on),
        "expired_on": "",
        "expired_on_timestamp": None,
        "total_time": f"{seconds // 60}m {seconds % 60}s",
        "total_time_seconds": seconds,
        "units": [],
    }


def user_course_row(site: TalentLmsSite, enrolment: Enrolment) -> dict[str, Any]:
    course = site.courses[enrolment.course_id]
    status = status_in_course(enrolment)
    return {
        "id": str(course.id),
        "name": course.name,
        **{k: v for k, v in status.items() if k != "units"},
        "completion_status_formatted": status["completion_status"],
        "last_accessed_unit_url": "",
    }


# -- lookups -----------------------------------------------------------------------------------------
def find_user(site: TalentLmsSite, args: Args) -> User:
    user: User | None = None
    if "id" in args or "user_id" in args:
        raw = args.get("id", args.get("user_id", ""))
        user = site.users.get(int(raw)) if raw.isdigit() else None
    elif "email" in args:
        user = next((u for u in site.users.values() if u.email == args["email"]), None)
    elif "username" in args:
        user = next((u for u in site.users.values() if u.login == args["username"]), None)
    else:
        raise e.TalentLmsError(400, e.INVALID_ARGUMENTS)
    if user is None:
        raise e.TalentLmsError(404, e.USER_MISSING)
    if user.deleted:
        raise e.TalentLmsError(404, e.USER_GONE)
    return user


def find_course(site: TalentLmsSite, raw: str | None) -> Course:
    if raw is None:
        raise e.TalentLmsError(400, e.INVALID_ARGUMENTS)
    course = site.courses.get(int(raw)) if raw.isdigit() else None
    if course is None:
        raise e.TalentLmsError(404, e.COURSE_MISSING)
    return course


# -- actions -----------------------------------------------------------------------------------------
def users(site: TalentLmsSite, args: Args) -> Any:
    if {"id", "email", "username"} & args.keys():
        user = find_user(site, args)
        mine = [en for en in site.enrolments.values() if en.user_id == user.id]
        return {
            **user_row(user),
            "courses": [user_course_row(site, en) for en in mine],
            "branches": [],
            "groups": [],
            "certifications": [],
            "badges": [],
        }
    rows = [user_row(u) for u in site.listed_users()]
    if "page_size" in args or "page_number" in args:
        size = _positive(args.get("page_size", "20"), V1_PAGE_SIZE_MAX)
        number = _positive(args.get("page_number", "1"), None)
        rows = rows[(number - 1) * size : number * size]
    return rows


def courses(site: TalentLmsSite, args: Args) -> Any:
    if "id" in args:
        course = find_course(site, args["id"])
        members = [en for en in site.enrolments.values() if en.course_id == course.id]
        return {
            **course_row(course),
            "users": [
                {
                    "id": str(en.user_id),
                    "name": f"{site.users[en.user_id].name} {site.users[en.user_id].surname}",
                    **{
                        k: v
                        for k, v in status_in_course(en).items()
                        if k
                        not in ("units", "completion_status", "expired_on", "enrolled_on", "completed_on")
                    },
                }
                for en in members
            ],
            "units": [],
            "rules": [],
            "prerequisites": [],
            "prerequisite_rule_sets": [],
        }
    return [course_row(c) for c in sorted(site.courses.values(), key=lambda c: c.id)]


def get_user_status_in_course(site: TalentLmsSite, args: Args) -> Any:
    user = find_user(site, {"id": args.get("user_id", "")})
    course = find_course(site, args.get("course_id"))
    enrolment = site.enrolments.get((user.id, course.id))
    if enrolment is None:
        raise e.TalentLmsError(404, e.NOT_ENROLLED)
    return status_in_course(enrolment)


def add_user_to_course(site: TalentLmsSite, args: Args) -> Any:
    if "user_id" in args:
        user = find_user(site, {"id": args["user_id"]})
    elif "user_email" in args:
        user = find_user(site, {"email": args["user_email"]})
    else:
        raise e.TalentLmsError(400, e.INVALID_ARGUMENTS)
    if "course_id" in args:
        course = find_course(site, args["course_id"])
    else:
        found = next((c for c in site.courses.values() if c.name == args.get("course_name")), None)
        if found is None:
            raise e.TalentLmsError(404, e.COURSE_MISSING)
        course = found
    role = args.get("role", "learner")
    if role not in ("learner", "instructor"):
        raise e.TalentLmsError(400, e.INVALID_ARGUMENTS)
    if (user.id, course.id) in site.enrolments:
        raise e.TalentLmsError(400, e.ALREADY_ENROLLED)
    site.enrolments[(user.id, course.id)] = Enrolment(user.id, course.id, role, now(), 0, None)
    return [{"user_id": str(user.id), "course_id": str(course.id), "role": role}]


def create_course(site: TalentLmsSite, args: Args) -> Any:
    """v1 can create a course (never update one): name required, code optional and unique."""
    name = args.get("name", "").strip()
    if not name:
        raise e.TalentLmsError(400, e.INVALID_ARGUMENTS)
    code = args.get("code", "")
    if code and site.course_by_code(code) is not None:
        raise e.TalentLmsError(400, "A course with the same code already exists")
    moment = now()
    course = Course(site.next_course_id(), name, code, args.get("description", ""), "active", moment, moment)
    site.courses[course.id] = course
    return course_row(course)


def remove_user_from_course(site: TalentLmsSite, args: Args) -> Any:
    user = find_user(site, {"id": args.get("user_id", "")})
    course = find_course(site, args.get("course_id"))
    if site.enrolments.pop((user.id, course.id), None) is None:
        raise e.TalentLmsError(404, e.NOT_ENROLLED)
    return {"user_id": str(user.id), "course_id": str(course.id), "course_name": course.name}


def user_set_status(site: TalentLmsSite, args: Args) -> Any:
    user = find_user(site, {"id": args.get("user_id", "")})
    if args.get("status") not in ("active", "inactive"):
        raise e.TalentLmsError(400, e.INVALID_ARGUMENTS)
    user.status = args["status"]
    site.touch_user(user)
    return {"user_id": str(user.id), "status": user.status}


def site_info(site: TalentLmsSite, args: Args) -> Any:
    return {
        "total_users": str(len(site.listed_users())),
        "total_courses": str(len(site.courses)),
        "total_categories": "0",
        "total_groups": "0",
        "total_branches": "0",
        "monthly_active_users": "0",
        "signup_method": "Direct",
        "paypal_email": "",
        "domain_map": "",
        "date_format": DATE_FORMAT,
    }


def rate_limit(site: TalentLmsSite, args: Args) -> Any:
    reset = int(now().timestamp()) // 3600 * 3600 + 3600
    return {
        "limit": str(site.hourly_limit),
        "remaining": max(0, site.hourly_limit - site.used_this_hour),
        "reset": str(reset),
        "formatted_reset": portal_date(datetime.fromtimestamp(reset, UTC)),
    }


def _positive(raw: str, cap: int | None) -> int:
    if not raw.isdigit() or int(raw) < 1 or (cap is not None and int(raw) > cap):
        raise e.TalentLmsError(400, e.INVALID_ARGUMENTS)
    return int(raw)


# action -> (methods, handler); a write served by GET is TalentLMS's own choice (reference 2.1)
ACTIONS: dict[str, tuple[frozenset[str], Action]] = {
    "users": (frozenset({"GET"}), users),
    "courses": (frozenset({"GET"}), courses),
    "getuserstatusincourse": (frozenset({"GET"}), get_user_status_in_course),
    "addusertocourse": (frozenset({"POST"}), add_user_to_course),
    "createcourse": (frozenset({"POST"}), create_course),
    "removeuserfromcourse": (frozenset({"GET"}), remove_user_from_course),
    "usersetstatus": (frozenset({"GET"}), user_set_status),
    "siteinfo": (frozenset({"GET"}), site_info),
    "ratelimit": (frozenset({"GET"}), rate_limit),
}
UNCOUNTED = frozenset({"ratelimit"})  # reported not to count against the quota [T4, T11]


async def handle(site: TalentLmsSite, request: Request) -> tuple[str | None, Response]:
    """The target (for faults and the call log) and the answer."""
    e.current_api.set("v1")
    try:
        action, args = parse_target(request.scope.get("raw_path", b"").decode("latin-1").split("?")[0])
    except e.TalentLmsError as error:
        return None, e.answer(error, "v1")
    target = f"v1 {action}"

    async def served() -> Response:
        refused = authorised(site, request)
        if refused is not None:
            return refused
        spec = ACTIONS.get(action)
        if spec is None:
            return e.answer(e.TalentLmsError(400, e.NO_SUCH_ACTION), "v1")
        methods, run = spec
        if request.method not in methods:
            return e.answer(e.TalentLmsError(400, e.INVALID_ARGUMENTS), "v1")
        merged = {**dict(request.query_params), **args}  # some clients send arguments as a query
        if request.method == "POST":
            body = (await request.body()).decode()
            merged.update(parse_qsl(body, keep_blank_values=True))
        with site.lock:
            if action not in UNCOUNTED:
                site.used_this_hour += 1
            try:
                return JSONResponse(run(site, merged))
            except e.TalentLmsError as error:
                return e.answer(error, "v1")

    return target, await site.guard(request, target, _caller(request), served)


def _caller(request: Request) -> str:
    """The key, as v2 names its caller: both APIs draw on one limit per key."""
    header = request.headers.get("authorization", "")
    try:
        return base64.b64decode(header.removeprefix("Basic ")).decode().partition(":")[0]
    except (ValueError, UnicodeDecodeError):
        return header

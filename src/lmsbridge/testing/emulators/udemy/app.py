"""The Udemy Business emulator's ASGI app: the organization's REST API under
`/api-2.0/organizations/{account_id}/` (trailing slash or not), HTTP Basic with the API client
on every call, DRF pages (`page`, `page_size` up to 1000, absolute `next`/`previous` links),
`{"detail": ...}` errors, the reports' `from_date`/`to_date` (and `user_email`, `course_id`)
filters, `fields[course]` selection, and the kit's control routes, faults and limiter."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lmsbridge.testing.emulators.kit import control_routes
from lmsbridge.testing.emulators.udemy.site import (
    PAGE_SIZE_MAX,
    UdemySite,
    activity_row,
    course_json,
    learner_row,
)

Rows = Callable[[UdemySite, Request, str], list[dict[str, Any]]]


class UdemyError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


def _caller(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if not header.startswith("Basic "):
        return None
    try:
        return base64.b64decode(header[6:]).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None


def _day(request: Request, name: str) -> date | None:
    value = request.query_params.get(name)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UdemyError(400, f"Enter a valid date for {name} (YYYY-MM-DD).") from None


def _page(site: UdemySite, request: Request, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    try:
        number = int(request.query_params.get("page", "1"))
        size = int(request.query_params.get("page_size", "12"))
    except ValueError:
        raise UdemyError(404, "Invalid page.") from None
    size = max(1, min(size, PAGE_SIZE_MAX))
    count = len(rows)
    if number < 1 or (number > 1 and (number - 1) * size >= count):
        raise UdemyError(404, "Invalid page.")
    number_shown = 1 if site.repeat_first_page else number
    chunk = list(rows[(number_shown - 1) * size : number_shown * size])
    base = str(request.url.replace(query=""))
    others = [(k, v) for k, v in request.query_params.multi_items() if k not in ("page", "page_size")]

    def link(n: int) -> str:
        return f"{base}?{urlencode([*others, ('page', n), ('page_size', size)])}"

    has_next = number * size < count
    return {
        "count": count,
        "next": link(number + 1) if has_next else None,
        "previous": link(number - 1) if number > 1 else None,
        "results": chunk,
    }


def courses(site: UdemySite, request: Request, base_url: str) -> list[dict[str, Any]]:
    rows = [course_json(site, c, base_url) for c in site.listed_courses()]
    wanted = request.query_params.get("fields[course]")
    if wanted:
        keep = {"_class", "id", *wanted.split(",")}
        rows = [{k: v for k, v in row.items() if k in keep} for row in rows]
    return rows


def user_activity(site: UdemySite, request: Request, _base: str) -> list[dict[str, Any]]:
    start, end = _day(request, "from_date"), _day(request, "to_date")
    rows = []
    for learner in site.learners:
        row = learner_row(learner, site)
        visited = date.fromisoformat(row["last_date_visit"]) if row["last_date_visit"] else None
        if (start or end) and (visited is None or (start and visited < start) or (end and visited > end)):
            continue
        rows.append(row)
    email = request.query_params.get("user_email")
    return [r for r in rows if not email or r["user_email"] == email]


def user_course_activity(site: UdemySite, request: Request, _base: str) -> list[dict[str, Any]]:
    """A row is in a window when its last activity falls in it (the reference does not say which
    date the filter applies to; this is the emulator's assumption)."""
    start, end = _day(request, "from_date"), _day(request, "to_date")
    email, course_id = request.query_params.get("user_email"), request.query_params.get("course_id")
    rows = []
    for activity in site.activities:
        day = activity.last_accessed.date()
        if (start and day < start) or (end and day > end):
            continue
        if (email and activity.email != email) or (course_id and str(activity.course_id) != course_id):
            continue
        rows.append(activity_row(activity, site))
    return rows


LISTS: dict[str, Rows] = {
    "courses/list": courses,
    "analytics/user-activity": user_activity,
    "analytics/user-course-activity": user_course_activity,
}


def create_app(site: UdemySite) -> Starlette:
    def of(request: Request) -> UdemySite:
        current: UdemySite = request.app.state.site
        return current

    async def api(request: Request) -> Response:
        site = of(request)
        rest = request.path_params["rest"].strip("/")
        target = f"{request.method} {rest}"
        caller = _caller(request)

        async def handler() -> Response:
            try:
                return JSONResponse(_answer(site, request, rest, caller))
            except UdemyError as error:
                return JSONResponse({"detail": error.detail}, error.status)

        return await site.guard(request, target, caller or "anonymous", handler)

    app = Starlette(
        routes=[
            *control_routes(of),
            Route(
                "/api-2.0/organizations/{account}/{rest:path}",
                api,
                methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            ),
        ]
    )
    app.state.site = site
    return app


def _answer(site: UdemySite, request: Request, rest: str, caller: str | None) -> Any:
    if caller is None:
        raise UdemyError(401, "Authentication credentials were not provided.")
    if caller != f"{site.client_id}:{site.client_secret}":
        raise UdemyError(401, "Invalid username/password.")
    if request.path_params["account"] != site.account_id:
        raise UdemyError(403, "You do not have permission to perform this action.")
    if request.method != "GET":
        raise UdemyError(405, f'Method "{request.method}" not allowed.')
    base_url = f"{request.url.scheme}://{request.url.netloc}"
    if rest in LISTS:
        return _page(site, request, LISTS[rest](site, request, base_url))
    if rest.startswith("courses/list/"):
        tail = rest.removeprefix("courses/list/")
        course = site.course(int(tail)) if tail.isdigit() else None
        if course is None:
            raise UdemyError(404, "Not found.")
        return courses(site, request, base_url)[site.listed_courses().index(course)]
    raise UdemyError(404, "Not found.")

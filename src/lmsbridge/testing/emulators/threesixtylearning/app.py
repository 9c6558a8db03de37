"""The 360Learning emulator's ASGI app: the API v2 routes lmsbridge and 360Learning's documented
clients use, behind the OAuth2 token endpoint, the `360-api-version` header, the kit's limiter and
faults, and the control routes. Every answer is checked against the vendor's OpenAPI files when
they are at hand (`spec`); an off-spec answer becomes a loud 500."""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lmsbridge.testing.emulators.kit import control_routes
from lmsbridge.testing.emulators.threesixtylearning.site import Company, Operation, iso, now, object_id

Body = tuple[int, Any, dict[str, str]]


def error(status: int, code: str, message: str) -> Body:
    return status, {"error": {"code": code, "message": message}}, {}


def _filters(request: Request) -> dict[str, dict[str, list[str]]]:
    """LHS brackets: `field[op]=v`, `field[in][0]=a`, `field[in][]=b`."""
    found: dict[str, dict[str, list[str]]] = {}
    for key, value in parse_qsl(request.url.query, keep_blank_values=True):
        match = re.fullmatch(r"(\w+)\[(\w+)\](?:\[\d*\])?", key)
        if match:
            found.setdefault(match[1], {}).setdefault(match[2], []).append(value)
        elif key not in ("next",):
            found.setdefault(key, {}).setdefault("eq", []).append(value)
    return found


def _keep(row: dict[str, Any], filters: dict[str, dict[str, list[str]]]) -> bool:
    for field, ops in filters.items():
        value = row.get(field)
        for op, values in ops.items():
            text = "" if value is None else str(value)
            if op == "eq" and text != values[0]:
                return False
            if op == "ne" and text == values[0]:
                return False
            if op == "in" and text not in values:
                return False
            if op == "nin" and text in values:
                return False
            if op == "gte" and (value is None or text < values[0]):
                return False
            if op == "lt" and (value is None or text >= values[0]):
                return False
    return True


def _page(company: Company, request: Request, rows: list[dict[str, Any]], kind: str) -> Body:
    rows = [r for r in rows if _keep(r, _filters(request))]
    size = company.page_sizes[kind]
    token = request.query_params.get("next")
    offset = 0
    if token and not company.repeat_first_page:
        try:
            offset = int(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode())
        except ValueError:
            return error(400, "invalidInput", "The next token is not valid.")
    page = rows[offset : offset + size]
    headers = {}
    if offset + size < len(rows):
        following = base64.urlsafe_b64encode(str(offset + size).encode()).decode().rstrip("=")
        query = [(k, v) for k, v in parse_qsl(request.url.query, keep_blank_values=True) if k != "next"]
        base = str(request.base_url).rstrip("/")
        url = f"{base}{request.url.path}?{urlencode([*query, ('next', following)])}"
        headers["Link"] = f'<{url}>; rel="next"'
    return 200, page, headers


async def _json(request: Request) -> Any:
    try:
        return orjson.loads(await request.body() or b"{}")
    except orjson.JSONDecodeError:
        return None


def _bulk(company: Company, kind: str, integration_id: str | None, body: Any, limit: int) -> Body:
    if not isinstance(body, dict) or not isinstance(body.get("input"), list):
        return error(400, "invalidInput", "input must be an array.")
    if len(body["input"]) > limit:
        return error(400, "inputTooLong", f"input holds more than {limit} items.")
    if integration_id is not None and company.integration(integration_id) is None:
        return error(404, "integrationNotFound", "Integration not found.")
    if company.running() >= 3:
        return error(
            429, "bulkOperationsConcurrencyLimitReached", "Three bulk operations are already running."
        )
    op = Operation(object_id("op", secrets.token_hex(8)), kind, now(), list(body["input"]), integration_id)
    op.error, company.fail_next_operation = company.fail_next_operation, None
    company.operations[op.id] = op
    created = {"bulkOperationId": op.id, "type": kind, "createdAt": iso(op.created)}
    company.webhooks.append(
        (
            "bulk.operation.created",
            {"type": "bulk.operation.created", "timestamp": int(op.created.timestamp()), "data": created},
        )
    )
    return 202, None, {"Location": f"/api/v2/bulk/operations/{op.id}"}


# -- handlers: (company, request, path params) -> (status, body, headers) ------------------------------
async def users(c: Company, r: Request, p: dict[str, str]) -> Body:
    return _page(c, r, c.users, "users")


async def one_user(c: Company, r: Request, p: dict[str, str]) -> Body:
    user = c.user(p["userId"])
    return (200, user, {}) if user else error(404, "userNotFound", "User not found.")


async def courses(c: Company, r: Request, p: dict[str, str]) -> Body:
    return _page(c, r, c.courses, "courses")


async def one_course(c: Company, r: Request, p: dict[str, str]) -> Body:
    course = c.course(p["courseId"])
    return (200, course, {}) if course else error(404, "courseNotFound", "Course not found.")


async def archive(c: Company, r: Request, p: dict[str, str]) -> Body:
    course = c.course(p["courseId"])
    if course is None:
        return error(404, "courseNotFound", "Course not found.")
    body = await _json(r)
    if not isinstance(body, dict) or not isinstance(body.get("archived"), bool):
        return error(400, "integrationInactive", "archived must be a boolean.")
    course.update(status="archived" if body["archived"] else "published", modifiedAt=iso(now()))
    return 200, course, {}


async def stats(c: Company, r: Request, p: dict[str, str]) -> Body:
    return _page(c, r, c.attempts, "stats")


async def skills(c: Company, r: Request, p: dict[str, str]) -> Body:
    return _page(c, r, c.skills, "skills")


async def integrations(c: Company, r: Request, p: dict[str, str]) -> Body:
    return _page(c, r, c.integrations, "integrations")


async def create_integration(c: Company, r: Request, p: dict[str, str]) -> Body:
    body = await _json(r)
    if not isinstance(body, dict) or not all(
        isinstance(body.get(k), str) for k in ("externalPlatform", "authorId", "groupId")
    ):
        return (
            400,
            {
                "error": {
                    "code": "duplicateExternalPlatform",
                    "message": "externalPlatform, authorId and groupId are required.",
                }
            },
            {},
        )
    if any(i["externalPlatform"] == body["externalPlatform"] for i in c.integrations):
        return error(400, "duplicateExternalPlatform", "An integration already exists for this platform.")
    if body["groupId"] != c.group_id:
        return error(404, "groupNotFound", "Group not found.")
    if c.user(body["authorId"]) is None and body["authorId"] != c.admin_id:
        return error(404, "userNotFound", "User not found.")
    row = {
        "_id": object_id("integration", body["externalPlatform"]),
        **{k: body[k] for k in ("externalPlatform", "authorId", "groupId")},
    }
    c.integrations.append(row)
    return 201, row, {}


async def bulk_courses(c: Company, r: Request, p: dict[str, str]) -> Body:
    if r.method == "DELETE":
        return _bulk(c, "archiveExternalCourses", p["integrationId"], await _json(r), 1000)
    return _bulk(c, "importExternalCourses", p["integrationId"], await _json(r), 10_000)


async def bulk_stats(c: Company, r: Request, p: dict[str, str]) -> Body:
    return _bulk(c, "importExternalStatistics", p["integrationId"], await _json(r), 10_000)


async def bulk_skills(c: Company, r: Request, p: dict[str, str]) -> Body:
    return _bulk(c, "upsertSkills", None, await _json(r), 10_000)


async def operation(c: Company, r: Request, p: dict[str, str]) -> Body:
    op = c.operations.get(p["bulkOperationId"])
    if op is None:
        return error(404, "bulkOperationNotFound", "Bulk operation not found.")
    op.polls += 1
    return 200, c.operation_body(op), {}


async def results(c: Company, r: Request, p: dict[str, str]) -> Body:
    op = c.operations.get(p["bulkOperationId"])
    if op is None:
        return error(404, "bulkOperationNotFound", "Bulk operation not found.")
    c.advance(op)
    if op.results is None:
        return error(400, "bulkOperationNotRun", "The bulk operation has not run yet.")
    return 200, op.results, {}


ROUTES: list[tuple[str, str, Callable[[Company, Request, dict[str, str]], Awaitable[Body]]]] = [
    ("GET", "/api/v2/users", users),
    ("GET", "/api/v2/users/{userId}", one_user),
    ("GET", "/api/v2/courses", courses),
    ("GET", "/api/v2/courses/stats", stats),
    ("GET", "/api/v2/courses/{courseId}", one_course),
    ("PUT", "/api/v2/courses/{courseId}/archive", archive),
    ("GET", "/api/v2/skills", skills),
    ("GET", "/api/v2/integrations", integrations),
    ("POST", "/api/v2/integrations", create_integration),
    ("PUT", "/api/v2/bulk/integrations/{integrationId}/courses", bulk_courses),
    ("DELETE", "/api/v2/bulk/integrations/{integrationId}/courses", bulk_courses),
    ("POST", "/api/v2/bulk/integrations/{integrationId}/stats", bulk_stats),
    ("PUT", "/api/v2/bulk/skills", bulk_skills),
    ("GET", "/api/v2/bulk/operations/{bulkOperationId}", operation),
    ("GET", "/api/v2/bulk/operations/{bulkOperationId}/results", results),
]


def _answer(
    company: Company, method: str, template: str, status: int, body: Any, headers: dict[str, str]
) -> Response:
    if company.spec_check is not None:
        from lmsbridge.testing.emulators.threesixtylearning.spec import SpecViolation

        try:
            company.spec_check.check(method, template, status, body)
        except SpecViolation as violation:
            return JSONResponse({"error": {"code": "emulatorOffSpec", "message": str(violation)}}, 500)
    if body is None:
        return Response(status_code=status, headers=headers)
    return Response(orjson.dumps(body), status, headers, media_type="application/json")


def create_app(company: Company) -> Starlette:
    def of(request: Request) -> Company:
        current: Company = request.app.state.company
        return current

    async def token(request: Request) -> Response:
        c = of(request)
        body = await _json(request)
        if not isinstance(body, dict) or not body.get("client_id") or not body.get("client_secret"):
            return _answer(c, "POST", "/api/v2/oauth2/token", 400, {"error": "invalid_request"}, {})
        if body.get("grant_type") != "client_credentials":
            return _answer(c, "POST", "/api/v2/oauth2/token", 400, {"error": "unsupported_grant_type"}, {})
        if (body["client_id"], body["client_secret"]) != (c.issuer.client_id, c.issuer.client_secret):
            return _answer(c, "POST", "/api/v2/oauth2/token", 401, {"error": "invalid_client"}, {})
        return _answer(c, "POST", "/api/v2/oauth2/token", 200, c.issuer.issue(with_refresh=False), {})

    def route(
        method: str, template: str, handler: Callable[[Company, Request, dict[str, str]], Awaitable[Body]]
    ) -> Route:
        async def endpoint(request: Request) -> Response:
            c = of(request)
            authorization = request.headers.get("authorization")

            async def serve() -> Response:
                if not c.issuer.valid(authorization):
                    return _answer(c, method, template, 401, {"error": "invalid_token"}, {})
                if request.headers.get("360-api-version") != "v2.0":
                    # Not in the vendor's files (the header is marked required): answered as a 400.
                    return JSONResponse(
                        {"error": {"code": "invalidApiVersion", "message": "360-api-version must be v2.0."}},
                        400,
                    )
                status, body, headers = await handler(c, request, dict(request.path_params))
                return _answer(c, method, template, status, body, headers)

            return await c.guard(request, f"{method} {template}", authorization or "anonymous", serve)

        return Route(template, endpoint, methods=[method])

    by_path: dict[str, list[tuple[str, Any]]] = {}
    for method, template, handler in ROUTES:
        by_path.setdefault(template, []).append((method, handler))
    routes = [*control_routes(of), Route("/api/v2/oauth2/token", token, methods=["POST"])]
    for template, handlers in by_path.items():
        routes.extend(route(m, template, h) for m, h in handlers)
    app = Starlette(routes=routes)
    app.state.company = company
    return app

"""The SuccessFactors Learning emulator's ASGI app: the Learning token server
(`POST /learning/oauth-api/rest/v1/token`, Basic client auth, JSON body with `scope`) and the
platform SAML-bearer token endpoint (`POST /oauth/token`, form); under `/learning/odatav4/` the
searchStudent, searchItem, learning plan (to-do) and learning history services with criteria
filters (`eq` joined by `and` only), `$top`/`$skip`/`$count`/`$select` and `@odata.nextLink`,
the OCN course post (paced: one post per `ocn_pace_seconds`, else 429 with Retry-After) and OCN
learning events; `$metadata` for each service; OData error bodies; "No search results" for an
empty per-learner search; and the kit's control routes, faults and call log."""

from __future__ import annotations

import base64
import json
import re
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lmsbridge.testing.emulators.kit import control_routes
from lmsbridge.testing.emulators.successfactors.metadata import BY_SERVICE, SETS, csdl, shaped
from lmsbridge.testing.emulators.successfactors.site import SuccessFactorsSite, odata_error

NO_RESULTS = "No search results for provided search criteria"
TERM = re.compile(r"^criteria/(\w+) eq (?:'((?:[^']|'')*)'|(true|false|True|False|\d+))$")
MAX_TOP = 1000
PER_LEARNER = {"public/user/learningplan-service/v1", "public/user/userlearning-service/v1"}


class ODataError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def criteria(expression: str | None) -> dict[str, str]:
    """`criteria/x eq 'v' and criteria/y eq true` (the only form Learning accepts, reference 1.3)."""
    if not expression:
        return {}
    found: dict[str, str] = {}
    for term in re.split(r"\s+and\s+", expression.strip()):
        term = term.strip()
        while term.startswith("(") and term.endswith(")"):  # clients bracket each comparison
            term = term[1:-1].strip()
        match = TERM.match(term)
        if match is None:
            raise ODataError(400, "BadRequest", f"Unsupported filter expression: {term.strip()!r}")
        value = match.group(2).replace("''", "'") if match.group(2) is not None else match.group(3)
        found[match.group(1)] = value
    return found


def _int(value: str | None, name: str, default: int) -> int:
    if value is None:
        return default
    if not value.isdigit():
        raise ODataError(400, "BadRequest", f"Invalid value for {name}: {value!r}")
    return int(value)


def matches(row: dict[str, Any], name: str, value: str) -> bool:
    field = {"isActive": "notActive", "targetUserID": None}.get(name, name)
    if field is None:
        return True
    if name == "isActive":
        return (row.get("notActive") == "no") == (value.lower() == "true")
    if field not in row:
        raise ODataError(400, "BadRequest", f"Unknown criteria property {name!r}")
    got = row[field]
    if isinstance(got, bool):
        return got == (value.lower() == "true")
    return str(got) == value


def readable(query: dict[str, str]) -> str:
    """A query string as OData services write their links: `$` and quotes left bare."""
    return urlencode(query, safe="$'/", quote_via=quote)


def collection(site: SuccessFactorsSite, request: Request, service: str) -> dict[str, Any]:
    params = dict(request.query_params)
    found = criteria(params.get("$filter"))
    if service == "searchStudent/v1":
        rows = site.students
    elif service == "public/admin/searchItem/v1":
        rows = site.items
    else:
        user_id = found.get("targetUserID")
        if not user_id:
            raise ODataError(400, "BadRequest", "criteria/targetUserID is required")
        source = site.todos if "learningplan" in service else site.histories
        rows = source.get(user_id, [])
    rows = [r for r in rows if all(matches(r, k, v) for k, v in found.items())]
    if not rows and service in PER_LEARNER:
        raise ODataError(404, "NotFound", NO_RESULTS)
    top = min(_int(params.get("$top"), "$top", MAX_TOP), MAX_TOP)
    skip = 0 if site.repeat_first_page else _int(params.get("$skip"), "$skip", 0)
    page = rows[skip : skip + top]
    select = [s.strip() for s in params.get("$select", "").split(",") if s.strip()]
    if select:
        page = [{k: r.get(k) for k in select} for r in page]
    entity = BY_SERVICE[service]
    body: dict[str, Any] = {"@odata.context": f"$metadata#{entity.name}"}
    if params.get("$count", "").lower() == "true":
        body["@odata.count"] = len(rows)
    body["value"] = page
    if site.next_links and skip + top < len(rows):
        query = {k: v for k, v in params.items() if k != "$skip"}
        query["$skip"] = str(skip + top)
        body["@odata.nextLink"] = (
            f"{request.url.scheme}://{request.url.netloc}{request.url.path}?{readable(query)}"
        )
    return body


async def post(site: SuccessFactorsSite, request: Request, service: str) -> Response:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        raise ODataError(400, "BadRequest", "The request body is not valid JSON") from None
    if service == "public/admin/ocn/v1":
        courses = body.get("ocnCourses") if isinstance(body, dict) else None
        if not isinstance(courses, list) or not courses:
            raise ODataError(400, "BadRequest", "ocnCourses must be a non-empty list")
        for course in courses:
            if not isinstance(course, dict) or not course.get("courseID") or not course.get("providerID"):
                raise ODataError(400, "BadRequest", "Each OCN course needs courseID and providerID")
            if str(course.get("status", "ACTIVE")).upper() not in ("ACTIVE", "INACTIVE"):
                raise ODataError(400, "BadRequest", "status must be ACTIVE or INACTIVE")
        wait = site.ocn_wait()
        if wait > 0:
            return JSONResponse(
                {
                    "error": {
                        "code": "429",
                        "message": "Only one OCN course post is accepted per pace window.",
                    }
                },
                429,
                {"Retry-After": str(max(1, round(wait + 0.49)))},
            )
        for course in courses:
            site.receive_ocn(course)
        entity = BY_SERVICE[service]
        return JSONResponse(
            {"@odata.context": "$metadata#OcnCourses", "value": [shaped(entity, c) for c in courses]}, 200
        )
    if service == "public/admin/learningevent-service/v1":
        if not isinstance(body, dict):
            raise ODataError(400, "BadRequest", "A learning event is a JSON object")
        problem = site.record_event(body)
        if problem:
            raise ODataError(400, "BadRequest", problem)
        answer = shaped(BY_SERVICE[service], body)
        return JSONResponse({"@odata.context": "$metadata#OCNLearningEvents/$entity", **answer}, 201)
    raise ODataError(405, "MethodNotAllowed", f"POST is not supported on {service}")


def create_app(site: SuccessFactorsSite) -> Starlette:
    def of(request: Request) -> SuccessFactorsSite:
        current: SuccessFactorsSite = request.app.state.site
        return current

    async def learning_token(request: Request) -> Response:
        current = of(request)
        header = request.headers.get("authorization", "")
        client = ("", "")
        if header.startswith("Basic "):
            user, _, password = base64.b64decode(header[6:]).decode(errors="replace").partition(":")
            client = (user, password)
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            return JSONResponse(
                {"error": "invalid_request", "error_description": "The body must be JSON."}, 400
            )
        scope = body.get("scope") if isinstance(body, dict) else None
        if client != (current.client_id, current.client_secret):
            return JSONResponse(
                {"error": "invalid_client", "error_description": "Bad client credentials."}, 401
            )
        if not isinstance(scope, dict) or scope.get("companyId") != current.company_id:
            return JSONResponse({"error": "invalid_scope", "error_description": "Unknown companyId."}, 401)
        if (
            scope.get("userType") not in ("admin", "user")
            or scope.get("resourceType") != "learning_public_api"
        ):
            return JSONResponse({"error": "invalid_scope", "error_description": "Invalid scope."}, 400)
        return JSONResponse(current.issuer.issue(with_refresh=False))

    async def platform_token(request: Request) -> Response:
        current = of(request)
        form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:saml2-bearer":
            return JSONResponse({"error": "unsupported_grant_type"}, 400)
        if (form.get("client_id"), form.get("company_id"), form.get("assertion")) != (
            current.client_id,
            current.company_id,
            current.saml_assertion,
        ):
            return JSONResponse(
                {"error": "invalid_grant", "error_description": "Invalid SAML assertion."}, 401
            )
        return JSONResponse(current.platform_issuer.issue(with_refresh=False))

    async def odata(request: Request) -> Response:
        current = of(request)
        rest = request.path_params["rest"].strip("/")
        service, _, resource = rest.rpartition("/")
        if resource == "$metadata" and service in BY_SERVICE:
            target = f"GET {service}/$metadata"
        else:
            target = f"{request.method} {resource}"
        authorization = request.headers.get("authorization")

        async def handler() -> Response:
            try:
                if not current.valid(authorization):
                    if authorization and authorization.startswith("Bearer "):
                        return JSONResponse({"error_description": "The token has expired."}, 401)
                    return odata_error(401, "Unauthorized", "Authentication is required")
                entity = BY_SERVICE.get(service)
                if resource == "$metadata" and entity is not None:
                    return Response(csdl(entity), media_type="application/xml")
                if entity is None or entity.name != resource:
                    raise ODataError(404, "NotFound", f"Resource not found for the segment '{resource}'")
                if request.method == "GET" and service not in (
                    "public/admin/ocn/v1",
                    "public/admin/learningevent-service/v1",
                ):
                    return JSONResponse(collection(current, request, service))
                if request.method == "POST":
                    return await post(current, request, service)
                raise ODataError(405, "MethodNotAllowed", f"{request.method} is not supported on {resource}")
            except ODataError as error:
                return odata_error(error.status, error.code, error.message)

        return await current.guard(request, target, authorization or "anonymous", handler)

    app = Starlette(
        routes=[
            *control_routes(of),
            Route("/learning/oauth-api/rest/v1/token", learning_token, methods=["POST"]),
            Route("/oauth/token", platform_token, methods=["POST"]),
            Route("/learning/odatav4/{rest:path}", odata, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        ]
    )
    app.state.site = site
    return app


__all__ = ["SETS", "create_app"]

"""The Cornerstone emulator's ASGI app under `/services/api/`: the OAuth2 token endpoint (JSON or
form body), the Employee API v2 (`pageSize`, then `nextpagetoken` in the page and `nextPageToken`
in the request; `{"timestamp", "count", "data"}`), the Reporting API's OData views (`Prefer:
odata.maxpagesize`, `@odata.nextLink`, `$filter` with `eq/ne/ge/gt/le/lt` joined by `and`/`or`
with parentheses, `$select`, `$top`, `$skip`, `$count`), the legacy Transcript Search
(`PageNumber`, 50 rows, 24-hour modification window), the Learning Object material create and
the Transcript API's assign and complete; errors in Cornerstone's envelope, and the kit's
control routes, faults and limiter."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lmsbridge.testing.emulators.cornerstoneondemand.site import (
    TRANSCRIPT_SEARCH_PAGE,
    Portal,
    envelope,
    iso,
    now,
)
from lmsbridge.testing.emulators.kit import control_routes
from lmsbridge.testing.emulators.kit.paging import decode_cursor, encode_cursor

API = "/services/api"
EMPLOYEE_PAGE_DEFAULT, EMPLOYEE_PAGE_MAX = 50, 100  # [reference 2.3]
ODATA_PAGE_DEFAULT, ODATA_PAGE_MAX = 100, 1000


class CsodError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
CAST = re.compile(r"^cast\(\s*'([^']*)'\s*,\s*Edm\.DateTimeOffset\s*\)$", re.IGNORECASE)
TOKEN = re.compile(r"\s*(\(|\)|'(?:[^']|'')*'|cast\([^)]*\)|[^\s()']+)")

Clause = tuple[str, str, Any]
Filter = list[list[Clause]]  # OR of ANDs


def _literal(text: str) -> Any:
    """An OData v4 literal: 'text' (quotes doubled), null, true/false, a whole number, a GUID
    (unquoted, as clients send `lo_object_id eq {guid}` [reference 2.5]), a date-time written bare
    or as cast('...', Edm.DateTimeOffset) (compared as ISO text)."""
    if text.startswith("'") and text.endswith("'"):
        return text[1:-1].replace("''", "'")
    if text in ("null", "true", "false"):
        return {"null": None, "true": True, "false": False}[text]
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    cast = CAST.match(text)
    return cast.group(1) if cast else text


def _same(have: Any, value: Any) -> bool:
    if have is None or value is None:
        return have is value
    if isinstance(have, bool) or isinstance(value, bool):
        return bool(have) == bool(value) and {type(have), type(value)} <= {bool, int}
    return str(have).lower() == str(value).lower() if GUID.match(str(value)) else str(have) == str(value)


def _holds(row: dict[str, Any], clause: Clause) -> bool:
    name, op, value = clause
    have = row.get(name)
    if op in ("eq", "ne"):
        return _same(have, value) == (op == "eq")
    if have is None or value is None:
        return False
    # Numbers compare as numbers; dates as their ISO text (one format: UTC with Z).
    order = (
        (have > value) - (have < value)
        if isinstance(have, int) and isinstance(value, int)
        else ((str(have) > str(value)) - (str(have) < str(value)))
    )
    return {"ge": order >= 0, "gt": order > 0, "le": order <= 0, "lt": order < 0}[op]


def _matches(row: dict[str, Any], found: Filter) -> bool:
    return not found or any(all(_holds(row, clause) for clause in group) for group in found)


def parse_filter(text: str | None, columns: set[str]) -> Filter:
    """`$filter`: comparisons (`eq ne ge gt le lt`) joined by `and` / `or`, with parentheses, as
    Cornerstone's clients write them [reference 2.5; public clients' `(a eq 1 or a eq 2) and ...`].
    Read into a disjunction of conjunctions."""
    if not text or not text.strip():
        return []
    tokens = TOKEN.findall(text)
    if "".join(tokens).replace(" ", "") != re.sub(r"\s", "", text):
        raise CsodError(400, "The query specified in the URI is not valid.")
    at = 0

    def fail(what: str) -> CsodError:
        return CsodError(400, f"The query specified in the URI is not valid: {what}.")

    def expression() -> Filter:
        nonlocal at
        found = term()
        while at < len(tokens) and tokens[at] == "or":
            at += 1
            found = found + term()
        return found

    def term() -> Filter:
        nonlocal at
        found = factor()
        while at < len(tokens) and tokens[at] == "and":
            at += 1
            right = factor()
            found = [left + other for left in found for other in right]
        return found

    def factor() -> Filter:
        nonlocal at
        if at < len(tokens) and tokens[at] == "(":
            at += 1
            found = expression()
            if at >= len(tokens) or tokens[at] != ")":
                raise fail("a parenthesis is not closed")
            at += 1
            return found
        if at + 3 > len(tokens):
            raise fail(f"cannot read {' '.join(tokens[at:])!r}")
        name, op, value = tokens[at : at + 3]
        if op not in ("eq", "ne", "ge", "gt", "le", "lt") or not re.fullmatch(r"\w+", name):
            raise fail(f"cannot read {name} {op} {value!r}")
        if columns and name not in columns:
            raise CsodError(400, f"Could not find a property named '{name}'.")
        at += 3
        return [[(name, op, _literal(value))]]

    found = expression()
    if at != len(tokens):
        raise fail(f"cannot read {' '.join(tokens[at:])!r}")
    return found


def _int(request: Request, name: str, default: int) -> int:
    value = request.query_params.get(name)
    if value is None:
        return default
    if not value.isdigit():
        raise CsodError(400, f"{name} must be a positive whole number.")
    return int(value)


def view(portal: Portal, request: Request, name: str) -> Any:
    rows = portal.view(name)
    if rows is None:
        raise CsodError(404, f"The view {name} does not exist.")
    columns = set(rows[0]) if rows else set()
    clauses = parse_filter(request.query_params.get("$filter"), columns)
    chosen = [r for r in rows if _matches(r, clauses)]
    skip = _int(request, "$skip", 0)
    top = request.query_params.get("$top")
    chosen = chosen[skip:]
    if top is not None:
        chosen = chosen[: _int(request, "$top", 0)]
    found = re.search(r"odata\.maxpagesize=(\d+)", request.headers.get("prefer", ""))
    size = min(int(found.group(1)) if found else ODATA_PAGE_DEFAULT, ODATA_PAGE_MAX)
    if portal.page_size_cap:
        size = min(size, portal.page_size_cap)
    token = request.query_params.get("$skiptoken")
    offset = 0 if token is None or portal.repeat_first_page else decode_cursor(token)
    base = str(request.url.replace(query=""))
    body: dict[str, Any] = {"@odata.context": f"{base.rsplit('/views/', 1)[0]}/$metadata#{name}"}
    if request.query_params.get("$count") == "true":
        body["@odata.count"] = len(chosen)
    page = chosen[offset : offset + size]
    wanted = [c.strip() for c in (request.query_params.get("$select") or "").split(",") if c.strip()]
    unknown = [c for c in wanted if columns and c not in columns]
    if unknown:
        raise CsodError(400, f"Could not find a property named '{unknown[0]}'.")
    body["value"] = [{c: r.get(c) for c in wanted} for r in page] if wanted else page
    if offset + size < len(chosen):
        others = [(k, v) for k, v in request.query_params.multi_items() if k != "$skiptoken"]
        body["@odata.nextLink"] = (
            f"{base}?{urlencode([*others, ('$skiptoken', encode_cursor(offset + size))])}"
        )
    return body


def employees(portal: Portal, request: Request) -> Any:
    size = max(1, min(_int(request, "pageSize", EMPLOYEE_PAGE_DEFAULT), EMPLOYEE_PAGE_MAX))
    if portal.page_size_cap:
        size = min(size, portal.page_size_cap)
    rows = portal.employees
    external = request.query_params.get("externalId")
    if external:
        rows = [e for e in rows if e["externalId"] == external]
    ids = request.query_params.get("ids")
    if ids:
        wanted = set(ids.split(","))
        rows = [e for e in rows if str(e["id"]) in wanted]
    # The page names its token `nextpagetoken` (csod.dev's employee pagination example); the
    # guide's prose spells it nextPageToken, the spelling taken for the query parameter.
    token = request.query_params.get("nextPageToken") or request.query_params.get("nextpagetoken")
    try:
        offset = 0 if token is None or portal.repeat_first_page else decode_cursor(token)
    except ValueError:
        raise CsodError(400, "The nextPageToken is not valid or has expired.") from None
    page = rows[offset : offset + size]
    body: dict[str, Any] = {"timestamp": iso(now())}
    if offset + size < len(rows):
        body["nextpagetoken"] = encode_cursor(offset + size)
    body.update(count=len(page), data=page)
    return body


def transcript_search(portal: Portal, request: Request) -> Any:
    """Legacy synchronous Transcript Search: a modification window of at most 24 hours [reference 2.5]."""
    try:
        start = datetime.fromisoformat(request.query_params["ModificationStartDate"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(request.query_params["ModificationEndDate"].replace("Z", "+00:00"))
    except (KeyError, ValueError):
        raise CsodError(400, "ModificationStartDate and ModificationEndDate are required.") from None
    if not start.tzinfo or not end.tzinfo or end < start or (end - start).total_seconds() > 24 * 3600:
        raise CsodError(400, "The modification window must be at most 24 hours.")
    page = max(1, _int(request, "PageNumber", 1))
    rows = [
        r
        for r in portal.transcripts
        if (iso(start) or "") <= str(r["_last_touched_dt_utc"]) <= (iso(end) or "")
    ]
    chunk = rows[(page - 1) * TRANSCRIPT_SEARCH_PAGE : page * TRANSCRIPT_SEARCH_PAGE]
    return {"status": "200", "timeStamp": iso(now()), "data": chunk}


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        raise CsodError(400, "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise CsodError(400, "The request body must be a JSON object.")
    return body


async def create_material(portal: Portal, request: Request) -> Any:
    body = await _json_body(request)
    title, url = body.get("title"), body.get("url")
    if not isinstance(title, str) or not title.strip() or not isinstance(url, str) or not url:
        raise CsodError(400, "title and url are required.")
    ref = body.get("externalId")
    if ref and any(t["lo_ref"] == ref for t in portal.training):
        raise CsodError(409, f"A learning object with external id {ref} already exists.")
    row = portal.add_lo(
        title, url, ref, str(body.get("providerName") or "lmsbridge"), body.get("description")
    )
    return {"status": "201", "timeStamp": iso(now()), "data": {"id": row["lo_object_id"]}}


def _learner(portal: Portal, body: dict[str, Any]) -> dict[str, Any] | None:
    """The Transcript API names a learner by `externalId` (a public client's assign, register,
    update and details calls) or by `userGuid` [reference 2.6]."""
    if body.get("externalId"):
        return next((e for e in portal.employees if e["externalId"] == str(body["externalId"])), None)
    return portal.employee(str(body.get("userGuid") or "")) if body.get("userGuid") else None


async def assign(portal: Portal, request: Request) -> Any:
    body = await _json_body(request)
    e = _learner(portal, body)
    lo = portal.lo(str(body.get("learningObjectId") or ""))
    if body.get("assignment", "assigned") not in ("approved", "assigned", "registered"):
        raise CsodError(400, "assignment must be approved, assigned or registered.")
    if e is None:
        raise CsodError(404, "User record not found.")
    if lo is None:
        raise CsodError(404, "Learning object record not found.")
    if lo["lo_active"] != "Y":
        raise CsodError(400, "The learning object is inactive and cannot be assigned.")
    row = portal.assign(int(e["id"]), lo["lo_object_id"])
    return {"status": "success", "data": {"registrationNumber": row["reg_num"]}}


async def complete(portal: Portal, request: Request) -> Any:
    body = await _json_body(request)
    e = _learner(portal, body)
    lo_id = str(body.get("learningObjectId") or "")
    if e is None or portal.lo(lo_id) is None:
        raise CsodError(404, "User or learning object record not found.")
    rows = [
        r
        for r in portal.transcripts
        if r["transc_user_id"] == e["id"] and r["transc_object_id"] == lo_id and not r["is_removed"]
    ]
    if not rows:
        raise CsodError(400, "The learning object is not on the user's transcript.")
    when = body.get("completionDate")
    try:
        moment = datetime.fromisoformat(str(when).replace("Z", "+00:00")) if when else now()
    except ValueError:
        raise CsodError(400, "completionDate is not a date-time.") from None
    portal.complete(rows[-1], moment)
    return {"status": "success", "data": {"registrationNumber": rows[-1]["reg_num"]}}


async def _token(request: Request) -> Response:
    portal: Portal = request.app.state.portal
    raw = (await request.body()).decode()
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            given = json.loads(raw or "{}")
        except ValueError:
            return JSONResponse(envelope(400, "The request body is not valid JSON."), 400)
        client = (given.get("clientId"), given.get("clientSecret"))
        grant = given.get("grantType")
    else:
        form = dict(parse_qsl(raw, keep_blank_values=True))
        client = (form.get("client_id"), form.get("client_secret"))
        grant = form.get("grant_type")
        given = form
    if grant != "client_credentials":
        return JSONResponse(envelope(400, "Only the client_credentials grant is supported."), 400)
    if client != (portal.client_id, portal.client_secret):
        return JSONResponse(envelope(401, "Invalid client credentials."), 401)
    body = portal.issuer.issue(with_refresh=False)
    body["scope"] = given.get("scope") or ""
    return JSONResponse(body)


def create_app(portal: Portal) -> Starlette:
    def of(request: Request) -> Portal:
        current: Portal = request.app.state.portal
        return current

    async def token(request: Request) -> Response:
        # Outside the fault plan: an outage is staged on the APIs, whose calls are retried.
        return await _token(request)

    async def api(request: Request) -> Response:
        portal = of(request)
        rest = "/" + request.path_params["rest"].strip("/")
        target = f"{request.method} {_target(rest)}"

        async def handler() -> Response:
            if not portal.issuer.valid(request.headers.get("authorization")):
                return JSONResponse(envelope(401, "The access token is missing, invalid or expired."), 401)
            try:
                return JSONResponse(await _answer(portal, request, rest))
            except CsodError as error:
                return JSONResponse(envelope(error.status, error.message), error.status)

        return await portal.guard(
            request, target, request.headers.get("authorization") or "anonymous", handler
        )

    app = Starlette(
        routes=[
            *control_routes(of),
            Route(f"{API}/oauth2/token", token, methods=["POST"]),
            Route(API + "/{rest:path}", api, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        ]
    )
    app.state.portal = portal
    return app


def _target(rest: str) -> str:
    """The route a fault names: views and employees by their template."""
    if rest.startswith("/x/users/v2/employees/"):
        return API + "/x/users/v2/employees/{id}"
    return API + rest


async def _answer(portal: Portal, request: Request, rest: str) -> Any:
    method = request.method
    if method == "GET" and rest.startswith("/x/odata/api/views/"):
        return view(portal, request, rest.removeprefix("/x/odata/api/views/"))
    if method == "GET" and rest == "/x/users/v2/employees":
        return employees(portal, request)
    if method == "GET" and rest.startswith("/x/users/v2/employees/"):
        found = portal.employee(rest.rsplit("/", 1)[1])
        if found is None or not rest.rsplit("/", 1)[1].isdigit():
            raise CsodError(404, "The employee was not found.")
        return {"data": found}
    if method == "GET" and rest == "/LOTranscript/TranscriptSearch":
        return transcript_search(portal, request)
    if method == "POST" and rest == "/x/lo/v1/materials":
        return await create_material(portal, request)
    if method == "POST" and rest == "/v1/transcripts/assign":
        return await assign(portal, request)
    if method == "PATCH" and rest == "/v1/transcripts/complete":
        return await complete(portal, request)
    raise CsodError(404, "The requested resource was not found.")

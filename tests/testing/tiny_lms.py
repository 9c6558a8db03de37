"""A small REST LMS built only from the emulator kit, as a new connector's emulator would be:
OAuth2 client credentials, users paged by offset (or by cursor, or by Link header), course
creation keyed by origin id. It proves the kit and the HTTP toolkit together over real HTTP."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lmsbridge.testing.emulators.kit import Emulator, TokenIssuer, World, control_routes, token_route
from lmsbridge.testing.emulators.kit.paging import (
    decode_cursor,
    encode_cursor,
    link_header,
    offset_slice,
)

CLIENT_ID, CLIENT_SECRET = "tiny-client", "tiny-secret-5e6f7a8b"


def vendor_429(wait: float) -> Response:
    return JSONResponse(
        {"error": {"code": "rate_limited", "retry_in": round(wait, 2)}},
        429,
        {"Retry-After": str(max(1, round(wait + 0.49))), "X-RateLimit-Limit": "2"},
    )


@dataclass
class TinyLms(Emulator):
    world: World = field(default_factory=lambda: World.seeded(seed=7, users=23))
    issuer: TokenIssuer = field(default_factory=lambda: TokenIssuer(CLIENT_ID, CLIENT_SECRET))
    courses: dict[str, dict[str, Any]] = field(default_factory=dict)
    repeat_first_page: bool = False

    def __post_init__(self) -> None:
        super().__init__(vendor_429)


def create_app(lms: TinyLms) -> Starlette:
    def of(request: Request) -> TinyLms:
        current: TinyLms = request.app.state.lms
        return current

    def unauthorised(request: Request) -> Response | None:
        if of(request).issuer.valid(request.headers.get("authorization")):
            return None
        return JSONResponse({"error": "invalid_token"}, 401)

    async def users(request: Request) -> Response:
        lms = of(request)

        async def answer() -> Response:
            refused = unauthorised(request)
            if refused is not None:
                return refused
            q = request.query_params
            rows = [{"id": u.key, "email": u.email} for u in lms.world.users]
            if "cursor" in q or q.get("style") == "cursor":
                start = decode_cursor(q["cursor"]) if q.get("cursor") else 0
                page = offset_slice(rows, start, 10)
                more = start + 10 < len(rows)
                return JSONResponse(
                    {"data": page, "next_cursor": encode_cursor(start + 10) if more else None}
                )
            offset = 0 if lms.repeat_first_page else int(q.get("offset", 0))
            limit = int(q.get("limit", 10))
            page = offset_slice(rows, offset, limit)
            headers = {}
            if q.get("style") == "link" and offset + limit < len(rows):
                base = f"{request.url.scheme}://{request.url.netloc}{request.url.path}"
                headers["Link"] = link_header(
                    base, {"style": "link", "offset": offset + limit, "limit": limit}
                )
            return JSONResponse({"data": page}, headers=headers)

        return await lms.guard(request, "GET /users", request.headers.get("authorization", ""), answer)

    async def create_course(request: Request) -> Response:
        lms = of(request)
        body = await request.json()

        async def answer() -> Response:
            refused = unauthorised(request)
            if refused is not None:
                return refused
            existing = lms.courses.get(body["origin_id"])
            if existing is not None:
                return JSONResponse({"error": "duplicate origin_id", "id": existing["id"]}, 409)
            course = {"id": f"c{len(lms.courses) + 1}", **body}
            lms.courses[body["origin_id"]] = course
            return JSONResponse(course, 201)

        return await lms.guard(request, "POST /courses", request.headers.get("authorization", ""), answer)

    app = Starlette(
        routes=[
            token_route("/oauth/token", lambda request: of(request).issuer),
            token_route("/oauth/form-token", lambda request: of(request).issuer, form_answers=True),
            Route("/users", users, methods=["GET"]),
            Route("/courses", create_course, methods=["POST"]),
            *control_routes(of),
        ]
    )
    app.state.lms = lms
    return app

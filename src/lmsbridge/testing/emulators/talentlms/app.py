"""The TalentLMS emulator's ASGI app: v1 and v2 under one portal, the kit's control routes, and
the faults, limiter and call log every emulator shares (`TalentLmsSite` is the kit's
`Emulator`). `/api/v1/...` and `/api/v2/...` are dispatched by prefix because v1's argument
segment (`users/id:7,`) is no route template."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lmsbridge.testing.emulators.kit import control_routes
from lmsbridge.testing.emulators.talentlms import errors, v1, v2
from lmsbridge.testing.emulators.talentlms.site import TalentLmsSite
from lmsbridge.testing.emulators.talentlms.spec import SpecViolation


def create_app(site: TalentLmsSite) -> Starlette:
    def of(request: Request) -> TalentLmsSite:
        current: TalentLmsSite = request.app.state.site
        return current

    async def api_v1(request: Request) -> Response:
        return (await v1.handle(of(request), request))[1]

    async def api_v2(request: Request) -> Response:
        try:
            return (await v2.handle(of(request), request))[1]
        except SpecViolation as violation:  # the emulator broke the vendor's contract: say so loudly
            return errors.answer(
                errors.TalentLmsError(500, f"emulator answer off-spec: {violation}", "api_error")
            )

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    app = Starlette(
        routes=[
            *control_routes(of),
            Route("/api/v1/{rest:path}", api_v1, methods=methods),
            Route("/api/v2/{rest:path}", api_v2, methods=methods),
        ]
    )
    app.state.site = site
    return app

"""The Workday emulator's ASGI app: `POST /ccx/service/{tenant}/{service}/{version}` (SOAP 1.1,
services Learning and Human_Resources), `GET` of the same address with `?wsdl` (wsdl.py: the
operations served, their requests typed with Workday's element names), the OAuth2 token endpoint
`/ccx/oauth2/{tenant}/token` (refresh-token grant, client in HTTP Basic), a small REST surface
under `/ccx/api/` for passthrough, and the kit's control routes, faults and limiter."""

from __future__ import annotations

import re

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lmsbridge.testing.emulators.kit import TokenIssuer, control_routes, token_route
from lmsbridge.testing.emulators.workday.site import WWS_VERSION, WorkdaySite, soap_fault
from lmsbridge.testing.emulators.workday.soap import OPERATIONS, SoapFault, answer, authenticated, parse
from lmsbridge.testing.emulators.workday.wsdl import wsdl

VERSION = re.compile(r"^v\d+(\.\d+)?$")


def create_app(site: WorkdaySite) -> Starlette:
    def of(request: Request) -> WorkdaySite:
        current: WorkdaySite = request.app.state.site
        return current

    def issuer_of(request: Request) -> TokenIssuer:
        issuer = of(request).issuer
        assert issuer is not None
        return issuer

    async def service(request: Request) -> Response:
        site = of(request)
        tenant, name, version = (request.path_params[k] for k in ("tenant", "service", "version"))
        if request.method == "GET":
            if name not in OPERATIONS or tenant != site.tenant:
                return Response("Not Found", 404)
            address = str(request.url.replace(query=""))
            return Response(wsdl(name, address, WWS_VERSION), media_type="text/xml; charset=utf-8")
        body = await request.body()

        async def handler() -> Response:
            try:
                if tenant != site.tenant or name not in OPERATIONS or not VERSION.match(version):
                    return soap_fault(
                        "SOAP-ENV:Client", f"Invalid request service version or tenant: {name}/{version}"
                    )
                root = parse(body)
                if not authenticated(site, root, request.headers.get("authorization")):
                    return soap_fault("SOAP-ENV:Client.authenticationError", "invalid username or password")
                return Response(
                    answer(site, name, root, request.headers.get("authorization")),
                    media_type="text/xml; charset=utf-8",
                )
            except SoapFault as fault:
                return soap_fault(fault.code, fault.message)

        target = name
        try:
            from lmsbridge.testing.emulators.workday.soap import operation_of

            target = f"{name} {operation_of(parse(body))[0]}"
        except SoapFault:
            pass
        return await site.guard(request, target, "isu", handler)

    async def rest(request: Request) -> Response:
        """`GET /ccx/api/v1/{tenant}/workers`: the one REST resource served, for passthrough."""
        site = of(request)

        async def handler() -> Response:
            if site.issuer is None or not site.issuer.valid(request.headers.get("authorization")):
                return JSONResponse(
                    {"error": "invalid access token", "errors": [{"error": "invalid access token"}]}, 401
                )
            if request.path_params["rest"].strip("/") != f"v1/{site.tenant}/workers":
                return JSONResponse(
                    {"error": "Resource not found", "errors": [{"error": "Resource not found"}]}, 404
                )
            data = [
                {"id": w.wid, "descriptor": f"{w.first_name} {w.last_name}", "workerId": w.employee_id}
                for w in site.workers
            ]
            return JSONResponse({"total": len(data), "data": data})

        return await site.guard(request, "rest", "rest", handler)

    app = Starlette(
        routes=[
            *control_routes(of),
            token_route("/ccx/oauth2/{tenant}/token", issuer_of),
            Route("/ccx/service/{tenant}/{service}/{version}", service, methods=["GET", "POST"]),
            Route("/ccx/api/{rest:path}", rest, methods=["GET"]),
        ]
    )
    app.state.site = site
    return app

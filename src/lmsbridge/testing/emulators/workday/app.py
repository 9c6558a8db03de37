"""The Workday emulator's ASGI app: `POST /ccx/service/{tenant}/{service}/{version}` (SOAP 1.1,
services Learning and Human_Resources), `GET` of the same address with `?wsdl` (the operations
served, Workday's names and namespace), the OAuth2 token endpoint
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
from lmsbridge.testing.emulators.workday.soap import BSVC, OPERATIONS, SoapFault, answer, authenticated, parse

VERSION = re.compile(r"^v\d+(\.\d+)?$")


def wsdl(service: str, address: str) -> str:
    """A document/literal WSDL naming the operations served (element content left open)."""
    ops = sorted(OPERATIONS.get(service, {}))
    # Each request and response element is typed: open content (`xsd:any`, Workday's children
    # are documented per operation, not modelled here) and the `version` attribute.
    open_type = (
        '<xsd:complexType><xsd:sequence><xsd:any namespace="##any" processContents="lax" minOccurs="0" '
        'maxOccurs="unbounded"/></xsd:sequence><xsd:attribute ref="wd:version"/></xsd:complexType>'
    )
    elements = '<xsd:attribute name="version" type="xsd:string"/>' + "".join(
        f'<xsd:element name="{op}_{part}">{open_type}</xsd:element>'
        for op in ops
        for part in ("Request", "Response")
    )
    messages = "".join(
        f'<wsdl:message name="{op}_{part}"><wsdl:part name="body" element="wd:{op}_{part}"/></wsdl:message>'
        for op in ops
        for part in ("Request", "Response")
    )
    port_ops = "".join(
        f'<wsdl:operation name="{op}"><wsdl:input message="wd:{op}_Request"/>'
        f'<wsdl:output message="wd:{op}_Response"/></wsdl:operation>'
        for op in ops
    )
    binding_ops = "".join(
        f'<wsdl:operation name="{op}"><soap:operation soapAction=""/>'
        '<wsdl:input><soap:body use="literal"/></wsdl:input>'
        '<wsdl:output><soap:body use="literal"/></wsdl:output>'
        "</wsdl:operation>"
        for op in ops
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<wsdl:definitions name="{service}" targetNamespace="{BSVC}" xmlns:wd="{BSVC}" '
        'xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema">'
        f"<wsdl:documentation>Workday Web Services {service} {WWS_VERSION} (operations served by the "
        "lmsbridge emulator)</wsdl:documentation>"
        f'<wsdl:types><xsd:schema targetNamespace="{BSVC}" elementFormDefault="qualified">{elements}'
        "</xsd:schema></wsdl:types>"
        f'{messages}<wsdl:portType name="{service}PortType">{port_ops}</wsdl:portType>'
        f'<wsdl:binding name="{service}Binding" type="wd:{service}PortType">'
        '<soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>'
        f"{binding_ops}</wsdl:binding>"
        f'<wsdl:service name="{service}Service"><wsdl:port name="{service}" binding="wd:{service}Binding">'
        f'<soap:address location="{address}"/></wsdl:port></wsdl:service></wsdl:definitions>'
    )


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
            return Response(wsdl(name, address), media_type="text/xml; charset=utf-8")
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

"""Workday's SOAP web services behind one object: every call is a SOAP 1.1 envelope in
`urn:com.workday/bsvc` POSTed to `/ccx/service/{tenant}/{service}/{version}`, authenticated by a
WS-Security UsernameToken in the header or an OAuth2 Bearer token (refresh-token grant, client in
HTTP Basic). Workday answers every fault with HTTP 500; `FaultStatus` turns client faults into
the status they mean before the shared client decides what to retry."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx

from lmsbridge.connectors.errors import ConnectorError
from lmsbridge.connectors.http.auth import OAuth2
from lmsbridge.connectors.http.client import RemoteHttpClient
from lmsbridge.connectors.http.paging import PagingLoopError
from lmsbridge.connectors.http.resolution import AUTH, DEFAULT, INPUT, PERMISSION, Resolution
from lmsbridge.connectors.workday.settings import WorkdaySettings
from lmsbridge.errors import ErrorCode
from lmsbridge.outbound import guarded_transport

SERVICE = "Workday"
BSVC = "urn:com.workday/bsvc"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
NS = {"wd": BSVC}
PASSWORD_TEXT = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText"
)
# faultcode suffix -> the status it means (Workday sends 500 for all of them).
FAULT_STATUS = {
    "authenticationError": 401,
    "authorizationError": 403,
    "validationError": 400,
    "processingFault": 422,
}


def escape(value: object) -> str:
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def fault_of(content: bytes) -> tuple[str, str] | None:
    """(faultcode, faultstring) of a SOAP fault body, or None."""
    try:
        root = ET.fromstring(content)
    except ET.ParseError:
        return None
    fault = root.find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    if fault is None:
        return None
    return (fault.findtext("faultcode") or "").strip(), (fault.findtext("faultstring") or "").strip()


class FaultStatus(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if response.status_code != 500:
            return response
        content = response.read()
        fault = fault_of(content)
        status = FAULT_STATUS.get(fault[0].rsplit(".", 1)[-1], 500) if fault else 500
        if fault and fault[0].endswith(":Client") and status == 500:
            status = 400
        return httpx.Response(status, headers=response.headers, content=content, request=request)

    def close(self) -> None:
        self.inner.close()


def _with_fault(base: Resolution) -> Any:
    def rule(response: httpx.Response) -> Resolution:
        fault = fault_of(response.content)
        return replace(base, message=fault[1]) if fault and fault[1] else base

    return rule


RESOLUTION = DEFAULT.override(
    {
        400: _with_fault(INPUT),
        401: replace(
            AUTH, message="the integration system user or API client was refused; check the credentials"
        ),
        403: replace(
            PERMISSION,
            message="the integration system user lacks a domain permission (see the setup steps)",
        ),
        422: _with_fault(INPUT),
    }
)


class WorkdayApi:
    def __init__(
        self,
        settings: WorkdaySettings,
        credentials: dict[str, str],
        *,
        transport: httpx.BaseTransport | None = None,
        pacer: Any = None,
        pace_key: str | None = None,
    ) -> None:
        self.settings = settings
        self.credentials = credentials
        auth: httpx.Auth | None = None
        if settings.auth_mode == "oauth":
            auth = OAuth2(
                f"{settings.base_url}/ccx/oauth2/{settings.tenant}/token",
                {"grant_type": "refresh_token", "refresh_token": credentials["refresh_token"]},
                client_auth=httpx.BasicAuth(credentials["client_id"], credentials["client_secret"]),
            )
        common: dict[str, Any] = {
            "service": SERVICE,
            "timeout": settings.timeout_seconds,
            "retry": settings.retry_policy(),
            "secrets": [v for k, v in credentials.items() if k != "username" and k != "client_id"],
            "pacer": pacer,
            "pace_key": pace_key,
            "pace": settings.pace(),
            "auth": auth,
        }
        self.client = RemoteHttpClient(
            f"{settings.base_url}/ccx/service/{settings.tenant}/",
            transport=FaultStatus(transport or guarded_transport()),
            headers={"Content-Type": 'text/xml; charset="utf-8"'},
            **common,
        )
        self.rest = RemoteHttpClient(f"{settings.base_url}/ccx/api/", transport=transport, **common)

    def close(self) -> None:
        self.client.close()
        self.rest.close()

    def header(self) -> str:
        if self.settings.auth_mode != "ws_security":
            return ""
        user = f"{self.credentials['username']}@{self.settings.tenant}"
        return (
            f'<soapenv:Header><wsse:Security xmlns:wsse="{WSSE}" soapenv:mustUnderstand="1">'
            "<wsse:UsernameToken>"
            f"<wsse:Username>{escape(user)}</wsse:Username>"
            f'<wsse:Password Type="{PASSWORD_TEXT}">{escape(self.credentials["password"])}</wsse:Password>'
            "</wsse:UsernameToken></wsse:Security></soapenv:Header>"
        )

    def envelope(self, operation: str, inner: str) -> str:
        return (
            f'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" '
            f'xmlns:bsvc="{BSVC}">{self.header()}<soapenv:Body>'
            f'<bsvc:{operation}_Request bsvc:version="{self.settings.version}">'
            f"{inner}</bsvc:{operation}_Request>"
            "</soapenv:Body></soapenv:Envelope>"
        )

    def call(self, service: str, operation: str, inner: str = "") -> ET.Element:
        """The `{operation}_Response` element of a call, or the error its fault means."""
        response = self.client.request(
            "POST", f"{service}/{self.settings.version}", content=self.envelope(operation, inner).encode()
        )
        RESOLUTION.check(response, SERVICE)
        try:
            root = ET.fromstring(response.content)
        except ET.ParseError:
            raise ConnectorError(
                f"{SERVICE} answered {operation} with a body that is not XML.",
                code=ErrorCode.REMOTE_UNKNOWN_HTTP_ERROR,
            ) from None
        found = root.find(f"{{{SOAP_ENV}}}Body/{{{BSVC}}}{operation}_Response")
        if found is None:
            raise ConnectorError(
                f"{SERVICE} answered {operation} without a {operation}_Response.",
                code=ErrorCode.REMOTE_UNKNOWN_HTTP_ERROR,
            )
        return found

    def pages(
        self, service: str, operation: str, criteria: str = "", row: str = ""
    ) -> Iterator[list[ET.Element]]:
        """Every page of a Get_ operation (`Response_Filter` Page/Count, up to `Total_Pages`). A
        remote that answers the same rows twice stops the read with `PagingLoopError`."""
        page, seen = 1, set[str]()
        while True:
            body = self.call(
                service,
                operation,
                f"{criteria}<bsvc:Response_Filter><bsvc:Page>{page}</bsvc:Page>"
                f"<bsvc:Count>{self.settings.page_size}</bsvc:Count></bsvc:Response_Filter>",
            )
            rows = body.findall(f"wd:Response_Data/wd:{row}", NS)
            ids = {first_id(r) for r in rows}
            if rows and ids <= seen:
                raise PagingLoopError(f"{SERVICE} answered {operation} page {page} with rows already read.")
            seen |= ids
            if rows:
                yield rows
            total = int(body.findtext("wd:Response_Results/wd:Total_Pages", "1", NS) or 1)
            if not rows or page >= total:
                return
            page += 1


def first_id(node: ET.Element, element: str | None = None, kind: str | None = None) -> str:
    """The ID of a reference (the first child reference when `element` is None), of `kind` when given."""
    ref = node.find(f"wd:{element}", NS) if element else node[0] if len(node) else None
    if ref is None:
        return ""
    for found in ref.findall("wd:ID", NS):
        if kind is None or found.get(f"{{{BSVC}}}type") == kind:
            return (found.text or "").strip()
    return ""

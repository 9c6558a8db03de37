"""Passthrough: `soap` relays a SOAP envelope to `/ccx/service/{tenant}/{path}` (e.g.
`Learning/v44.1`), adding the WS-Security header in ws_security mode (or the Bearer token in
oauth mode); `rest` relays a call under `/ccx/api/` with the Bearer token (oauth mode only:
Workday's REST APIs take no user name and password). The answer is relayed as it comes,
faults included, with the secrets blanked out."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from lmsbridge.connectors import passthrough as shared
from lmsbridge.connectors.base import PassthroughResponse
from lmsbridge.connectors.passthrough import PassthroughRefusedError

if TYPE_CHECKING:
    from lmsbridge.connectors.workday.connector import WorkdayConnector

BODY_TAG = re.compile(r"<([A-Za-z_][\w.-]*:)?Body[\s>]")


def with_security(envelope: str, header: str) -> str:
    """The envelope with the WS-Security header put before its Body (when it has none)."""
    if "UsernameToken" in envelope or not header:
        return envelope
    found = BODY_TAG.search(envelope)
    if found is None:
        return envelope
    prefix = found.group(1) or ""
    return envelope[: found.start()] + header.replace("soapenv:", prefix) + envelope[found.start() :]


def relay(connector: WorkdayConnector, api: str, request: Any) -> PassthroughResponse:
    if api not in connector.passthrough_apis:
        raise shared.unknown_api(api, connector.passthrough_apis, "Workday")
    if api == "rest" and connector.settings.auth_mode != "oauth":
        raise PassthroughRefusedError("Workday's REST APIs need auth_mode oauth (an API client).")
    path = shared.relative_path(str(request.path), "the API (Learning/v44.1)")
    with connector.session(None) as remote:
        client = remote.client if api == "soap" else remote.rest
        headers = shared.caller_headers(request)
        data = getattr(request, "data", None)
        kwargs: dict[str, Any] = {}
        if api == "soap" and isinstance(data, str):
            kwargs["content"] = with_security(data, remote.header()).encode()
        elif data is not None:
            kwargs["json"] = data
        response = client.request(
            str(request.method).upper(),
            path,
            params=dict(getattr(request, "params", {}) or {}) or None,
            headers=headers or None,
            **kwargs,
        )
        as_base64 = bool(getattr(request, "response_as_base64", False))
        return shared.relay(response, client.redactor, as_base64=as_base64)

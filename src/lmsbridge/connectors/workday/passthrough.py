"""Passthrough: `soap` relays a SOAP envelope to `/ccx/service/{tenant}/{path}` (e.g.
`Learning/v44.1`), adding the WS-Security header in ws_security mode (or the Bearer token in
oauth mode); `rest` relays a call under `/ccx/api/` with the Bearer token (oauth mode only:
Workday's REST APIs take no user name and password). The answer is relayed as it comes,
faults included, with the secrets blanked out."""

from __future__ import annotations

import base64
import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from lmsbridge.connectors.base import PassthroughResponse
from lmsbridge.connectors.passthrough import PassthroughRefusedError
from lmsbridge.errors import ErrorCode

if TYPE_CHECKING:
    from lmsbridge.connectors.workday.connector import WorkdayConnector

OWN_HEADERS = {"host", "authorization", "cookie", "content-length", "proxy-authorization"}
BODY_TAG = re.compile(r"<([A-Za-z_][\w.-]*:)?Body[\s>]")


class PassthroughRefused(PassthroughRefusedError):
    code = ErrorCode.INPUT_INVALID


def relative_path(path: str) -> str:
    given = urlsplit(path)
    if (
        "\\" in path
        or any(ord(c) < 0x20 for c in path)
        or given.scheme
        or given.netloc
        or path.startswith("//")
    ):
        raise PassthroughRefused(
            f"path: {path!r} is refused; give a path relative to the API (Learning/v44.1)."
        )
    if any(part == ".." for part in given.path.split("/")):
        raise PassthroughRefused(f"path: {path!r} leaves the API's base path.")
    return path.lstrip("/")


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
        raise PassthroughRefused(f"Workday has no passthrough API {api!r}; use 'soap' or 'rest'.")
    if api == "rest" and connector.settings.auth_mode != "oauth":
        raise PassthroughRefused("Workday's REST APIs need auth_mode oauth (an API client).")
    path = relative_path(str(request.path))
    with connector.session(None) as remote:
        client = remote.client if api == "soap" else remote.rest
        headers = {
            k: v for k, v in (getattr(request, "headers", {}) or {}).items() if k.lower() not in OWN_HEADERS
        }
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
        redactor = client.redactor
        relayed = {
            k.lower(): redactor.text(v) for k, v in response.headers.items() if k.lower() != "set-cookie"
        }
        body: Any
        if getattr(request, "response_as_base64", False):
            body = base64.b64encode(response.content).decode()
        else:
            text = redactor.text(response.text)
            try:
                body = json.loads(text)
            except ValueError:
                body = text
        return PassthroughResponse(redactor.url(response.request.url), response.status_code, relayed, body)

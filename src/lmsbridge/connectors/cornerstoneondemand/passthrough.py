"""Passthrough: a call under the portal's /services/api/ with the integration's credentials added,
through the same client (pacing, retries, redaction). The path stays under the API's base; the
answer is relayed as it comes, errors included, with the secret blanked out."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from lmsbridge.connectors.base import PassthroughResponse
from lmsbridge.connectors.passthrough import PassthroughRefusedError
from lmsbridge.errors import ErrorCode

if TYPE_CHECKING:
    from lmsbridge.connectors.cornerstoneondemand.connector import CornerstoneConnector

# The caller may not choose these: the connector authenticates and picks the host.
OWN_HEADERS = {"host", "authorization", "cookie", "content-length", "proxy-authorization"}


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
            f"path: {path!r} is refused; give a path relative to /services/api/ (x/users/v2/employees)."
        )
    if any(part == ".." for part in given.path.split("/")):
        raise PassthroughRefused(f"path: {path!r} leaves the API's base path.")
    return path.lstrip("/")


def relay(connector: CornerstoneConnector, api: str, request: Any) -> PassthroughResponse:
    if api not in connector.passthrough_apis:
        raise PassthroughRefused(f"Cornerstone OnDemand has no passthrough API {api!r}; use 'learning'.")
    path = relative_path(str(request.path))
    with connector.session(None) as remote:
        client = remote.client
        headers = {
            k: v for k, v in (getattr(request, "headers", {}) or {}).items() if k.lower() not in OWN_HEADERS
        }
        data = getattr(request, "data", None)
        response = client.request(
            str(request.method).upper(),
            "/services/api/" + path,
            params=dict(getattr(request, "params", {}) or {}) or None,
            json=data,
            headers=headers or None,
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

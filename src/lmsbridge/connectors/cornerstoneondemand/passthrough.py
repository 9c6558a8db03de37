"""Passthrough: a call under the portal's /services/api/ with the integration's credentials added,
through the same client (pacing, retries, redaction). The path stays under the API's base; the
answer is relayed as it comes, errors included, with the secret blanked out."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lmsbridge.connectors import passthrough as shared
from lmsbridge.connectors.base import PassthroughResponse

if TYPE_CHECKING:
    from lmsbridge.connectors.cornerstoneondemand.connector import CornerstoneConnector


def relay(connector: CornerstoneConnector, api: str, request: Any) -> PassthroughResponse:
    if api not in connector.passthrough_apis:
        raise shared.unknown_api(api, connector.passthrough_apis, "Cornerstone OnDemand")
    path = shared.relative_path(str(request.path), "/services/api/ (x/users/v2/employees)")
    with connector.session(None) as remote:
        client = remote.client
        headers = shared.caller_headers(request)
        response = client.request(
            str(request.method).upper(),
            "/services/api/" + path,
            params=dict(getattr(request, "params", {}) or {}) or None,
            json=getattr(request, "data", None),
            headers=headers or None,
        )
        as_base64 = bool(getattr(request, "response_as_base64", False))
        return shared.relay(response, client.redactor, as_base64=as_base64)

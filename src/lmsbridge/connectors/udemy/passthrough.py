"""Passthrough: a call of the organization's API with the integration's credentials added,
through the same client (pacing, retries, redaction). The path stays under the API's base; the
answer is relayed as it comes, errors included, with the secret blanked out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lmsbridge.connectors import passthrough as shared
from lmsbridge.connectors.base import PassthroughRequest, PassthroughResponse

if TYPE_CHECKING:
    from lmsbridge.connectors.udemy.connector import UdemyConnector


def relay(connector: UdemyConnector, api: str, request: PassthroughRequest) -> PassthroughResponse:
    if api not in connector.passthrough_apis:
        raise shared.unknown_api(api, connector.passthrough_apis, "Udemy Business")
    path = shared.relative_path(str(request.path), "the API (courses/list/)")
    with connector.session(None) as remote:
        client = remote.client
        headers = shared.caller_headers(request)
        response = client.request(
            str(request.method).upper(),
            path,
            params=dict(getattr(request, "params", {}) or {}) or None,
            json=getattr(request, "data", None),
            headers=headers or None,
        )
        as_base64 = bool(getattr(request, "response_as_base64", False))
        return shared.relay(response, client.redactor, as_base64=as_base64)

"""HTTP route of passthrough requests: the caller's request, sent to the integration's own remote
through its connector (authentication, pacing, retry), and the answer relayed in the contract's
envelope. Counts as a write action for the per-integration concurrency limit."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from lmsbridge.actions import service
from lmsbridge.api.deps import IntegrationDep, store_of
from lmsbridge.api.responses import ERRORS, success
from lmsbridge.connectors.base import PassthroughRequest
from lmsbridge.connectors.errors import ConnectorError
from lmsbridge.connectors.passthrough import PassthroughRefusedError
from lmsbridge.connectors.registry import connector_class
from lmsbridge.errors import ErrorCode, InputInvalidError, RemoteActionError, require_active
from lmsbridge.schemas.common import SuccessWithWarnings
from lmsbridge.schemas.lifecycle import PassthroughAnswer, PassthroughBody

router = APIRouter()


@router.post(
    "/passthrough/{tool}/{api}",
    summary="Send passthrough request",
    response_model=SuccessWithWarnings[PassthroughAnswer],
    responses=ERRORS,
    tags=["General"],
)
def passthrough(
    request: Request, integration: IntegrationDep, tool: str, api: str, body: PassthroughBody
) -> Response:
    """Send a request to the integration's own remote API: `path` is relative to the API's base
    URL (Moodle: `moodle/rest` at `{site_url}/webservice/rest/server.php`; Sandbox: `sandbox/v1`),
    authentication is added, and nothing is sent to another host."""
    require_active(integration.status, integration.id)
    cls = connector_class(integration.tool)
    if tool != integration.tool:
        raise InputInvalidError(
            f"The integration {integration.id} is a {cls.label} integration: send its passthrough "
            f"requests to /v1/passthrough/{integration.tool}/{{api}}, not /v1/passthrough/{tool}/{api}."
        )
    apis = cls.passthrough_apis
    if api not in apis:
        known = ", ".join(f"{integration.tool}/{name}" for name in sorted(apis)) or "none"
        raise InputInvalidError(f"{cls.label} has no passthrough API {api!r}; its APIs: {known}.")
    if body.multipart_form_data:
        raise InputInvalidError(
            "multipart_form_data is not supported by lmsbridge's passthrough; send `data` instead."
        )
    outgoing = PassthroughRequest(
        method=body.method,
        path=body.path,
        headers=body.headers or {},
        params=body.params or {},
        data=body.data,
        response_as_base64=bool(body.response_as_base64),
    )
    store = store_of(request)
    limiter = request.app.state.action_limiter
    with limiter.slot(integration.id) as remaining:
        connector = service.connector_of(store, request.app.state.box, integration)
        try:
            answer = connector.passthrough(api, outgoing)
        except PassthroughRefusedError as error:  # nothing was sent
            raise InputInvalidError(error.message) from error
        except ConnectorError as error:
            raise RemoteActionError(ErrorCode(error.code), error.message) from error
    data: dict[str, Any] = {"url": answer.url, "status": answer.status, "headers": answer.headers}
    if answer.data is not None:
        data["data"] = answer.data
    return success(
        data,
        warnings=[],
        headers={"Concurrency-Limit": str(limiter.limit), "Concurrency-Remaining": str(remaining)},
    )

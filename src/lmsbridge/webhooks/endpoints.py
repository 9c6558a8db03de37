"""HTTP routes of webhooks (extensions, not in Kombo's contract): register, list and remove
endpoints of the caller's environment, see their deliveries with every attempt, create the
callback secret."""

from __future__ import annotations

from enum import Enum

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from lmsbridge.api.deps import PrincipalDep, public_url, store_of
from lmsbridge.api.responses import ERRORS, success
from lmsbridge.errors import NotFoundError
from lmsbridge.schemas.common import Success
from lmsbridge.schemas.webhooks import (
    CallbackSecret,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEndpointCreated,
)
from lmsbridge.webhooks import service
from lmsbridge.webhooks.repository import WebhookRepository

router = APIRouter()
_TAGS: list[str | Enum] = ["Extensions: webhooks"]


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    url: str = Field(description="An absolute http(s) URL that receives signed POSTs.")
    events: list[str] | None = Field(
        None,
        description="Event types: data-changed, sync-finished, task-completed, integration-created, "
        "integration-deleted, integration-state-changed (default: all).",
    )


@router.post(
    "/v1/webhooks",
    summary="Register a webhook endpoint",
    response_model=Success[WebhookEndpointCreated],
    responses=ERRORS,
    tags=_TAGS,
)
def create_webhook(request: Request, who: PrincipalDep, body: WebhookCreate) -> Response:
    """Register an endpoint for the key's environment. The answer carries its signing `secret`,
    shown this once."""
    with store_of(request).write() as conn:
        endpoint, secret = service.create_endpoint(
            WebhookRepository(conn), request.app.state.box, who.environment_id, body.url, body.events
        )
    return success({**service.endpoint_view(endpoint), "secret": secret})


@router.get(
    "/v1/webhooks",
    summary="List webhook endpoints",
    response_model=Success[list[WebhookEndpoint]],
    responses=ERRORS,
    tags=_TAGS,
)
def list_webhooks(request: Request, who: PrincipalDep) -> Response:
    """The environment's endpoints (removed ones too, with `disabled_at`), without secrets."""
    with store_of(request).read() as conn:
        endpoints = WebhookRepository(conn).endpoints(who.environment_id)
    return success([service.endpoint_view(e) for e in endpoints])


@router.get(
    "/v1/webhooks/{endpoint_id}/deliveries",
    summary="List an endpoint's deliveries",
    response_model=Success[list[WebhookDelivery]],
    responses=ERRORS,
    tags=_TAGS,
)
def list_deliveries(request: Request, who: PrincipalDep, endpoint_id: str) -> Response:
    """The endpoint's latest 100 deliveries, newest first, each with every attempt (status,
    duration, error). `endpoint_id` `callback` lists the deliveries to tasks' callback_urls."""
    with store_of(request).read() as conn:
        repo = WebhookRepository(conn)
        if endpoint_id != "callback":
            endpoint = repo.endpoint(endpoint_id)
            if endpoint is None or endpoint.environment_id != who.environment_id:
                raise NotFoundError(f"No webhook endpoint {endpoint_id!r} exists in this environment.")
        deliveries = repo.deliveries(environment_id=who.environment_id, endpoint_id=endpoint_id, limit=100)
        attempts = repo.attempts([d.id for d in deliveries])
    base = public_url(request)
    return success([service.delivery_view(d, attempts[d.id], base) for d in deliveries])


@router.delete(
    "/v1/webhooks/{endpoint_id}",
    summary="Remove a webhook endpoint",
    response_model=Success[WebhookEndpoint],
    responses=ERRORS,
    tags=_TAGS,
)
def delete_webhook(request: Request, who: PrincipalDep, endpoint_id: str) -> Response:
    """Stop delivering to the endpoint; its pending deliveries are cancelled."""
    with store_of(request).write() as conn:
        repo = WebhookRepository(conn)
        endpoint = repo.endpoint(endpoint_id)
        if endpoint is None or endpoint.environment_id != who.environment_id:
            raise NotFoundError(f"No webhook endpoint {endpoint_id!r} exists in this environment.")
        repo.disable_endpoint(endpoint_id)
        endpoint = repo.endpoint(endpoint_id)
    assert endpoint is not None
    return success(service.endpoint_view(endpoint))


@router.post(
    "/v1/webhooks/callback-secret",
    summary="Create or rotate the callback secret",
    response_model=Success[CallbackSecret],
    responses=ERRORS,
    tags=_TAGS,
)
def create_callback_secret(request: Request, who: PrincipalDep) -> Response:
    """Create (or replace) the secret that signs deliveries to tasks' `callback_url`; shown once."""
    with store_of(request).write() as conn:
        secret = service.rotate_callback_secret(
            WebhookRepository(conn), request.app.state.box, who.environment_id
        )
    return success({"secret": secret})

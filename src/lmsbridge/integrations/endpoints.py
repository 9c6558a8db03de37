"""HTTP routes of integrations and of the API key check."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response

from lmsbridge.api.deps import ObjectBody, PrincipalDep, public_url, store_of
from lmsbridge.api.responses import ERRORS, success
from lmsbridge.integration_store.repository import Integration
from lmsbridge.integrations.service import (
    delete_integration,
    describe,
    get_integration,
    merged_settings,
    run_preflight,
    set_enabled,
    update_integration,
)
from lmsbridge.jobs import wake_workers
from lmsbridge.remote_pacing import StorePacer
from lmsbridge.sandbox.repository import SandboxStateRepository
from lmsbridge.schemas.common import Success, SuccessWithWarnings
from lmsbridge.schemas.integrations import ApiKeyCheck, IntegrationDetails
from lmsbridge.schemas.lifecycle import (
    EmptyRequest,
    EnabledRequest,
    IntegrationDeleted,
    UpdateIntegrationRequest,
)
from lmsbridge.syncs.repository import SyncRepository

router = APIRouter()


@router.get(
    "/check-api-key",
    summary="Check API key",
    response_model=Success[ApiKeyCheck],
    responses=ERRORS,
    tags=["General"],
)
def check_api_key(who: PrincipalDep) -> Response:
    """Check whether your API key is working."""
    return success({"environment_id": who.environment_id, "customer_id": who.environment_id})


@router.get(
    "/integrations/{integration_id}",
    summary="Get integration details",
    response_model=Success[IntegrationDetails],
    responses=ERRORS,
    tags=["General"],
)
def get_integration_details(integration_id: str, request: Request, who: PrincipalDep) -> Response:
    """An integration's tool, status, and the models and actions its connector supports."""
    request.scope.setdefault("state", {})["integration_id"] = integration_id
    with store_of(request).read() as conn:
        integration = get_integration(conn, integration_id, who.environment_id)
    return _details(request, integration)


def _details(request: Request, integration: Integration, warnings: list[str] | None = None) -> Response:
    with store_of(request).read() as conn:
        first_synced = SyncRepository(conn).state(integration.id).first_synced_at is not None
    data = describe(integration, public_url(request), first_synced=first_synced)
    if warnings is None:
        return success(data)
    return success(data, warnings=[{"message": w} for w in warnings])


@router.patch(
    "/integrations/{integration_id}",
    summary="Update integration (extension)",
    response_model=SuccessWithWarnings[IntegrationDetails],
    responses=ERRORS,
    tags=["General"],
)
def patch_integration(
    integration_id: str, request: Request, who: PrincipalDep, body: UpdateIntegrationRequest
) -> Response:
    """Change an integration's settings and/or credentials. The connector's preflight checks them
    against the remote first (nothing is saved if it refuses); then a full sync is queued, and a
    FAILED task is no longer returned for the same body. An INVALID integration turns ACTIVE
    when that sync succeeds."""
    request.scope.setdefault("state", {})["integration_id"] = integration_id
    store = store_of(request)
    box = request.app.state.box
    with store.read() as conn:
        integration = get_integration(conn, integration_id, who.environment_id)
    credentials: dict[str, Any] = (
        body.credentials if body.credentials is not None else box.open(integration.credentials)
    )
    warnings = run_preflight(
        integration.tool,
        merged_settings(integration, body.settings),
        credentials,
        integration_id=integration.id,
        sandbox_state=SandboxStateRepository(store),
        pacer=StorePacer(store),
    )
    with store.write() as conn:
        updated = update_integration(
            conn,
            box,
            integration.id,
            environment_id=who.environment_id,
            settings=body.settings,
            credentials=body.credentials,
            name=body.name,
            public_url=public_url(request),
        )
    wake_workers()
    return _details(request, updated, warnings)


@router.put(
    "/integrations/{integration_id}/enabled",
    summary="Set integration enabled",
    response_model=Success[IntegrationDetails],
    responses=ERRORS,
    tags=["General"],
)
def put_enabled(integration_id: str, request: Request, who: PrincipalDep, body: EnabledRequest) -> Response:
    """Pause (`{"value": false}`: INACTIVE, no syncs, writes answer INTEGRATION.INACTIVE) or
    resume (`{"value": true}`: ACTIVE, a full sync starts) an integration."""
    request.scope.setdefault("state", {})["integration_id"] = integration_id
    store = store_of(request)
    with store.write() as conn:
        integration = set_enabled(
            conn,
            integration_id,
            environment_id=who.environment_id,
            enabled=body.value,
            public_url=public_url(request),
        )
    wake_workers()
    return _details(request, integration)


@router.delete(
    "/integrations/{integration_id}",
    summary="Delete integration",
    response_model=Success[IntegrationDeleted],
    responses=ERRORS,
    tags=["General"],
    dependencies=[ObjectBody],
)
def delete(
    integration_id: str, request: Request, who: PrincipalDep, body: EmptyRequest | None = Body(None)
) -> Response:
    """Delete the integration with its credentials, synced records, syncs, tasks and queued jobs;
    a running sync or task stops. This cannot be undone."""
    # Calls logged but not yet written would outlive the integration's interaction rows.
    request.app.state.interactions.flush()
    with store_of(request).write() as conn:
        delete_integration(conn, integration_id, environment_id=who.environment_id)
    return success({})

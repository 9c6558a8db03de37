"""HTTP routes of integrations and of the API key check."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from lmsbridge.api.deps import PrincipalDep, public_url, store_of
from lmsbridge.api.responses import ERRORS, success
from lmsbridge.integrations.service import describe, get_integration
from lmsbridge.schemas.common import Success
from lmsbridge.schemas.integrations import ApiKeyCheck, IntegrationDetails
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
        first_synced = SyncRepository(conn).state(integration.id).first_synced_at is not None
    return success(describe(integration, public_url(request), first_synced=first_synced))

"""HTTP route of force-sync."""

from __future__ import annotations

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response

from lmsbridge.api.deps import IntegrationDep, ObjectBody, public_url, store_of
from lmsbridge.api.responses import ERRORS, success
from lmsbridge.errors import require_active
from lmsbridge.jobs import wake_workers
from lmsbridge.schemas.actions import ForceSyncRequest
from lmsbridge.schemas.common import Success
from lmsbridge.schemas.syncs import SyncRequested
from lmsbridge.syncs.service import effective_type, request_sync

router = APIRouter()


@router.post(
    "/force-sync",
    summary="Trigger sync",
    response_model=Success[SyncRequested],
    responses=ERRORS,
    tags=["General"],
    dependencies=[ObjectBody],
)
def force_sync(
    request: Request, integration: IntegrationDep, body: ForceSyncRequest | None = Body(None)
) -> Response:
    """Queue a sync now, unless one is already queued or running (then its id is returned)."""
    require_active(integration.status, integration.id)
    store = store_of(request)
    requested = effective_type(integration.tool, (body or ForceSyncRequest()).type)
    with store.write() as conn:
        run, already = request_sync(conn, integration.id, requested, public_url(request))
    if not already:
        wake_workers()
    return success({"already_queued": already, "sync_id": run.id, "type": run.type})

"""Extension: the state of one sync run, for clients that trigger a sync and wait for it
(`lmsbridge sync --wait`). Not in Kombo's contract, which has no sync-status endpoint."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from lmsbridge.api.deps import IntegrationDep, PrincipalDep, store_of
from lmsbridge.api.responses import ERRORS, success
from lmsbridge.clock import to_wire
from lmsbridge.errors import not_found
from lmsbridge.schemas.common import Success
from lmsbridge.schemas.syncs import DeletionsConfirmed, SyncRun
from lmsbridge.syncs.deletion_guard import confirm_deletions
from lmsbridge.syncs.repository import SyncRepository

router = APIRouter()


@router.get(
    "/syncs/{sync_id}",
    summary="Get sync status (extension)",
    response_model=Success[SyncRun],
    responses=ERRORS,
    tags=["General"],
)
def get_sync(request: Request, integration: IntegrationDep, sync_id: str) -> Response:
    """One sync run of the integration: its state (QUEUED, RUNNING, SUCCEEDED, PARTIALLY_FAILED,
    AUTHENTICATION_FAILED, FAILED), type, times and the records added, updated, unchanged and
    deleted per model."""
    with store_of(request).read() as conn:
        run = SyncRepository(conn).get_run(sync_id)
    if run is None or run.integration_id != integration.id:
        raise not_found("sync", sync_id)
    return success(
        {
            "sync_id": run.id,
            "state": run.state,
            "type": run.type,
            "created_at": to_wire(run.created_at),
            "started_at": to_wire(run.started_at),
            "ended_at": to_wire(run.ended_at),
            "counts": run.counts,
            "error": run.error,
            "held_deletions": {model: len(ids) for model, ids in (run.held_deletions or {}).items()},
        }
    )


@router.post(
    "/syncs/{sync_id}/confirm-deletions",
    summary="Confirm the deletions a sync held (extension)",
    response_model=Success[DeletionsConfirmed],
    responses=ERRORS,
    tags=["General"],
)
def confirm_held_deletions(request: Request, who: PrincipalDep, sync_id: str) -> Response:
    """Apply the deletions the deletion guard held in a full sync (more than the integration's
    share of a model's records unseen at once), once an operator has checked that they are real.
    Only the integration's latest sync can be confirmed; the records are marked deleted and a
    data-changed event announces them."""
    store = store_of(request)
    with store.write() as conn:
        deleted = confirm_deletions(conn, sync_id, who.environment_id)
    return success({"sync_id": sync_id, "deleted": deleted})

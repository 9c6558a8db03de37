"""HTTP route of force-sync, and the page a sync's log_url leads to."""

from __future__ import annotations

import html
import json

from fastapi import APIRouter, Body, Request
from fastapi.responses import HTMLResponse, Response

from lmsbridge.api.deps import IntegrationDep, public_url, store_of
from lmsbridge.api.responses import ERRORS, success
from lmsbridge.clock import to_wire
from lmsbridge.errors import NotFoundError
from lmsbridge.jobs import wake_workers
from lmsbridge.logs.endpoints import page, rows
from lmsbridge.schemas.actions import ForceSyncRequest
from lmsbridge.syncs.repository import SyncRepository
from lmsbridge.syncs.service import effective_type, request_sync

router = APIRouter()
pages = APIRouter(include_in_schema=False)


@router.post("/force-sync", summary="Trigger sync", responses=ERRORS, tags=["General"])
def force_sync(
    request: Request, integration: IntegrationDep, body: ForceSyncRequest | None = Body(None)
) -> Response:
    """Queue a sync now, unless one is already queued or running (then its id is returned)."""
    store = store_of(request)
    requested = effective_type(integration.tool, (body or ForceSyncRequest()).type)
    with store.write() as conn:
        run, already = request_sync(conn, integration.id, requested, public_url(request))
    if not already:
        wake_workers()
    return success({"already_queued": already, "sync_id": run.id, "type": run.type})


@pages.get("/logs/syncs/{sync_id}")
def sync_page(sync_id: str, request: Request) -> HTMLResponse:
    with store_of(request).read() as conn:
        run = SyncRepository(conn).get_run(sync_id)
    if run is None:
        raise NotFoundError(f"No sync {sync_id!r} exists.")
    return page(
        f"Sync {run.id}",
        rows(
            [
                ("integration", run.integration_id),
                ("type", run.type),
                ("state", run.state),
                ("queued", to_wire(run.created_at)),
                ("started", to_wire(run.started_at)),
                ("ended", to_wire(run.ended_at)),
                ("error", run.error),
                ("records per model", json.dumps(run.counts, indent=2)),
            ]
        )
        + f"<p>{html.escape('Counts: added, updated, unchanged, deleted.')}</p>",
    )

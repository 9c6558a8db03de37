"""The rules of syncs: one run queued or running per integration, force-sync, the schedule, and
the 409 that reads answer before an integration's first sync completed."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from lmsbridge.clock import utc_now
from lmsbridge.config import Settings
from lmsbridge.connectors.registry import connector_class
from lmsbridge.db import Store
from lmsbridge.errors import ErrorCode, LmsBridgeError
from lmsbridge.integration_store.repository import IntegrationRepository
from lmsbridge.jobs import enqueue, wake_workers
from lmsbridge.syncs.repository import SyncRepository, SyncRun, SyncState

RUN_SYNC_JOB = "syncs.run"


class SetupSyncPendingError(LmsBridgeError):
    code = ErrorCode.INTEGRATION_SETUP_SYNC_PENDING
    status_code = 409


def request_sync(conn: Connection, integration_id: str, type_: str, public_url: str) -> tuple[SyncRun, bool]:
    """Queue a sync unless one is queued or running; returns (run, already_queued)."""
    repo = SyncRepository(conn)
    active = repo.active_run(integration_id)
    if active is not None:
        return active, True
    run = repo.insert_run(integration_id, type_, public_url)
    # Below bulk tasks: a long sync must not hold up a user's writes.
    enqueue(conn, RUN_SYNC_JOB, {"sync_id": run.id}, priority=-1)
    return run, False


def effective_type(tool: str, requested: str) -> str:
    """A tool that cannot sync deltas always syncs in full."""
    return requested if connector_class(tool).capabilities.supports_delta else "FULL"


def require_first_sync(conn: Connection, integration_id: str) -> None:
    if SyncRepository(conn).state(integration_id).first_synced_at is None:
        raise SetupSyncPendingError(
            "The integration's first sync has not finished yet; its data is available once it has. "
            "Subscribe to the sync-finished event rather than polling often."
        )


def _due(state: SyncState, supports_delta: bool, settings: Settings, now: datetime) -> str | None:
    full_every = (
        settings.sync_full_interval_seconds
        if supports_delta
        else settings.sync_full_interval_no_delta_seconds
    )
    if state.last_full_started_at is None or now - state.last_full_started_at >= timedelta(
        seconds=full_every
    ):
        return "FULL"
    if supports_delta:
        last = max(filter(None, (state.last_full_started_at, state.last_delta_started_at)))
        if now - last >= timedelta(seconds=settings.sync_delta_interval_seconds):
            return "DELTA"
    return None


def schedule_due_syncs(store: Store, settings: Settings) -> int:
    """Queue the syncs the schedule says are due; several workers may call this at once."""
    now = utc_now()
    with store.read() as conn:
        active = IntegrationRepository(conn).active_tools()
        states = SyncRepository(conn).all_states()
    queued = 0
    for integration_id, tool in active:
        try:
            supports_delta = connector_class(tool).capabilities.supports_delta
        except ValueError:
            continue
        due = _due(
            states.get(integration_id, SyncState(None, None, None, None)), supports_delta, settings, now
        )
        if due is None:
            continue
        try:
            with store.write() as conn:
                # The snapshot above may be stale: a sync that finished since moved the state. Look
                # for a run first, then at the state, which a run's finish commits together with it.
                repo = SyncRepository(conn)
                if repo.active_run(integration_id) is not None:
                    continue
                due = _due(repo.state(integration_id), supports_delta, settings, now)
                if due is None:
                    continue
                _, already = request_sync(conn, integration_id, due, settings.default_public_url())
        except IntegrityError:
            continue  # another worker queued it first
        queued += 0 if already else 1
    if queued:
        wake_workers()
    return queued

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
from lmsbridge.syncs.states import ACTIVE_STATES

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


class FirstSyncCredentialsRejectedError(SetupSyncPendingError):
    code = ErrorCode.INTEGRATION_AUTHENTICATION_INVALID


class FirstSyncInactiveError(SetupSyncPendingError):
    code = ErrorCode.INTEGRATION_INACTIVE


MAX_FIRST_SYNC_RETRY_SECONDS = 15 * 60


def first_sync_retry_delay(failures: int, base_seconds: float) -> float:
    """Seconds after a failed first sync before the next attempt: doubling, up to 15 minutes."""
    return float(min(MAX_FIRST_SYNC_RETRY_SECONDS, base_seconds * 2 ** max(0, failures - 1)))


def require_first_sync(conn: Connection, integration_id: str, status: str = "ACTIVE") -> None:
    """Reads answer 409 until a first full sync read every model, with a message that says why
    there is no data yet and what to do about it."""
    repo = SyncRepository(conn)
    if repo.state(integration_id).first_synced_at is not None:
        return
    update = (
        f"`lmsbridge integrations update {integration_id} --credentials-file FILE` or "
        f"PATCH /v1/integrations/{integration_id}"
    )
    if status == "INACTIVE":
        raise FirstSyncInactiveError(
            "The integration is paused (INACTIVE) and its first sync has not completed. Resume it with "
            f"`lmsbridge integrations activate {integration_id}` or PUT /v1/integrations/"
            f'{integration_id}/enabled {{"value": true}}.'
        )
    active = repo.active_run(integration_id)
    last = next((run for run in repo.latest_runs(integration_id, 5) if run.state not in ACTIVE_STATES), None)
    if status == "INVALID" or (active is None and last is not None and last.state == "AUTHENTICATION_FAILED"):
        detail = f" ({last.error})" if last is not None and last.error else ""
        raise FirstSyncCredentialsRejectedError(
            f"The integration's first sync failed: the remote system rejected its credentials{detail}. "
            f"Update them with {update}; a sync starts as soon as they are saved."
        )
    if active is not None and active.state == "RUNNING":
        raise SetupSyncPendingError(
            "The integration's first sync is still running; its data is available once it has "
            "finished. Subscribe to the sync-finished event rather than polling often."
            + (f" The previous attempt failed: {last.error}." if last is not None and last.error else "")
        )
    if last is not None and last.state != "SUCCEEDED":
        what = last.error or f"it ended {last.state}"
        when = "is queued" if active is not None else "is retried automatically within minutes"
        raise SetupSyncPendingError(
            f"The integration's first sync did not read every model ({last.state}: {what}). The next "
            f"attempt {when}. If the remote cannot be reached or refuses a call, fix its settings with "
            f"`lmsbridge integrations update {integration_id} --setting KEY=VALUE` (or PATCH "
            f"/v1/integrations/{integration_id}); a sync starts as soon as they are saved."
        )
    raise SetupSyncPendingError(
        "The integration's first sync has not started yet; it is queued and its data is available "
        "once it has finished. Subscribe to the sync-finished event rather than polling often."
    )


def _due(
    state: SyncState, supports_delta: bool, settings: Settings, now: datetime, failures: int = 0
) -> str | None:
    if state.first_synced_at is None and state.last_full_started_at is not None:
        # The first sync failed: try again soon, backing off, rather than at the full-sync cadence.
        wait = first_sync_retry_delay(failures, settings.first_sync_retry_seconds)
        return "FULL" if now - state.last_full_started_at >= timedelta(seconds=wait) else None
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
        state = states.get(integration_id, SyncState(None, None, None, None))
        failures = 0
        if state.first_synced_at is None and state.last_full_started_at is not None:
            with store.read() as conn:
                failures = SyncRepository(conn).finished_run_count(integration_id)
        due = _due(state, supports_delta, settings, now, failures)
        if due is None:
            continue
        try:
            with store.write() as conn:
                # The snapshot above may be stale: a sync that finished since moved the state. Look
                # for a run first, then at the state, which a run's finish commits together with it.
                repo = SyncRepository(conn)
                if repo.active_run(integration_id) is not None:
                    continue
                due = _due(repo.state(integration_id), supports_delta, settings, now, failures)
                if due is None:
                    continue
                _, already = request_sync(conn, integration_id, due, settings.public_url or "")
        except IntegrityError:
            continue  # another worker queued it first
        queued += 0 if already else 1
    if queued:
        wake_workers()
    return queued

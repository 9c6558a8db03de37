"""The job handler of sync runs: runs the engine, then records the outcome, the sync state and
the events (`sync-finished` always, `data-changed` when something changed) in one transaction."""

from __future__ import annotations

import logging
import time

from sqlalchemy import Connection

from lmsbridge.clock import utc_now
from lmsbridge.config import Settings
from lmsbridge.connector_runtime import connector_for
from lmsbridge.connectors.http import tally_remote_calls
from lmsbridge.db import Store
from lmsbridge.events.outbox import EventOutbox, EventType
from lmsbridge.integration_store.credentials import CredentialBox
from lmsbridge.integration_store.repository import Integration, IntegrationRepository
from lmsbridge.jobs import Job, JobContext
from lmsbridge.schemas.models import EVENT_NAMES
from lmsbridge.syncs.engine import SyncEngine, SyncOutcome, finished_payload
from lmsbridge.syncs.integration_state import set_status
from lmsbridge.syncs.repository import SyncRepository, SyncRun
from lmsbridge.syncs.states import ACTIVE_STATES, SyncRunState

log = logging.getLogger("lmsbridge.syncs")


def summary(outcome: SyncOutcome) -> str:
    """`users +3 ~1 -0 =46, courses ...`: added, updated, deleted, unchanged per model."""
    parts = [
        f"{model.removeprefix('lms_')} +{c.added} ~{c.updated} -{c.deleted} ={c.unchanged}"
        for model, c in sorted(outcome.counts.items())
    ]
    errors = f"; errors: {'; '.join(outcome.errors)}" if outcome.errors else ""
    return (", ".join(parts) or "nothing read") + errors


class SyncRunner:
    def __init__(self, store: Store, box: CredentialBox, settings: Settings | None = None) -> None:
        self.store = store
        self.box = box
        self.settings = settings or Settings()
        self.engine = SyncEngine(
            store,
            write_batch=self.settings.sync_write_batch,
            write_seconds=self.settings.sync_write_seconds,
        )

    def _load(self, job: Job) -> tuple[SyncRun, Integration] | None:
        with self.store.read() as conn:
            run = SyncRepository(conn).get_run(job.payload["sync_id"])
            if run is None or run.state not in ACTIVE_STATES:
                return None
            integration = IntegrationRepository(conn).get(run.integration_id)
        if integration is not None and integration.status == "INACTIVE":
            with self.store.write() as conn:
                SyncRepository(conn).finish_run(
                    run.id, SyncRunState.CANCELLED, {}, "the integration is paused"
                )
            return None
        return (run, integration) if integration is not None else None

    def run(self, job: Job, ctx: JobContext) -> None:
        loaded = self._load(job)
        if loaded is None:
            return
        run, integration = loaded
        connector = connector_for(self.store, self.box, integration)
        started = utc_now()
        clock = time.monotonic()
        with tally_remote_calls() as calls:
            outcome = self.engine.run(run, integration, connector, ctx)
        self._finish(run, integration, outcome, started)
        log.info(
            "sync %s (%s) of %s: %s in %.1fs, %d remote calls; %s",
            run.id,
            run.type,
            integration.id,
            outcome.state,
            time.monotonic() - clock,
            calls[0],
            summary(outcome),
        )

    def give_up(self, job: Job, error: str) -> None:
        loaded = self._load(job)
        if loaded is not None:
            run, integration = loaded
            self._finish(
                run,
                integration,
                SyncOutcome(SyncRunState.FAILED, errors=["an internal error stopped the sync"]),
                run.started_at or utc_now(),
            )
            log.error("sync %s given up: %s", run.id, error)

    @staticmethod
    def _move_state(conn: Connection, integration: Integration, outcome: SyncOutcome) -> None:
        """Rejected credentials make the integration INVALID; a sync that reads again makes it
        ACTIVE. A paused (INACTIVE) integration stays paused."""
        current = IntegrationRepository(conn).get(integration.id)
        if current is None or current.status == "INACTIVE":
            return
        if outcome.state == "AUTHENTICATION_FAILED":
            set_status(conn, current, "INVALID")
        elif outcome.state in ("SUCCEEDED", "PARTIALLY_FAILED"):
            set_status(conn, current, "ACTIVE")

    def _finish(self, run: SyncRun, integration: Integration, outcome: SyncOutcome, started: object) -> None:
        ended = utc_now()
        counts = {model: c.as_dict() for model, c in outcome.counts.items()}
        with self.store.write() as conn:
            repo = SyncRepository(conn)
            current = repo.get_run(run.id)
            if current is None or current.state not in ACTIVE_STATES:
                return
            notes = outcome.errors + [f"warning: {w}" for w in outcome.warnings]
            repo.finish_run(run.id, outcome.state, counts, "; ".join(notes) or None, outcome.held)
            state = repo.state(integration.id)
            values: dict[str, object] = {}
            begun = current.started_at or ended
            if SyncRunState(outcome.state).completed:
                if run.type == "FULL":
                    values["last_full_started_at"] = begun
                    if state.first_synced_at is None and outcome.read_every_model:
                        values["first_synced_at"] = ended
                else:
                    values["last_delta_started_at"] = begun
                if outcome.state == SyncRunState.SUCCEEDED:
                    values["delta_cursor"] = begun
            elif run.type == "FULL" and state.first_synced_at is None:
                # A failed first sync is retried with backoff from here (syncs/service.py `_due`).
                values["last_full_started_at"] = begun
            if values:
                repo.save_state(integration.id, **values)
            self._move_state(conn, integration, outcome)
            outbox = EventOutbox(conn)
            outbox.add(
                integration.environment_id,
                integration.id,
                EventType.SYNC_FINISHED,
                finished_payload(
                    current,
                    integration,
                    outcome.state,
                    current.started_at,
                    ended,
                    # Queued without a request (CLI, schedule): the address the server listens on.
                    run.public_url or self.settings.default_public_url(),
                ),
            )
            changed = [EVENT_NAMES[m] for m in outcome.changed_models() if m in EVENT_NAMES]
            if changed:
                outbox.add(
                    integration.environment_id,
                    integration.id,
                    EventType.DATA_CHANGED,
                    {
                        "integration_id": integration.id,
                        "integration_tool": integration.tool,
                        "integration_category": "LMS",
                        "changed_models": [{"name": m} for m in changed],
                    },
                )

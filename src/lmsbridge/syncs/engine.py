"""One sync run: read every model the connector supports, page by page, into the store.

A page is written in one transaction under the integration's stamp lock. A FULL run remembers
which records it saw and, for each model whose every page was read, marks the others deleted;
a model that failed part-way marks nothing (a failed or partial sync never deletes). A DELTA
run asks the connector only for records changed since the last run began, and deletes nothing."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from lmsbridge.clock import to_wire
from lmsbridge.connectors.base import Connector
from lmsbridge.connectors.errors import AuthenticationInvalidError, ConnectorError, IntegrationError
from lmsbridge.connectors.registry import connector_class
from lmsbridge.db import Store
from lmsbridge.integration_store.repository import Integration, end_user_of
from lmsbridge.jobs import JobContext, JobReleased
from lmsbridge.records.queries import live_ids
from lmsbridge.records.registry import TABLES
from lmsbridge.records.stamps import store_now, take_stamp
from lmsbridge.records.writer import Counts, RecordWriter
from lmsbridge.schemas.models import SYNC_MODELS
from lmsbridge.syncs.deletion_guard import DeletionGuard
from lmsbridge.syncs.repository import SyncRepository, SyncRun
from lmsbridge.syncs.states import SyncRunState

log = logging.getLogger("lmsbridge.syncs")

# Remote clocks and ours disagree a little; a delta reads this much further back (unchanged
# records cost a hash comparison, nothing more).
DELTA_OVERLAP = timedelta(seconds=60)


@dataclass
class SyncOutcome:
    state: str
    counts: dict[str, Counts] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    failed_models: list[str] = field(default_factory=list)
    # Deletions the deletion guard held, {model: record ids}, until an operator confirms them.
    held: dict[str, list[str]] = field(default_factory=dict)
    # What the connector noticed though nothing failed (e.g. fields the remote withheld).
    warnings: list[str] = field(default_factory=list)

    @property
    def read_every_model(self) -> bool:
        """Every declared model was read to its last page (what completes an integration's setup)."""
        return self.state in ("SUCCEEDED", "PARTIALLY_FAILED") and not self.failed_models

    def changed_models(self) -> list[str]:
        changed = [model for model, counts in self.counts.items() if counts.changed]
        if "lms_courses" in changed:
            changed.append("lms_course_revisions")
        return sorted(changed)


class SyncEngine:
    def __init__(self, store: Store) -> None:
        self.store = store

    def run(
        self, run: SyncRun, integration: Integration, connector: Connector, ctx: JobContext
    ) -> SyncOutcome:
        with self.store.write() as conn:
            started = store_now(conn)
            repo = SyncRepository(conn)
            state = repo.state(integration.id)
            repo.start_run(run.id, started)
        full = run.type == "FULL"
        since = None if full or state.delta_cursor is None else state.delta_cursor - DELTA_OVERLAP
        caps = connector_class(integration.tool).capabilities
        guard = DeletionGuard.of(integration.tool, integration.settings)
        outcome = SyncOutcome(SyncRunState.SUCCEEDED)
        for model in SYNC_MODELS:
            if not caps.reads(model):
                continue
            counts = Counts()
            outcome.counts[model] = counts
            seen: set[int] = set()
            try:
                for page in connector.read(model, since):
                    with self.store.write() as conn:
                        stamp = take_stamp(conn, integration.id)  # a deletion holds it while it runs
                        if SyncRepository(conn).get_run(run.id) is None:
                            raise JobReleased  # the integration was deleted: write nothing more of it
                        written, ids = RecordWriter(conn, integration.id, stamp).write(model, page)
                    counts.add(written)
                    if full:
                        seen.update(hash(i) for i in ids)
                    if ctx.should_stop():
                        raise JobReleased
            except AuthenticationInvalidError as error:
                outcome.state = SyncRunState.AUTHENTICATION_FAILED
                outcome.errors.append(error.message)
                return outcome
            except IntegrationError as error:
                outcome.state = SyncRunState.FAILED
                outcome.errors.append(error.message)
                return outcome
            except ConnectorError as error:
                log.warning("sync %s: %s failed: %s", run.id, model, error.message)
                outcome.state = SyncRunState.PARTIALLY_FAILED
                outcome.errors.append(f"{model}: {error.message}")
                outcome.failed_models.append(model)
                continue
            if full:
                counts.deleted += self._mark_unseen_as_deleted(
                    integration.id, model, seen, started, guard, run.id, outcome
                )
        outcome.warnings.extend(getattr(connector, "sync_warnings", None) or [])
        if outcome.failed_models and len(outcome.failed_models) == len(outcome.counts):
            outcome.state = SyncRunState.FAILED  # no model succeeded: nothing of this sync is usable
        return outcome

    def _mark_unseen_as_deleted(
        self,
        integration_id: str,
        model: str,
        seen: set[int],
        started: datetime,
        guard: DeletionGuard,
        sync_id: str,
        outcome: SyncOutcome,
    ) -> int:
        table = TABLES[model]
        with self.store.read() as conn:
            live = live_ids(conn, table, integration_id)
        missing = [record_id for record_id in live if hash(record_id) not in seen]
        if not missing:
            return 0
        if guard.holds(len(missing), len(live)):
            log.warning("sync %s: %s: %d of %d deletions held", sync_id, model, len(missing), len(live))
            outcome.held[model] = missing
            outcome.state = SyncRunState.PARTIALLY_FAILED
            outcome.errors.append(guard.reason(sync_id, model, len(missing), len(live)))
            return 0
        with self.store.write() as conn:
            stamp = take_stamp(conn, integration_id)
            return RecordWriter(conn, integration_id, stamp).mark_deleted(model, missing, started)


def finished_payload(
    run: SyncRun,
    integration: Integration,
    state: str,
    started: datetime | None,
    ended: datetime,
    public_url: str | None,
) -> dict[str, Any]:
    begun = started or ended
    return {
        "sync_id": run.id,
        "sync_state": state,
        "sync_started_at": to_wire(begun),
        "sync_ended_at": to_wire(ended),
        "sync_duration_seconds": max(0, int((ended - begun).total_seconds())),
        "integration_id": integration.id,
        "integration_tool": integration.tool,
        "integration_category": "LMS",
        "end_user": end_user_of(integration),
        "log_url": f"{public_url}/logs/syncs/{run.id}" if public_url else None,
    }

"""Every query on sync runs and sync state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, update

from lmsbridge.clock import utc_now
from lmsbridge.db.tables import integration_sync_state, sync_runs
from lmsbridge.db.upsert import upsert_returning
from lmsbridge.ids import new_id
from lmsbridge.syncs.states import ACTIVE_STATES, SyncRunState


@dataclass(frozen=True)
class SyncRun:
    id: str
    integration_id: str
    type: str
    state: str
    counts: dict[str, Any]
    error: str | None
    public_url: str
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    held_deletions: dict[str, list[str]] | None = None


@dataclass(frozen=True)
class SyncState:
    first_synced_at: datetime | None
    last_full_started_at: datetime | None
    last_delta_started_at: datetime | None
    delta_cursor: datetime | None


def _run(row: Any) -> SyncRun:
    return SyncRun(
        row.id,
        row.integration_id,
        row.type,
        row.state,
        dict(row.counts),
        row.error,
        row.public_url,
        row.created_at,
        row.started_at,
        row.ended_at,
        row.held_deletions,
    )


class SyncRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def active_run(self, integration_id: str) -> SyncRun | None:
        row = self.conn.execute(
            select(sync_runs).where(
                sync_runs.c.integration_id == integration_id, sync_runs.c.state.in_(ACTIVE_STATES)
            )
        ).first()
        return _run(row) if row else None

    def insert_run(self, integration_id: str, type_: str, public_url: str) -> SyncRun:
        run = SyncRun(
            new_id(), integration_id, type_, SyncRunState.QUEUED, {}, None, public_url, utc_now(), None, None
        )
        self.conn.execute(
            sync_runs.insert().values(
                id=run.id,
                integration_id=integration_id,
                type=type_,
                state=SyncRunState.QUEUED,
                counts={},
                public_url=public_url,
                created_at=run.created_at,
            )
        )
        return run

    def get_run(self, run_id: str) -> SyncRun | None:
        row = self.conn.execute(select(sync_runs).where(sync_runs.c.id == run_id)).first()
        return _run(row) if row else None

    def latest_runs(self, integration_id: str, limit: int = 20) -> list[SyncRun]:
        rows = self.conn.execute(
            select(sync_runs)
            .where(sync_runs.c.integration_id == integration_id)
            .order_by(sync_runs.c.created_at.desc())
            .limit(limit)
        )
        return [_run(r) for r in rows]

    def finished_run_count(self, integration_id: str) -> int:
        return int(
            self.conn.scalar(
                select(func.count())
                .select_from(sync_runs)
                .where(sync_runs.c.integration_id == integration_id, sync_runs.c.state.not_in(ACTIVE_STATES))
            )
            or 0
        )

    def start_run(self, run_id: str, started_at: datetime) -> None:
        self.conn.execute(
            update(sync_runs)
            .where(sync_runs.c.id == run_id)
            .values(state=SyncRunState.RUNNING, started_at=started_at)
        )

    def finish_run(
        self,
        run_id: str,
        state: str,
        counts: dict[str, Any],
        error: str | None,
        held_deletions: dict[str, list[str]] | None = None,
    ) -> None:
        """An active run ends (`SyncRunState`'s allowed moves); an ended run stays as it is."""
        assert not SyncRunState(state).active
        self.conn.execute(
            update(sync_runs)
            .where(sync_runs.c.id == run_id, sync_runs.c.state.in_(ACTIVE_STATES))
            .values(
                state=state,
                counts=counts,
                error=error,
                ended_at=utc_now(),
                held_deletions=held_deletions or None,
            )
        )

    def settle_held_deletions(self, run_id: str, counts: dict[str, Any]) -> None:
        """The held deletions were confirmed (and applied): the run counts them now."""
        self.conn.execute(
            update(sync_runs).where(sync_runs.c.id == run_id).values(held_deletions=None, counts=counts)
        )

    def state(self, integration_id: str) -> SyncState:
        row = self.conn.execute(
            select(integration_sync_state).where(integration_sync_state.c.integration_id == integration_id)
        ).first()
        if row is None:
            return SyncState(None, None, None, None)
        return SyncState(
            row.first_synced_at, row.last_full_started_at, row.last_delta_started_at, row.delta_cursor
        )

    def save_state(self, integration_id: str, **values: Any) -> None:
        upsert_returning(
            self.conn,
            integration_sync_state,
            [{"integration_id": integration_id, **values}],
            keys=["integration_id"],
            update=list(values),
            returning=["integration_id"],
        )

    def all_states(self) -> dict[str, SyncState]:
        return {
            row.integration_id: SyncState(
                row.first_synced_at, row.last_full_started_at, row.last_delta_started_at, row.delta_cursor
            )
            for row in self.conn.execute(select(integration_sync_state))
        }

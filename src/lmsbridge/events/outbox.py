"""Every query on the events outbox. An event is written in the caller's transaction, so it
exists exactly when the change it tells of was committed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, select

from lmsbridge.clock import utc_now
from lmsbridge.db.tables import events, webhook_fanouts
from lmsbridge.ids import new_id


class EventType(StrEnum):
    DATA_CHANGED = "data-changed"
    SYNC_FINISHED = "sync-finished"
    TASK_COMPLETED = "task-completed"
    INTEGRATION_CREATED = "integration-created"
    INTEGRATION_DELETED = "integration-deleted"
    INTEGRATION_STATE_CHANGED = "integration-state-changed"


EVENT_TYPES: tuple[str, ...] = tuple(EventType)


@dataclass(frozen=True)
class Event:
    id: str
    environment_id: str
    type: str
    payload: dict[str, Any]
    created_at: datetime


_COLUMNS = (events.c.id, events.c.environment_id, events.c.type, events.c.payload, events.c.created_at)


def _event(row: Any) -> Event:
    return Event(row.id, row.environment_id, row.type, dict(row.payload), row.created_at)


class EventOutbox:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, environment_id: str, integration_id: str | None, type_: str, data: dict[str, Any]) -> str:
        event_id = new_id()
        self.conn.execute(
            events.insert().values(
                id=event_id,
                environment_id=environment_id,
                integration_id=integration_id,
                type=type_,
                payload={"id": event_id, "type": type_, "data": data},
                created_at=utc_now(),
            )
        )
        return event_id

    def get(self, event_id: str) -> Event | None:
        row = self.conn.execute(select(*_COLUMNS).where(events.c.id == event_id)).first()
        return _event(row) if row else None

    def not_fanned_out(self, since: datetime, limit: int) -> list[Event]:
        """Events written since `since` that no webhook fan-out has handled yet, oldest first."""
        done = select(webhook_fanouts.c.event_id).where(webhook_fanouts.c.event_id == events.c.id).exists()
        rows = self.conn.execute(
            select(*_COLUMNS)
            .where(events.c.created_at >= since, ~done)
            .order_by(events.c.created_at, events.c.id)
            .limit(limit)
        )
        return [_event(r) for r in rows]

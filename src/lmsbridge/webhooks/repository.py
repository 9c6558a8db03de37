"""Every query on webhook endpoints, callback secrets, task callbacks, fan-outs, deliveries and
their attempts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from lmsbridge.clock import utc_now
from lmsbridge.db.tables import (
    task_callbacks,
    webhook_attempts,
    webhook_callback_secrets,
    webhook_deliveries,
    webhook_endpoints,
    webhook_fanouts,
)

CALLBACK = "callback"  # the endpoint_id of a delivery to a task's callback_url


@dataclass(frozen=True)
class Endpoint:
    id: str
    environment_id: str
    url: str
    secret: str  # sealed
    events: list[str] | None
    created_at: datetime
    disabled_at: datetime | None

    def wants(self, event_type: str) -> bool:
        return self.events is None or event_type in self.events


@dataclass(frozen=True)
class Delivery:
    id: str
    event_id: str
    endpoint_id: str
    environment_id: str
    url: str
    state: str
    attempts: int
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


@dataclass(frozen=True)
class Attempt:
    number: int
    started_at: datetime
    duration_ms: int
    status_code: int | None
    error: str | None


def _endpoint(row: Any) -> Endpoint:
    return Endpoint(
        row.id,
        row.environment_id,
        row.url,
        row.secret,
        list(row.events) if row.events is not None else None,
        row.created_at,
        row.disabled_at,
    )


def _delivery(row: Any) -> Delivery:
    return Delivery(
        row.id,
        row.event_id,
        row.endpoint_id,
        row.environment_id,
        row.url,
        row.state,
        row.attempts,
        row.next_attempt_at,
        row.last_status,
        row.last_error,
        row.created_at,
        row.delivered_at,
    )


def _insert(conn: Connection) -> Any:
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


class WebhookRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- endpoints -----------------------------------------------------------------------------
    def insert_endpoint(self, endpoint: Endpoint) -> None:
        self.conn.execute(
            webhook_endpoints.insert().values(
                id=endpoint.id,
                environment_id=endpoint.environment_id,
                url=endpoint.url,
                secret=endpoint.secret,
                events=endpoint.events,
                created_at=endpoint.created_at,
            )
        )

    def endpoint(self, endpoint_id: str) -> Endpoint | None:
        row = self.conn.execute(
            select(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id)
        ).first()
        return _endpoint(row) if row else None

    def endpoints(self, environment_id: str | None = None, *, active_only: bool = False) -> list[Endpoint]:
        query = select(webhook_endpoints).order_by(webhook_endpoints.c.created_at, webhook_endpoints.c.id)
        if environment_id is not None:
            query = query.where(webhook_endpoints.c.environment_id == environment_id)
        if active_only:
            query = query.where(webhook_endpoints.c.disabled_at.is_(None))
        return [_endpoint(r) for r in self.conn.execute(query)]

    def active_endpoints_in(self, environment_ids: Sequence[str]) -> list[Endpoint]:
        rows = self.conn.execute(
            select(webhook_endpoints).where(
                webhook_endpoints.c.environment_id.in_(list(environment_ids)),
                webhook_endpoints.c.disabled_at.is_(None),
            )
        )
        return [_endpoint(r) for r in rows]

    def disable_endpoint(self, endpoint_id: str) -> bool:
        now = utc_now()
        result = self.conn.execute(
            update(webhook_endpoints)
            .where(webhook_endpoints.c.id == endpoint_id, webhook_endpoints.c.disabled_at.is_(None))
            .values(disabled_at=now)
        )
        if result.rowcount == 1:
            self.conn.execute(
                update(webhook_deliveries)
                .where(
                    webhook_deliveries.c.endpoint_id == endpoint_id, webhook_deliveries.c.state == "pending"
                )
                .values(state="cancelled", next_attempt_at=None, last_error="the endpoint was removed")
            )
        return bool(result.rowcount == 1)

    # -- callback secrets and task callbacks ---------------------------------------------------
    def callback_secret(self, environment_id: str) -> str | None:
        value = self.conn.scalar(
            select(webhook_callback_secrets.c.secret).where(
                webhook_callback_secrets.c.environment_id == environment_id
            )
        )
        return str(value) if value is not None else None

    def set_callback_secret(self, environment_id: str, sealed: str) -> None:
        insert = _insert(self.conn)(webhook_callback_secrets)
        self.conn.execute(
            insert.values(
                environment_id=environment_id, secret=sealed, created_at=utc_now()
            ).on_conflict_do_update(
                index_elements=["environment_id"],
                set_={"secret": insert.excluded.secret, "created_at": insert.excluded.created_at},
            )
        )

    def add_task_callback(self, task_id: str, url: str) -> None:
        self.conn.execute(task_callbacks.insert().values(task_id=task_id, url=url, created_at=utc_now()))

    def task_callbacks(self, task_ids: Sequence[str]) -> dict[str, str]:
        if not task_ids:
            return {}
        rows = self.conn.execute(
            select(task_callbacks.c.task_id, task_callbacks.c.url).where(
                task_callbacks.c.task_id.in_(list(task_ids))
            )
        )
        return {r.task_id: r.url for r in rows}

    # -- fan-out -------------------------------------------------------------------------------
    def insert_deliveries(self, rows: list[dict[str, Any]]) -> list[str]:
        """Insert deliveries, skipping any (event, endpoint) that already has one; returns the ids
        of those inserted now."""
        inserted: list[str] = []
        for row in rows:
            stmt = (
                _insert(self.conn)(webhook_deliveries)
                .values(**row)
                .on_conflict_do_nothing(index_elements=["event_id", "endpoint_id"])
                .returning(webhook_deliveries.c.id)
            )
            found = self.conn.execute(stmt).scalar()
            if found is not None:
                inserted.append(str(found))
        return inserted

    def mark_fanned(self, event_ids: Sequence[str]) -> None:
        if event_ids:
            now = utc_now()
            self.conn.execute(
                _insert(self.conn)(webhook_fanouts).on_conflict_do_nothing(index_elements=["event_id"]),
                [{"event_id": e, "created_at": now} for e in event_ids],
            )

    def delivery_counts(self) -> dict[str, dict[str, int]]:
        """How many deliveries each endpoint has in each state."""
        counts: dict[str, dict[str, int]] = {}
        rows = self.conn.execute(
            select(webhook_deliveries.c.endpoint_id, webhook_deliveries.c.state, func.count()).group_by(
                webhook_deliveries.c.endpoint_id, webhook_deliveries.c.state
            )
        )
        for endpoint_id, state, n in rows:
            counts.setdefault(endpoint_id, {})[state] = int(n)
        return counts

    # -- deliveries ----------------------------------------------------------------------------
    def delivery(self, delivery_id: str) -> Delivery | None:
        row = self.conn.execute(
            select(webhook_deliveries).where(webhook_deliveries.c.id == delivery_id)
        ).first()
        return _delivery(row) if row else None

    def deliveries(
        self, *, environment_id: str, endpoint_id: str | None = None, limit: int = 50
    ) -> list[Delivery]:
        query = (
            select(webhook_deliveries)
            .where(webhook_deliveries.c.environment_id == environment_id)
            .order_by(webhook_deliveries.c.created_at.desc(), webhook_deliveries.c.id)
            .limit(limit)
        )
        if endpoint_id is not None:
            query = query.where(webhook_deliveries.c.endpoint_id == endpoint_id)
        return [_delivery(r) for r in self.conn.execute(query)]

    def attempts(self, delivery_ids: Sequence[str]) -> dict[str, list[Attempt]]:
        found: dict[str, list[Attempt]] = {d: [] for d in delivery_ids}
        if not delivery_ids:
            return found
        rows = self.conn.execute(
            select(webhook_attempts)
            .where(webhook_attempts.c.delivery_id.in_(list(delivery_ids)))
            .order_by(webhook_attempts.c.id)
        )
        for r in rows:
            found[r.delivery_id].append(
                Attempt(r.number, r.started_at, r.duration_ms, r.status_code, r.error)
            )
        return found

    def record_attempt(self, delivery_id: str, attempt: Attempt) -> None:
        self.conn.execute(
            webhook_attempts.insert().values(
                delivery_id=delivery_id,
                number=attempt.number,
                started_at=attempt.started_at,
                duration_ms=attempt.duration_ms,
                status_code=attempt.status_code,
                error=attempt.error,
            )
        )

    def advance(self, delivery: Delivery, **values: Any) -> bool:
        """Move a pending delivery on from the attempt count it was read with: False when another
        run already did (a duplicate run of the same job)."""
        result = self.conn.execute(
            update(webhook_deliveries)
            .where(
                and_(
                    webhook_deliveries.c.id == delivery.id,
                    webhook_deliveries.c.state == "pending",
                    webhook_deliveries.c.attempts == delivery.attempts,
                )
            )
            .values(**values)
        )
        return bool(result.rowcount == 1)

"""Every query on tasks, their items and their idempotency records."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, and_, bindparam, select, update

from lmsbridge.clock import utc_now
from lmsbridge.db.bulk import insert_rows
from lmsbridge.db.driver_reads import DriverRead
from lmsbridge.db.tables import task_idempotency, task_items, tasks
from lmsbridge.tasks.states import ItemStatus, TaskStatus


@dataclass(frozen=True)
class Task:
    id: str
    environment_id: str
    integration_id: str
    kind: str
    status: str
    total: int
    succeeded: int
    failed: int
    error_code: str | None
    error_message: str | None
    public_url: str
    created_at: datetime
    deadline_at: datetime
    completed_at: datetime | None


@dataclass(frozen=True)
class ItemRow:
    position: int
    origin_id: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    """An item's recorded result."""

    position: int
    status: str  # SUCCEEDED | FAILED
    result_id: str | None = None
    remote_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None


def _task(row: Any) -> Task:
    return Task(
        row.id,
        row.environment_id,
        row.integration_id,
        row.kind,
        row.status,
        row.total,
        row.succeeded,
        row.failed,
        row.error_code,
        row.error_message,
        row.public_url,
        row.created_at,
        row.deadline_at,
        row.completed_at,
    )


_SET_OUTCOME = (
    update(task_items)
    .where(
        task_items.c.task_id == bindparam("t_id"),
        task_items.c.position == bindparam("t_position"),
        task_items.c.status.is_(None),  # an item gets one outcome, whoever records it first
    )
    .values(
        status=bindparam("t_status"),
        result_id=bindparam("t_result_id"),
        remote_id=bindparam("t_remote_id"),
        error_code=bindparam("t_error_code"),
        error_message=bindparam("t_error_message"),
        finished_at=bindparam("t_finished_at"),
    )
)


# PostgreSQL: a flush's outcomes in one statement, one array a column (bound in binary: no text
# escaping), whose RETURNING says which outcomes were stored (an executemany UPDATE costs a
# round trip's worth of work per item).
_SET_OUTCOMES_PG = """
UPDATE task_items AS item
SET status = given.status, result_id = given.result_id, remote_id = given.remote_id,
    error_code = given.error_code, error_message = given.error_message, finished_at = %s
FROM unnest(%b::integer[], %b::varchar[], %b::varchar[], %b::text[], %b::varchar[], %b::text[])
    AS given(position, status, result_id, remote_id, error_code, error_message)
WHERE item.task_id = %s AND item.position = given.position AND item.status IS NULL
RETURNING item.status
"""

_TASK_BY_ID = select(tasks).where(tasks.c.id == bindparam("task_id"))


class ItemResult(NamedTuple):
    origin_id: str
    status: str
    result_id: str | None
    error_code: str | None
    error_message: str | None


# A task's status in one statement: the task, joined to its items only once it is COMPLETED (the
# only state whose view lists them). Built once: clients poll it, through `Store.driver_read`.
_TASK_FIELDS = [tasks.c[field.name] for field in fields(Task)]
_STATUS = (
    select(
        *_TASK_FIELDS,
        task_items.c.origin_id,
        task_items.c.status,
        task_items.c.result_id,
        task_items.c.error_code,
        task_items.c.error_message,
    )
    .select_from(
        tasks.outerjoin(
            task_items,
            and_(task_items.c.task_id == tasks.c.id, tasks.c.status == TaskStatus.COMPLETED),
        )
    )
    .where(tasks.c.id == bindparam("task_id"))
    .order_by(task_items.c.position)
)
STATUS_READ = DriverRead(_STATUS, repeated=len(_TASK_FIELDS))


def status_from_rows(rows: Sequence[Sequence[Any]]) -> tuple[Task, list[ItemResult] | None] | None:
    """The task and, once it is COMPLETED, its items' results in order, from the rows of the
    status statement (`STATUS_READ`)."""
    if not rows:
        return None
    width = len(_TASK_FIELDS)
    task = Task(*rows[0][:width])
    if task.status != TaskStatus.COMPLETED:
        return task, None
    return task, [ItemResult(*row[width:]) for row in rows]


class TaskRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- idempotency ---------------------------------------------------------------------------
    def find_idempotent(self, integration_id: str, kind: str, scope: str) -> tuple[str, str] | None:
        """(task_id, body_hash) of a live idempotency record, if any."""
        row = self.conn.execute(
            select(task_idempotency.c.task_id, task_idempotency.c.body_hash).where(
                task_idempotency.c.integration_id == integration_id,
                task_idempotency.c.kind == kind,
                task_idempotency.c.scope == scope,
                task_idempotency.c.expires_at > utc_now(),
            )
        ).first()
        return (row.task_id, row.body_hash) if row else None

    def forget(self, integration_id: str, kind: str, scope: str) -> None:
        self.conn.execute(
            task_idempotency.delete().where(
                task_idempotency.c.integration_id == integration_id,
                task_idempotency.c.kind == kind,
                task_idempotency.c.scope == scope,
            )
        )

    def remember(
        self, integration_id: str, kind: str, scope: str, task_id: str, body_hash: str, expires_at: datetime
    ) -> None:
        """Record (or replace an expired) idempotency record. A live one raced in by a concurrent
        request makes the primary key refuse the insert, and the caller retries."""
        self.conn.execute(
            task_idempotency.delete().where(
                task_idempotency.c.integration_id == integration_id,
                task_idempotency.c.kind == kind,
                task_idempotency.c.scope == scope,
                task_idempotency.c.expires_at <= utc_now(),
            )
        )
        self.conn.execute(
            task_idempotency.insert().values(
                integration_id=integration_id,
                kind=kind,
                scope=scope,
                task_id=task_id,
                body_hash=body_hash,
                expires_at=expires_at,
            )
        )

    # -- tasks ---------------------------------------------------------------------------------
    def insert(
        self,
        task: Task,
        body_hash: str,
        idempotency_key: str | None,
        items: Sequence[tuple[str, dict[str, Any]]],
    ) -> None:
        self.conn.execute(
            tasks.insert().values(
                id=task.id,
                environment_id=task.environment_id,
                integration_id=task.integration_id,
                kind=task.kind,
                status=task.status,
                total=task.total,
                succeeded=0,
                failed=0,
                body_hash=body_hash,
                idempotency_key=idempotency_key,
                public_url=task.public_url,
                created_at=task.created_at,
                deadline_at=task.deadline_at,
            )
        )
        insert_rows(  # COPY on PostgreSQL; the payloads encoded by orjson
            self.conn,
            task_items,
            [
                {"task_id": task.id, "position": n, "origin_id": origin_id, "payload": payload}
                for n, (origin_id, payload) in enumerate(items)
            ],
        )

    def get(self, task_id: str) -> Task | None:
        row = self.conn.execute(_TASK_BY_ID, {"task_id": task_id}).first()
        return _task(row) if row else None

    def status(self, task_id: str) -> tuple[Task, list[ItemResult] | None] | None:
        """The task and, once it is COMPLETED, its items' results in order."""
        return status_from_rows(self.conn.execute(_STATUS, {"task_id": task_id}).all())

    def recent(self, environment_id: str, limit: int = 50) -> list[Task]:
        rows = self.conn.execute(
            select(tasks)
            .where(tasks.c.environment_id == environment_id)
            .order_by(tasks.c.created_at.desc())
            .limit(limit)
        )
        return [_task(row) for row in rows]

    def pending_items(self, task_id: str) -> list[ItemRow]:
        rows = self.conn.execute(
            select(task_items.c.position, task_items.c.origin_id, task_items.c.payload)
            .where(task_items.c.task_id == task_id, task_items.c.status.is_(None))
            .order_by(task_items.c.position)
        )
        return [ItemRow(r.position, r.origin_id, dict(r.payload)) for r in rows]

    def failed_items(self, task_id: str, limit: int) -> list[Any]:
        return list(
            self.conn.execute(
                select(task_items.c.origin_id, task_items.c.error_code, task_items.c.error_message)
                .where(task_items.c.task_id == task_id, task_items.c.status == ItemStatus.FAILED)
                .order_by(task_items.c.position)
                .limit(limit)
            )
        )

    def record_outcomes(self, task_id: str, outcomes: Sequence[Outcome]) -> None:
        """Store outcomes (first one wins per item) and add the ones stored to the task's counters."""
        now = utc_now()
        added = {ItemStatus.SUCCEEDED: 0, ItemStatus.FAILED: 0}
        if self.conn.dialect.name == "postgresql" and outcomes:
            columns = [
                [o.position for o in outcomes],
                [o.status for o in outcomes],
                [o.result_id for o in outcomes],
                [o.remote_id for o in outcomes],
                [o.error_code for o in outcomes],
                [o.error_message for o in outcomes],
            ]
            cursor = self.conn.connection.cursor()
            try:
                cursor.execute(_SET_OUTCOMES_PG, [now, *columns, task_id])
                for (status,) in cursor.fetchall():
                    added[status] += 1  # the outcomes stored, not those that lost to an earlier one
            finally:
                cursor.close()
            self._add_to_counters(task_id, added[ItemStatus.SUCCEEDED], added[ItemStatus.FAILED])
            return
        for status in added:
            params = [
                {
                    "t_id": task_id,
                    "t_position": o.position,
                    "t_status": o.status,
                    "t_result_id": o.result_id,
                    "t_remote_id": o.remote_id,
                    "t_error_code": o.error_code,
                    "t_error_message": o.error_message,
                    "t_finished_at": now,
                }
                for o in outcomes
                if o.status == status
            ]
            if params:
                # One statement per status, so its rowcount (the outcomes stored, not those that
                # lost to an earlier one) is what that status's counter gains.
                added[status] = self.conn.execute(_SET_OUTCOME, params).rowcount
        self._add_to_counters(task_id, added[ItemStatus.SUCCEEDED], added[ItemStatus.FAILED])

    def fail_pending_items(self, task_id: str, code: str, message: str) -> None:
        failed = self.conn.execute(
            update(task_items)
            .where(task_items.c.task_id == task_id, task_items.c.status.is_(None))
            .values(status=ItemStatus.FAILED, error_code=code, error_message=message, finished_at=utc_now())
        ).rowcount
        self._add_to_counters(task_id, 0, failed)

    def _add_to_counters(self, task_id: str, succeeded: int, failed: int) -> None:
        """Running counters: each outcome is counted by the transaction that stores it, so the
        counters equal the items' statuses at every commit without recounting the items."""
        if succeeded or failed:
            self.conn.execute(
                update(tasks)
                .where(tasks.c.id == task_id)
                .values(succeeded=tasks.c.succeeded + succeeded, failed=tasks.c.failed + failed)
            )

    def has_outcomes(self, task_id: str) -> bool:
        found = self.conn.scalar(
            select(task_items.c.position)
            .where(task_items.c.task_id == task_id, task_items.c.status.is_not(None))
            .limit(1)
        )
        return found is not None

    def complete_if_done(self, task_id: str) -> bool:
        """PENDING -> COMPLETED once every item has an outcome."""
        no_pending = ~(
            select(task_items.c.position)
            .where(task_items.c.task_id == task_id, task_items.c.status.is_(None))
            .exists()
        )
        result = self.conn.execute(
            update(tasks)
            .where(and_(tasks.c.id == task_id, tasks.c.status == TaskStatus.PENDING, no_pending))
            .values(status=TaskStatus.COMPLETED, completed_at=utc_now())
        )
        return bool(result.rowcount == 1)

    def fail_task(self, task_id: str, code: str, message: str) -> bool:
        """PENDING -> FAILED: the task could not run at all."""
        result = self.conn.execute(
            update(tasks)
            .where(tasks.c.id == task_id, tasks.c.status == TaskStatus.PENDING)
            .values(status=TaskStatus.FAILED, error_code=code, error_message=message, completed_at=utc_now())
        )
        return bool(result.rowcount == 1)

"""Runs a direct action through the integration's connector and writes the result through to the
store, so the next read shows it without waiting for a sync."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from sqlalchemy import Table, select

from lmsbridge.connectors.base import Connector, WriteAction
from lmsbridge.connectors.errors import ConnectorError
from lmsbridge.connectors.records import Record
from lmsbridge.connectors.registry import connector_class
from lmsbridge.db import Store
from lmsbridge.db import tables as t
from lmsbridge.errors import (
    ActionNotAvailableError,
    ErrorCode,
    InputInvalidError,
    NotFoundError,
    RemoteActionError,
)
from lmsbridge.integration_store.repository import Integration
from lmsbridge.records.queries import courses, progression, progressions_query
from lmsbridge.records.stamps import take_stamp
from lmsbridge.records.writer import RecordWriter

_T = TypeVar("_T")

REMOTE_PREFIX = "remote:"
ACTION_LABELS = {
    WriteAction.ENROL: "Enroll user",
    WriteAction.COMPLETE: "Complete course progression",
    WriteAction.DEACTIVATE_COURSE: "Deactivate course",
}


def require(integration: Integration, action: WriteAction) -> None:
    cls = connector_class(integration.tool)
    if not cls.capabilities.can(action):
        raise ActionNotAvailableError(
            f'The "{ACTION_LABELS[action]}" action is not available for {cls.label} integrations.'
        )


def remote_id_of(
    store: Store, table: Table, integration_id: str, value: str, what: str, *, in_body: bool
) -> str:
    """The remote id behind a lmsbridge id or a `remote:<id>` reference."""
    if value.startswith(REMOTE_PREFIX):
        remote = value[len(REMOTE_PREFIX) :]
        if not remote:
            raise InputInvalidError(f"{what}: 'remote:' must be followed by the remote id.")
        return remote
    with store.read() as conn:
        found = conn.scalar(
            select(table.c.remote_id).where(table.c.id == value, table.c.integration_id == integration_id)
        )
    if found is None:
        message = (
            f"{what}: no record with id {value!r} in this integration (use remote:<id> for a remote id)."
        )
        if in_body:
            raise InputInvalidError(message)
        raise NotFoundError(message)
    return str(found)


def call(action: Callable[[], _T]) -> _T:
    try:
        return action()
    except ConnectorError as error:
        raise RemoteActionError(ErrorCode(error.code), error.message) from error


def write_through(store: Store, integration_id: str, model: str, record: Record) -> None:
    with store.write() as conn:
        RecordWriter(conn, integration_id, take_stamp(conn, integration_id)).write(model, [record])


def progression_view(store: Store, integration_id: str, remote_id: str) -> dict[str, Any]:
    table = t.lms_course_progressions
    with store.read() as conn:
        row = conn.execute(
            progressions_query(table).where(
                table.c.integration_id == integration_id, table.c.remote_id == remote_id
            )
        ).first()
    assert row is not None
    return progression(row)


def course_view(store: Store, integration_id: str, remote_id: str) -> dict[str, Any]:
    table = t.lms_courses
    with store.read() as conn:
        row = conn.execute(
            select(table).where(table.c.integration_id == integration_id, table.c.remote_id == remote_id)
        ).first()
        assert row is not None
        return courses(conn, [row], False)[0]


def parse_completed_at(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        moment = datetime.fromisoformat(value.removesuffix("Z"))
    except ValueError as error:
        raise InputInvalidError(f"completed_at: {value!r} is not a date or date-time: {error}.") from error
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def connector_of(store: Store, box: Any, integration: Integration) -> Connector:
    from lmsbridge.syncs.runner import connector_for

    connector: Connector = connector_for(store, box, integration)  # type: ignore[assignment]
    return connector

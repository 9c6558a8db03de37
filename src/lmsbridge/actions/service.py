"""Runs a direct action through the integration's connector and writes the result through to the
store, so the next read shows it without waiting for a sync."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from lmsbridge.connectors.connector import BaseConnector
from lmsbridge.connectors.errors import ConnectorError
from lmsbridge.connectors.records import Record
from lmsbridge.db import Store
from lmsbridge.errors import (
    ErrorCode,
    InputInvalidError,
    NotFoundError,
    RemoteActionError,
)
from lmsbridge.integration_store.repository import Integration
from lmsbridge.records.queries import course_by_remote_id, progression_by_remote_id, remote_id_by_id
from lmsbridge.records.registry import TABLES
from lmsbridge.records.stamps import take_stamp
from lmsbridge.records.writer import RecordWriter
from lmsbridge.schemas.models import Model

_T = TypeVar("_T")

REMOTE_PREFIX = "remote:"


def remote_id_of(
    store: Store, model: Model, integration_id: str, value: str, what: str, *, in_body: bool
) -> str:
    """The remote id behind a lmsbridge id or a `remote:<id>` reference."""
    if value.startswith(REMOTE_PREFIX):
        remote = value[len(REMOTE_PREFIX) :]
        if not remote:
            raise InputInvalidError(f"{what}: 'remote:' must be followed by the remote id.")
        return remote
    with store.read() as conn:
        found = remote_id_by_id(conn, TABLES[model], integration_id, value)
    if found is None:
        message = (
            f"{what}: no record with id {value!r} in this integration (use remote:<id> for a remote id)."
        )
        if in_body:
            raise InputInvalidError(message)
        raise NotFoundError(message)
    return found


def call(action: Callable[[], _T]) -> _T:
    try:
        return action()
    except ConnectorError as error:
        raise RemoteActionError(ErrorCode(error.code), error.message) from error


def write_through(store: Store, integration_id: str, model: str, record: Record) -> None:
    with store.write() as conn:
        RecordWriter(conn, integration_id, take_stamp(conn, integration_id)).write(model, [record])


def progression_view(store: Store, integration_id: str, remote_id: str) -> dict[str, Any]:
    with store.read() as conn:
        view = progression_by_remote_id(conn, integration_id, remote_id)
    assert view is not None
    return view


def course_view(store: Store, integration_id: str, remote_id: str) -> dict[str, Any]:
    with store.read() as conn:
        view = course_by_remote_id(conn, integration_id, remote_id)
    assert view is not None
    return view


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


def connector_of(store: Store, box: Any, integration: Integration) -> BaseConnector[Any]:
    from lmsbridge.connector_runtime import connector_for

    return connector_for(store, box, integration)

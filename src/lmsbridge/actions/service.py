"""Runs a direct action through the integration's connector and writes the result through to the
store, so the next read shows it without waiting for a sync."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import select

from lmsbridge.clock import parse_moment
from lmsbridge.connectors.base import WriteAction
from lmsbridge.connectors.connector import BaseConnector
from lmsbridge.connectors.errors import ConnectorError
from lmsbridge.connectors.records import Record
from lmsbridge.connectors.runtime import require_capability
from lmsbridge.db import Store
from lmsbridge.errors import (
    ErrorCode,
    InputInvalidError,
    IntegrationNotFoundError,
    RemoteActionError,
    not_found,
    require_active,
)
from lmsbridge.integration_store.repository import Integration, IntegrationRepository
from lmsbridge.records.queries import (
    course_by_remote_id,
    hris_skills,
    progression_by_remote_id,
    remote_id_by_id,
)
from lmsbridge.records.registry import TABLES
from lmsbridge.records.stamps import take_stamp
from lmsbridge.records.writer import RecordWriter
from lmsbridge.schemas.models import Model

_T = TypeVar("_T")

REMOTE_PREFIX = "remote:"
_RECORD_NAMES = {
    Model.LMS_COURSE_PROGRESSIONS: "course progression",
    Model.LMS_COURSES: "course",
    Model.HRIS_SKILLS: "skill",
    Model.LMS_USERS: "user",
    Model.LMS_COURSE_REVISIONS: "course revision",
}


def require(integration: Integration, action: WriteAction) -> None:
    """A paused integration answers INTEGRATION.INACTIVE; an action its connector does not offer,
    INTEGRATION.ACTION_NOT_AVAILABLE; both before anything is stored or called."""
    require_active(integration.status, integration.id)
    require_capability(integration.tool, action)


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
        if in_body:
            raise InputInvalidError(
                f"{what}: no record with id {value!r} in this integration (use remote:<id> for a remote id)."
            )
        raise not_found(_RECORD_NAMES.get(model, "record"), value)
    return found


def call(action: Callable[[], _T]) -> _T:
    try:
        return action()
    except ConnectorError as error:
        raise RemoteActionError(ErrorCode(error.code), error.message) from error


def write_through(store: Store, integration_id: str, model: str, record: Record) -> None:
    with store.write() as conn:
        stamp = take_stamp(conn, integration_id)
        if IntegrationRepository(conn).get(integration_id) is None:
            raise IntegrationNotFoundError(f"The integration {integration_id} was deleted meanwhile.")
        RecordWriter(conn, integration_id, stamp).write(model, [record])


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


def skill_view(store: Store, integration_id: str, remote_id: str) -> dict[str, Any]:
    table = TABLES[Model.HRIS_SKILLS]
    with store.read() as conn:
        row = conn.execute(
            select(table).where(table.c.integration_id == integration_id, table.c.remote_id == remote_id)
        ).first()
    assert row is not None
    return hris_skills(conn, [row], True)[0]


def mark_skill_deleted(store: Store, integration_id: str, remote_id: str) -> None:
    """The remote deleted the skill: the store shows it with `remote_deleted_at` at once."""
    table = TABLES[Model.HRIS_SKILLS]
    with store.write() as conn:
        stamp = take_stamp(conn, integration_id)
        ids = list(
            conn.scalars(
                select(table.c.id).where(
                    table.c.integration_id == integration_id, table.c.remote_id == remote_id
                )
            )
        )
        RecordWriter(conn, integration_id, stamp).mark_deleted("hris_skills", ids, stamp + timedelta(days=1))


def parse_completed_at(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        return parse_moment(value)
    except ValueError as error:
        raise InputInvalidError(f"completed_at: {error}.") from error


def connector_of(store: Store, box: Any, integration: Integration) -> BaseConnector[Any]:
    from lmsbridge.connector_runtime import connector_for

    return connector_for(store, box, integration)
